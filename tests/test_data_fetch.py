"""Tests of fetch_file: lookup order, checksum errors, offline errors and downloads.

Downloads go only to a local http.server on 127.0.0.1 that each test starts
and stops, serving files the test wrote into a temporary folder.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import shutil
import zipfile
from pathlib import Path

import pytest
from data_fixtures import (  # noqa: F401 (pytest fixtures)
    REPO_ROOT,
    isolated_data_fixture,
    local_http_server,
    real_data_fixture,
    sha256_of,
)

from workbench.data import (
    DATASETS,
    ChecksumError,
    DataNotFoundError,
    RemoteFile,
    data_roots,
    fetch_file,
    get_dataset_info,
    load_adult,
    load_mnist,
)
from workbench.data import fetch as fetch_module
from workbench.data import verify as verify_module

TEST_DATASET = "mnist"
TEST_FILE = "train-images-idx3-ubyte.gz"


def _copy_real(real_root: Path, target_root: Path, dataset: str, name: str) -> Path:
    target = target_root / dataset / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real_root / dataset / name, target)
    return target


def _register(monkeypatch, dataset: str, **changes) -> RemoteFile:
    """Replace a registry entry with a modified copy and return it.

    The entry is ``changes["name"]`` of ``dataset``, or TEST_FILE without a name.
    """
    info = DATASETS[dataset]
    name = changes.pop("name", TEST_FILE)
    remote = dataclasses.replace(info.file(name), **changes)
    files = tuple(remote if f.name == name else f for f in info.files)
    monkeypatch.setitem(DATASETS, dataset, dataclasses.replace(info, files=files))
    return remote


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


# --- roots and lookup --------------------------------------------------------


def test_data_roots_env_first_then_repository(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    assert data_roots() == [tmp_path, REPO_ROOT / "data"]


def test_data_roots_without_env(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DATA", raising=False)
    assert data_roots() == [REPO_ROOT / "data"]
    monkeypatch.setenv("WORKBENCH_DATA", "  ")
    assert data_roots() == [REPO_ROOT / "data"]


def test_repository_data_dir_is_repo_data():
    assert fetch_module.repository_data_dir() == REPO_ROOT / "data"


def test_fetch_returns_first_root_copy(real_data, isolated_data):
    root, downloads = isolated_data
    first = _copy_real(real_data, root, "mnist", "t10k-labels-idx1-ubyte.gz")
    _copy_real(real_data, downloads, "mnist", "t10k-labels-idx1-ubyte.gz")
    assert fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False) == first


def test_fetch_falls_back_to_repository_folder(real_data, isolated_data):
    _, downloads = isolated_data
    second = _copy_real(real_data, downloads, "mnist", "t10k-labels-idx1-ubyte.gz")
    assert fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False) == second


def test_fetch_accepts_regzipped_copy(real_data, isolated_data):
    root, _ = isolated_data
    content = gzip.decompress((real_data / "adult" / "adult.data.gz").read_bytes())
    target = root / "adult" / "adult.data.gz"
    target.parent.mkdir()
    target.write_bytes(gzip.compress(content, compresslevel=1, mtime=12345))
    assert fetch_file("adult", "adult.data.gz", download=False) == target


def test_fetch_accepts_uncompressed_copy(real_data, isolated_data):
    root, _ = isolated_data
    target = root / "give_me_some_credit" / "cs-training.csv"
    target.parent.mkdir()
    with zipfile.ZipFile(real_data / "give_me_some_credit" / "cs-training.csv.zip") as archive:
        target.write_bytes(archive.read("cs-training.csv"))
    assert fetch_file("give_me_some_credit", "cs-training.csv.zip", download=False) == target


def test_verification_is_cached_until_file_changes(real_data, isolated_data, monkeypatch):
    root, _ = isolated_data
    path = _copy_real(real_data, root, "mnist", "t10k-labels-idx1-ubyte.gz")
    calls = []
    original = verify_module.file_digest
    monkeypatch.setattr(
        verify_module, "file_digest", lambda *a, **k: calls.append(a) or original(*a, **k)
    )

    fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False)
    fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False)
    assert len(calls) == 1

    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ChecksumError):
        fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False)


# --- checksum errors ---------------------------------------------------------


def test_corrupt_file_raises_checksum_error(real_data, isolated_data):
    root, _ = isolated_data
    path = _copy_real(real_data, root, "mnist", "t10k-labels-idx1-ubyte.gz")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(ChecksumError) as excinfo:
        fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False)
    message = str(excinfo.value)
    assert "mnist/t10k-labels-idx1-ubyte.gz" in message
    assert str(path) in message
    assert "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" in message
    assert sha256_of(bytes(data)) in message
    assert "delete it" in message


def test_truncated_gzip_raises_checksum_error_not_parser_error(real_data, isolated_data):
    root, _ = isolated_data
    path = _copy_real(real_data, root, "adult", "adult.data.gz")
    path.write_bytes(path.read_bytes()[:200_000])
    _copy_real(real_data, root, "adult", "adult.test.gz")

    with pytest.raises(ChecksumError) as excinfo:
        load_adult()
    message = str(excinfo.value)
    assert "adult/adult.data.gz" in message
    assert "fb986d3609cdf068a1c234ed2695603b74c66c4be723467d9d69542024847442" in message


def test_corrupt_mnist_images_raise_checksum_error(real_data, isolated_data):
    root, _ = isolated_data
    path = _copy_real(real_data, root, "mnist", "t10k-images-idx3-ubyte.gz")
    _copy_real(real_data, root, "mnist", "t10k-labels-idx1-ubyte.gz")
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist("test")


def test_corrupt_uncompressed_copy_raises_checksum_error(real_data, isolated_data):
    root, _ = isolated_data
    target = root / "give_me_some_credit" / "cs-training.csv"
    target.parent.mkdir()
    target.write_text("not the credit data\n")
    with pytest.raises(ChecksumError) as excinfo:
        fetch_file("give_me_some_credit", "cs-training.csv.zip", download=False)
    message = str(excinfo.value)
    assert "1bd46da486a5708c58c7b01a034fae2a13b327f6f7b62ea7ba4fe3b5824b24ac" in message
    assert "downloaded by hand" in message


# --- missing files -----------------------------------------------------------


def test_missing_file_without_download_names_paths_and_url(isolated_data):
    root, downloads = isolated_data
    with pytest.raises(DataNotFoundError) as excinfo:
        fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download=False)
    message = str(excinfo.value)
    assert str(root / "mnist" / "t10k-labels-idx1-ubyte.gz") in message
    assert str(downloads / "mnist" / "t10k-labels-idx1-ubyte.gz") in message
    assert "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz" in message
    assert "download=False" in message
    assert isinstance(excinfo.value, FileNotFoundError)


def test_offline_variable_disables_download(isolated_data, monkeypatch):
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match="WORKBENCH_OFFLINE=1"):
        fetch_file("omniglot", "images_evaluation.zip")


def test_invalid_offline_value_is_rejected(isolated_data, monkeypatch):
    monkeypatch.setenv("WORKBENCH_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="WORKBENCH_OFFLINE='maybe'"):
        fetch_file("omniglot", "images_evaluation.zip")


def test_missing_kaggle_file_explains_manual_download(isolated_data):
    root, _ = isolated_data
    with pytest.raises(DataNotFoundError) as excinfo:
        fetch_file("give_me_some_credit", "cs-training.csv.zip")
    message = str(excinfo.value)
    assert "manual download" in message
    assert "https://www.kaggle.com/c/GiveMeSomeCredit/data" in message
    assert str(root / "give_me_some_credit" / "cs-training.csv.zip") in message
    assert "cs-training.csv is accepted" in message


# --- argument checks -----------------------------------------------------------


def test_fetch_rejects_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        fetch_file("nope", "x")


def test_fetch_rejects_unknown_file():
    with pytest.raises(ValueError, match="invalid file_name 'x'"):
        fetch_file("mnist", "x")


def test_fetch_rejects_non_bool_download():
    with pytest.raises(TypeError, match="download must be a bool"):
        fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", download="no")


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_fetch_rejects_non_positive_timeout(timeout):
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", timeout=timeout)


@pytest.mark.parametrize("timeout", ["10", True, None])
def test_fetch_rejects_non_number_timeout(timeout):
    with pytest.raises(TypeError, match="timeout must be a number"):
        fetch_file("mnist", "t10k-labels-idx1-ubyte.gz", timeout=timeout)


# --- downloads from a local server ------------------------------------------------


@pytest.fixture
def served(tmp_path):
    """A folder served over HTTP on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    with local_http_server(folder) as base_url:
        yield folder, base_url


def test_download_lands_and_verifies(isolated_data, served, monkeypatch):
    _, downloads = isolated_data
    folder, base_url = served
    body = b"a small stand-in for the MNIST training images\n" * 100
    (folder / "file.gz").write_bytes(body)
    _register(
        monkeypatch, TEST_DATASET, url=f"{base_url}/file.gz", sha256=(sha256_of(body),), mirrors=()
    )

    path = fetch_file(TEST_DATASET, TEST_FILE)
    assert path == downloads / TEST_DATASET / TEST_FILE
    assert path.read_bytes() == body
    assert _leftovers(downloads) == [TEST_FILE]

    (folder / "file.gz").unlink()
    assert fetch_file(TEST_DATASET, TEST_FILE) == path


def test_download_with_wrong_digest_leaves_no_file(isolated_data, served, monkeypatch):
    _, downloads = isolated_data
    folder, base_url = served
    (folder / "file.gz").write_bytes(b"tampered content")
    expected = sha256_of(b"the real content")
    _register(monkeypatch, TEST_DATASET, url=f"{base_url}/file.gz", sha256=(expected,), mirrors=())

    with pytest.raises(ChecksumError) as excinfo:
        fetch_file(TEST_DATASET, TEST_FILE)
    message = str(excinfo.value)
    assert expected in message
    assert sha256_of(b"tampered content") in message
    assert f"{base_url}/file.gz" in message
    assert _leftovers(downloads) == []


def test_download_gzips_uncompressed_source(isolated_data, served, monkeypatch):
    _, downloads = isolated_data
    folder, base_url = served
    content = b"39, State-gov, 77516, Bachelors, 13, Never-married\n" * 50
    (folder / "adult.data").write_bytes(content)
    _register(
        monkeypatch,
        "adult",
        name="adult.data.gz",
        url=f"{base_url}/adult.data",
        content_sha256=(sha256_of(content),),
    )

    path = fetch_file("adult", "adult.data.gz")
    assert path == downloads / "adult" / "adult.data.gz"
    assert gzip.decompress(path.read_bytes()) == content
    assert _leftovers(downloads) == ["adult.data.gz"]

    verify_module.clear_verification_cache()
    assert fetch_file("adult", "adult.data.gz", download=False) == path


def test_download_tries_mirror_after_http_error(isolated_data, served, monkeypatch):
    folder, base_url = served
    body = b"mirror copy"
    (folder / "mirror.bin").write_bytes(body)
    _register(
        monkeypatch,
        TEST_DATASET,
        url=f"{base_url}/missing.bin",
        mirrors=(f"{base_url}/mirror.bin",),
        sha256=(sha256_of(body),),
    )
    assert fetch_file(TEST_DATASET, TEST_FILE).read_bytes() == body


def test_download_http_error_raises_not_found(isolated_data, served, monkeypatch):
    _, downloads = isolated_data
    _, base_url = served
    _register(
        monkeypatch,
        TEST_DATASET,
        url=f"{base_url}/missing.bin",
        mirrors=(),
        sha256=(sha256_of(b"x"),),
    )
    with pytest.raises(DataNotFoundError) as excinfo:
        fetch_file(TEST_DATASET, TEST_FILE)
    message = str(excinfo.value)
    assert f"{base_url}/missing.bin" in message
    assert "HTTP error 404" in message
    assert _leftovers(downloads) == []


def test_download_timeout_raises_not_found(isolated_data, served, monkeypatch):
    _, downloads = isolated_data
    folder, base_url = served
    (folder / "slow.bin").write_bytes(b"late")
    _register(
        monkeypatch,
        TEST_DATASET,
        url=f"{base_url}/slow/slow.bin",
        mirrors=(),
        sha256=(sha256_of(b"late"),),
    )
    with pytest.raises(DataNotFoundError, match="timed out"):
        fetch_file(TEST_DATASET, TEST_FILE, timeout=0.3)
    assert _leftovers(downloads) == []


def test_incomplete_download_is_discarded(isolated_data, served, monkeypatch):
    _, downloads = isolated_data
    folder, base_url = served
    (folder / "part.bin").write_bytes(b"only part of the body")
    _register(
        monkeypatch,
        TEST_DATASET,
        url=f"{base_url}/short/part.bin",
        mirrors=(),
        sha256=(sha256_of(b"only part of the body"),),
    )
    with pytest.raises(DataNotFoundError, match="download failed"):
        fetch_file(TEST_DATASET, TEST_FILE, timeout=5)
    assert _leftovers(downloads) == []


def test_download_without_digest_warns(isolated_data, served, monkeypatch, caplog):
    folder, base_url = served
    (folder / "dac.tar.gz").write_bytes(b"unverified bytes")
    _register(
        monkeypatch, "criteo_dac_sample", name="dac_sample.tar.gz", url=f"{base_url}/dac.tar.gz"
    )
    with caplog.at_level(logging.WARNING, logger="workbench.data"):
        path = fetch_file("criteo_dac_sample", "dac_sample.tar.gz")
    assert path.read_bytes() == b"unverified bytes"
    assert "no checksum is registered" in caplog.text
    assert sha256_of(b"unverified bytes") in caplog.text


def test_download_rejects_non_http_url(isolated_data, tmp_path, monkeypatch):
    source = tmp_path / "local.bin"
    source.write_bytes(b"x")
    _register(monkeypatch, TEST_DATASET, url=source.as_uri(), mirrors=(), sha256=(sha256_of(b"x"),))
    with pytest.raises(ValueError, match="only http and https"):
        fetch_file(TEST_DATASET, TEST_FILE)


def test_manual_file_is_never_downloaded(isolated_data, served, monkeypatch):
    folder, base_url = served
    (folder / "train.csv.gz").write_bytes(b"x")
    _register(
        monkeypatch, "amazon_employee_access", name="train.csv.gz", url=f"{base_url}/train.csv.gz"
    )
    with pytest.raises(DataNotFoundError, match="manual download"):
        fetch_file("amazon_employee_access", "train.csv.gz")


def test_registry_entry_restored_after_monkeypatch():
    # Guards the tests above: the real entry must be intact once they end.
    remote = get_dataset_info(TEST_DATASET).file(TEST_FILE)
    assert (
        remote.url
        == "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz"
    )
