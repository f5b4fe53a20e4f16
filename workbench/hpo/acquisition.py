"""Acquisition functions on a GP posterior, for maximization.

All functions take the posterior mean ``mu`` and standard deviation ``sigma``
(standardized units) and the incumbent ``best`` and return a score to
maximize. Expected improvement is computed as log-EI in the numerically stable
form of Ament et al., "Unexpected Improvements to Expected Improvement for
Bayesian Optimization" (NeurIPS 2023), eq. 9, so it keeps a usable gradient far
from the incumbent where plain EI underflows to zero.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

ACQUISITIONS = ("log_ei", "ucb", "pi")
DEFAULT_EXPLORATION = {"log_ei": 0.0, "ucb": 2.0, "pi": 0.01}

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LOG_SQRT_HALF_PI = 0.5 * math.log(math.pi / 2)
_INV_SQRT_EPS = 1.0 / math.sqrt(np.finfo(float).eps)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """Return log(1 - exp(x)) for x < 0, accurate near 0 and for large |x|."""
    return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_h(z: np.ndarray) -> np.ndarray:
    """Return log(phi(z) + z Phi(z)), the log of EI's standardized form h(z).

    Three branches (Ament et al. 2023, eq. 9): the direct formula for z > -1;
    for z <= -1, h(z) = phi(z) (1 - |z| Phi(z)/phi(z)) with
    Phi(z)/phi(z) = sqrt(pi/2) erfcx(-z/sqrt(2)); and the asymptote
    -z^2/2 - log sqrt(2 pi) - 2 log|z| below -1/sqrt(machine epsilon).
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu**2) / math.sqrt(2 * math.pi) + zu * ndtr(zu))
    middle = (~upper) & (z > -_INV_SQRT_EPS)
    zm = z[middle]
    out[middle] = (-0.5 * zm**2 - _LOG_SQRT_2PI
                   + _log1mexp(np.log(erfcx(-zm / math.sqrt(2)) * np.abs(zm)) + _LOG_SQRT_HALF_PI))
    lower = ~(upper | middle)
    zl = z[lower]
    out[lower] = -0.5 * zl**2 - _LOG_SQRT_2PI - 2.0 * np.log(np.abs(zl))
    return out


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float,
                         xi: float = 0.0) -> np.ndarray:
    """Return EI = sigma * (phi(z) + z Phi(z)), z = (mu - best - xi) / sigma (Jones et al. 1998)."""
    z = (mu - best - xi) / sigma
    return sigma * np.exp(log_h(z))


def log_expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float,
                             xi: float = 0.0) -> np.ndarray:
    """Return log EI = log sigma + log h(z), z = (mu - best - xi) / sigma."""
    z = (mu - best - xi) / sigma
    return np.log(sigma) + log_h(z)


def upper_confidence_bound(mu: np.ndarray, sigma: np.ndarray, best: float,
                           beta: float = 2.0) -> np.ndarray:
    """Return mu + sqrt(beta) sigma (GP-UCB, Srinivas et al. 2010); ``best`` is unused."""
    return mu + math.sqrt(beta) * sigma


def log_probability_of_improvement(mu: np.ndarray, sigma: np.ndarray, best: float,
                                   xi: float = 0.01) -> np.ndarray:
    """Return log Phi((mu - best - xi) / sigma), the log of PI (Kushner 1964)."""
    return log_ndtr((mu - best - xi) / sigma)


def acquisition_value(name: str, mu: np.ndarray, sigma: np.ndarray, best: float,
                      exploration: float) -> np.ndarray:
    """Evaluate acquisition ``name`` (one of :data:`ACQUISITIONS`)."""
    if name == "log_ei":
        return log_expected_improvement(mu, sigma, best, exploration)
    if name == "ucb":
        return upper_confidence_bound(mu, sigma, best, exploration)
    if name == "pi":
        return log_probability_of_improvement(mu, sigma, best, exploration)
    raise ValueError(f"acquisition must be one of {ACQUISITIONS}, got {name!r}.")


def acquisition_gradients(name: str, mu: np.ndarray, sigma: np.ndarray, best: float,
                          exploration: float) -> tuple[np.ndarray, np.ndarray]:
    """Return d acquisition / d mu and d acquisition / d sigma, each shape (m,)."""
    mu, sigma = np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float)
    if name == "ucb":
        return np.ones_like(mu), np.full_like(mu, math.sqrt(exploration))
    z = (mu - best - exploration) / sigma
    if name == "pi":
        ratio = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_ndtr(z))
        return ratio / sigma, -ratio * z / sigma
    ratio = np.exp(log_ndtr(z) - log_h(z))
    return ratio / sigma, 1.0 / sigma - ratio * z / sigma


def acquisition_gradient(name: str, mu: float, sigma: float, best: float,
                         exploration: float) -> tuple[float, float]:
    """Return d acquisition / d mu and d acquisition / d sigma at one point."""
    if name == "ucb":
        return 1.0, math.sqrt(exploration)
    z = (mu - best - exploration) / sigma
    if name == "pi":
        # d log Phi(z)/dz = phi(z) / Phi(z), computed in log space.
        ratio = math.exp(-0.5 * z * z - _LOG_SQRT_2PI - float(log_ndtr(z)))
        return ratio / sigma, -ratio * z / sigma
    # d log h/dz = Phi(z) / h(z), since h'(z) = Phi(z).
    ratio = math.exp(float(log_ndtr(z)) - float(log_h(np.array([z]))[0]))
    return ratio / sigma, 1.0 / sigma - ratio * z / sigma
