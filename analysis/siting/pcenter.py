r"""p-center: minimise the worst travel cost with ``k`` new sites.

The optimum is one of the distinct costs :math:`r_1 < r_2 < \dots` (sorted distance levels).
``r`` is achievable iff the covering problem

.. math::

    \min \sum_{j \in C} x_j \ \text{ s.t. } \sum_{j \in C: d_{ij} \le r} x_j \ge 1
    \quad \forall i \text{ not within } r \text{ of an existing site}

needs at most ``k`` sites (with capacities: the capacitated LSCP). Binary search over the levels
between the lower bound :math:`\max_i \min_j d_{ij}` and the heuristic's radius solves
:math:`O(\log L)` exact covering MILPs. Demand weights do not matter (every point with positive
weight counts).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from doorstep.geo._errors import InfeasibleError, SolverError

from ._problem import Radius, SitingProblem
from .heuristic import center_heuristic
from .lscp import lscp
from .pmedian import _check_k
from .result import SitingResult, covered_share, nearest_assignment, relative_gap

log = logging.getLogger(__name__)


def pcenter(
    problem: SitingProblem,
    k: int,
    *,
    time_limit: float | None = 60.0,
    radius: Radius | None = None,
    seed: int = 0,
) -> SitingResult:
    """Open ``k`` new sites minimising the largest cost from a demand point to its open site."""
    _check_k(problem, k)
    problem.check_reachable()
    t0 = time.perf_counter()
    ex, cand = problem.existing, problem.candidates
    act = problem.weights > 0
    d = problem.cost[act]
    usable = problem.usable
    levels = np.unique(d[:, usable][np.isfinite(d[:, usable])])
    lb_val = float(d[:, usable].min(axis=1).max()) if d.size else 0.0
    # the unbudgeted, uncapacitated heuristic gives the upper end of the search
    heur, ub_val = center_heuristic(d, ex, cand, k, levels)
    best_new = np.asarray(heur, dtype=np.intp)
    if problem.capacitated or problem.budget is not None or not np.isfinite(ub_val):
        ub_val = float(levels[-1])
        best_new = np.zeros(0, dtype=np.intp)
    lo = int(np.searchsorted(levels, lb_val))
    lo, best_new, proven = _search_levels(
        problem, k, levels, lo, ub_val, best_new, time_limit, seed, t0
    )
    open_sites = np.union1d(ex, best_new).astype(np.intp)
    worst = float(problem.cost[np.ix_(act, open_sites)].min(axis=1).max())
    bound = float(levels[lo]) if lo < len(levels) and not proven else worst
    return SitingResult(
        model="pcenter",
        open_sites=open_sites,
        new_sites=np.asarray(best_new, dtype=np.intp),
        assignment=nearest_assignment(problem, open_sites),
        objective=worst,
        status="optimal" if proven else "feasible",
        lower_bound=min(bound, worst),
        gap=0.0 if proven else relative_gap(worst, bound),
        seconds=time.perf_counter() - t0,
        objective_units=problem.units,
        radius=radius,
        coverage_before=None if radius is None else covered_share(problem, ex, radius),
        coverage_after=None if radius is None else covered_share(problem, open_sites, radius),
        assumptions=[
            "objective = worst cost of any demand point with positive weight",
            "at most k new sites (extra sites cannot lower the optimum)",
        ],
    )


def _search_levels(
    problem: SitingProblem,
    k: int,
    levels: np.ndarray,
    lo: int,
    ub_val: float,
    best_new: np.ndarray,
    time_limit: float | None,
    seed: int,
    t0: float,
) -> tuple[int, np.ndarray, bool]:
    """Binary search over the cost ``levels`` from index ``lo`` up to the level of ``ub_val``
    (or the last level, checked first when there is no heuristic solution): the smallest level
    whose covering LSCP needs at most ``k`` new sites.

    Returns the lower end reached, the new sites of the best level and whether it is proven
    (False when a covering MILP ran out of time; ``time_limit`` counts from ``t0``). Raises
    :class:`InfeasibleError` when even the largest level cannot be covered.
    """
    proven = True

    def feasible(idx: int) -> tuple[bool | None, np.ndarray]:
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0.05:
            return None, best_new
        try:
            res = lscp(problem, float(levels[idx]), time_limit=left, seed=seed)
        except InfeasibleError:
            return False, best_new
        except SolverError:
            return None, best_new
        if res.new_sites.size <= k:
            return True, res.new_sites
        if res.optimal or res.lower_bound > k:
            return False, best_new
        return None, best_new

    if best_new.size or (k == 0 and np.isfinite(ub_val)):
        hi = int(np.searchsorted(levels, ub_val))
    else:
        hi = len(levels) - 1
        ok, sites = feasible(hi)
        if ok is False:
            raise InfeasibleError(f"no choice of {k} new sites reaches every demand point")
        if ok is None:
            raise SolverError("p-center: no feasible covering found within the time limit")
        best_new = sites
    while lo < hi:
        mid = (lo + hi) // 2
        ok, sites = feasible(mid)
        if ok is True:
            hi, best_new = mid, sites
        elif ok is False:
            lo = mid + 1
        else:
            proven = False
            break
    return lo, best_new, proven
