r"""p-median: minimise population-weighted travel cost with ``k`` new sites.

Exact method (uncapacitated, no budget): Lagrangian branch-and-bound (Beasley 1993), see
:mod:`._lagbb`. Relaxing the assignment rows :math:`\sum_j x_{ij} = 1` of

.. math::

    \min \sum_{i,j} w_i d_{ij} x_{ij}, \quad \sum_j x_{ij} = 1, \quad x_{ij} \le y_j, \quad
    \sum_{j \in C} y_j = k, \quad y_j = 1\ (j \in E)

gives a bound that is usually within a fraction of a percent of the optimum (often equal after
rounding up integer data). Greedy + interchange, then a Lagrangian heuristic give the
incumbent; reduced-cost tests close (open) candidates no improving solution can use (avoid);
the remaining gap is closed by branching on sites. The status is ``"optimal"`` only when the
bound reaches the incumbent.

With an opening budget the exact model is the *radius* formulation of Elloumi (2010) /
Garcia, Labbé & Marín (2011), solved by HiGHS. For demand ``i`` let
:math:`D_i^0 < D_i^1 < \dots` be the distinct costs to usable sites;
:math:`z_i^k \in [0, 1]` means "no open site within :math:`D_i^k`":

.. math::

    \min \sum_i w_i \Big(D_i^0 + \sum_{k=0}^{L_i-2} (D_i^{k+1} - D_i^k)\, z_i^k\Big)

    z_i^0 + \sum_{j: d_{ij} = D_i^0} y_j \ge 1, \qquad
    z_i^k - z_i^{k-1} + \sum_{j: d_{ij} = D_i^k} y_j \ge 0 \quad (1 \le k \le L_i-2)

    \sum_{j \in C} y_j = k, \quad \sum_{j \in C} c_j y_j \le B, \quad y_j = 1\ (j \in E)

Levels are truncated at ``L_i`` (the heuristic's distance, capped at the nearest existing
site); the truncated model is a relaxation, so its optimum is a lower bound. Demands served
beyond their truncation get more levels and the model is re-solved (Garcia et al.'s iterative
scheme) until the bound meets the incumbent.

Capacitated variant (``problem.capacities``): the classical assignment model with splittable
demand, :math:`x_{ij} \le y_j`, :math:`\sum_i w_i x_{ij} \le Q_j y_j`. Single-source
capacities (each demand served by one site, separate loads): :func:`._capacitated.capacitated_pmedian`.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError, InputError

from ._highs import Milp
from ._lagbb import lagrangian_branch_and_bound
from ._problem import Radius, SitingProblem
from .heuristic import median_heuristic
from .result import SitingResult, covered_share, nearest_assignment, relative_gap

log = logging.getLogger(__name__)


def _check_k(problem: SitingProblem, k: int) -> None:
    if k < 0:
        raise InputError(f"number of new sites must be >= 0, got {k}")
    if k > problem.candidates.size:
        raise InputError(
            f"asked for {k} new sites but only {problem.candidates.size} candidates exist"
        )
    if problem.existing.size + k == 0:
        raise InputError("no site would be open: add at least one new site or existing site")


def _value(problem: SitingProblem, open_sites: npt.ArrayLike) -> float:
    """Weighted cost to the nearest open site; zero-weight demands count 0 even if unreachable."""
    pos = problem.weights > 0
    idx = np.asarray(open_sites, dtype=int)
    return float(problem.weights[pos] @ problem.cost[np.ix_(pos, idx)].min(axis=1))


def _integral(problem: SitingProblem) -> bool:
    d = problem.cost[np.isfinite(problem.cost)]
    return bool(np.all(d == np.round(d)) and np.all(problem.weights == np.round(problem.weights)))


class _Radius:
    """Per-demand sorted distance levels over the usable sites."""

    def __init__(self, problem: SitingProblem) -> None:
        self.p = problem
        self.cols = problem.usable
        d = problem.cost[:, self.cols]
        self.levels: list[npt.NDArray[np.float64]] = []
        self.lev: list[npt.NDArray[np.intp]] = []
        self.has_inf: npt.NDArray[np.bool_] = np.asarray(~np.isfinite(d).all(axis=1))
        ex_local = np.flatnonzero(np.isin(self.cols, problem.existing))
        self.cap = np.empty(problem.n_demand, dtype=np.intp)  # max useful number of levels
        for i in range(problem.n_demand):
            row = d[i]
            lv = np.unique(row[np.isfinite(row)])
            self.levels.append(lv)
            self.lev.append(np.searchsorted(lv, row))  # inf -> len(lv)
            if ex_local.size:
                self.cap[i] = int(np.searchsorted(lv, row[ex_local].min())) + 1
            else:
                self.cap[i] = lv.size
        self.d = d

    def level_of(self, i: int, dist: float) -> int:
        """Number of levels needed so that ``dist`` is the last one (capped)."""
        if not np.isfinite(dist):
            return int(self.cap[i])
        return int(min(np.searchsorted(self.levels[i], dist) + 1, self.cap[i]))

    def build(
        self, nlev: npt.NDArray[np.intp], k: int
    ) -> tuple[Milp, npt.NDArray[np.intp], list[npt.NDArray[np.intp]]]:
        p = self.p
        m = Milp("min")
        lb = np.isin(self.cols, p.existing).astype(float)
        y = m.add_cols(np.zeros(self.cols.size), lb, 1.0, integer=True)
        zs: list[npt.NDArray[np.intp]] = []
        lo_all, start_all, idx_all, val_all = [], [], [], []
        nnz = 0
        for i in range(p.n_demand):
            lv, L, w = self.levels[i], int(nlev[i]), p.weights[i]
            m.offset += w * lv[0] if lv.size else 0.0
            closure = lv.size == L and self.has_inf[i]
            nz = L - 1
            z = m.add_cols(w * np.diff(lv[:L]), 0.0, 1.0) if nz > 0 else np.zeros(0, np.intp)
            zs.append(z)
            nrow = nz + (1 if closure else 0)
            if nrow == 0 or w == 0:
                continue
            li = self.lev[i]
            js = np.flatnonzero(li < nrow)
            js = js[np.argsort(li[js], kind="stable")]
            cnt = np.bincount(li[js], minlength=nrow)
            # row r: [z_r] [-z_{r-1}] y_j (lev == r)
            has_z = np.arange(nrow) < nz
            has_prev = np.arange(nrow) >= 1
            per_row = cnt + has_z + has_prev
            starts = np.concatenate([[0], np.cumsum(per_row)[:-1]])
            idx = np.empty(int(per_row.sum()), dtype=np.int64)
            val = np.empty(idx.size)
            pos = starts.copy()
            rz = np.flatnonzero(has_z)
            idx[pos[rz]], val[pos[rz]] = z[rz], 1.0
            pos[rz] += 1
            rp = np.flatnonzero(has_prev)
            idx[pos[rp]], val[pos[rp]] = z[rp - 1], -1.0
            pos[rp] += 1
            ystart = np.repeat(pos, cnt)
            offs = np.arange(js.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            idx[ystart + offs], val[ystart + offs] = y[js], 1.0
            lo = np.zeros(nrow)
            lo[0] = 1.0
            lo_all.append(lo)
            start_all.append(starts + nnz)
            idx_all.append(idx)
            val_all.append(val)
            nnz += idx.size
        if lo_all:
            m.add_rows(
                np.concatenate(lo_all),
                np.inf,
                np.concatenate(start_all),
                np.concatenate(idx_all),
                np.concatenate(val_all),
            )
        cand = np.flatnonzero(np.isin(self.cols, p.candidates))
        m.add_row(k, k, y[cand], np.ones(cand.size))
        if p.budget is not None:
            oc = p.site_cost()[self.cols]
            m.add_row(-np.inf, p.budget, y[cand], oc[cand])
        return m, y, zs

    def start_vector(
        self,
        m: Milp,
        y: npt.NDArray[np.intp],
        zs: list[npt.NDArray[np.intp]],
        open_local: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.float64]:
        x = np.zeros(m.n_col)
        x[y[open_local]] = 1.0
        near = self.d[:, open_local].min(axis=1)
        for i, z in enumerate(zs):
            if z.size:
                x[z] = (near[i] > self.levels[i][: z.size]).astype(float)
        return x


def pmedian(
    problem: SitingProblem,
    k: int,
    *,
    time_limit: float | None = 60.0,
    radius: Radius | None = None,
    seed: int = 0,
) -> SitingResult:
    """Open ``k`` new sites minimising :math:`\\sum_i w_i \\min_{j\\ open} d_{ij}`.

    Parameters
    ----------
    problem
        The siting problem; existing sites stay open, excluded ones never open.
    k
        Number of new sites.
    time_limit
        Seconds for the whole solve (``None`` = no limit). When hit, the best solution is
        returned with status ``"feasible"`` and its proven lower bound.
    radius
        Optional coverage radius, only for reporting coverage before/after.
    seed
        HiGHS random seed.
    """
    _check_k(problem, k)
    problem.check_reachable()
    if problem.capacitated:
        from ._capacitated import capacitated_pmedian

        return capacitated_pmedian(
            problem, k, single_source=False, time_limit=time_limit, radius=radius, seed=seed
        )
    t0 = time.perf_counter()
    ex, cand = problem.existing, problem.candidates
    oc = problem.site_cost() if problem.budget is not None else None
    heur = median_heuristic(
        problem.cost, problem.weights, ex, cand, k, opening_costs=oc, budget=problem.budget
    )
    best_open = np.array(sorted([*ex.tolist(), *heur]), dtype=int)
    best_val = _value(problem, best_open)
    log.info("p-median: heuristic %g with k=%d (%.2fs)", best_val, k, time.perf_counter() - t0)
    integral = _integral(problem)
    bound, proven, nodes = -np.inf, False, 0
    if problem.budget is None and k > 0:
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        best_open, best_val, bound, proven, nodes = _solve_lagrangian(
            problem, k, left, integral, start=(best_open, best_val)
        )
    elif k > 0:
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        best_open, best_val, bound, proven = _solve_radius(
            problem, k, left, seed, integral, start=(best_open, best_val)
        )
    else:
        proven, bound = True, best_val
    log.info(
        "p-median: %s %g, bound %g (%d B&B nodes, %.2fs)",
        "optimum" if proven else "best",
        best_val,
        bound,
        nodes,
        time.perf_counter() - t0,
    )
    secs = time.perf_counter() - t0
    return _pmedian_result(problem, best_open, best_val, float(bound), proven, secs, radius)


def _pmedian_result(
    problem: SitingProblem,
    best_open: npt.NDArray[np.intp],
    best_val: float,
    bound: float,
    proven: bool,
    secs: float,
    radius: Radius | None,
) -> SitingResult:
    """The :class:`SitingResult` of an uncapacitated p-median solution."""
    ex = problem.existing
    return SitingResult(
        model="pmedian",
        open_sites=best_open.astype(np.intp),
        new_sites=np.setdiff1d(best_open, ex).astype(np.intp),
        assignment=nearest_assignment(problem, best_open),
        objective=best_val,
        status="optimal" if proven else "feasible",
        lower_bound=bound,
        gap=0.0 if proven else relative_gap(best_val, bound),
        seconds=secs,
        objective_units=f"weight × {problem.units}",
        radius=radius,
        coverage_before=None if radius is None else covered_share(problem, ex, radius),
        coverage_after=None if radius is None else covered_share(problem, best_open, radius),
        assumptions=[
            "each demand point is served by its nearest open site",
            "uncapacitated",
        ],
    )


def _solve_lagrangian(
    problem: SitingProblem,
    k: int,
    time_limit: float | None,
    integral: bool,
    start: tuple[npt.NDArray[np.intp], float],
) -> tuple[npt.NDArray[np.intp], float, float, bool, int]:
    """Unbudgeted p-median by Lagrangian branch-and-bound from the incumbent ``start``.

    Returns the open sites, their value, the lower bound, whether proven optimal and the
    number of B&B nodes; raises :class:`InfeasibleError` if no choice reaches every demand.
    """
    best_open, best_val = start
    bb = lagrangian_branch_and_bound(
        problem.cost,
        problem.weights,
        problem.existing,
        problem.candidates,
        k,
        best_val,
        best_open,
        integral=integral,
        time_limit=time_limit,
    )
    val = _value(problem, bb.open_sites)
    if val < best_val:
        best_open, best_val = bb.open_sites, val
    if not np.isfinite(best_val):
        raise InfeasibleError(
            f"no choice of {k} new sites reaches every demand point; "
            "add candidates or raise the number of sites"
        )
    bound = best_val if bb.proven else min(bb.bound, best_val)
    return best_open, best_val, bound, bb.proven, bb.nodes


def _radius_lp(
    rad: _Radius, nlev: npt.NDArray[np.intp], k: int
) -> tuple[npt.NDArray[np.intp], float]:
    """Extend the truncations until the truncated LP relaxation is the full model's LP.

    A truncation binds when its last ``z`` is positive in the LP optimum (the demand is partly
    served beyond its last level); those are doubled and the LP re-solved. Returns the final
    truncations and the LP bound (equal to the classical p-median LP bound).
    """
    # at least two levels, so every demand has a z and a covering row: with one level a demand
    # would count as served at its nearest distance by no site at all, invisibly to the growth test
    nlev = np.maximum(nlev, np.minimum(2, rad.cap))
    obj = -np.inf
    for rnd in range(60):
        m, _y, zs = rad.build(nlev, k)
        lp = m.solve(relax=True, label="p-median LP")
        obj = lp.objective
        grow = [
            i for i, z in enumerate(zs) if z.size and nlev[i] < rad.cap[i] and lp.x[z[-1]] > 1e-7
        ]
        log.debug("p-median LP round %d: bound %g, %d truncations to extend", rnd, obj, len(grow))
        if not grow:
            break
        for i in grow:
            nlev[i] = min(int(rad.cap[i]), 2 * int(nlev[i]))
    return nlev, obj


def _solve_radius(
    problem: SitingProblem,
    k: int,
    time_limit: float | None,
    seed: int,
    integral: bool,
    start: tuple[npt.NDArray[np.intp], float] | None = None,
) -> tuple[npt.NDArray[np.intp], float, float, bool]:
    """Iterated truncated radius MILP; returns ``(open, value, bound, proven)``."""
    t0 = time.perf_counter()
    ex = problem.existing
    if start is None:
        oc = problem.site_cost() if problem.budget is not None else None
        heur = median_heuristic(
            problem.cost,
            problem.weights,
            ex,
            problem.candidates,
            k,
            opening_costs=oc,
            budget=problem.budget,
        )
        best_open = np.array(sorted([*ex.tolist(), *heur]), dtype=int)
        best_val = _value(problem, best_open)
    else:
        best_open, best_val = start
    rad = _Radius(problem)
    col_of = {int(j): t for t, j in enumerate(rad.cols)}
    near = problem.cost[:, best_open].min(axis=1)
    nlev = np.array([rad.level_of(i, near[i]) for i in range(problem.n_demand)], dtype=np.intp)
    bound, proven = -np.inf, False
    nlev, _lp = _radius_lp(rad, nlev, k)
    for rnd in range(50):
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0.05:
            break
        m, y, zs = rad.build(nlev, k)
        x0 = rad.start_vector(m, y, zs, np.array([col_of[int(j)] for j in best_open]))
        sol = m.solve(
            time_limit=left, start=x0, integral_objective=integral, seed=seed, label="p-median"
        )
        bound = max(bound, sol.bound)
        open_now = rad.cols[np.flatnonzero(sol.x[y] > 0.5)]
        val = _value(problem, open_now)
        if val < best_val - 1e-9:
            best_open, best_val = np.sort(open_now), val
        log.info(
            "p-median round %d: %d columns, truncated optimum %g, true %g, best %g, bound %g",
            rnd,
            m.n_col,
            sol.objective,
            val,
            best_val,
            bound,
        )
        tol = 1e-6 * max(1.0, abs(best_val)) + (1.0 - 1e-6 if integral else 0.0)
        if sol.optimal and best_val - bound < tol:
            proven = True
            break
        if not sol.optimal:
            break
        near = problem.cost[:, open_now].min(axis=1)
        grew = False
        for i in range(problem.n_demand):
            lv = rad.level_of(i, near[i])
            if lv > nlev[i]:
                nlev[i] = min(int(rad.cap[i]), max(lv, 2 * int(nlev[i])))
                grew = True
        if not grew:
            log.warning("p-median: truncation did not grow; reporting best found")
            break
    return best_open, best_val, bound, proven
