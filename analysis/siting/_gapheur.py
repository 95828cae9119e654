"""A fast single-source assignment to fixed open sites: regret greedy, then shifts and swaps.

The generalised assignment problem behind the Lagrangian heuristic of the capacitated
p-median: assign every demand ``i`` (load ``q_i``) to one open site ``j`` (capacity ``Q_j``)
at cost ``c_ij``. Regret greedy (Martello & Toth 1981): repeatedly place the demand whose
best and second-best feasible sites differ most, at its best site; then move single demands
(shift) and exchange pairs (swap) while the cost falls. Deterministic, no solver, a few
milliseconds for a hundred demands; it may fail (``None``) where an assignment exists — the
exact assignment is :func:`._cpmp.assign_to`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_ROUNDS = 200
"""Improving moves at most (each strictly lowers the cost, so the loop ends anyway)."""


def greedy_assign(
    cost: npt.NDArray[np.float64], load: npt.NDArray[np.float64], caps: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp] | None:
    """Regret greedy on ``cost`` ``(n, s)`` (``inf`` = not allowed); ``assign[i]`` in
    ``0..s-1``, or ``None`` when a demand is left without room.

    The two cheapest feasible sites of each demand are kept up to date incrementally: placing
    a demand only shrinks its site's room, so only the demands that no longer fit there are
    re-ranked (same choices as re-ranking every demand at every step, in a fraction of the
    time)."""
    n = cost.shape[0]
    rest = caps.astype(float).copy()
    c = np.where(np.isfinite(cost) & (load[:, None] <= rest[None, :] + 1e-9), cost, np.inf)
    assign = np.full(n, -1, dtype=np.intp)
    two = _two_smallest(c)
    if not np.isfinite(two[:, 0]).all():
        return None
    regret = _regret(two)
    for _ in range(n):
        i = int(np.argmax(regret))
        j = int(np.argmin(c[i]))
        assign[i] = j
        rest[j] -= load[i]
        c[i] = np.inf
        regret[i] = -1.0
        gone = np.flatnonzero(np.isfinite(c[:, j]) & (load > rest[j] + 1e-9))
        if gone.size:
            c[gone, j] = np.inf
            two[gone] = _two_smallest(c[gone])
            if not np.isfinite(two[gone, 0]).all():
                return None
            regret[gone] = _regret(two[gone])
    return assign


def _regret(two: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Second-cheapest minus cheapest cost; ``inf`` with a single feasible site (place it now)."""
    out = np.full(two.shape[0], np.inf)
    finite = np.isfinite(two[:, 1])
    out[finite] = two[finite, 1] - two[finite, 0]
    return out


def _two_smallest(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each row's smallest and second-smallest value (``inf`` when there is no second)."""
    if c.shape[1] > 1:
        return np.partition(c, 1, axis=1)[:, :2].copy()
    return np.column_stack([c[:, 0], np.full(c.shape[0], np.inf)])


def improve(
    cost: npt.NDArray[np.float64],
    load: npt.NDArray[np.float64],
    caps: npt.NDArray[np.float64],
    assign: npt.NDArray[np.intp],
) -> npt.NDArray[np.intp]:
    """Best-improvement shifts and swaps until none lowers the cost."""
    a = assign.copy()
    n = a.size
    rows = np.arange(n)
    for _ in range(MAX_ROUNDS):
        used = np.bincount(a, weights=load, minlength=caps.size)
        now = cost[rows, a]
        shift = cost - now[:, None]
        shift[load[:, None] > (caps - used)[None, :] + 1e-9] = np.inf
        i, j = np.unravel_index(int(np.argmin(shift)), shift.shape)
        if shift[i, j] < -1e-9:
            a[i] = j
            continue
        # swap i (at a_i) with k (at a_k): i -> a_k, k -> a_i
        gain = cost[rows[:, None], a[None, :]] + cost[rows[None, :], a[:, None]]
        gain -= now[:, None] + now[None, :]
        dq = load[:, None] - load[None, :]  # load moving from a_i to a_k
        room = caps - used
        ok = (dq <= room[a][None, :] + 1e-9) & (-dq <= room[a][:, None] + 1e-9)
        gain = np.where(ok & np.isfinite(gain), gain, np.inf)
        i, k = np.unravel_index(int(np.argmin(gain)), gain.shape)
        if gain[i, k] >= -1e-9:
            break
        a[i], a[k] = a[k], a[i]
    return a


def heuristic_assign(
    cost: npt.NDArray[np.float64], load: npt.NDArray[np.float64], caps: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp] | None:
    """Regret greedy then local search; ``None`` when the greedy finds no room."""
    a = greedy_assign(cost, load, caps)
    return None if a is None else improve(cost, load, caps, a)
