r"""Lagrangian bound, Lagrangian heuristic and reduction tests for the uncapacitated p-median.

Relaxing the assignment rows :math:`\sum_j x_{ij} = 1` with multipliers :math:`\lambda_i`
(Beasley 1993) gives, with ``E`` the sites that are open anyway and ``C`` the free candidates,

.. math::

    L(\lambda) = \sum_i \lambda_i + \sum_{j \in E} \rho_j + \min_{S \subseteq C, |S| = k}
    \sum_{j \in S} \rho_j, \qquad \rho_j = \sum_i \min(0, w_i d_{ij} - \lambda_i),

a lower bound for every :math:`\lambda` (at best the LP bound). Projecting
:math:`\lambda_i` into :math:`[\min_j w_i d_{ij},\ \min_{j \in E} w_i d_{ij}]` never lowers
:math:`L` and makes :math:`\rho_j = 0` on ``E``. Projected subgradient ascent with Polyak steps
towards the incumbent value ``UB`` maximises it.

Reduction (variable fixing): forcing site ``j`` open (closed) gives the bound
:math:`L + \rho_j - \rho_{(k)}` (:math:`L - \rho_j + \rho_{(k+1)}`), with :math:`\rho_{(r)}` the
``r``-th smallest. If that bound shows no solution *better than the incumbent* has ``j`` open
(closed), ``j`` is fixed closed (open). With integer data "better" means at most ``UB - 1``.

Lagrangian heuristic: the ``k`` sites of the relaxed solution are evaluated (and improved by
interchange when promising), which often lowers ``UB`` and so strengthens the fixing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)


@dataclass
class LagrangeOutcome:
    """Result of :func:`lagrangian_reduce` (indices refer to the ``candidates`` array)."""

    bound: float
    closed: npt.NDArray[np.bool_]
    opened: npt.NDArray[np.bool_]
    lam: npt.NDArray[np.float64]
    upper: float
    upper_open: npt.NDArray[np.intp]
    iterations: int


def weighted_costs(
    cost: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``w_i d_ij``, unreachable pairs replaced by a penalty above any all-reachable total."""
    fin = np.isfinite(cost)
    wd = np.where(fin, cost, 0.0) * weights[:, None]
    if not fin.all():
        penalty = 2.0 * float(weights.sum()) * float(cost[fin].max(initial=0.0)) + 1.0
        wd[~fin] = np.where(weights > 0, penalty, 0.0)[np.nonzero(~fin)[0]]
    return wd


def _pairs(
    wd_c: npt.NDArray[np.float64], lam: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]
) -> tuple[
    npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """Pairs ``(i, j)`` with ``wd_c[i, j] < T_i``, ``T_i = min(hi_i, 1.5 lam_i + margin)``: the
    only pairs whose reduced cost ``min(0, wd_ij - lam_i)`` can be non-zero while lam <= T."""
    margin = 0.05 * float(lam.mean()) + 1e-9 if lam.size else 1e-9
    thr = np.minimum(hi, 1.5 * lam + margin)
    pi, pj = np.nonzero(wd_c < thr[:, None])
    return pi, pj, wd_c[pi, pj], thr


def lagrangian_reduce(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    existing: npt.NDArray[np.intp],
    candidates: npt.NDArray[np.intp],
    k: int,
    upper: float,
    start_open: npt.NDArray[np.intp],
    *,
    integral: bool = False,
    iterations: int = 3000,
    lam: npt.NDArray[np.float64] | None = None,
    heuristic_every: int = 10,
    wd: npt.NDArray[np.float64] | None = None,
    theta: float = 2.0,
    min_theta: float = 1e-3,
) -> LagrangeOutcome:
    """Maximise the Lagrangian bound and fix candidates.

    Parameters
    ----------
    cost, weights
        The full problem (``inf`` = unreachable).
    existing
        Sites open anyway (existing ones and candidates already fixed open).
    candidates
        Free candidate sites; ``k`` of them are to be opened.
    upper, start_open
        Incumbent value and its open sites (all of them, existing included).
    integral
        Every objective value is an integer (bounds are rounded up).
    lam
        Starting multipliers (default: the incumbent's weighted distances).
    heuristic_every
        Run the Lagrangian heuristic every so many iterations (0: never).
    wd
        Precomputed weighted costs (``inf`` replaced by a large penalty).
    theta, min_theta
        Initial and final Polyak step factor (halved after 30 iterations without progress).

    Returns
    -------
    LagrangeOutcome
        Best bound, fixing masks over ``candidates`` and the (possibly improved) incumbent.
    """
    from .heuristic import interchange

    if wd is None:
        wd = weighted_costs(cost, weights)
    wd_c = np.ascontiguousarray(wd[:, candidates])
    n, nc = wd_c.shape
    hi = wd[:, existing].min(axis=1) if existing.size else np.full(n, np.inf)
    lo = np.minimum(wd_c.min(axis=1) if nc else hi, hi)
    lam = wd[:, start_open].min(axis=1) if lam is None else lam.copy()
    lam = np.clip(lam, lo, hi)
    slack = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(upper))
    best_open = np.asarray(start_open, dtype=np.intp)
    closed = np.zeros(nc, dtype=bool)
    opened = np.zeros(nc, dtype=bool)
    best, best_lam, stall = -np.inf, lam.copy(), 0
    seen: set[tuple[int, ...]] = set()
    polished = 0
    done = 0
    if k == 0 or nc == 0:
        val = float(lam.sum()) if nc == 0 or k == 0 else -np.inf
        return LagrangeOutcome(val, closed, opened, lam, upper, best_open, 0)
    # Only pairs with w_i d_ij < lam_i have a non-zero reduced cost, so the sums run over the
    # pairs below a per-demand threshold T_i >= lam_i (rebuilt when a multiplier passes it):
    # a few percent of the matrix when k is small, instead of all of it every iteration.
    pi, pj, pv, thr = _pairs(wd_c, lam, hi)
    for done in range(1, iterations + 1):
        if (lam > thr).any():
            pi, pj, pv, thr = _pairs(wd_c, lam, hi)
        r = pv - lam[pi]
        np.minimum(r, 0.0, out=r)
        rho = np.bincount(pj, weights=r, minlength=nc)
        order = np.argpartition(rho, min(k, nc - 1))
        sel = order[:k]
        in_sel = np.zeros(nc, dtype=bool)
        in_sel[sel] = True
        kth = float(rho[sel].max())
        val = float(lam.sum() + rho[sel].sum())
        if val > best + 1e-9 * max(1.0, abs(val)):
            improved = val > best + 1e-4 * max(1.0, abs(upper - best))
            best, best_lam = val, lam.copy()
            stall = 0 if improved else stall + 1
        else:
            stall += 1
        if stall >= 30:
            theta, stall = theta / 2, 0
        # reduction tests
        closed |= val + rho - kth > upper - slack
        if k < nc:
            nxt = float(rho[order[k]])  # argpartition put the (k+1)-th smallest at position k
            opened |= in_sel & (val - rho + nxt > upper - slack)
        # Lagrangian heuristic
        every = heuristic_every * (1 if polished < 12 else 10)
        if heuristic_every and done % every == 1:
            key = tuple(sorted(sel.tolist()))
            if key not in seen:
                seen.add(key)
                open_now = np.concatenate([existing, candidates[sel]])
                v = float(wd[:, open_now].min(axis=1).sum())
                if v < upper * 1.5 + 1e-9:
                    polished += 1
                    loc = interchange(cost, weights, existing, candidates, candidates[sel].tolist())
                    open_now = np.concatenate([existing, np.asarray(loc, dtype=np.intp)])
                    v = float(wd[:, open_now].min(axis=1).sum())
                if v < upper - 1e-9 * max(1.0, abs(upper)):
                    log.info("lagrangian heuristic: incumbent %g -> %g", upper, v)
                    upper, best_open = v, np.sort(open_now)
        if best > upper - slack or theta < min_theta:
            break
        # projected subgradient
        served = np.bincount(pi[(r < 0) & in_sel[pj]], minlength=n)
        at_hi = lam >= hi
        g = 1.0 - served - at_hi
        g[at_hi & (g > 0)] = 0.0
        g[(lam <= lo) & (g < 0)] = 0.0
        norm = float(g @ g)
        if norm == 0:
            break
        step = theta * max(upper - val, 1e-6 * max(1.0, abs(upper))) / norm
        lam = np.minimum(np.maximum(lam + step * g, lo), hi)
    closed &= ~opened
    log.info(
        "lagrangian: bound %.6g vs incumbent %g after %d iterations; fixed %d closed, %d open of %d",
        best,
        upper,
        done,
        int(closed.sum()),
        int(opened.sum()),
        nc,
    )
    return LagrangeOutcome(best, closed, opened, best_lam, upper, best_open, done)
