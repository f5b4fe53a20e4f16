"""Real key sets of the SOSD benchmark for learned indexes, read from SOSD's binary key files.

Sources: Kipf et al., "SOSD: A Benchmark for Learned Indexes", NeurIPS
Workshop on ML for Systems, 2019; Marcus et al., "Benchmarking Learned
Indexes", PVLDB 14(1), 2020. The four 200M-key uint64 files are published
zstd-compressed on Harvard Dataverse (doi:10.7910/DVN/JGVF9A).

File format: a little-endian uint64 count ``n`` followed by ``n``
little-endian uint64 keys in ascending order. A 200M-key file is
8 + 200,000,000 x 8 = 1,600,000,008 bytes.

Lookup for ``<name>``: the decompressed file ``<root>/sosd/<name>`` in each
data root (:func:`workbench.data.data_roots`), else the compressed
``<root>/sosd/<name>.zst``, else a download of the ``.zst`` into the
repository's ``data/sosd/`` (not with ``WORKBENCH_OFFLINE=1`` or
``download=False``). A ``.zst`` is decompressed next to itself, or into the
repository's ``data/sosd/`` when its folder is read-only. Decompression needs
the optional package ``zstandard`` (``pip install zstandard``); the ``.zst``
may be deleted afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from workbench.data import fetch
from workbench.data.errors import ChecksumError, DataFormatError, DataNotFoundError
from workbench.data.validation import check_choice

__all__ = ["SOSD_DATASET", "SOSD_MD5", "SOSD_NAMES", "load_sosd"]

logger = logging.getLogger(__name__)

SOSD_DATASET = "sosd"
SOSD_NAMES = (
    "books_200M_uint64",
    "fb_200M_uint64",
    "osm_cellids_200M_uint64",
    "wiki_ts_200M_uint64",
)
# md5 of each decompressed file, as listed by SOSD's scripts/download.sh
# (github.com/learnedsystems/SOSD), which checks them after `zstd -d`.
# NOTE: the current script lists only the wiki_ts and fb entries. The books and
# osm_cellids sums come from an earlier version of it, seen only in copies of that script.
SOSD_MD5 = {
    "books_200M_uint64": "aeedc7be338399ced89d0bb82287e024",
    "fb_200M_uint64": "3b0f820caa0d62150e87ce94ec989978",
    "osm_cellids_200M_uint64": "a7f6b8d2df09fcda5d9cfbc87d765979",
    "wiki_ts_200M_uint64": "4f1402b1c476d67f77d2da4955432f7d",
}
HEADER_BYTES = 8
KEY_DTYPE = np.dtype("<u8")
SAMPLE_CHOICES = ("first", "random")

_CHUNK_BYTES = 1 << 22
# Keys (path, size, mtime_ns, expected md5) of files whose md5 matched in this process.
_verified: set[tuple] = set()
_verified_lock = threading.Lock()


# --- argument checks -----------------------------------------------------------


def _check_count(argument: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{argument} must be a non-negative int, got {type(value).__name__} {value!r}."
        )
    if value < 0:
        raise ValueError(f"invalid {argument}={value!r}; pass an int >= 0.")


def _check_arguments(
    name: object, n: object, sample: object, seed: object, download: object
) -> None:
    check_choice("name", name, SOSD_NAMES)
    if n is not None:
        _check_count("n", n)
    if sample is not None:
        check_choice("sample", sample, SAMPLE_CHOICES)
    _check_count("seed", seed)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {download!r}.")


# --- finding and decompressing the file ---------------------------------------------


def _decompression_folder(compressed: Path) -> Path:
    if os.access(compressed.parent, os.W_OK):
        return compressed.parent
    return fetch.repository_data_dir() / SOSD_DATASET


def _zstandard_module():
    try:
        import zstandard
    except ImportError as exc:
        raise ImportError(
            "decompressing an SOSD .zst file needs the optional package zstandard: run "
            "`pip install zstandard`, or decompress the file yourself with `zstd -d` and place "
            f"the result in a {SOSD_DATASET}/ folder under a data root."
        ) from exc
    return zstandard


def _decompress(compressed: Path, target: Path, name: str) -> None:
    """Decompress ``compressed`` into ``target`` through a temporary file, checking its md5."""
    zstandard = _zstandard_module()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    os.close(fd)
    temporary = Path(temporary_name)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        logger.info("decompressing %s into %s", compressed, target)
        with open(compressed, "rb") as source, open(temporary, "wb") as out:
            # Truncation raises no ZstdError here; the header check below detects it.
            reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
            try:
                for chunk in iter(lambda: reader.read(_CHUNK_BYTES), b""):
                    digest.update(chunk)
                    out.write(chunk)
            except zstandard.ZstdError as exc:
                raise DataFormatError(
                    f"cannot decompress {compressed}: {exc}. The file is corrupt or truncated: "
                    "delete it and load again to re-download it."
                ) from exc

        _check_header(temporary, compressed)
        actual = digest.hexdigest()
        if actual != SOSD_MD5[name]:
            raise ChecksumError(
                f"checksum mismatch for SOSD file {name} decompressed from {compressed}: "
                f"expected md5 {SOSD_MD5[name]}; got md5 {actual}. The .zst file is corrupt or "
                "a different version: delete it and load again to re-download it."
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)

    with _verified_lock:
        _verified.add(_verification_key(target, name))


def _local_copy(name: str, download: bool) -> Path:
    """Return the decompressed file of ``name``, decompressing or downloading it first."""
    looked_at = []
    for root in fetch.data_roots():
        candidate = root / SOSD_DATASET / name
        looked_at.append(candidate)
        if candidate.is_file():
            return candidate

    try:
        compressed = fetch.fetch_file(SOSD_DATASET, f"{name}.zst", download=download)
    except DataNotFoundError as exc:
        paths = "\n".join(f"  {path}" for path in looked_at)
        raise DataNotFoundError(
            f"{exc}\nThe decompressed file {name} is accepted too, at:\n{paths}"
        ) from exc

    target = _decompression_folder(compressed) / name
    _decompress(compressed, target, name)
    return target


# --- reading ------------------------------------------------------------------


def _check_header(path: Path, compressed: Path | None = None) -> int:
    """Return the key count in the header of ``path`` after checking it against the file size.

    ``compressed`` names the ``.zst`` that ``path`` was decompressed from, for the message.
    """
    origin = str(path) if compressed is None else f"the content decompressed from {compressed}"
    fix = (
        "The file is truncated or has another format: delete it and load again, or replace "
        "it with an official copy."
    )
    size = path.stat().st_size
    if size < HEADER_BYTES or (size - HEADER_BYTES) % KEY_DTYPE.itemsize:
        raise DataFormatError(
            f"{origin} is not an SOSD uint64 key file: its size {size} bytes is not "
            f"8 + 8 x count. {fix}"
        )
    with open(path, "rb") as stream:
        count = int(np.frombuffer(stream.read(HEADER_BYTES), dtype=KEY_DTYPE)[0])
    stored = (size - HEADER_BYTES) // KEY_DTYPE.itemsize
    if count != stored:
        raise DataFormatError(
            f"header of {origin} gives the count {count}, but its size {size} bytes fits "
            f"{stored} keys. {fix}"
        )
    return count


def _verification_key(path: Path, name: str) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, SOSD_MD5[name])


def _verify_md5(path: Path, name: str) -> None:
    """Check the md5 of a decompressed file once per process and (size, mtime)."""
    key = _verification_key(path, name)
    with _verified_lock:
        if key in _verified:
            return

    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual != SOSD_MD5[name]:
        raise ChecksumError(
            f"checksum mismatch for SOSD file {name} at {path}: expected md5 "
            f"{SOSD_MD5[name]}; got md5 {actual}. The file is corrupt or a different "
            "version: delete it and load again to re-download it."
        )
    with _verified_lock:
        _verified.add(key)


def _read_keys(path: Path, count: int, n: int, sample: str, seed: int) -> np.ndarray:
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    if n == count:
        # One sequential read of the whole key array.
        return np.fromfile(path, dtype=KEY_DTYPE, count=count, offset=HEADER_BYTES).astype(
            np.uint64, copy=False
        )

    keys = np.memmap(path, dtype=KEY_DTYPE, mode="r", offset=HEADER_BYTES, shape=(count,))
    if sample == "first":
        return np.array(keys[:n], dtype=np.uint64)

    # Sorted positions keep the sample sorted and make the page reads sequential.
    # NOTE: for n near count, choice without replacement builds a permutation of
    # all positions (8 bytes each, 1.6 GB for a 200M-key file).
    rng = np.random.default_rng(seed)
    positions = np.sort(rng.choice(count, size=n, replace=False, shuffle=False))
    return np.array(keys[positions], dtype=np.uint64)


def load_sosd(
    name: str,
    n: int | None = None,
    *,
    sample: str | None = None,
    seed: int = 0,
    download: bool = True,
) -> np.ndarray:
    """Load keys of an SOSD key file: all of them, the first ``n`` or a seeded random sample.

    Parameters
    ----------
    name : {"books_200M_uint64", "fb_200M_uint64", "osm_cellids_200M_uint64", \
"wiki_ts_200M_uint64"}
        The SOSD key file.
    n : int or None
        Number of keys to return, at most the file's key count (200,000,000
        for the official files). None returns all keys.
    sample : {"first", "random"} or None
        ``"first"`` (also for None) returns the ``n`` smallest keys, that is
        the first ``n`` of the file. ``"random"`` returns ``n`` keys at
        distinct positions drawn uniformly without replacement, in file order.
        Only the pages that hold the requested keys are read.
    seed : int
        Seed of the random sample; the same seed gives the same sample.
    download : bool
        Download the ``.zst`` file from Harvard Dataverse when no local copy
        exists. ``WORKBENCH_OFFLINE=1`` disables downloads as well.

    Returns
    -------
    ndarray of uint64, shape (n,) or (count,)
        Keys in ascending order, duplicates kept (SOSD files may repeat keys).

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value, or ``n`` exceeds the key count.
    DataNotFoundError
        If neither the file nor its ``.zst`` is found and no download is possible.
    DataFormatError
        If the header count does not match the file size, the ``.zst`` cannot
        be decompressed, or the keys read are not sorted.
    ChecksumError
        If the decompressed file's md5 differs from the one SOSD publishes.
        The check hashes the whole file once per process.
    ImportError
        If a ``.zst`` must be decompressed and ``zstandard`` is not installed.

    Examples
    --------
    >>> from workbench.data.sosd import load_sosd
    >>> keys = load_sosd("wiki_ts_200M_uint64", 1_000_000, sample="random")  # doctest: +SKIP
    >>> keys.shape, keys.dtype  # doctest: +SKIP
    ((1000000,), dtype('uint64'))
    """
    _check_arguments(name, n, sample, seed, download)
    path = _local_copy(name, download)
    count = _check_header(path)
    if n is not None and n > count:
        raise ValueError(
            f"invalid n={n!r}: {path} contains only {count} keys; pass n <= {count} or n=None."
        )
    _verify_md5(path, name)

    keys = _read_keys(path, count, count if n is None else int(n), sample or "first", int(seed))
    unsorted = np.flatnonzero(keys[1:] < keys[:-1])
    if unsorted.size:
        position = int(unsorted[0]) + 1
        raise DataFormatError(
            f"{path} is not sorted: among the {keys.size} keys read, key {position} is smaller "
            "than the key before it. Replace the file with an official copy."
        )
    return keys
