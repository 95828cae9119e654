r"""Capacitated variants: demand assigned to open sites within their capacities.

Variables :math:`y_j \in \{0,1\}` (open) and :math:`x_{ij} \ge 0` (share of demand ``i`` served
by ``j``; demand may be split), only for *allowed* pairs (within the radius for covering
models, reachable for p-median):

.. math::

    x_{ij} \le y_j, \qquad \sum_i w_i x_{ij} \le Q_j\, y_j, \qquad y_j = 1\ (j \in E)

and per model: LSCP :math:`\sum_j x_{ij} = 1`, :math:`\min \sum_j c_j y_j`; MCLP
:math:`\sum_j x_{ij} \le 1`, :math:`\max \sum_{ij} w_i x_{ij}`, :math:`\sum_{j \in C} y_j \le k`;
p-median :math:`\sum_j x_{ij} = 1`, :math:`\min \sum_{ij} w_i d_{ij} x_{ij}`,
:math:`\sum_{j \in C} y_j = k`.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import numpy.typing as npt

from ._highs import Milp, MilpSolution
from ._problem import Radius, SitingProblem
from .result import SitingResult, covered_share, relative_gap

log = logging.getLogger(__name__)


def add_assignment(
    m: Milp,
    ycost: npt.NDArray[np.float64],
    ylo: npt.NDArray[np.float64],
    yhi: npt.NDArray[np.float64],
    ii: npt.NDArray[np.intp],
    jj: npt.NDArray[np.intp],
    xcost: npt.NDArray[np.float64],
    *,
    demands: npt.NDArray[np.intp],
    load: npt.NDArray[np.float64],
    caps: npt.NDArray[np.float64],
    assign_lo: float,
    x_integer: bool = False,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    r"""Add site columns ``y`` and pair columns ``x`` (pairs ``(ii, jj)``) with the rows

    .. math::

        a \le \sum_j x_{ij} \le 1, \qquad x_{ij} \le y_j, \qquad
        \sum_i q_i x_{ij} \le Q_j y_j \ (Q_j < \infty)

    (``a = assign_lo``, ``q = load``, ``Q = caps``); return the indices of ``y`` and ``x``.
    Each of ``demands`` (which must include every demand in ``ii``) gets an assignment row.
    """
    y = m.add_cols(ycost, ylo, yhi, integer=True)
    x = m.add_cols(xcost, 0.0, 1.0, integer=x_integer)
    cnt = np.bincount(ii, minlength=load.size)[demands]
    order = np.argsort(ii, kind="stable")
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    m.add_rows(np.full(demands.size, assign_lo), 1.0, start, x[order], np.ones(order.size))
    n_link = ii.size
    m.add_rows(
        np.full(n_link, -np.inf),
        0.0,
        np.arange(n_link) * 2,
        np.column_stack([x, y[jj]]).ravel(),
        np.tile([1.0, -1.0], n_link),
    )
    capped = np.flatnonzero(np.isfinite(caps))
    by_site = np.argsort(jj, kind="stable")
    first = np.searchsorted(jj[by_site], capped)
    last = np.searchsorted(jj[by_site], capped, side="right")
    idx = [np.concatenate([x[by_site[a:b]], [y[t]]]) for t, a, b in zip(capped, first, last)]
    val = [
        np.concatenate([load[ii[by_site[a:b]]], [-caps[t]]])
        for t, a, b in zip(capped, first, last)
    ]
    if capped.size:
        start_c = np.concatenate([[0], np.cumsum([v.size for v in idx])[:-1]])
        m.add_rows(
            np.full(capped.size, -np.inf), 0.0, start_c, np.concatenate(idx), np.concatenate(val)
        )
    return y, x


def solve_capacitated(
    problem: SitingProblem,
    kind: str,
    *,
    k: int | None = None,
    radius: Radius | None = None,
    time_limit: float | None = None,
    seed: int = 0,
) -> tuple[MilpSolution, npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Build and solve a capacitated model; return the solution, open sites and shares."""
    p = problem
    cols = p.usable
    caps = np.full(p.n_sites, np.inf) if p.capacities is None else p.capacities
    d = p.cost[:, cols]
    allowed = np.isfinite(d) if radius is None else d <= p.radius_column(radius)
    active = p.weights > 0
    allowed &= active[:, None]
    ii, jj = np.nonzero(allowed)
    m = Milp("max" if kind == "mclp" else "min")
    oc = p.site_cost()[cols]
    ycost = (
        oc
        if (kind == "lscp" and p.opening_costs is not None)
        else (np.ones(cols.size) if kind == "lscp" else np.zeros(cols.size))
    )
    is_ex = np.isin(cols, p.existing)
    if kind == "lscp":
        ycost = np.where(is_ex, 0.0, ycost)
    if kind == "mclp":
        xcost = p.weights[ii]
    elif kind == "pmedian":
        xcost = p.weights[ii] * d[ii, jj]
    else:
        xcost = np.zeros(ii.size)
    y, x = add_assignment(
        m,
        ycost,
        is_ex.astype(float),
        np.ones(cols.size),
        ii,
        jj,
        xcost,
        demands=np.flatnonzero(active),
        load=p.weights,
        caps=caps[cols],
        assign_lo=0.0 if kind == "mclp" else 1.0,
    )
    cand = np.flatnonzero(np.isin(cols, p.candidates))
    if k is not None:
        lo_k = k if kind == "pmedian" else -np.inf
        m.add_row(lo_k, k, y[cand], np.ones(cand.size))
    if p.budget is not None:
        m.add_row(-np.inf, p.budget, y[cand], oc[cand])
    sol = m.solve(time_limit=time_limit, seed=seed, label=f"capacitated {kind}")
    open_sites = np.sort(cols[sol.x[y] > 0.5]).astype(np.intp)
    shares = np.zeros((p.n_demand, p.n_sites))
    shares[ii, cols[jj]] = sol.x[x]
    return sol, open_sites, shares


def capacitated_result(
    problem: SitingProblem,
    kind: str,
    *,
    k: int | None = None,
    radius: Radius | None = None,
    time_limit: float | None = None,
    seed: int = 0,
) -> SitingResult:
    """Solve a capacitated model and wrap it as a :class:`SitingResult`."""
    t0 = time.perf_counter()
    sol, open_sites, shares = solve_capacitated(
        problem, kind, k=k, radius=radius, time_limit=time_limit, seed=seed
    )
    served = shares.sum(axis=1)
    assignment = np.where(served > 1e-9, shares.argmax(axis=1), -1).astype(np.intp)
    units = {
        "lscp": "opening cost" if problem.opening_costs is not None else "sites",
        "mclp": "weight covered",
        "pmedian": f"weight × {problem.units}",
    }[kind]
    return SitingResult(
        model=kind,
        open_sites=open_sites,
        new_sites=np.setdiff1d(open_sites, problem.existing).astype(np.intp),
        assignment=assignment,
        objective=sol.objective,
        status="optimal" if sol.optimal else "feasible",
        lower_bound=sol.bound,
        gap=0.0 if sol.optimal else relative_gap(sol.objective, sol.bound),
        seconds=time.perf_counter() - t0,
        objective_units=units,
        radius=radius,
        coverage_before=None
        if radius is None
        else covered_share(problem, problem.existing, radius),
        coverage_after=None
        if radius is None
        else float(problem.weights @ np.minimum(served, 1.0) / max(problem.weights.sum(), 1e-12)),
        assignment_shares=shares,
        assumptions=[
            "capacitated: demand assigned within site capacities, may be split between sites",
        ],
    )


def capacitated_pmedian(
    problem: SitingProblem, k: int, *, time_limit: float | None, radius: Radius | None, seed: int
) -> SitingResult:
    """Capacitated p-median (splittable demand)."""
    res = capacitated_result(problem, "pmedian", k=k, time_limit=time_limit, seed=seed)
    if radius is not None:
        res.radius = radius
        res.coverage_before = covered_share(problem, problem.existing, radius)
        res.coverage_after = covered_share(problem, res.open_sites, radius)
    return res
