"""Checksum verification of local data files, cached per (path, size, mtime)."""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import zipfile
import zlib
from pathlib import Path
from typing import IO

from workbench.data.errors import ChecksumError
from workbench.data.registry import RemoteFile

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20

# Keys of files that passed verification. A key includes the file's size and
# modification time, so a file rewritten in place is verified again, and the
# registered digests, so a changed registry entry is verified again.
_verified: set[tuple] = set()
_verified_lock = threading.Lock()


def hash_stream(stream: IO[bytes], algorithm: str = "sha256") -> str:
    """Return the hex digest of everything left in the binary ``stream``."""
    digest = hashlib.new(algorithm)
    for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
        digest.update(chunk)
    return digest.hexdigest()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of the file at ``path``."""
    with open(path, "rb") as stream:
        return hash_stream(stream, algorithm)


def content_digest(path: Path) -> str | None:
    """Return the sha256 of the decompressed content of a ``.gz`` or single-member ``.zip`` file.

    Returns None when the file cannot be decompressed (truncated, corrupt, a zip
    with more than one member) or has another suffix.
    """
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                return hash_stream(stream)
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
                if len(members) != 1:
                    return None
                with archive.open(members[0]) as stream:
                    return hash_stream(stream)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        logger.debug("cannot decompress %s: %s", path, exc)
    return None


def _cache_key(path: Path, remote: RemoteFile, plain: bool) -> tuple:
    stat = path.stat()
    return (
        str(path.resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        remote.sha256,
        remote.content_sha256,
        remote.md5,
        plain,
    )


def check_digests(path: Path, remote: RemoteFile, *, plain: bool = False) -> tuple[bool, str]:
    """Check ``path`` against the digests of ``remote``; return (match, actual sha256).

    ``plain=True`` means ``path`` contains the uncompressed content of a
    ``.gz``/``.zip`` entry and is checked against ``remote.content_sha256``.
    """
    actual = file_digest(path)
    if plain:
        return actual in remote.content_sha256, actual
    if actual in remote.sha256:
        return True, actual
    if remote.md5 is not None and file_digest(path, "md5") == remote.md5:
        return True, actual
    if remote.content_sha256 and content_digest(path) in remote.content_sha256:
        return True, actual
    return False, actual


def describe_expected(remote: RemoteFile, plain: bool) -> str:
    if plain:
        return "sha256 " + " or ".join(remote.content_sha256)
    parts = []
    if remote.sha256:
        parts.append("sha256 " + " or ".join(remote.sha256))
    if remote.md5 is not None:
        parts.append(f"md5 {remote.md5}")
    if remote.content_sha256:
        parts.append("decompressed content sha256 " + " or ".join(remote.content_sha256))
    return ", or ".join(parts)


def verify_file(path: Path, remote: RemoteFile, dataset_name: str, *, plain: bool = False) -> None:
    """Check the file at ``path`` against the digests registered for ``remote``.

    Parameters
    ----------
    path : Path
        The local copy.
    remote : RemoteFile
        Its registry entry.
    dataset_name : str
        The dataset, for the error message.
    plain : bool
        ``path`` is the uncompressed form of a ``.gz``/``.zip`` entry, so it is
        checked against ``remote.content_sha256``.

    Raises
    ------
    ChecksumError
        If no registered digest matches. The message names the file, the
        expected and actual digests, and the fix.
    """
    key = _cache_key(path, remote, plain)
    with _verified_lock:
        if key in _verified:
            return

    if not remote.has_digest:
        # NOTE: files without a registered digest are accepted unverified; their loader
        # checks the parsed shape instead.
        logger.warning(
            "no checksum is registered for %s/%s; accepting %s unverified (sha256 %s)",
            dataset_name,
            remote.name,
            path,
            file_digest(path),
        )
    else:
        ok, actual = check_digests(path, remote, plain=plain)
        if not ok:
            if remote.manual:
                fix = f"replace it with a copy downloaded by hand from {remote.url}"
            else:
                fix = f"delete it and run the loader again to re-download it from {remote.url}"
            raise ChecksumError(
                f"checksum mismatch for data file {dataset_name}/{remote.name} at {path}: "
                f"expected {describe_expected(remote, plain)}; got sha256 {actual}. "
                f"The file is corrupt, truncated or a different version: {fix}."
            )
        logger.debug("verified %s (sha256 %s)", path, actual)

    with _verified_lock:
        _verified.add(key)


def clear_verification_cache() -> None:
    """Forget which files passed verification, so the next load hashes them again."""
    with _verified_lock:
        _verified.clear()
