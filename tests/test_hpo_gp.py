"""The GP surrogate, the acquisition functions and GPEISampler."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from scipy.stats import norm

from workbench.hpo.acquisition import (acquisition_gradient, acquisition_value,
                                       expected_improvement, log_expected_improvement, log_h)
from workbench.hpo.encoding import SpaceEncoder
from workbench.hpo.gp import fit_gp, log_marginal_likelihood, posterior_from_theta
from workbench.hpo.gp_sampler import GPEISampler
from workbench.hpo.tasks.test_functions import BRANIN, HARTMANN6, TEST_FUNCTIONS

optuna.logging.set_verbosity(optuna.logging.ERROR)


def test_posterior_matches_closed_form():
    # Three points in 1-D, fixed hyperparameters: mean k*^T K^-1 y, variance k** - k*^T K^-1 k*.
    X = np.array([[0.1], [0.5], [0.9]])
    y = np.array([1.0, -0.5, 0.3])
    lengthscale, signal, noise = 0.3, 1.5, 0.01
    theta = np.array([math.log(lengthscale), math.log(signal), math.log(noise)])
    posterior = posterior_from_theta(X, y, 0.0, 1.0, theta)

    def k(a, b):
        r = abs(a - b) / lengthscale
        return signal * (1 + math.sqrt(5) * r + 5 / 3 * r**2) * math.exp(-math.sqrt(5) * r)

    K = np.array([[k(a, b) for b in X[:, 0]] for a in X[:, 0]]) + (noise + 1e-8) * np.eye(3)
    for x_star in (0.0, 0.3, 0.5, 0.77):
        k_star = np.array([k(x_star, b) for b in X[:, 0]])
        mean = k_star @ np.linalg.solve(K, y)
        variance = signal - k_star @ np.linalg.solve(K, k_star)
        got_mean, got_variance = posterior.predict(np.array([[x_star]]))
        assert got_mean[0] == pytest.approx(mean, rel=1e-9)
        assert got_variance[0] == pytest.approx(variance, rel=1e-7)


def test_marginal_likelihood_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(12, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    theta = np.array([-0.5, 0.2, -1.0, 0.3, math.log(0.01)])
    _, gradient = log_marginal_likelihood(theta, X, y)
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = 1e-6
        numeric = (log_marginal_likelihood(theta + step, X, y)[0]
                   - log_marginal_likelihood(theta - step, X, y)[0]) / 2e-6
        assert gradient[j] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_predict_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(10, 2))
    posterior = fit_gp(X, np.cos(4 * X[:, 0]) * X[:, 1])
    x = np.array([0.37, 0.61])
    mean, variance, dmean, dvariance = posterior.predict_with_gradient(x)
    assert mean == pytest.approx(posterior.predict(x[None])[0][0])
    assert variance == pytest.approx(posterior.predict(x[None])[1][0])
    for d in range(2):
        step = np.zeros(2)
        step[d] = 1e-6
        upper, lower = posterior.predict(np.array([x + step])), posterior.predict(np.array([x - step]))
        assert dmean[d] == pytest.approx((upper[0][0] - lower[0][0]) / 2e-6, rel=1e-4, abs=1e-7)
        assert dvariance[d] == pytest.approx((upper[1][0] - lower[1][0]) / 2e-6, rel=1e-4, abs=1e-7)


@pytest.mark.parametrize("z", [-40.0, -12.0, -5.0, -1.5, -1.0, -0.3, 0.0, 0.7, 3.0, 8.0])
def test_ei_matches_scipy_formula(z):
    mu, sigma, best = z * 0.8 + 1.0, 0.8, 1.0
    expected = sigma * (norm.pdf(z) + z * norm.cdf(z))
    assert expected_improvement(np.array([mu]), np.array([sigma]), best)[0] == pytest.approx(
        expected, rel=1e-9, abs=1e-300)
    if expected > 0:
        assert log_expected_improvement(np.array([mu]), np.array([sigma]), best)[0] == \
            pytest.approx(math.log(expected), rel=1e-9)


def test_log_h_finite_far_below_incumbent():
    z = np.array([-1e3, -1e6, -1e9])
    values = log_h(z)
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values) < 0), "log EI must keep decreasing, not flatten to -inf"


@pytest.mark.parametrize("name, exploration", [("log_ei", 0.0), ("log_ei", 0.1), ("ucb", 2.0),
                                               ("pi", 0.01)])
@pytest.mark.parametrize("mu, sigma", [(0.3, 0.5), (-4.0, 0.2), (1.5, 1.0)])
def test_acquisition_gradient_matches_finite_differences(name, exploration, mu, sigma):
    best = 0.5
    d_mu, d_sigma = acquisition_gradient(name, mu, sigma, best, exploration)

    def value(m, s):
        return acquisition_value(name, np.array([m]), np.array([s]), best, exploration)[0]

    assert d_mu == pytest.approx((value(mu + 1e-6, sigma) - value(mu - 1e-6, sigma)) / 2e-6, rel=1e-4)
    assert d_sigma == pytest.approx((value(mu, sigma + 1e-6) - value(mu, sigma - 1e-6)) / 2e-6,
                                    rel=1e-4)


def test_encoder_round_trip():
    space = {"lr": FloatDistribution(1e-4, 1.0, log=True), "units": IntDistribution(8, 256, step=8),
             "depth": IntDistribution(1, 32, log=True), "act": CategoricalDistribution(["relu", "tanh"]),
             "dropout": FloatDistribution(0.0, 0.5, step=0.1)}
    encoder = SpaceEncoder(space)
    assert encoder.n_dims == 6
    assert encoder.continuous.tolist() == [True, True, True, False, False, True]
    rng = np.random.default_rng(0)
    for x in encoder.quasi_random(64, rng):
        params = encoder.decode(x)
        assert all(space[name]._contains(space[name].to_internal_repr(v)) for name, v in params.items())
        assert encoder.decode(encoder.encode(params)) == params
    assert encoder.encode({"lr": 1e-4, "units": 8, "depth": 1, "act": "tanh", "dropout": 0.0})[0] == 0.0


def run_study(sampler, function, n_trials, direction="minimize"):
    study = optuna.create_study(sampler=sampler, direction=direction)
    study.optimize(lambda trial: function({name: trial.suggest_float(name, d.low, d.high)
                                           for name, d in function.space.items()}),
                   n_trials=n_trials)
    return study


def test_sampler_beats_random_on_branin():
    gp = run_study(GPEISampler(seed=0), BRANIN, 30)
    random = run_study(optuna.samplers.RandomSampler(seed=0), BRANIN, 30)
    assert BRANIN.regret(gp.best_value) < 0.05
    assert gp.best_value < random.best_value


def test_sampler_maximize_direction():
    negated = lambda params: -HARTMANN6(params)  # noqa: E731
    study = optuna.create_study(sampler=GPEISampler(seed=1), direction="maximize")
    study.optimize(lambda trial: negated({name: trial.suggest_float(name, 0, 1)
                                          for name in HARTMANN6.space}), n_trials=40)
    assert study.best_value > 2.5


@pytest.mark.parametrize("acquisition", ["ucb", "pi"])
def test_other_acquisitions_work(acquisition):
    study = run_study(GPEISampler(seed=2, acquisition=acquisition), BRANIN, 25)
    assert BRANIN.regret(study.best_value) < 1.0


def test_sampler_survives_duplicates_constants_nan_and_failures():
    calls = {"n": 0}

    def objective(trial):
        calls["n"] += 1
        trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_int("n", 1, 3)
        if calls["n"] % 7 == 0:
            raise RuntimeError("simulated crash")
        if calls["n"] % 5 == 0:
            return float("nan")
        return 1.0  # constant objective

    study = optuna.create_study(sampler=GPEISampler(seed=3, n_startup_trials=3))
    for params in [{"x": 0.5, "n": 2}] * 4:
        study.enqueue_trial(params)  # duplicate points
    study.optimize(objective, n_trials=30, catch=(RuntimeError,))
    states = [trial.state.name for trial in study.trials]
    assert states.count("COMPLETE") >= 20
    assert "FAIL" in states
    assert len(study.trials) == 30


def test_sampler_validates_arguments():
    with pytest.raises(ValueError, match="acquisition must be one of"):
        GPEISampler(acquisition="ei2")
    with pytest.raises(ValueError, match="exploration must be >= 0"):
        GPEISampler(exploration=-1.0)
    with pytest.raises(ValueError, match="n_startup_trials must be >= 1"):
        GPEISampler(n_startup_trials=0)


def test_known_optima_of_test_functions():
    assert BRANIN({"x1": math.pi, "x2": 2.275}) == pytest.approx(BRANIN.minimum, abs=1e-9)
    optimum = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    assert HARTMANN6({f"x{i}": v for i, v in enumerate(optimum, 1)}) == pytest.approx(
        HARTMANN6.minimum, abs=1e-5)
    assert TEST_FUNCTIONS["six_hump_camel"]({"x1": 0.0898, "x2": -0.7126}) == pytest.approx(
        -1.0316, abs=1e-4)
    assert TEST_FUNCTIONS["goldstein_price"]({"x1": 0.0, "x2": -1.0}) == pytest.approx(3.0)
    assert TEST_FUNCTIONS["levy4"]({f"x{i}": 1.0 for i in range(1, 5)}) == pytest.approx(0.0, abs=1e-12)


def test_sampler_handles_mixed_space():
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        units = trial.suggest_int("units", 8, 256, step=8)
        depth = trial.suggest_int("depth", 1, 16, log=True)
        kind = trial.suggest_categorical("kind", ["relu", "tanh", "gelu"])
        return (math.log10(lr) + 2) ** 2 + (units - 64) ** 2 / 1e4 + abs(depth - 4) + (kind != "gelu")

    study = optuna.create_study(sampler=GPEISampler(seed=5, n_startup_trials=6))
    study.optimize(objective, n_trials=30)
    for trial in study.trials:
        assert trial.params["units"] % 8 == 0
        assert 1 <= trial.params["depth"] <= 16
        assert trial.params["kind"] in ("relu", "tanh", "gelu")
    assert study.best_value < 1.5


@pytest.mark.parametrize("make, match", [
    (lambda: FloatDistribution(5.0, 1.0), "low"),
    (lambda: FloatDistribution(0.0, 1.0, log=True), "low"),
    (lambda: IntDistribution(0, 8, log=True), "low"),
])
def test_invalid_distributions_rejected_by_optuna(make, match):
    # The spaces are Optuna distributions, whose constructors reject these bounds.
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("constant_liar", [True, False])
def test_constant_liar_avoids_running_point(constant_liar, seed):
    study = optuna.create_study(sampler=GPEISampler(seed=seed, constant_liar=constant_liar))
    study.optimize(lambda t: BRANIN({n: t.suggest_float(n, d.low, d.high)
                                     for n, d in BRANIN.space.items()}), n_trials=15)
    # The point a fresh sampler chooses next on the same data ...
    probe = optuna.create_study(sampler=GPEISampler(seed=seed, constant_liar=False))
    probe.add_trials(study.trials)
    favourite = probe.ask(BRANIN.space).params
    # ... is being evaluated by another worker.
    study.add_trial(optuna.trial.create_trial(params=favourite, distributions=BRANIN.space,
                                              state=optuna.trial.TrialState.RUNNING))
    proposal = study.ask(BRANIN.space).params
    distance = max(abs(proposal[n] - favourite[n]) / (d.high - d.low)
                   for n, d in BRANIN.space.items())
    if constant_liar:
        assert distance > 1e-3, "the sampler proposed the point another worker is running"
    else:
        assert distance < 1e-3
