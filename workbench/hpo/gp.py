"""Gaussian-process regression with a Matern 5/2 ARD kernel.

Inputs live in the unit cube (see :mod:`workbench.hpo.encoding`), targets are
standardized before fitting. Kernel and marginal likelihood follow Rasmussen &
Williams, *Gaussian Processes for Machine Learning* (2006): the Matern 5/2
kernel is eq. 4.17 with automatic relevance determination (one lengthscale per
input dimension), the log marginal likelihood is eq. 2.30 and its gradient
eq. 5.9.

Hyperparameters ``theta = [log l_1 .. log l_d, log signal_variance,
log noise_variance]`` are fitted by maximizing the log marginal likelihood plus
weak log-normal priors (a MAP estimate), with L-BFGS-B and analytic gradients.
The priors keep lengthscales from collapsing on a handful of points.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.linalg import cho_solve, lapack, solve_triangular
from scipy.optimize import minimize

SQRT5 = math.sqrt(5.0)
JITTER = 1e-8                 # added to the kernel diagonal for a stable Cholesky factor
MIN_NOISE_VARIANCE = 1e-8     # in standardized target units
MAX_NOISE_VARIANCE = 1.0
LOG_LENGTHSCALE_BOUNDS = (math.log(1e-2), math.log(20.0))
LOG_SIGNAL_BOUNDS = (math.log(1e-2), math.log(20.0))
# Weak log-normal priors (mean, standard deviation) on the log hyperparameters.
LENGTHSCALE_PRIOR = (math.log(0.5), 1.0)
SIGNAL_PRIOR = (0.0, 1.0)
NOISE_PRIOR = (math.log(1e-4), 3.0)
WARM_START_ITERATIONS = 30


_controller = None


def single_threaded_blas():
    """Return a context that limits BLAS to one thread.

    The GP's matrices are small (a few hundred rows), so threads only add
    synchronization. Worse, numpy and scipy each ship their own OpenBLAS, and
    alternating calls into two multi-threaded pools made one marginal-likelihood
    evaluation about 3.5 times slower on a 2-core machine (n = 200: 15 ms
    against 4 ms with one thread).
    """
    global _controller
    from threadpoolctl import ThreadpoolController

    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def matern52(X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray,
             signal_variance: float) -> np.ndarray:
    """Return the Matern 5/2 kernel matrix, shape (n1, n2).

    k(r) = s * (1 + sqrt(5) r + 5/3 r^2) * exp(-sqrt(5) r), where
    r^2 = sum_d (x_d - x'_d)^2 / l_d^2 (Rasmussen & Williams, eq. 4.17).
    """
    r = np.sqrt(_scaled_sq_dist(X1, X2, lengthscales))
    return signal_variance * (1.0 + SQRT5 * r + 5.0 / 3.0 * r**2) * np.exp(-SQRT5 * r)


def _scaled_sq_dist(X1: np.ndarray, X2: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    A, B = X1 / lengthscales, X2 / lengthscales
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(sq, 0.0)


@dataclasses.dataclass(frozen=True)
class GPPosterior:
    """A fitted GP, immutable: predicts mean and variance in standardized units.

    Attributes
    ----------
    X : ndarray, shape (n, d)
        Training inputs in the unit cube.
    y : ndarray, shape (n,)
        Standardized training targets.
    y_mean, y_std : float
        Standardization constants: ``y = (raw - y_mean) / y_std``.
    lengthscales : ndarray, shape (d,)
    signal_variance, noise_variance : float
    log_marginal_likelihood : float
    """

    X: np.ndarray
    y: np.ndarray
    y_mean: float
    y_std: float
    lengthscales: np.ndarray
    signal_variance: float
    noise_variance: float
    log_marginal_likelihood: float
    cholesky: np.ndarray   # lower Cholesky factor of K + noise I, shape (n, n)
    alpha: np.ndarray      # (K + noise I)^-1 y, shape (n,)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return posterior mean and variance of the latent function, each shape (m,).

        Standardized units; multiply by ``y_std`` (variance by ``y_std**2``) and
        add ``y_mean`` for the objective's units. Eq. 2.25-2.26 of Rasmussen &
        Williams.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        k_star = matern52(X, self.X, self.lengthscales, self.signal_variance)  # (m, n)
        mean = k_star @ self.alpha
        v = solve_triangular(self.cholesky, k_star.T, lower=True)              # (n, m)
        variance = np.maximum(self.signal_variance - (v**2).sum(0), 1e-12)
        return mean, variance

    def predict_with_gradient_batch(self, X: np.ndarray,
                                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return mean (m,), variance (m,) and their gradients (m, d) at the rows of ``X``."""
        diff = X[:, None, :] - self.X[None, :, :]                    # (m, n, d)
        scaled = diff / self.lengthscales**2                         # (m, n, d)
        r = np.sqrt(np.maximum((diff * scaled).sum(-1), 0.0))        # (m, n)
        decay = np.exp(-SQRT5 * r)
        k_star = self.signal_variance * (1.0 + SQRT5 * r + 5.0 / 3.0 * r**2) * decay
        # dk/dx_d = -s * 5/3 * (1 + sqrt(5) r) exp(-sqrt(5) r) * (x_d - x'_d) / l_d^2
        dk = -(self.signal_variance * 5.0 / 3.0 * (1.0 + SQRT5 * r) * decay)[..., None] * scaled
        mean = k_star @ self.alpha
        dmean = np.einsum("mnd,n->md", dk, self.alpha)
        w = cho_solve((self.cholesky, True), k_star.T)               # (n, m) = K^-1 k*
        variance = np.maximum(self.signal_variance - np.einsum("mn,nm->m", k_star, w), 1e-12)
        dvariance = -2.0 * np.einsum("mnd,nm->md", dk, w)
        return mean, variance, dmean, dvariance

    def predict_with_gradient(self, x: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Return mean, variance and their gradients with respect to one input ``x`` (d,)."""
        x = np.asarray(x, dtype=float)
        diff = x[None, :] - self.X                                   # (n, d)
        scaled = diff / self.lengthscales**2                         # (n, d)
        r = np.sqrt(np.maximum((diff**2 / self.lengthscales**2).sum(1), 0.0))
        decay = np.exp(-SQRT5 * r)
        k_star = self.signal_variance * (1.0 + SQRT5 * r + 5.0 / 3.0 * r**2) * decay   # (n,)
        # dk/dx_d = -s * 5/3 * (1 + sqrt(5) r) exp(-sqrt(5) r) * (x_d - x'_d) / l_d^2
        dk = -(self.signal_variance * 5.0 / 3.0 * (1.0 + SQRT5 * r) * decay)[:, None] * scaled
        mean = float(k_star @ self.alpha)
        dmean = dk.T @ self.alpha
        w = cho_solve((self.cholesky, True), k_star)                 # K^-1 k*
        variance = max(self.signal_variance - float(k_star @ w), 1e-12)
        dvariance = -2.0 * dk.T @ w
        return mean, variance, dmean, dvariance


def standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return ``(y - mean) / std``, mean and std; a constant ``y`` gets std 1."""
    mean = float(np.mean(y))
    std = float(np.std(y))
    if not np.isfinite(std) or std < 1e-12:
        std = 1.0
    return (y - mean) / std, mean, std


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, float, float]:
    return np.exp(theta[:-2]), float(np.exp(theta[-2])), float(np.exp(theta[-1]))


def _log_prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    means = np.r_[np.full(len(theta) - 2, LENGTHSCALE_PRIOR[0]), SIGNAL_PRIOR[0], NOISE_PRIOR[0]]
    stds = np.r_[np.full(len(theta) - 2, LENGTHSCALE_PRIOR[1]), SIGNAL_PRIOR[1], NOISE_PRIOR[1]]
    z = (theta - means) / stds
    return float(-0.5 * (z**2).sum()), -z / stds


def pairwise_sq_diff(X: np.ndarray) -> np.ndarray:
    """Return (x_i,d - x_j,d)^2 for all pairs, flattened to shape (n * n, d)."""
    n, d = X.shape
    return ((X[:, None, :] - X[None, :, :]) ** 2).reshape(n * n, d)


def log_marginal_likelihood(theta: np.ndarray, X: np.ndarray, y: np.ndarray,
                            diff_sq: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Return the log marginal likelihood and its gradient with respect to ``theta``.

    log p(y | X, theta) = -1/2 y^T K^-1 y - sum log diag L - n/2 log 2 pi, and
    d/d theta_j = 1/2 tr((alpha alpha^T - K^-1) dK/d theta_j)
    (Rasmussen & Williams, eq. 2.30 and 5.9). ``diff_sq`` is
    :func:`pairwise_sq_diff` of ``X``, passed in so an optimizer computes it once.
    """
    lengthscales, signal, noise = _unpack(theta)
    n = len(X)
    if diff_sq is None:
        diff_sq = pairwise_sq_diff(X)                                    # (n * n, d)
    r = np.sqrt(np.maximum(diff_sq @ (1.0 / lengthscales**2), 0.0)).reshape(n, n)
    decay = np.exp(-SQRT5 * r)
    K_f = signal * (1.0 + SQRT5 * r + 5.0 / 3.0 * r**2) * decay
    K = K_f + (noise + JITTER) * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = cho_solve((L, True), y)
    value = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * n * math.log(2 * math.pi)

    K_inverse, info = lapack.dpotri(L, lower=1)    # lower triangle of K^-1 from L
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed with info={info}")
    K_inverse = np.tril(K_inverse) + np.tril(K_inverse, -1).T
    inner = np.outer(alpha, alpha) - K_inverse                           # (n, n)
    # dK/d log l_d = s * 5/3 * (1 + sqrt(5) r) exp(-sqrt(5) r) * (x_d - x'_d)^2 / l_d^2
    common = signal * 5.0 / 3.0 * (1.0 + SQRT5 * r) * decay
    grad_lengthscales = 0.5 * ((inner * common).ravel() @ diff_sq) / lengthscales**2
    grad_signal = 0.5 * np.sum(inner * K_f)
    grad_noise = 0.5 * noise * np.trace(inner)
    return float(value), np.r_[grad_lengthscales, grad_signal, grad_noise]


def default_theta(n_dims: int) -> np.ndarray:
    return np.r_[np.full(n_dims, LENGTHSCALE_PRIOR[0]), SIGNAL_PRIOR[0], NOISE_PRIOR[0]]


def fit_gp(X: np.ndarray, y_raw: np.ndarray, *, initial_theta: np.ndarray | None = None,
           fixed_lengthscales: np.ndarray | None = None, max_iterations: int = 200) -> GPPosterior:
    """Fit a GP to ``(X, y_raw)`` by maximizing the penalized log marginal likelihood.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Inputs in the unit cube; duplicates are allowed (the noise term absorbs them).
    y_raw : ndarray, shape (n,)
        Finite targets in the objective's units; they are standardized here.
    initial_theta : ndarray, shape (d + 2,), optional
        Start of the optimization (warm start from the previous fit). Without
        it the optimization starts from the priors' means.
    fixed_lengthscales : ndarray, shape (d,), optional
        Keep these lengthscales and fit only the variances.
    """
    X = np.asarray(X, dtype=float)
    y, y_mean, y_std = standardize(np.asarray(y_raw, dtype=float))
    n_dims = X.shape[1]
    bounds = ([LOG_LENGTHSCALE_BOUNDS] * n_dims + [LOG_SIGNAL_BOUNDS]
              + [(math.log(MIN_NOISE_VARIANCE), math.log(MAX_NOISE_VARIANCE))])
    free = np.ones(n_dims + 2, dtype=bool)
    if initial_theta is not None and len(initial_theta) == n_dims + 2:
        starts = [np.clip(initial_theta, [b[0] for b in bounds], [b[1] for b in bounds])]
        # A warm start is near the optimum already; a few dozen steps suffice.
        max_iterations = min(max_iterations, WARM_START_ITERATIONS)
    else:
        starts = [default_theta(n_dims)]
    diff_sq = pairwise_sq_diff(X)
    if fixed_lengthscales is not None:
        free[:n_dims] = False
        for start in starts:
            start[:n_dims] = np.log(fixed_lengthscales)

    best_theta, best_value = starts[0], -np.inf
    for start in starts:
        def negative_objective(free_theta: np.ndarray, start=start) -> tuple[float, np.ndarray]:
            theta = start.copy()
            theta[free] = free_theta
            try:
                value, gradient = log_marginal_likelihood(theta, X, y, diff_sq)
            except np.linalg.LinAlgError:
                return 1e10, np.zeros(int(free.sum()))
            prior, prior_gradient = _log_prior(theta)
            return -(value + prior), -(gradient + prior_gradient)[free]

        result = minimize(negative_objective, start[free], jac=True, method="L-BFGS-B",
                          bounds=[b for b, keep in zip(bounds, free) if keep],
                          options={"maxiter": max_iterations})
        if np.isfinite(result.fun) and -result.fun > best_value:
            best_value = -result.fun
            best_theta = start.copy()
            best_theta[free] = result.x
    return posterior_from_theta(X, y, y_mean, y_std, best_theta)


def posterior_from_theta(X: np.ndarray, y: np.ndarray, y_mean: float, y_std: float,
                         theta: np.ndarray) -> GPPosterior:
    """Build the posterior for fixed hyperparameters ``theta`` and standardized ``y``."""
    lengthscales, signal, noise = _unpack(theta)
    K = matern52(X, X, lengthscales, signal) + (noise + JITTER) * np.eye(len(X))
    L = np.linalg.cholesky(K)
    alpha = cho_solve((L, True), y)
    value = float(-0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * len(X) * math.log(2 * math.pi))
    return GPPosterior(X=X, y=y, y_mean=y_mean, y_std=y_std, lengthscales=lengthscales,
                       signal_variance=signal, noise_variance=noise,
                       log_marginal_likelihood=value, cholesky=L, alpha=alpha)
