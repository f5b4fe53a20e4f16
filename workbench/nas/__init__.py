"""Neural architecture search: the DARTS cell search space, its supernet and genotypes."""

from workbench.nas.cell import MixedOp, SearchCell
from workbench.nas.darts import (
    Darts,
    DartsSnapshot,
    ImageSplit,
    arch_gradient,
    digits_split,
    edge_labels,
    mnist_split,
)
from workbench.nas.evaluation import (
    GenotypeNetwork,
    evaluate_genotype,
    random_genotype,
)
from workbench.nas.genotype import Genotype, count_edges, derive_genotype
from workbench.nas.operations import (
    CPU_OPERATIONS,
    DARTS_OPERATIONS,
    PARAMETER_FREE,
    build_operation,
    check_operations,
)
from workbench.nas.presets import PRESETS, DartsPreset, load_preset_split, preset_search
from workbench.nas.supernet import Supernet

__all__ = ["CPU_OPERATIONS", "DARTS_OPERATIONS", "Genotype", "MixedOp", "PARAMETER_FREE",
           "SearchCell", "Supernet", "build_operation", "check_operations", "count_edges",
           "derive_genotype"]
__all__ += ["Darts", "DartsSnapshot", "GenotypeNetwork", "ImageSplit", "arch_gradient",
            "digits_split", "edge_labels", "evaluate_genotype", "mnist_split", "random_genotype"]
__all__ += ["DartsPreset", "PRESETS", "load_preset_split", "preset_search"]
