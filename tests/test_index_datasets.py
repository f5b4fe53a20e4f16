"""Key sets for the learned indexes: synthetic generators, real-data keys and the SOSD loader.

The SOSD tests write small SOSD-format files (a uint64 count, then the keys)
into temporary data roots; the real 1.6 GB files are never needed. Compressed
cases need the optional package zstandard and are skipped without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (  # noqa: F401 (pytest fixtures)
    isolated_data_fixture,
    local_http_server,
    real_data_fixture,
    require_file,
)

from workbench.data import DATASETS, ChecksumError, DataFormatError, DataNotFoundError
from workbench.data import sosd as sosd_module
from workbench.data.registry import get_dataset_info
from workbench.data.sosd import SOSD_NAMES, load_sosd
from workbench.index import datasets as datasets_module
from workbench.index.datasets import (
    KEY_SETS,
    REAL_KEY_SETS,
    SOSD_KEY_SETS,
    SYNTHETIC_KEY_SETS,
    load_keys,
    real_keys,
    synthetic_keys,
)

TOP = 2**63
DTYPES = [np.uint64, np.int64, np.float64]
SOSD_NAME = "books_200M_uint64"


# --- synthetic keys ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SYNTHETIC_KEY_SETS)
def test_synthetic_keys_sorted_size_dtype(name, dtype):
    keys = synthetic_keys(name, 5_000, seed=7, dtype=dtype)
    assert keys.shape == (5_000,)
    assert keys.dtype == np.dtype(dtype)
    assert np.all(keys[1:] >= keys[:-1])
    assert keys.flags.c_contiguous


@pytest.mark.parametrize("name", SYNTHETIC_KEY_SETS)
def test_synthetic_keys_in_key_range(name):
    keys = synthetic_keys(name, 5_000, seed=3)
    assert int(keys[0]) >= 0
    assert int(keys[-1]) <= TOP


@pytest.mark.parametrize("name", [n for n in SYNTHETIC_KEY_SETS if n != "uniform_dense"])
def test_synthetic_keys_seeded(name):
    first = synthetic_keys(name, 2_000, seed=11)
    again = synthetic_keys(name, 2_000, seed=11)
    other = synthetic_keys(name, 2_000, seed=12)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_uniform_dense_is_consecutive():
    keys = synthetic_keys("uniform_dense", 1_000, seed=5)
    np.testing.assert_array_equal(keys, np.arange(42, 1_042, dtype=np.uint64))


def test_uniform_spreads_over_63_bits():
    keys = synthetic_keys("uniform", 10_000, seed=1)
    assert int(keys[-1]) < TOP
    assert int(keys[0]) < TOP // 100
    assert int(keys[-1]) > TOP // 100 * 99


@pytest.mark.parametrize("name", ["lognormal", "normal"])
def test_min_max_scaling_matches_docstring(name):
    n, seed = 3_000, 4
    rng = np.random.default_rng(seed)
    draws = rng.lognormal(0.0, 2.0, n) if name == "lognormal" else rng.standard_normal(n)
    expected = np.sort((draws - draws.min()) / (draws.max() - draws.min()) * 2.0**63)
    keys = synthetic_keys(name, n, seed=seed)
    np.testing.assert_array_equal(keys, expected.astype(np.uint64))
    assert int(keys[0]) == 0
    assert int(keys[-1]) == TOP


def test_lognormal_maximum_per_dtype():
    assert int(synthetic_keys("lognormal", 1_000, dtype=np.uint64)[-1]) == TOP
    assert int(synthetic_keys("lognormal", 1_000, dtype=np.int64)[-1]) == TOP - 1
    assert synthetic_keys("lognormal", 1_000, dtype=np.float64)[-1] == 2.0**63


def test_lognormal_is_skewed():
    keys = synthetic_keys("lognormal", 10_000, seed=2).astype(np.float64)
    # sigma 2: the median draw is about e^0 = 1 against a maximum near e^8, so most keys
    # sit in the bottom percent of the range.
    assert np.median(keys) < 0.01 * 2.0**63


def _cluster_sizes(keys: np.ndarray, threshold: int) -> np.ndarray:
    breaks = np.flatnonzero(np.diff(keys) > threshold) + 1
    return np.diff(np.concatenate([[0], breaks, [keys.size]]))


def test_osm_like_gaps_are_heavy_tailed():
    keys = synthetic_keys("osm_like", 20_000, seed=0)
    gaps = np.diff(keys).astype(np.float64)
    assert gaps.max() / np.median(gaps) > 1e9
    uniform_gaps = np.diff(synthetic_keys("uniform", 20_000, seed=0)).astype(np.float64)
    assert uniform_gaps.max() / np.median(uniform_gaps) < 100


def test_osm_like_is_clustered():
    n = 20_000
    keys = synthetic_keys("osm_like", n, seed=1)
    # Gaps inside a cluster average at most 2^20; gaps between clusters are about 2^63 / 200.
    large = np.diff(keys) > 2**36
    assert large.sum() <= n // 100
    assert large.sum() >= n // 200
    sizes = _cluster_sizes(keys, 2**36)
    assert sizes.max() > 10 * np.median(sizes)


class _AllKeysInFirstCluster:
    """A Generator whose multinomial puts every key into the first cluster."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def multinomial(self, n, pvals):
        return np.array([n] + [0] * (len(pvals) - 1))

    def __getattr__(self, name):
        return getattr(self._rng, name)


def test_osm_like_with_empty_clusters():
    keys = datasets_module._osm_like_keys(_AllKeysInFirstCluster(0), 250)
    assert keys.shape == (250,)
    assert np.all(keys[1:] > keys[:-1])
    assert int(keys[-1]) < TOP
    assert int(keys[-1] - keys[0]) < 250 * 2**21


def test_synthetic_keys_empty_and_single():
    for name in SYNTHETIC_KEY_SETS:
        for dtype in DTYPES:
            empty = synthetic_keys(name, 0, dtype=dtype)
            assert empty.shape == (0,)
            assert empty.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(synthetic_keys("lognormal", 1), [0])
    assert synthetic_keys("osm_like", 1).shape == (1,)


def test_synthetic_keys_accept_numpy_ints():
    keys = synthetic_keys("uniform", np.int64(10), seed=np.uint32(3), dtype="uint64")
    np.testing.assert_array_equal(keys, synthetic_keys("uniform", 10, seed=3))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"name": "zipf", "n": 10}, ValueError, r"invalid name='zipf'.*'osm_like'"),
        ({"name": 3, "n": 10}, TypeError, "name must be a str"),
        ({"name": "uniform", "n": -1}, ValueError, r"invalid n=-1"),
        ({"name": "uniform", "n": 10.0}, TypeError, r"n must be a non-negative int.*10\.0"),
        ({"name": "uniform", "n": True}, TypeError, "n must be a non-negative int"),
        ({"name": "uniform", "n": 10, "seed": -3}, ValueError, r"invalid seed=-3"),
        ({"name": "uniform", "n": 10, "seed": None}, TypeError, "seed must be"),
        ({"name": "uniform", "n": 10, "dtype": np.float32}, ValueError, "invalid dtype"),
        ({"name": "uniform", "n": 10, "dtype": "not a dtype"}, TypeError, "dtype must be"),
    ],
)
def test_synthetic_keys_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        synthetic_keys(**kwargs)


# --- keys from real data -----------------------------------------------------------


def test_movielens_timestamps_match_ratings_file(real_data):
    path = require_file("movielens_100k", "u.data")
    require_file("movielens_100k", "u.user")
    require_file("movielens_100k", "u.item")
    column = np.loadtxt(path, dtype=np.int64, usecols=3)

    keys = real_keys("movielens_timestamps")
    assert keys.dtype == np.uint64
    assert keys.size == column.size
    assert keys.size == 100_000
    np.testing.assert_array_equal(keys, np.sort(column).astype(np.uint64))
    assert keys.size - np.unique(keys).size == 50_718


def test_movielens_user_item_keys_are_unique(real_data):
    for file_name in ("u.data", "u.user", "u.item"):
        require_file("movielens_100k", file_name)
    keys = real_keys("movielens_user_item")
    assert keys.size == 100_000
    assert np.unique(keys).size == keys.size
    assert np.all(keys[1:] > keys[:-1])
    users = keys >> np.uint64(32)
    items = keys & np.uint64(2**32 - 1)
    assert int(users.min()) == 1
    assert int(users.max()) == 943
    assert int(items.max()) == 1_682


def test_adult_fnlwgt_keys(real_data):
    require_file("adult", "adult.data.gz")
    require_file("adult", "adult.test.gz")
    keys = real_keys("adult_fnlwgt")
    assert keys.dtype == np.uint64
    assert keys.size == 48_842
    assert keys.size - np.unique(keys).size == 20_319
    assert np.all(keys[1:] >= keys[:-1])


def test_real_keys_sample_is_seeded_subset(real_data):
    for file_name in ("u.data", "u.user", "u.item"):
        require_file("movielens_100k", file_name)
    full = real_keys("movielens_user_item")
    sample = real_keys("movielens_user_item", 500, seed=3)
    assert sample.shape == (500,)
    assert np.all(sample[1:] > sample[:-1])
    assert np.isin(sample, full).all()
    np.testing.assert_array_equal(sample, real_keys("movielens_user_item", 500, seed=3))
    assert not np.array_equal(sample, real_keys("movielens_user_item", 500, seed=4))
    with pytest.raises(ValueError, match=r"n=100001.*only 100000 keys"):
        real_keys("movielens_user_item", 100_001)


def test_real_keys_offline_missing_files(isolated_data, monkeypatch):
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match="movielens_100k/u.data"):
        real_keys("movielens_timestamps")


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("netflix",), {}, ValueError, r"invalid name='netflix'.*'adult_fnlwgt'"),
        (("adult_fnlwgt", -2), {}, ValueError, r"invalid n=-2"),
        (("adult_fnlwgt", "10"), {}, TypeError, "n must be a non-negative int"),
        (("adult_fnlwgt",), {"seed": 1.5}, TypeError, "seed must be"),
        (("adult_fnlwgt",), {"download": "yes"}, TypeError, "download must be a bool"),
    ],
)
def test_real_keys_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        real_keys(*args, **kwargs)


# --- SOSD files --------------------------------------------------------------------


def _sosd_bytes(keys: np.ndarray, count: int | None = None) -> bytes:
    header = np.array([keys.size if count is None else count], dtype="<u8").tobytes()
    return header + np.asarray(keys, dtype="<u8").tobytes()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture(name="sosd_keys")
def sosd_keys_fixture() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.unique(rng.integers(0, 2**64 - 1, size=10_000, dtype=np.uint64))


@pytest.fixture(name="sosd_file")
def sosd_file_fixture(isolated_data, sosd_keys, monkeypatch) -> Path:
    """Write the uncompressed SOSD file of SOSD_NAME under the data root, its md5 registered."""
    root, _ = isolated_data
    data = _sosd_bytes(sosd_keys)
    path = root / "sosd" / SOSD_NAME
    path.parent.mkdir()
    path.write_bytes(data)
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))
    return path


def test_load_sosd_all_keys(sosd_file, sosd_keys):
    keys = load_sosd(SOSD_NAME)
    assert keys.dtype == np.uint64
    np.testing.assert_array_equal(keys, sosd_keys)
    assert not isinstance(keys, np.memmap)


def test_load_sosd_first_n(sosd_file, sosd_keys):
    keys = load_sosd(SOSD_NAME, 1_000)
    np.testing.assert_array_equal(keys, sosd_keys[:1_000])
    np.testing.assert_array_equal(load_sosd(SOSD_NAME, 10, sample="first"), sosd_keys[:10])
    assert load_sosd(SOSD_NAME, 0).shape == (0,)


def test_load_sosd_random_sample(sosd_file, sosd_keys):
    sample = load_sosd(SOSD_NAME, 2_000, sample="random", seed=5)
    assert sample.shape == (2_000,)
    assert sample.dtype == np.uint64
    assert np.all(sample[1:] > sample[:-1])
    assert np.isin(sample, sosd_keys).all()
    # A random sample spans the file, unlike the first n keys.
    assert sample[-1] > sosd_keys[sosd_keys.size * 9 // 10]
    np.testing.assert_array_equal(sample, load_sosd(SOSD_NAME, 2_000, sample="random", seed=5))
    assert not np.array_equal(sample, load_sosd(SOSD_NAME, 2_000, sample="random", seed=6))
    everything = load_sosd(SOSD_NAME, sosd_keys.size, sample="random")
    np.testing.assert_array_equal(everything, sosd_keys)


def test_load_sosd_keeps_duplicates(isolated_data, monkeypatch):
    root, _ = isolated_data
    keys = np.repeat(np.arange(100, dtype=np.uint64), 3)
    data = _sosd_bytes(keys)
    (root / "sosd").mkdir()
    (root / "sosd" / SOSD_NAME).write_bytes(data)
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))
    np.testing.assert_array_equal(load_sosd(SOSD_NAME), keys)


def test_load_sosd_n_above_count(sosd_file, sosd_keys):
    too_many = sosd_keys.size + 1
    with pytest.raises(ValueError, match=rf"n={too_many}.*contains only {sosd_keys.size}"):
        load_sosd(SOSD_NAME, too_many)


def test_load_sosd_header_count_mismatch(isolated_data, sosd_keys):
    root, _ = isolated_data
    path = root / "sosd" / SOSD_NAME
    path.parent.mkdir()
    path.write_bytes(_sosd_bytes(sosd_keys, count=sosd_keys.size + 5))
    with pytest.raises(DataFormatError, match=rf"gives the count {sosd_keys.size + 5}") as excinfo:
        load_sosd(SOSD_NAME, 10)
    assert isinstance(excinfo.value, ValueError)
    assert str(path) in str(excinfo.value)


@pytest.mark.parametrize("data", [b"", b"\x01\x00\x00", _sosd_bytes(np.arange(4)) + b"\x00"])
def test_load_sosd_bad_file_size(isolated_data, data):
    root, _ = isolated_data
    (root / "sosd").mkdir()
    (root / "sosd" / SOSD_NAME).write_bytes(data)
    with pytest.raises(DataFormatError, match="is not an SOSD uint64 key file"):
        load_sosd(SOSD_NAME)


def test_load_sosd_md5_mismatch(isolated_data, sosd_keys):
    root, _ = isolated_data
    (root / "sosd").mkdir()
    data = _sosd_bytes(sosd_keys)
    (root / "sosd" / SOSD_NAME).write_bytes(data)
    with pytest.raises(ChecksumError) as excinfo:
        load_sosd(SOSD_NAME, 10)
    message = str(excinfo.value)
    assert sosd_module.SOSD_MD5[SOSD_NAME] in message
    assert _md5(data) in message


def test_load_sosd_unsorted_file(isolated_data, monkeypatch):
    root, _ = isolated_data
    (root / "sosd").mkdir()
    data = _sosd_bytes(np.array([5, 9, 3, 12], dtype=np.uint64))
    (root / "sosd" / SOSD_NAME).write_bytes(data)
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))
    with pytest.raises(DataFormatError, match="is not sorted"):
        load_sosd(SOSD_NAME)


def test_load_sosd_offline_missing_file(isolated_data, monkeypatch):
    root, downloads = isolated_data
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    with pytest.raises(DataNotFoundError) as excinfo:
        load_sosd("wiki_ts_200M_uint64", 100)
    message = str(excinfo.value)
    assert str(root / "sosd" / "wiki_ts_200M_uint64.zst") in message
    assert str(root / "sosd" / "wiki_ts_200M_uint64") in message
    assert str(downloads / "sosd" / "wiki_ts_200M_uint64") in message
    assert "WORKBENCH_OFFLINE=1" in message
    assert "doi:10.7910/DVN/JGVF9A/SVN8PI" in message


def test_load_sosd_without_download(isolated_data):
    with pytest.raises(DataNotFoundError, match="download=False"):
        load_sosd("fb_200M_uint64", download=False)


def test_load_sosd_missing_zstandard(isolated_data, monkeypatch):
    root, _ = isolated_data
    (root / "sosd").mkdir()
    (root / "sosd" / f"{SOSD_NAME}.zst").write_bytes(b"not decompressed here")
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(ImportError, match="pip install zstandard"):
        load_sosd(SOSD_NAME, 10)
    assert not (root / "sosd" / SOSD_NAME).exists()


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (("books_800M_uint64",), {}, ValueError, r"invalid name='books_800M_uint64'.*wiki_ts"),
        ((SOSD_NAME, -1), {}, ValueError, r"invalid n=-1"),
        ((SOSD_NAME, 2.5), {}, TypeError, r"n must be a non-negative int.*2\.5"),
        ((SOSD_NAME, 10), {"sample": "last"}, ValueError, r"invalid sample='last'.*'random'"),
        ((SOSD_NAME, 10), {"seed": -1}, ValueError, r"invalid seed=-1"),
        ((SOSD_NAME,), {"download": 1}, TypeError, "download must be a bool"),
    ],
)
def test_load_sosd_rejects_bad_arguments(isolated_data, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_sosd(*args, **kwargs)


def test_sosd_registry_entry():
    info = get_dataset_info("sosd")
    assert info.loader == "load_sosd"
    assert info.file_names == [f"{name}.zst" for name in SOSD_NAMES]
    for remote in info.files:
        assert remote.url.startswith(
            "https://dataverse.harvard.edu/api/access/datafile/:persistentId"
            "?persistentId=doi:10.7910/DVN/JGVF9A/"
        )
    assert set(sosd_module.SOSD_MD5) == set(SOSD_NAMES)


# --- SOSD files compressed with zstd (optional package) --------------------------------


@pytest.fixture(name="zstandard")
def zstandard_fixture():
    return pytest.importorskip("zstandard")


def _write_zst(path: Path, data: bytes, zstandard) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))


def test_load_sosd_decompresses_zst(isolated_data, sosd_keys, monkeypatch, zstandard):
    root, _ = isolated_data
    data = _sosd_bytes(sosd_keys)
    compressed = root / "sosd" / f"{SOSD_NAME}.zst"
    _write_zst(compressed, data, zstandard)
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))

    np.testing.assert_array_equal(load_sosd(SOSD_NAME, 100), sosd_keys[:100])
    decompressed = root / "sosd" / SOSD_NAME
    assert decompressed.read_bytes() == data
    assert sorted(p.name for p in decompressed.parent.iterdir()) == [SOSD_NAME, compressed.name]

    compressed.unlink()
    np.testing.assert_array_equal(load_sosd(SOSD_NAME), sosd_keys)


def test_load_sosd_zst_md5_mismatch(isolated_data, sosd_keys, zstandard):
    root, _ = isolated_data
    _write_zst(root / "sosd" / f"{SOSD_NAME}.zst", _sosd_bytes(sosd_keys), zstandard)
    with pytest.raises(ChecksumError, match="expected md5"):
        load_sosd(SOSD_NAME, 10)
    assert [p.name for p in (root / "sosd").iterdir()] == [f"{SOSD_NAME}.zst"]


def test_load_sosd_truncated_zst(isolated_data, sosd_keys, zstandard):
    root, _ = isolated_data
    compressed = root / "sosd" / f"{SOSD_NAME}.zst"
    _write_zst(compressed, _sosd_bytes(sosd_keys), zstandard)
    compressed.write_bytes(compressed.read_bytes()[:-500])
    with pytest.raises(DataFormatError, match="content decompressed from .*truncated") as excinfo:
        load_sosd(SOSD_NAME, 10)
    assert str(compressed) in str(excinfo.value)
    assert [p.name for p in (root / "sosd").iterdir()] == [compressed.name]


def test_load_sosd_not_zstd_data(isolated_data, zstandard):
    root, _ = isolated_data
    compressed = root / "sosd" / f"{SOSD_NAME}.zst"
    compressed.parent.mkdir()
    compressed.write_bytes(b"<html>an error page, not zstd data</html>" * 10)
    with pytest.raises(DataFormatError, match="cannot decompress"):
        load_sosd(SOSD_NAME, 10)
    assert [p.name for p in (root / "sosd").iterdir()] == [compressed.name]


def test_load_sosd_multi_frame_zst(isolated_data, sosd_keys, monkeypatch, zstandard):
    root, _ = isolated_data
    data = _sosd_bytes(sosd_keys)
    compressor = zstandard.ZstdCompressor()
    compressed = root / "sosd" / f"{SOSD_NAME}.zst"
    compressed.parent.mkdir()
    compressed.write_bytes(compressor.compress(data[:30_000]) + compressor.compress(data[30_000:]))
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))
    np.testing.assert_array_equal(load_sosd(SOSD_NAME), sosd_keys)


def test_load_sosd_zst_header_mismatch(isolated_data, sosd_keys, zstandard):
    root, _ = isolated_data
    compressed = root / "sosd" / f"{SOSD_NAME}.zst"
    _write_zst(compressed, _sosd_bytes(sosd_keys, count=3), zstandard)
    with pytest.raises(DataFormatError, match="decompressed from .* gives the count 3") as excinfo:
        load_sosd(SOSD_NAME, 10)
    assert str(compressed) in str(excinfo.value)


def test_load_sosd_read_only_folder(
    isolated_data, sosd_keys, monkeypatch, zstandard
):
    root, downloads = isolated_data
    data = _sosd_bytes(sosd_keys)
    _write_zst(root / "sosd" / f"{SOSD_NAME}.zst", data, zstandard)
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))
    # Root may write into read-only folders, so the read-only check is simulated.
    real_access = os.access
    read_only = root / "sosd"

    def access(path, mode):
        return Path(path) != read_only and real_access(path, mode)

    monkeypatch.setattr(sosd_module.os, "access", access)
    np.testing.assert_array_equal(load_sosd(SOSD_NAME, 50), sosd_keys[:50])
    assert (downloads / "sosd" / SOSD_NAME).read_bytes() == data
    assert not (root / "sosd" / SOSD_NAME).exists()


def test_load_sosd_downloads_and_decompresses(
    isolated_data, sosd_keys, monkeypatch, zstandard, tmp_path
):
    _, downloads = isolated_data
    served = tmp_path / "served"
    data = _sosd_bytes(sosd_keys)
    _write_zst(served / "books.zst", data, zstandard)
    monkeypatch.setitem(sosd_module.SOSD_MD5, SOSD_NAME, _md5(data))

    with local_http_server(served) as base_url:
        info = DATASETS["sosd"]
        remote = dataclasses.replace(info.file(f"{SOSD_NAME}.zst"), url=f"{base_url}/books.zst")
        files = tuple(remote if f.name == remote.name else f for f in info.files)
        monkeypatch.setitem(DATASETS, "sosd", dataclasses.replace(info, files=files))
        keys = load_sosd(SOSD_NAME, 300, sample="random", seed=1)

    assert (downloads / "sosd" / f"{SOSD_NAME}.zst").is_file()
    assert (downloads / "sosd" / SOSD_NAME).read_bytes() == data
    assert np.isin(keys, sosd_keys).all()
    assert keys.size == 300


# --- one entry point ---------------------------------------------------------------


def test_key_set_names():
    assert KEY_SETS == SYNTHETIC_KEY_SETS + REAL_KEY_SETS + SOSD_KEY_SETS
    assert len(set(KEY_SETS)) == len(KEY_SETS)
    assert "movielens_timestamps" in REAL_KEY_SETS
    assert SOSD_KEY_SETS == SOSD_NAMES


def test_load_keys_synthetic():
    np.testing.assert_array_equal(
        load_keys("osm_like", 1_000, seed=2), synthetic_keys("osm_like", 1_000, seed=2)
    )
    with pytest.raises(ValueError, match="n is required for the synthetic key set 'normal'"):
        load_keys("normal")


def test_load_keys_real(real_data):
    for file_name in ("u.data", "u.user", "u.item"):
        require_file("movielens_100k", file_name)
    np.testing.assert_array_equal(
        load_keys("movielens_timestamps", 50, seed=9),
        real_keys("movielens_timestamps", 50, seed=9),
    )


def test_load_keys_sosd_samples_randomly(sosd_file, sosd_keys):
    np.testing.assert_array_equal(
        load_keys(SOSD_NAME, 100, seed=3), load_sosd(SOSD_NAME, 100, sample="random", seed=3)
    )
    np.testing.assert_array_equal(load_keys(SOSD_NAME), sosd_keys)


def test_load_keys_rejects_unknown_name():
    with pytest.raises(ValueError) as excinfo:
        load_keys("osm")
    message = str(excinfo.value)
    assert "invalid name='osm'" in message
    assert "'osm_like'" in message
    assert "'osm_cellids_200M_uint64'" in message
    assert "'movielens_timestamps'" in message
