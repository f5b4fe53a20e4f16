"""The dataset registry: which files each dataset has, where they come from and their digests.

Every file is stored under ``<data root>/<dataset name>/<file name>``, for
example ``<root>/adult/adult.data.gz`` or ``<root>/mnist/t10k-images-idx3-ubyte.gz``.
:mod:`workbench.data.fetch` looks the files up, verifies and downloads them.

Sources of the digests: files that have an offline copy carry that copy's
sha256. Digests of files that are only downloaded come from the
``url_checksums`` files of tensorflow-datasets (``mnist.txt``,
``omniglot.txt``, ``movielens.txt``, ``adult.txt``), which list the URL, the
size in bytes and the sha256 of each file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_MD5_PATTERN = re.compile(r"^[0-9a-f]{32}$")
COMPRESSED_SUFFIXES = (".gz", ".zip")


@dataclass(frozen=True)
class RemoteFile:
    """One data file of a dataset: its stored name, source URL and accepted digests.

    Attributes
    ----------
    name : str
        Path of the stored file relative to ``<data root>/<dataset name>/``,
        in POSIX form. It may contain a subfolder, such as ``"ml-100k/u.data"``.
    url : str
        The official source URL. For a Kaggle file (``manual=True``) it is the
        competition's data page, because the download needs a login.
    sha256 : tuple of str
        Accepted lowercase hex sha256 digests of the stored file. More than one
        only where a known-good re-compressed copy differs from the original.
    size : int or None
        Size of the file served at ``url`` in bytes, where known.
    md5 : str or None
        The publisher's md5, used only where no sha256 is known.
    content_sha256 : tuple of str
        Accepted sha256 digests of the decompressed content of a ``.gz`` file
        or of the single member of a ``.zip`` file. When set, a copy whose
        compressed bytes differ (another gzip run, another zip tool) is still
        accepted, and the uncompressed file (``name`` without ``.gz``/``.zip``)
        is looked for too.
    gzip_on_download : bool
        ``url`` serves the uncompressed content. A download is verified
        against ``content_sha256`` and then stored gzip-compressed as ``name``.
    mirrors : tuple of str
        Further URLs serving the same bytes, tried in order after ``url``.
    manual : bool
        The file cannot be downloaded automatically (Kaggle needs a login).
        The user downloads it by hand and places it under a data root.
    """

    name: str
    url: str
    sha256: tuple[str, ...] = ()
    size: int | None = None
    md5: str | None = None
    content_sha256: tuple[str, ...] = ()
    gzip_on_download: bool = False
    mirrors: tuple[str, ...] = ()
    manual: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"RemoteFile name must be a non-empty string, got {self.name!r}.")
        parts = self.name.split("/")
        if (
            self.name.startswith("/")
            or "\\" in self.name
            or any(p in ("", ".", "..") for p in parts)
        ):
            raise ValueError(
                f"RemoteFile name {self.name!r} must be a relative POSIX path "
                "without '.', '..' or empty parts."
            )
        for field_name in ("sha256", "content_sha256", "mirrors"):
            value = getattr(self, field_name)
            if not isinstance(value, tuple):
                raise TypeError(
                    f"RemoteFile {field_name} must be a tuple, got {type(value).__name__} "
                    f"for {self.name!r}."
                )
        for digest in self.sha256 + self.content_sha256:
            if not isinstance(digest, str) or not _SHA256_PATTERN.match(digest):
                raise ValueError(
                    f"invalid sha256 {digest!r} for {self.name!r}: "
                    "expected 64 lowercase hex digits."
                )
        if self.md5 is not None and (
            not isinstance(self.md5, str) or not _MD5_PATTERN.match(self.md5)
        ):
            raise ValueError(
                f"invalid md5 {self.md5!r} for {self.name!r}: expected 32 lowercase hex digits."
            )
        if self.gzip_on_download and not (self.name.endswith(".gz") and self.content_sha256):
            raise ValueError(
                f"gzip_on_download needs a name ending in '.gz' and content_sha256 "
                f"(file {self.name!r})."
            )
        if self.content_sha256 and not self.name.endswith(COMPRESSED_SUFFIXES):
            raise ValueError(
                f"content_sha256 is only for '.gz' or '.zip' files, not {self.name!r}."
            )

    @property
    def urls(self) -> tuple[str, ...]:
        """The source URL followed by the mirrors."""
        return (self.url, *self.mirrors)

    @property
    def plain_name(self) -> str | None:
        """The uncompressed file name accepted in place of ``name``, or None."""
        if not self.content_sha256:
            return None
        for suffix in COMPRESSED_SUFFIXES:
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return None

    @property
    def has_digest(self) -> bool:
        """Whether any digest (sha256, content sha256 or md5) is registered."""
        return bool(self.sha256 or self.content_sha256 or self.md5)


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of one dataset: its files, source, license and citation.

    Attributes
    ----------
    name : str
        Registry key and folder name under a data root.
    title : str
        Human-readable title.
    files : tuple of RemoteFile
        The dataset's files. Empty for datasets bundled with scikit-learn.
    homepage : str
        The dataset owner's page.
    license : str
        License or terms of use, as far as they could be checked.
    citation : str
        The reference to cite when the data is used.
    loader : str
        Name of the ``workbench.data`` function that loads it.
    notes : str
        Quirks, row counts and what is (not) included.
    """

    name: str
    title: str
    files: tuple[RemoteFile, ...]
    homepage: str
    license: str
    citation: str
    loader: str
    notes: str = ""
    _by_name: dict[str, RemoteFile] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {remote.name: remote for remote in self.files}
        if len(by_name) != len(self.files):
            raise ValueError(f"dataset {self.name!r} lists a file name twice.")
        object.__setattr__(self, "_by_name", by_name)

    @property
    def file_names(self) -> list[str]:
        """The stored names of all files, in registry order."""
        return [remote.name for remote in self.files]

    @property
    def manual_download(self) -> bool:
        """Whether any file must be downloaded by hand."""
        return any(remote.manual for remote in self.files)

    def file(self, file_name: str) -> RemoteFile:
        """Return the registry entry of ``file_name``.

        Raises
        ------
        ValueError
            If the dataset has no file of that name; the message lists the valid names.
        """
        if not isinstance(file_name, str):
            raise TypeError(f"file_name must be a str, got {type(file_name).__name__}.")
        try:
            return self._by_name[file_name]
        except KeyError:
            valid = (
                ", ".join(repr(n) for n in self.file_names) or "none (bundled with scikit-learn)"
            )
            raise ValueError(
                f"invalid file_name {file_name!r} for dataset {self.name!r}; valid names: {valid}."
            ) from None


_UCI_ADULT = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
_CRITEO_SAMPLE_REPO = (
    "https://raw.githubusercontent.com/Lapis-Hong/Wide-ResDNN/"
    "9889f939deb904a35692e2efdc6ab4f743a7df71/data/criteo/"
)
_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
_MNIST_CVDF = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_MNIST_OSSCI = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_MNIST_LECUN = "http://yann.lecun.com/exdb/mnist/"
_OMNIGLOT_RAW = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
_OMNIGLOT_GITHUB = "https://github.com/brendenlake/omniglot/raw/master/python/"
_SOSD_DATAVERSE = (
    "https://dataverse.harvard.edu/api/access/datafile/:persistentId"
    "?persistentId=doi:10.7910/DVN/JGVF9A/"
)

_KAGGLE_TERMS = (
    "Kaggle competition rules and data terms (research use; do not redistribute "
    "without checking the rules)."
)


def _mnist_file(name: str, sha256: tuple[str, ...], size: int) -> RemoteFile:
    return RemoteFile(
        name=name,
        url=_MNIST_CVDF + name,
        sha256=sha256,
        size=size,
        mirrors=(_MNIST_OSSCI + name, _MNIST_LECUN + name),
    )


def _omniglot_file(path: str, sha256: str, size: int) -> RemoteFile:
    name = path.rsplit("/", 1)[-1]
    return RemoteFile(
        name=name,
        url=_OMNIGLOT_RAW + path,
        sha256=(sha256,),
        size=size,
        mirrors=(_OMNIGLOT_GITHUB + path,),
    )


def _movielens_100k_file(name: str, sha256: str, size: int) -> RemoteFile:
    return RemoteFile(name=name, url=f"{_GROUPLENS}ml-100k/{name}", sha256=(sha256,), size=size)


_DATASET_LIST = [
    DatasetInfo(
        name="adult",
        title="Adult (Census Income), UCI Machine Learning Repository",
        files=(
            # The stored .gz files are the 1996 Delve copies of the UCI files. UCI serves them
            # uncompressed, so a download is checked against the content digest and gzipped.
            RemoteFile(
                name="adult.data.gz",
                url=_UCI_ADULT + "adult.data",
                sha256=("fb986d3609cdf068a1c234ed2695603b74c66c4be723467d9d69542024847442",),
                size=3974305,
                content_sha256=(
                    "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
                ),
                gzip_on_download=True,
            ),
            RemoteFile(
                name="adult.test.gz",
                url=_UCI_ADULT + "adult.test",
                sha256=("74aa81a0e0880467a50de97be6ba8130df14a3ef8c0c3a14de2a9a997d068fbf",),
                size=2003153,
                content_sha256=(
                    "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
                ),
                gzip_on_download=True,
            ),
            # NOTE: this digest is that of the offline copy (5,229 bytes). No independent
            # digest of UCI's adult.names was found to confirm that the two are identical.
            RemoteFile(
                name="adult.names",
                url=_UCI_ADULT + "adult.names",
                sha256=("c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",),
                size=5229,
            ),
        ),
        homepage="https://archive.ics.uci.edu/dataset/2/adult",
        # NOTE: the license is the one UCI lists on the data set page, not re-checked offline.
        license="CC BY 4.0 (as listed by the UCI Machine Learning Repository).",
        citation=(
            "Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository. "
            "https://doi.org/10.24432/C5XW20. Kohavi, R. (1996). Scaling Up the Accuracy of "
            "Naive-Bayes Classifiers: a Decision-Tree Hybrid. KDD-96."
        ),
        loader="load_adult",
        notes=(
            "32,561 train + 16,281 test rows, 14 features, label income (>50K). No header; "
            "'?' marks missing values; test labels end in '.'; the test file starts with a "
            "junk line."
        ),
    ),
    DatasetInfo(
        name="amazon_employee_access",
        title="Amazon.com - Employee Access Challenge (Kaggle, 2013), train.csv",
        files=(
            # NOTE: both digests are of a copy whose header was renamed (action, resource, mgrid,
            # ...); the data rows match Kaggle's train.csv. The digest of Kaggle's file with its
            # original header is not known, so such a copy fails verification.
            RemoteFile(
                name="train.csv.gz",
                url="https://www.kaggle.com/c/amazon-employee-access-challenge/data",
                sha256=("3d6851e448b34c18d359f137cc2f5651f5c9d88748012bce3b119757a7033f56",),
                content_sha256=(
                    "d3b7d0d542649fea474618aeccf435a94a24ef44bfd084cdce296d3bfe31a33e",
                ),
                manual=True,
            ),
        ),
        homepage="https://www.kaggle.com/c/amazon-employee-access-challenge",
        license=_KAGGLE_TERMS,
        citation="Amazon.com - Employee Access Challenge. Kaggle competition, 2013.",
        loader="load_amazon_employee_access",
        notes=(
            "32,769 rows: label ACTION (1 = access approved) and 9 categorical ID columns. "
            "Kaggle's unlabeled test.csv is not registered."
        ),
    ),
    DatasetInfo(
        name="criteo_sample",
        title="Criteo Display Advertising Challenge, 8,000-row sample split into train/dev/test",
        files=tuple(
            # This slice of the head of Kaggle's train.txt exists only in the repository below;
            # it is served uncompressed there, so downloads are gzipped after verification.
            RemoteFile(
                name=f"{split}.csv.gz",
                url=f"{_CRITEO_SAMPLE_REPO}{split}.csv",
                sha256=(gz_sha256,),
                size=size,
                content_sha256=(csv_sha256,),
                gzip_on_download=True,
            )
            for split, gz_sha256, csv_sha256, size in (
                (
                    "train",
                    "eb90d5d9c74fdb3fb22c6bafc11c10f6c2407bf3a8d502754d72a7ff1f9df30e",
                    "2b0614035f6c931dc4ac2c1a1a26fa954f2b9231703f3a77bcdd53d9d9f29872",
                    1744474,
                ),
                (
                    "dev",
                    "8fa7cf9cae89f0a06b707a091c792f11318874fa5a16ec28cf4cb00aafb342bf",
                    "7ac8a164e43a9903be3d43e640bcd464cfa0d96d7a652ec8ef8a33fe97cac6b9",
                    98922,
                ),
                (
                    "test",
                    "7add08f6211f2a254de6b7b8743508584978d326dbda9a350bc61fc751a00d8a",
                    "3a7a78b694945482aede520e68300b0e2748603363072822cfbbb9f72d0dfd9a",
                    95122,
                ),
            )
        ),
        homepage="https://www.kaggle.com/c/criteo-display-ad-challenge",
        license=(
            "Criteo's terms for the Display Advertising Challenge data (research and "
            "non-commercial use); check them before redistributing."
        ),
        citation="Criteo Labs. Display Advertising Challenge. Kaggle competition, 2014.",
        loader="load_criteo_sample",
        notes=(
            "7,200 train + 409 dev + 391 test rows from the head of Kaggle's train.txt; "
            "tab-separated without header: label, I1..I13, C1..C26; empty fields are missing. "
            "This is not Criteo's 100,000-row dac_sample."
        ),
    ),
    DatasetInfo(
        name="criteo_dac_sample",
        title="Criteo Display Advertising Challenge, public 100,000-row dac_sample",
        files=(
            # NOTE: no published sha256 or md5 of dac_sample.tar.gz was found, so this file is
            # not verified. The loader checks its shape (100,000 rows x 40 columns) instead.
            RemoteFile(
                name="dac_sample.tar.gz",
                url="https://labs.criteo.com/wp-content/uploads/2015/04/dac_sample.tar.gz",
            ),
        ),
        homepage="https://labs.criteo.com/2014/02/download-dataset/",
        license=(
            "Criteo's terms for the Display Advertising Challenge data (research and "
            "non-commercial use); check them before redistributing."
        ),
        citation="Criteo Labs. Display Advertising Challenge. Kaggle competition, 2014.",
        loader="load_criteo_dac_sample",
        notes="100,000 rows in dac_sample.txt inside the tarball, same columns as criteo_sample.",
    ),
    DatasetInfo(
        name="movielens_100k",
        title="MovieLens 100K (GroupLens, 1998)",
        files=(
            _movielens_100k_file(
                "README", "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52", 6750
            ),
            _movielens_100k_file(
                "u.data",
                "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
                1979173,
            ),
            _movielens_100k_file(
                "u.user", "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c", 22628
            ),
            _movielens_100k_file(
                "u.item", "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701", 236344
            ),
            _movielens_100k_file(
                "u.genre", "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb", 202
            ),
            _movielens_100k_file(
                "u.occupation",
                "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
                193,
            ),
            _movielens_100k_file(
                "u.info", "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b", 36
            ),
        ),
        homepage="https://grouplens.org/datasets/movielens/100k/",
        license=(
            "GroupLens usage license: research use; acknowledge the data by citing Harper & "
            "Konstan (2015); no redistribution and no commercial use without permission."
        ),
        citation=(
            "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and "
            "Context. ACM Transactions on Interactive Intelligent Systems 5, 4, Article 19. "
            "https://doi.org/10.1145/2827872"
        ),
        loader="load_movielens",
        notes="100,000 ratings (1-5) by 943 users on 1,682 movies; u.item is Latin-1 encoded.",
    ),
    DatasetInfo(
        name="movielens_1m",
        title="MovieLens 1M (GroupLens, 2003)",
        files=(
            RemoteFile(
                name="ml-1m.zip",
                url=_GROUPLENS + "ml-1m.zip",
                sha256=("a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",),
                size=5917549,
            ),
        ),
        homepage="https://grouplens.org/datasets/movielens/1m/",
        license=(
            "GroupLens usage license: research use; acknowledge the data by citing Harper & "
            "Konstan (2015); no redistribution and no commercial use without permission."
        ),
        citation=(
            "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and "
            "Context. ACM Transactions on Interactive Intelligent Systems 5, 4, Article 19. "
            "https://doi.org/10.1145/2827872"
        ),
        loader="load_movielens",
        notes=(
            "1,000,209 ratings by 6,040 users on 3,706 of 3,952 movies; '::'-separated .dat files."
        ),
    ),
    DatasetInfo(
        name="give_me_some_credit",
        title="Give Me Some Credit (Kaggle, 2011)",
        files=(
            # A third party made these .zip files. The content digests are those of Kaggle's
            # CSVs, so a copy unzipped from the competition download is accepted too.
            RemoteFile(
                name="cs-training.csv.zip",
                url="https://www.kaggle.com/c/GiveMeSomeCredit/data",
                sha256=("d43d3afeab51f290d5f772ed4fb42944657deb057bbd2f4f5ccdb1fbfec69990",),
                content_sha256=(
                    "1bd46da486a5708c58c7b01a034fae2a13b327f6f7b62ea7ba4fe3b5824b24ac",
                ),
                manual=True,
            ),
            RemoteFile(
                name="cs-test.csv.zip",
                url="https://www.kaggle.com/c/GiveMeSomeCredit/data",
                sha256=("323c7c57c9a5f4f2e4d8c3d2bb82c757a20805aa4b8546254bd34fd968085768",),
                content_sha256=(
                    "bab363a2a807218d32a51f5fc9668b8be7977795065edd386abc8546abaa5b78",
                ),
                manual=True,
            ),
        ),
        homepage="https://www.kaggle.com/c/GiveMeSomeCredit",
        license=_KAGGLE_TERMS,
        citation="Give Me Some Credit. Kaggle competition, 2011.",
        loader="load_give_me_some_credit",
        notes=(
            "cs-training.csv: 150,000 rows, label SeriousDlqin2yrs, 10 numeric features, an "
            "unnamed index column and CRLF line endings. cs-test.csv (101,503 rows) is unlabeled."
        ),
    ),
    DatasetInfo(
        name="mnist",
        title="MNIST handwritten digits",
        files=(
            # The offline t10k images were re-gzipped (new gzip header, same decompressed bytes),
            # so both that copy's digest and the official file's digest are accepted.
            _mnist_file(
                "t10k-images-idx3-ubyte.gz",
                (
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    "408528fdd49f27f3f84ace55d79e13909738c2cf18c2084796917ca3b8110e2a",
                ),
                1648877,
            ),
            _mnist_file(
                "t10k-labels-idx1-ubyte.gz",
                ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",),
                4542,
            ),
            _mnist_file(
                "train-images-idx3-ubyte.gz",
                ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
                9912422,
            ),
            _mnist_file(
                "train-labels-idx1-ubyte.gz",
                ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
                28881,
            ),
        ),
        homepage="http://yann.lecun.com/exdb/mnist/",
        # NOTE: commonly cited from Yann LeCun's page; not re-checked offline.
        license="CC BY-SA 3.0 (as commonly cited from Yann LeCun's MNIST page).",
        citation=(
            "Y. LeCun, L. Bottou, Y. Bengio and P. Haffner. Gradient-based learning applied to "
            "document recognition. Proceedings of the IEEE, 86(11):2278-2324, 1998."
        ),
        loader="load_mnist",
        notes="60,000 train + 10,000 test images of 28x28 uint8 in idx format.",
    ),
    DatasetInfo(
        name="omniglot",
        title="Omniglot (Lake, Salakhutdinov & Tenenbaum)",
        files=(
            _omniglot_file(
                "images_background_small1.zip",
                "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4",
                1319022,
            ),
            _omniglot_file(
                "images_background_small2.zip",
                "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f",
                1580917,
            ),
            _omniglot_file(
                "images_background.zip",
                "ad41ab679c8b5d90b271ef46be6987cc81211774a695c29dcc5367b2b26ee640",
                9464212,
            ),
            _omniglot_file(
                "images_evaluation.zip",
                "1f61a8f3366785b057fc117d9228e78a16e3d976c8953b2a10fcc74cf0609cee",
                6462886,
            ),
            # The digest is that of the offline copy, taken unchanged from the same repository.
            _omniglot_file(
                "one-shot-classification/all_runs.zip",
                "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325",
                352787,
            ),
        ),
        homepage="https://github.com/brendenlake/omniglot",
        license="MIT License, Copyright (c) 2015 Brenden Lake.",
        citation=(
            "Lake, B. M., Salakhutdinov, R., and Tenenbaum, J. B. (2015). Human-level concept "
            "learning through probabilistic program induction. Science, 350(6266), 1332-1338."
        ),
        loader="load_omniglot",
        notes=(
            "105x105 1-bit PNGs, 20 drawers per character. background: 30 alphabets, 964 "
            "characters; evaluation: 20 alphabets, 659 characters; small1/small2: 5 alphabets "
            "each; all_runs: the 20 official 20-way one-shot runs."
        ),
    ),
    DatasetInfo(
        name="sosd",
        title="SOSD benchmark key sets: books, fb, osm_cellids, wiki_ts (200M uint64 keys each)",
        files=tuple(
            # NOTE: no digest of the .zst files could be confirmed offline, so fetch_file
            # accepts them unverified. SOSD's download script lists md5 sums of the
            # decompressed files; load_sosd checks those (sosd.SOSD_MD5) and the header count.
            RemoteFile(name=f"{key_set}.zst", url=_SOSD_DATAVERSE + persistent_id)
            for key_set, persistent_id in (
                ("books_200M_uint64", "A6HDNT"),
                ("fb_200M_uint64", "EATHF7"),
                ("osm_cellids_200M_uint64", "8FX9BV"),
                ("wiki_ts_200M_uint64", "SVN8PI"),
            )
        ),
        homepage=(
            "https://dataverse.harvard.edu/dataset.xhtml?persistentId=doi:10.7910/DVN/JGVF9A"
        ),
        # NOTE: the terms were not checked offline; read them on the Dataverse page.
        license="Terms as stated on the Harvard Dataverse page of doi:10.7910/DVN/JGVF9A.",
        citation=(
            "Kipf, A., Marcus, R., van Renen, A., Stoian, M., Kemper, A., Kraska, T. and "
            "Neumann, T. (2019). SOSD: A Benchmark for Learned Indexes. NeurIPS Workshop on "
            "Machine Learning for Systems. Marcus, R. et al. (2020). Benchmarking Learned "
            "Indexes. PVLDB 14(1)."
        ),
        loader="load_sosd",
        notes=(
            "Each file decompresses to 1,600,000,008 bytes: a little-endian uint64 count "
            "(200,000,000) and the sorted uint64 keys. Decompression needs the optional "
            "package zstandard. load_sosd also accepts the decompressed file (the name without "
            ".zst) in the same folder."
        ),
    ),
    DatasetInfo(
        name="digits",
        title="Optical recognition of handwritten digits (8x8), bundled with scikit-learn",
        files=(),
        homepage="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        license="CC BY 4.0 (UCI); the copy ships with scikit-learn (BSD-3-Clause).",
        citation=(
            "Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten Digits. "
            "UCI Machine Learning Repository. https://doi.org/10.24432/C50P49."
        ),
        loader="load_digits",
        notes="1,797 images of 8x8 pixels with 17 gray levels (0-16); no download needed.",
    ),
]

DATASETS: dict[str, DatasetInfo] = {info.name: info for info in _DATASET_LIST}


def list_datasets() -> list[str]:
    """Return the registered dataset names in sorted order."""
    return sorted(DATASETS)


def get_dataset_info(name: str) -> DatasetInfo:
    """Return the registry entry of dataset ``name``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If no dataset of that name is registered; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a str, got {type(name).__name__}.")
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; valid names: {', '.join(list_datasets())}."
        ) from None
