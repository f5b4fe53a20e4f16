"""Learned-index benchmark: every structure against pygm, numpy.searchsorted and bisect.

For each key set (SOSD-style uniform, lognormal and osm-like), each size and
each epsilon, the script builds PGMIndex, FITingTree, RadixSpline and the
sampled PGM (and, once per key set, an RMI and an ALEXIndex) and measures:

- build seconds, index size (bytes and % of the key array), bottom-level
  models and maximum error;
- batch lookup throughput on the same random existing keys, one call, one
  core, in random order and sorted;
- side by side in the same run: pygm's ``SortedList`` (build, segment count,
  its per-key ``bisect_left`` in a Python loop), ``numpy.searchsorted`` on
  the queries in random order and sorted, and ``bisect.bisect_left`` in a loop.

The targets are printed at the end. PGM segment counts should equal pygm's
(built single-threaded). At the largest size, PGM batch throughput should be
at least that of ``numpy.searchsorted`` on sorted queries and 3x pygm's loop.
PGM should build no slower than pygm and take under 1% of the keys' bytes at
epsilon 64 on uniform and lognormal keys.

Run: ``python tests/benchmarks/bench_index.py`` (1M and 10M keys, about 15
minutes on 2 cores) or ``--quick`` (100k keys).
"""

from __future__ import annotations

import os

# pygm parallelizes its build with OpenMP; with two threads it can produce
# one segment more than the optimum, so it is pinned to one thread, as ours runs.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import bisect  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from workbench.index import (  # noqa: E402
    ALEXIndex,
    FITingTree,
    PGMIndex,
    RadixSpline,
    RMI,
    SampledIndex,
    synthetic_keys,
)

try:
    import pygm  # noqa: E402
except ImportError:  # the reference is optional; its columns stay empty
    pygm = None


def best_seconds(function: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def structures(epsilon: int) -> dict[str, Callable[[np.ndarray], Any]]:
    return {
        "PGMIndex": lambda keys: PGMIndex(keys, epsilon=epsilon),
        "FITingTree": lambda keys: FITingTree(keys, epsilon=epsilon),
        # About n / 64 radix table entries, at most the default 2^18.
        "RadixSpline": lambda keys: RadixSpline(
            keys, epsilon=epsilon, radix_bits=max(min(18, keys.size.bit_length() - 6), 1)),
        "SampledIndex (PGM, 1%)": lambda keys: SampledIndex(keys, sample_rate=0.01,
                                                            epsilon=epsilon),
    }


def once_per_key_set() -> dict[str, Callable[[np.ndarray], Any]]:
    return {
        "RMI (linear root, n/256 leaves)": lambda keys: RMI(keys, branching=max(keys.size // 256, 1)),
        "ALEXIndex": lambda keys: ALEXIndex(keys),
    }


def measure(name: str, build: Callable[[np.ndarray], Any], keys: np.ndarray,
            queries: np.ndarray, sorted_queries: np.ndarray, truth: np.ndarray,
            repeats: int) -> dict[str, Any]:
    index, seconds = timed(lambda: build(keys))
    # Exactness is part of the benchmark: a fast wrong result does not count.
    if not np.array_equal(index.lower_bound(queries), truth):
        raise AssertionError(f"{name} returned a wrong lower bound")
    index.lower_bound(queries[:1000])                    # compile and warm up
    random_seconds = best_seconds(lambda: index.lower_bound(queries), repeats)
    sorted_seconds = best_seconds(lambda: index.lower_bound(sorted_queries), repeats)
    stats = index.stats()
    return {"structure": name, "build_s": seconds, "size_bytes": int(index.size_bytes),
            "size_pct": 100.0 * index.size_bytes / keys.nbytes, "models": len(index.models()),
            "max_error": float(stats["max_abs_error"]),
            "random_per_s": queries.size / random_seconds,
            "sorted_per_s": queries.size / sorted_seconds}


def measure_pygm(keys: np.ndarray, epsilon: int, queries: np.ndarray,
                 loop_queries: int) -> dict[str, Any] | None:
    if pygm is None:
        return None
    # NOTE: pygm 1.0.1 crashes the process on a lookup of UINT64_MAX; the
    # synthetic keys stay below 2^63 + 1, so no query reaches it.
    index, seconds = timed(lambda: pygm.SortedList(keys, epsilon=epsilon))
    probe = queries[:loop_queries].tolist()
    lookup = index.bisect_left
    loop_seconds = best_seconds(lambda: [lookup(q) for q in probe], 1)
    stats = index.stats()
    return {"structure": "pygm SortedList (per-key loop)", "build_s": seconds,
            "models": int(stats["leaf segments"]), "size_bytes": int(stats["index size"]),
            "size_pct": 100.0 * stats["index size"] / keys.nbytes,
            "random_per_s": len(probe) / loop_seconds}


def measure_baselines(keys: np.ndarray, queries: np.ndarray, sorted_queries: np.ndarray,
                      loop_queries: int, repeats: int) -> list[dict[str, Any]]:
    key_list = keys.tolist()
    probe = queries[:loop_queries].tolist()
    rows = [
        {"structure": "numpy.searchsorted",
         "random_per_s": queries.size / best_seconds(lambda: np.searchsorted(keys, queries),
                                                     repeats),
         "sorted_per_s": queries.size / best_seconds(
             lambda: np.searchsorted(keys, sorted_queries), repeats)},
        {"structure": "numpy.sort + searchsorted",
         "random_per_s": queries.size / best_seconds(
             lambda: np.searchsorted(keys, np.sort(queries)), repeats)},
        {"structure": "bisect.bisect_left loop",
         "random_per_s": len(probe) / best_seconds(
             lambda: [bisect.bisect_left(key_list, q) for q in probe], 1)},
    ]
    return rows


def format_rate(value: float | None) -> str:
    return "" if value is None else f"{value / 1e6:.2f}M"


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| keys | n | epsilon | structure | build s | size % | models | max error | "
          "lookups/s random | lookups/s sorted |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        size = row.get("size_pct")
        error = row.get("max_error")
        build = row.get("build_s")
        print(f"| {row['keys']} | {row['n']:,} | {row.get('epsilon', '')} | {row['structure']} | "
              f"{'' if build is None else f'{build:.3f}'} | "
              f"{'' if size is None else f'{size:.3f}'} | {row.get('models', '')} | "
              f"{'' if error is None else f'{error:.1f}'} | "
              f"{format_rate(row.get('random_per_s'))} | {format_rate(row.get('sorted_per_s'))} |")


def check_targets(rows: list[dict[str, Any]], largest: int) -> None:
    print("\nTargets:")
    for key_set in sorted({row["keys"] for row in rows}):
        for n in sorted({row["n"] for row in rows if row["keys"] == key_set}):
            subset = [row for row in rows if row["keys"] == key_set and row["n"] == n]
            baseline = next(row for row in subset if row["structure"] == "numpy.searchsorted")
            for epsilon in sorted({row["epsilon"] for row in subset if row.get("epsilon")}):
                ours = next(row for row in subset if row["structure"] == "PGMIndex"
                            and row.get("epsilon") == epsilon)
                theirs = next((row for row in subset if row["structure"].startswith("pygm")
                               and row.get("epsilon") == epsilon), None)
                label = f"{key_set} n={n:,} eps={epsilon}"
                if theirs is not None:
                    print(f"- {label}: segments ours {ours['models']} / pygm {theirs['models']}; "
                          f"build ours/pygm {ours['build_s'] / theirs['build_s']:.2f}; "
                          f"batch lookups ours/pygm loop "
                          f"{ours['random_per_s'] / theirs['random_per_s']:.1f}x")
                if n == largest:
                    print(f"- {label}: batch lookups ours (random order) / numpy sorted "
                          f"{ours['random_per_s'] / baseline['sorted_per_s']:.2f}; "
                          f"ours (sorted) / numpy sorted "
                          f"{ours['sorted_per_s'] / baseline['sorted_per_s']:.2f}")
                if epsilon == 64 and key_set in ("uniform", "lognormal"):
                    print(f"- {label}: PGM size {ours['size_pct']:.4f}% of the keys")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="key counts to benchmark")
    parser.add_argument("--key-sets", nargs="+", default=["uniform", "lognormal", "osm_like"])
    parser.add_argument("--epsilons", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--queries", type=int, default=1_000_000,
                        help="random existing keys per batch lookup")
    parser.add_argument("--loop-queries", type=int, default=200_000,
                        help="queries for the per-key Python loops (pygm, bisect)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per measurement; best kept")
    parser.add_argument("--quick", action="store_true", help="100k keys and queries, one epsilon")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.sizes, arguments.epsilons = [100_000], [64]
        arguments.queries, arguments.loop_queries = 100_000, 20_000

    print(f"# bench_index.py on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {datetime.date.today()}, pygm "
          f"{getattr(pygm, '__version__', 'not installed')}, numpy {np.__version__}\n")
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)
    for n in arguments.sizes:
        for key_set in arguments.key_sets:
            keys = synthetic_keys(key_set, n, seed=0)
            queries = rng.choice(keys, arguments.queries)
            sorted_queries = np.sort(queries)
            truth = np.searchsorted(keys, queries)
            common = {"keys": key_set, "n": n}
            for row in measure_baselines(keys, queries, sorted_queries, arguments.loop_queries,
                                         arguments.repeats):
                rows.append({**common, **row})
            for name, build in once_per_key_set().items():
                rows.append({**common, **measure(name, build, keys, queries, sorted_queries,
                                                 truth, arguments.repeats)})
            for epsilon in arguments.epsilons:
                for name, build in structures(epsilon).items():
                    rows.append({**common, "epsilon": epsilon,
                                 **measure(name, build, keys, queries, sorted_queries, truth,
                                           arguments.repeats)})
                reference = measure_pygm(keys, epsilon, queries, arguments.loop_queries)
                if reference is not None:
                    rows.append({**common, "epsilon": epsilon, **reference})
            print(f"done: {key_set}, {n:,} keys", flush=True)
    print()
    print_table(rows)
    check_targets(rows, max(arguments.sizes))


if __name__ == "__main__":
    main()
