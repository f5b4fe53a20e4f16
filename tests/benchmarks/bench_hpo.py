"""HPO benchmark: the workbench's GP-EI and Hyperband against Optuna's samplers and pruners.

Parts (each prints a Markdown table):

a. Best value and simple regret after 50 and 100 trials, median over seeds,
   on Branin and Hartmann-6 (minimized; regret = best - known minimum) and on
   the Adult task (cross-validated ROC AUC of gradient boosting, maximized),
   for GPEISampler, Optuna's GPSampler, TPESampler and RandomSampler.
b. Seconds per ``ask()`` at 50, 100 and 200 completed trials on Hartmann-6,
   for GPEISampler and GPSampler, on identical studies.
c. Hyperband (R = 27 epochs, eta = 3) against Optuna TPE + HyperbandPruner
   (same R and eta) on the MNIST task: best validation accuracy against the
   total epochs spent, over the same epoch budget.

Run: ``WORKBENCH_DATA=/path/to/data python tests/benchmarks/bench_hpo.py --part all``
(``--quick`` for a smoke run with small counts).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from workbench.hpo import GPEISampler, Hyperband
from workbench.hpo.tasks import BRANIN, HARTMANN6, MNISTTask, mnist_space

SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "GPEISampler (workbench)": lambda seed: GPEISampler(seed=seed),
    "GPSampler (optuna)": lambda seed: optuna.samplers.GPSampler(seed=seed),
    "TPESampler (optuna)": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "RandomSampler (optuna)": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


def suggest_all(trial: optuna.Trial, space: dict[str, Any]) -> dict[str, Any]:
    return {name: trial._suggest(name, distribution) for name, distribution in space.items()}


def best_after(values: list[float], n: int, minimize: bool) -> float:
    finite = [v for v in values[:n] if v is not None and math.isfinite(v)]
    return min(finite) if minimize else max(finite)


def part_a(seeds: int, trials: int, adult_rows: int, adult_seeds: int) -> None:
    problems: list[tuple[str, Callable[[dict[str, Any]], float], dict[str, Any], bool,
                         float | None]] = [
        ("Branin", BRANIN, BRANIN.space, True, BRANIN.minimum),
        ("Hartmann-6", HARTMANN6, HARTMANN6.space, True, HARTMANN6.minimum),
    ]
    try:
        from workbench.data import load_adult
        from workbench.hpo.tasks import gradient_boosting_space, gradient_boosting_task

        adult = load_adult()
        task = gradient_boosting_task(adult.frame, adult.target, max_iter=30, max_rows=adult_rows,
                                      n_threads=1)
        problems.append(("Adult (CV ROC AUC)", task, gradient_boosting_space(), False, None))
    except Exception as error:  # the printed line gives the reason the row is missing
        print(f"Adult task skipped: {error}")

    half = trials // 2
    print(f"\n### a. Best value after {half} and {trials} trials (median over {seeds} seeds)\n")
    print(f"| problem | sampler | median regret @{half} | median regret @{trials} "
          f"| median best @{half} | median best @{trials} | seconds per study |")
    print("|---|---|---|---|---|---|---|")
    for name, objective, space, minimize, minimum in problems:
        n_seeds = seeds if minimum is not None else adult_seeds
        for sampler_name, make in SAMPLERS.items():
            at_half, at_end, seconds = [], [], []
            for seed in range(n_seeds):
                study = optuna.create_study(sampler=make(seed),
                                            direction="minimize" if minimize else "maximize")
                started = time.perf_counter()
                study.optimize(lambda t: objective(suggest_all(t, space)), n_trials=trials)
                seconds.append(time.perf_counter() - started)
                values = [t.value for t in study.trials]
                at_half.append(best_after(values, half, minimize))
                at_end.append(best_after(values, trials, minimize))
            regret = (lambda v: f"{statistics.median(v) - minimum:.3g}") if minimum is not None \
                else (lambda v: "-")
            print(f"| {name} | {sampler_name} | {regret(at_half)} | {regret(at_end)} "
                  f"| {statistics.median(at_half):.6g} | {statistics.median(at_end):.6g} "
                  f"| {statistics.median(seconds):.1f} |", flush=True)


def part_b(repeats: int) -> None:
    print("\n### b. Seconds per ask() on Hartmann-6 (median of the repeats)\n")
    print("| completed trials | GPEISampler (workbench) | GPSampler (optuna) | ratio |")
    print("|---|---|---|---|")
    for n_complete in (50, 100, 200):
        rng = np.random.default_rng(n_complete)
        points = [{name: float(rng.uniform()) for name in HARTMANN6.space} for _ in range(n_complete)]
        times = {}
        for sampler_name in ("GPEISampler (workbench)", "GPSampler (optuna)"):
            study = optuna.create_study(sampler=SAMPLERS[sampler_name](0))
            for params in points:
                study.add_trial(optuna.trial.create_trial(
                    params=params, distributions=HARTMANN6.space, value=HARTMANN6(params)))
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                trial = study.ask()
                suggest_all(trial, HARTMANN6.space)
                samples.append(time.perf_counter() - started)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)   # keep n_complete fixed
            times[sampler_name] = statistics.median(samples)
        gpei, optuna_gp = times["GPEISampler (workbench)"], times["GPSampler (optuna)"]
        print(f"| {n_complete} | {gpei:.3f} | {optuna_gp:.3f} | {gpei / optuna_gp:.2f} |",
              flush=True)


def part_c(seeds: int, max_epochs: int, eta: int, n_train: int | None) -> None:
    print(f"\n### c. Hyperband vs TPE + HyperbandPruner on MNIST (R = {max_epochs} epochs, "
          f"eta = {eta}, {seeds} seeds)\n")
    checkpoints: list[int] | None = None
    rows: dict[str, list[list[float]]] = {"Hyperband (workbench)": [],
                                          "TPE + HyperbandPruner (optuna)": []}
    final: dict[str, list[tuple[float, int]]] = {name: [] for name in rows}
    for seed in range(seeds):
        task = MNISTTask(n_train=n_train, seed=seed)
        search = Hyperband(task, mnist_space(), max_budget=max_epochs, eta=eta, seed=seed,
                           storage=optuna.storages.InMemoryStorage())
        curve: list[tuple[int, float]] = []
        best = 0.0
        while not search.done:
            event = search.step()
            if event["value"] is not None:
                best = max(best, event["value"])
            curve.append((task.epochs_trained, best))
        total_epochs = task.epochs_trained
        checkpoints = checkpoints or [total_epochs // 4, total_epochs // 2,
                                      3 * total_epochs // 4, total_epochs]
        rows["Hyperband (workbench)"].append([_best_at(curve, c) for c in checkpoints])
        final["Hyperband (workbench)"].append((best, total_epochs))

        optuna_curve = _optuna_hyperband(seed, total_epochs, max_epochs, eta, n_train)
        rows["TPE + HyperbandPruner (optuna)"].append([_best_at(optuna_curve, c)
                                                       for c in checkpoints])
        optuna_best = optuna_curve[-1][1]
        reach = next((epochs for epochs, value in optuna_curve if value >= best), None)
        final["TPE + HyperbandPruner (optuna)"].append((optuna_best, reach or -1))
        print(f"seed {seed}: Hyperband best {best:.4f} in {total_epochs} epochs; "
              f"Optuna best {optuna_best:.4f}; Optuna reached Hyperband's best after "
              f"{reach if reach is not None else 'never'} epochs", flush=True)

    header = " | ".join(f"best acc. @{c} epochs" for c in checkpoints)
    print(f"\n| method | {header} |")
    print("|---|" + "---|" * len(checkpoints))
    for name, values in rows.items():
        medians = np.median(np.array(values), axis=0)
        print(f"| {name} | " + " | ".join(f"{m:.4f}" for m in medians) + " |")


def _best_at(curve: list[tuple[int, float]], epochs: int) -> float:
    values = [value for spent, value in curve if spent <= epochs]
    return values[-1] if values else float("nan")


def _optuna_hyperband(seed: int, epoch_budget: int, max_epochs: int, eta: int,
                      n_train: int | None) -> list[tuple[int, float]]:
    task = MNISTTask(n_train=n_train, seed=seed)
    space = mnist_space()
    curve: list[tuple[int, float]] = []
    best = 0.0

    def objective(trial: optuna.Trial) -> float:
        nonlocal best
        params = suggest_all(trial, space)
        accuracy = 0.0
        for epoch in range(1, max_epochs + 1):
            if task.epochs_trained >= epoch_budget:
                break
            accuracy = task(params, epoch, config_id=trial.number)
            best = max(best, accuracy)
            curve.append((task.epochs_trained, best))
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.HyperbandPruner(
                                    min_resource=1, max_resource=max_epochs,
                                    reduction_factor=eta))
    while task.epochs_trained < epoch_budget:
        study.optimize(objective, n_trials=1)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "c", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=10, help="seeds for part a")
    parser.add_argument("--trials", type=int, default=100, help="trials per study in part a")
    parser.add_argument("--adult-rows", type=int, default=3000,
                        help="rows of Adult used by the part-a task (3-fold cross-validated, "
                             "30 boosting iterations)")
    parser.add_argument("--adult-seeds", type=int, default=3, help="seeds for the Adult task")
    parser.add_argument("--ask-repeats", type=int, default=5)
    parser.add_argument("--mnist-seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke run")
    arguments = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if arguments.quick:
        arguments.seeds, arguments.trials, arguments.ask_repeats = 2, 20, 2
        arguments.mnist_seeds, arguments.adult_rows, arguments.adult_seeds = 1, 1500, 1

    print(f"# {time.strftime('%Y-%m-%d')} · {platform.machine()} · python "
          f"{platform.python_version()} · optuna {optuna.__version__}")
    if arguments.part in ("a", "all"):
        part_a(arguments.seeds, arguments.trials, arguments.adult_rows, arguments.adult_seeds)
    if arguments.part in ("b", "all"):
        part_b(arguments.ask_repeats)
    if arguments.part in ("c", "all"):
        part_c(arguments.mnist_seeds, 9 if arguments.quick else 27, 3,
               2000 if arguments.quick else None)


if __name__ == "__main__":
    main()
