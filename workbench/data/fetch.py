"""Find, verify and download the data files listed in the registry.

Lookup order for ``<dataset>/<file>``: ``$WORKBENCH_DATA/<dataset>/<file>``
when the variable is set, then the repository's ``data/<dataset>/<file>``.
The first existing copy is verified against its registered sha256 and
returned. With no copy, the file is downloaded from its source URL into the
repository's ``data/`` folder, unless ``download=False`` or
``WORKBENCH_OFFLINE=1``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import workbench
from workbench.data.download import DownloadFailedError, download_file
from workbench.data.errors import ChecksumError, DataNotFoundError
from workbench.data.registry import RemoteFile, get_dataset_info
from workbench.data.verify import verify_file

__all__ = [
    "ChecksumError",
    "DataNotFoundError",
    "data_roots",
    "fetch_file",
    "offline_mode",
    "repository_data_dir",
]

logger = logging.getLogger(__name__)

DATA_VARIABLE = "WORKBENCH_DATA"
OFFLINE_VARIABLE = "WORKBENCH_OFFLINE"
DEFAULT_TIMEOUT_S = 60.0

_WARNED_MISSING_ROOTS: set[str] = set()
_TRUE_VALUES = ("1", "true", "yes", "on")
_FALSE_VALUES = ("", "0", "false", "no", "off")


def repository_data_dir() -> Path:
    """Return the repository's ``data/`` folder, where downloads are stored.

    It is the folder ``data`` next to the folder that contains the installed
    ``workbench`` package, which is the repository root for an editable install.
    """
    return Path(workbench.__file__).resolve().parents[1] / "data"


def data_roots() -> list[Path]:
    """Return the folders searched for data files, in lookup order.

    ``$WORKBENCH_DATA`` comes first when it is set and not empty, then the
    repository's ``data/`` folder. A folder that does not exist is still
    listed, so error messages show every place that was looked at.
    """
    roots: list[Path] = []
    variable = os.environ.get(DATA_VARIABLE, "").strip()
    if variable:
        root = Path(variable).expanduser()
        if not root.is_dir() and str(root) not in _WARNED_MISSING_ROOTS:
            _WARNED_MISSING_ROOTS.add(str(root))
            logger.warning("%s=%s is not a folder; data files will be looked for in the "
                           "repository's data/ folder and downloaded", DATA_VARIABLE, root)
        roots.append(root)
    repository = repository_data_dir()
    if all(repository.resolve() != root.resolve() for root in roots):
        roots.append(repository)
    return roots


def offline_mode() -> bool:
    """Return whether ``$WORKBENCH_OFFLINE`` disables downloads.

    Raises
    ------
    ValueError
        If the variable is set to something other than 1/0, true/false, yes/no or on/off.
    """
    value = os.environ.get(OFFLINE_VARIABLE, "").strip().lower()
    if value in _TRUE_VALUES:
        return True
    if value in _FALSE_VALUES:
        return False
    raise ValueError(
        f"invalid {OFFLINE_VARIABLE}={os.environ[OFFLINE_VARIABLE]!r}; "
        "use 1 to disable downloads or 0 to allow them."
    )


def _candidates(dataset_name: str, remote: RemoteFile) -> list[tuple[Path, bool]]:
    """Return (path, is_uncompressed_form) for every place the file may be."""
    candidates = []
    for root in data_roots():
        folder = root / dataset_name
        candidates.append((folder / remote.name, False))
        if remote.plain_name is not None:
            candidates.append((folder / remote.plain_name, True))
    return candidates


def _not_found_message(
    dataset_name: str, remote: RemoteFile, looked_at: list[Path], reason: str
) -> str:
    lines = [f"data file {dataset_name}/{remote.name} was not found. Looked at:"]
    lines += [f"  {path}" for path in looked_at]
    lines.append(reason)
    if remote.manual:
        lines.append(
            f"This file needs a manual download (the site requires a login): get it from "
            f"{remote.url} and place it at one of the paths above."
        )
    else:
        lines.append(f"Get it from {remote.url} and place it at one of the paths above.")
    if remote.plain_name is not None:
        lines.append(f"The uncompressed file {remote.plain_name} is accepted in the same folder.")
    lines.append(f"Set {DATA_VARIABLE} to use another data folder.")
    return "\n".join(lines)


def fetch_file(
    dataset_name: str, file_name: str, *, download: bool = True, timeout: float = DEFAULT_TIMEOUT_S
) -> Path:
    """Return the path of a verified local copy of a registered data file.

    Parameters
    ----------
    dataset_name : str
        A key of :data:`workbench.data.DATASETS`, such as ``"mnist"``.
    file_name : str
        One of the dataset's registered file names, such as
        ``"t10k-images-idx3-ubyte.gz"``.
    download : bool
        Download the file when no local copy exists. ``WORKBENCH_OFFLINE=1``
        disables downloads as well.
    timeout : float
        Socket timeout in seconds for each network operation of a download.

    Returns
    -------
    Path
        The first existing copy in :func:`data_roots` order, or the downloaded
        file under the repository's ``data/`` folder. For entries with an
        uncompressed form (see ``RemoteFile.content_sha256``) it may be that
        uncompressed file; pandas and the loaders read both.

    Raises
    ------
    TypeError
        If ``download`` is not a bool or ``timeout`` is not a number.
    ValueError
        If the dataset or file name is not registered, or ``timeout`` is not positive.
    ChecksumError
        If the local copy or the download has a digest other than the registered ones.
    DataNotFoundError
        If there is no local copy and downloading is disabled, needs a manual
        step, or failed. The message lists every path looked at and the source URL.
    """
    info = get_dataset_info(dataset_name)
    remote = info.file(file_name)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {download!r}.")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"timeout must be a number of seconds, got {type(timeout).__name__} {timeout!r}."
        )
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")

    looked_at = []
    for path, plain in _candidates(dataset_name, remote):
        looked_at.append(path)
        if path.is_file():
            verify_file(path, remote, dataset_name, plain=plain)
            logger.debug("using %s for %s/%s", path, dataset_name, remote.name)
            return path

    if remote.manual:
        reason = "Automatic download is not possible for this file."
        raise DataNotFoundError(_not_found_message(dataset_name, remote, looked_at, reason))
    if not download:
        reason = "Download was disabled (download=False)."
        raise DataNotFoundError(_not_found_message(dataset_name, remote, looked_at, reason))
    if offline_mode():
        reason = f"Download was disabled ({OFFLINE_VARIABLE}=1)."
        raise DataNotFoundError(_not_found_message(dataset_name, remote, looked_at, reason))

    destination = repository_data_dir() / dataset_name / remote.name
    try:
        download_file(remote, dataset_name, destination, timeout=float(timeout))
    except DownloadFailedError as exc:
        reason = f"The download failed: {exc}."
        raise DataNotFoundError(
            _not_found_message(dataset_name, remote, looked_at, reason)
        ) from exc

    verify_file(destination, remote, dataset_name)
    return destination
