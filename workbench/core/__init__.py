"""Core of the workbench: the steerable search, its runner, seeding and storage."""

from workbench.core.runner import Runner, RunnerState, RunnerUpdate
from workbench.core.search import Search
from workbench.core.seeding import derive_seed, make_rng, resolve_seed, seed_everything
from workbench.core.steering import SteeringLog, SteeringRecord, steering
from workbench.core.storage import create_study, journal_storage, resolve_storage, workbench_home

__all__ = [
    "Runner", "RunnerState", "RunnerUpdate", "Search", "SteeringLog", "SteeringRecord",
    "create_study", "derive_seed", "journal_storage", "make_rng", "resolve_storage",
    "resolve_seed", "seed_everything", "steering", "workbench_home",
]
