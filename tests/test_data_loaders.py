"""Tests of the loaders on the real offline datasets, the idx and PNG parsers, and bad arguments.

Expected counts are those documented by the data sets' publishers and
re-counted on the offline copies.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import struct
import tarfile
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
from data_fixtures import (  # noqa: F401 (pytest fixtures)
    isolated_data_fixture,
    real_data_fixture,
    real_data_module_fixture,
    require_file,
    sha256_of,
)

from workbench.data import (
    DATASETS,
    DataFormatError,
    ImageDataset,
    TabularDataset,
    load_adult,
    load_amazon_employee_access,
    load_criteo_dac_sample,
    load_criteo_sample,
    load_digits,
    load_give_me_some_credit,
    load_mnist,
    load_movielens,
    load_omniglot,
    load_omniglot_one_shot_runs,
)
from workbench.data import tabular as tabular_module
from workbench.data.idx import IMAGES_MAGIC, LABELS_MAGIC, parse_idx, read_idx
from workbench.data.movielens import MOVIELENS_COLUMNS
from workbench.data.png import PNG_SIGNATURE, decode_png_1bit
from workbench.data.tabular import ADULT_COLUMNS, CRITEO_CATEGORICAL, CRITEO_NUMERIC

# --- Adult -------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult(real_data_module):
    return load_adult()


def test_adult_all_rows_and_columns(adult):
    assert adult.frame.shape == (48_842, 14)
    assert list(adult.frame.columns) == ADULT_COLUMNS[:-1]
    assert adult.target.name == "income"
    assert adult.task == "binary"


def test_adult_dtypes(adult):
    for column in adult.categorical:
        assert isinstance(adult.frame[column].dtype, pd.CategoricalDtype), column
    for column in adult.numeric:
        assert adult.frame[column].dtype == np.int64, column
    assert len(adult.categorical) == 8
    assert len(adult.numeric) == 6
    assert adult.other == []
    assert adult.target.dtype == np.int64


def test_adult_labels_strip_test_period(adult):
    assert adult.target.value_counts().to_dict() == {0: 24_720 + 12_435, 1: 7_841 + 3_846}


def test_adult_question_marks_are_missing(adult):
    rows_with_missing = adult.frame.isna().any(axis=1)
    assert rows_with_missing[adult.split == "train"].sum() == 2_399
    assert rows_with_missing[adult.split == "test"].sum() == 1_221
    assert not (adult.frame["workclass"] == "?").any()
    assert (
        adult.frame[["workclass", "occupation", "native-country"]]
        .isna()
        .all(axis=0)
        .eq(False)
        .all()
    )


def test_adult_splits(real_data):
    train = load_adult("train")
    test = load_adult("test")
    assert len(train.frame) == 32_561
    assert len(test.frame) == 16_281
    assert train.target.value_counts().to_dict() == {0: 24_720, 1: 7_841}
    assert test.target.value_counts().to_dict() == {0: 12_435, 1: 3_846}
    assert set(train.split) == {"train"}
    assert set(test.split) == {"test"}
    assert train.frame.index.equals(pd.RangeIndex(32_561))
    for column in train.categorical:
        assert list(train.frame[column].cat.categories) == list(test.frame[column].cat.categories)


def test_adult_first_row(adult):
    first = adult.frame.iloc[0]
    assert first["age"] == 39
    assert first["workclass"] == "State-gov"
    assert first["education-num"] == 13
    assert first["native-country"] == "United-States"


# --- Amazon employee access --------------------------------------------------

AMAZON_DISTINCT = {
    "RESOURCE": 7_518,
    "MGR_ID": 4_243,
    "ROLE_ROLLUP_1": 128,
    "ROLE_ROLLUP_2": 177,
    "ROLE_DEPTNAME": 449,
    "ROLE_TITLE": 343,
    "ROLE_FAMILY_DESC": 2_358,
    "ROLE_FAMILY": 67,
    "ROLE_CODE": 343,
}


def test_amazon_rows_columns_and_labels(real_data):
    amazon = load_amazon_employee_access()
    assert amazon.frame.shape == (32_769, 9)
    assert list(amazon.frame.columns) == list(AMAZON_DISTINCT)
    assert amazon.categorical == list(AMAZON_DISTINCT)
    assert amazon.numeric == []
    assert amazon.target.name == "ACTION"
    assert amazon.target.value_counts().to_dict() == {1: 30_872, 0: 1_897}
    for column, distinct in AMAZON_DISTINCT.items():
        assert amazon.frame[column].nunique() == distinct, column
        assert isinstance(amazon.frame[column].dtype, pd.CategoricalDtype)
    assert not amazon.frame.isna().any().any()


# --- Criteo ------------------------------------------------------------------


@pytest.fixture(scope="module")
def criteo(real_data_module):
    return load_criteo_sample()


def test_criteo_sample_rows_and_splits(criteo):
    assert criteo.frame.shape == (8_000, 39)
    assert criteo.split.value_counts(sort=False).to_dict() == {
        "train": 7_200,
        "dev": 409,
        "test": 391,
    }
    clicks = criteo.target.groupby(criteo.split, observed=True).sum().to_dict()
    assert clicks == {"train": 1_549, "dev": 93, "test": 86}


def test_criteo_sample_columns_and_dtypes(criteo):
    assert list(criteo.frame.columns) == CRITEO_NUMERIC + CRITEO_CATEGORICAL
    assert criteo.target.name == "label"
    assert criteo.target.dtype == np.int64
    for column in CRITEO_NUMERIC:
        assert criteo.frame[column].dtype == np.float64
    for column in CRITEO_CATEGORICAL:
        assert isinstance(criteo.frame[column].dtype, pd.CategoricalDtype)


def test_criteo_sample_empty_fields_are_missing(criteo):
    train = criteo.take_split("train")
    assert int(train.frame.isna().sum().sum()) == 40_985
    assert train.frame["I2"].min() == -2
    assert pd.isna(criteo.frame.loc[0, "I12"])
    assert criteo.frame.loc[0, "C1"] == "68fd1e64"


def test_criteo_dac_sample_when_available(real_data):
    require_file("criteo_dac_sample", "dac_sample.tar.gz")
    dac = load_criteo_dac_sample()
    assert dac.frame.shape == (100_000, 39)
    assert dac.split is None


def _criteo_line(label: int, seed: int) -> str:
    integers = [str(seed + i) if i % 4 else "" for i in range(13)]
    hashes = [f"{(seed * 31 + i) % 2**32:08x}" if i % 5 else "" for i in range(26)]
    return "\t".join([str(label), *integers, *hashes])


def _write_dac_tarball(path, lines: list[str]) -> None:
    body = ("\n".join(lines) + "\n").encode()
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo("dac_sample.txt")
        member.size = len(body)
        archive.addfile(member, io.BytesIO(body))


def test_criteo_dac_sample_format_on_synthetic_tarball(isolated_data, monkeypatch):
    # Only the parser is tested here: the real file is never shipped, so its test above is skipped.
    root, _ = isolated_data
    (root / "criteo_dac_sample").mkdir()
    _write_dac_tarball(
        root / "criteo_dac_sample" / "dac_sample.tar.gz", [_criteo_line(i % 2, i) for i in range(6)]
    )
    monkeypatch.setattr(tabular_module, "DAC_SAMPLE_ROWS", 6)
    dac = load_criteo_dac_sample(download=False)
    assert dac.frame.shape == (6, 39)
    assert dac.target.tolist() == [0, 1, 0, 1, 0, 1]
    assert pd.isna(dac.frame.loc[0, "I1"])
    assert dac.frame.loc[1, "I2"] == 2.0
    assert pd.isna(dac.frame.loc[0, "C1"])


def test_criteo_dac_sample_wrong_row_count_is_rejected(isolated_data):
    root, _ = isolated_data
    (root / "criteo_dac_sample").mkdir()
    _write_dac_tarball(root / "criteo_dac_sample" / "dac_sample.tar.gz", [_criteo_line(0, 1)])
    with pytest.raises(DataFormatError, match="has 1 rows, expected 100000"):
        load_criteo_dac_sample(download=False)


def test_criteo_dac_sample_corrupt_tarball_is_rejected(isolated_data):
    root, _ = isolated_data
    (root / "criteo_dac_sample").mkdir()
    (root / "criteo_dac_sample" / "dac_sample.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataFormatError, match="unreadable"):
        load_criteo_dac_sample(download=False)


# --- Give Me Some Credit -----------------------------------------------------


def test_give_me_some_credit(real_data):
    credit = load_give_me_some_credit()
    assert credit.frame.shape == (150_000, 10)
    assert credit.target.name == "SeriousDlqin2yrs"
    assert credit.target.value_counts().to_dict() == {0: 139_974, 1: 10_026}
    assert credit.categorical == []
    assert credit.numeric == list(credit.frame.columns)
    assert not any("\r" in column or "Unnamed" in column for column in credit.frame.columns)
    assert credit.frame["MonthlyIncome"].isna().sum() == 29_731
    assert credit.frame["NumberOfDependents"].isna().sum() == 3_924
    assert credit.frame["age"].dtype == np.int64
    assert credit.frame["MonthlyIncome"].dtype == np.float64


# --- MovieLens ---------------------------------------------------------------


@pytest.fixture(scope="module")
def movielens(real_data_module):
    return load_movielens("100k")


def test_movielens_100k_rows_and_columns(movielens):
    assert movielens.frame.shape == (100_000, len(MOVIELENS_COLUMNS))
    assert list(movielens.frame.columns) == MOVIELENS_COLUMNS
    assert movielens.target.name == "rating"
    assert movielens.task == "regression"
    assert movielens.target.value_counts().sort_index().to_dict() == {
        1: 6_110,
        2: 11_370,
        3: 27_145,
        4: 34_174,
        5: 21_201,
    }
    assert movielens.frame["user_id"].nunique() == 943
    assert movielens.frame["item_id"].nunique() == 1_682


def test_movielens_100k_dtypes(movielens):
    frame = movielens.frame
    for column in ("user_id", "item_id", "gender", "occupation", "zip_code"):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
    assert frame["timestamp"].dtype == np.int64
    assert frame["age"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(frame["release_date"])
    assert movielens.other == ["title", "release_date", "genres"]
    assert set(frame["gender"].cat.categories) == {"M", "F"}


def test_movielens_100k_joined_features(movielens):
    frame = movielens.frame
    first = frame.iloc[0]
    assert (first["user_id"], first["item_id"], movielens.target.iloc[0]) == (196, 242, 3)
    assert first["title"] == "Kolya (1996)"
    assert first["age"] == 49
    assert first["occupation"] == "writer"
    assert first["genres"] == "Comedy"
    assert first["release_date"] == pd.Timestamp("1997-01-24")
    assert not frame[["age", "gender", "title", "genres"]].isna().any().any()


def test_movielens_100k_latin1_titles(movielens):
    titles = set(movielens.frame["title"])
    assert "Á köldum klaka (Cold Fever) (1994)" in titles


def test_movielens_1m_when_available(real_data):
    require_file("movielens_1m", "ml-1m.zip")
    ml1m = load_movielens("1m")
    assert ml1m.frame.shape == (1_000_209, len(MOVIELENS_COLUMNS))
    assert ml1m.frame["user_id"].nunique() == 6_040
    assert ml1m.frame["release_date"].isna().all()


def test_movielens_1m_format_on_synthetic_zip(isolated_data, monkeypatch):
    # Only the ml-1m parser is tested here, on three ratings in the documented '::' format.
    root, _ = isolated_data
    members = {
        "ml-1m/ratings.dat": "1::10::5::978300760\n2::20::3::978302109\n1::20::4::978301968\n",
        "ml-1m/users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
        "ml-1m/movies.dat": (
            "10::GoldenEye (1995)::Action|Adventure|Thriller\n20::Caf\xe9 au lait (1993)::Comedy\n"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text.encode("latin-1"))
    data = buffer.getvalue()
    (root / "movielens_1m").mkdir()
    (root / "movielens_1m" / "ml-1m.zip").write_bytes(data)
    info = DATASETS["movielens_1m"]
    monkeypatch.setitem(
        DATASETS,
        "movielens_1m",
        dataclasses.replace(
            info, files=(dataclasses.replace(info.files[0], sha256=(sha256_of(data),)),)
        ),
    )

    ml1m = load_movielens("1m", download=False)
    assert list(ml1m.frame.columns) == MOVIELENS_COLUMNS
    assert ml1m.target.tolist() == [5, 3, 4]
    assert ml1m.frame["occupation"].tolist() == ["K-12 student", "self-employed", "K-12 student"]
    assert ml1m.frame["age"].tolist() == [1, 56, 1]
    assert ml1m.frame.loc[1, "title"] == "Café au lait (1993)"
    assert ml1m.frame.loc[0, "genres"] == "Action|Adventure|Thriller"
    assert ml1m.frame["release_date"].isna().all()


# --- MNIST -------------------------------------------------------------------


def test_mnist_test_split(real_data):
    mnist = load_mnist("test")
    assert mnist.images.shape == (10_000, 28, 28)
    assert mnist.images.dtype == np.uint8
    assert mnist.labels.shape == (10_000,)
    assert mnist.labels.dtype == np.int64
    assert np.bincount(mnist.labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert mnist.images.max() == 255
    assert mnist.class_names == [str(d) for d in range(10)]
    assert len(mnist) == 10_000


def test_mnist_train_labels_file(real_data):
    labels = read_idx(
        require_file("mnist", "train-labels-idx1-ubyte.gz"), expected_magic=LABELS_MAGIC
    )
    assert np.bincount(labels).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]


def test_mnist_train_split_when_available(real_data):
    require_file("mnist", "train-images-idx3-ubyte.gz")
    mnist = load_mnist("train")
    assert mnist.images.shape == (60_000, 28, 28)
    assert mnist.labels.shape == (60_000,)


def test_mnist_malformed_file_raises_format_error(isolated_data, monkeypatch):
    root, _ = isolated_data
    folder = root / "mnist"
    folder.mkdir()
    images = gzip.compress(struct.pack(">IIII", IMAGES_MAGIC, 5, 28, 28) + bytes(28 * 28 * 4))
    labels = gzip.compress(struct.pack(">II", LABELS_MAGIC, 5) + bytes(5))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(labels)
    info = DATASETS["mnist"]
    digests = {
        "t10k-images-idx3-ubyte.gz": sha256_of(images),
        "t10k-labels-idx1-ubyte.gz": sha256_of(labels),
    }
    files = tuple(
        dataclasses.replace(f, sha256=(digests[f.name],)) if f.name in digests else f
        for f in info.files
    )
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(info, files=files))

    with pytest.raises(DataFormatError, match="needs"):
        load_mnist("test")


# --- idx parser --------------------------------------------------------------


def test_parse_idx_round_trip():
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    data = struct.pack(">IIII", IMAGES_MAGIC, 2, 3, 4) + pixels.tobytes()
    parsed = parse_idx(data, expected_magic=IMAGES_MAGIC)
    assert parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, pixels)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"\x00\x00", "shorter than the header"),
        (struct.pack(">II", LABELS_MAGIC, 3) + bytes(3), "magic number 2049, expected 2051"),
        (struct.pack(">IIII", IMAGES_MAGIC, 2, 28, 28) + bytes(10), "needs 1584 bytes"),
        (struct.pack(">IIII", IMAGES_MAGIC, 1, 2, 2) + bytes(5), "needs 20 bytes"),
        (struct.pack(">III", IMAGES_MAGIC, 2, 28), "truncated inside its idx header"),
    ],
)
def test_parse_idx_rejects_malformed(data, match):
    with pytest.raises(DataFormatError, match=match):
        parse_idx(data, expected_magic=IMAGES_MAGIC)


def test_parse_idx_rejects_non_ubyte_type():
    data = struct.pack(">II", 0x00000D01, 1) + bytes(4)  # 0x0D = float
    with pytest.raises(DataFormatError, match="only unsigned-byte"):
        parse_idx(data)


def test_parse_idx_rejects_non_bytes():
    with pytest.raises(TypeError, match="data must be bytes"):
        parse_idx("not bytes")


def test_read_idx_rejects_corrupt_gzip(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(struct.pack(">II", LABELS_MAGIC, 100) + bytes(100))[:-12])
    with pytest.raises(DataFormatError, match="not a valid gzip file"):
        read_idx(path)


# --- PNG decoder -------------------------------------------------------------


def _paeth(left: int, up: int, upper_left: int) -> int:
    estimate = left + up - upper_left
    pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
    if pa <= pb and pa <= pc:
        return left
    return up if pb <= pc else upper_left


def _filter_row(kind: int, row: bytes, previous: bytes) -> bytes:
    out = bytearray()
    for i, value in enumerate(row):
        left = row[i - 1] if i else 0
        up = previous[i]
        upper_left = previous[i - 1] if i else 0
        predictor = [0, left, up, (left + up) // 2, _paeth(left, up, upper_left)][kind]
        out.append((value - predictor) % 256)
    return bytes(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _encode_png(
    bits: np.ndarray, filters: list[int], *, bit_depth: int = 1, interlace: int = 0
) -> bytes:
    height, width = bits.shape
    packed = np.packbits(bits.astype(np.uint8), axis=1)
    previous = bytes(packed.shape[1])
    raw = bytearray()
    for row, kind in zip(packed, filters, strict=True):
        row_bytes = row.tobytes()
        raw.append(kind)
        raw += _filter_row(kind, row_bytes, previous)
        previous = row_bytes
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, interlace)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("width", [105, 13, 8])
def test_decode_png_all_filter_types(width):
    rng = np.random.default_rng(width)
    bits = (rng.random((25, width)) < 0.3).astype(np.uint8)
    filters = [row % 5 for row in range(25)]
    decoded = decode_png_1bit(_encode_png(bits, filters))
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, bits)


def test_decode_png_rejects_other_bit_depth():
    data = _encode_png(np.zeros((4, 4), dtype=np.uint8), [0] * 4, bit_depth=8)
    with pytest.raises(DataFormatError, match="only 1-bit grayscale non-interlaced"):
        decode_png_1bit(data)


def test_decode_png_rejects_interlaced():
    data = _encode_png(np.zeros((4, 4), dtype=np.uint8), [0] * 4, interlace=1)
    with pytest.raises(DataFormatError, match="interlace 1"):
        decode_png_1bit(data)


def test_decode_png_rejects_bad_crc():
    data = bytearray(_encode_png(np.ones((4, 4), dtype=np.uint8), [0] * 4))
    data[20] ^= 0x01  # inside the IHDR body
    with pytest.raises(DataFormatError, match="bad CRC"):
        decode_png_1bit(bytes(data))


def test_decode_png_rejects_truncated_and_non_png():
    data = _encode_png(np.ones((4, 4), dtype=np.uint8), [0] * 4)
    with pytest.raises(DataFormatError, match="truncated"):
        decode_png_1bit(data[:-5])
    with pytest.raises(DataFormatError, match="not a PNG"):
        decode_png_1bit(b"GIF89a" + data[6:])


# --- Omniglot ----------------------------------------------------------------


@pytest.mark.parametrize(
    "subset, n_images, n_classes, n_alphabets",
    [
        ("background_small1", 2_720, 136, 5),
        ("background_small2", 3_120, 156, 5),
    ],
)
def test_omniglot_small_subsets(real_data, subset, n_images, n_classes, n_alphabets):
    omniglot = load_omniglot(subset)
    assert omniglot.images.shape == (n_images, 105, 105)
    assert omniglot.images.dtype == np.uint8
    assert set(np.unique(omniglot.images)) == {0, 1}
    assert 0.02 < omniglot.images.mean() < 0.2  # ink = 1 is the minority
    assert omniglot.labels.dtype == np.int64
    assert len(omniglot.class_names) == n_classes
    assert np.bincount(omniglot.labels).tolist() == [20] * n_classes
    assert len({name.split("/")[0] for name in omniglot.class_names}) == n_alphabets
    assert all(name.split("/")[1].startswith("character") for name in omniglot.class_names)


def test_omniglot_small1_first_class(real_data):
    omniglot = load_omniglot("background_small1")
    assert omniglot.class_names[0] == "Balinese/character01"
    assert omniglot.labels[:20].tolist() == [0] * 20


@pytest.mark.parametrize(
    "subset, n_images, n_classes", [("background", 19_280, 964), ("evaluation", 13_180, 659)]
)
def test_omniglot_full_sets_when_available(real_data, subset, n_images, n_classes):
    require_file("omniglot", f"images_{subset}.zip")
    omniglot = load_omniglot(subset)
    assert omniglot.images.shape == (n_images, 105, 105)
    assert len(omniglot.class_names) == n_classes


def test_omniglot_one_shot_runs(real_data):
    runs = load_omniglot_one_shot_runs()
    assert [run.name for run in runs] == [f"run{i:02d}" for i in range(1, 21)]
    for run in runs:
        assert run.training_images.shape == (20, 105, 105)
        assert run.test_images.shape == (20, 105, 105)
        assert run.training_images.dtype == np.uint8
        assert run.test_labels.dtype == np.int64
        assert sorted(run.test_labels.tolist()) == list(range(20))
    # run01/class_labels.txt maps test/item01.png to training/class08.png.
    assert runs[0].test_labels[0] == 7


# --- digits ------------------------------------------------------------------


def test_digits():
    digits = load_digits()
    assert digits.images.shape == (1_797, 8, 8)
    assert digits.images.dtype == np.uint8
    assert digits.images.max() == 16
    assert digits.labels.dtype == np.int64
    assert sorted(set(digits.labels.tolist())) == list(range(10))


# --- bad arguments -----------------------------------------------------------


@pytest.mark.parametrize(
    "loader, argument, value, valid",
    [
        (load_adult, "split", "val", "'all', 'train', 'test'"),
        (load_mnist, "split", "validation", "'train', 'test'"),
        (load_omniglot, "subset", "images_background", "'background_small1'"),
        (load_movielens, "variant", "10m", "'100k', '1m'"),
    ],
)
def test_loader_rejects_invalid_choice(loader, argument, value, valid):
    with pytest.raises(ValueError) as excinfo:
        loader(value)
    message = str(excinfo.value)
    assert f"{argument}={value!r}" in message
    assert valid in message


@pytest.mark.parametrize(
    "loader, argument",
    [
        (load_adult, "split"),
        (load_mnist, "split"),
        (load_omniglot, "subset"),
        (load_movielens, "variant"),
    ],
)
def test_loader_rejects_non_string_choice(loader, argument):
    with pytest.raises(TypeError, match=f"{argument} must be a str"):
        loader(1)


def test_loader_rejects_non_bool_download(real_data):
    with pytest.raises(TypeError, match="download must be a bool"):
        load_mnist("test", download="yes")


def test_take_split_rejects_unknown_split(criteo):
    with pytest.raises(ValueError, match="invalid split='validation'"):
        criteo.take_split("validation")


def test_take_split_without_split_is_rejected(real_data):
    amazon = load_amazon_employee_access()
    with pytest.raises(ValueError, match="has no fixed split"):
        amazon.take_split("train")


# --- dataclass validation ----------------------------------------------------


def _small_frame() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.DataFrame({"color": pd.Categorical(["red", "blue"]), "size": [1.0, 2.0]})
    return frame, pd.Series([0, 1], name="y")


def test_tabular_dataset_accepts_valid_input():
    frame, target = _small_frame()
    dataset = TabularDataset(
        name="t", frame=frame, target=target, categorical=["color"], numeric=["size"], task="binary"
    )
    assert dataset.other == []
    assert dataset.split_names == []


@pytest.mark.parametrize(
    "changes, error, match",
    [
        ({"target": pd.Series([0, 1, 1])}, ValueError, "target index"),
        ({"categorical": ["size"], "numeric": []}, ValueError, "must have dtype 'category'"),
        ({"numeric": ["color"], "categorical": []}, ValueError, "int or float dtype"),
        ({"numeric": ["missing"]}, ValueError, "not in the frame"),
        (
            {"categorical": ["color"], "numeric": ["size", "color"]},
            ValueError,
            "both categorical and numeric",
        ),
        ({"task": "ranking"}, ValueError, "invalid task='ranking'"),
        ({"frame": [[1, 2]]}, TypeError, "frame must be a pandas DataFrame"),
        ({"split": pd.Series(["train"])}, ValueError, "split must be a pandas Series"),
    ],
)
def test_tabular_dataset_rejects_invalid_input(changes, error, match):
    frame, target = _small_frame()
    arguments = dict(
        name="t", frame=frame, target=target, categorical=["color"], numeric=["size"], task="binary"
    )
    arguments.update(changes)
    with pytest.raises(error, match=match):
        TabularDataset(**arguments)


@pytest.mark.parametrize(
    "images, labels, class_names, match",
    [
        (np.zeros((2, 4, 4), dtype=np.float32), np.zeros(2, dtype=np.int64), None, "uint8"),
        (np.zeros((2, 16), dtype=np.uint8), np.zeros(2, dtype=np.int64), None, "uint8"),
        (np.zeros((2, 4, 4), dtype=np.uint8), np.zeros(2, dtype=np.int32), None, "int64"),
        (
            np.zeros((2, 4, 4), dtype=np.uint8),
            np.zeros(3, dtype=np.int64),
            None,
            "2 images but 3 labels",
        ),
        (np.zeros((2, 4, 4), dtype=np.uint8), np.array([0, 2]), ["a", "b"], "index class_names"),
    ],
)
def test_image_dataset_rejects_invalid_input(images, labels, class_names, match):
    with pytest.raises(ValueError, match=match):
        ImageDataset(name="x", images=images, labels=labels, class_names=class_names)
