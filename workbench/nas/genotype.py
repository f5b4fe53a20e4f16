"""Genotypes: the discrete cells that DARTS derives from its architecture weights.

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019,
section 2.4 (deriving discrete architectures). The strength of operation o on
edge (i, j) is its softmax weight over the edge's operations,
exp(alpha_o) / sum_o' exp(alpha_o'). Each intermediate node keeps the 2
strongest non-zero operations coming from distinct earlier nodes: every incoming
edge is scored by its strongest operation other than "none", the 2 best edges
are kept, and each kept edge takes that strongest operation.

Node numbering, shared by the supernet: nodes 0 and 1 are the cell inputs
c_{k-2} and c_{k-1}, and intermediate node i (0-based) is node i + 2. Its
incoming edges come from nodes 0, 1, ..., i + 1. The edges are numbered node by
node, so a cell with ``steps`` intermediate nodes has 2 + 3 + ... + (steps + 1)
edges (14 for 4 steps), and the cell output concatenates some of nodes
2 ... steps + 1 on the channel axis.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.validation import check_int
from workbench.nas.operations import DARTS_OPERATIONS, check_operations

_CELL_TYPES = ("normal", "reduce")
_DICT_KEYS = ("normal", "normal_concat", "reduce", "reduce_concat")


def count_edges(steps: int) -> int:
    """Return the number of edges in a cell with ``steps`` intermediate nodes.

    Intermediate node i has 2 + i incoming edges, so the count is 2 + 3 + ... + (steps + 1).
    """
    steps = check_int("steps", steps, minimum=1)
    return sum(2 + node for node in range(steps))


def _input_name(index: int) -> str:
    return {0: "c_{k-2}", 1: "c_{k-1}"}.get(index, f"node {index}")


def _check_cell_genes(field: str, genes: Any) -> tuple[tuple[str, int], ...]:
    """Return ``genes`` as a tuple of (operation, input node) pairs, 2 per intermediate node."""
    if isinstance(genes, (str, bytes)) or not isinstance(genes, Sequence):
        raise TypeError(f"{field} must be a sequence of (operation, input node) pairs, got "
                        f"{reprlib.repr(genes)}; pass for example "
                        f"[('sep_conv_3x3', 0), ('skip_connect', 1)].")
    if len(genes) == 0 or len(genes) % 2 != 0:
        raise ValueError(f"{field} must hold 2 (operation, input node) pairs per intermediate "
                         f"node, got {len(genes)} pairs; pass an even, non-zero number of pairs.")
    checked = []
    for position, gene in enumerate(genes):
        node = position // 2 + 2
        if isinstance(gene, (str, bytes)) or not isinstance(gene, Sequence) or len(gene) != 2:
            raise ValueError(f"{field}[{position}] must be an (operation, input node) pair, got "
                             f"{reprlib.repr(gene)}.")
        operation, source = gene
        if operation not in DARTS_OPERATIONS or operation == "none":
            raise ValueError(f"{field}[{position}] has the operation {operation!r}; use one of "
                             f"{DARTS_OPERATIONS[1:]} ('none' never appears in a genotype).")
        source = check_int(f"{field}[{position}] input node", source, minimum=0,
                           maximum=node - 1)
        checked.append((operation, source))
    return tuple(checked)


def _check_concat(field: str, concat: Any, steps: int) -> tuple[int, ...]:
    """Return ``concat`` as a tuple of distinct intermediate node numbers 2 ... steps + 1."""
    if isinstance(concat, (str, bytes)) or not isinstance(concat, Sequence) or not concat:
        raise ValueError(f"{field} must be a non-empty sequence of intermediate node numbers, "
                         f"got {reprlib.repr(concat)}; pass for example [2, 3, 4, 5].")
    nodes = tuple(check_int(f"{field} node", node, minimum=2, maximum=steps + 1)
                  for node in concat)
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"{field} contains duplicate nodes {list(nodes)}; list each node once.")
    return nodes


@dataclass(frozen=True)
class Genotype:
    """The discrete architecture of a normal and a reduction cell.

    Attributes
    ----------
    normal, reduce : tuple of (str, int)
        2 pairs per intermediate node, in node order: the operation on a kept
        edge and the node that edge comes from (0 and 1 are the cell inputs,
        node i + 2 is intermediate node i).
    normal_concat, reduce_concat : tuple of int
        The nodes whose outputs the cell concatenates on the channel axis.

    Lists, for example from JSON, are converted to tuples.
    """

    normal: tuple[tuple[str, int], ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[tuple[str, int], ...]
    reduce_concat: tuple[int, ...]

    def __post_init__(self) -> None:
        normal = _check_cell_genes("normal", self.normal)
        reduce = _check_cell_genes("reduce", self.reduce)
        if len(normal) != len(reduce):
            raise ValueError(f"normal has {len(normal) // 2} intermediate nodes but reduce has "
                             f"{len(reduce) // 2}; give both cells the same number of nodes.")
        steps = len(normal) // 2
        # The dataclass is frozen, so the converted fields are set through object.
        object.__setattr__(self, "normal", normal)
        object.__setattr__(self, "reduce", reduce)
        object.__setattr__(self, "normal_concat",
                           _check_concat("normal_concat", self.normal_concat, steps))
        object.__setattr__(self, "reduce_concat",
                           _check_concat("reduce_concat", self.reduce_concat, steps))

    @property
    def steps(self) -> int:
        """Number of intermediate nodes per cell."""
        return len(self.normal) // 2

    def to_dict(self) -> dict[str, list]:
        """Return the genotype as plain lists, ready for ``json.dumps``."""
        return {
            "normal": [[operation, source] for operation, source in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[operation, source] for operation, source in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genotype:
        """Build a genotype from the output of :meth:`to_dict` (or its JSON round trip)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"data must be a mapping with keys {_DICT_KEYS}, got "
                            f"{type(data).__name__}; pass the output of Genotype.to_dict().")
        missing = [key for key in _DICT_KEYS if key not in data]
        unknown = sorted(str(key) for key in data if key not in _DICT_KEYS)
        if missing or unknown:
            raise ValueError(f"data must have exactly the keys {_DICT_KEYS}; missing {missing}, "
                             f"unknown {unknown}.")
        return cls(normal=data["normal"], normal_concat=data["normal_concat"],
                   reduce=data["reduce"], reduce_concat=data["reduce_concat"])

    def describe(self) -> str:
        """Return a readable listing of both cells, one line per intermediate node.

        Example line: ``node 3 = sep_conv_3x3(c_{k-1}) + skip_connect(node 2)``.
        """
        lines = []
        for cell_type in _CELL_TYPES:
            genes = getattr(self, cell_type)
            concat = getattr(self, f"{cell_type}_concat")
            outputs = ", ".join(f"node {node}" for node in concat)
            lines.append(f"{cell_type} cell, output = concat({outputs}):")
            for node in range(self.steps):
                terms = [f"{operation}({_input_name(source)})"
                         for operation, source in genes[2 * node:2 * node + 2]]
                lines.append(f"  node {node + 2} = {' + '.join(terms)}")
        return "\n".join(lines)


def _edge_log_softmax(name: str, alpha: Any, shape: tuple[int, int]) -> np.ndarray:
    """Return the per-edge log-softmax of the logits ``alpha``, shape (edges, operations).

    -inf marks a masked operation and stays -inf. Ranking by the log-weights
    ranks as the weights do, but an operation whose weight underflows to 0
    (a logit gap above about 745) stays finite and so stays usable.
    """
    if hasattr(alpha, "detach"):                     # a torch tensor, possibly requiring grad
        alpha = alpha.detach().cpu()
    try:
        logits = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers, got "
                        f"{reprlib.repr(alpha)}; pass a tensor or array of logits.") from error
    if logits.shape != shape:
        raise ValueError(f"{name} has shape {logits.shape}, expected {shape} "
                         f"(edges, operations); pass one row per edge and one column per "
                         f"operation.")
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError(f"{name} contains NaN or +inf; pass finite logits (-inf only to mask "
                         f"an operation).")
    all_masked = np.flatnonzero(np.isneginf(logits).all(axis=1))
    if all_masked.size:
        raise ValueError(f"{name} rows {all_masked.tolist()} are -inf for every operation; "
                         f"leave at least one operation unmasked on every edge.")

    shifted = logits - logits.max(axis=1, keepdims=True)   # each row's max is 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _derive_cell(name: str, log_weights: np.ndarray, operations: tuple[str, ...],
                 steps: int) -> tuple[tuple[str, int], ...]:
    """Keep the 2 strongest incoming edges of every node and their strongest operation.

    ``log_weights`` is the per-edge log-softmax, -inf for a masked operation.
    """
    columns = [k for k, operation in enumerate(operations) if operation != "none"]
    genes = []
    first_edge = 0
    for node in range(steps):
        num_inputs = 2 + node
        node_weights = log_weights[first_edge:first_edge + num_inputs, columns]  # (inputs, ops)
        first_edge += num_inputs

        edge_strength = node_weights.max(axis=1)                  # (inputs,)
        usable = int(np.isfinite(edge_strength).sum())
        if usable < 2:
            raise ValueError(f"{name}: node {node + 2} has {usable} incoming edge(s) with an "
                             f"operation other than 'none' left unmasked, but a genotype keeps "
                             f"2; unmask a non-'none' operation on another of its edges.")
        # A stable sort breaks ties in favour of the lower input node.
        top_sources = np.argsort(-edge_strength, kind="stable")[:2]
        for source in top_sources:
            best = columns[int(np.argmax(node_weights[source]))]
            genes.append((operations[best], int(source)))
    return tuple(genes)


def derive_genotype(alpha_normal: Any, alpha_reduce: Any, operations: Sequence[str],
                    steps: int, multiplier: int | None = None) -> Genotype:
    """Derive the discrete genotype from the architecture logits, as DARTS does.

    Parameters
    ----------
    alpha_normal, alpha_reduce : array-like or torch.Tensor, shape (edges, len(operations))
        Raw architecture logits, one row per edge in the node-by-node order of
        this module. The function applies the softmax over each row itself, so
        pass logits, not weights. -inf masks an operation on that edge.
    operations : sequence of str
        The candidate operations, in the column order of the alphas.
    steps : int
        Intermediate nodes per cell; the alphas have ``count_edges(steps)`` rows.
    multiplier : int or None
        How many of the last intermediate nodes the cell output concatenates.
        None concatenates all ``steps`` of them.

    Returns
    -------
    Genotype
        Per node, the strongest edge comes first. Ties go to the lower input
        node, then to the earlier operation in ``operations``.
    """
    operations = check_operations(operations)
    steps = check_int("steps", steps, minimum=1)
    multiplier = steps if multiplier is None else check_int("multiplier", multiplier,
                                                            minimum=1, maximum=steps)
    shape = (count_edges(steps), len(operations))
    normal = _derive_cell("alpha_normal",
                          _edge_log_softmax("alpha_normal", alpha_normal, shape),
                          operations, steps)
    reduce = _derive_cell("alpha_reduce",
                          _edge_log_softmax("alpha_reduce", alpha_reduce, shape),
                          operations, steps)
    concat = tuple(range(2 + steps - multiplier, 2 + steps))
    return Genotype(normal=normal, normal_concat=concat, reduce=reduce, reduce_concat=concat)
