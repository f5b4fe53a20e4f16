"""Tabular datasets as pandas frames: Adult, Amazon employee access, Criteo and Give Me Some Credit.

Every loader returns a :class:`TabularDataset` whose ``frame`` contains the
features with a fresh ``RangeIndex``, categorical columns as pandas
``category`` dtype and numeric columns as int64 or float64 (float64 where
values can be missing). Missing values are NaN. :func:`load_movielens` lives
in :mod:`workbench.data.movielens` and is importable from here too.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import pandas as pd

from workbench.data.errors import DataFormatError
from workbench.data.fetch import fetch_file
from workbench.data.movielens import load_movielens
from workbench.data.tabular_dataset import TabularDataset, as_category, split_series
from workbench.data.validation import check_choice

__all__ = [
    "TabularDataset",
    "load_adult",
    "load_amazon_employee_access",
    "load_criteo_dac_sample",
    "load_criteo_sample",
    "load_give_me_some_credit",
    "load_movielens",
]

# --- Adult -----------------------------------------------------------------

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
ADULT_CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]
ADULT_NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def _read_adult_file(path: Path, *, skip_first_line: bool) -> pd.DataFrame:
    # Fields are separated by ", "; '?' marks a missing value.
    return pd.read_csv(
        path,
        header=None,
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        skiprows=1 if skip_first_line else 0,
    )


def load_adult(split: str = "all", *, download: bool = True) -> TabularDataset:
    """Load the UCI Adult (Census Income) data set.

    Parameters
    ----------
    split : {"all", "train", "test"}
        ``"train"`` is adult.data (32,561 rows), ``"test"`` is adult.test
        (16,281 rows), ``"all"`` both (48,842 rows, train first).
    download : bool
        Download missing files from UCI.

    Returns
    -------
    TabularDataset
        14 feature columns named as in adult.names: 8 categorical (missing
        values, written '?' in the files, are NaN) and 6 int64 numeric.
        ``target`` is ``income``, int64: 1 for ">50K", 0 for "<=50K" (the
        trailing "." of the test labels is removed). ``split`` is
        "train" or "test". The category sets come from both files, so train and
        test share them whichever split is loaded.
    """
    check_choice("split", split, ("all", "train", "test"))
    train = _read_adult_file(
        fetch_file("adult", "adult.data.gz", download=download), skip_first_line=False
    )
    # The first line of adult.test is the junk line "|1x3 Cross validator".
    test = _read_adult_file(
        fetch_file("adult", "adult.test.gz", download=download), skip_first_line=True
    )
    frame = pd.concat([train, test], ignore_index=True)

    income = frame.pop("income").str.rstrip(".")
    unknown = sorted(set(income.dropna()) - {"<=50K", ">50K"})
    if unknown or income.isna().any():
        raise DataFormatError(
            f"adult income labels must be '<=50K' or '>50K', found {unknown or 'missing'}."
        )
    target = (income == ">50K").astype("int64").rename("income")

    as_category(frame, ADULT_CATEGORICAL)
    dataset = TabularDataset(
        name="adult",
        frame=frame,
        target=target,
        categorical=list(ADULT_CATEGORICAL),
        numeric=list(ADULT_NUMERIC),
        task="binary",
        split=split_series({"train": len(train), "test": len(test)}),
    )
    return dataset if split == "all" else dataset.take_split(split)


# --- Amazon employee access ------------------------------------------------

AMAZON_TARGET = "ACTION"
AMAZON_FEATURES = [
    "RESOURCE",
    "MGR_ID",
    "ROLE_ROLLUP_1",
    "ROLE_ROLLUP_2",
    "ROLE_DEPTNAME",
    "ROLE_TITLE",
    "ROLE_FAMILY_DESC",
    "ROLE_FAMILY",
    "ROLE_CODE",
]
# The registered copy has a header renamed by a third party; this maps it back to Kaggle's names.
_AMAZON_RENAMED_HEADER = {
    "action": "ACTION",
    "resource": "RESOURCE",
    "mgrid": "MGR_ID",
    "rolerollupOne": "ROLE_ROLLUP_1",
    "rolerolluptwo": "ROLE_ROLLUP_2",
    "roledeptname": "ROLE_DEPTNAME",
    "roletitle": "ROLE_TITLE",
    "rolefamilydesc": "ROLE_FAMILY_DESC",
    "rolefamily": "ROLE_FAMILY",
    "rolecode": "ROLE_CODE",
}


def load_amazon_employee_access() -> TabularDataset:
    """Load the training set of Kaggle's Amazon.com Employee Access Challenge.

    The file needs a manual download from Kaggle. Without it, the
    DataNotFoundError names the path to place it at.

    Returns
    -------
    TabularDataset
        32,769 rows. ``target`` is ``ACTION`` (int64, 1 = access approved).
        The 9 features are anonymized ID columns with Kaggle's original names
        (RESOURCE, MGR_ID, ROLE_ROLLUP_1, ROLE_ROLLUP_2, ROLE_DEPTNAME,
        ROLE_TITLE, ROLE_FAMILY_DESC, ROLE_FAMILY, ROLE_CODE), all ``category``
        dtype with int64 categories.
    """
    frame = pd.read_csv(fetch_file("amazon_employee_access", "train.csv.gz"))
    frame = frame.rename(columns=_AMAZON_RENAMED_HEADER)
    expected = [AMAZON_TARGET, *AMAZON_FEATURES]
    if list(frame.columns) != expected:
        raise DataFormatError(
            f"amazon_employee_access train.csv has columns {list(frame.columns)}, "
            f"expected {expected}."
        )
    target = frame.pop(AMAZON_TARGET).astype("int64")
    as_category(frame, AMAZON_FEATURES)
    return TabularDataset(
        name="amazon_employee_access",
        frame=frame,
        target=target,
        categorical=list(AMAZON_FEATURES),
        numeric=[],
        task="binary",
    )


# --- Criteo ----------------------------------------------------------------

CRITEO_NUMERIC = [f"I{i}" for i in range(1, 14)]
CRITEO_CATEGORICAL = [f"C{i}" for i in range(1, 27)]
CRITEO_COLUMNS = ["label", *CRITEO_NUMERIC, *CRITEO_CATEGORICAL]
_CRITEO_DTYPES = {
    "label": "int64",
    **{c: "float64" for c in CRITEO_NUMERIC},
    **{c: "str" for c in CRITEO_CATEGORICAL},
}


def _read_criteo(source, description: str) -> pd.DataFrame:
    """Read tab-separated Criteo rows without header: label, I1..I13, C1..C26."""
    frame = pd.read_csv(
        source, sep="\t", header=None, dtype=str, keep_default_na=False, na_values=[""]
    )
    if frame.shape[1] != len(CRITEO_COLUMNS):
        raise DataFormatError(
            f"{description} has {frame.shape[1]} tab-separated columns, "
            f"expected {len(CRITEO_COLUMNS)} (label, I1..I13, C1..C26)."
        )
    frame.columns = CRITEO_COLUMNS
    try:
        return frame.astype(_CRITEO_DTYPES)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(
            f"{description} has a non-numeric label or integer feature: {exc}"
        ) from exc


def _criteo_dataset(name: str, frame: pd.DataFrame, split: pd.Series | None) -> TabularDataset:
    target = frame.pop("label")
    if not target.isin([0, 1]).all():
        raise DataFormatError(f"{name} labels must be 0 or 1.")
    as_category(frame, CRITEO_CATEGORICAL)
    return TabularDataset(
        name=name,
        frame=frame,
        target=target,
        categorical=list(CRITEO_CATEGORICAL),
        numeric=list(CRITEO_NUMERIC),
        task="binary",
        split=split,
    )


def load_criteo_sample(*, download: bool = True) -> TabularDataset:
    """Load the 8,000-row Criteo Display Advertising Challenge sample.

    Parameters
    ----------
    download : bool
        Download missing files from their source.

    Returns
    -------
    TabularDataset
        7,200 train + 409 dev + 391 test rows (``split`` is "train", "dev" or
        "test"). ``target`` is ``label`` (int64, 1 = click). I1..I13 are
        float64 (integer counts, NaN where missing); C1..C26 are ``category``
        of 8-hex-digit hashes, NaN where missing.
    """
    parts = {}
    for split in ("train", "dev", "test"):
        path = fetch_file("criteo_sample", f"{split}.csv.gz", download=download)
        parts[split] = _read_criteo(path, f"criteo_sample {path.name}")
    frame = pd.concat(parts.values(), ignore_index=True)
    splits = split_series({split: len(part) for split, part in parts.items()})
    return _criteo_dataset("criteo_sample", frame, splits)


DAC_SAMPLE_ROWS = 100_000


def load_criteo_dac_sample(*, download: bool = True) -> TabularDataset:
    """Load Criteo's public 100,000-row ``dac_sample.txt`` (downloaded as dac_sample.tar.gz).

    Parameters
    ----------
    download : bool
        Download the tarball from Criteo when no local copy exists.

    Returns
    -------
    TabularDataset
        100,000 rows with the columns of :func:`load_criteo_sample` and no split.

    Raises
    ------
    DataFormatError
        If the tarball is unreadable or does not hold 100,000 rows of 40
        columns. No digest of this file is published, so the shape is the
        integrity check.
    """
    path = fetch_file("criteo_dac_sample", "dac_sample.tar.gz", download=download)
    description = f"criteo_dac_sample {path}"
    try:
        with tarfile.open(path, "r:*") as archive:
            members = [
                m for m in archive.getmembers() if m.isfile() and m.name.endswith("dac_sample.txt")
            ]
            if len(members) != 1:
                raise DataFormatError(
                    f"{description} must contain one dac_sample.txt, found {len(members)}."
                )
            stream = archive.extractfile(members[0])
            frame = _read_criteo(stream, description)
    except (tarfile.TarError, EOFError, zlib.error, OSError, pd.errors.ParserError) as exc:
        raise DataFormatError(
            f"{description} is unreadable ({exc}); delete it and download it again."
        ) from exc
    if len(frame) != DAC_SAMPLE_ROWS:
        raise DataFormatError(
            f"{description} has {len(frame)} rows, expected {DAC_SAMPLE_ROWS}; "
            "delete it and download it again."
        )
    return _criteo_dataset("criteo_dac_sample", frame, None)


# --- Give Me Some Credit ---------------------------------------------------

CREDIT_TARGET = "SeriousDlqin2yrs"
CREDIT_FEATURES = [
    "RevolvingUtilizationOfUnsecuredLines",
    "age",
    "NumberOfTime30-59DaysPastDueNotWorse",
    "DebtRatio",
    "MonthlyIncome",
    "NumberOfOpenCreditLinesAndLoans",
    "NumberOfTimes90DaysLate",
    "NumberRealEstateLoansOrLines",
    "NumberOfTime60-89DaysPastDueNotWorse",
    "NumberOfDependents",
]


def load_give_me_some_credit() -> TabularDataset:
    """Load the training set of Kaggle's Give Me Some Credit competition.

    The file needs a manual download from Kaggle. Without it, the
    DataNotFoundError names the path to place it at (``cs-training.csv`` or
    ``cs-training.csv.zip``).

    Returns
    -------
    TabularDataset
        150,000 rows. ``target`` is ``SeriousDlqin2yrs`` (int64, 1 = serious
        delinquency within two years). The 10 features are numeric: int64, or
        float64 where values are fractional or missing (MonthlyIncome and
        NumberOfDependents have NaN). The file's unnamed first column (the row
        id, 1..150000) is dropped, so row ``i`` has Kaggle id ``i + 1``.
    """
    path = fetch_file("give_me_some_credit", "cs-training.csv.zip")
    # The file has CRLF line endings, which the C parser handles; column 0 is an unnamed row id.
    frame = pd.read_csv(path, index_col=0).reset_index(drop=True)
    expected = [CREDIT_TARGET, *CREDIT_FEATURES]
    if list(frame.columns) != expected:
        raise DataFormatError(
            f"give_me_some_credit {path.name} has columns {list(frame.columns)}, "
            f"expected {expected}."
        )
    target = frame.pop(CREDIT_TARGET)
    if target.isna().any():
        raise DataFormatError(
            f"give_me_some_credit {path.name} has rows without {CREDIT_TARGET}; is it cs-test.csv?"
        )
    return TabularDataset(
        name="give_me_some_credit",
        frame=frame,
        target=target.astype("int64"),
        categorical=[],
        numeric=list(CREDIT_FEATURES),
        task="binary",
    )
