"""Everything ``doorstep run`` needs from the ensemble, in one call (the lead wires ``--draws``).

:func:`run_ensemble` samples once and reuses one :class:`EnsembleEngine` for coverage, gaps and
(optionally) the siting plan, so the report, the atlas and ``run.json`` quote the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from doorstep.geo.params import MODES

from ..coverage import CoverageResult, CoverageTarget, _json_records, coverage
from ..siting.county import CountySiting
from ..siting.result import SitingResult
from .coverage import (
    DEFAULT_RUN_DRAWS,
    CoverageEnsemble,
    annotate_coverage,
    coverage_ensemble,
    gap_table,
)
from .engine import EnsembleEngine
from .params import UncertaintyParams
from .siting import siting_ensemble

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel


@dataclass
class RunEnsemble:
    """The ensemble of one job: coverage ranges (``coverage``), the village gap table of the
    target mode (``gaps``: code, name, township, population, p_miss, gap_class), the
    sensitivity table (``sensitivity``, data for a tornado chart) and the siting robustness
    (``siting``, or None)."""

    coverage: CoverageEnsemble
    gaps: pd.DataFrame
    sensitivity: pd.DataFrame
    siting: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``coverage`` holds the county/township ranges and the meta)."""
        doc = self.coverage.to_dict()
        doc.pop("villages")
        return {
            "coverage": doc,
            "gap_class_counts": {
                str(k): int(n) for k, n in self.gaps["gap_class"].value_counts().items()
            },
            "villages": _json_records(self.gaps),
            "sensitivity": _json_records(self.sensitivity),
            "siting": self.siting,
        }


def run_ensemble(
    model: CountyModel,
    target: CoverageTarget,
    *,
    draws: int = DEFAULT_RUN_DRAWS,
    seed: int = 0,
    result: CoverageResult | None = None,
    siting: tuple[CountySiting, SitingResult, str, int, CoverageTarget] | None = None,
    params: UncertaintyParams | None = None,
    modes: tuple[str, ...] = MODES,
    time_limit: float | None = 60.0,
) -> RunEnsemble:
    """Coverage, gap and (with ``siting`` = ``(problem, result, objective, add, target)``)
    siting ensembles from the same ``draws`` draws of ``seed``. The ranges are written beside
    the figures of ``result`` (the job's nominal coverage; computed for the target mode when
    None) by :func:`annotate_coverage`. ``time_limit`` bounds each siting re-solve (seconds)."""
    engine = EnsembleEngine(model, params)
    cov = coverage_ensemble(model, target, draws, seed, modes=modes, engine=engine)
    if result is None:
        result = coverage(model, target, modes=(target.mode,))
    gaps = gap_table(annotate_coverage(result, cov))
    site = None
    if siting is not None:
        cs, res, objective, add, site_target = siting
        site = siting_ensemble(
            model,
            cs,
            res,
            objective,
            add=add,
            target=site_target,
            draws=draws,
            seed=seed,
            engine=engine,
            time_limit=time_limit,
        )
    return RunEnsemble(cov, gaps, cov.sensitivity, site)
