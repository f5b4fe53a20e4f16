"""Image datasets as numpy arrays: MNIST, Omniglot with its one-shot runs, scikit-learn's digits."""

from __future__ import annotations

import logging
import re
import zipfile
from dataclasses import dataclass

import numpy as np

from workbench.data.errors import DataFormatError
from workbench.data.fetch import fetch_file
from workbench.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from workbench.data.png import decode_png_1bit
from workbench.data.validation import check_choice

logger = logging.getLogger(__name__)

OMNIGLOT_SIZE = 105


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Grayscale images with integer labels.

    Attributes
    ----------
    name : str
        Dataset name, such as ``"mnist"``.
    images : numpy.ndarray of uint8, shape (n_images, height, width)
        The pixel values; each loader documents their range.
    labels : numpy.ndarray of int64, shape (n_images,)
        Class index of each image.
    class_names : list of str or None
        Name of each class index, so ``class_names[labels[i]]`` names image ``i``.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    class_names: list[str] | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.images, np.ndarray)
            or self.images.dtype != np.uint8
            or self.images.ndim != 3
        ):
            raise ValueError(
                "images must be a uint8 numpy array of shape (n_images, height, width), got "
                f"{getattr(self.images, 'dtype', type(self.images).__name__)} "
                f"with shape {getattr(self.images, 'shape', None)}."
            )
        if (
            not isinstance(self.labels, np.ndarray)
            or self.labels.dtype != np.int64
            or self.labels.ndim != 1
        ):
            raise ValueError("labels must be an int64 numpy array of shape (n_images,).")
        if len(self.labels) != len(self.images):
            raise ValueError(f"got {len(self.images)} images but {len(self.labels)} labels.")
        if (
            self.class_names is not None
            and len(self.labels)
            and not (0 <= self.labels.min() and self.labels.max() < len(self.class_names))
        ):
            raise ValueError(f"labels must index class_names (0..{len(self.class_names) - 1}).")

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True, eq=False)
class OneShotRun:
    """One official 20-way one-shot classification run of Omniglot.

    Attributes
    ----------
    name : str
        ``"run01"`` to ``"run20"``.
    training_images : numpy.ndarray of uint8, shape (20, 105, 105)
        One image of each of the 20 classes (``training/class01.png`` ...), ink = 1.
    test_images : numpy.ndarray of uint8, shape (20, 105, 105)
        The 20 query images (``test/item01.png`` ...), ink = 1.
    test_labels : numpy.ndarray of int64, shape (20,)
        Index in ``training_images`` of the class of each test image, from the
        run's ``class_labels.txt``.
    """

    name: str
    training_images: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


# --- MNIST -----------------------------------------------------------------

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def load_mnist(split: str = "test", *, download: bool = True) -> ImageDataset:
    """Load MNIST from its idx files.

    Parameters
    ----------
    split : {"test", "train"}
        ``"test"``: 10,000 images; ``"train"``: 60,000 images.
    download : bool
        Download missing files (such as the training images) from the MNIST mirrors.

    Returns
    -------
    ImageDataset
        ``images`` uint8 of shape (n, 28, 28), 0 = background to 255 = full
        ink; ``labels`` int64 of shape (n,) with digits 0-9; ``class_names``
        "0" to "9".

    Raises
    ------
    DataFormatError
        If a file has a wrong magic number (2051 for images, 2049 for labels)
        or its length does not match its header.
    """
    check_choice("split", split, tuple(_MNIST_FILES))
    images_name, labels_name = _MNIST_FILES[split]
    images = read_idx(
        fetch_file("mnist", images_name, download=download), expected_magic=IMAGES_MAGIC
    )
    labels = read_idx(
        fetch_file("mnist", labels_name, download=download), expected_magic=LABELS_MAGIC
    )
    if images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
        raise DataFormatError(
            f"MNIST {split} files have image shape {images.shape} and label shape "
            f"{labels.shape}; expected (n, 28, 28) and (n,)."
        )
    return ImageDataset(
        name="mnist",
        images=images,
        labels=labels.astype(np.int64),
        class_names=[str(digit) for digit in range(10)],
    )


# --- Omniglot --------------------------------------------------------------

OMNIGLOT_SUBSETS = {
    "background_small1": "images_background_small1.zip",
    "background_small2": "images_background_small2.zip",
    "background": "images_background.zip",
    "evaluation": "images_evaluation.zip",
}


def _decode_omniglot_png(data: bytes, source: str) -> np.ndarray:
    bits = decode_png_1bit(data, source=source)
    if bits.shape != (OMNIGLOT_SIZE, OMNIGLOT_SIZE):
        raise DataFormatError(
            f"{source} is {bits.shape[1]}x{bits.shape[0]} pixels, expected "
            f"{OMNIGLOT_SIZE}x{OMNIGLOT_SIZE}."
        )
    # The PNGs store white background as 1 and strokes as 0; flip so that ink = 1.
    return 1 - bits


def load_omniglot(subset: str = "background_small1", *, download: bool = True) -> ImageDataset:
    """Load one Omniglot image set.

    Parameters
    ----------
    subset : {"background_small1", "background_small2", "background", "evaluation"}
        The two small background sets (5 alphabets each: 2,720 and 3,120
        images) or the full background (964 characters, 19,280 images) and
        evaluation (659 characters, 13,180 images) sets. The full sets are
        downloaded from the Omniglot repository.
    download : bool
        Download the zip file when no local copy exists.

    Returns
    -------
    ImageDataset
        ``images`` uint8 of shape (n, 105, 105) with ink (stroke) = 1 and
        background = 0. ``labels`` int64 index ``class_names``, the sorted
        ``"Alphabet/characterNN"`` folder names. Images are ordered by path,
        so the 20 drawings of a character are consecutive.
    """
    check_choice("subset", subset, tuple(OMNIGLOT_SUBSETS))
    file_name = OMNIGLOT_SUBSETS[subset]
    path = fetch_file("omniglot", file_name, download=download)
    top = file_name.removesuffix(".zip")

    images, classes = [], []
    with zipfile.ZipFile(path) as archive:
        for member in sorted(archive.namelist()):
            if not member.endswith(".png"):
                continue
            parts = member.split("/")
            if len(parts) != 4 or parts[0] != top:
                raise DataFormatError(
                    f"{path} has an unexpected member {member!r}; expected "
                    f"{top}/<alphabet>/<character>/<image>.png."
                )
            images.append(_decode_omniglot_png(archive.read(member), f"{path}:{member}"))
            classes.append(f"{parts[1]}/{parts[2]}")
    if not images:
        raise DataFormatError(f"{path} contains no PNG images.")

    class_names = sorted(set(classes))
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.array([index[name] for name in classes], dtype=np.int64)
    logger.debug(
        "loaded %d Omniglot images of %d classes from %s", len(labels), len(class_names), path
    )
    return ImageDataset(
        name=f"omniglot_{subset}", images=np.stack(images), labels=labels, class_names=class_names
    )


_RUN_LABEL_LINE = re.compile(r"^(run\d+)/test/(item\d+\.png)\s+(run\d+)/training/(class\d+\.png)$")


def _read_one_shot_run(archive: zipfile.ZipFile, run: str, source: str) -> OneShotRun:
    training_names = sorted(
        n for n in archive.namelist() if re.fullmatch(rf"{run}/training/class\d+\.png", n)
    )
    test_names = sorted(
        n for n in archive.namelist() if re.fullmatch(rf"{run}/test/item\d+\.png", n)
    )
    if len(training_names) != 20 or len(test_names) != 20:
        raise DataFormatError(
            f"{source} {run} has {len(training_names)} training and {len(test_names)} "
            "test images; expected 20 and 20."
        )

    training_index = {name.rsplit("/", 1)[1]: i for i, name in enumerate(training_names)}
    test_index = {name.rsplit("/", 1)[1]: i for i, name in enumerate(test_names)}
    labels_name = f"{run}/class_labels.txt"
    if labels_name not in archive.namelist():
        raise DataFormatError(f"{source} has no {labels_name}.")
    test_labels = np.full(20, -1, dtype=np.int64)
    for line in archive.read(labels_name).decode("ascii").splitlines():
        if not line.strip():
            continue
        match = _RUN_LABEL_LINE.match(line.strip())
        if (
            match is None
            or match[1] != run
            or match[3] != run
            or match[2] not in test_index
            or match[4] not in training_index
        ):
            raise DataFormatError(f"{source} {run}/class_labels.txt has an invalid line {line!r}.")
        test_labels[test_index[match[2]]] = training_index[match[4]]
    if (test_labels < 0).any():
        raise DataFormatError(f"{source} {run}/class_labels.txt does not map every test image.")

    def decode(names: list[str]) -> np.ndarray:
        return np.stack([_decode_omniglot_png(archive.read(n), f"{source}:{n}") for n in names])

    return OneShotRun(
        name=run,
        training_images=decode(training_names),
        test_images=decode(test_names),
        test_labels=test_labels,
    )


def load_omniglot_one_shot_runs(*, download: bool = True) -> list[OneShotRun]:
    """Load the 20 official Omniglot 20-way one-shot classification runs (all_runs.zip).

    The runs are built from the evaluation alphabets. Each run has one
    training image for each of 20 characters and 20 test images, one per
    character, drawn by other people.

    Returns
    -------
    list of OneShotRun
        ``run01`` to ``run20`` in order; images are uint8 (20, 105, 105), ink = 1.
    """
    path = fetch_file("omniglot", "all_runs.zip", download=download)
    with zipfile.ZipFile(path) as archive:
        runs = sorted({n.split("/", 1)[0] for n in archive.namelist() if re.match(r"run\d+/", n)})
        if len(runs) != 20:
            raise DataFormatError(f"{path} has {len(runs)} runs, expected 20.")
        return [_read_one_shot_run(archive, run, str(path)) for run in runs]


# --- scikit-learn digits ---------------------------------------------------


def load_digits() -> ImageDataset:
    """Load scikit-learn's bundled 8x8 handwritten digits.

    Returns
    -------
    ImageDataset
        ``images`` uint8 of shape (1797, 8, 8) with 17 gray levels, 0 to 16
        (the data's own scale, not 0-255); ``labels`` int64 digits 0-9;
        ``class_names`` "0" to "9".
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    return ImageDataset(
        name="digits",
        images=bunch.images.astype(np.uint8),
        labels=bunch.target.astype(np.int64),
        class_names=[str(d) for d in range(10)],
    )
