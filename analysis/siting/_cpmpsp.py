r"""The set-partitioning bound of the capacitated p-median with subset-row cuts, and the proof by
reduced-cost column enumeration.

The master (Ceselli & Righini 2005) has one column per site ``j`` and set ``S`` of customers
within its capacity, cost :math:`c_{jS} = \sum_{i \in S} c_{ij}`:

.. math::

    \min \sum c_{jS} \lambda_{jS}, \quad \sum_{S \ni i} \lambda_{jS} = 1\ (\pi_i), \quad
    \sum_S \lambda_{jS} \le 1\ (\mu_j), \quad \sum_{j \in C,\, S} \lambda_{jS} \le k\ (\sigma),
    \quad \sum_{jS} [|S \cap T| \ge 2]\, \lambda_{jS} \le 1\ (\nu_T,\ T \in \mathcal{T}).

(A site open anyway, or a candidate opened without customers, costs nothing, so ``<= k`` and
non-empty columns lose no solution.) The last rows are the 3-row subset-row cuts of Jepsen et
al. (2008): no two columns of an integer solution share a customer, so at most one holds two of
a triple ``T``. They remove what keeps the knapsack Lagrangian bound low on pmedcap1_08 and _20:
sites opened by halves, each half serving two customers of a triangle.

Column generation prices, per site, :math:`\min_S \bar c_{jS} = c_{jS} - \pi(S) - \mu_j -
\sigma + \sum_{T : |S \cap T| \ge 2} (-\nu_T)` exactly (:mod:`._cpmpkern`). When no column is
negative the LP value ``LB`` is a lower bound; rounds of the most violated triples follow.

The proof. For an integer solution of value ``v``, with the final duals,
:math:`v = LB + \sum \bar c_{jS} \lambda_{jS} + \sum_T (-\nu_T)(1 - \sum [\cdot]\lambda) +
(-\sigma)(k - \sum \lambda) + \dots`: every term is non-negative, so each of its columns has
:math:`\bar c_{jS} \le v - LB`. Enumerating every column with :math:`\bar c \le t - LB` and
solving the set-partitioning MILP on them either finds the optimum (if it is at most ``t``) or
shows that none is, so ``t`` (``t + 1`` with integer costs) becomes the bound. ``t`` grows from
``LB`` to the incumbent (one unit at a time with integer costs, else by a doubling step) as
long as the columns stay within a budget.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError

from ._cpmp import (
    CpmpData,
    CpmpOutcome,
    Incumbent,
    SpSettings,
    _closed,
    knapsack_at_capacity,
)
from ._cpmpkern import csr, enumerate_site, price_sites, triple_lhs
from ._highs import INF, HighsSolveError, Milp, NoSolutionError, csr_from_lists, new_highs

log = logging.getLogger(__name__)

EPS = 1e-7
"""Smallest reduced-cost gain of a priced column (the kernels' own threshold too)."""

Column = tuple[int, npt.NDArray[np.bool_]]
"""``(site, customer set)``."""


class _GiveUp(Exception):
    """The search took more than :attr:`SpSettings.steps`, or HiGHS did not solve the master
    LP: no further bound can be trusted, the caller falls back to HiGHS."""


@dataclass
class Master:
    """The master LP in HiGHS: rows ``0..n-1`` cover, ``n..n+m-1`` sites, ``n+m`` the
    cardinality, then one row per cut; columns: ``n`` artificials, then :attr:`sets`.

    Each artificial costs :attr:`artificial`, more than any assignment (one plus the sum of
    every customer's dearest allowed cost): it keeps the first LPs feasible and relaxes the
    master, so every bound stays valid."""

    data: CpmpData
    h: highspy.Highs = field(init=False)
    candidate: npt.NDArray[np.bool_] = field(init=False)
    sites: list[int] = field(default_factory=list)
    sets: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    triples: list[tuple[int, int, int]] = field(default_factory=list)
    seen: set[tuple[int, bytes]] = field(default_factory=set)
    steps_left: int = 0
    artificial: float = field(init=False)
    tri: npt.NDArray[np.intp] = field(init=False)

    def __post_init__(self) -> None:
        d = self.data
        n, m = d.cost.shape
        fin = np.where(np.isfinite(d.cost), np.abs(d.cost), 0.0)
        self.artificial = 1.0 + float(fin.max(axis=1, initial=0.0).sum())
        self.tri = np.zeros((0, 3), dtype=np.intp)
        h = new_highs()
        ei, ev = np.zeros(0, np.int32), np.zeros(0)
        h.addRows(n, np.ones(n), np.ones(n), 0, np.zeros(n, np.int32), ei, ev)
        h.addRows(m, np.full(m, -INF), np.ones(m), 0, np.zeros(m, np.int32), ei, ev)
        h.addRow(-INF, float(d.k), 0, ei, ev)
        for i in range(n):
            h.addCol(self.artificial, 0.0, INF, 1, np.array([i], np.int32), np.ones(1))
        self.h = h
        self.candidate = np.zeros(m, dtype=bool)
        self.candidate[d.candidates] = True

    @property
    def n(self) -> int:
        return int(self.data.cost.shape[0])

    def add(self, j: int, s: npt.NDArray[np.bool_]) -> bool:
        """Add column ``(j, s)`` unless it is empty or already there."""
        key = (j, np.packbits(s).tobytes())
        if key in self.seen or not s.any():
            return False
        self.seen.add(key)
        n, m = self.data.cost.shape
        rows = [*np.flatnonzero(s).tolist(), n + j]
        if self.candidate[j]:
            rows.append(n + m)
        rows += (n + m + 1 + np.flatnonzero(s[self.tri].sum(axis=1) >= 2)).tolist()
        cost = float(self.data.cost[s, j].sum())
        self.h.addCol(cost, 0.0, INF, len(rows), np.array(rows, np.int32), np.ones(len(rows)))
        self.sites.append(j)
        self.sets.append(s.copy())
        return True

    def cut(self, tris: list[tuple[int, int, int]]) -> None:
        """Add subset-row cuts on ``tris``."""
        if not tris:
            return
        a = np.array(self.sets, dtype=bool)
        self.tri = np.concatenate([self.tri, np.array(tris, dtype=np.intp)])
        for tri in tris:
            self.triples.append(tri)
            at = self.n + np.flatnonzero(a[:, list(tri)].sum(axis=1) >= 2)
            self.h.addRow(-INF, 1.0, at.size, at.astype(np.int32), np.ones(at.size))

    def solve(self) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """LP value, column values (artificials first) and row duals."""
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise _GiveUp(f"master LP: {self.h.modelStatusToString(self.h.getModelStatus())}")
        sol = self.h.getSolution()
        value = float(self.h.getInfo().objective_function_value)
        return value, np.asarray(sol.col_value), np.asarray(sol.row_dual)


def _usable(data: CpmpData) -> npt.NDArray[np.intp]:
    return np.unique(np.concatenate([data.candidates, data.existing])).astype(np.intp)


@dataclass
class Pricing:
    """Reduced-cost data at some duals: profits :math:`\\pi_i - c_{ij}` (``-inf`` where not
    allowed), each site's base :math:`-\\mu_j - \\sigma` (a column is negative when its
    penalised profit exceeds it) and the cut penalties :math:`-\\nu_T` by customer (CSR)."""

    profit: npt.NDArray[np.float64]
    base: npt.NDArray[np.float64]
    ptr: npt.NDArray[np.int64]
    idx: npt.NDArray[np.int64]
    penalty: npt.NDArray[np.float64]

    @classmethod
    def at(cls, master: Master, duals: npt.NDArray[np.float64]) -> Pricing:
        d = master.data
        n, m = d.cost.shape
        pi, mu, sigma = duals[:n], duals[n : n + m], float(duals[n + m])
        profit = np.where(np.isfinite(d.cost), pi[:, None] - d.cost, -np.inf)
        base = -mu - np.where(master.candidate, sigma, 0.0)
        nu = -duals[n + m + 1 :]
        ptr, idx = csr(master.triples, n)
        return cls(profit, base, ptr, idx, np.where(nu > 1e-9, nu, 0.0))


def column_generation(
    master: Master,
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Price until no column is negative: the LP optimum (less the pricing and LP
    tolerances, so that it is a valid bound), column values and duals."""
    d = master.data
    sites, caps = _usable(d), d.room()
    while True:
        lp, x, duals = master.solve()
        pr = Pricing.at(master, duals)
        gains, sets, steps = price_sites(
            pr.profit,
            d.load,
            caps,
            sites,
            pr.base,
            pr.ptr,
            pr.idx,
            pr.penalty,
            pr.penalty.size,
            EPS,
            master.steps_left,
        )
        if steps < 0:
            raise _GiveUp("pricing search budget")
        master.steps_left -= steps
        added = 0
        for s in np.flatnonzero(gains > 0.0).tolist():
            added += master.add(int(sites[s]), sets[s])
        if added:
            continue
        # every column left gains at most EPS (or ``worst``: a column already in the master,
        # within HiGHS's dual tolerance), and an integer solution opens at most k + |E| sites
        worst = EPS + float(gains.max(initial=0.0))
        if worst > 1e-6 * max(1.0, abs(lp)):
            raise _GiveUp(f"master LP not optimal: a column of the master gains {worst:g}")
        value = lp - (worst + 1e-7) * (d.k + d.existing.size + 1) - 1e-9 * abs(lp)
        return value, x, duals


def separate(master: Master, x: npt.NDArray[np.float64], limit: int) -> list[tuple[int, int, int]]:
    """Up to ``limit`` most violated subset-row triples, no two sharing two customers."""
    vals = x[master.n :]
    pos = np.flatnonzero(vals > 1e-7)
    if pos.size == 0:
        return []
    a = np.array([master.sets[k] for k in pos], dtype=bool)
    w = vals[pos]
    af = a.astype(float)
    pair = (af.T * w) @ af
    touched = np.flatnonzero(a.any(axis=0)).astype(np.int64)
    tris, lhs = triple_lhs(a, w, pair, touched, 1.0 + 1e-3)
    seen = set(master.triples)
    chosen: list[tuple[int, int, int]] = []
    pairs: set[tuple[int, int]] = set()
    for t in np.argsort(-lhs, kind="stable").tolist():
        a_, b_, c_ = (int(v) for v in tris[t])
        tri = (a_, b_, c_)
        two = {(a_, b_), (a_, c_), (b_, c_)}
        if tri in seen or two & pairs:
            continue
        chosen.append(tri)
        pairs |= two
        if len(chosen) == limit:
            break
    return chosen


def warm_start(master: Master, lams: list[npt.NDArray[np.float64]]) -> None:
    """Each site's knapsack set at each multiplier vector, and one singleton per site."""
    d = master.data
    wt, cp = d.scaled()
    usable = _usable(d)
    for lam in lams:
        profit = np.where(np.isfinite(d.cost), lam[:, None] - d.cost, 0.0)
        _value, take = knapsack_at_capacity(profit, wt, cp, choose=True)
        assert take is not None
        fits = d.load @ take <= d.caps + 1e-9
        for j in usable.tolist():
            if fits[j]:
                master.add(j, take[:, j])
    for j in usable.tolist():
        fin = np.isfinite(d.cost[:, j]) & (d.load <= d.caps[j] + 1e-9)
        if fin.any():
            s = np.zeros(master.n, dtype=bool)
            s[int(np.argmin(np.where(fin, d.cost[:, j], np.inf)))] = True
            master.add(j, s)


@dataclass
class SpRoot:
    """The master after the cut rounds: its bound, the history and the final duals."""

    value: float
    rounds: list[float]
    master: Master
    duals: npt.NDArray[np.float64]
    exhausted: bool = False  # the search budget ran out (no enumeration can follow)


def root_bound(
    data: CpmpData,
    lams: list[npt.NDArray[np.float64]],
    upper: float,
    settings: SpSettings,
    deadline: float | None = None,
) -> SpRoot:
    """Column generation, then rounds of subset-row cuts until the bound proves ``upper``, no
    triple is violated, three rounds gain almost nothing, or ``settings.rounds`` are done."""
    master = Master(data, steps_left=settings.steps)
    warm_start(master, lams)
    value, x, duals = column_generation(master)  # _GiveUp here: no bound at all
    history = [value]
    for r in range(settings.rounds):
        if _closed(value, upper, data.integral):
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        tris = separate(master, x, settings.cuts_per_round)
        if not tris:
            break
        master.cut(tris)
        try:
            value, x, duals = column_generation(master)
        except _GiveUp:  # the last complete round's bound and duals still hold
            return SpRoot(history[-1], history, master, duals, exhausted=True)
        history.append(value)
        log.debug(
            "capacitated p-median: round %d, set-partitioning bound %.6g (%d cuts, %d columns)",
            r + 1,
            value,
            len(master.triples),
            len(master.sets),
        )
        gap = max(upper - value, 1.0) if math.isfinite(upper) else 1.0
        if len(history) > 3 and history[-1] - history[-4] < 1e-3 * gap:
            break
    return SpRoot(value, history, master, duals)


def enumerate_columns(root: SpRoot, gap: float, budget: int) -> list[Column] | None:
    """Every column of reduced cost at most ``gap`` under the root's duals (``None`` when there
    are more than ``budget``)."""
    d = root.master.data
    pr = Pricing.at(root.master, root.duals)
    caps = d.room()
    out: list[Column] = []
    for j in _usable(d).tolist():
        found, sets, steps = enumerate_site(
            pr.profit[:, j],
            d.load,
            caps[j],
            pr.base[j] - gap,
            pr.ptr,
            pr.idx,
            pr.penalty,
            pr.penalty.size,
            budget - len(out) + 1,
            root.master.steps_left,
        )
        if found == -2:
            raise _GiveUp("enumeration search budget")
        root.master.steps_left -= steps
        if found < 0 or len(out) + found > budget:
            return None
        out.extend((j, sets[t]) for t in range(found))
    return out


def solve_columns(
    data: CpmpData, cols: list[Column], time_limit: float | None, node_limit: int | None = None
) -> tuple[bool, Incumbent | None]:
    """The set-partitioning MILP on ``cols``: ``(complete, best)`` with ``best`` its optimum
    ``(value, assignment, open sites)``, or ``None`` when the columns hold no solution;
    ``complete`` is false when HiGHS stopped first (time, nodes, or its own solve error)."""
    n, m = data.cost.shape
    if not cols:
        return True, None
    sets = np.array([s for _j, s in cols], dtype=bool)
    if not sets.any(axis=0).all():
        return True, None  # a customer no column serves
    sites = np.array([j for j, _s in cols], dtype=np.intp)
    cost = np.where(sets, data.cost[:, sites].T, 0.0).sum(axis=1)
    assert np.isfinite(cost).all(), "an enumerated column holds a forbidden pair"
    milp = Milp()
    lam = milp.add_cols(cost, 0.0, 1.0, integer=True)
    cand = np.isin(sites, data.candidates)
    rows = [lam[sets[:, i]] for i in range(n)] + [lam[sites == j] for j in range(m)] + [lam[cand]]
    lo = np.concatenate([np.ones(n), np.full(m, -INF), [-INF]])
    hi = np.concatenate([np.ones(n), np.ones(m), [float(data.k)]])
    start, index = csr_from_lists([r.astype(np.int64) for r in rows])
    milp.add_rows(lo, hi, start, index, np.ones(index.size))
    sol = None
    for presolve in (True, False):
        try:
            sol = milp.solve(
                integral_objective=data.integral,
                time_limit=time_limit,
                node_limit=node_limit,
                label="capacitated p-median (set partitioning)",
                presolve=presolve,
            )
            break
        except InfeasibleError:
            return True, None
        except HighsSolveError:
            continue  # seen in HiGHS 1.16's presolve; without it the same model solves
        except NoSolutionError:
            return False, None
    if sol is None or not sol.optimal:
        return False, None
    chosen = np.flatnonzero(sol.x > 0.5)
    assign = np.full(n, -1, dtype=np.intp)
    for k in chosen.tolist():
        assign[sets[k]] = sites[k]
    used = np.unique(sites[chosen])
    spare = data.candidates[~np.isin(data.candidates, used)]
    missing = data.k - int(np.isin(used, data.candidates).sum())
    open_sites = np.union1d(np.union1d(used, data.existing), spare[: max(missing, 0)])
    return True, (float(sol.objective), assign, open_sites.astype(np.intp))


def prove(
    data: CpmpData,
    inc: Incumbent | None,
    lams: list[npt.NDArray[np.float64]],
    settings: SpSettings,
    time_limit: float | None,
    pairs_kept: int,
    lagrangian_bound: float,
) -> CpmpOutcome:
    """Root bound, then enumeration rounds (module docstring). ``data`` may be reduced: only
    solutions better than ``inc`` need to remain. The outcome is unproven when the columns
    exceed the budget or time runs out; its bound then holds for every solution."""
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    upper = math.inf if inc is None else inc[0]
    try:
        root = root_bound(data, lams, upper, settings, deadline)
    except _GiveUp as exc:
        log.info("capacitated p-median: set partitioning stopped (%s)", exc)
        return _outcome(data, inc, -math.inf, pairs_kept, lagrangian_bound)
    lb = root.value
    log.info(
        "capacitated p-median: set-partitioning bound %.6g after %d rounds (%d cuts, %d columns, "
        "%d search steps), incumbent %g",
        lb,
        len(root.rounds) - 1,
        len(root.master.triples),
        len(root.master.sets),
        settings.steps - root.master.steps_left,
        upper,
    )
    lb, inc = _enumeration_rounds(data, root, inc, settings, deadline)
    return _outcome(data, inc, lb, pairs_kept, lagrangian_bound)


def _enumeration_rounds(
    data: CpmpData,
    root: SpRoot,
    inc: Incumbent | None,
    settings: SpSettings,
    deadline: float | None,
) -> tuple[float, Incumbent | None]:
    """Raise the bound ``t`` by enumeration and set partitioning (module docstring): the new
    bound and incumbent. The step doubles after each round unless the columns would more than
    double (then it halves, down to one unit)."""
    lb = root.value
    upper = math.inf if inc is None else inc[0]
    if root.exhausted:
        return lb, inc
    tol = 1e-6 + 1e-9 * max(1.0, abs(lb))
    unit = 1.0 if data.integral else max(1e-4 * abs(lb), 1e-6)
    step, before = unit, 0
    try:
        while not _closed(lb, upper, data.integral):
            if deadline is not None and time.perf_counter() > deadline:
                break
            while True:
                if data.integral:
                    target = min(math.ceil(lb - 1e-6) + step - 1.0, upper - 1.0)
                else:
                    target = min(lb + step, upper * (1 - 1e-9))
                cols = enumerate_columns(root, target - root.value + tol, settings.columns)
                if step <= unit or (cols is not None and len(cols) <= max(2 * before, 2000)):
                    break
                step = max(unit, math.floor(step / 2) if data.integral else step / 2)
            if cols is None:
                log.info("capacitated p-median: over %d columns below %g", settings.columns, target)
                break
            left = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
            complete, got = solve_columns(data, cols, left, settings.nodes)
            if not complete:
                break
            log.info(
                "capacitated p-median: %d columns within %.4g of the bound (every solution up "
                "to %g); their best: %s",
                len(cols),
                target - root.value,
                target,
                "none" if got is None else f"{got[0]:g}",
            )
            if got is not None and (inc is None or got[0] < upper):
                inc, upper = got, got[0]
            if got is not None and got[0] <= target + tol:
                return got[0], inc
            lb = target + 1.0 if data.integral else target
            step, before = step * 2, len(cols)
    except _GiveUp as exc:
        log.info("capacitated p-median: set partitioning stopped (%s)", exc)
    return lb, inc


def _outcome(
    data: CpmpData,
    inc: Incumbent | None,
    lb: float,
    pairs_kept: int,
    lagrangian_bound: float,
) -> CpmpOutcome:
    upper = math.inf if inc is None else inc[0]
    bound = min(lb, upper)
    if inc is None:
        return CpmpOutcome(None, None, math.inf, bound, False, pairs_kept, lagrangian_bound)
    proven = _closed(bound, upper, data.integral)
    return CpmpOutcome(
        inc[1], inc[2], upper, upper if proven else bound, proven, pairs_kept, lagrangian_bound
    )
