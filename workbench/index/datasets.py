"""Key sets to build learned indexes on: SOSD-style synthetic keys, keys from real data, SOSD files.

Three groups, each listed in a tuple and all in :data:`KEY_SETS`:

- :data:`SYNTHETIC_KEY_SETS` from :func:`synthetic_keys`: the synthetic
  distributions of the SOSD benchmark (Kipf et al., "SOSD: A Benchmark for
  Learned Indexes", NeurIPS Workshop on ML for Systems, 2019; Marcus et al.,
  "Benchmarking Learned Indexes", PVLDB 14(1), 2020) and a clustered set
  that imitates SOSD's OpenStreetMap cell ids. Pure numpy and seeded.
- :data:`REAL_KEY_SETS` from :func:`real_keys`: columns of the project's
  tabular datasets, loaded through :mod:`workbench.data`.
- :data:`SOSD_KEY_SETS`: SOSD's real 200M-key files, loaded by
  :func:`workbench.data.sosd.load_sosd`.

:func:`load_keys` loads any of them by name. Every key set is a sorted 1-D
array, and every key is below 2^64.

Example
-------
>>> from workbench.index.datasets import load_keys
>>> keys = load_keys("lognormal", 10_000, seed=1)
>>> keys.shape, keys.dtype, int(keys[-1]) == 2**63
((10000,), dtype('uint64'), True)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from workbench.data.errors import DataFormatError
from workbench.data.sosd import SOSD_NAMES, load_sosd
from workbench.data.validation import check_choice

__all__ = [
    "KEY_SETS",
    "REAL_KEY_SETS",
    "SOSD_KEY_SETS",
    "SYNTHETIC_KEY_SETS",
    "load_keys",
    "real_keys",
    "synthetic_keys",
]

SYNTHETIC_KEY_SETS = ("uniform", "uniform_dense", "normal", "lognormal", "osm_like")
REAL_KEY_SETS = ("movielens_timestamps", "movielens_user_item", "adult_fnlwgt")
SOSD_KEY_SETS = SOSD_NAMES
KEY_SETS = SYNTHETIC_KEY_SETS + REAL_KEY_SETS + SOSD_KEY_SETS

SYNTHETIC_DTYPES = (np.dtype(np.uint64), np.dtype(np.int64), np.dtype(np.float64))
KEY_RANGE = 2**63  # synthetic keys lie in [0, 2^63]; all but 2^63 itself fit in int64
DENSE_OFFSET = 42  # first key of "uniform_dense", the offset SOSD's gen_uniform.py uses
LOGNORMAL_SIGMA = 2.0  # sigma of SOSD's 64-bit lognormal keys (mu is 0)

# Parameters of the "osm_like" generator (see _osm_like_keys).
OSM_MEAN_CLUSTER_SIZE = 100  # keys per cluster on average; sets the number of clusters
# Pareto shape of the cluster weights; below 2 their variance is infinite.
OSM_CLUSTER_SIZE_SHAPE = 1.5
OSM_MIN_MEAN_GAP = 2**4  # smallest and largest mean gap between neighbors inside a cluster
OSM_MAX_MEAN_GAP = 2**20


# --- argument checks -----------------------------------------------------------


def _check_count(argument: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{argument} must be a non-negative int, got {type(value).__name__} {value!r}."
        )
    if value < 0:
        raise ValueError(f"invalid {argument}={value!r}; pass an int >= 0.")
    return int(value)


def _check_dtype(dtype: object) -> np.dtype:
    valid = "np.uint64, np.int64 or np.float64"
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be one of {valid}, got {dtype!r}.") from exc
    if resolved not in SYNTHETIC_DTYPES:
        raise ValueError(f"invalid dtype={dtype!r}; pass one of {valid}.")
    return resolved


# --- synthetic keys ----------------------------------------------------------------


def _min_max_scaled(samples: np.ndarray) -> np.ndarray:
    """Map samples onto [0, 2^63] as floor((x - min) / (max - min) * 2^63), sorted, as uint64."""
    low, high = samples.min(), samples.max()
    if high == low:
        return np.zeros(samples.size, dtype=np.uint64)
    scaled = np.sort((samples - low) / (high - low) * float(KEY_RANGE))
    # The float64 -> uint64 cast truncates; the maximum maps to exactly 2^63.
    return scaled.astype(np.uint64)


def _osm_like_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` keys in dense clusters of heavy-tailed sizes at random places in [0, 2^63)."""
    # Cluster sizes: a multinomial split of n over Pareto(shape 1.5) weights, so sizes are
    # heavy-tailed and some clusters get one key or none.
    n_clusters = max(1, math.ceil(n / OSM_MEAN_CLUSTER_SIZE))
    weights = rng.pareto(OSM_CLUSTER_SIZE_SHAPE, n_clusters) + 1.0
    sizes = rng.multinomial(n, weights / weights.sum())
    cluster = np.repeat(np.arange(n_clusters), sizes)

    # Inside a cluster, neighbors are a geometric gap apart (each gap >= 1). The mean gap is
    # log-uniform per cluster, so some clusters are much denser than others.
    log_gap = rng.uniform(np.log(OSM_MIN_MEAN_GAP), np.log(OSM_MAX_MEAN_GAP), n_clusters)
    gaps = rng.geometric(np.exp(-log_gap)[cluster])

    # Offsets from each cluster's first key: a running sum of the gaps restarted at every
    # cluster start.
    # Empty clusters are skipped: their first index may equal n.
    filled = sizes > 0
    first = (np.cumsum(sizes) - sizes)[filled]
    gaps[first] = 0
    offsets = np.cumsum(gaps)
    restart = np.zeros(n_clusters, dtype=np.int64)
    restart[filled] = offsets[first]
    offsets -= restart[cluster]
    spans = np.zeros(n_clusters, dtype=np.int64)
    spans[filled] = offsets[first + sizes[filled] - 1]

    # Each cluster starts uniformly at random where it still fits below 2^63. Clusters
    # may overlap; keys that coincide are kept as duplicates.
    highs = np.uint64(KEY_RANGE) - spans.astype(np.uint64)
    starts = rng.integers(0, highs, dtype=np.uint64)
    return np.sort(starts[cluster] + offsets.astype(np.uint64))


def _convert(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert sorted uint64 keys in [0, 2^63] to ``dtype`` keeping them sorted."""
    if dtype == np.uint64:
        return keys
    if dtype == np.int64:
        return np.minimum(keys, np.uint64(KEY_RANGE - 1)).astype(np.int64)
    return keys.astype(np.float64)


def synthetic_keys(
    name: str, n: int, *, seed: int = 0, dtype: DTypeLike = np.uint64
) -> np.ndarray:
    """Generate a sorted synthetic key set of size ``n`` from one of SOSD's distributions.

    Every set except ``"uniform_dense"`` comes from ``n`` seeded random draws.
    SOSD's own normal and lognormal files use the ``n`` evenly spaced
    quantiles instead (its gen_norm.py), so these sets have the same shape
    plus sampling noise. Duplicates are kept wherever the generator produces them.

    - ``"uniform"``: integers drawn uniformly from [0, 2^63), the sparse
      uniform set of SOSD restricted to 63 bits so that it fits in int64.
      Duplicates are possible but rare (about n^2 / 2^64 expected).
    - ``"uniform_dense"``: the consecutive integers 42, 43, ..., 42 + n - 1,
      as SOSD's dense uniform set. ``seed`` has no effect.
    - ``"normal"``: standard normal draws ``x``, mapped as
      ``key = floor((x - min(x)) / (max(x) - min(x)) * 2^63)``, computed in float64.
    - ``"lognormal"``: lognormal draws with mu 0 and sigma 2, mapped the same
      way, so the smallest key is 0 and the largest is exactly 2^63. SOSD's
      gen_norm.py multiplies by 2^63 - 1, which float64 rounds to 2^63, so
      the scaling is the same. With n = 1 the single key is 0.
    - ``"osm_like"``: clustered keys imitating SOSD's OpenStreetMap cell ids.
      The n keys are split over ceil(n / 100) clusters by multinomial
      sampling with Pareto weights (shape 1.5), so cluster sizes are
      heavy-tailed: with n = 10^6 (seeds 0-4), splitting the keys at gaps
      above 2^32 gave a largest cluster 117 to 541 times the median cluster
      size. Inside a
      cluster, neighbors are a geometric gap apart whose mean is log-uniform
      in [2^4, 2^20] per cluster. Each cluster starts uniformly at random in
      [0, 2^63) where it fits. Gaps between clusters are therefore about
      2^63 / (n / 100), far larger than the gaps inside them. Overlapping
      clusters may produce duplicates. Real cell ids span the full 64-bit
      range; these stay below 2^63 so that they fit in int64.

    Parameters
    ----------
    name : {"uniform", "uniform_dense", "normal", "lognormal", "osm_like"}
        The distribution.
    n : int
        Number of keys, >= 0.
    seed : int
        Seed of the random draws, >= 0; the same seed gives the same keys.
    dtype : {np.uint64, np.int64, np.float64}
        dtype of the keys. The keys are generated as uint64 and converted:
        int64 maps the lognormal and normal maximum 2^63 to 2^63 - 1. float64
        rounds keys above 2^53 to the nearest float64 (spacing 2^10 near
        2^63), so neighboring keys can merge into duplicates and the largest
        "uniform" keys can round up to 2^63.

    Returns
    -------
    ndarray of shape (n,) and the requested dtype
        The keys in ascending order.

    Raises
    ------
    TypeError
        If ``name`` is not a str, ``n`` or ``seed`` is not an int, or
        ``dtype`` is not a dtype.
    ValueError
        If ``name`` is unknown (the message lists the choices), ``n`` or
        ``seed`` is negative, or ``dtype`` is not uint64, int64 or float64.
    """
    check_choice("name", name, SYNTHETIC_KEY_SETS)
    n = _check_count("n", n)
    seed = _check_count("seed", seed)
    resolved = _check_dtype(dtype)

    rng = np.random.default_rng(seed)
    if n == 0:
        keys = np.empty(0, dtype=np.uint64)
    elif name == "uniform":
        keys = np.sort(rng.integers(0, KEY_RANGE, size=n, dtype=np.uint64))
    elif name == "uniform_dense":
        keys = np.arange(DENSE_OFFSET, DENSE_OFFSET + n, dtype=np.uint64)
    elif name == "normal":
        keys = _min_max_scaled(rng.standard_normal(n))
    elif name == "lognormal":
        keys = _min_max_scaled(rng.lognormal(0.0, LOGNORMAL_SIGMA, n))
    else:
        keys = _osm_like_keys(rng, n)
    return _convert(keys, resolved)


# --- keys from the project's real data -----------------------------------------------


def _uint64_column(values: np.ndarray, column_name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.int64)
    if values.size and values.min() < 0:
        raise DataFormatError(
            f"{column_name} contains negative values; they cannot be uint64 keys."
        )
    return values.astype(np.uint64)


def _movielens_timestamps(download: bool) -> np.ndarray:
    from workbench.data import load_movielens

    frame = load_movielens("100k", download=download).frame
    return np.sort(_uint64_column(frame["timestamp"].to_numpy(), "MovieLens 100k timestamp"))


def _movielens_user_item(download: bool) -> np.ndarray:
    from workbench.data import load_movielens

    frame = load_movielens("100k", download=download).frame
    users = _uint64_column(frame["user_id"].astype("int64").to_numpy(), "MovieLens user_id")
    items = _uint64_column(frame["item_id"].astype("int64").to_numpy(), "MovieLens item_id")
    if items.size and max(users.max(), items.max()) >= 2**32:
        raise DataFormatError("MovieLens ids must be below 2^32 to form user * 2^32 + item keys.")
    # Sorting the composite key orders by user, then by item.
    return np.sort((users << np.uint64(32)) | items)


def _adult_fnlwgt(download: bool) -> np.ndarray:
    from workbench.data import load_adult

    frame = load_adult("all", download=download).frame
    return np.sort(_uint64_column(frame["fnlwgt"].to_numpy(), "Adult fnlwgt"))


_REAL_LOADERS = {
    "movielens_timestamps": _movielens_timestamps,
    "movielens_user_item": _movielens_user_item,
    "adult_fnlwgt": _adult_fnlwgt,
}


def real_keys(
    name: str, n: int | None = None, *, seed: int = 0, download: bool = True
) -> np.ndarray:
    """Load a sorted uint64 key set taken from a column of the project's real datasets.

    Sizes and duplicates (keys minus distinct keys), counted with numpy on the
    registered files:

    - ``"movielens_timestamps"``: the 100,000 rating timestamps of MovieLens
      100k (Unix seconds, 874,724,710 to 893,286,638, that is 1997-09-20 to
      1998-04-22 UTC). 49,282 distinct, 50,718 duplicates.
    - ``"movielens_user_item"``: ``user_id * 2^32 + item_id`` of the same
      100,000 ratings; all distinct, because no user rates a movie twice.
    - ``"adult_fnlwgt"``: the census weight ``fnlwgt`` of all 48,842 Adult
      rows (train then test), 12,285 to 1,490,400. 28,523 distinct, 20,319
      duplicates.

    Parameters
    ----------
    name : {"movielens_timestamps", "movielens_user_item", "adult_fnlwgt"}
        The key set.
    n : int or None
        None returns every key. An int returns a seeded random sample of
        ``n`` keys drawn without replacement (duplicates in the sample come
        from duplicates in the data), at most the set's size.
    seed : int
        Seed of the sample, >= 0.
    download : bool
        Download missing data files (see :mod:`workbench.data`).

    Returns
    -------
    ndarray of uint64, shape (n,) or (size,)
        The keys in ascending order.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value, or ``n`` exceeds the set's size.
    workbench.data.DataNotFoundError
        If a data file is missing and cannot be downloaded.
    """
    check_choice("name", name, REAL_KEY_SETS)
    if n is not None:
        n = _check_count("n", n)
    seed = _check_count("seed", seed)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {download!r}.")

    keys = _REAL_LOADERS[name](download)
    if n is None:
        return keys
    if n > keys.size:
        raise ValueError(
            f"invalid n={n!r}: key set {name!r} has only {keys.size} keys; "
            f"pass n <= {keys.size} or n=None."
        )
    rng = np.random.default_rng(seed)
    return keys[np.sort(rng.choice(keys.size, size=n, replace=False, shuffle=False))]


# --- one entry point ---------------------------------------------------------------


def load_keys(name: str, n: int | None = None, *, seed: int = 0) -> np.ndarray:
    """Load any key set of :data:`KEY_SETS` by name, sorted.

    - synthetic sets: ``synthetic_keys(name, n, seed=seed)`` as uint64; ``n`` is required.
    - real sets: ``real_keys(name, n, seed=seed)``; None loads every key.
    - SOSD sets: ``load_sosd(name, n, sample="random", seed=seed)``, a seeded
      random sample of ``n`` keys, because the first ``n`` keys of a sorted
      file cover only a sliver of its range; None loads all 200M keys
      (1.6 GB of memory).

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not in :data:`KEY_SETS` (the message lists them), or
        ``n`` is missing for a synthetic set, or an argument is invalid.
    """
    check_choice("name", name, KEY_SETS)
    if name in SYNTHETIC_KEY_SETS:
        if n is None:
            raise ValueError(
                f"n is required for the synthetic key set {name!r}; pass a size such as "
                "n=1_000_000."
            )
        return synthetic_keys(name, n, seed=seed)
    if name in REAL_KEY_SETS:
        return real_keys(name, n, seed=seed)
    return load_sosd(name, n, sample="random", seed=seed)
