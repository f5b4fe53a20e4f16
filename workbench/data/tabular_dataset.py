"""The TabularDataset container shared by the tabular loaders."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from workbench.data.validation import check_choice

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True, eq=False)
class TabularDataset:
    """A feature frame with its target and column roles.

    Attributes
    ----------
    name : str
        Dataset name, such as ``"adult"``.
    frame : pandas.DataFrame, shape (n_rows, n_columns)
        The features, indexed by a ``RangeIndex``.
    target : pandas.Series, shape (n_rows,)
        The label, aligned with ``frame``.
    categorical : list of str
        Columns of ``frame`` with dtype ``category``.
    numeric : list of str
        Columns of ``frame`` with an int or float dtype.
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    split : pandas.Series of category or None, shape (n_rows,)
        The source's fixed split of each row (such as ``"train"``/``"test"``),
        or None when the source has none.

    Columns in neither ``categorical`` nor ``numeric`` (see :attr:`other`)
    are text or date columns that need their own encoding, such as MovieLens
    titles.
    """

    name: str
    frame: pd.DataFrame
    target: pd.Series
    categorical: list[str]
    numeric: list[str]
    task: str
    split: pd.Series | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pd.DataFrame):
            raise TypeError(f"frame must be a pandas DataFrame, got {type(self.frame).__name__}.")
        if not isinstance(self.target, pd.Series):
            raise TypeError(f"target must be a pandas Series, got {type(self.target).__name__}.")
        if not self.target.index.equals(self.frame.index):
            raise ValueError(
                f"target index must equal the frame index ({len(self.target)} vs "
                f"{len(self.frame)} rows)."
            )
        check_choice("task", self.task, TASKS)

        overlap = set(self.categorical) & set(self.numeric)
        if overlap:
            raise ValueError(
                f"columns {sorted(overlap)} are listed as both categorical and numeric."
            )
        missing = [c for c in [*self.categorical, *self.numeric] if c not in self.frame.columns]
        if missing:
            raise ValueError(f"columns {missing} are listed but not in the frame.")
        not_category = [
            c for c in self.categorical if not isinstance(self.frame[c].dtype, pd.CategoricalDtype)
        ]
        if not_category:
            raise ValueError(f"categorical columns {not_category} must have dtype 'category'.")
        not_numeric = [
            c
            for c in self.numeric
            if not (
                pd.api.types.is_numeric_dtype(self.frame[c])
                and not pd.api.types.is_bool_dtype(self.frame[c])
            )
        ]
        if not_numeric:
            raise ValueError(f"numeric columns {not_numeric} must have an int or float dtype.")

        if self.split is not None:
            if not isinstance(self.split, pd.Series) or not self.split.index.equals(
                self.frame.index
            ):
                raise ValueError("split must be a pandas Series with the same index as the frame.")

    @property
    def other(self) -> list[str]:
        """Columns of ``frame`` that are neither categorical nor numeric."""
        listed = set(self.categorical) | set(self.numeric)
        return [c for c in self.frame.columns if c not in listed]

    @property
    def split_names(self) -> list[str]:
        """The distinct values of ``split`` in order of appearance; empty without a split."""
        if self.split is None:
            return []
        return [str(value) for value in pd.unique(self.split)]

    def take_split(self, split: str) -> TabularDataset:
        """Return the rows whose ``split`` value is ``split``, re-indexed from 0.

        Raises
        ------
        ValueError
            If the dataset has no split or ``split`` is not one of its values.
        """
        if self.split is None:
            raise ValueError(
                f"dataset {self.name!r} has no fixed split, so split={split!r} cannot be taken."
            )
        check_choice("split", split, self.split_names)
        mask = (self.split == split).to_numpy()
        kept_split = self.split.loc[mask].reset_index(drop=True)
        if isinstance(kept_split.dtype, pd.CategoricalDtype):
            kept_split = kept_split.cat.remove_unused_categories()
        return replace(
            self,
            frame=self.frame.loc[mask].reset_index(drop=True),
            target=self.target.loc[mask].reset_index(drop=True),
            split=kept_split,
        )


def as_category(frame: pd.DataFrame, columns: list[str]) -> None:
    """Convert ``columns`` of ``frame`` to dtype ``category`` in place."""
    for column in columns:
        frame[column] = frame[column].astype("category")


def split_series(sizes: dict[str, int]) -> pd.Series:
    """Return a categorical ``split`` Series: each name repeated its size, in order."""
    names = list(sizes)
    values = np.repeat(names, list(sizes.values()))
    return pd.Series(pd.Categorical(values, categories=names), name="split")
