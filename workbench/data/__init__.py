"""Dataset registry and loaders.

Loaders look for each file in ``$WORKBENCH_DATA/<dataset>/`` and then in the
repository's ``data/<dataset>/``, verify its sha256, and otherwise download it
from the official source into ``data/`` (not with ``WORKBENCH_OFFLINE=1``).
Kaggle files need a manual download, and the error message names the folder to put them in.

Example
-------
>>> from workbench.data import load_adult
>>> adult = load_adult("train")
>>> adult.frame.shape, adult.target.mean()  # doctest: +SKIP
((32561, 14), 0.2408...)
"""

from workbench.data.errors import ChecksumError, DataFormatError, DataNotFoundError
from workbench.data.fetch import data_roots, fetch_file
from workbench.data.images import (
    ImageDataset,
    OneShotRun,
    load_digits,
    load_mnist,
    load_omniglot,
    load_omniglot_one_shot_runs,
)
from workbench.data.registry import (
    DATASETS,
    DatasetInfo,
    RemoteFile,
    get_dataset_info,
    list_datasets,
)
from workbench.data.sosd import SOSD_NAMES, load_sosd
from workbench.data.tabular import (
    TabularDataset,
    load_adult,
    load_amazon_employee_access,
    load_criteo_dac_sample,
    load_criteo_sample,
    load_give_me_some_credit,
    load_movielens,
)

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataFormatError",
    "DataNotFoundError",
    "DatasetInfo",
    "ImageDataset",
    "OneShotRun",
    "RemoteFile",
    "SOSD_NAMES",
    "TabularDataset",
    "data_roots",
    "fetch_file",
    "get_dataset_info",
    "list_datasets",
    "load_adult",
    "load_amazon_employee_access",
    "load_criteo_dac_sample",
    "load_criteo_sample",
    "load_digits",
    "load_give_me_some_credit",
    "load_mnist",
    "load_movielens",
    "load_omniglot",
    "load_omniglot_one_shot_runs",
    "load_sosd",
]
