"""Download of one registry file: temp file, checksum, optional gzip, atomic rename."""

from __future__ import annotations

import gzip
import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from workbench import __version__
from workbench.data.errors import ChecksumError
from workbench.data.registry import RemoteFile
from workbench.data.verify import check_digests, describe_expected, file_digest

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20
_USER_AGENT = f"automl-workbench/{__version__} (+urllib)"


class DownloadFailedError(OSError):
    """Every URL of a file failed with a network or HTTP error."""


def _remove_quietly(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _stream_to_file(url: str, target: Path, timeout: float) -> int:
    """Copy the body at ``url`` into ``target``; return the byte count."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    received = 0
    with urllib.request.urlopen(request, timeout=timeout) as response, open(target, "wb") as out:
        declared = response.headers.get("Content-Length")
        for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
            out.write(chunk)
            received += len(chunk)
    if declared is not None and declared.isdigit() and int(declared) != received:
        raise http.client.IncompleteRead(b"", int(declared) - received)
    return received


def _gzip_file(source: Path, target: Path) -> None:
    # mtime=0 and no file name in the header, like `gzip -n`, so the output
    # depends only on the content and the zlib version.
    with open(source, "rb") as raw, open(target, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as packed:
            shutil.copyfileobj(raw, packed, _CHUNK_BYTES)


def _download_from(
    url: str, remote: RemoteFile, dataset_name: str, destination: Path, timeout: float
) -> None:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(
            f"invalid URL {url!r} for {dataset_name}/{remote.name}: "
            "only http and https URLs are supported."
        )

    destination.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{destination.name}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=destination.parent)
    os.close(fd)
    part = Path(name)
    packed: Path | None = None
    try:
        logger.info("downloading %s/%s from %s", dataset_name, remote.name, url)
        received = _stream_to_file(url, part, timeout)

        if remote.has_digest:
            ok, actual = check_digests(part, remote, plain=remote.gzip_on_download)
            if not ok:
                raise ChecksumError(
                    f"checksum mismatch for data file {dataset_name}/{remote.name} downloaded from "
                    f"{url}: expected {describe_expected(remote, remote.gzip_on_download)}; got "
                    f"sha256 {actual}. The download was discarded. The server may serve another "
                    f"version; get an official copy and place it at {destination}."
                )
        else:
            logger.warning(
                "no checksum is registered for %s/%s; keeping the download from %s "
                "unverified (sha256 %s)",
                dataset_name,
                remote.name,
                url,
                file_digest(part),
            )

        final = part
        if remote.gzip_on_download:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=".gz.part", dir=destination.parent)
            os.close(fd)
            packed = Path(name)
            _gzip_file(part, packed)
            final = packed
        os.replace(final, destination)
        logger.info(
            "stored %s/%s at %s (%d bytes downloaded)",
            dataset_name,
            remote.name,
            destination,
            received,
        )
    finally:
        _remove_quietly(part)
        _remove_quietly(packed)


def download_file(
    remote: RemoteFile, dataset_name: str, destination: Path, *, timeout: float
) -> None:
    """Download ``remote`` to ``destination``, trying its URL and then its mirrors.

    The body is written to a temporary file next to ``destination``, checked
    against the registered digests, gzip-compressed when
    ``remote.gzip_on_download`` is set, and renamed into place. So
    ``destination`` never contains a partial file, nor an unverified one
    unless the registry has no digest for it.

    Raises
    ------
    ChecksumError
        If no URL gave a file with a registered digest and at least one gave a
        file with another digest.
    DownloadFailedError
        If every URL failed with a network error, an HTTP error or a timeout.
    """
    failures: list[str] = []
    checksum_error: ChecksumError | None = None
    for url in remote.urls:
        try:
            _download_from(url, remote, dataset_name, destination, timeout)
            return
        except ChecksumError as exc:
            logger.warning("%s", exc)
            checksum_error = exc
            failures.append(f"{url}: checksum mismatch")
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                reason = f"HTTP error {exc.code} ({exc.reason})"
            else:
                reason = getattr(exc, "reason", None) or exc
            logger.warning(
                "download of %s/%s from %s failed: %s", dataset_name, remote.name, url, reason
            )
            failures.append(f"{url}: {reason}")

    if checksum_error is not None:
        raise checksum_error
    raise DownloadFailedError("; ".join(failures))
