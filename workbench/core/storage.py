"""Storage of Optuna studies.

The embedded default is an Optuna journal file under the workbench home folder,
so a study survives a kernel restart and several processes can share it. Any
Optuna storage URL (``sqlite:///...``, ``postgresql://...``) or storage object
can be passed instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

HOME_VARIABLE = "WORKBENCH_HOME"
DEFAULT_HOME = ".workbench"
DEFAULT_JOURNAL = "studies.journal"
JOURNAL_SUFFIXES = (".journal", ".log", ".jsonl")


def workbench_home() -> Path:
    """Return the workbench home folder and create it if needed.

    It is ``$WORKBENCH_HOME`` when set, else ``.workbench/`` in the working
    directory.
    """
    home = Path(os.environ.get(HOME_VARIABLE) or Path.cwd() / DEFAULT_HOME).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def journal_storage(path: str | os.PathLike[str]) -> optuna.storages.BaseStorage:
    """Open (or create) an Optuna journal storage in the file ``path``."""
    import optuna

    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"journal path {str(path)!r} is a folder; pass a file path such as "
                         f"{str(path / DEFAULT_JOURNAL)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    backend = optuna.storages.journal.JournalFileBackend(str(path))
    return optuna.storages.JournalStorage(backend)


def resolve_storage(storage: Any = None) -> optuna.storages.BaseStorage:
    """Turn ``storage`` into an Optuna storage object.

    Parameters
    ----------
    storage : None, str, os.PathLike or optuna.storages.BaseStorage
        ``None`` gives the default journal file in :func:`workbench_home`.
        A path ending in ``.journal``, ``.log`` or ``.jsonl`` gives a journal
        file there. A string with ``://`` is passed to Optuna as a storage URL
        (RDB URLs such as ``sqlite:///studies.db``). A storage object is
        returned unchanged.
    """
    import optuna

    if storage is None:
        return journal_storage(workbench_home() / DEFAULT_JOURNAL)
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if isinstance(storage, os.PathLike) or (isinstance(storage, str) and "://" not in storage):
        path = Path(storage)
        if path.suffix not in JOURNAL_SUFFIXES:
            raise ValueError(f"storage {str(storage)!r} is neither a storage URL nor a journal "
                             f"file; pass a URL like 'sqlite:///studies.db' or a path ending in "
                             f"one of {JOURNAL_SUFFIXES}.")
        return journal_storage(path)
    if isinstance(storage, str):
        try:
            return optuna.storages.get_storage(storage)
        except Exception as error:  # SQLAlchemy raises many types for a bad URL
            raise ValueError(f"storage URL {storage!r} could not be opened ({type(error).__name__}: "
                             f"{error}); pass a URL such as 'sqlite:///studies.db' or "
                             f"'postgresql://user@host/db', or a journal file path.") from error
    raise TypeError(f"storage must be None, a URL, a journal path or an Optuna storage, "
                    f"got {type(storage).__name__}.")


def create_study(study_name: str, *, storage: Any = None, direction: str = "maximize",
                 sampler: optuna.samplers.BaseSampler | None = None,
                 pruner: optuna.pruners.BasePruner | None = None,
                 load_if_exists: bool = True) -> optuna.Study:
    """Create an Optuna study in the workbench storage, or load it if it exists.

    Loading an existing study is the default, so re-running a notebook cell
    continues the study instead of losing it.
    """
    import optuna

    if not isinstance(study_name, str) or not study_name.strip():
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}.")
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}.")
    return optuna.create_study(study_name=study_name, storage=resolve_storage(storage),
                               direction=direction, sampler=sampler, pruner=pruner,
                               load_if_exists=load_if_exists)
