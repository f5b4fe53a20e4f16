"""Exceptions raised by the dataset loaders."""

from __future__ import annotations


class ChecksumError(ValueError):
    """A data file's digest matches none of the digests in the registry.

    The file is corrupt, truncated or a different version. The message names
    the file, the expected and the actual digest, and how to fix it.
    """


class DataNotFoundError(FileNotFoundError):
    """No local copy of a data file exists and none could be downloaded.

    The message names the file, every path that was looked at and the source
    URL to get it from.
    """


class DataFormatError(ValueError):
    """A data file passed its checksum (or has none registered) but cannot be parsed.

    Raised for files without a registered digest, such as the Criteo
    ``dac_sample.tar.gz``, and for inputs passed to the parsers directly.
    """
