"""Command line: ``python -m workbench lab`` opens the tour, ``tour`` executes it headless.

Commands
--------
lab [NOTEBOOK]
    Start JupyterLab on a notebook (default: the tour).
tour [--quick] [--output PATH]
    Execute the tour notebook headless and write the executed copy.
run NOTEBOOK [--quick] [--output PATH]
    Execute any notebook of the ``notebooks/`` folder headless.
worker --study NAME --task TASK [--storage URL] [--n-trials N] [--sampler gpei|tpe|random]
    Run trials of a study shared by several worker processes.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from workbench.notebooks import TOUR, execute_notebook, find_notebook

logger = logging.getLogger("workbench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workbench",
                                     description="AutoML Workbench command line.")
    commands = parser.add_subparsers(dest="command", required=True)

    lab = commands.add_parser("lab", help="open JupyterLab on a notebook (default: the tour)")
    lab.add_argument("notebook", nargs="?", default=TOUR, help="notebook name or path")
    lab.add_argument("--port", type=int, default=None, help="port for JupyterLab")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")

    for name, help_text in (("tour", "execute the tour notebook headless"),
                            ("run", "execute a notebook headless")):
        command = commands.add_parser(name, help=help_text)
        if name == "run":
            command.add_argument("notebook", help="notebook name (e.g. 00_tour) or path")
        command.add_argument("--quick", action="store_true",
                             help="small budgets (sets WORKBENCH_QUICK=1), under a minute")
        command.add_argument("--output", type=Path, default=None,
                             help="where to write the executed copy "
                                  "(default: WORKBENCH_HOME/executed/<name>.ipynb)")
        command.add_argument("--timeout", type=int, default=1800,
                             help="maximum seconds per cell (default 1800)")
    worker = commands.add_parser("worker", help="run trials of a shared study (scale-out)")
    worker.add_argument("--study", required=True, help="study name; workers with the same name "
                        "and storage share the study")
    worker.add_argument("--task", required=True,
                        help="task name: branin, hartmann6, six_hump_camel, goldstein_price, "
                             "levy4, adult or mnist")
    worker.add_argument("--storage", default=None,
                        help="journal file path or Optuna storage URL "
                             "(default: WORKBENCH_HOME/studies.journal)")
    worker.add_argument("--n-trials", type=int, default=50,
                        help="stop when the study has this many finished trials (default 50)")
    worker.add_argument("--sampler", default="gpei", help="gpei, tpe or random (default gpei)")
    worker.add_argument("--seed", type=int, default=None, help="sampler seed")
    worker.add_argument("--quick", action="store_true", help="small data for the adult and mnist tasks")
    worker.add_argument("--delay", type=float, default=0.0,
                        help="extra seconds per trial, to demonstrate concurrency")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return run_command(arguments)
    except (FileNotFoundError, ValueError, TypeError) as error:
        parser.exit(2, f"error: {error}\n")


def run_command(arguments: argparse.Namespace) -> int:
    if arguments.command == "lab":
        notebook = find_notebook(arguments.notebook)
        command = [sys.executable, "-m", "jupyterlab", str(notebook)]
        if arguments.port is not None:
            command.append(f"--port={arguments.port}")
        if arguments.no_browser:
            command.append("--no-browser")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses to start as root without it
        logger.info("starting %s", " ".join(command))
        if os.name == "posix":
            # Replace this process, so that stopping its PID stops JupyterLab too.
            os.chdir(notebook.parent)
            os.execv(sys.executable, command)
        return subprocess.call(command, cwd=notebook.parent)

    if arguments.command == "worker":
        from workbench.hpo.worker import run_worker

        count = run_worker(arguments.study, arguments.task, storage=arguments.storage,
                           n_trials=arguments.n_trials, sampler=arguments.sampler,
                           seed=arguments.seed, quick=arguments.quick, delay=arguments.delay)
        logger.info("worker finished %d trials of study %s", count, arguments.study)
        return 0

    notebook = arguments.notebook if arguments.command == "run" else TOUR
    output = execute_notebook(notebook, output=arguments.output, quick=arguments.quick,
                              timeout=arguments.timeout)
    logger.info("executed notebook written to %s", output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
