r"""Single-source capacitated p-median: Lagrangian bound, variable fixing, then an exact MILP.

The model (``c_ij`` = weighted cost, ``q_i`` = load of demand ``i``, ``Q_j`` = capacity of
site ``j``, ``E`` = sites open anyway, ``C`` = candidates, ``k`` of which open):

.. math::

    \min \sum_{ij} c_{ij} x_{ij}, \quad \sum_j x_{ij} = 1, \quad x_{ij} \le y_j, \quad
    \sum_i q_i x_{ij} \le Q_j y_j, \quad \sum_{j \in C} y_j = k, \quad y_j = 1\ (j \in E),
    \quad x, y \in \{0, 1\}.

Relaxing the assignment rows with multipliers :math:`\lambda_i` splits it into one 0-1
knapsack per site (Mulvey & Beck 1984; the bound equals the column-generation bound of
Ceselli & Righini 2005):

.. math::

    L(\lambda) = \sum_i \lambda_i + \sum_{j \in E} z_j + \min_{S \subseteq C, |S| = k}
    \sum_{j \in S} z_j, \qquad
    z_j = \min\Big\{\sum_i (c_{ij} - \lambda_i) x_i : \sum_i q_i x_i \le Q_j,\ x \in \{0,1\}^n
    \Big\}.

Each knapsack is solved exactly by dynamic programming over integer loads
:math:`\lfloor q_i / s \rfloor` and capacity :math:`\lfloor Q_j / s \rfloor` (``s = 1`` for
integer loads and moderate capacities; a larger ``s`` relaxes the knapsack, so the bound stays
valid). Subgradient ascent with Polyak steps maximises :math:`L`.

Reduction, with :math:`L` at the best multipliers, :math:`S^*` the relaxed choice and ``UB``
the incumbent: closing or opening a candidate changes :math:`L` as in the uncapacitated case
(see :mod:`._lagrange`); forcing :math:`x_{ij} = 1` gives
:math:`z_j^{(i)} \ge c_{ij} - \lambda_i - P_j(Q_j - q_i)` with :math:`P_j(c)` the knapsack's
best profit at capacity ``c``, hence :math:`L(x_{ij}=1) \ge L - z_j + z_j^{(i)}` for
:math:`j \in E \cup S^*` and :math:`L - \max_{S^*} z + z_j^{(i)}` otherwise. A pair (site)
whose bound shows no solution better than ``UB`` can use it is removed (with integer costs:
better = at most ``UB - 1``).

This module holds the pieces (knapsacks, relaxation, subgradient, reduction tests, primal
heuristics); :mod:`._cpmpsolve` puts them together with, last, HiGHS on the reduced MILP.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError, SolverError

from ._assign import add_assignment
from ._gapheur import heuristic_assign
from ._highs import Milp
from .heuristic import median_heuristic

log = logging.getLogger(__name__)

LagHeuristic = Callable[[npt.NDArray[np.intp], float], float]
"""The Lagrangian heuristic: ``(chosen candidates, incumbent value) -> new incumbent value``."""

NEAR = 5
"""Pairs per demand in the restricted MILP of the primal heuristic."""

KEEP_MULTIPLIERS = 15
"""Multiplier vectors whose reduction tests are combined."""

MAX_CELLS = 4000
"""Largest knapsack capacity (in scaled load units) the dynamic programme uses."""


@dataclass
class CpmpData:
    """A single-source capacitated p-median on local columns ``0..m-1``."""

    cost: npt.NDArray[np.float64]  # (n, m) weighted costs, inf = not allowed
    load: npt.NDArray[np.float64]  # (n,)
    caps: npt.NDArray[np.float64]  # (m,), inf = uncapacitated
    existing: npt.NDArray[np.intp]  # local columns open anyway
    candidates: npt.NDArray[np.intp]  # local columns that may open
    k: int
    integral: bool

    def room(self) -> npt.NDArray[np.float64]:
        """Each column's capacity, at most the whole load (finite where ``caps`` is not)."""
        return np.minimum(self.caps, float(self.load.sum()))

    def scaled(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Integer knapsack loads and capacities (a relaxation when scaled or fractional)."""
        cap = self.room()
        s = max(1.0, float(cap.max(initial=0.0)) / MAX_CELLS)
        wt = np.floor(self.load / s).astype(np.int64)
        cp = np.floor(cap / s + 1e-9).astype(np.int64)
        return wt, cp

    def value(self, assign: npt.NDArray[np.intp]) -> float:
        """Objective of an assignment (``assign[i]`` = local column)."""
        return float(self.cost[np.arange(assign.size), assign].sum())


@dataclass(frozen=True)
class SpSettings:
    """Deterministic effort of the set-partitioning proof (:mod:`._cpmpsp`)."""

    rounds: int = 30  # rounds of subset-row cuts
    cuts_per_round: int = 30
    columns: int = 150_000  # most enumerated columns before giving up
    steps: int = 40_000_000  # most search steps of pricing and enumeration before giving up
    nodes: int = 50_000  # HiGHS nodes per set-partitioning MILP
    # used only when the Lagrangian root leaves a gap of at least this share of the incumbent:
    # below it the reduction leaves HiGHS a small compact model (Huayuan: 0.2 %, 1.4 % of the
    # pairs kept; pmedcap1_08: 6 %, 62 %)
    min_gap: float = 0.005


@dataclass
class CpmpOutcome:
    """Best assignment found, its value, the proven lower bound and whether it is optimal."""

    assign: npt.NDArray[np.intp] | None
    open_sites: npt.NDArray[np.intp] | None
    value: float
    bound: float
    proven: bool
    pairs_kept: int
    lagrangian_bound: float


def knapsacks(
    profit: npt.NDArray[np.float64],
    wt: npt.NDArray[np.int64],
    cap: npt.NDArray[np.int64],
    *,
    choose: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
    r"""0-1 knapsacks, one per column: :math:`P_j(c) = \max \{\sum_i p_{ij} x_i :
    \sum_i w_i x_i \le c\}` for every ``c <= cap_j``.

    Returns ``P`` as an ``(m, C + 1)`` table (``C = max cap``) and, with ``choose``, the
    ``(n, m)`` optimal item sets at ``c = cap_j``. Items with profit <= 0 are never taken.
    """
    n, m = profit.shape
    big = int(cap.max(initial=0))
    dp = np.zeros((m, big + 1))
    positive = profit > 0
    items = np.flatnonzero(positive.any(axis=1) & (wt <= big))
    keep = np.zeros((items.size, m, big + 1), dtype=bool) if choose else None
    for t, i in enumerate(items):
        w = int(wt[i])
        rows = np.flatnonzero(positive[i])
        every = rows.size == m
        sub = dp if every else dp[rows]
        cand = sub[:, : big + 1 - w] + profit[i, rows, None]
        if keep is not None:
            better = cand > sub[:, w:]
            keep[t, rows, w:] = better
        np.maximum(sub[:, w:], cand, out=sub[:, w:])
        if not every:
            dp[rows] = sub
    if keep is None:
        return dp, None
    x = np.zeros((n, m), dtype=bool)
    c = cap.astype(np.int64).copy()
    cols = np.arange(m)
    for t in range(items.size - 1, -1, -1):
        take = keep[t, cols, c]
        x[items[t]] = take
        c -= take * wt[items[t]]
    return dp, x


def knapsack_at_capacity(
    profit: npt.NDArray[np.float64],
    wt: npt.NDArray[np.int64],
    cap: npt.NDArray[np.int64],
    *,
    choose: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
    r""":math:`P_j(\mathrm{cap}_j)` of :func:`knapsacks` for every column (and, with
    ``choose``, the optimal item sets), without the dynamic programme where it is not needed:
    a column whose items of positive profit fit together takes them all. Only the other
    columns go through :func:`knapsacks`. Same values as ``knapsacks(...)[0][j, cap[j]]``.
    """
    take = (profit > 0) & (wt[:, None] <= cap[None, :])
    easy = np.where(take, wt[:, None], 0).sum(axis=0) <= cap
    val = np.where(take, profit, 0.0).sum(axis=0)
    x = take.copy() if choose else None
    hard = np.flatnonzero(~easy)
    if hard.size:
        dp, xh = knapsacks(profit[:, hard], wt, cap[hard], choose=choose)
        val[hard] = dp[np.arange(hard.size), cap[hard]]
        if x is not None:
            assert xh is not None
            x[:, hard] = xh
    return val, x


@dataclass
class Relaxed:
    """The Lagrangian subproblem solved at some multipliers."""

    value: float  # L(lambda)
    z: npt.NDArray[np.float64]  # knapsack value of every column
    sel: npt.NDArray[np.intp]  # the k candidates chosen
    g: npt.NDArray[np.float64]  # subgradient: 1 - times each demand is served
    assign: npt.NDArray[np.intp]  # column serving each demand (-1: none or several)
    partition: bool  # every demand served exactly once within the real capacities


def relaxed(data: CpmpData, lam: npt.NDArray[np.float64]) -> Relaxed:
    """Solve the Lagrangian subproblem at ``lam``."""
    wt, cp = data.scaled()
    profit = np.where(np.isfinite(data.cost), lam[:, None] - data.cost, 0.0)
    best, _ = knapsack_at_capacity(profit, wt, cp)
    z = -best
    zc = z[data.candidates]
    sel = data.candidates[np.argsort(zc, kind="stable")[: data.k]]
    opened = np.concatenate([data.existing, sel])
    _, x = knapsack_at_capacity(profit[:, opened], wt, cp[opened], choose=True)
    assert x is not None
    val = float(lam.sum() + z[opened].sum())
    times = x.sum(axis=1)
    assign = np.where(times == 1, opened[np.argmax(x, axis=1)], -1).astype(np.intp)
    partition = bool((times == 1).all())
    if partition:
        used = np.bincount(assign, weights=data.load, minlength=cp.size)
        partition = bool((used <= data.caps + 1e-9).all())
    return Relaxed(val, z, sel, 1.0 - times, assign, partition)


def subgradient(
    data: CpmpData,
    upper: float,
    lam: npt.NDArray[np.float64],
    *,
    iterations: int,
    on_choice: LagHeuristic | None = None,
    theta: float = 2.0,
) -> tuple[float, list[npt.NDArray[np.float64]], float]:
    """Maximise :math:`L(\\lambda)` by subgradient ascent with Polyak steps.

    ``on_choice(sites, upper)`` (the Lagrangian heuristic) may return a better ``upper``.
    Returns the best bound, the ``KEEP_MULTIPLIERS`` best multiplier vectors (best first; each
    gives its own valid reduction tests) and the (possibly improved) incumbent value.
    """
    best, best_lam, stall = -np.inf, lam.copy(), 0
    seen: set[tuple[int, ...]] = set()
    good: list[tuple[float, npt.NDArray[np.float64]]] = []
    for it in range(iterations):
        r = relaxed(data, lam)
        val, sel, g = r.value, r.sel, r.g
        good.append((val, lam))
        if val > best + 1e-9 * max(1.0, abs(val)):
            stall = 0 if val > best + 1e-4 * max(1.0, abs(upper - best)) else stall + 1
            best, best_lam = val, lam.copy()
        else:
            stall += 1
        if stall >= 20:
            theta, stall = theta / 2, 0
        key = tuple(sorted(sel.tolist()))
        if on_choice is not None and it % 5 == 0 and key not in seen and len(seen) < 60:
            seen.add(key)
            upper = min(upper, on_choice(sel, upper))
        if _closed(best, upper, data.integral) or theta < 2e-3:
            break
        norm = float(g @ g)
        if norm == 0:
            break
        target = upper if np.isfinite(upper) else val + 0.1 * abs(val) + 1.0
        lam = lam + theta * max(target - val, 1e-6 * max(1.0, abs(target))) / norm * g
    log.debug("capacitated p-median: Lagrangian bound %.6g, incumbent %g (%d it)", best, upper, it)
    good.sort(key=lambda t: -t[0])
    return best, [best_lam, *(lm for _v, lm in good[1:KEEP_MULTIPLIERS])], upper


def _slack(upper: float, integral: bool) -> float:
    return 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(upper))


def improves(value: float, upper: float) -> bool:
    """``value`` beats the incumbent value ``upper`` (by more than rounding; anything finite
    beats ``inf``)."""
    return not math.isfinite(upper) or value < upper - 1e-9 * max(1.0, abs(upper))


def _closed(bound: float, upper: float, integral: bool) -> bool:
    """True when ``bound`` proves ``upper`` optimal."""
    if not np.isfinite(upper):
        return False
    b = math.ceil(bound - 1e-6) if integral and np.isfinite(bound) else bound
    return b >= upper - 1e-9 * max(1.0, abs(upper))


def site_tests(
    data: CpmpData, at: Relaxed, upper: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Sites that no solution better than ``upper`` avoids or uses: ``(closed, opened)``."""
    slack = _slack(upper, data.integral)
    val, z, sel = at.value, at.z, at.sel
    m = z.size
    zc = np.sort(z[data.candidates])
    kth = float(zc[data.k - 1]) if data.k else np.inf
    nxt = float(zc[data.k]) if data.k < zc.size else np.inf
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    if data.k:
        closed[data.candidates] = val - kth + z[data.candidates] > upper - slack
        closed[sel] = False
    opened[sel] = val - z[sel] + nxt > upper - slack
    return closed, opened


def reduce(
    data: CpmpData, lam: npt.NDArray[np.float64], upper: float
) -> tuple[float, npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Reduced-cost tests at ``lam``: ``(bound, pairs kept, sites closed, sites opened)``."""
    wt, cp = data.scaled()
    at = relaxed(data, lam)
    val, z = at.value, at.z
    closed, opened = site_tests(data, at, upper)
    profit = np.where(np.isfinite(data.cost), lam[:, None] - data.cost, 0.0)
    dp, _ = knapsacks(profit, wt, cp)
    m = cp.size
    in_s = np.zeros(m, dtype=bool)
    in_s[data.existing] = True
    in_s[at.sel] = True
    kth = float(np.sort(z[data.candidates])[data.k - 1]) if data.k else np.inf
    rest = cp[None, :] - wt[:, None]
    fits = rest >= 0
    forced = data.cost - lam[:, None] - dp[np.arange(m)[None, :], np.maximum(rest, 0)]
    forced = np.maximum(forced, z[None, :])
    swap = np.where(in_s, z, kth)[None, :]
    keep = fits & np.isfinite(data.cost) & ~closed[None, :]
    keep &= val - swap + forced <= upper - _slack(upper, data.integral)
    return val, keep, closed, opened


def assignment_milp(
    data: CpmpData,
    keep: npt.NDArray[np.bool_],
    ylo: npt.NDArray[np.float64],
    yhi: npt.NDArray[np.float64],
) -> tuple[Milp, npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The single-source MILP on the pairs ``keep``; returns it, ``y``, ``x`` and the pair rows."""
    m = Milp("min")
    ii, jj = np.nonzero(keep)
    y, x = add_assignment(
        m,
        np.zeros(keep.shape[1]),
        ylo,
        yhi,
        ii,
        jj,
        data.cost[ii, jj],
        demands=np.arange(keep.shape[0]),
        load=data.load,
        caps=data.caps,
        assign_lo=1.0,
        x_integer=True,
    )
    m.add_row(data.k, data.k, y[data.candidates], np.ones(data.candidates.size))
    return m, y, x, ii


def pairs_out(
    sol_x: npt.NDArray[np.float64], x: npt.NDArray[np.intp], keep: npt.NDArray[np.bool_]
) -> npt.NDArray[np.intp]:
    """Each demand's site from a 0/1 pair vector."""
    ii, jj = np.nonzero(keep)
    on = sol_x[x] > 0.5
    assign = np.full(keep.shape[0], -1, dtype=np.intp)
    assign[ii[on]] = jj[on]
    return assign


Incumbent = tuple[float, npt.NDArray[np.intp], npt.NDArray[np.intp]]
"""``(value, assignment, open sites)``."""


def assign_to(
    data: CpmpData, sites: npt.NDArray[np.intp], node_limit: int | None = None, seed: int = 0
) -> Incumbent | None:
    """Best single-source assignment to the open ``sites`` (a generalised assignment problem
    solved by HiGHS, exactly unless ``node_limit`` stops it); ``None`` when none is found."""
    m_cols = data.cost.shape[1]
    is_open = np.zeros(m_cols, dtype=bool)
    is_open[sites] = True
    keep = np.isfinite(data.cost) & is_open[None, :] & (data.load[:, None] <= data.caps[None, :])
    lo = is_open.astype(float)
    k_new = int(np.isin(data.candidates, sites).sum())
    m, _y, x, _ii = assignment_milp(
        CpmpData(data.cost, data.load, data.caps, data.existing, data.candidates, k_new, False),
        keep,
        lo,
        lo,
    )
    try:
        sol = m.solve(
            node_limit=node_limit, integral_objective=data.integral, seed=seed, label="assignment"
        )
    except (InfeasibleError, SolverError):
        return None
    assign = pairs_out(sol.x, x, keep)
    return data.value(assign), assign, np.sort(sites)


def quick_assign(data: CpmpData, sites: npt.NDArray[np.intp]) -> Incumbent | None:
    """A good (not necessarily best) assignment to the open ``sites`` by
    :func:`._gapheur.heuristic_assign`; ``None`` when it finds none."""
    sites = np.sort(np.asarray(sites, dtype=np.intp))
    got = heuristic_assign(data.cost[:, sites], data.load, data.caps[sites])
    if got is None:
        return None
    assign = sites[got]
    return data.value(assign), assign, sites


def start_incumbent(data: CpmpData, node_limit: int, seed: int = 0) -> Incumbent | None:
    """Incumbent: the uncapacitated p-median heuristic's sites, assigned within capacity."""
    ex, cand = data.existing, data.candidates
    sites = np.array(
        [*ex.tolist(), *median_heuristic(data.cost, np.ones(len(data.load)), ex, cand, data.k)]
    )
    sites = sites.astype(np.intp)
    return quick_assign(data, sites) or assign_to(data, sites, node_limit, seed)


def restricted_milp(
    data: CpmpData,
    lam: npt.NDArray[np.float64],
    inc: Incumbent | None,
    node_limit: int,
    seed: int = 0,
) -> Incumbent | None:
    """Primal heuristic: the MILP on each demand's ``NEAR`` pairs of smallest cost among the
    sites the Lagrangian subproblem likes (plus the incumbent's), within ``node_limit``."""
    z = relaxed(data, lam).z
    n_pick = min(data.candidates.size, 2 * data.k)
    liked = np.concatenate(
        [data.existing, data.candidates[np.argsort(z[data.candidates])[:n_pick]]]
    )
    sub = np.full_like(data.cost, np.inf)
    sub[:, liked] = data.cost[:, liked]
    near = min(NEAR, liked.size)
    keep = sub <= np.sort(sub, axis=1)[:, near - 1 : near]
    keep &= np.isfinite(sub)
    if inc is not None:
        keep[np.arange(inc[1].size), inc[1]] = True
    yhi = keep.any(axis=0).astype(float)
    if inc is not None:
        yhi[inc[2]] = 1.0
    ylo = np.zeros(yhi.size)
    ylo[data.existing] = 1.0
    m, y, x, _ii = assignment_milp(data, keep, ylo, yhi)
    start = None
    if inc is not None:
        start = np.zeros(m.n_col)
        start[y[inc[2]]] = 1.0
        pair_id = np.full(keep.shape, -1)
        pair_id[keep] = x
        start[pair_id[np.arange(inc[1].size), inc[1]]] = 1.0
    try:
        sol = m.solve(
            node_limit=node_limit,
            start=start,
            integral_objective=data.integral,
            seed=seed,
            heuristics=False,
        )
    except (InfeasibleError, SolverError):
        return inc
    if inc is not None and not improves(sol.objective, inc[0]):
        return inc
    log.info("capacitated p-median: restricted MILP incumbent %g", sol.objective)
    return sol.objective, pairs_out(sol.x, x, keep), np.flatnonzero(sol.x[y] > 0.5)
