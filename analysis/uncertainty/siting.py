"""Siting under uncertainty: does a plan's choice survive the modelled inputs?

For draws ``b = 1..S`` (the first ``S = min(draws, siting_draws)`` of the coverage draws) the
siting problem is rebuilt on that draw's villages × sites minutes and populations (no model
rebuild, see :mod:`.engine`) and re-solved with the same objective and solver
(:func:`analysis.siting.county.solve_county`). Reported per chosen site ``j`` of the nominal
plan: ``stay_share_j = mean_b [j ∈ optimal set of draw b]``; for the plan (existing + chosen
sites) its coverage in every draw, ``C(b) = Σ_i P_bi·[min_{j∈plan} T_bij ≤ x] / Σ_i P_bi``,
summarised by the 5th percentile (and 50th, 95th). Candidate positions themselves are not
moved (a candidate at an imputed village keeps its point).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..coverage import CoverageTarget
from ..siting.county import CountySiting, solve_county
from ..siting.result import SitingResult, covered_share
from .coverage import INTERVAL, PERCENTILE_METHOD
from .engine import EnsembleEngine
from .params import UncertaintyParams

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)


def siting_ensemble(
    model: CountyModel,
    cs: CountySiting,
    res: SitingResult,
    objective: str,
    *,
    add: int,
    target: CoverageTarget,
    draws: int,
    seed: int = 0,
    params: UncertaintyParams | None = None,
    engine: EnsembleEngine | None = None,
    time_limit: float | None = 60.0,
) -> dict[str, Any]:
    """How often each chosen site stays optimal, and the plan's coverage across draws."""
    engine = engine or EnsembleEngine(model, params)
    p = engine.params
    n = min(draws, p.siting_draws)
    t0 = time.perf_counter()
    d = engine.sample(draws, seed).take(slice(0, n))
    pop = engine.populations(d)
    radius = cs.thresholds(cs.target(target))  # each village against its own target minutes
    chosen = [int(j) for j in res.new_sites]
    stay = np.zeros(len(chosen))
    cov_plan, cov_before = np.empty(n), np.empty(n)
    for b in range(n):
        od = engine.od_minutes(d, b, cs.mode, cs.sites)
        prob = replace(cs.problem, cost=od, weights=pop[b])
        rb = solve_county(
            replace(cs, problem=prob),
            objective,
            add=add,
            target=target,
            time_limit=time_limit,
            curve=False,
        )
        opened = set(int(j) for j in rb.new_sites)
        stay += [j in opened for j in chosen]
        cov_plan[b] = covered_share(prob, res.open_sites, radius)
        cov_before[b] = covered_share(prob, prob.existing, radius)
    q = (INTERVAL[0], 50.0, INTERVAL[1])
    ids = cs.sites["id"].astype(str).to_numpy()
    names = cs.sites["name"].astype(str).to_numpy()
    log.info("siting ensemble: %d draws in %.1f s", n, time.perf_counter() - t0)
    return {
        "draws": n,
        "draws_requested": draws,
        "seed": seed,
        "note": f"{objective} re-solved on {n} of {draws} draws (ensemble.siting_draws = "
        f"{p.siting_draws} in {p.source}); candidate positions are not moved",
        "sites": [
            {"code": ids[j], "name": names[j], "stay_share": float(s / n)}
            for j, s in zip(chosen, stay, strict=True)
        ],
        "coverage_after": _quantiles(cov_plan, q),
        "coverage_before": _quantiles(cov_before, q),
    }


def _quantiles(x: np.ndarray, q: tuple[float, float, float]) -> dict[str, float]:
    """The 5th, 50th and 95th percentiles of ``x`` (``q``)."""
    lo, mid, hi = np.percentile(x, q, method=PERCENTILE_METHOD)
    return {"p05": float(lo), "p50": float(mid), "p95": float(hi)}
