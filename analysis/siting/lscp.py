r"""LSCP (location set covering): fewest — or cheapest — sites putting every demand within ``T``.

.. math::

    \min \sum_{j \in C} c_j x_j \quad \text{s.t.} \quad \sum_{j \in N_i} x_j \ge 1
    \ \ \forall i \text{ not already covered by an existing site}, \qquad x \in \{0,1\}

with :math:`N_i = \{j \in C : d_{ij} \le T\}` and :math:`c_j = 1` (count) unless opening
costs are given; with a budget, :math:`\sum_j c_j x_j \le B` (an error when it cannot hold).
Before the MILP, dominated rows (a row whose cover set contains another row's) and dominated
columns (covering a subset of another column's rows at no lower cost) are removed; Chvátal's
greedy cover warm-starts HiGHS.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from doorstep.geo._errors import InfeasibleError

from ._highs import Milp
from ._problem import Radius, SitingProblem, describe_radius
from .heuristic import greedy_cover
from .result import SitingResult, covered_share, nearest_assignment, relative_gap

log = logging.getLogger(__name__)


@dataclass
class CoverSolution:
    """Solution of a set-covering MILP (columns index the input matrix)."""

    columns: npt.NDArray[np.intp]
    objective: float
    bound: float
    optimal: bool
    seconds: float


def reduce_cover(
    cover: sparse.csr_matrix, costs: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Indices of the rows and columns kept after dominance reduction.

    A row whose cover set contains another row's set is implied by it; a column whose rows are
    a subset of another column's at no lower cost can be dropped (ties keep the lower index).
    """
    a = sparse.csr_matrix(cover, dtype=np.float64)
    a.eliminate_zeros()
    col_size = np.asarray(a.sum(axis=0)).ravel()
    cols = np.flatnonzero(col_size > 0)
    a = a[:, cols]
    c = costs[cols]
    size = col_size[cols]
    inter = (a.T @ a).toarray()  # columns x columns
    sub = inter >= size[:, None] - 1e-9  # sub[j, k]: rows(j) ⊆ rows(k)
    better = (c[None, :] < c[:, None]) | (
        (c[None, :] == c[:, None])
        & (
            (size[None, :] > size[:, None])
            | (np.arange(c.size)[None, :] < np.arange(c.size)[:, None])
        )
    )
    np.fill_diagonal(sub, False)
    dominated = (sub & better).any(axis=1)
    cols = cols[~dominated]
    a = sparse.csr_matrix(cover, dtype=np.float64)[:, cols]
    row_size = np.asarray(a.sum(axis=1)).ravel()
    rinter = (a @ a.T).toarray()
    rsub = rinter >= row_size[None, :] - 1e-9  # rsub[i, r]: rows r's set ⊆ row i's set
    rbetter = (row_size[None, :] < row_size[:, None]) | (
        (row_size[None, :] == row_size[:, None])
        & (np.arange(row_size.size)[None, :] < np.arange(row_size.size)[:, None])
    )
    np.fill_diagonal(rsub, False)
    redundant = (rsub & rbetter).any(axis=1)
    rows = np.flatnonzero(~redundant)
    log.debug(
        "set cover reduction: %d/%d rows, %d/%d columns",
        rows.size,
        a.shape[0],
        cols.size,
        costs.size,
    )
    return rows, cols


def solve_set_cover(
    cover: sparse.csr_matrix | npt.NDArray[np.bool_],
    costs: npt.ArrayLike,
    *,
    budget: float | None = None,
    max_columns: int | None = None,
    time_limit: float | None = 60.0,
    seed: int = 0,
    reduce: bool = True,
) -> CoverSolution:
    """Minimum-cost set cover ``min c x, A x >= 1`` by reduction + greedy warm start + HiGHS.

    Raises :class:`InfeasibleError` when a row has no column (caller names the demand points).
    """
    t0 = time.perf_counter()
    a = sparse.csr_matrix(cover, dtype=np.float64)
    c = np.asarray(costs, dtype=float)
    if a.shape[0] == 0:
        return CoverSolution(np.zeros(0, np.intp), 0.0, 0.0, True, 0.0)
    empty = np.flatnonzero(np.diff(a.indptr) == 0)
    if empty.size:
        raise InfeasibleError(f"rows {empty.tolist()[:20]} cannot be covered by any column")
    rows, cols = (
        reduce_cover(a, c)
        if reduce and budget is None and max_columns is None
        else (np.arange(a.shape[0]), np.arange(a.shape[1]))
    )
    ar = a[rows][:, cols].tocsr()
    cr = c[cols]
    dense = ar.toarray() > 0
    start = greedy_cover(dense, cr)
    m = Milp("min")
    x = m.add_cols(cr, 0.0, 1.0, integer=True)
    m.add_rows(np.ones(ar.shape[0]), np.inf, ar.indptr[:-1], x[ar.indices], np.ones(ar.nnz))
    if budget is not None:
        m.add_row(-np.inf, budget, x, cr)
    if max_columns is not None:
        m.add_row(-np.inf, max_columns, x, np.ones(x.size))
    x0 = None
    if start is not None:
        ok = (budget is None or cr[start].sum() <= budget) and (
            max_columns is None or len(start) <= max_columns
        )
        if ok:
            x0 = np.zeros(x.size)
            x0[start] = 1.0
    integral = bool(np.all(cr == np.round(cr)))
    sol = m.solve(
        time_limit=time_limit, start=x0, integral_objective=integral, seed=seed, label="set cover"
    )
    chosen = cols[np.flatnonzero(sol.x > 0.5)].astype(np.intp)
    bound = float(np.ceil(sol.bound - 1e-6)) if integral else sol.bound
    return CoverSolution(
        chosen,
        float(c[chosen].sum()),
        min(bound, float(c[chosen].sum())),
        sol.optimal,
        time.perf_counter() - t0,
    )


def lscp(
    problem: SitingProblem,
    radius: Radius,
    *,
    time_limit: float | None = 60.0,
    seed: int = 0,
) -> SitingResult:
    """Fewest (or cheapest, with opening costs) new sites covering all demand within ``radius``
    (one threshold, or one per demand point).

    Raises
    ------
    InfeasibleError
        Naming the demand points no existing or candidate site reaches within ``radius``, or
        when the budget cannot pay for a full cover.
    """
    problem.check_coverable(radius)
    if problem.capacitated:
        from ._capacitated import capacitated_result

        return capacitated_result(problem, "lscp", radius=radius, time_limit=time_limit, seed=seed)
    t0 = time.perf_counter()
    cov = problem.coverage(radius)
    ex, cand = problem.existing, problem.candidates
    need = (problem.weights > 0) & ~cov[:, ex].any(axis=1)
    oc = problem.site_cost()
    cost = oc[cand] if problem.opening_costs is not None else np.ones(cand.size)
    try:
        sol = solve_set_cover(
            cov[np.ix_(need, cand)], cost, budget=problem.budget, time_limit=time_limit, seed=seed
        )
    except InfeasibleError as exc:
        if problem.budget is not None:
            raise InfeasibleError(
                f"no set of sites within the budget {problem.budget:g} covers every demand point "
                f"within {describe_radius(radius, problem.units)}"
            ) from exc
        raise
    new = np.sort(cand[sol.columns]).astype(np.intp)
    open_sites = np.union1d(ex, new).astype(np.intp)
    return SitingResult(
        model="lscp",
        open_sites=open_sites,
        new_sites=new,
        assignment=nearest_assignment(problem, open_sites),
        objective=sol.objective,
        status="optimal" if sol.optimal else "feasible",
        lower_bound=sol.bound,
        gap=0.0 if sol.optimal else relative_gap(sol.objective, sol.bound),
        seconds=time.perf_counter() - t0,
        objective_units="opening cost" if problem.opening_costs is not None else "new sites",
        radius=radius,
        coverage_before=covered_share(problem, ex, radius),
        coverage_after=covered_share(problem, open_sites, radius),
        assumptions=[
            f"covered = within {describe_radius(radius, problem.units)} of an open site",
            "uncapacitated",
        ],
    )
