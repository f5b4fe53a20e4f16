"""Field-wise logistic regression and successive mini-batch gradient descent.

Both come from Luo et al., "AutoCross: Automatic Feature Crossing for
Tabular Data in Real-World Applications", KDD 2019.

Field-wise logistic regression scores a candidate feature without refitting
the model. The weights of the current features are inherited, so each row's
current logit ``b_i`` is a fixed offset. Only the weights ``w`` of the
candidate's one-hot values are trained, on

    p_i = sigmoid(b_i + w[c_i]),

where ``c_i`` is the candidate's code on row ``i``. A row has exactly one
value of the candidate, so the values never share a row. The Hessian of the
log-loss in ``w`` is therefore diagonal, and the per-value sums below are exact:

    gradient_k = sum over rows with c_i = k of (p_i - y_i)
    curvature_k = sum over rows with c_i = k of p_i (1 - p_i).

Each mini-batch takes one gradient step per value with the step size
``learning_rate / (accumulated curvature_k + l2)``. The accumulated curvature
grows with the rows a value has seen, so frequent values settle and rare ones
still move. All sums are ``np.bincount`` calls over the codes, so no sparse
matrix is built.

Successive mini-batch gradient descent compares many candidates cheaply.
All candidates train on data block 1 and are scored on the validation rows.
The worse half is dropped, the survivors continue on block 2, and so on
until the requested number remain (successive halving over data blocks).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import expit
from scipy.stats import rankdata

# Default rows per mini-batch.
BATCH_SIZE = 1024

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log in the log-loss.
EPSILON = 1e-12

METRICS = ("auc", "logloss")


def auc_score(y: np.ndarray, scores: np.ndarray) -> float:
    """Return the ROC AUC of ``scores`` for 0/1 labels ``y`` (ties count half).

    Mann-Whitney form: (sum of the positives' average ranks - n_pos (n_pos + 1) / 2)
    / (n_pos n_neg). Returns 0.5 when one class is absent.
    """
    n_positive = int(y.sum())
    n_negative = len(y) - n_positive
    if n_positive == 0 or n_negative == 0:
        return 0.5
    ranks = rankdata(scores)
    return float((ranks[y == 1].sum() - n_positive * (n_positive + 1) / 2)
                 / (n_positive * n_negative))


def log_loss(y: np.ndarray, logits: np.ndarray) -> float:
    """Return the mean binary cross-entropy of ``logits`` for 0/1 labels ``y``."""
    p = np.clip(expit(logits), EPSILON, 1 - EPSILON)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def score_logits(metric: str, y: np.ndarray, logits: np.ndarray) -> float:
    """Return the validation score of ``logits``, higher is better: AUC or minus the log-loss."""
    if metric == "auc":
        return auc_score(y, logits)
    return -log_loss(y, logits)


def prior_logit(y: np.ndarray) -> float:
    """Return the log-odds of the positive rate of ``y``, the logit of an intercept-only model."""
    rate = np.clip(y.mean(), EPSILON, 1 - EPSILON)
    return float(np.log(rate / (1 - rate)))


@dataclasses.dataclass
class FieldWeights:
    """Trainable weights of one candidate's values, with the curvature they accumulated.

    Attributes
    ----------
    weights : ndarray of float64, shape (cardinality,)
        ``w[k]``, added to the inherited logit of rows with code ``k``.
    curvature : ndarray of float64, shape (cardinality,)
        Sum of ``p (1 - p)`` over the rows each value has been trained on.
    """

    weights: np.ndarray
    curvature: np.ndarray

    @classmethod
    def zeros(cls, cardinality: int) -> FieldWeights:
        return cls(np.zeros(cardinality), np.zeros(cardinality))


def train_field_weights(state: FieldWeights, codes: np.ndarray, base_logits: np.ndarray,
                        y: np.ndarray, *, learning_rate: float = 1.0, l2: float = 1.0,
                        batch_size: int = BATCH_SIZE) -> FieldWeights:
    """Train ``state`` in place for one pass over the given rows, in their order.

    Parameters
    ----------
    state : FieldWeights
    codes : ndarray of int, shape (n,)
        The candidate's code of each row, in ``[0, len(state.weights))``.
    base_logits : ndarray of float64, shape (n,)
        The inherited logit of each row (fixed).
    y : ndarray of 0/1, shape (n,)
    learning_rate : float
        Scale of each per-value step.
    l2 : float
        L2 penalty ``l2 / 2 * ||w||**2`` added to each mini-batch's summed log-loss.
    batch_size : int

    Returns
    -------
    FieldWeights
        ``state``, updated.
    """
    cardinality = len(state.weights)
    for start in range(0, len(codes), batch_size):
        batch = slice(start, start + batch_size)
        c = codes[batch]
        p = expit(base_logits[batch] + state.weights[c])
        gradient = np.bincount(c, weights=p - y[batch], minlength=cardinality)
        state.curvature += np.bincount(c, weights=p * (1 - p), minlength=cardinality)
        gradient += l2 * state.weights

        # A value with no rows so far (zero curvature) keeps its weight when l2 is 0.
        denominator = state.curvature + l2
        step = np.divide(gradient, denominator, out=np.zeros(cardinality), where=denominator > 0)
        state.weights -= learning_rate * step
    return state


@dataclasses.dataclass(frozen=True)
class CandidateEncoding:
    """A candidate feature's codes and the inherited logits of its parent model.

    Attributes
    ----------
    train_codes, valid_codes : ndarray of int, shapes (n_train,) and (n_valid,)
    cardinality : int
        One more than the largest possible code.
    base_train, base_valid : ndarray of float64, shapes (n_train,) and (n_valid,)
        Logits of the model the candidate would extend, fixed during training.
    """

    train_codes: np.ndarray
    valid_codes: np.ndarray
    cardinality: int
    base_train: np.ndarray
    base_valid: np.ndarray


@dataclasses.dataclass(frozen=True)
class HalvingResult:
    """Outcome of :func:`successive_halving`.

    Attributes
    ----------
    survivors : tuple of int
        Indices of the candidates left after the last round, best first.
    scores : ndarray of float64, shape (n_candidates,)
        Each candidate's validation score in the last round it took part in.
    rounds : ndarray of int64, shape (n_candidates,)
        Number of rounds each candidate was trained and scored in.
    weights : dict
        Candidate index -> trained weights, for the survivors only.
    """

    survivors: tuple[int, ...]
    scores: np.ndarray
    rounds: np.ndarray
    weights: dict[int, np.ndarray]


def successive_halving(
    n_candidates: int,
    encode: Callable[[int], CandidateEncoding], y_train: np.ndarray,
    blocks: Sequence[np.ndarray], y_valid: np.ndarray, *, keep: int = 1, metric: str = "auc",
    learning_rate: float = 1.0, l2: float = 1.0, batch_size: int = BATCH_SIZE,
) -> HalvingResult:
    """Compare candidates by successive mini-batch gradient descent.

    Round ``r`` (from 0) trains every remaining candidate's field weights on
    ``blocks[r % len(blocks)]``, continuing from the weights of the earlier
    rounds, scores it on the validation rows, and keeps the better half
    (rounded up, and never fewer than ``keep``). Rounds go on until at most
    ``keep`` candidates remain, so a set of n candidates takes
    max(1, ceil(log2(n / keep))) rounds, and the last round's candidates have
    seen the most data. The survivors keep the scores of that last round.

    Parameters
    ----------
    n_candidates : int
    encode : callable
        ``encode(i)`` returns candidate ``i``'s :class:`CandidateEncoding`. It is
        called once per candidate, in the first round.
    y_train, y_valid : ndarray of 0/1
    blocks : sequence of ndarray of int64
        Row indices of each training data block, in the order they are used.
    keep : int
        Number of survivors requested.
    metric : {"auc", "logloss"}
        Validation score to compare by (higher is better; "logloss" uses minus the log-loss).
    learning_rate, l2, batch_size
        Passed to :func:`train_field_weights`.
    """
    scores = np.full(n_candidates, -np.inf)
    rounds = np.zeros(n_candidates, dtype=np.int64)
    states: dict[int, FieldWeights] = {}
    encodings: dict[int, CandidateEncoding] = {}
    remaining = list(range(n_candidates))

    round_index = 0
    while True:
        block = blocks[round_index % len(blocks)]
        for i in remaining:
            if i not in encodings:
                encodings[i] = encode(i)
                states[i] = FieldWeights.zeros(encodings[i].cardinality)
            encoding = encodings[i]
            train_field_weights(states[i], encoding.train_codes[block],
                                encoding.base_train[block], y_train[block],
                                learning_rate=learning_rate, l2=l2, batch_size=batch_size)
            valid_logits = encoding.base_valid + states[i].weights[encoding.valid_codes]
            scores[i] = score_logits(metric, y_valid, valid_logits)
            rounds[i] += 1
        round_index += 1

        # Best first; a stable sort on the negated scores breaks ties by candidate order.
        remaining.sort(key=lambda i: -scores[i])
        if len(remaining) <= keep:
            break
        survivors = max(keep, math.ceil(len(remaining) / 2))
        for i in remaining[survivors:]:
            del encodings[i], states[i]
        remaining = remaining[:survivors]
        if len(remaining) <= keep:
            break

    return HalvingResult(tuple(remaining), scores, rounds,
                         {i: states[i].weights.copy() for i in remaining})
