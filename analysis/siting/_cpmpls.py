"""Local search on the open sites of a capacitated p-median incumbent.

Swap moves: close one open candidate ``j`` and open a closed candidate ``j'`` among the
``NEIGHBOURS`` that would serve ``j``'s current customers most cheaply; the new set of sites is
assigned by the fast GAP heuristic (:func:`._cpmp.quick_assign`). The first improving swap is
taken, and the search repeats until no swap improves or ``MAX_PASSES`` passes were made.
Deterministic, effort bounded by the number of assignments tried.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._cpmp import CpmpData, Incumbent, improves, quick_assign

NEIGHBOURS = 6
"""Replacement candidates tried per open site."""

MAX_PASSES = 8
"""Passes over the open sites at most."""


def _replacements(
    data: CpmpData, inc: Incumbent, j: int, closed: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """The ``NEIGHBOURS`` closed candidates cheapest for the customers ``j`` serves."""
    served = np.flatnonzero(inc[1] == j)
    if served.size == 0 or closed.size == 0:
        return closed[:0]
    total = data.cost[np.ix_(served, closed)].sum(axis=0)
    order = np.argsort(total, kind="stable")[:NEIGHBOURS]
    return closed[order[np.isfinite(total[order])]]


def _better(got: Incumbent | None, inc: Incumbent) -> bool:
    return got is not None and improves(got[0], inc[0])


def _pass(data: CpmpData, inc: Incumbent) -> Incumbent:
    """One pass of first-improvement swaps over the open candidates."""
    for j in inc[2].tolist():
        if j not in set(inc[2].tolist()) or j in set(data.existing.tolist()):
            continue
        is_open = np.zeros(data.cost.shape[1], dtype=bool)
        is_open[inc[2]] = True
        closed = data.candidates[~is_open[data.candidates]]
        for jn in _replacements(data, inc, j, closed).tolist():
            sites = np.append(inc[2][inc[2] != j], jn)
            got = quick_assign(data, sites)
            if got is not None and _better(got, inc):
                inc = got
                break
    return inc


def swap_search(data: CpmpData, inc: Incumbent | None) -> Incumbent | None:
    """Improve ``inc`` by site swaps (module docstring); ``None`` stays ``None``."""
    if inc is None or data.k == 0:
        return inc
    for _ in range(MAX_PASSES):
        new = _pass(data, inc)
        if not _better(new, inc):
            break
        inc = new
    return inc
