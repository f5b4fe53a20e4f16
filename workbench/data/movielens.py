"""MovieLens ratings joined with user and movie features, as a TabularDataset."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from workbench.data.errors import DataFormatError
from workbench.data.fetch import fetch_file
from workbench.data.tabular_dataset import TabularDataset, as_category
from workbench.data.validation import check_choice

MOVIELENS_COLUMNS = [
    "user_id",
    "item_id",
    "timestamp",
    "age",
    "gender",
    "occupation",
    "zip_code",
    "title",
    "release_date",
    "genres",
]
MOVIELENS_CATEGORICAL = ["user_id", "item_id", "gender", "occupation", "zip_code"]
MOVIELENS_NUMERIC = ["timestamp", "age"]

# Column order of the 19 genre flags in ml-100k's u.item (the list in u.genre).
ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]
# Occupation codes of ml-1m's users.dat, from the ml-1m README.
ML1M_OCCUPATIONS = [
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
]


def _read_movielens_100k(download: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ratings = pd.read_csv(
        fetch_file("movielens_100k", "u.data", download=download),
        sep="\t",
        header=None,
        names=["user_id", "item_id", "rating", "timestamp"],
        dtype="int64",
    )
    users = pd.read_csv(
        fetch_file("movielens_100k", "u.user", download=download),
        sep="|",
        header=None,
        names=["user_id", "age", "gender", "occupation", "zip_code"],
        dtype={
            "user_id": "int64",
            "age": "int64",
            "gender": "str",
            "occupation": "str",
            "zip_code": "str",
        },
    )
    item_columns = [
        "item_id",
        "title",
        "release_date",
        "video_release_date",
        "imdb_url",
        *ML100K_GENRES,
    ]
    items = pd.read_csv(
        fetch_file("movielens_100k", "u.item", download=download),
        sep="|",
        header=None,
        names=item_columns,
        encoding="latin-1",
        keep_default_na=False,
        na_values=[""],
        dtype={"item_id": "int64", "title": "str", "release_date": "str"},
    )
    flags = items[ML100K_GENRES].to_numpy(dtype=bool)
    items["genres"] = [
        "|".join(g for g, on in zip(ML100K_GENRES, row, strict=True) if on) for row in flags
    ]
    items["release_date"] = pd.to_datetime(items["release_date"], format="%d-%b-%Y")
    return ratings, users, items[["item_id", "title", "release_date", "genres"]]


def _read_dat(
    archive: zipfile.ZipFile, member: str, names: list[str], encoding: str
) -> pd.DataFrame:
    # The .dat files separate fields with "::". pandas' C parser takes only one-character
    # separators, and no field contains a tab, so "::" is replaced by a tab.
    text = archive.read(member).decode(encoding).replace("::", "\t")
    return pd.read_csv(
        io.StringIO(text), sep="\t", header=None, names=names, dtype=str, keep_default_na=False
    )


def _read_movielens_1m(download: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    path = fetch_file("movielens_1m", "ml-1m.zip", download=download)
    with zipfile.ZipFile(path) as archive:
        ratings = _read_dat(
            archive, "ml-1m/ratings.dat", ["user_id", "item_id", "rating", "timestamp"], "ascii"
        ).astype("int64")
        users = _read_dat(
            archive,
            "ml-1m/users.dat",
            ["user_id", "gender", "age", "occupation", "zip_code"],
            "ascii",
        )
        items = _read_dat(archive, "ml-1m/movies.dat", ["item_id", "title", "genres"], "latin-1")
    users = users.astype({"user_id": "int64", "age": "int64"})
    codes = users["occupation"].astype("int64")
    if not codes.between(0, len(ML1M_OCCUPATIONS) - 1).all():
        raise DataFormatError("ml-1m users.dat has an occupation code outside 0..20.")
    users["occupation"] = [ML1M_OCCUPATIONS[code] for code in codes]
    items = items.astype({"item_id": "int64"})
    items["release_date"] = pd.NaT
    return ratings, users, items[["item_id", "title", "release_date", "genres"]]


def load_movielens(variant: str = "100k", *, download: bool = True) -> TabularDataset:
    """Load MovieLens ratings joined with user and movie features.

    Parameters
    ----------
    variant : {"100k", "1m"}
        ``"100k"``: 100,000 ratings by 943 users on 1,682 movies.
        ``"1m"``: 1,000,209 ratings by 6,040 users (downloads ml-1m.zip).
    download : bool
        Download missing files from GroupLens.

    Returns
    -------
    TabularDataset
        One row per rating, in file order. ``target`` is ``rating`` (int64,
        1-5; ``task="regression"``, binarize it for click-through tasks).
        Columns:

        - ``user_id``, ``item_id``: ``category`` of int64 ids;
        - ``timestamp``: int64 Unix seconds;
        - ``age``: int64; years in 100k, the lower bound of the age bucket
          (1, 18, 25, 35, 45, 50, 56) in 1m;
        - ``gender`` ("M"/"F"), ``occupation`` (names; 1m codes mapped to the
          README's names), ``zip_code``: ``category``;
        - ``title``: str, with the year in parentheses;
        - ``release_date``: datetime64, NaT where unknown and always in 1m;
        - ``genres``: str, genre names joined by "|".
    """
    check_choice("variant", variant, ("100k", "1m"))
    reader = _read_movielens_100k if variant == "100k" else _read_movielens_1m
    ratings, users, items = reader(download)

    frame = ratings.merge(users, on="user_id", how="left", validate="many_to_one")
    frame = frame.merge(items, on="item_id", how="left", validate="many_to_one")
    if frame["gender"].isna().any() or frame["title"].isna().any():
        raise DataFormatError(
            f"MovieLens {variant} has ratings whose user or movie is missing "
            "from the user or movie file."
        )

    target = frame.pop("rating")
    frame = frame[MOVIELENS_COLUMNS].copy()
    as_category(frame, MOVIELENS_CATEGORICAL)
    return TabularDataset(
        name=f"movielens_{variant}",
        frame=frame,
        target=target,
        categorical=list(MOVIELENS_CATEGORICAL),
        numeric=list(MOVIELENS_NUMERIC),
        task="regression",
    )
