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
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError, InputError

from ._assign import add_assignment
from ._cpmp import CpmpData, CpmpOutcome
from ._cpmpsolve import CpmpSettings, solve_cpmp
from ._highs import Milp, MilpSolution
from ._problem import Radius, SitingProblem
from .result import SitingResult, covered_share, nearest_assignment, relative_gap

log = logging.getLogger(__name__)


def solve_capacitated(
    problem: SitingProblem,
    kind: str,
    *,
    k: int | None = None,
    radius: Radius | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    load: npt.NDArray[np.float64] | None = None,
) -> tuple[MilpSolution, npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Build and solve a capacitated model; return the solution, open sites and shares.

    ``load`` is each demand's use of capacity (default: its weight)."""
    p = problem
    cols = p.usable
    caps = np.full(p.n_sites, np.inf) if p.capacities is None else p.capacities
    d = p.cost[:, cols]
    allowed = np.isfinite(d) if radius is None else d <= p.radius_column(radius)
    active = p.weights > 0
    if load is not None and kind == "pmedian":
        active |= load > 0
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
        load=p.weights if load is None else load,
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
    load: npt.NDArray[np.float64] | None = None,
) -> SitingResult:
    """Solve a capacitated model and wrap it as a :class:`SitingResult`."""
    t0 = time.perf_counter()
    sol, open_sites, shares = solve_capacitated(
        problem, kind, k=k, radius=radius, time_limit=time_limit, seed=seed, load=load
    )
    served = shares.sum(axis=1)
    assignment = np.where(served > 1e-9, shares.argmax(axis=1), -1).astype(np.intp)
    units = {
        "lscp": "opening cost" if problem.opening_costs is not None else "sites",
        "mclp": "weight covered",
        "pmedian": f"weight × {problem.units}",
    }[kind]
    res = _wrap(
        problem,
        kind,
        (open_sites, assignment, shares),
        (sol.objective, sol.bound, sol.optimal),
        "capacitated: demand assigned within site capacities, may be split between sites",
    )
    res.objective_units = units
    res.seconds = time.perf_counter() - t0
    if radius is not None:
        res.radius = radius
        res.coverage_before = covered_share(problem, problem.existing, radius)
        res.coverage_after = float(
            problem.weights @ np.minimum(served, 1.0) / max(problem.weights.sum(), 1e-12)
        )
    return res


def _wrap(
    problem: SitingProblem,
    model: str,
    plan: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]],
    quality: tuple[float, float, bool],
    assumption: str,
) -> SitingResult:
    """A :class:`SitingResult` from ``(open sites, assignment, shares)`` and
    ``(objective, bound, proven)``."""
    open_sites, assignment, shares = plan
    objective, bound, proven = quality
    return SitingResult(
        model=model,
        open_sites=open_sites,
        new_sites=np.setdiff1d(open_sites, problem.existing).astype(np.intp),
        assignment=assignment,
        objective=objective,
        status="optimal" if proven else "feasible",
        lower_bound=bound,
        gap=0.0 if proven else relative_gap(objective, bound),
        seconds=0.0,
        objective_units=f"weight × {problem.units}",
        assignment_shares=shares,
        assumptions=[assumption],
    )


def _capacity_vector(
    problem: SitingProblem, capacity: float | npt.ArrayLike | None
) -> npt.NDArray[np.float64]:
    """Per-site capacities from a number, an ``(n_sites,)`` array or the problem's own."""
    if capacity is None:
        if problem.capacities is None:
            raise InputError("no capacity given and the problem has no site capacities")
        return problem.capacities
    caps = np.broadcast_to(np.asarray(capacity, dtype=float), (problem.n_sites,)).copy()
    if np.isnan(caps).any() or (caps < 0).any():
        raise InputError("capacities must be >= 0 (inf = uncapacitated)")
    return caps


def _single_source(
    problem: SitingProblem,
    k: int,
    caps: npt.NDArray[np.float64],
    load: npt.NDArray[np.float64],
    time_limit: float | None,
    seed: int,
    settings: CpmpSettings | None = None,
) -> tuple[CpmpOutcome, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Run :func:`._cpmpsolve.solve_cpmp`; return it with the usable columns and the active rows."""
    cols = problem.usable
    rows = np.flatnonzero((problem.weights > 0) | (load > 0))
    cost = problem.weights[rows, None] * problem.cost[np.ix_(rows, cols)]
    fin = cost[np.isfinite(cost)]
    data = CpmpData(
        cost=cost,
        load=load[rows],
        caps=caps[cols],
        existing=np.flatnonzero(np.isin(cols, problem.existing)).astype(np.intp),
        candidates=np.flatnonzero(np.isin(cols, problem.candidates)).astype(np.intp),
        k=k,
        integral=bool(np.all(fin == np.round(fin))),
    )
    out = solve_cpmp(data, time_limit=time_limit, seed=seed, settings=settings)
    if out.assign is None or out.open_sites is None:
        raise InfeasibleError(
            f"no choice of {k} new sites serves every demand point within the capacities "
            "(or none was found within the time limit)"
        )
    return out, cols, rows


def capacitated_pmedian(
    problem: SitingProblem,
    k: int,
    capacity: float | npt.ArrayLike | None = None,
    *,
    demand: npt.ArrayLike | None = None,
    single_source: bool = True,
    time_limit: float | None = 60.0,
    radius: Radius | None = None,
    seed: int = 0,
    settings: CpmpSettings | None = None,
) -> SitingResult:
    r"""Capacitated p-median: open ``k`` new sites minimising :math:`\sum_{ij} w_i d_{ij}
    x_{ij}` with each site's load :math:`\sum_i q_i x_{ij} \le Q_j`.

    Parameters
    ----------
    problem
        Costs ``d``, weights ``w`` and site roles (existing sites stay open).
    k
        Number of new sites.
    capacity
        ``Q``: one number for every site, an ``(n_sites,)`` array (``inf`` = uncapacitated), or
        ``None`` for ``problem.capacities``.
    demand
        ``q``: each demand point's load (default: its weight). OR-Library ``pmedcap`` uses
        weights 1 (objective = sum of distances) and the customers' demands here.
    single_source
        Each demand point served by exactly one site (exact method of :mod:`._cpmpsolve`); with
        ``False`` demand may be split (the MILP of :func:`solve_capacitated`).
    time_limit, radius, seed
        Seconds, an optional radius for coverage reporting, HiGHS seed.
    settings
        Deterministic effort of the single-source solver (:class:`._cpmpsolve.CpmpSettings`).

    ``status`` is ``"optimal"`` only with a proof; otherwise ``lower_bound`` is proven.
    """
    caps = _capacity_vector(problem, capacity)
    load = problem.weights if demand is None else np.asarray(demand, dtype=float)
    if load.shape != (problem.n_demand,) or not np.isfinite(load).all() or (load < 0).any():
        raise InputError(f"demand must be {problem.n_demand} finite values >= 0")
    prob = replace(problem, capacities=caps)
    if not single_source:
        res = capacitated_result(prob, "pmedian", k=k, time_limit=time_limit, seed=seed, load=load)
    else:
        res = _single_source_result(prob, k, load, time_limit, seed, settings)
    if radius is not None:
        res.radius = radius
        res.coverage_before = covered_share(problem, problem.existing, radius)
        res.coverage_after = covered_share(problem, res.open_sites, radius)
    return res


def _single_source_result(
    problem: SitingProblem,
    k: int,
    load: npt.NDArray[np.float64],
    time_limit: float | None,
    seed: int,
    settings: CpmpSettings | None,
) -> SitingResult:
    t0 = time.perf_counter()
    assert problem.capacities is not None
    out, cols, rows = _single_source(
        problem, k, problem.capacities, load, time_limit, seed, settings
    )
    assert out.assign is not None and out.open_sites is not None
    open_sites = np.sort(cols[out.open_sites]).astype(np.intp)
    assignment = nearest_assignment(problem, open_sites)
    assignment[rows] = cols[out.assign]
    shares = np.zeros((problem.n_demand, problem.n_sites))
    shares[rows, cols[out.assign]] = 1.0
    res = _wrap(
        problem,
        "pmedian",
        (open_sites, assignment, shares),
        (out.value, out.bound, out.proven),
        "capacitated: each demand point served by one open site, within site capacities",
    )
    res.seconds = time.perf_counter() - t0
    return res
