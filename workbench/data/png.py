"""Decoder for 1-bit grayscale PNG files, the format of the Omniglot images.

Pillow is not a dependency of the project, so this module decodes the one
PNG variant that Omniglot uses: bit depth 1, color type 0 (grayscale), no
interlacing. It checks the signature, every chunk's CRC and the header, and
raises :class:`DataFormatError` for anything else.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from workbench.data.errors import DataFormatError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# PNG scanline filter types (PNG specification, section 9.2).
_FILTER_NONE, _FILTER_SUB, _FILTER_UP, _FILTER_AVERAGE, _FILTER_PAETH = range(5)


def _read_chunks(data: bytes, source: str) -> tuple[bytes, bytes]:
    """Return (IHDR data, concatenated IDAT data), checking each chunk's CRC."""
    if data[:8] != PNG_SIGNATURE:
        raise DataFormatError(f"{source} is not a PNG file (bad signature).")
    position = 8
    header = None
    image_data = []
    while True:
        if position + 12 > len(data):
            raise DataFormatError(f"{source} is truncated: no IEND chunk.")
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 8 + length
        if end + 4 > len(data):
            raise DataFormatError(f"{source} is truncated inside chunk {kind!r}.")
        body = data[position + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise DataFormatError(f"{source} has a bad CRC in chunk {kind!r}.")
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            image_data.append(body)
        elif kind == b"IEND":
            break
        position = end + 4
    if header is None or len(header) != 13:
        raise DataFormatError(f"{source} has no valid IHDR chunk.")
    if not image_data:
        raise DataFormatError(f"{source} has no IDAT chunk.")
    return header, b"".join(image_data)


def _unfilter(rows: np.ndarray, filters: np.ndarray, source: str) -> np.ndarray:
    """Undo the per-scanline filters of a 1-bit image, whose filter unit is one byte."""
    out = np.zeros_like(rows)
    previous = np.zeros(rows.shape[1], dtype=np.uint8)
    for index, (kind, row) in enumerate(zip(filters, rows, strict=True)):
        if kind == _FILTER_NONE:
            current = row
        elif kind == _FILTER_UP:
            current = row + previous  # uint8 arithmetic wraps modulo 256, as PNG requires
        elif kind in (_FILTER_SUB, _FILTER_AVERAGE, _FILTER_PAETH):
            current = np.empty_like(row)
            left = 0
            for column, value in enumerate(row.tolist()):
                up = int(previous[column])
                upper_left = int(previous[column - 1]) if column else 0
                if kind == _FILTER_SUB:
                    predictor = left
                elif kind == _FILTER_AVERAGE:
                    predictor = (left + up) // 2
                else:
                    estimate = left + up - upper_left
                    distances = (
                        abs(estimate - left),
                        abs(estimate - up),
                        abs(estimate - upper_left),
                    )
                    predictor = (left, up, upper_left)[distances.index(min(distances))]
                left = (value + predictor) & 0xFF
                current[column] = left
        else:
            raise DataFormatError(f"{source} uses unknown PNG filter type {kind} in row {index}.")
        out[index] = current
        previous = current
    return out


def decode_png_1bit(data: bytes, *, source: str = "PNG data") -> np.ndarray:
    """Decode a 1-bit grayscale, non-interlaced PNG into a (height, width) uint8 array.

    Parameters
    ----------
    data : bytes
        The PNG file content.
    source : str
        Name of the file, for error messages.

    Returns
    -------
    numpy.ndarray of uint8, shape (height, width)
        The stored bit of each pixel: 1 = white, 0 = black.

    Raises
    ------
    DataFormatError
        If the data is not a valid PNG or uses another bit depth, color type,
        compression, filter method or interlacing.
    """
    header, compressed = _read_chunks(bytes(data), source)
    width, height, bit_depth, color_type, compression, filter_method, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    if (bit_depth, color_type, compression, filter_method, interlace) != (1, 0, 0, 0, 0):
        raise DataFormatError(
            f"{source} is an unsupported PNG (bit depth {bit_depth}, color type {color_type}, "
            f"compression {compression}, filter method {filter_method}, interlace {interlace}); "
            "only 1-bit grayscale non-interlaced PNGs are supported."
        )
    if width == 0 or height == 0:
        raise DataFormatError(f"{source} has an empty image ({width}x{height}).")

    try:
        raw = zlib.decompress(compressed)
    except zlib.error as exc:
        raise DataFormatError(f"{source} has corrupt image data ({exc}).") from exc
    row_bytes = (width + 7) // 8
    if len(raw) != height * (row_bytes + 1):
        raise DataFormatError(
            f"{source} has {len(raw)} bytes of image data, expected "
            f"{height * (row_bytes + 1)} for {width}x{height} at 1 bit."
        )

    scanlines = np.frombuffer(raw, dtype=np.uint8).reshape(height, row_bytes + 1)
    rows = _unfilter(scanlines[:, 1:], scanlines[:, 0], source)
    return np.unpackbits(rows, axis=1)[:, :width]
