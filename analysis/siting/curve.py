"""The "next best point" curve: the optimum for 0, 1, ..., K new sites."""

from __future__ import annotations

import logging
from typing import Any

from doorstep.geo._errors import InputError

from ._problem import Radius, SitingProblem
from .mclp import mclp
from .pcenter import pcenter
from .pmedian import pmedian
from .result import SitingResult

log = logging.getLogger(__name__)


def marginal_curve(
    problem: SitingProblem,
    model: str,
    k_max: int,
    *,
    radius: Radius | None = None,
    time_limit: float | None = 30.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Solve ``model`` for k = 0..k_max new sites; return one row per k.

    Each row: ``k``, ``objective``, ``gain`` (change from k-1; positive = better), ``status``,
    ``new_sites`` (site labels). Each k is solved exactly on its own, so the sites chosen for k
    need not contain those chosen for k-1 (the curve shows the value of the k-th site, not a
    build order). ``model`` is ``"mclp"`` (needs ``radius``), ``"pmedian"`` or ``"pcenter"``.
    """
    rows: list[dict[str, Any]] = []
    prev: float | None = None
    for k in range(k_max + 1):
        res: SitingResult
        if model == "mclp":
            if radius is None:
                raise InputError("the MCLP curve needs a radius")
            res = mclp(problem, k, radius, time_limit=time_limit, seed=seed)
        elif model == "pmedian":
            if problem.existing.size + k == 0:
                continue
            res = pmedian(problem, k, time_limit=time_limit, seed=seed)
        elif model == "pcenter":
            if problem.existing.size + k == 0:
                continue
            res = pcenter(problem, k, time_limit=time_limit, seed=seed)
        else:
            raise InputError(f"no marginal curve for model {model!r}; use mclp, pmedian or pcenter")
        sign = 1.0 if model == "mclp" else -1.0
        gain = None if prev is None else sign * (res.objective - prev)
        rows.append(
            {
                "k": k,
                "objective": res.objective,
                "gain": gain,
                "status": res.status,
                "new_sites": [problem.site_ids[j] for j in res.new_sites],
            }
        )
        log.info("curve %s k=%d: %g (%s)", model, k, res.objective, res.status)
        prev = res.objective
    return rows
