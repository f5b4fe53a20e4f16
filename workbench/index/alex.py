"""ALEX: an updatable learned index of gapped arrays under a tree of linear models.

Ding, Minhas, Yu, Wang, Do, Li, Zhang, Chandramouli, Gehrke, Kossmann, Lomet
& Kraska, "ALEX: An Updatable Adaptive Learned Index", SIGMOD 2020.

Layout. An inner node stores a linear model from key to child slot and an
array of child pointers, where adjacent slots may point to the same child.
A data node stores a linear model from key to slot and a gapped array. Each
key sits at or near its predicted slot, and each gap contains a copy of the
nearest key to its right (the largest value of the dtype after the last key),
so the array stays sorted. An occupancy array marks the slots that contain keys.

Lookup. Each inner node's model picks a child, down to a data node. That
node's model predicts a slot, an exponential search from that slot brackets
the lower bound, and a binary search inside the bracket finishes it.

Insert. The same descent and search find the insertion point. If the gap run
at that point reaches the predicted slot the key goes to that slot, else into
the gap of the run nearest to it. With no gap at that point, the keys up to
the nearest gap on either side shift one slot towards it.

Expansion and splits. When an insert would raise a data node's density above
the upper bound, the node grows until its density is the lower bound, and its
model is retrained on its keys, which are placed again by the new model. A node
that reaches ``max_node_keys`` keys splits instead. It splits sideways,
into two data nodes that share its parent slots, when it covers several
slots. Otherwise it splits downwards, into a new inner node with its own model
and data nodes below. When the node at the edge of an inner node contains keys
beyond that inner node's range (a run of appends), the inner node first grows
new slots on that side under the same model.

Model arithmetic is float64 on ``key - first`` computed exactly in the keys'
own type. Key comparisons are exact. Int64 keys live in a uint64 model space
(``model_space``), which preserves order and differences.

NOTE: there is no cost model. Fixed density bounds and ``max_node_keys``
decide between expansion and split, inner fanouts follow from
``max_node_keys``, and a sideways split cuts at the slot boundary that best
balances the two halves instead of at a power-of-two boundary. Inner nodes
never double their fanout, so a data node that covers one slot always splits
downwards. Deletes are not implemented.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numba
import numpy as np

from workbench.core.validation import check_float, check_int
from workbench.index.base import LearnedIndex, LookupTrace, ModelLines
from workbench.index.keys import MAX_NODE_KEYS, check_keys, convert_inserts, convert_queries
from workbench.index.pgm import key_space, model_space

SLOT_LIMIT = 2.0**62             # model outputs are clipped to +-2^62 before floor, to fit int64
MIN_CAPACITY = 16                # slots of the smallest gapped array
MAX_INNER_FANOUT = 1 << 16       # an inner node never grows more child slots than this
MAX_PROBES = 256                 # exponential plus binary search on int64 slots reads at most 130


# ---------------------------------------------------------------------------
# Compiled kernels. Keys are in model space: uint64 (also for int64 keys) or float64.
# ---------------------------------------------------------------------------

@numba.njit(cache=True)
def _model_x(key, first):
    """Return ``key - first`` as float64, subtracted exactly in the keys' type before rounding."""
    if key == first:
        return 0.0
    if key > first:
        return float(key - first)
    return -float(first - key)


@numba.njit(cache=True)
def _model_xs(keys, first):
    out = np.empty(keys.shape[0], dtype=np.float64)
    for i in range(keys.shape[0]):
        out[i] = _model_x(keys[i], first)
    return out


@numba.njit(cache=True)
def _raw_slot(first, slope, intercept, offset, key):
    """Return ``floor(slope * (key - first) + intercept) + offset``, non-decreasing in ``key``."""
    if slope == 0.0:
        value = intercept
    else:
        value = slope * _model_x(key, first) + intercept
    if not value > -SLOT_LIMIT:          # also NaN
        value = -SLOT_LIMIT
    elif value > SLOT_LIMIT:
        value = SLOT_LIMIT
    return int(math.floor(value)) + offset


@numba.njit(cache=True)
def _clamped_slot(first, slope, intercept, offset, key, size):
    """Return the model's slot for ``key`` clipped to ``[0, size)``."""
    slot = _raw_slot(first, slope, intercept, offset, key)
    return min(max(slot, 0), size - 1)


@numba.njit(cache=True)
def _raw_slots(keys, first, slope, intercept, offset):
    out = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        out[i] = _raw_slot(first, slope, intercept, offset, keys[i])
    return out


@numba.njit(cache=True)
def _fit_ranks(keys, first, scale):
    """Fit ``rank * scale`` against ``key - first`` by least squares over sorted ``keys``.

    Keys whose offset is not finite (infinite float keys) are left out of the
    fit. Returns ``(slope, intercept)`` with ``slope >= 0``.
    """
    m = keys.shape[0]
    used = 0
    sum_x = 0.0
    sum_y = 0.0
    for i in range(m):
        x = _model_x(keys[i], first)
        if math.isfinite(x):
            used += 1
            sum_x += x
            sum_y += i * scale
    if used == 0:
        return 0.0, (m - 1) * scale / 2.0
    mean_x = sum_x / used
    mean_y = sum_y / used
    sxx = 0.0
    sxy = 0.0
    for i in range(m):
        x = _model_x(keys[i], first)
        if math.isfinite(x):
            sxx += (x - mean_x) * (x - mean_x)
            sxy += (x - mean_x) * (i * scale - mean_y)
    slope = sxy / sxx if sxx > 0.0 else 0.0
    if not (slope > 0.0 and math.isfinite(slope)):
        slope = 0.0
    return slope, mean_y - slope * mean_x


@numba.njit(cache=True)
def _place(keys, capacity, first, slope, intercept, gap_value):
    """Place sorted ``keys`` into a gapped array of ``capacity`` slots at their predicted slots.

    A key whose predicted slot is taken goes to the next free slot, and no key
    goes so far right that the keys after it no longer fit. Gaps then take the
    nearest key to their right, trailing gaps ``gap_value``.
    """
    m = keys.shape[0]
    slots = np.empty(capacity, dtype=keys.dtype)
    occupied = np.zeros(capacity, dtype=np.bool_)
    previous = -1
    for i in range(m):
        position = _clamped_slot(first, slope, intercept, 0, keys[i], capacity)
        position = min(max(position, previous + 1), capacity - (m - i))
        slots[position] = keys[i]
        occupied[position] = True
        previous = position
    fill = gap_value
    for j in range(capacity - 1, -1, -1):
        if occupied[j]:
            fill = slots[j]
        else:
            slots[j] = fill
    return slots, occupied


@numba.njit(cache=True)
def _search_node(slots, start, end, guess, query, probes):
    """Find the first slot in ``[start, end)`` whose value is >= ``query`` (``end`` if none).

    An exponential search from ``guess`` brackets the lower bound in
    ``[low, high]`` and a binary search finishes it. Returns ``(slot, low, high, used)``, and
    records the slots read in ``probes[:used]`` (pass an empty array to skip).
    """
    used = 0
    if used < probes.shape[0]:
        probes[used] = guess
        used += 1
    step = 1
    if slots[guess] < query:
        low = guess + 1
        high = end
        while guess + step < end:
            index = guess + step
            if used < probes.shape[0]:
                probes[used] = index
                used += 1
            if slots[index] >= query:
                high = index
                break
            low = index + 1
            step *= 2
    else:
        low = start
        high = guess
        while guess - step >= start:
            index = guess - step
            if used < probes.shape[0]:
                probes[used] = index
                used += 1
            if slots[index] < query:
                low = index + 1
                break
            high = index
            step *= 2
    bracket_low, bracket_high = low, high
    while low < high:
        middle = (low + high) >> 1
        if used < probes.shape[0]:
            probes[used] = middle
            used += 1
        if slots[middle] < query:
            low = middle + 1
        else:
            high = middle
    return low, bracket_low, bracket_high, used


@numba.njit(cache=True)
def _nearest_gap(occupied, position):
    """Return the gap nearest to the insertion point before ``position`` (right side on ties)."""
    capacity = occupied.shape[0]
    distance = 0
    while position + distance < capacity or position - 1 - distance >= 0:
        right = position + distance
        left = position - 1 - distance
        if right < capacity and not occupied[right]:
            return right
        if left >= 0 and not occupied[left]:
            return left
        distance += 1
    return -1


@numba.njit(cache=True)
def _insert_run(slots, occupied, count, first, slope, intercept, keys, start, limit):
    """Insert ``keys[start:]`` into one data node while it contains fewer than ``limit`` keys.

    Returns ``(next key index, new count, slots shifted)``. ``limit`` must be
    below the capacity, so every insert finds a gap.
    """
    capacity = slots.shape[0]
    no_probes = np.empty(0, dtype=np.int64)
    shifts = 0
    i = start
    while i < keys.shape[0] and count < limit:
        key = keys[i]
        guess = _clamped_slot(first, slope, intercept, 0, key, capacity)
        position = _search_node(slots, 0, capacity, guess, key, no_probes)[0]
        # The slot before the insertion point always contains a key, because a gap there
        # would contain a copy of a key >= ``key`` and the search would have stopped at it.
        if position < capacity and not occupied[position]:
            # A gap run starts at the insertion point, so walk right towards the prediction.
            target = position
            while target < guess and not occupied[target + 1]:
                target += 1
            slots[position:target + 1] = key
            occupied[target] = True
        else:
            gap = _nearest_gap(occupied, position)
            if gap >= position:
                for t in range(gap, position, -1):
                    slots[t] = slots[t - 1]
                slots[position] = key
                shifts += gap - position
            else:
                for t in range(gap, position - 1):
                    slots[t] = slots[t + 1]
                slots[position - 1] = key
                shifts += position - 1 - gap
            occupied[gap] = True
        count += 1
        i += 1
    return i, count, shifts


@numba.njit(cache=True)
def _route_one(query, tree):
    """Return the data node id (permanent id) that ``query`` descends to from the root."""
    first, slope, intercept, offset, start, fanout, pointers = tree
    code = 0
    while code >= 0:
        slot = _clamped_slot(first[code], slope[code], intercept[code], offset[code], query,
                             fanout[code])
        code = pointers[start[code] + slot]
    return ~code


@numba.njit(cache=True)
def _route_batch(queries, tree):
    out = np.empty(queries.shape[0], dtype=np.int64)
    for i in range(queries.shape[0]):
        out[i] = _route_one(queries[i], tree)
    return out


@numba.njit(cache=True)
def _lookup_one(query, tree, nodes, pool, pool_rank, n, probes):
    """Look up one query; return (node id, lower bound, predicted rank, lo, hi, probes used)."""
    start_of, capacity_of, first, slope, intercept = nodes
    node = _route_one(query, tree)
    start = start_of[node]
    capacity = capacity_of[node]
    guess = start + _clamped_slot(first[node], slope[node], intercept[node], 0, query, capacity)
    slot, low, high, used = _search_node(pool, start, start + capacity, guess, query, probes)
    # pool_rank[s] counts the keys in slots before s, so it is the rank of slot s.
    return (node, pool_rank[slot], float(pool_rank[guess]), pool_rank[low],
            min(pool_rank[high] + 1, n), used)


@numba.njit(cache=True)
def _lookup_batch(queries, tree, nodes, pool, pool_rank, n, positions, predicted, lo, hi):
    no_probes = np.empty(0, dtype=np.int64)
    for i in range(queries.shape[0]):
        result = _lookup_one(queries[i], tree, nodes, pool, pool_rank, n, no_probes)
        positions[i], predicted[i], lo[i], hi[i] = result[1], result[2], result[3], result[4]


@numba.njit(cache=True)
def _data_order(start, fanout, pointers):
    """Return the data node ids in key order, by a depth-first walk from the root."""
    order = np.empty(pointers.shape[0], dtype=np.int64)
    stack_node = np.empty(start.shape[0], dtype=np.int64)
    stack_slot = np.empty(start.shape[0], dtype=np.int64)
    count = 0
    depth = 0
    stack_node[0] = 0
    stack_slot[0] = 0
    while depth >= 0:
        node = stack_node[depth]
        slot = stack_slot[depth]
        if slot == fanout[node]:
            depth -= 1
            continue
        stack_slot[depth] = slot + 1
        code = pointers[start[node] + slot]
        if slot > 0 and pointers[start[node] + slot - 1] == code:
            continue                       # one child spans several adjacent slots
        if code >= 0:
            depth += 1
            stack_node[depth] = code
            stack_slot[depth] = 0
        else:
            order[count] = ~code
            count += 1
    return order[:count]


@numba.njit(cache=True)
def _group_slots(counts, target):
    """Return the first slot of each run of adjacent slots holding about ``target`` keys together.

    A run closes before a non-empty slot that would take it above ``target``.
    Empty slots join the run before them, so only the first run can be empty.
    """
    starts = np.empty(counts.shape[0], dtype=np.int64)
    groups = 1
    starts[0] = 0
    total = counts[0]
    for s in range(1, counts.shape[0]):
        if counts[s] > 0 and total > 0 and total + counts[s] > target:
            starts[groups] = s
            groups += 1
            total = 0
        total += counts[s]
    return starts[:groups]


@numba.njit(cache=True)
def _slot_errors(pool, occupied, order, nodes, n):
    """Return ``|predicted slot - slot|`` of every key, in key order."""
    start_of, capacity_of, first, slope, intercept = nodes
    errors = np.empty(n, dtype=np.float64)
    k = 0
    for node in order:
        start = start_of[node]
        capacity = capacity_of[node]
        for j in range(capacity):
            if occupied[start + j]:
                guess = _clamped_slot(first[node], slope[node], intercept[node], 0,
                                      pool[start + j], capacity)
                errors[k] = abs(guess - j)
                k += 1
    return errors


# ---------------------------------------------------------------------------
# Nodes and the index.
# ---------------------------------------------------------------------------

@dataclasses.dataclass(eq=False)
class _DataNode:
    """A gapped array of ``capacity`` slots and its model from key to slot."""

    slots: np.ndarray        # (capacity,) model-space keys, gaps filled as described above
    occupied: np.ndarray     # (capacity,) bool, True where a slot contains a key
    count: int
    first: Any               # model-space scalar the model measures keys from
    slope: float             # slots per key unit
    intercept: float         # slot of ``first``
    parent: int              # id of the inner node that points here


@dataclasses.dataclass(eq=False)
class _InnerNode:
    """A model from key to child slot and one pointer per slot.

    A pointer ``code >= 0`` is an inner node id, ``code < 0`` the data node
    ``~code``. Slot ``floor(slope * (key - first) + intercept) + offset``,
    clipped to the pointer array, points to the child of ``key``.
    """

    first: Any
    slope: float
    intercept: float
    offset: int
    pointers: np.ndarray     # (fanout,) int64 child codes
    parent: int              # -1 for the root


@dataclasses.dataclass(frozen=True)
class _Layout:
    """The data nodes' arrays concatenated in key order, for the compiled lookup."""

    keys: np.ndarray         # (n,) all keys, sorted, in the keys' dtype
    order: np.ndarray        # (data nodes,) data node ids in key order
    pool: np.ndarray         # (total capacity,) the gapped arrays
    occupied: np.ndarray     # (total capacity,) bool
    pool_rank: np.ndarray    # (total capacity + 1,) int64, keys before each slot
    nodes: tuple             # start, capacity, first, slope, intercept, indexed by data node id


MIN_DENSITY = 0.05   # at most 20 slots per key


def _check_density(density: Any) -> tuple[float, float]:
    try:
        lower, upper = density
    except (TypeError, ValueError):
        raise TypeError(f"density must be a pair (lower, upper), got {density!r}; "
                        f"pass for example (0.6, 0.8).") from None
    # A lower bound near 0 would size a node's gapped array at count / lower slots.
    lower = check_float("density[0]", lower, minimum=MIN_DENSITY)
    upper = check_float("density[1]", upper, maximum=1.0)
    if not lower < upper:
        raise ValueError(f"density must satisfy 0 < lower < upper <= 1, got {density!r}; "
                         f"pass a lower bound below the upper bound.")
    return lower, upper


class ALEXIndex(LearnedIndex):
    """An updatable learned index: a tree of linear models over gapped arrays (ALEX).

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys to bulk load; duplicates are
        allowed and the array may be empty.
    max_node_keys : int, default 4096
        Largest number of keys of a data node. Bulk loading fills data nodes
        to about half of it, and a full data node with this many keys splits
        instead of expanding.
    density : (float, float), default (0.6, 0.8)
        Lower and upper bound on keys per slot of a data node. New and expanded
        nodes start at the lower bound, and an insert that would exceed the
        upper bound first expands or splits the node.
    sort : bool, default False
        Sort unsorted keys instead of raising ``ValueError``.

    Attributes
    ----------
    dtype : numpy.dtype
        The keys' dtype. Inserted keys are converted to it exactly.
    keys : ndarray, shape (n,)
        All current keys, sorted (rebuilt on first use after an insert).

    Notes
    -----
    :meth:`predict` returns ranks (positions in the sorted array of all current
    keys). ``predicted`` is the rank of the slot the data node's model
    predicts, that is the number of keys in slots before it. The last-mile
    window ``[lo, hi)`` is the exponential search's bracket ``[low, high]`` of
    slots converted to ranks, ``lo = rank(low)`` and
    ``hi = min(rank(high) + 1, n)``. The lower bound of a query lies in it
    unless it equals ``n``.

    Example
    -------
    >>> index = ALEXIndex(np.arange(0, 1000, 3, dtype=np.uint64), max_node_keys=64)
    >>> index.insert(np.array([4, 4, 5000], dtype=np.uint64))
    >>> index.lower_bound(np.array([0, 4, 5, 5000], dtype=np.uint64)).tolist()
    [0, 2, 4, 336]
    """

    def __init__(self, keys: Any, *, max_node_keys: int = 4096,
                 density: tuple[float, float] = (0.6, 0.8), sort: bool = False) -> None:
        sorted_keys = check_keys(keys, sort=sort)
        self.max_node_keys = check_int("max_node_keys", max_node_keys, minimum=2,
                                       maximum=MAX_NODE_KEYS)
        self.density = _check_density(density)
        self.dtype = sorted_keys.dtype
        self._model_dtype = model_space(sorted_keys[:0]).dtype
        self._gap_value = (np.float64(np.inf) if self._model_dtype.kind == "f"
                           else np.uint64(2**64 - 1))
        self._target = max(1, self.max_node_keys // 2)
        self._inner: list[_InnerNode] = []
        self._data: list[_DataNode | None] = []
        self._size = int(sorted_keys.size)
        self._counters = {"expansions": 0, "splits_sideways": 0, "splits_downward": 0,
                          "inner_extensions": 0, "shifts": 0}
        self._tree: tuple | None = None
        self._layout: _Layout | None = None
        self._build(model_space(sorted_keys), parent=-1, min_fanout=1)

    # -- building ----------------------------------------------------------

    def _first_of(self, keys: np.ndarray) -> Any:
        """Return the point a model measures ``keys`` from: the smallest finite key."""
        if self._model_dtype.kind == "f":
            finite = keys[np.isfinite(keys)]
            return finite[0] if finite.size else np.float64(0.0)
        return keys[0] if keys.size else np.uint64(0)

    def _capacity_for(self, count: int) -> int:
        lower, upper = self.density
        # Enough slots for the lower density, and for at least one insert under the upper bound.
        return max(MIN_CAPACITY, math.ceil(count / lower), math.floor((count + 1) / upper) + 1)

    def _fill(self, node: _DataNode, keys: np.ndarray) -> None:
        """Retrain ``node``'s model on sorted ``keys`` and place them in a new gapped array."""
        capacity = self._capacity_for(keys.size)
        node.first = self._first_of(keys)
        node.slope, node.intercept = (_fit_ranks(keys, node.first, capacity / keys.size)
                                      if keys.size else (0.0, 0.0))
        node.slots, node.occupied = _place(keys, capacity, node.first, node.slope,
                                           node.intercept, self._gap_value)
        node.count = int(keys.size)

    def _new_data(self, keys: np.ndarray, parent: int) -> int:
        node = _DataNode(np.zeros(0, self._model_dtype), np.zeros(0, bool), 0,
                         self._first_of(keys), 0.0, 0.0, parent)
        self._fill(node, keys)
        self._data.append(node)
        return len(self._data) - 1

    def _new_inner(self, keys: np.ndarray, parent: int, min_fanout: int,
                   node_id: int | None = None) -> tuple[int, list] | None:
        """Make an inner node over sorted ``keys`` and return its id and its children's tasks.

        Each task is ``(keys, parent id, first slot, end slot)`` of one child.
        With ``min_fanout >= 2``, returns None without side effects when the
        model cannot spread the keys over two children (all keys equal).
        """
        m = keys.size
        fanout = int(min(MAX_INNER_FANOUT, max(min_fanout, -(-m // self._target))))
        first = self._first_of(keys)
        slope, intercept = _fit_ranks(keys, first, fanout / m) if m else (0.0, 0.0)
        slots = np.clip(_raw_slots(keys, first, slope, intercept, 0), 0, fanout - 1)
        if fanout > 1 and m and slots[0] == slots[-1]:
            # When least squares puts every key in one slot (outliers or heavy
            # duplicates), map the finite key range evenly onto the slots instead.
            finite = keys[np.isfinite(keys)] if self._model_dtype.kind == "f" else keys
            span = float(_model_xs(finite[-1:], first)[0]) if finite.size else 0.0
            if 0.0 < span < math.inf and math.isfinite(fanout / span):
                slope, intercept = fanout / span, 0.0
                slots = np.clip(_raw_slots(keys, first, slope, intercept, 0), 0, fanout - 1)
        counts = np.bincount(slots, minlength=fanout)
        starts = _group_slots(counts, self._target)
        if min_fanout >= 2 and starts.size < 2:
            return None

        node = _InnerNode(first, float(slope), float(intercept), 0,
                          np.zeros(fanout, dtype=np.int64), parent)
        if node_id is None:
            self._inner.append(node)
            node_id = len(self._inner) - 1
        else:
            self._inner[node_id] = node
        key_offsets = np.r_[0, np.cumsum(counts)]
        bounds = np.r_[starts, fanout]
        tasks = [(keys[key_offsets[a]:key_offsets[b]], node_id, int(a), int(b))
                 for a, b in zip(bounds[:-1], bounds[1:])]
        return node_id, tasks

    def _build(self, keys: np.ndarray, parent: int, min_fanout: int,
               node_id: int | None = None) -> int | None:
        """Bulk load sorted ``keys`` under a new inner node; return its id (None as _new_inner)."""
        inner = self._new_inner(keys, parent, min_fanout, node_id)
        if inner is None:
            return None
        top, stack = inner
        while stack:
            part, parent_id, a, b = stack.pop()
            code = None
            if part.size > self.max_node_keys:
                child = self._new_inner(part, parent_id, 2)
                if child is not None:
                    code, tasks = child
                    stack.extend(tasks)
            if code is None:
                # NOTE: keys that no model can separate (all equal, or for float keys one
                # finite value plus infinities) stay in one data node above max_node_keys.
                code = ~self._new_data(part, parent_id)
            self._inner[parent_id].pointers[a:b] = code
        self._tree = None
        return top

    # -- inserting ---------------------------------------------------------

    def insert(self, keys: Any) -> None:
        """Insert ``keys`` (a scalar or shape (m,)); duplicates of existing keys are allowed.

        Values are converted exactly to the index's dtype. Raises ``ValueError``
        for NaN, for integers outside the dtype's range and for a wrong shape,
        and ``TypeError`` for non-integer values into integer keys.
        """
        new = model_space(convert_inserts(keys, self.dtype))
        if new.size == 0:
            return
        self._layout = None
        pending = new
        while pending.size:
            nodes = _route_batch(pending, self._tree_arrays())
            order = np.argsort(nodes, kind="stable")
            grouped_nodes = nodes[order]
            grouped_keys = pending[order]
            bounds = np.r_[0, np.flatnonzero(np.diff(grouped_nodes)) + 1, nodes.size]
            retry = []
            for a, b in zip(bounds[:-1], bounds[1:]):
                # A split changes the path only of keys that routed to the split node,
                # so the other groups stay routed correctly.
                rest = self._insert_into(int(grouped_nodes[a]), grouped_keys[a:b])
                if rest.size:
                    retry.append(rest)
            pending = np.concatenate(retry) if retry else new[:0]
        self._size += int(new.size)

    def _insert_into(self, node_id: int, keys: np.ndarray) -> np.ndarray:
        """Insert ``keys`` into one data node; return the keys left over when it split."""
        node = self._data[node_id]
        done = 0
        while True:
            limit = min(int(self.density[1] * node.slots.size), node.slots.size - 1)
            if node.count < self.max_node_keys:
                # Stop at max_node_keys to split. A node already past it contains keys
                # that no model separates, and it fills up to the density bound.
                limit = min(limit, self.max_node_keys)
            done, node.count, shifts = _insert_run(node.slots, node.occupied, node.count,
                                                   node.first, node.slope, node.intercept,
                                                   keys, done, limit)
            self._counters["shifts"] += int(shifts)
            if done == keys.size:
                return keys[:0]
            if node.count >= self.max_node_keys and self._split(node_id):
                return keys[done:]
            self._fill(node, node.slots[node.occupied])
            self._counters["expansions"] += 1

    def _split(self, node_id: int) -> bool:
        """Split a full data node sideways or downwards; return False if no model separates it."""
        node = self._data[node_id]
        parent = self._inner[node.parent]
        code = ~node_id
        covered = np.flatnonzero(parent.pointers == code)
        a, b = int(covered[0]), int(covered[-1]) + 1
        keys = node.slots[node.occupied]
        if node.parent == 0 and parent.pointers.size == 1:
            # The node is the root's only child, so rebuild the root over its keys.
            return self._split_downward(node_id, keys, a, b, replace_root=True)

        raw = _raw_slots(keys, parent.first, parent.slope, parent.intercept, parent.offset)
        fanout = parent.pointers.size
        # An edge grows by at most the current fanout, so a far outlier cannot
        # allocate a huge pointer array. Keys further out stay in the edge slot.
        if b == fanout and raw[-1] > fanout - 1 and fanout < MAX_INNER_FANOUT:
            grow = int(min(raw[-1] - (fanout - 1), fanout, MAX_INNER_FANOUT - fanout))
            parent.pointers = np.r_[parent.pointers, np.full(grow, code, dtype=np.int64)]
            b += grow
            fanout += grow
            self._counters["inner_extensions"] += 1
        if a == 0 and raw[0] < 0 and fanout < MAX_INNER_FANOUT:
            # Slots grown on the left shift every slot by ``grow``. The integer
            # offset keeps the float model unchanged, so no key changes its child.
            grow = int(min(-raw[0], fanout, MAX_INNER_FANOUT - fanout))
            parent.pointers = np.r_[np.full(grow, code, dtype=np.int64), parent.pointers]
            parent.offset += grow
            raw = raw + grow
            b += grow
            fanout += grow
            self._counters["inner_extensions"] += 1
        self._tree = None

        if b - a >= 2:
            slots = np.clip(raw, 0, fanout - 1)
            left_counts = np.cumsum(np.bincount(slots - a, minlength=b - a))[:-1]
            valid = np.flatnonzero((left_counts > 0) & (left_counts < keys.size))
            if valid.size:
                best = valid[np.argmin(np.abs(left_counts[valid] - keys.size / 2))]
                left = int(left_counts[best])
                boundary = a + int(best) + 1
                parent.pointers[a:boundary] = ~self._new_data(keys[:left], node.parent)
                parent.pointers[boundary:b] = ~self._new_data(keys[left:], node.parent)
                self._data[node_id] = None
                self._counters["splits_sideways"] += 1
                return True
        return self._split_downward(node_id, keys, a, b, replace_root=False)

    def _split_downward(self, node_id: int, keys: np.ndarray, a: int, b: int,
                        replace_root: bool) -> bool:
        node = self._data[node_id]
        if replace_root:
            code = self._build(keys, parent=-1, min_fanout=2, node_id=0)
        else:
            code = self._build(keys, parent=node.parent, min_fanout=2)
        if code is None:
            return False
        if not replace_root:
            self._inner[node.parent].pointers[a:b] = code
        self._data[node_id] = None
        self._counters["splits_downward"] += 1
        self._tree = None
        return True

    # -- flat arrays for the compiled kernels ------------------------------

    def _tree_arrays(self) -> tuple:
        if self._tree is None:
            inner = self._inner
            fanout = np.array([node.pointers.size for node in inner], dtype=np.int64)
            self._tree = (np.array([node.first for node in inner], dtype=self._model_dtype),
                          np.array([node.slope for node in inner], dtype=np.float64),
                          np.array([node.intercept for node in inner], dtype=np.float64),
                          np.array([node.offset for node in inner], dtype=np.int64),
                          np.r_[0, np.cumsum(fanout)[:-1]].astype(np.int64),
                          fanout,
                          np.concatenate([node.pointers for node in inner]))
        return self._tree

    def _layout_arrays(self) -> _Layout:
        """Concatenate the gapped arrays in key order; cached until the next insert.

        NOTE: the first query after an insert pays this O(n) copy, so alternating
        single inserts and queries costs O(n) per query. ALEX itself searches the
        nodes in place.
        """
        if self._layout is not None:
            return self._layout
        tree = self._tree_arrays()
        order = _data_order(tree[4], tree[5], tree[6])
        nodes = [self._data[i] for i in order]
        capacity = np.array([node.slots.size for node in nodes], dtype=np.int64)
        pool = np.concatenate([node.slots for node in nodes])
        occupied = np.concatenate([node.occupied for node in nodes])
        pool_rank = np.zeros(pool.size + 1, dtype=np.int64)
        np.cumsum(occupied, out=pool_rank[1:])

        size = len(self._data)
        start_of = np.zeros(size, dtype=np.int64)
        capacity_of = np.zeros(size, dtype=np.int64)
        first = np.zeros(size, dtype=self._model_dtype)
        slope = np.zeros(size)
        intercept = np.zeros(size)
        start_of[order] = np.r_[0, np.cumsum(capacity)[:-1]]
        capacity_of[order] = capacity
        first[order] = [node.first for node in nodes]
        slope[order] = [node.slope for node in nodes]
        intercept[order] = [node.intercept for node in nodes]
        self._layout = _Layout(key_space(pool[occupied], self.dtype), order, pool, occupied,
                               pool_rank, (start_of, capacity_of, first, slope, intercept))
        return self._layout

    @property
    def keys(self) -> np.ndarray:
        """All current keys, sorted, shape (n,); rebuilt on first use after an insert."""
        return self._layout_arrays().keys

    # -- lookups -----------------------------------------------------------

    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        layout = self._layout_arrays()
        _lookup_batch(model_space(queries), self._tree_arrays(), layout.nodes, layout.pool,
                      layout.pool_rank, self._size, positions, predicted, lo, hi)

    def trace(self, query: Any) -> LookupTrace:
        """Look up one query and record every slot the exponential and binary search read.

        ``probes`` are slot indices in the gapped array of the data node the
        query descends to (0 is that node's first slot), gaps included. They
        come in reading order: the predicted slot, the exponential search's
        steps, then the binary search's. ``predicted``, ``lo``, ``hi``
        and ``position`` are ranks as in :meth:`predict`. ``fallback`` is always
        False, because the exponential search cannot miss.
        """
        converted, below, above = convert_queries(query, self.dtype)
        if converted.size != 1:
            raise ValueError(f"trace takes one query, got {converted.size}; pass a scalar.")
        value = converted[0].item()
        if self._size == 0:
            return LookupTrace(value, 0.0, 0, 0, (), 0, False)
        layout = self._layout_arrays()
        probes = np.empty(MAX_PROBES, dtype=np.int64)
        node, position, predicted, lo, hi, used = _lookup_one(
            model_space(converted)[0], self._tree_arrays(), layout.nodes, layout.pool,
            layout.pool_rank, self._size, probes)
        start = layout.nodes[0][node]
        if below[0]:
            position = 0
        elif above[0]:
            position = self._size
        return LookupTrace(value, float(predicted), int(lo), int(hi),
                           tuple(int(p - start) for p in probes[:used]), int(position), False)

    # -- inspection --------------------------------------------------------

    def _depths(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the depth (root = 1) of every inner node and of every live data node by id."""
        inner_depth = np.zeros(len(self._inner), dtype=np.int64)
        # A child inner node is always created after its parent, so ids increase with depth.
        for i, node in enumerate(self._inner):
            inner_depth[i] = 1 if node.parent < 0 else inner_depth[node.parent] + 1
        data_depth = np.array([inner_depth[node.parent] + 1 if node is not None else 0
                               for node in self._data], dtype=np.int64)
        return inner_depth, data_depth

    @property
    def size_bytes(self) -> int:
        """Bytes of the index besides the n key slots.

        Counts 32 bytes of model per inner node plus 8 per child pointer, 40
        bytes of model and counts per data node, one occupancy byte per slot
        and 8 bytes per gap.
        """
        inner = sum(32 + 8 * node.pointers.size for node in self._inner)
        data = sum(40 + node.slots.size + 8 * (node.slots.size - node.count)
                   for node in self._data if node is not None)
        return int(inner + data)

    def models(self) -> ModelLines:
        """Return each non-empty data node's model as a line from key to global position.

        A data node's model predicts a slot. Scaled by the node's keys per slot
        and shifted by the keys before the node, it predicts a rank. The cone
        is measured over the node's keys, each at its own rank (duplicates
        included), against that prediction clipped to the node's ranks.
        """
        layout = self._layout_arrays()
        firsts, lasts, slopes, intercepts, below, above = [], [], [], [], [], []
        rank_start = 0
        for node_id in layout.order:
            node = self._data[node_id]
            if node.count == 0:
                continue
            keys = node.slots[node.occupied]
            scale = node.count / node.slots.size
            first_slot = (node.slope * _model_xs(keys[:1], node.first)[0] + node.intercept
                          if node.slope else node.intercept)
            if not math.isfinite(first_slot):
                # An infinite first key: anchor the line at the slot the lookup clips to.
                first_slot = 0.0 if first_slot < 0 else node.slots.size - 1.0
            slope = node.slope * scale
            intercept = rank_start + first_slot * scale
            x = _model_xs(keys, keys[0]) if slope else np.zeros(keys.size)
            predicted = np.clip(intercept + slope * x, rank_start, rank_start + node.count - 1)
            truth = rank_start + np.arange(node.count)
            firsts.append(keys[0])
            lasts.append(keys[-1])
            slopes.append(slope)
            intercepts.append(intercept)
            below.append(math.ceil(max(0.0, float(np.max(predicted - truth)))))
            above.append(math.ceil(max(0.0, float(np.max(truth - predicted)))))
            rank_start += node.count
        first_keys = key_space(np.array(firsts, dtype=self._model_dtype), self.dtype)
        last_keys = key_space(np.array(lasts, dtype=self._model_dtype), self.dtype)
        return ModelLines(first_keys, last_keys, np.array(slopes, dtype=np.float64),
                          np.array(intercepts, dtype=np.float64), np.array(below, dtype=np.int64),
                          np.array(above, dtype=np.int64))

    def stats(self) -> dict[str, Any]:
        """Return node counts, height, slot errors, update counters and space.

        ``height`` counts the nodes on the longest path from the root to a data
        node (a root over data nodes gives 2). ``data_node_keys`` lists the keys
        per data node in key order, and the errors are ``|predicted slot - slot|``
        over all keys. ``splits`` is the sum of sideways and downward splits,
        ``inner_extensions`` counts inner nodes grown at an edge, ``shifts`` the
        keys moved by inserts, and ``fill_fraction`` is keys over slots.
        """
        layout = self._layout_arrays()
        errors = _slot_errors(layout.pool, layout.occupied, layout.order, layout.nodes,
                              self._size)
        _, data_depth = self._depths()
        counts = [self._data[i].count for i in layout.order]
        return {"inner_nodes": len(self._inner), "data_nodes": int(layout.order.size),
                "height": int(data_depth.max()),
                "data_node_keys": counts,
                "max_abs_error": float(errors.max()) if errors.size else 0.0,
                "mean_abs_error": float(errors.mean()) if errors.size else 0.0,
                **self._counters,
                "splits": self._counters["splits_sideways"] + self._counters["splits_downward"],
                "fill_fraction": self._size / layout.pool.size,
                "size_bytes": self.size_bytes}
