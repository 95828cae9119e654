"""How much 3-row subset-row cuts close the capacitated p-median's root gap (a measurement for
a future branch and price, not a solver).

Usage: ``python bench/cpmp_subset_row.py [--rounds R] [--time-limit S] FILE...``

The set-partitioning master (Ceselli & Righini 2005) has one column per site ``j`` and set
``S`` of customers that fit its capacity, cost :math:`c_{jS} = \\sum_{i \\in S} c_{ij}`:

.. math::

    \\min \\sum c_{jS} \\lambda_{jS}, \\quad \\sum_{S \\ni i} \\lambda_{jS} = 1\\ (i), \\quad
    \\sum_S \\lambda_{jS} \\le 1\\ (j), \\quad \\sum \\lambda_{jS} = p, \\quad
    \\sum_{jS} \\lfloor |S \\cap T| / 2 \\rfloor \\lambda_{jS} \\le 1\\ (T \\in \\mathcal{T}).

The last rows are the subset-row cuts of Jepsen et al. (2008) on customer triples ``T``: no
two columns of an integer solution share a customer, so at most one of them holds two of ``T``.
They cut off exactly what keeps the knapsack Lagrangian bound low on pmedcap1_08 and _20:
sites opened by halves, each half serving two customers of a triangle.

Column generation prices one 0-1 knapsack per site (:func:`~doorstep.analysis.siting._cpmp.
knapsacks`); with cuts, a column holding two of ``T`` also pays the cut's dual, so a knapsack
column whose true reduced cost is not negative is checked by an exact pricing MILP (HiGHS) with
one variable per active cut. Every printed bound is the master LP's optimum after pricing found
no negative column, hence a valid lower bound. Each round adds up to ``--cuts`` most violated
triples (sharing at most one customer with each other) and re-prices.

Prints one JSON line per instance: ``column_generation`` (the bound without cuts; equal to the
knapsack Lagrangian bound's maximum), ``rounds`` (the bound after each round of cuts), ``cuts``,
``columns``, ``seconds`` and, when the optimum is known, each bound's gap in per cent and
``valid`` (every bound at most the optimum).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpmp_bounds import _data

from doorstep.analysis.siting._cpmp import CpmpData, knapsacks, relaxed, subgradient
from doorstep.analysis.siting._highs import new_highs

INF = highspy.kHighsInf
EPS = 1e-6
ARTIFICIAL = 1e5


@dataclass
class Master:
    """The master LP in HiGHS: rows ``0..n-1`` cover, ``n..2n-1`` sites, ``2n`` cardinality,
    then one row per cut."""

    data: CpmpData
    h: highspy.Highs = field(init=False)
    cols: list[tuple[int, npt.NDArray[np.bool_]]] = field(default_factory=list)
    triples: list[tuple[int, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, m = self.data.cost.shape
        h = new_highs()
        empty_i, empty_v = np.zeros(0, np.int32), np.zeros(0)
        h.addRows(n, np.ones(n), np.ones(n), 0, np.zeros(n, np.int32), empty_i, empty_v)
        h.addRows(m, np.full(m, -INF), np.ones(m), 0, np.zeros(m, np.int32), empty_i, empty_v)
        h.addRow(self.data.k, self.data.k, 0, empty_i, empty_v)
        for i in range(n):  # artificial columns keep the first LPs feasible
            h.addCol(ARTIFICIAL, 0.0, INF, 1, np.array([i], np.int32), np.ones(1))
        self.h = h

    @property
    def n(self) -> int:
        return int(self.data.cost.shape[0])

    def add(self, j: int, s: npt.NDArray[np.bool_]) -> None:
        n, m = self.data.cost.shape
        rows = [*np.flatnonzero(s).tolist(), n + j, n + m]
        rows += [n + m + 1 + t for t, tri in enumerate(self.triples) if s[list(tri)].sum() >= 2]
        cost = float(self.data.cost[s, j].sum())
        self.h.addCol(cost, 0.0, INF, len(rows), np.array(rows, np.int32), np.ones(len(rows)))
        self.cols.append((j, s.copy()))

    def cut(self, tri: tuple[int, int, int]) -> None:
        n = self.n
        self.triples.append(tri)
        at = [n + k for k, (_j, s) in enumerate(self.cols) if s[list(tri)].sum() >= 2]
        self.h.addRow(-INF, 1.0, len(at), np.array(at, np.int32), np.ones(len(at)))

    def solve(self) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """LP value, column values (artificials first) and row duals."""
        self.h.run()
        sol = self.h.getSolution()
        value = float(self.h.getInfo().objective_function_value)
        return value, np.asarray(sol.col_value), np.asarray(sol.row_dual)


def _exact_column(
    data: CpmpData,
    j: int,
    pi: npt.NDArray[np.float64],
    cuts: list[tuple[tuple[int, int, int], float]],
) -> tuple[float, npt.NDArray[np.bool_]]:
    """min over feasible ``S`` of ``c_jS - pi(S) + sum of -dual over cuts holding two of T``."""
    n = data.cost.shape[0]
    h = new_highs()
    cost = np.where(np.isfinite(data.cost[:, j]), data.cost[:, j], 0.0) - pi
    ub = (np.isfinite(data.cost[:, j]) & (data.load <= data.caps[j])).astype(float)
    h.addCols(
        n, cost, np.zeros(n), ub, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    )
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    h.addRow(-INF, float(data.caps[j]), n, np.arange(n, dtype=np.int32), data.load.astype(float))
    for tri, dual in cuts:
        w = int(h.getNumCol())
        h.addCol(-dual, 0.0, 1.0, 0, np.zeros(0, np.int32), np.zeros(0))
        for a, b in itertools.combinations(tri, 2):
            h.addRow(-INF, 1.0, 3, np.array([a, b, w], np.int32), np.array([1.0, 1.0, -1.0]))
    h.run()
    x = np.asarray(h.getSolution().col_value)[:n] > 0.5
    return float(h.getInfo().objective_function_value), x


def price(
    master: Master, duals: npt.NDArray[np.float64]
) -> list[tuple[int, npt.NDArray[np.bool_]]]:
    """Columns of negative reduced cost (exact: none returned means none exists)."""
    data = master.data
    n, m = data.cost.shape
    pi, mu, sigma = duals[:n], duals[n : n + m], float(duals[n + m])
    sr = duals[n + m + 1 :]
    active = [(tri, float(d)) for tri, d in zip(master.triples, sr, strict=True) if d < -1e-9]
    wt, cp = data.scaled()
    profit = np.where(np.isfinite(data.cost), pi[:, None] - data.cost, 0.0)
    dp, x = knapsacks(profit, wt, cp, choose=True)
    assert x is not None
    best = dp[np.arange(m), cp]
    out = []
    usable = set(data.candidates.tolist()) | set(data.existing.tolist())
    for j in range(m):
        if j not in usable:
            continue
        if -best[j] - mu[j] - sigma >= -EPS:
            continue  # the knapsack (cuts ignored: a lower bound) finds no negative column
        s = x[:, j]
        fits = float(data.load[s].sum()) <= data.caps[j] + 1e-9  # scaled loads may not
        penalty = sum(-d for tri, d in active if s[list(tri)].sum() >= 2)
        if fits and float(data.cost[s, j].sum() - pi[s].sum()) + penalty - mu[j] - sigma < -EPS:
            out.append((j, s))
            continue
        value, s = _exact_column(data, j, pi, active)
        if value - mu[j] - sigma < -EPS:
            out.append((j, s))
    return out


def column_generation(master: Master) -> tuple[float, npt.NDArray[np.float64]]:
    """Price until no negative column: the master LP's optimum and its column values."""
    while True:
        value, x, duals = master.solve()
        new = price(master, duals)
        if not new:
            return value, x
        for j, s in new:
            master.add(j, s)


def violated(master: Master, x: npt.NDArray[np.float64], limit: int) -> list[tuple[int, int, int]]:
    """Up to ``limit`` most violated subset-row triples, sharing at most one customer."""
    n = master.n
    vals = x[n:]
    pos = np.flatnonzero(vals > 1e-7)
    if pos.size == 0:
        return []
    a = np.array([master.cols[k][1] for k in pos], dtype=float)
    w = vals[pos]
    pair = (a.T * w) @ a
    found = []
    touched = np.flatnonzero(a.sum(axis=0) > 0).tolist()
    seen = {tuple(t) for t in master.triples}
    for i, j, k in itertools.combinations(touched, 3):
        two = pair[i, j] + pair[j, k] + pair[i, k]
        if two <= 1 + 1e-6 or (i, j, k) in seen:
            continue
        lhs = two - 2.0 * float((w * a[:, i] * a[:, j] * a[:, k]).sum())
        if lhs > 1 + 1e-3:
            found.append((lhs, (i, j, k)))
    found.sort(reverse=True)
    chosen: list[tuple[int, int, int]] = []
    used: set[int] = set()
    for _v, tri in found:
        if len(used & set(tri)) < 2:
            chosen.append(tri)
            used |= set(tri)
        if len(chosen) == limit:
            break
    return chosen


def measure(data: CpmpData, rounds: int, per_round: int, time_limit: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    master = Master(data)
    n = data.cost.shape[0]
    lam0 = np.sort(data.cost, axis=1)[:, min(1, data.cost.shape[1] - 1)]
    _b, lams, _u = subgradient(data, np.inf, lam0, iterations=300)
    for lam in lams[:5]:  # warm start: each site's knapsack at good multipliers
        wt, cp = data.scaled()
        profit = np.where(np.isfinite(data.cost), lam[:, None] - data.cost, 0.0)
        _dp, take = knapsacks(profit, wt, cp, choose=True)
        assert take is not None
        fits = data.load @ take <= data.caps + 1e-9
        for j in np.unique(np.concatenate([relaxed(data, lam).sel, data.existing])).tolist():
            if take[:, j].any() and fits[j]:
                master.add(int(j), take[:, j])
    for i in range(n):
        s = np.zeros(n, dtype=bool)
        s[i] = True
        if np.isfinite(data.cost[i, i]):
            master.add(i, s)
    cg, x = column_generation(master)
    bounds = []
    for _r in range(rounds):
        if time.perf_counter() - t0 > time_limit:
            break
        tris = violated(master, x, per_round)
        if not tris:
            break
        for tri in tris:
            master.cut(tri)
        value, x = column_generation(master)
        bounds.append(round(value, 3))
    return {
        "column_generation": round(cg, 3),
        "rounds": bounds,
        "cuts": len(master.triples),
        "columns": len(master.cols),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=15, help="rounds of cuts (default 15)")
    ap.add_argument("--cuts", type=int, default=30, help="cuts added per round (default 30)")
    ap.add_argument("--time-limit", type=float, default=600.0, help="no new round after S seconds")
    args = ap.parse_args(argv)
    for path in args.files:
        if path.suffix == ".csv":
            continue
        name, data, known = _data(path)
        out: dict[str, Any] = {"instance": name, "published": known}
        out.update(measure(data, args.rounds, args.cuts, args.time_limit))
        if known:
            last = out["rounds"][-1] if out["rounds"] else out["column_generation"]
            out["column_generation_gap_pct"] = round(
                100 * (known - out["column_generation"]) / known, 2
            )
            out["subset_row_gap_pct"] = round(100 * (known - last) / known, 2)
            out["valid"] = all(
                b <= known + 1e-6 for b in [out["column_generation"], *out["rounds"]]
            )
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
