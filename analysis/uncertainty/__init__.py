"""A range on every figure: ensembles over the modelled inputs (issue 12).

See :mod:`.engine` for what is sampled and how, ``data/params/uncertainty.toml`` for the ranges.
"""

from .coverage import (
    DEFAULT_RUN_DRAWS,
    CoverageEnsemble,
    annotate_coverage,
    coverage_ensemble,
    gap_class,
    sensitivity,
)
from .engine import Dimension, Draws, EnsembleEngine, edge_modelled
from .params import Range, UncertaintyParams
from .siting import siting_ensemble

__all__ = [
    "DEFAULT_RUN_DRAWS",
    "CoverageEnsemble",
    "Dimension",
    "Draws",
    "EnsembleEngine",
    "Range",
    "UncertaintyParams",
    "annotate_coverage",
    "coverage_ensemble",
    "edge_modelled",
    "gap_class",
    "sensitivity",
    "siting_ensemble",
]
