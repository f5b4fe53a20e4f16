"""CTR benchmark: the workbench's LR, FM, AutoInt, AutoInt+ and Fi-GNN against DeepCTR-Torch.

On MovieLens-100k (ratings > 3 positive, < 3 negative), MovieLens-1M when its
files are present, and the 8,000-row Criteo sample, each model is trained on
the same seeded 8:1:1 train/validation/test split and the script reports:

- test AUC and test log loss, mean and sample standard deviation over the
  seeds (``--seeds``). The seed sets the initial weights and the batch order,
  and the split stays the same for every seed;
- training throughput: training rows x epochs run / wall seconds of training,
  the best of the seeds with the slowest in brackets. Those seconds include
  the validation pass after every epoch and copying the best weights, in both
  libraries. The libraries alternate seed by seed, so that load from other
  processes falls on both alike;
- epochs run and the epoch whose weights were kept, as means over the seeds.

Both libraries see identical inputs: one ``FieldEncoder`` fitted on the
training rows produces the integer indices and standardized numbers that
both are fed. DeepCTR-Torch gets a ``SparseFeat`` per categorical field, a
``DenseFeat`` per numeric field and a mean-pooled ``VarLenSparseFeat`` for the
multi-valued genres. Its AutoInt is ``AutoInt`` with ``dnn_hidden_units=()``,
and its AutoInt+ the same with ``HIDDEN_UNITS``. Layers, heads and embedding
size match ours. It has no LR or FM class, so its FM is ``DeepFM`` with the
DNN off, and its LR is ``DeepFM`` with the FM and the DNN off.

Every model uses the same settings: Adam with the same learning rate and no
weight decay or L2 penalty, the same batch size, embedding size and maximum
epochs. Both libraries stop early under the same rule: after each epoch the
validation AUC is computed, training stops after ``--patience`` epochs in a
row without a higher AUC, and the weights of the best epoch are kept for the
test.

Known differences that remain (library defaults, left as they are):

- DeepCTR-Torch numeric features (``DenseFeat``) reach only its linear part
  and DNN, not the attention layers or the FM. Its AutoInt therefore has a
  linear part (fed every feature) next to the attention layers. Ours embeds a
  numeric field as ``v_m * x_m`` and attends over it, with no linear part;
- DeepCTR-Torch draws embeddings from N(0, 1e-4^2) and ours from N(0, 0.05^2);
- DeepCTR-Torch sums the batch loss where ours averages it. Adam's steps do
  not depend on that scale, apart from its epsilon.

The targets are printed at the end: our AutoInt's mean test AUC on
MovieLens-100k at most 0.003 below DeepCTR-Torch's AutoInt (or higher), and
our AutoInt's training throughput at least DeepCTR-Torch's.

DeepCTR-Torch 0.3.0 imports ``requests`` and, on import, starts a thread
that requests its latest version number from the package index. The script
puts a stub ``requests`` module whose ``get()`` raises ahead of the real one
on ``sys.path``, and an audit hook blocks and counts every socket connection
and host name lookup of the process. The output prints both counts.

Run: ``WORKBENCH_DATA=/path/to/data python tests/benchmarks/bench_ctr.py``
(``pip install deepctr-torch==0.3.0`` first; without it only our rows are
printed). Torch runs with 2 threads (``--threads``). MovieLens-100k and
Criteo with 3 seeds took about 7 minutes on a shared 2-core machine, and
``--quick`` (one seed, at most 2 epochs) under a minute. Set
``WORKBENCH_OFFLINE=1`` to rule out downloads. MovieLens-1M is never
downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import importlib
import io
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import log_loss, roc_auc_score

from workbench.data.errors import DataNotFoundError
from workbench.features import CTRData, EncodedFields, load_criteo_ctr, load_movielens_ctr
from workbench.features.classifier import build_ctr_model, predict_logits, train_ctr_model
from workbench.features.embedding import to_tensors

OURS = "workbench"
DEEPCTR = "DeepCTR-Torch"
MODELS = ("lr", "fm", "autoint", "autoint+", "fignn")
DEEPCTR_MODELS = ("lr", "fm", "autoint", "autoint+")    # it has no Fi-GNN
HIDDEN_UNITS = (64, 64)    # the feed-forward network of AutoInt+ in both libraries
TARGET_DATASET = "movielens_100k"
MAX_AUC_SHORTFALL = 0.003    # our AutoInt's test AUC may be at most this much below DeepCTR's

# Audit events of the socket module that would open a connection or resolve a
# host name. The hook raises on each one.
NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                  "socket.gethostbyname_ex", "socket.sendto", "socket.sendmsg")

REQUESTS_STUB = '''"""Stand-in for requests inside bench_ctr.py: every request fails offline."""

calls = []


class ConnectionError(OSError):
    pass


def get(url, *args, **kwargs):
    calls.append(url)
    raise ConnectionError(f"bench_ctr.py blocks network access; rejected GET {url}")
'''

DATASETS: dict[str, Callable[[int], CTRData]] = {
    "movielens_100k": lambda seed: load_movielens_ctr("100k", seed=seed),
    "movielens_1m": lambda seed: load_movielens_ctr("1m", seed=seed, download=False),
    "criteo_sample": lambda seed: load_criteo_ctr(seed=seed),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Training settings shared by every model of both libraries."""

    epochs: int
    batch_size: int
    embedding_dim: int
    learning_rate: float
    patience: int
    num_layers: int
    num_heads: int


@dataclasses.dataclass(frozen=True)
class Prepared:
    """One data set encoded once, for both libraries."""

    name: str
    train: EncodedFields
    validation: EncodedFields
    test: EncodedFields
    y_train: np.ndarray
    y_validation: np.ndarray
    y_test: np.ndarray
    multi_length: int


@dataclasses.dataclass(frozen=True)
class Run:
    """Outcome of training one model with one seed."""

    auc: float
    logloss: float
    samples_per_second: float
    epochs_run: int
    best_epoch: int


# --- keeping DeepCTR-Torch off the network ---------------------------------


class NetworkGuard:
    """Audit hook that raises on every socket connection or host lookup and counts them."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def __call__(self, event: str, arguments: tuple) -> None:
        if event in NETWORK_EVENTS:
            self.blocked.append(f"{event}{arguments!r}")
            raise ConnectionError(f"bench_ctr.py blocks network access; rejected {event}")


def import_deepctr() -> tuple[Any, Any]:
    """Import deepctr_torch with the stub ``requests`` ahead of the real one on ``sys.path``.

    Returns (deepctr_torch, the stub module), or (None, None) if deepctr_torch
    is not installed. The stub stays in ``sys.modules``, so no later import
    in this process gets the real ``requests``. The version-check thread that
    the import starts is joined, and its notice is not printed.
    """
    with tempfile.TemporaryDirectory(prefix="bench_ctr_stub_") as stub_folder:
        Path(stub_folder, "requests.py").write_text(REQUESTS_STUB)
        sys.modules.pop("requests", None)    # an imported real one would shadow the stub
        sys.path.insert(0, stub_folder)
        threads_before = set(threading.enumerate())
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    deepctr_torch = importlib.import_module("deepctr_torch")
                except ModuleNotFoundError as error:
                    if error.name != "deepctr_torch":
                        raise
                    return None, None
                for thread in set(threading.enumerate()) - threads_before:
                    thread.join(timeout=10.0)
        finally:
            sys.path.remove(stub_folder)
        imported = deepctr_torch.utils.requests
        if Path(imported.__file__).parent != Path(stub_folder):
            raise RuntimeError(f"deepctr_torch imported {imported.__file__}, not the requests "
                               f"stub; run the benchmark in a fresh process.")
    return deepctr_torch, imported


# --- data ------------------------------------------------------------------


def prepare(name: str, split_seed: int, min_count: int) -> Prepared:
    """Load a data set, fit a ``FieldEncoder`` on its training rows and encode all splits."""
    data = DATASETS[name](split_seed)
    encoder = data.field_encoder(min_count=min_count).fit(data.train)
    return Prepared(name=name, train=encoder.transform(data.train),
                    validation=encoder.transform(data.validation),
                    test=encoder.transform(data.test), y_train=data.y_train,
                    y_validation=data.y_validation, y_test=data.y_test,
                    multi_length=encoder.multi_length_)


def deepctr_inputs(encoded: EncodedFields) -> dict[str, np.ndarray]:
    """Return DeepCTR-Torch's input dict: field name -> (n,) or (n, max_length) array."""
    arrays = {}
    positions = {"categorical": 0, "numeric": 0, "multi": 0}
    for field in encoded.fields:
        column = positions[field.kind]
        positions[field.kind] += 1
        if field.kind == "categorical":
            arrays[field.name] = encoded.categorical[:, column]
        elif field.kind == "numeric":
            arrays[field.name] = encoded.numeric[:, column]
        else:
            arrays[field.name] = encoded.multi[:, column, :]    # padded with 0, which it masks
    return arrays


def deepctr_feature_columns(deepctr_torch: Any, prepared: Prepared,
                            embedding_dim: int) -> list[Any]:
    """Return a SparseFeat, DenseFeat or mean-pooled VarLenSparseFeat per field."""
    inputs = deepctr_torch.inputs
    columns = []
    for field in prepared.train.fields:
        if field.kind == "categorical":
            columns.append(inputs.SparseFeat(field.name, field.vocabulary_size, embedding_dim))
        elif field.kind == "numeric":
            columns.append(inputs.DenseFeat(field.name, 1))
        else:
            sparse = inputs.SparseFeat(field.name, field.vocabulary_size, embedding_dim)
            columns.append(inputs.VarLenSparseFeat(sparse, maxlen=prepared.multi_length,
                                                   combiner="mean"))
    return columns


# --- training --------------------------------------------------------------


def score_test_rows(y_test: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """Return (AUC, log loss) of click probabilities on the test rows."""
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    return float(roc_auc_score(y_test, probabilities)), float(log_loss(y_test, probabilities))


def our_model_params(name: str, settings: Settings) -> dict[str, Any]:
    """Return the constructor parameters of our model, matched to DeepCTR-Torch where it has one.

    DeepCTR-Torch's interacting layer splits the embedding into the heads
    (head size d / H), so ours uses the same head size.
    """
    head_dim = settings.embedding_dim // settings.num_heads
    if name == "autoint":
        return {"num_layers": settings.num_layers, "num_heads": settings.num_heads,
                "head_dim": head_dim}
    if name == "autoint+":
        return {"num_layers": settings.num_layers, "num_heads": settings.num_heads,
                "head_dim": head_dim, "hidden_units": HIDDEN_UNITS, "dropout": 0.0}
    if name == "fignn":
        return {"num_heads": settings.num_heads, "head_dim": head_dim}
    return {}


def train_ours(name: str, prepared: Prepared, seed: int, settings: Settings) -> Run:
    """Train and test our model ``name`` with ``train_ctr_model``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_ctr_model(name, prepared.train.fields, settings.embedding_dim,
                                **our_model_params(name, settings))

    started = time.perf_counter()
    result = train_ctr_model(model, prepared.train, prepared.y_train, prepared.validation,
                             prepared.y_validation, epochs=settings.epochs,
                             batch_size=settings.batch_size,
                             learning_rate=settings.learning_rate, weight_decay=0.0,
                             patience=settings.patience, seed=seed)
    seconds = time.perf_counter() - started
    if result.diverged is not None:
        print(f"warning: {OURS} {name} seed {seed} diverged at {result.diverged}", flush=True)

    logits = predict_logits(model, to_tensors(prepared.test))
    auc, logloss = score_test_rows(prepared.y_test, torch.sigmoid(logits.double()).numpy())
    epochs_run = len(result.history)
    return Run(auc, logloss, len(prepared.train) * epochs_run / seconds, epochs_run,
               result.best_epoch)


class KeepBestValidationAUC:
    """DeepCTR-Torch callback with the early-stopping rule of ``train_ctr_model``.

    After each epoch it reads ``val_auc``. A strictly higher AUC stores a copy
    of the weights, and ``patience`` epochs in a row without one stop
    training. When training ends, the model gets the stored weights back.
    """

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best_auc = -np.inf
        self.best_epoch = 0
        self.best_state = copy.deepcopy(self.model.state_dict())
        self.epochs_run = 0
        self.epochs_without_improvement = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs_run = epoch + 1                   # DeepCTR-Torch counts epochs from 0
        auc = logs["val_auc"]
        if auc > self.best_auc:
            self.best_auc, self.best_epoch = auc, epoch + 1
            self.best_state = copy.deepcopy(self.model.state_dict())
            self.epochs_without_improvement = 0
            return
        self.epochs_without_improvement += 1
        if self.epochs_without_improvement >= self.patience:
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self.model.load_state_dict(self.best_state)


def build_deepctr_model(deepctr_torch: Any, name: str, prepared: Prepared, seed: int,
                        settings: Settings) -> Any:
    """Build DeepCTR-Torch's counterpart of our model ``name``, with every L2 penalty at 0."""
    columns = deepctr_feature_columns(deepctr_torch, prepared, settings.embedding_dim)
    models = deepctr_torch.models
    common = {"l2_reg_embedding": 0.0, "seed": seed, "task": "binary", "device": "cpu"}
    if name == "lr":
        # No DNN feature columns, so no embedding table is built for the unused FM part.
        return models.DeepFM(columns, [], use_fm=False, dnn_hidden_units=(),
                             l2_reg_linear=0.0, **common)
    if name == "fm":
        return models.DeepFM(columns, columns, use_fm=True, dnn_hidden_units=(),
                             l2_reg_linear=0.0, **common)
    hidden_units = HIDDEN_UNITS if name == "autoint+" else ()
    return models.AutoInt(columns, columns, att_layer_num=settings.num_layers,
                          att_head_num=settings.num_heads, att_res=True,
                          dnn_hidden_units=hidden_units, dnn_dropout=0.0, l2_reg_dnn=0.0,
                          **common)


def train_deepctr(deepctr_torch: Any, name: str, prepared: Prepared, seed: int,
                  settings: Settings) -> Run:
    """Train and test DeepCTR-Torch's counterpart of our model ``name`` with its ``fit``."""
    torch.manual_seed(seed)    # its DataLoader shuffles with the global generator
    model = build_deepctr_model(deepctr_torch, name, prepared, seed, settings)
    model.compile(torch.optim.Adam(model.parameters(), lr=settings.learning_rate),
                  "binary_crossentropy", metrics=["auc"])
    train_inputs = deepctr_inputs(prepared.train)
    validation_inputs = deepctr_inputs(prepared.validation)
    early_stopping = KeepBestValidationAUC(settings.patience)

    # fit prints the device and the sample counts even with verbose=0.
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        model.fit(train_inputs, prepared.y_train.astype(np.float32),
                  batch_size=settings.batch_size, epochs=settings.epochs, verbose=0,
                  validation_data=(validation_inputs,
                                   prepared.y_validation.astype(np.float32)),
                  shuffle=True, callbacks=[early_stopping])
        seconds = time.perf_counter() - started

    probabilities = model.predict(deepctr_inputs(prepared.test), batch_size=1024)
    auc, logloss = score_test_rows(prepared.y_test, probabilities)
    return Run(auc, logloss, len(prepared.train) * early_stopping.epochs_run / seconds,
               early_stopping.epochs_run, early_stopping.best_epoch)


# --- report ----------------------------------------------------------------


def summarize(runs: list[Run]) -> dict[str, float]:
    """Return the runs' metrics: AUC and log loss as mean and sample standard deviation.

    Throughput is the best (highest) of the seeds, as in the other benchmarks,
    because load from other processes on a shared machine only slows a run
    down. The slowest seed is kept to show the spread. Epochs are means.
    """
    def spread(values: list[float]) -> float:
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    aucs = [run.auc for run in runs]
    loglosses = [run.logloss for run in runs]
    throughputs = [run.samples_per_second for run in runs]
    return {"auc": float(np.mean(aucs)), "auc_std": spread(aucs),
            "logloss": float(np.mean(loglosses)), "logloss_std": spread(loglosses),
            "samples_per_second": max(throughputs), "slowest_samples_per_second": min(throughputs),
            "epochs_run": float(np.mean([run.epochs_run for run in runs])),
            "best_epoch": float(np.mean([run.best_epoch for run in runs]))}


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| data | train rows | library | model | test AUC | test log loss | "
          "train samples/s best (slowest) | epochs run | best epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['data']} | {row['train_rows']:,} | {row['library']} | {row['model']} | "
              f"{row['auc']:.4f} ± {row['auc_std']:.4f} | "
              f"{row['logloss']:.4f} ± {row['logloss_std']:.4f} | "
              f"{row['samples_per_second']:,.0f} ({row['slowest_samples_per_second']:,.0f}) | "
              f"{row['epochs_run']:.1f} | "
              f"{row['best_epoch']:.1f} |")


def check_targets(rows: list[dict[str, Any]]) -> None:
    print("\nTargets:")
    for data in dict.fromkeys(row["data"] for row in rows):
        autoint = {row["library"]: row for row in rows
                   if row["data"] == data and row["model"] == "autoint"}
        if OURS not in autoint or DEEPCTR not in autoint:
            print(f"- {data}: no AutoInt pair to compare")
            continue
        ours, theirs = autoint[OURS], autoint[DEEPCTR]
        difference = ours["auc"] - theirs["auc"]
        speedup = ours["samples_per_second"] / theirs["samples_per_second"]
        auc_verdict = "met" if difference >= -MAX_AUC_SHORTFALL else "NOT met"
        speed_verdict = "met" if speedup >= 1.0 else "NOT met"
        scope = "target" if data == TARGET_DATASET else "for information"
        print(f"- {data} ({scope}): AutoInt test AUC ours {ours['auc']:.4f} vs DeepCTR-Torch "
              f"{theirs['auc']:.4f}, difference {difference:+.4f} "
              f"(target >= -{MAX_AUC_SHORTFALL}): {auc_verdict}")
        print(f"- {data} ({scope}): AutoInt training throughput (best of the seeds) ours / "
              f"DeepCTR-Torch {speedup:.2f}x (target >= 1.00x): {speed_verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS),
                        default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=3,
                        help="training seeds per model (0 .. seeds - 1)")
    parser.add_argument("--split-seed", type=int, default=0,
                        help="seed of the 8:1:1 split, the same for every model and seed")
    # NOTE: with 10 epochs on MovieLens-100k, LR, FM, Fi-GNN and some AutoInt seeds
    # had their best validation AUC in the last epoch, so the cap may lower their AUCs.
    parser.add_argument("--epochs", type=int, default=10, help="maximum epochs per model")
    parser.add_argument("--patience", type=int, default=2,
                        help="epochs without a higher validation AUC before training stops")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's step size")
    parser.add_argument("--num-layers", type=int, default=3, help="AutoInt interacting layers")
    parser.add_argument("--num-heads", type=int, default=2,
                        help="attention heads of AutoInt and Fi-GNN; must divide "
                             "--embedding-dim")
    parser.add_argument("--min-count", type=int, default=2,
                        help="categories seen fewer times in the training rows share index 0")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads value")
    parser.add_argument("--quick", action="store_true", help="one seed and at most 2 epochs")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.seeds, arguments.epochs = 1, min(arguments.epochs, 2)
    if arguments.embedding_dim % arguments.num_heads:
        parser.error(f"--num-heads {arguments.num_heads} must divide --embedding-dim "
                     f"{arguments.embedding_dim}, because DeepCTR-Torch splits the embedding "
                     f"into the heads.")
    settings = Settings(epochs=arguments.epochs, batch_size=arguments.batch_size,
                        embedding_dim=arguments.embedding_dim,
                        learning_rate=arguments.learning_rate, patience=arguments.patience,
                        num_layers=arguments.num_layers, num_heads=arguments.num_heads)

    guard = NetworkGuard()
    sys.addaudithook(guard)
    deepctr_torch, requests_stub = import_deepctr()
    torch.set_num_threads(arguments.threads)

    deepctr_version = getattr(deepctr_torch, "__version__", "not installed")
    print(f"# bench_ctr.py on {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores, torch threads {torch.get_num_threads()}, {time.strftime('%Y-%m-%d')}, "
          f"python {platform.python_version()}, torch {torch.__version__}, deepctr-torch "
          f"{deepctr_version}, numpy {np.__version__}, load average at start "
          f"{os.getloadavg()[0]:.2f}\n")
    print(f"Settings (every model): at most {settings.epochs} epochs, early stopping after "
          f"{settings.patience} epochs without a higher validation AUC with the best epoch's "
          f"weights kept, batch {settings.batch_size}, embedding {settings.embedding_dim}, "
          f"Adam lr {settings.learning_rate:g}, no L2 penalty, AutoInt {settings.num_layers} "
          f"layers x {settings.num_heads} heads of size "
          f"{settings.embedding_dim // settings.num_heads}, AutoInt+ hidden units "
          f"{HIDDEN_UNITS}, min_count {arguments.min_count}, split seed "
          f"{arguments.split_seed}, seeds 0..{arguments.seeds - 1}.")
    if requests_stub is not None:
        print(f"DeepCTR-Torch version check: the requests stub rejected "
              f"{len(requests_stub.calls)} request(s) {requests_stub.calls}.")
    print()

    rows: list[dict[str, Any]] = []
    for name in arguments.datasets:
        try:
            prepared = prepare(name, arguments.split_seed, arguments.min_count)
        except DataNotFoundError as error:
            first_sentence = str(error).split(" Looked at")[0]
            print(f"skipped {name}: {first_sentence}", flush=True)
            continue

        # One untimed epoch per library first, so that first-call costs in torch
        # and the libraries do not land in the first model's throughput.
        warm_up = dataclasses.replace(settings, epochs=1)
        train_ours("lr", prepared, 0, warm_up)
        if deepctr_torch is not None:
            train_deepctr(deepctr_torch, "lr", prepared, 0, warm_up)

        # The libraries alternate seed by seed, so load from other processes on a
        # shared machine falls on both alike.
        runs: dict[tuple[str, str], list[Run]] = {}
        for model in MODELS:
            for seed in range(arguments.seeds):
                runs.setdefault((OURS, model), []).append(
                    train_ours(model, prepared, seed, settings))
                if deepctr_torch is not None and model in DEEPCTR_MODELS:
                    runs.setdefault((DEEPCTR, model), []).append(
                        train_deepctr(deepctr_torch, model, prepared, seed, settings))
            print(f"done: {name} {model}", flush=True)

        for library in (OURS, DEEPCTR):
            for model in MODELS:
                if (library, model) in runs:
                    rows.append({"data": name, "train_rows": len(prepared.train),
                                 "library": library, "model": model,
                                 **summarize(runs[library, model])})

    print(f"\nNetwork: {len(guard.blocked)} socket connection(s) or host lookup(s) blocked "
          f"{guard.blocked}. Load average at the end {os.getloadavg()[0]:.2f}.\n")
    print_table(rows)
    check_targets(rows)


if __name__ == "__main__":
    main()
