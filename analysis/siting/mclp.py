r"""MCLP (maximal covering): most demand within ``T`` with at most ``k`` new sites.

.. math::

    \max \sum_i w_i u_i \quad \text{s.t.} \quad u_i \le \sum_{j \in N_i} x_j, \quad
    \sum_{j \in C} x_j \le k, \quad [\textstyle\sum_j c_j x_j \le B], \quad
    x \in \{0,1\},\ 0 \le u \le 1

Demand already within ``T`` of an existing site counts as covered and leaves the model; demand
points with the same candidate cover set are merged (weights summed); a candidate whose cover
set is contained in another's at no lower cost is dropped. The greedy + interchange heuristic
(on 0/1 costs ``d_ij > T``) warm-starts HiGHS.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from doorstep.geo._errors import InputError

from ._highs import Milp
from ._problem import Radius, SitingProblem, describe_radius
from .heuristic import median_heuristic
from .lscp import reduce_cover
from .result import SitingResult, covered_share, nearest_assignment, relative_gap

log = logging.getLogger(__name__)


def mclp(
    problem: SitingProblem,
    k: int,
    radius: Radius,
    *,
    time_limit: float | None = 60.0,
    seed: int = 0,
) -> SitingResult:
    """Open at most ``k`` new sites (within the budget, if any) to cover the most demand weight.

    The objective is the total demand weight (e.g. population) within ``radius`` of an open
    site, existing sites included. ``radius`` is one threshold, or one per demand point
    (:math:`N_i = \\{j : d_{ij} \\le T_i\\}`, e.g. 15 min for urban and 30 min for rural villages).
    """
    if k < 0:
        raise InputError(f"number of new sites must be >= 0, got {k}")
    if problem.capacitated:
        from ._capacitated import capacitated_result

        return capacitated_result(
            problem, "mclp", k=k, radius=radius, time_limit=time_limit, seed=seed
        )
    t0 = time.perf_counter()
    cov = problem.coverage(radius)
    ex, cand = problem.existing, problem.candidates
    w = problem.weights
    base_cov = cov[:, ex].any(axis=1) if ex.size else np.zeros(problem.n_demand, dtype=bool)
    base = float(w[base_cov].sum())
    rows = np.flatnonzero(~base_cov & (w > 0) & cov[:, cand].any(axis=1))
    oc = problem.site_cost()
    budget = problem.budget
    if rows.size == 0 or k == 0:
        new = np.zeros(0, dtype=np.intp)
        return _result(problem, new, base, base, True, time.perf_counter() - t0, radius)
    a = cov[np.ix_(rows, cand)]
    # merge identical demand rows
    uniq, inv = np.unique(a, axis=0, return_inverse=True)
    wu = np.bincount(inv.ravel(), weights=w[rows], minlength=uniq.shape[0])
    # dominated candidates (column subset at no lower cost) can be dropped
    _, keep = reduce_cover(
        uniq.astype(bool), oc[cand] if budget is not None else np.ones(cand.size)
    )
    cols = cand[keep]
    ak = uniq[:, keep]
    # heuristic warm start on 0/1 costs
    cost01 = (~cov).astype(float)
    heur = median_heuristic(
        cost01,
        w,
        ex,
        cols,
        min(k, cols.size),
        opening_costs=oc if budget is not None else None,
        budget=budget,
    )
    m = Milp("max")
    x = m.add_cols(np.zeros(cols.size), 0.0, 1.0, integer=True)
    u = m.add_cols(wu, 0.0, 1.0)
    m.add_rows(np.full(ak.shape[0], -np.inf), 0.0, *_cover_rows(ak, x, u))
    m.add_row(-np.inf, k, x, np.ones(x.size))
    if budget is not None:
        m.add_row(-np.inf, budget, x, oc[cols])
    x0 = _warm_start(m.n_col, x, u, cols, ak, heur)
    integral = bool(np.all(w == np.round(w)))
    sol = m.solve(
        time_limit=time_limit, start=x0, integral_objective=integral, seed=seed, label="MCLP"
    )
    new = np.sort(cols[np.flatnonzero(sol.x[x] > 0.5)]).astype(np.intp)
    covered = float(w[cov[:, np.union1d(ex, new).astype(int)].any(axis=1)].sum())
    bound = base + (float(np.floor(sol.bound + 1e-6)) if integral else sol.bound)
    return _result(
        problem, new, covered, max(bound, covered), sol.optimal, time.perf_counter() - t0, radius
    )


def _cover_rows(
    ak: np.ndarray, x: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR ``(start, index, value)`` of the rows ``u_r - Σ_{j: ak[r, j]} x_j <= 0``."""
    r, c = np.nonzero(ak)
    cnt = np.bincount(r, minlength=ak.shape[0])
    starts = np.concatenate([[0], np.cumsum(cnt + 1)[:-1]])
    idx = np.empty(int((cnt + 1).sum()), dtype=np.int64)
    val = np.empty(idx.size)
    idx[starts], val[starts] = u, 1.0
    offs = np.arange(r.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    pos = np.repeat(starts + 1, cnt) + offs
    idx[pos], val[pos] = x[c], -1.0
    return starts, idx, val


def _warm_start(
    n_col: int, x: np.ndarray, u: np.ndarray, cols: np.ndarray, ak: np.ndarray, heur: list[int]
) -> np.ndarray:
    """MILP start vector: the heuristic's sites open, their covered demand rows set."""
    x0 = np.zeros(n_col)
    pos_of = {int(j): t for t, j in enumerate(cols)}
    for j in heur:
        x0[x[pos_of[j]]] = 1.0
    x0[u] = (ak[:, [pos_of[j] for j in heur]].any(axis=1)).astype(float) if heur else 0.0
    return x0


def _result(
    problem: SitingProblem,
    new: np.ndarray,
    covered: float,
    bound: float,
    optimal: bool,
    seconds: float,
    radius: Radius,
) -> SitingResult:
    open_sites = np.union1d(problem.existing, new).astype(np.intp)
    return SitingResult(
        model="mclp",
        open_sites=open_sites,
        new_sites=np.asarray(new, dtype=np.intp),
        assignment=nearest_assignment(problem, open_sites),
        objective=covered,
        status="optimal" if optimal else "feasible",
        lower_bound=covered if optimal else bound,
        gap=0.0 if optimal else relative_gap(covered, bound),
        seconds=seconds,
        objective_units="weight covered",
        radius=radius,
        coverage_before=covered_share(problem, problem.existing, radius),
        coverage_after=covered_share(problem, open_sites, radius),
        assumptions=[
            f"covered = within {describe_radius(radius, problem.units)} of an open site",
            "uncapacitated",
            "lower_bound holds the proven upper bound (maximisation)",
        ],
    )
