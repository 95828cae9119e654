"""The exact single-source capacitated p-median: root heuristics and bound, then branch and bound.

1. Incumbent: the uncapacitated p-median heuristic's sites, assigned within capacity.
2. Root: subgradient ascent on the Lagrangian (knapsack) bound of :mod:`._cpmp`, with the
   Lagrangian heuristic (each new relaxed choice of sites assigned within capacity) and then the
   restricted MILP heuristic; the reduction tests remove pairs and close / open sites.
3. When the root leaves a gap of at least :attr:`SpSettings.min_gap` of the incumbent: the
   set-partitioning proof of :mod:`._cpmpsp` on the reduced problem (subset-row cuts, then
   reduced-cost column enumeration), which sees several sites at once where the knapsack bound
   sees one.
4. Unless that proved it: HiGHS on the reduced MILP, with Lagrangian cuts, asked for a solution
   better than the incumbent.

All effort limits count iterations and nodes (HiGHS's too), so the answer does not depend on
the machine's load; ``time_limit`` only stops the search early, unproven.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError

from ._cpmp import (
    CpmpData,
    CpmpOutcome,
    Incumbent,
    SpSettings,
    _closed,
    _slack,
    assign_to,
    assignment_milp,
    improves,
    pairs_out,
    quick_assign,
    reduce,
    relaxed,
    restricted_milp,
    start_incumbent,
    subgradient,
)
from ._cpmpls import swap_search
from ._highs import INF, Milp, NoSolutionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CpmpSettings:
    """Deterministic effort of :func:`solve_cpmp`."""

    root_iterations: int = 600
    heuristic_nodes: int = 50  # HiGHS nodes per Lagrangian-heuristic assignment
    restricted_nodes: int = 500  # HiGHS nodes of the restricted MILP
    # site-swap local search (:mod:`._cpmpls`) on the start and on the root incumbent
    local_search: bool = True
    # Lagrangian cuts given to HiGHS: 0 none, 1 one aggregated row per kept multiplier vector,
    # 2 one row per site and multiplier vector (see :func:`_add_cuts`)
    lagrangian_cuts: int = 1
    # the set-partitioning proof (:mod:`._cpmpsp`) before HiGHS on the compact MILP; ``None``
    # goes straight to HiGHS
    set_partitioning: SpSettings | None = field(default_factory=SpSettings)


@dataclass
class _Root:
    bound: float
    inc: Incumbent | None
    fix: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None
    lams: list[npt.NDArray[np.float64]] = field(default_factory=list)


def _root(data: CpmpData, inc: Incumbent | None, settings: CpmpSettings, seed: int) -> _Root:
    """Subgradient with the Lagrangian heuristic, the restricted MILP, then the reduction tests
    (``fix`` is ``None`` when the bound already proves the incumbent)."""
    state = {"inc": inc}

    def on_choice(sel: npt.NDArray[np.intp], ub: float) -> float:
        sites = np.concatenate([data.existing, sel])
        got = quick_assign(data, sites)
        if got is not None and improves(got[0], ub):
            state["inc"] = got
            return got[0]
        return ub

    fin = np.where(np.isfinite(data.cost), data.cost, np.nan)
    lam0 = (
        np.nanmin(fin, axis=1) if inc is None else data.cost[np.arange(inc[1].size), inc[1]].copy()
    )
    upper = np.inf if inc is None else inc[0]
    lag, lams, upper = subgradient(
        data, upper, lam0, iterations=settings.root_iterations, on_choice=on_choice
    )
    inc = state["inc"]
    if _closed(lag, upper, data.integral):
        return _Root(lag, inc, None, lams)
    if inc is not None:  # the best sites, assigned by HiGHS rather than by the greedy
        exact = assign_to(data, inc[2], settings.heuristic_nodes, seed)
        inc = exact if exact is not None and exact[0] < inc[0] else inc
    inc = restricted_milp(data, lams[0], inc, settings.restricted_nodes, seed)
    if settings.local_search:
        inc = _polish(data, inc, settings.heuristic_nodes, seed)
    upper = np.inf if inc is None else inc[0]
    if _closed(lag, upper, data.integral):
        return _Root(lag, inc, None, lams)
    lag2, keep, closed, opened = reduce(data, lams[0], upper)
    for lam in lams[1:]:
        _v, keep_t, closed_t, opened_t = reduce(data, lam, upper)
        keep &= keep_t
        closed |= closed_t
        opened |= opened_t
    log.info(
        "capacitated p-median: root bound %.6g, incumbent %g; %d of %d pairs kept, "
        "%d sites closed, %d opened",
        max(lag, lag2),
        upper,
        int(keep.sum()),
        int(np.isfinite(data.cost).sum()),
        int(closed.sum()),
        int(opened.sum()),
    )
    return _Root(max(lag, lag2), inc, (keep, closed, opened), lams)


def _polish(data: CpmpData, inc: Incumbent | None, nodes: int, seed: int) -> Incumbent | None:
    """Site swaps on ``inc``; a changed set of sites is then assigned by HiGHS too."""
    new = swap_search(data, inc)
    if new is None or inc is None or new[0] >= inc[0]:
        return inc
    exact = assign_to(data, new[2], nodes, seed)
    return exact if exact is not None and exact[0] < new[0] else new


def _reduced(
    data: CpmpData,
    keep: npt.NDArray[np.bool_],
    closed: npt.NDArray[np.bool_],
    opened: npt.NDArray[np.bool_],
) -> CpmpData:
    """``data`` without the removed pairs and closed sites, the opened ones made existing."""
    cand_open = data.candidates[opened[data.candidates]]
    return replace(
        data,
        cost=np.where(keep, data.cost, np.inf),
        existing=np.concatenate([data.existing, cand_open]).astype(np.intp),
        candidates=data.candidates[~closed[data.candidates] & ~opened[data.candidates]],
        k=data.k - cand_open.size,
    )


def solve_cpmp(
    data: CpmpData,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    settings: CpmpSettings | None = None,
) -> CpmpOutcome:
    """Solve a single-source capacitated p-median exactly (module docstring).

    ``time_limit`` (seconds) stops the branch and bound early; the outcome is then unproven,
    with the smallest bound of the unexplored nodes. ``seed`` is HiGHS's random seed.
    """
    cfg = settings or CpmpSettings()
    inc = start_incumbent(data, cfg.heuristic_nodes, seed)
    if cfg.local_search:
        inc = swap_search(data, inc)
    root = _root(data, inc, cfg, seed)
    inc = root.inc
    if root.fix is None:
        assert inc is not None
        return CpmpOutcome(inc[1], inc[2], inc[0], inc[0], True, 0, root.bound)
    clock = _Clock(time_limit)
    red = _reduced(data, *root.fix)
    bound = root.bound
    sp = cfg.set_partitioning
    if sp is not None and inc is not None and inc[0] - bound >= sp.min_gap * abs(inc[0]):
        from ._cpmpsp import prove  # imports numba: only when the proof runs

        kept = int(root.fix[0].sum())
        out = prove(red, inc, root.lams, sp, clock.left(), kept, root.bound)
        left = clock.left()
        if out.proven or (left is not None and left <= 0.0):
            return out
        if out.assign is not None and out.open_sites is not None:
            inc = (out.value, out.assign, out.open_sites)
        bound = max(bound, out.bound)
    cuts = _cuts(data, root.lams, cfg.lagrangian_cuts)
    return _prove(red, inc, clock.left(), seed, bound, cuts, lagrangian_bound=root.bound)


class _Clock:
    """Seconds left of an optional wall-clock limit."""

    def __init__(self, limit: float | None) -> None:
        self.limit, self.t0 = limit, time.perf_counter()

    def left(self) -> float | None:
        return (
            None if self.limit is None else max(self.limit - (time.perf_counter() - self.t0), 0.0)
        )


Cuts = list[tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64], int]]
"""``(sum of lambda, lambda, knapsack values z, kind)`` per multiplier vector."""


def _cuts(data: CpmpData, lams: list[npt.NDArray[np.float64]], kind: int) -> Cuts:
    """The knapsack values of every site at each multiplier vector (for :func:`_add_cuts`)."""
    if kind <= 0:
        return []
    return [(float(lam.sum()), lam, relaxed(data, lam).z, kind) for lam in lams]


def _add_cuts(
    m: Milp,
    red: CpmpData,
    keep: npt.NDArray[np.bool_],
    y: npt.NDArray[np.intp],
    x: npt.NDArray[np.intp],
    cuts: Cuts,
) -> None:
    r"""Lagrangian cuts: for every site, a feasible solution has
    :math:`\sum_i (c_{ij} - \lambda_i) x_{ij} \ge z_j y_j` (the site's knapsack value; both
    sides 0 when it is closed); summed over the sites with :math:`\sum_j x_{ij} = 1`,
    :math:`\sum_{ij} c_{ij} x_{ij} - \sum_j z_j y_j \ge \sum_i \lambda_i`. Kind 1 adds the sum,
    kind 2 the per-site rows."""
    ii, jj = np.nonzero(keep)
    cost = red.cost[ii, jj]
    for lam_sum, lam, z, kind in cuts:
        if kind == 1:
            m.add_row(lam_sum, INF, np.concatenate([x, y]), np.concatenate([cost, -z]))
            continue
        order = np.argsort(jj, kind="stable")
        for j in np.unique(jj).tolist():
            sel = order[jj[order] == j]
            m.add_row(0.0, INF, np.append(x[sel], y[j]), np.append(cost[sel] - lam[ii[sel]], -z[j]))


def _prove(
    red: CpmpData,
    inc: Incumbent | None,
    time_limit: float | None,
    seed: int,
    bound: float,
    cuts: Cuts | None = None,
    *,
    lagrangian_bound: float | None = None,
) -> CpmpOutcome:
    """HiGHS on the reduced MILP, asked for a solution better than ``inc``: none means ``inc``
    is optimal, an optimum below it replaces it. ``bound`` holds for every solution;
    ``lagrangian_bound`` (default ``bound``) is reported as the root's."""
    root_bound = bound if lagrangian_bound is None else lagrangian_bound
    keep = np.isfinite(red.cost) & (red.load[:, None] <= red.caps[None, :])
    ylo = np.zeros(keep.shape[1])
    ylo[red.existing] = 1.0
    yhi = np.zeros(keep.shape[1])
    yhi[red.existing] = 1.0
    yhi[red.candidates] = 1.0
    m, y, x, _ii = assignment_milp(red, keep, ylo, yhi)
    _add_cuts(m, red, keep, y, x, cuts or [])
    kept = int(keep.sum())
    upper = np.inf if inc is None else inc[0]
    cutoff = upper - _slack(upper, red.integral) if inc is not None else None
    try:
        sol = m.solve(
            time_limit=time_limit,
            integral_objective=red.integral,
            seed=seed,
            cutoff=cutoff,
            label="capacitated p-median",
        )
    except InfeasibleError:
        if inc is None:
            raise
        return CpmpOutcome(inc[1], inc[2], upper, upper, True, kept, root_bound)
    except NoSolutionError as exc:
        if inc is None:
            raise
        lb = max(bound, min(exc.bound, upper)) if np.isfinite(exc.bound) else bound
        return CpmpOutcome(inc[1], inc[2], upper, min(lb, upper), False, kept, root_bound)
    if inc is None or sol.objective < upper:
        assign = pairs_out(sol.x, x, keep)
        sites = np.flatnonzero(sol.x[y] > 0.5).astype(np.intp)
        inc = (sol.objective, assign, sites)
    lb = inc[0] if sol.optimal else max(bound, min(sol.bound, inc[0]))
    return CpmpOutcome(inc[1], inc[2], inc[0], lb, sol.optimal, kept, root_bound)
