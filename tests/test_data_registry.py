"""Tests of the dataset registry: entries, digests and name validation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from data_fixtures import real_data_fixture  # noqa: F401 (pytest fixture)

import workbench.data as data
from workbench.data import (
    DATASETS,
    DatasetInfo,
    RemoteFile,
    fetch_file,
    get_dataset_info,
    list_datasets,
)

EXPECTED_DATASETS = {
    "adult",
    "amazon_employee_access",
    "criteo_sample",
    "criteo_dac_sample",
    "movielens_100k",
    "movielens_1m",
    "give_me_some_credit",
    "mnist",
    "omniglot",
    "digits",
    "sosd",
}
GOOD_SHA256 = "0" * 64


def test_registry_lists_expected_datasets():
    assert set(DATASETS) == EXPECTED_DATASETS
    assert list_datasets() == sorted(EXPECTED_DATASETS)


@pytest.mark.parametrize("name", sorted(EXPECTED_DATASETS))
def test_dataset_info_is_complete(name):
    info = get_dataset_info(name)
    assert info.name == name
    assert info.title
    assert info.homepage.startswith(("http://", "https://"))
    assert info.license
    assert info.citation
    assert callable(getattr(data, info.loader)), f"{name}: loader {info.loader} is not exported"
    for remote in info.files:
        assert remote.url.startswith(("http://", "https://"))
        assert all(url.startswith(("http://", "https://")) for url in remote.mirrors)


def test_get_dataset_info_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as excinfo:
        get_dataset_info("imagenet")
    message = str(excinfo.value)
    assert "'imagenet'" in message
    assert "adult" in message
    assert "omniglot" in message


def test_get_dataset_info_rejects_non_string():
    with pytest.raises(TypeError, match="dataset name must be a str"):
        get_dataset_info(3)


def test_file_lookup_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as excinfo:
        get_dataset_info("mnist").file("train-images.gz")
    message = str(excinfo.value)
    assert "'train-images.gz'" in message
    assert "file_name" in message
    assert "t10k-images-idx3-ubyte.gz" in message


def test_digits_has_no_files():
    info = get_dataset_info("digits")
    assert info.files == ()
    with pytest.raises(ValueError, match="bundled with scikit-learn"):
        info.file("digits.csv")


def test_kaggle_files_need_manual_download():
    for name in ("amazon_employee_access", "give_me_some_credit"):
        info = get_dataset_info(name)
        assert info.manual_download
        for remote in info.files:
            assert remote.manual
            assert remote.url.startswith("https://www.kaggle.com/c/")


def test_automatic_datasets_need_no_manual_step():
    for name in (
        "adult",
        "criteo_sample",
        "criteo_dac_sample",
        "movielens_100k",
        "movielens_1m",
        "mnist",
        "omniglot",
    ):
        assert not get_dataset_info(name).manual_download


def test_mnist_test_images_accept_regzipped_copy():
    remote = get_dataset_info("mnist").file("t10k-images-idx3-ubyte.gz")
    assert len(remote.sha256) == 2
    assert "408528fdd49f27f3f84ace55d79e13909738c2cf18c2084796917ca3b8110e2a" in remote.sha256


def test_digests_missing_only_for_dac_and_sosd():
    unverified = [
        (info.name, remote.name)
        for info in DATASETS.values()
        for remote in info.files
        if not remote.has_digest
    ]
    # SOSD publishes md5 sums of the decompressed files only; the loader checks those.
    sosd = [("sosd", f"{name}.zst") for name in ("books_200M_uint64", "fb_200M_uint64",
                                                 "osm_cellids_200M_uint64", "wiki_ts_200M_uint64")]
    assert sorted(unverified) == sorted([("criteo_dac_sample", "dac_sample.tar.gz"), *sosd])


def test_dataset_files_have_unique_names():
    with pytest.raises(ValueError, match="twice"):
        DatasetInfo(
            name="x",
            title="x",
            files=(RemoteFile("a", "https://h/a"), RemoteFile("a", "https://h/b")),
            homepage="https://h",
            license="l",
            citation="c",
            loader="load_x",
        )


def test_plain_name_only_with_content_digest():
    adult = get_dataset_info("adult").file("adult.data.gz")
    assert adult.plain_name == "adult.data"
    credit = get_dataset_info("give_me_some_credit").file("cs-training.csv.zip")
    assert credit.plain_name == "cs-training.csv"
    mnist = get_dataset_info("mnist").file("t10k-labels-idx1-ubyte.gz")
    assert mnist.plain_name is None


@pytest.mark.parametrize("name", ["", "/abs/file", "../escape", "a//b", "a/./b", "dir\\file"])
def test_remote_file_rejects_bad_names(name):
    with pytest.raises(ValueError, match="RemoteFile name"):
        RemoteFile(name=name, url="https://example.org/f", sha256=(GOOD_SHA256,))


@pytest.mark.parametrize("digest", ["abc", "G" * 64, "A" * 64, GOOD_SHA256 + "0"])
def test_remote_file_rejects_bad_sha256(digest):
    with pytest.raises(ValueError, match="invalid sha256"):
        RemoteFile(name="f", url="https://example.org/f", sha256=(digest,))


def test_remote_file_requires_tuple_of_digests():
    with pytest.raises(TypeError, match="sha256 must be a tuple"):
        RemoteFile(name="f", url="https://example.org/f", sha256=GOOD_SHA256)


def test_remote_file_rejects_bad_md5():
    with pytest.raises(ValueError, match="invalid md5"):
        RemoteFile(name="f", url="https://example.org/f", md5="xyz")


def test_gzip_on_download_requirements():
    with pytest.raises(ValueError, match="gzip_on_download"):
        RemoteFile(name="f.csv", url="https://example.org/f", gzip_on_download=True)
    with pytest.raises(ValueError, match="gzip_on_download"):
        RemoteFile(name="f.csv.gz", url="https://example.org/f", gzip_on_download=True)


def test_content_digest_only_for_compressed_files():
    with pytest.raises(ValueError, match="content_sha256"):
        RemoteFile(name="f.csv", url="https://example.org/f", content_sha256=(GOOD_SHA256,))


def test_remote_file_is_frozen():
    remote = get_dataset_info("mnist").files[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        remote.url = "https://example.org/"


def test_every_offline_file_is_registered_and_verifies(real_data):
    checked = 0
    for folder in sorted(p for p in Path(real_data).iterdir() if p.is_dir()):
        info = get_dataset_info(folder.name)
        for path in sorted(folder.iterdir()):
            if path.name == "PROVENANCE.md":
                continue
            assert path.name in info.file_names, f"{path} is not registered"
            assert fetch_file(folder.name, path.name, download=False) == path
            checked += 1
    assert checked >= 20
