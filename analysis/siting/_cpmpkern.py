"""Compiled kernels of the set-partitioning bound (:mod:`._cpmpsp`): per-site pricing with
subset-row penalties, reduced-cost column enumeration and subset-row separation.

Each is a depth-first branch and bound over a site's customers sorted by profit per unit of
load, bounded by the fractional knapsack of the positive profits still to come (penalties only
grow as customers are added, so the bound stays valid with them). Compiled with numba when it is
installed; the same code runs as plain Python otherwise (slowly). numba caches the machine code
beside this file or in the user's cache folder; where neither is writable each process compiles
it again (about 7 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

try:
    from numba import njit as _njit

    def njit(fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return _njit(cache=True, nogil=True)(fn)  # type: ignore[no-any-return]
        except RuntimeError:  # no writable cache folder (read-only install, no home folder)
            return _njit(nogil=True)(fn)  # type: ignore[no-any-return]

except ImportError:  # pragma: no cover - numba is a dependency; this keeps imports working

    def njit(fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn


@njit
def _frac(prof: Any, wt: Any, k: int, room: float) -> float:
    """Fractional knapsack of the positive profits ``prof[k:]`` (sorted by profit / load)."""
    total = 0.0
    room = max(room, 0.0)  # < 0 after an item taken within the 1e-9 tolerance
    for i in range(k, prof.size):
        if prof[i] <= 0.0:
            break
        if wt[i] <= room:
            total += prof[i]
            room -= wt[i]
        else:  # wt[i] > room >= 0
            total += prof[i] * room / wt[i]
            break
    return total


@njit
def _search(
    items: Any,
    prof: Any,
    wt: Any,
    cap: float,
    cut_ptr: Any,
    cut_idx: Any,
    cut_w: Any,
    counts: Any,
    threshold: float,
    best_mode: bool,
    out: Any,
    max_out: int,
    max_nodes: int,
) -> tuple[float, int, Any, int]:
    """Depth-first search over ``items`` (sorted); includes before excludes.

    ``best_mode``: the best set of value > ``threshold`` goes to ``out[0]`` (returns its value,
    or ``threshold`` with count 0 when none). Otherwise every set of value >= ``threshold`` is
    written to ``out``, grown as needed (returns count, or -1 when more than ``max_out``).
    Count -2: more than ``max_nodes`` search steps. Returns ``(value, count, out, steps)``.
    """
    kk = items.size
    take = np.zeros(kk, dtype=np.bool_)
    k, room, cur, pen = 0, cap, 0.0, 0.0
    best, found = threshold, 0
    nodes = 0
    while True:
        nodes += 1
        if nodes > max_nodes:
            return threshold, -2, out, nodes
        descend = k < kk
        if descend:
            bound = cur - pen + _frac(prof, wt, k, room)
            descend = bound > best + 1e-9 if best_mode else bound >= threshold - 1e-9
        if descend:
            if wt[k] <= room + 1e-9:
                take[k] = True
                room -= wt[k]
                cur += prof[k]
                c = items[k]
                for t in range(cut_ptr[c], cut_ptr[c + 1]):
                    q = cut_idx[t]
                    counts[q] += 1
                    if counts[q] == 2:
                        pen += cut_w[q]
                k += 1
                value = cur - pen
                if best_mode:
                    if value > best + 1e-9:
                        best = value
                        found = 1
                        out[0, :] = False
                        for t in range(kk):
                            if take[t]:
                                out[0, items[t]] = True
                elif value >= threshold - 1e-9:
                    if found >= max_out:
                        return threshold, -1, out, nodes
                    if found == out.shape[0]:
                        grown = np.zeros((min(2 * found, max_out), out.shape[1]), dtype=np.bool_)
                        grown[:found] = out
                        out = grown
                    for t in range(kk):
                        if take[t]:
                            out[found, items[t]] = True
                    found += 1
            else:
                k += 1
            continue
        # backtrack: the deepest included item switches to excluded
        back = k - 1
        while back >= 0 and not take[back]:
            back -= 1
        if back < 0:
            break
        take[back] = False
        room += wt[back]
        cur -= prof[back]
        c = items[back]
        for t in range(cut_ptr[c], cut_ptr[c + 1]):
            q = cut_idx[t]
            if counts[q] == 2:
                pen -= cut_w[q]
            counts[q] -= 1
        k = back + 1
    return best, found, out, nodes


@njit
def _site_items(profit_j: Any, load: Any, cap: float, floor: float) -> tuple[Any, Any, Any]:
    """Customers of profit > ``floor`` that fit, sorted by profit per unit of load."""
    sel = np.flatnonzero((profit_j > floor) & (load <= cap + 1e-9))
    ratio = profit_j[sel] / np.maximum(load[sel], 1e-12)
    order = np.argsort(-ratio, kind="mergesort")
    items = sel[order]
    return items, profit_j[items], load[items]


@njit
def price_sites(
    profit: Any,
    load: Any,
    caps: Any,
    sites: Any,
    base: Any,
    cut_ptr: Any,
    cut_idx: Any,
    cut_w: Any,
    ncuts: int,
    min_gain: float,
    max_nodes: int,
) -> tuple[Any, Any, int]:
    """For each site ``j`` in ``sites``: the customer set of largest
    ``sum(profit[S, j]) - penalties(S)``, if it exceeds ``base[j] + min_gain`` (a negative
    reduced cost).
    Returns ``(gain over base, or 0 when none; (len(sites), n) sets; search steps)``, steps
    -1 when they exceeded ``max_nodes`` (the answer is then incomplete)."""
    n = profit.shape[0]
    gains = np.zeros(sites.size)
    sets = np.zeros((sites.size, n), dtype=np.bool_)
    counts = np.zeros(max(ncuts, 1), dtype=np.int64)
    total = 0
    for s in range(sites.size):
        j = sites[s]
        items, prof, wt = _site_items(profit[:, j], load, caps[j], 0.0)
        counts[:] = 0
        out = np.zeros((1, n), dtype=np.bool_)
        best, found, out, steps = _search(
            items,
            prof,
            wt,
            caps[j],
            cut_ptr,
            cut_idx,
            cut_w,
            counts,
            base[j] + min_gain,
            True,
            out,
            1,
            max_nodes - total,
        )
        if found == -2:
            return gains, sets, -1
        total += steps
        if found > 0:
            gains[s] = best - base[j]
            sets[s] = out[0]
    return gains, sets, total


@njit
def enumerate_site(
    profit_j: Any,
    load: Any,
    cap: float,
    threshold: float,
    cut_ptr: Any,
    cut_idx: Any,
    cut_w: Any,
    ncuts: int,
    max_out: int,
    max_nodes: int,
) -> tuple[int, Any, int]:
    """Every customer set of ``sum(profit_j[S]) - penalties(S) >= threshold``, at most
    ``max_out`` (count -1 when there are more, -2 after ``max_nodes`` search steps), as
    ``(count, sets, search steps)``."""
    n = profit_j.size
    pos = 0.0
    for i in range(n):
        if profit_j[i] > 0.0:
            pos += profit_j[i]
    # a customer of profit below threshold - (all positive profit) is in no such set
    items, prof, wt = _site_items(profit_j, load, cap, min(threshold - pos, 0.0) - 1e-9)
    counts = np.zeros(max(ncuts, 1), dtype=np.int64)
    out = np.zeros((min(max_out, 1024), n), dtype=np.bool_)
    _best, found, out, steps = _search(
        items,
        prof,
        wt,
        cap,
        cut_ptr,
        cut_idx,
        cut_w,
        counts,
        threshold,
        False,
        out,
        max_out,
        max_nodes,
    )
    return found, out, steps


@njit
def triple_lhs(
    supports: Any, weights: Any, pair: Any, touched: Any, floor: float
) -> tuple[Any, Any]:
    """Subset-row left-hand sides :math:`\\sum_k w_k [|S_k \\cap T| \\ge 2]` of every triple
    of ``touched`` customers above ``floor``: ``(triples (t, 3), values)``."""
    nt = touched.size
    cap = 4096
    tris = np.zeros((cap, 3), dtype=np.int64)
    vals = np.zeros(cap)
    count = 0
    for x in range(nt):
        a = touched[x]
        for y in range(x + 1, nt):
            b = touched[y]
            pab = pair[a, b]
            for z in range(y + 1, nt):
                c = touched[z]
                two = pab + pair[b, c] + pair[a, c]
                if two <= floor:
                    continue
                three = 0.0
                for k in range(weights.size):
                    if supports[k, a] and supports[k, b] and supports[k, c]:
                        three += weights[k]
                lhs = two - 2.0 * three
                if lhs > floor:
                    if count == cap:
                        tris = np.concatenate((tris, np.zeros((cap, 3), dtype=np.int64)))
                        vals = np.concatenate((vals, np.zeros(cap)))
                        cap *= 2
                    tris[count, 0], tris[count, 1], tris[count, 2] = a, b, c
                    vals[count] = lhs
                    count += 1
    return tris[:count], vals[:count]


def csr(triples: list[tuple[int, int, int]], n: int) -> tuple[npt.NDArray[np.int64], ...]:
    """Customer -> cuts holding it, as ``(ptr, idx)``."""
    lists: list[list[int]] = [[] for _ in range(n)]
    for q, tri in enumerate(triples):
        for c in tri:
            lists[c].append(q)
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    idx = np.array([q for x in lists for q in x], dtype=np.int64)
    return ptr, idx


def compile_kernels() -> None:
    """Compile every kernel now (numba caches the machine code on disk, so this costs seconds
    once per installation and a fraction of a second afterwards): a benchmark calls it first so
    that no instance's time includes compilation."""
    profit = np.array([[3.0, 1.0], [2.0, -np.inf], [1.0, 2.0]])
    load = np.array([1.0, 2.0, 1.0])
    caps = np.array([2.0, 3.0])
    ptr, idx = csr([(0, 1, 2)], 3)
    pen = np.array([0.5])
    price_sites(profit, load, caps, np.arange(2), np.zeros(2), ptr, idx, pen, 1, 1e-7, 10**6)
    enumerate_site(profit[:, 0], load, 2.0, 0.0, ptr, idx, pen, 1, 10, 10**6)
    sup = np.ones((1, 3), dtype=np.bool_)
    triple_lhs(sup, np.ones(1), np.ones((3, 3)), np.arange(3, dtype=np.int64), 0.5)
