"""Click-through-rate (CTR) data sets for the AutoInt and Fi-GNN chapter.

Each loader returns a :class:`CTRData`: raw feature frames of a random 8:1:1
train/validation/test split with 0/1 labels and the column list of each field
kind. The frames are not encoded, so a :class:`FieldEncoder` can be fitted on
the training frame alone (:meth:`CTRData.field_encoder`).

The settings follow AutoInt (Song et al., "AutoInt: Automatic Feature
Interaction Learning via Self-Attentive Neural Networks", CIKM 2019, Section
5.1) and the authors' preprocessing scripts in
https://github.com/DeepGraphLearning/RecommenderSystems (``featureRec/``).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from workbench.core.validation import check_int
from workbench.data import load_criteo_sample, load_movielens
from workbench.features.encoding import FieldEncoder

# A rating above this is a positive sample, below it a negative one, and
# ratings equal to it are dropped as neutral.
NEUTRAL_RATING = 3

# MovieLens-1M age groups, by lower bound: under 18, 18-24, 25-34, 35-44,
# 45-49, 50-55, 56+. MovieLens-100k ages in years are mapped to these groups.
AGE_GROUP_STARTS = (1, 18, 25, 35, 45, 50, 56)

# Release years before this one are grouped by decade ("1950s"), and later
# years stay single years, as in the authors' MovieLens script.
FIRST_SINGLE_RELEASE_YEAR = 1970

# Criteo count features above this threshold are replaced by log(z)^2.
CRITEO_LOG_THRESHOLD = 2.0

TITLE_YEAR = re.compile(r"\((\d{4})\)\s*$")


@dataclasses.dataclass(frozen=True, eq=False)
class CTRData:
    """A CTR data set split into train, validation and test rows.

    Attributes
    ----------
    train, validation, test : pandas.DataFrame
        The raw feature columns of each split, indexed from 0.
    y_train, y_validation, y_test : ndarray of int64, shape (n_split,)
        The 0/1 labels (1 = click or positive rating), aligned with the frames.
    categorical, numeric, multi : list of str
        The feature columns of each field kind.
    name : str
        Data set name, such as ``"movielens_100k_ctr"``.
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    y_train: np.ndarray
    y_validation: np.ndarray
    y_test: np.ndarray
    categorical: list[str]
    numeric: list[str]
    multi: list[str]
    name: str

    def __post_init__(self) -> None:
        columns = [*self.categorical, *self.numeric, *self.multi]
        for split in ("train", "validation", "test"):
            frame = getattr(self, split)
            # Labels must be 0/1 in every split; a frozen dataclass sets them through object.
            labels = binary_labels(getattr(self, f"y_{split}"), f"y_{split}")
            object.__setattr__(self, f"y_{split}", labels)
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(f"{split} must be a pandas DataFrame, got {type(frame).__name__}.")
            if len(frame) != len(labels):
                raise ValueError(
                    f"{split} has {len(frame)} rows but y_{split} has {len(labels)} labels; "
                    "pass one label per row."
                )
            missing = [column for column in columns if column not in frame.columns]
            if missing:
                raise ValueError(f"columns {missing} are listed but missing from {split}.")
        if len(np.unique(self.y_validation)) < 2:
            raise ValueError("y_validation must contain both classes 0 and 1, because the "
                             "validation AUC drives early stopping; split the data differently.")
        if len(self.train) == 0:
            raise ValueError("train has no rows; pass at least one training row.")

    def field_encoder(self, **options: object) -> FieldEncoder:
        """Return an unfitted :class:`FieldEncoder` for these columns.

        ``options`` are passed on (``min_count``, ``max_multi_length``, ...).
        Fit it on ``train`` only.
        """
        return FieldEncoder(list(self.categorical), list(self.numeric), list(self.multi),
                            **options)


def binary_labels(values: object, column: str) -> np.ndarray:
    """Return ``values`` as an int64 array of 0/1 labels.

    Parameters
    ----------
    values : array-like, shape (n,)
        Numbers or bools that are all 0 or 1 (0.0 and 1.0 are accepted).
    column : str
        Name of the label column, used in error messages.

    Raises
    ------
    ValueError
        If ``values`` is not one-dimensional, not numeric, or contains a
        value other than 0 and 1 (NaN included).
    """
    if np.ndim(values) != 1:
        raise ValueError(
            f"label column {column!r} must be one-dimensional, got shape {np.shape(values)}."
        )
    labels = values if isinstance(values, pd.Series) else pd.Series(values)
    dtype = labels.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        raise ValueError(
            f"label column {column!r} has dtype {dtype}; a binary label must be numeric or "
            "bool with values 0 and 1."
        )

    numbers = labels.to_numpy(dtype=np.float64, na_value=np.nan)
    invalid = ~((numbers == 0) | (numbers == 1))
    if invalid.any():
        examples = pd.unique(numbers[invalid])[:5].tolist()
        raise ValueError(
            f"label column {column!r} must contain only 0 and 1, but {int(invalid.sum())} "
            f"values are not, such as {examples}; binarize the label first "
            "(for example rating > 3 -> 1, rating < 3 -> 0)."
        )
    return numbers.astype(np.int64)


def load_movielens_ctr(variant: str = "100k", *, seed: int = 0,
                       download: bool = True) -> CTRData:
    """Load MovieLens ratings as the binary CTR task of AutoInt.

    Ratings above 3 are positive, ratings below 3 negative, and ratings of
    exactly 3 are dropped. Each sample has seven fields:

    - ``gender``, ``occupation``, ``zip_code``: categorical, as in
      :func:`workbench.data.load_movielens`;
    - ``age``: categorical age group, the lower bound of the MovieLens-1M
      bucket (1, 18, 25, 35, 45, 50, 56). MovieLens-100k ages in years are
      mapped to these buckets, so both variants share one field;
    - ``release_time``: categorical release period of the movie, a string.
      The year is read from the title, such as "Heat (1995)", or else from
      ``release_date``. Years from 1970 on stay single years ("1995"), and
      earlier years are grouped by decade ("1950s"), as in the authors'
      MovieLens script. An unknown year is missing (NaN);
    - ``request_time``: numeric, the rating's Unix timestamp in seconds
      (float64). The authors' script also feeds it as one numeric value
      (min-max scaled), and :class:`FieldEncoder` standardizes it;
    - ``genres``: multi-valued, genre names joined by "|".

    The user and movie ids are not fields.

    Parameters
    ----------
    variant : {"100k", "1m"}
        The MovieLens release (see :func:`workbench.data.load_movielens`).
    seed : int
        Seed of the random 8:1:1 split; the same seed gives the same split.
    download : bool
        Download missing files from GroupLens.

    Returns
    -------
    CTRData
        ``categorical = [gender, age, occupation, zip_code, release_time]``,
        ``numeric = [request_time]``, ``multi = [genres]``.
    """
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    dataset = load_movielens(variant, download=download)
    ratings = dataset.target.to_numpy()
    non_neutral = ratings != NEUTRAL_RATING
    source = dataset.frame.loc[non_neutral].reset_index(drop=True)
    labels = binary_labels(ratings[non_neutral] > NEUTRAL_RATING, "rating")

    frame = pd.DataFrame({
        "gender": source["gender"],
        "age": _age_groups(source["age"]),
        "occupation": source["occupation"],
        "zip_code": source["zip_code"],
        "release_time": _release_periods(source["title"], source["release_date"]),
        "request_time": source["timestamp"].astype(np.float64),
        "genres": source["genres"],
    })
    return _split_ctr_data(
        frame, labels, seed,
        categorical=["gender", "age", "occupation", "zip_code", "release_time"],
        numeric=["request_time"],
        multi=["genres"],
        name=f"movielens_{variant}_ctr",
    )


def load_criteo_ctr(*, seed: int = 0, download: bool = True) -> CTRData:
    """Load the 8,000-row Criteo sample as a CTR task with a random 8:1:1 split.

    The file's own train/dev/test split (7,200/409/391 rows) is not 8:1:1,
    so its rows are pooled and split again with ``seed``.

    The count features I1..I13 are transformed as in AutoInt: a value
    ``z > 2`` becomes ``log(z)^2`` (natural log), and smaller values and NaN
    stay as they are. The authors' script also truncates the result to an
    integer, which this loader does not. That script also folds categories
    seen 10 times or fewer into one index, which here is the job of
    ``FieldEncoder(min_count=...)``.

    NOTE: the transform is not monotonic, because ``log(z)^2 < 2`` for
    ``z < e^sqrt(2) ~ 4.11``. So 3 and 4 map to about 1.21 and 1.92, below
    the unchanged 2.

    Parameters
    ----------
    seed : int
        Seed of the random split; the same seed gives the same split.
    download : bool
        Download missing files from their source.

    Returns
    -------
    CTRData
        ``numeric = [I1..I13]`` (float64, NaN where missing),
        ``categorical = [C1..C26]`` (category of hex hashes, NaN where
        missing), ``multi = []``; labels are the clicks.
    """
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    dataset = load_criteo_sample(download=download)
    labels = binary_labels(dataset.target, str(dataset.target.name or "label"))

    frame = dataset.frame[[*dataset.numeric, *dataset.categorical]].copy()
    for column in dataset.numeric:
        frame[column] = _log_squared_counts(frame[column].to_numpy(dtype=np.float64))
    return _split_ctr_data(
        frame, labels, seed,
        categorical=list(dataset.categorical),
        numeric=list(dataset.numeric),
        multi=[],
        name="criteo_sample_ctr",
    )


def _log_squared_counts(values: np.ndarray) -> np.ndarray:
    """Return a copy of ``values`` with each entry ``z > 2`` replaced by ``log(z)^2``."""
    transformed = values.astype(np.float64, copy=True)
    large = transformed > CRITEO_LOG_THRESHOLD    # False for NaN, so NaN stays
    transformed[large] = np.log(transformed[large]) ** 2
    return transformed


def _age_groups(ages: pd.Series) -> pd.Series:
    """Map ages in years to the lower bound of their MovieLens-1M age group (category)."""
    starts = np.asarray(AGE_GROUP_STARTS)
    group = np.searchsorted(starts, ages.to_numpy(), side="right") - 1
    values = starts[np.clip(group, 0, None)]    # ages below 1 join the youngest group
    return pd.Series(pd.Categorical(values, categories=list(AGE_GROUP_STARTS)),
                     index=ages.index)


def _release_periods(titles: pd.Series, release_dates: pd.Series) -> pd.Series:
    """Return each movie's release period ("1995" or "1950s"), NaN where the year is unknown."""
    title_years = pd.to_numeric(titles.astype(str).str.extract(TITLE_YEAR, expand=False))
    years = title_years.fillna(release_dates.dt.year)

    periods = pd.Series(np.nan, index=titles.index, dtype=object)
    known = years.notna()
    whole_years = years[known].astype(np.int64)
    periods[known] = np.where(
        whole_years >= FIRST_SINGLE_RELEASE_YEAR,
        whole_years.astype(str),
        (whole_years // 10 * 10).astype(str) + "s",
    )
    return periods.astype("category")


def _split_ctr_data(frame: pd.DataFrame, labels: np.ndarray, seed: int, *,
                   categorical: list[str], numeric: list[str], multi: list[str],
                   name: str) -> CTRData:
    """Split ``frame`` and ``labels`` at random into 8:1:1 train/validation/test rows.

    Validation and test get ``floor(n / 10)`` rows each and train the rest.
    Each split keeps the rows in their original order.
    """
    order = np.random.default_rng(seed).permutation(len(frame))
    n_holdout = len(frame) // 10
    n_train = len(frame) - 2 * n_holdout
    parts = {
        "train": np.sort(order[:n_train]),
        "validation": np.sort(order[n_train:n_train + n_holdout]),
        "test": np.sort(order[n_train + n_holdout:]),
    }
    frames = {split: frame.iloc[rows].reset_index(drop=True) for split, rows in parts.items()}
    return CTRData(
        train=frames["train"],
        validation=frames["validation"],
        test=frames["test"],
        y_train=labels[parts["train"]],
        y_validation=labels[parts["validation"]],
        y_test=labels[parts["test"]],
        categorical=categorical,
        numeric=numeric,
        multi=multi,
        name=name,
    )
