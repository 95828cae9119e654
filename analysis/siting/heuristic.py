"""Fast heuristics: greedy + interchange for median-type objectives, greedy set cover.

They give every exact model a warm start (an incumbent for HiGHS) and serve instances too large
for a proof. All work on dense NumPy matrices.

Median-type objective (p-median, and MCLP written as a median problem on 0/1 costs)::

    min  sum_i w_i * min_{j in E ∪ S} d_ij      over S ⊆ candidates, |S| = k, cost(S) <= B

where ``E`` are the existing (fixed) sites. ``greedy`` adds the site with the largest saving
(saving per unit opening cost under a budget); ``interchange`` then applies the best improving
swap (out r ∈ S, in j ∉ S) until none improves, evaluating all swaps at once with the
Whitaker / Resende–Werneck "fast swap" decomposition::

    delta(r, j) = sum_i w_i min(0, d_ij - d1_i)
                + sum_{i: nearest(i) = r} w_i [min(d_ij, d2_i) - d1_i - min(0, d_ij - d1_i)]

with ``d1``/``d2`` the distances to the nearest and second-nearest open site.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
from scipy import sparse

log = logging.getLogger(__name__)

_TOL = 1e-9


def _finite(d: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Replace inf by a penalty larger than any finite total."""
    fin = d[np.isfinite(d)]
    big = (float(fin.max()) + 1.0) * (d.shape[0] + 1) if fin.size else 1.0
    return np.where(np.isfinite(d), d, big)


def median_cost(
    d: npt.NDArray[np.float64], w: npt.NDArray[np.float64], open_sites: npt.ArrayLike
) -> float:
    """``sum_i w_i min_{j in open} d_ij`` (inf if a demand reaches no open site)."""
    idx = np.asarray(open_sites, dtype=int)
    if idx.size == 0:
        return float("inf") if w.sum() > 0 else 0.0
    return float(w @ d[:, idx].min(axis=1))


def _nearest_two(
    d: npt.NDArray[np.float64], open_idx: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    sub = d[:, open_idx]
    n = d.shape[0]
    big = np.full(n, float(d.max()) * 2 + 1.0)
    if open_idx.size == 0:
        return big, np.full(n, -1, dtype=np.intp), big
    if open_idx.size == 1:
        return sub[:, 0].copy(), np.full(n, open_idx[0], dtype=np.intp), big
    part = np.argpartition(sub, 1, axis=1)[:, :2]
    a, b = sub[np.arange(n), part[:, 0]], sub[np.arange(n), part[:, 1]]
    swap = b < a
    first = np.where(swap, part[:, 1], part[:, 0])
    return np.minimum(a, b), open_idx[first], np.maximum(a, b)


def greedy(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    existing: npt.ArrayLike,
    candidates: npt.ArrayLike,
    k: int,
    *,
    opening_costs: npt.NDArray[np.float64] | None = None,
    budget: float | None = None,
) -> list[int]:
    """Greedy addition of up to ``k`` candidates for the median-type objective.

    Stops early when nothing affordable improves the objective.
    """
    d = _finite(np.asarray(cost, dtype=float))
    w = np.asarray(weights, dtype=float)
    ex = np.asarray(existing, dtype=int)
    cand = np.asarray(candidates, dtype=int)
    big = float(d.max()) * 2 + 1.0
    cur = d[:, ex].min(axis=1) if ex.size else np.full(d.shape[0], big)
    chosen: list[int] = []
    avail = np.ones(cand.size, dtype=bool)
    spent = 0.0
    oc = np.zeros(d.shape[1]) if opening_costs is None else opening_costs
    for _ in range(k):
        if not avail.any():
            break
        ok = avail.copy()
        if budget is not None:
            ok &= spent + oc[cand] <= budget + _TOL
        if not ok.any():
            break
        gain = w @ np.maximum(0.0, cur[:, None] - d[:, cand])
        score = gain / np.maximum(oc[cand], _TOL) if budget is not None else gain
        score = np.where(ok, score, -np.inf)
        best = int(np.argmax(score))
        if gain[best] <= _TOL and chosen:
            break
        j = int(cand[best])
        chosen.append(j)
        avail[best] = False
        spent += float(oc[j])
        cur = np.minimum(cur, d[:, j])
    return chosen


def interchange(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    existing: npt.ArrayLike,
    candidates: npt.ArrayLike,
    start: list[int],
    *,
    opening_costs: npt.NDArray[np.float64] | None = None,
    budget: float | None = None,
    max_iter: int = 10_000,
) -> list[int]:
    """Best-improvement swap local search from ``start`` (fast-swap evaluation)."""
    d = _finite(np.asarray(cost, dtype=float))
    w = np.asarray(weights, dtype=float)
    ex = np.asarray(existing, dtype=int)
    cand = np.asarray(candidates, dtype=int)
    sel = list(start)
    if not sel:
        return sel
    oc = np.zeros(d.shape[1]) if opening_costs is None else opening_costs
    n = d.shape[0]
    dc = d[:, cand]
    for it in range(max_iter):
        open_idx = np.concatenate([ex, np.asarray(sel, dtype=int)])
        d1, c1, d2 = _nearest_two(d, open_idx)
        a = np.minimum(0.0, dc - d1[:, None]) * w[:, None]
        base = a.sum(axis=0)
        m = (np.minimum(dc, d2[:, None]) - d1[:, None]) * w[:, None] - a
        pos = {j: r for r, j in enumerate(sel)}
        rows = np.array([pos.get(int(c), -1) for c in c1])
        keep = rows >= 0
        agg = sparse.csr_matrix(
            (np.ones(int(keep.sum())), (rows[keep], np.flatnonzero(keep))), shape=(len(sel), n)
        )
        delta = base[None, :] + np.asarray(agg @ m)
        is_open = np.isin(cand, open_idx)
        delta[:, is_open] = np.inf
        if budget is not None:
            spent = float(oc[sel].sum())
            over = spent - oc[np.asarray(sel)][:, None] + oc[cand][None, :] > budget + _TOL
            delta[over] = np.inf
        r, jj = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if not delta[r, jj] < -1e-9 * max(1.0, abs(float(w @ d1))):
            log.debug("interchange: local optimum after %d swaps", it)
            break
        sel[r] = int(cand[jj])
    return sel


def median_heuristic(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    existing: npt.ArrayLike,
    candidates: npt.ArrayLike,
    k: int,
    *,
    opening_costs: npt.NDArray[np.float64] | None = None,
    budget: float | None = None,
) -> list[int]:
    """Greedy, then interchange; returns the chosen new sites (sorted)."""
    start = greedy(
        cost, weights, existing, candidates, k, opening_costs=opening_costs, budget=budget
    )
    sel = interchange(
        cost, weights, existing, candidates, start, opening_costs=opening_costs, budget=budget
    )
    return sorted(sel)


def greedy_cover(
    cover: npt.NDArray[np.bool_], col_cost: npt.NDArray[np.float64]
) -> list[int] | None:
    """Chvátal's greedy set cover with a redundancy-removal pass.

    ``cover[i, j]``: column ``j`` covers row ``i``. Returns chosen columns, or ``None`` when a row
    cannot be covered.
    """
    cov = np.asarray(cover, dtype=bool)
    if (~cov.any(axis=1)).any():
        return None
    c = np.maximum(np.asarray(col_cost, dtype=float), _TOL)
    unc = np.ones(cov.shape[0], dtype=bool)
    chosen: list[int] = []
    covf = cov.astype(np.float64)
    while unc.any():
        counts = unc.astype(np.float64) @ covf
        score = np.where(counts > 0, c / np.maximum(counts, 1), np.inf)
        j = int(np.argmin(score))
        chosen.append(j)
        unc &= ~cov[:, j]
    # drop redundant columns, most expensive first
    times = cov[:, chosen].sum(axis=1)
    for j in sorted(chosen, key=lambda j: -c[j]):
        if (times[cov[:, j]] >= 2).all():
            chosen.remove(j)
            times -= cov[:, j]
    return sorted(chosen)


def center_heuristic(
    cost: npt.NDArray[np.float64],
    existing: npt.ArrayLike,
    candidates: npt.ArrayLike,
    k: int,
    levels: npt.NDArray[np.float64],
) -> tuple[list[int], float]:
    """p-center heuristic: binary search over radius levels with greedy set cover.

    Returns the chosen new sites and their worst distance.
    """
    d = np.asarray(cost, dtype=float)
    ex = np.asarray(existing, dtype=int)
    cand = np.asarray(candidates, dtype=int)
    best: list[int] | None = None
    lo, hi = 0, len(levels) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        r = levels[mid]
        need = ~(d[:, ex] <= r).any(axis=1) if ex.size else np.ones(d.shape[0], bool)
        sol = greedy_cover(d[np.ix_(need, cand)] <= r, np.ones(cand.size)) if need.any() else []
        if sol is not None and len(sol) <= k:
            best, hi = [int(cand[j]) for j in sol], mid - 1
        else:
            lo = mid + 1
    if best is None:  # fall back to farthest-first (Gonzalez)
        best = []
        for _ in range(k):
            open_idx = np.concatenate([ex, np.asarray(best, dtype=int)])
            cur = d[:, open_idx].min(axis=1) if open_idx.size else np.full(d.shape[0], np.inf)
            far = int(np.argmax(cur))
            free = np.setdiff1d(cand, best)
            if free.size == 0:
                break
            best.append(int(free[np.argmin(d[far, free])]))
    open_all = np.concatenate([ex, np.asarray(best, dtype=int)])
    worst = float(d[:, open_all].min(axis=1).max()) if open_all.size else float("inf")
    return sorted(best), worst
