"""DARTS benchmark: search cost per order, and the derived genotype against random ones.

On the ``"mnist"`` preset (see ``workbench/nas/presets.py``) the script runs:

1. a first-order search for the preset's full budget, and a second-order
   search for ``--second-order-epochs`` epochs (default 1), each in its own
   process. It reports seconds per search epoch (the mean over the epochs
   run, with the validation scoring after each epoch included) and the
   whole search time. It also reports the process's peak resident memory
   (``ru_maxrss``) next to the resident memory after loading the data, so
   that the difference is the search's own;
2. the evaluation: the genotype derived by the first-order search and
   ``--random`` genotypes drawn uniformly from the same space
   (``random_genotype`` with seeds 0, 1, ...) are each trained from scratch
   with the same budget. That budget is the preset's evaluation network,
   trained on the training plus search-validation images once per training
   seed (``--eval-seeds``) and tested on the held-out test images. The
   report gives each genotype's mean test accuracy over the seeds and the
   mean and best of the random genotypes.

The targets are printed at the end: the first-order search finishes in at
most 15 minutes, and the derived genotype's test accuracy is above the mean
of the random genotypes.

Without MNIST's 60,000 training images the preset splits the 10,000 test
images three ways (the split description is printed). Torch runs with
``--threads`` threads (default 2).

Run: ``WORKBENCH_DATA=/path/to/data WORKBENCH_OFFLINE=1 python
tests/benchmarks/bench_darts.py``. With one evaluation seed the full run took
about 40 minutes on a shared 2-core machine (the searches about 14, the six
trainings the rest); each further seed adds the trainings again.
``--quick`` (the smoke-test budget of the preset) takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

FIFTEEN_MINUTES = 15 * 60


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def search_part(arguments: argparse.Namespace) -> dict:
    """Run one search in this process and return its cost and its derived genotype."""
    import torch

    from workbench.nas import load_preset_split, preset_search

    torch.set_num_threads(arguments.threads)
    split = load_preset_split("mnist", seed=arguments.seed, quick=arguments.quick)
    loaded_mb = peak_rss_mb()
    overrides = {} if arguments.epochs is None else {"epochs": arguments.epochs}
    _, search = preset_search("mnist", order=arguments.order, seed=arguments.seed,
                              quick=arguments.quick, split=split, **overrides)
    started = time.perf_counter()
    while not search.done:
        search.step()
    seconds = time.perf_counter() - started
    snapshot = search.snapshot()
    epochs_run = snapshot.batches_done / search.batches_per_epoch
    return {
        "order": arguments.order,
        "split": split.description,
        "epochs": epochs_run,
        "seconds": seconds,
        "seconds_per_epoch": seconds / epochs_run,
        "loaded_mb": loaded_mb,
        "peak_mb": peak_rss_mb(),
        "val_accuracy": float(snapshot.val_accuracy[-1]),
        "parameter_free_share": snapshot.parameter_free_share["normal"],
        "genotype": snapshot.final_genotype.to_dict(),
        "description": snapshot.final_genotype.describe(),
    }


def evaluation_part(arguments: argparse.Namespace) -> dict:
    """Train the given genotypes from scratch with one budget and return their test accuracies."""
    import torch

    from workbench.nas import PRESETS, Genotype, evaluate_genotype, load_preset_split

    torch.set_num_threads(arguments.threads)
    split = load_preset_split("mnist", seed=arguments.seed, quick=arguments.quick)
    x_train = torch.cat([split.x_train, split.x_val])
    y_train = torch.cat([split.y_train, split.y_val])
    budget = PRESETS["mnist"].evaluation_arguments(arguments.quick)
    genotypes = json.loads(arguments.genotypes)
    results = {}
    for label, data in genotypes.items():
        accuracies, seconds = [], 0.0
        for seed in range(arguments.eval_seeds):
            started = time.perf_counter()
            accuracies.append(evaluate_genotype(Genotype.from_dict(data), x_train, y_train,
                                                split.x_test, split.y_test, seed=seed, **budget))
            seconds += time.perf_counter() - started
        results[label] = {"accuracy": sum(accuracies) / len(accuracies),
                          "accuracies": accuracies, "seconds": seconds}
        print(f"  {label}: test accuracy {results[label]['accuracy']:.4f} "
              f"({seconds:.0f} s)", file=sys.stderr, flush=True)
    return {"budget": budget, "n_train": len(y_train), "n_test": len(split.y_test),
            "results": results}


def run_child(arguments: argparse.Namespace, part: str, **extra: object) -> dict:
    """Run one part in a fresh Python process, so that its peak memory is its own."""
    command = [sys.executable, __file__, "--part", part, "--seed", str(arguments.seed),
               "--threads", str(arguments.threads)]
    if arguments.quick:
        command.append("--quick")
    for key, value in extra.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    command += ["--eval-seeds", str(arguments.eval_seeds)]
    completed = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="use the smoke-test budget")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the search")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per process")
    parser.add_argument("--random", type=int, default=5, help="number of random genotypes")
    parser.add_argument("--eval-seeds", type=int, default=1,
                        help="training seeds per genotype in the evaluation")
    parser.add_argument("--second-order-epochs", type=int, default=1,
                        help="epochs of the second-order search (its cost is per epoch)")
    parser.add_argument("--part", choices=("search", "evaluation"), help=argparse.SUPPRESS)
    parser.add_argument("--order", default="first", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--genotypes", default="{}", help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.part == "search":
        print(json.dumps(search_part(arguments)))
        return
    if arguments.part == "evaluation":
        print(json.dumps(evaluation_part(arguments)))
        return

    import torch

    from workbench.nas import random_genotype

    print(f"# DARTS benchmark, {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}, torch {torch.__version__}, "
          f"{arguments.threads} threads{', quick' if arguments.quick else ''}", flush=True)

    searches = []
    for order, epochs in (("first", None), ("second", arguments.second_order_epochs)):
        print(f"searching, {order} order ...", file=sys.stderr, flush=True)
        searches.append(run_child(arguments, "search", order=order, epochs=epochs))
    first = searches[0]
    print(f"\nData: {first['split']}\n")
    print("| order | epochs run | s / epoch | search s | peak RSS MiB | after loading MiB "
          "| val acc | parameter-free share |")
    print("|---|---|---|---|---|---|---|---|")
    for row in searches:
        print(f"| {row['order']} | {row['epochs']:.0f} | {row['seconds_per_epoch']:.1f} | "
              f"{row['seconds']:.0f} | {row['peak_mb']:.0f} | {row['loaded_mb']:.0f} | "
              f"{row['val_accuracy']:.3f} | {row['parameter_free_share']:.3f} |")
    print(f"\nsecond / first order, seconds per epoch: "
          f"{searches[1]['seconds_per_epoch'] / first['seconds_per_epoch']:.2f}x")
    print(f"\nDerived genotype (first order):\n{first['description']}\n", flush=True)

    steps = len(first["genotype"]["normal"]) // 2
    genotypes = {"derived": first["genotype"]}
    for seed in range(arguments.random):
        genotypes[f"random {seed}"] = random_genotype("cpu", steps=steps, seed=seed).to_dict()
    print("training genotypes from scratch ...", file=sys.stderr, flush=True)
    evaluation = run_child(arguments, "evaluation", genotypes=json.dumps(genotypes))
    results = evaluation["results"]
    random_accuracies = [results[label]["accuracy"] for label in results if label != "derived"]
    mean_random = sum(random_accuracies) / len(random_accuracies)
    print(f"Evaluation budget: {evaluation['budget']}, {evaluation['n_train']} training and "
          f"{evaluation['n_test']} test images, training seeds 0..{arguments.eval_seeds - 1}\n")
    print("| genotype | test accuracy (mean over seeds) | per seed | training s |")
    print("|---|---|---|---|")
    for label, row in results.items():
        per_seed = ", ".join(f"{accuracy:.4f}" for accuracy in row["accuracies"])
        print(f"| {label} | {row['accuracy']:.4f} | {per_seed} | {row['seconds']:.0f} |")
    print(f"| random mean | {mean_random:.4f} | |")
    print(f"| random best | {max(random_accuracies):.4f} | |")

    derived = results["derived"]["accuracy"]
    print("\nTargets:")
    print(f"- first-order search within 15 minutes: {first['seconds'] / 60:.1f} min -> "
          f"{'met' if first['seconds'] <= FIFTEEN_MINUTES else 'NOT met'}")
    print(f"- derived genotype above the random mean: {derived:.4f} vs {mean_random:.4f} -> "
          f"{'met' if derived > mean_random else 'NOT met'}")


if __name__ == "__main__":
    main()
