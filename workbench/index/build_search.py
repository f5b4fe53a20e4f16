"""Building a learned index step by step, as a steerable :class:`~workbench.core.Search`.

One step of :class:`IndexBuild` does one unit of the build, so a panel can
draw the model as it grows:

- ``"pgm"``: one block of level-0 segments (the optimal piecewise-linear
  segmentation resumes exactly where the previous block stopped), then one
  step for all upper levels;
- ``"rmi"``: one step per stage (the root model, then the leaves);
- every other structure: one step for the whole build.

Steering that changes epsilon, the branching factor, the RMI root model, the
sample rate or the structure itself restarts the build. Other steering
actions insert keys into the updatable structures and look up a chosen key.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from workbench.core import Search, steering
from workbench.core.validation import check_choice, check_float, check_int
from workbench.index.base import LearnedIndex, LookupTrace, ModelLines
from workbench.index.keys import MAX_BRANCHING, MAX_EPSILON, check_keys
from workbench.index.kernels import first_positions
from workbench.index.pgm import PGMIndex, key_space, model_space
from workbench.index.pla import segment_block
from workbench.index.rmi import RMI, ROOT_MODELS

STRUCTURES = ("pgm", "rmi", "fiting_tree", "radix_spline", "alex", "sampled")
UPDATABLE = ("fiting_tree", "alex")
TARGET_STEPS = 20             # level-0 blocks of a PGM build by default
FIRST_BLOCK_SEGMENTS = 16     # segments of the first block, used to size the others
MIN_BLOCK_SEGMENTS = 4
ERROR_SAMPLE_SIZE = 100_000   # keys whose prediction error goes into the snapshot
DEFAULT_SWEEP = (4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclasses.dataclass(frozen=True)
class BuildRecord:
    """One finished build: its settings and the size and accuracy of the result."""

    structure: str
    epsilon: int
    branching: int
    root: str
    n_keys: int
    models: int
    size_bytes: int
    max_abs_error: float
    mean_abs_error: float
    build_seconds: float


@dataclasses.dataclass(frozen=True)
class IndexSnapshot:
    """Render-ready view of an :class:`IndexBuild`.

    Attributes
    ----------
    structure : str
    settings : dict
        ``epsilon``, ``branching``, ``root`` and ``sample_rate``.
    keys : ndarray, shape (n,)
        The current keys (read-only view).
    phase : str
        What the next step does, or ``"done"``.
    progress : float
        Fraction of the unique keys covered by the models built so far.
    lines : ModelLines
        Bottom-level models built so far.
    root_curve : tuple of ndarray or None
        An RMI root's (keys, predicted positions) once the root is fitted.
    stats : dict or None
        The finished index's :meth:`~workbench.index.base.LearnedIndex.stats`.
    error_keys, errors : ndarray or None, shape (k,)
        Up to ``ERROR_SAMPLE_SIZE`` evenly spaced keys and their signed
        errors, predicted minus true position.
    history : tuple of BuildRecord
        Every finished build, oldest first.
    sweep : tuple of BuildRecord
        Builds of :meth:`IndexBuild.sweep_epsilon`, for a segments-versus-epsilon plot.
    lookup : LookupTrace or None
        The last key looked up with :meth:`IndexBuild.lookup`.
    n_inserted : int
        Keys inserted since the search was created.
    n_steps : int
    """

    structure: str
    settings: dict
    keys: np.ndarray
    phase: str
    progress: float
    lines: ModelLines
    root_curve: tuple[np.ndarray, np.ndarray] | None
    stats: dict | None
    error_keys: np.ndarray | None
    errors: np.ndarray | None
    history: tuple[BuildRecord, ...]
    sweep: tuple[BuildRecord, ...]
    lookup: LookupTrace | None
    n_inserted: int
    n_steps: int


def empty_lines(dtype: np.dtype) -> ModelLines:
    """Return a :class:`ModelLines` with no models."""
    bound = np.zeros(0, dtype=np.int64)
    return ModelLines(np.zeros(0, dtype), np.zeros(0, dtype), np.zeros(0), np.zeros(0), bound,
                      bound.copy())


def index_class(structure: str) -> type:
    """Return the class that builds ``structure`` (one of :data:`STRUCTURES`)."""
    check_choice("structure", structure, STRUCTURES)
    import workbench.index as index_package
    names = {"pgm": "PGMIndex", "rmi": "RMI", "fiting_tree": "FITingTree",
             "radix_spline": "RadixSpline", "alex": "ALEXIndex", "sampled": "SampledIndex"}
    return getattr(index_package, names[structure])


class IndexBuild(Search):
    """Build a learned index step by step, with live steering.

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys; duplicates are allowed.
    structure : {"pgm", "rmi", "fiting_tree", "radix_spline", "alex", "sampled"}
    epsilon : int, default 64
        Error bound of PGM, FITing-Tree, RadixSpline and the sampled PGM.
    branching : int, default 1024
        Number of RMI leaves.
    root : {"linear", "cubic", "radix"}, default "linear"
        RMI root model.
    sample_rate : float, default 0.01
        Landmark fraction of the ``"sampled"`` structure (a PGM on the sample).
    segments_per_step : int, optional
        Level-0 segments per PGM step. By default a build takes about
        ``TARGET_STEPS`` steps.
    sort : bool, default False
        Sort unsorted keys instead of raising ``ValueError``.

    Example
    -------
    >>> search = IndexBuild(np.arange(0, 10_000, 3, dtype=np.uint64), epsilon=8)
    >>> while not search.done:
    ...     _ = search.step()
    >>> int(search.index.lower_bound(np.array([9], dtype=np.uint64))[0])
    3
    """

    def __init__(self, keys: Any, structure: str = "pgm", *, epsilon: int = 64,
                 branching: int = 1024, root: str = "linear", sample_rate: float = 0.01,
                 segments_per_step: int | None = None, sort: bool = False) -> None:
        super().__init__()
        self.keys = check_keys(keys, sort=sort)
        self.structure = check_choice("structure", structure, STRUCTURES)
        self.epsilon = check_int("epsilon", epsilon, minimum=1, maximum=MAX_EPSILON)
        self.branching = check_int("branching", branching, minimum=1, maximum=MAX_BRANCHING)
        self.root = check_choice("root", root, ROOT_MODELS)
        self.sample_rate = check_float("sample_rate", sample_rate, minimum=0.0, maximum=1.0,
                                       exclusive_minimum=True)
        self.segments_per_step = (None if segments_per_step is None else
                                  check_int("segments_per_step", segments_per_step, minimum=1,
                                            maximum=MAX_BRANCHING))
        self.index: LearnedIndex | None = None
        self.history: list[BuildRecord] = []
        self.sweep: list[BuildRecord] = []
        self.last_lookup: LookupTrace | None = None
        self.n_inserted = 0
        self._restart()

    # ------------------------------------------------------------------ build steps

    def _restart(self) -> None:
        """Forget the current build; the next step starts a new one with the current settings."""
        self.index = None
        self.last_lookup = None
        self._phase = {"pgm": "level-0 segments", "rmi": "root model"}.get(self.structure,
                                                                             "build")
        self._build_seconds = 0.0
        self._lines = empty_lines(self.keys.dtype)
        self._error_keys = self._errors = None
        self._stats: dict | None = None
        self._unique = self._positions = None
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._next_point = 0
        self._block_size = self.segments_per_step
        self._rmi: RMI | None = None

    @property
    def done(self) -> bool:
        return self._phase == "done"

    def _step(self) -> dict[str, Any]:
        started = time.perf_counter()
        phase = self._phase
        if self.structure == "pgm":
            self._step_pgm()
        elif self.structure == "rmi":
            self._step_rmi()
        else:
            self.index = index_class(self.structure)(self.keys, **self._build_params())
            self._phase = "done"
        self._build_seconds += time.perf_counter() - started
        if self._phase == "done":
            self._finish()
        return {"structure": self.structure, "phase": phase, "progress": self._progress(),
                "seconds": time.perf_counter() - started}

    def _build_params(self) -> dict[str, Any]:
        if self.structure == "sampled":
            return {"base": "pgm", "sample_rate": self.sample_rate, "epsilon": self.epsilon}
        if self.structure == "alex":
            return {}
        return {"epsilon": self.epsilon}

    def _step_pgm(self) -> None:
        if self._unique is None:
            if self.keys.size == 0:
                self.index = PGMIndex(self.keys, epsilon=self.epsilon)
                self._phase = "done"
                return
            self._unique, self._positions = first_positions(model_space(self.keys))
        if self._phase == "level-0 segments":
            size = self._block_size or FIRST_BLOCK_SEGMENTS
            starts, slopes, intercepts, next_point = segment_block(
                self._unique, self._positions, self.epsilon, self._next_point, size)
            self._blocks.append((starts, slopes, intercepts))
            if self._block_size is None:
                # Size later blocks from the keys the first block covered.
                covered = max(next_point, 1) / len(self._unique)
                self._block_size = max(MIN_BLOCK_SEGMENTS,
                                       math.ceil(size / covered / TARGET_STEPS))
            self._next_point = next_point
            self._lines = self._pgm_lines()
            if next_point >= len(self._unique):
                self._phase = "upper levels"
            return
        level0 = tuple(np.concatenate(parts) for parts in zip(*self._blocks))
        self.index = PGMIndex.from_level0(self.keys, level0, epsilon=self.epsilon)
        self._phase = "done"

    def _pgm_lines(self) -> ModelLines:
        starts, slopes, intercepts = (np.concatenate(parts) for parts in zip(*self._blocks))
        ends = np.r_[starts[1:], self._next_point] - 1
        first = key_space(self._unique[starts], self.keys.dtype)
        last = key_space(self._unique[ends], self.keys.dtype)
        bound = np.full(len(starts), self.epsilon, dtype=np.int64)
        return ModelLines(first, last, slopes, intercepts, bound, bound.copy())

    def _step_rmi(self) -> None:
        if self._phase == "root model":
            self._rmi = RMI.unfitted(self.keys, branching=self.branching, root=self.root)
            self._rmi.fit_root()
            self._phase = "leaves"
            return
        self._rmi.fit_leaves()
        self.index = self._rmi
        self._phase = "done"

    def _progress(self) -> float:
        if self._phase == "done":
            return 1.0
        if self.structure == "pgm" and self._unique is not None and len(self._unique):
            return self._next_point / len(self._unique)
        return 0.0

    def _finish(self) -> None:
        """Record the finished build: its models, error sample, stats and history entry."""
        self._lines = self.index.models()
        n = self.keys.size
        if n:
            chosen = np.unique(np.linspace(0, n - 1, min(n, ERROR_SAMPLE_SIZE)).astype(np.int64))
            self._error_keys = self.keys[chosen]
            result = self.index.query(self._error_keys)
            self._errors = result.predicted - result.positions
        self._stats = self.index.stats()
        self.history.append(self._record(self.index, self._stats, self._build_seconds))

    def _record(self, index: LearnedIndex, stats: dict, seconds: float) -> BuildRecord:
        return BuildRecord(self.structure, self.epsilon, self.branching, self.root,
                           int(self.keys.size), len(index.models()), int(index.size_bytes),
                           float(stats.get("max_abs_error", 0.0)),
                           float(stats.get("mean_abs_error", 0.0)), float(seconds))

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> IndexSnapshot:
        keys = self.keys.view()
        keys.flags.writeable = False
        curve = None
        if self._rmi is not None and hasattr(self._rmi, "_root"):
            curve = self._rmi.root_curve()
        return IndexSnapshot(
            structure=self.structure,
            settings={"epsilon": self.epsilon, "branching": self.branching, "root": self.root,
                      "sample_rate": self.sample_rate},
            keys=keys, phase=self._phase, progress=self._progress(), lines=self._lines,
            root_curve=curve, stats=self._stats if self.done else None,
            error_keys=self._error_keys, errors=self._errors, history=tuple(self.history),
            sweep=tuple(self.sweep), lookup=self.last_lookup, n_inserted=self.n_inserted,
            n_steps=self.n_steps)

    # ------------------------------------------------------------------ steering

    @steering
    def set_epsilon(self, epsilon: int) -> None:
        """Set the error bound and restart the build."""
        self.epsilon = check_int("epsilon", epsilon, minimum=1, maximum=MAX_EPSILON)
        self._restart()

    @steering
    def set_branching(self, branching: int) -> None:
        """Set the number of RMI leaves and restart the build."""
        self.branching = check_int("branching", branching, minimum=1, maximum=MAX_BRANCHING)
        self._restart()

    @steering
    def set_root(self, root: str) -> None:
        """Set the RMI root model and restart the build."""
        self.root = check_choice("root", root, ROOT_MODELS)
        self._restart()

    @steering
    def set_sample_rate(self, sample_rate: float) -> None:
        """Set the landmark fraction of the sampled structure and restart the build."""
        self.sample_rate = check_float("sample_rate", sample_rate, minimum=0.0, maximum=1.0,
                                       exclusive_minimum=True)
        self._restart()

    @steering
    def set_structure(self, structure: str) -> None:
        """Switch to another structure and restart the build."""
        self.structure = check_choice("structure", structure, STRUCTURES)
        self._restart()

    @steering
    def insert(self, keys: Any) -> int:
        """Insert ``keys`` into the finished updatable index; return the new key count."""
        if self.structure not in UPDATABLE:
            raise ValueError(f"structure {self.structure!r} is static and takes no inserts; "
                             f"switch to one of {UPDATABLE} with set_structure.")
        if not self.done:
            raise ValueError(f"the {self.structure} index is still being built (phase "
                             f"{self._phase!r}); step until the search is done, then insert.")
        before = self.index.keys.size
        self.index.insert(keys)
        self.keys = self.index.keys
        self.n_inserted += int(self.keys.size - before)
        self._finish()
        return int(self.keys.size)

    @steering
    def lookup(self, key: Any) -> LookupTrace:
        """Look up one key in the finished index and keep its trace for the snapshot.

        NOTE: the steering log stores arguments as JSON, which has no NaN or
        infinity, so such a float key raises ``ValueError`` here. Pass it to
        ``search.index.trace`` directly.
        """
        if not self.done:
            raise ValueError(f"the index is still being built (phase {self._phase!r}); "
                             f"step until the search is done, then look up a key.")
        self.last_lookup = self.index.trace(key)
        return self.last_lookup

    @steering
    def sweep_epsilon(self, epsilons: Any = DEFAULT_SWEEP) -> None:
        """Build the current structure once per epsilon and record segments and size of each.

        The current build is not changed. An RMI is swept over its branching
        factor instead, with the same values.
        """
        if self.structure in ("alex", "sampled"):
            raise ValueError(f"structure {self.structure!r} has no error bound or branching "
                             f"factor to sweep; switch to another structure with set_structure "
                             f"(for sample rates use workbench.index.sampling_tradeoff).")
        values = [check_int("epsilons", value, minimum=1, maximum=MAX_EPSILON)
                  for value in np.atleast_1d(epsilons)]
        if not values:
            raise ValueError("epsilons is empty; pass error bounds such as (16, 64, 256).")
        saved = (self.epsilon, self.branching)
        try:
            for value in values:
                if self.structure == "rmi":
                    self.branching = value
                    params = {"branching": value, "root": self.root}
                else:
                    self.epsilon = value
                    params = self._build_params()
                started = time.perf_counter()
                index = index_class(self.structure)(self.keys, **params)
                self.sweep.append(self._record(index, index.stats(),
                                               time.perf_counter() - started))
        finally:
            self.epsilon, self.branching = saved
