"""A range on every figure: ensembles over the modelled inputs (issue 12).

See :mod:`.engine` for what is sampled and how, ``data/params/uncertainty.toml`` for the ranges.
"""

from .coverage import (
    DEFAULT_RUN_DRAWS,
    CoverageEnsemble,
    annotate_coverage,
    coverage_ensemble,
    gap_class,
    gap_table,
    sensitivity,
)
from .engine import Dimension, Draws, EnsembleEngine, edge_modelled
from .params import Range, UncertaintyParams
from .siting import siting_ensemble
from .summary import RunEnsemble, run_ensemble

__all__ = [
    "DEFAULT_RUN_DRAWS",
    "CoverageEnsemble",
    "Dimension",
    "Draws",
    "EnsembleEngine",
    "Range",
    "RunEnsemble",
    "UncertaintyParams",
    "annotate_coverage",
    "coverage_ensemble",
    "edge_modelled",
    "gap_class",
    "gap_table",
    "run_ensemble",
    "sensitivity",
    "siting_ensemble",
]
