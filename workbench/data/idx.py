"""Parser for the idx files of MNIST (unsigned-byte images and labels).

An idx file starts with a big-endian 32-bit magic number: two zero bytes, a
type code (0x08 = unsigned byte) and the number of dimensions. Then come one
big-endian 32-bit size per dimension, then the data in C order. MNIST uses
magic 2051 (0x00000803) for images of shape (n, 28, 28) and 2049
(0x00000801) for labels of shape (n,).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from workbench.data.errors import DataFormatError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_UNSIGNED_BYTE = 0x08


def parse_idx(
    data: bytes, *, expected_magic: int | None = None, source: str = "idx data"
) -> np.ndarray:
    """Parse the bytes of an unsigned-byte idx file into a uint8 array.

    Parameters
    ----------
    data : bytes
        The decompressed file content.
    expected_magic : int or None
        Require this magic number, such as :data:`IMAGES_MAGIC`.
    source : str
        Name of the file, for error messages.

    Returns
    -------
    numpy.ndarray of uint8
        Shape given by the header, for example (10000, 28, 28).

    Raises
    ------
    DataFormatError
        If the magic number, the type code or the length does not match the header.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}.")
    if len(data) < 4:
        raise DataFormatError(
            f"{source} is not an idx file: {len(data)} bytes is shorter than the header."
        )

    (magic,) = struct.unpack(">I", data[:4])
    if expected_magic is not None and magic != expected_magic:
        raise DataFormatError(f"{source} has idx magic number {magic}, expected {expected_magic}.")
    zeros, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if zeros != 0 or type_code != _UNSIGNED_BYTE or ndim == 0:
        raise DataFormatError(
            f"{source} has idx magic number {magic:#010x}; only unsigned-byte idx "
            "files with at least one dimension are supported."
        )

    header_bytes = 4 + 4 * ndim
    if len(data) < header_bytes:
        raise DataFormatError(f"{source} is truncated inside its idx header ({len(data)} bytes).")
    shape = struct.unpack(f">{ndim}I", data[4:header_bytes])
    expected_bytes = header_bytes + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected_bytes:
        raise DataFormatError(
            f"{source} has {len(data)} bytes, but its idx header declares shape "
            f"{shape}, which needs {expected_bytes} bytes."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_bytes).reshape(shape).copy()


def read_idx(path: str | Path, *, expected_magic: int | None = None) -> np.ndarray:
    """Read an idx file, gzip-compressed when its name ends in ``.gz``.

    See :func:`parse_idx` for the returned array and the errors.
    """
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                data = stream.read()
        else:
            data = path.read_bytes()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFormatError(
            f"{path} is not a valid gzip file ({exc}); delete it and fetch it again."
        ) from exc
    return parse_idx(data, expected_magic=expected_magic, source=str(path))
