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
    if wd is None:
        wd = weighted_costs(cost, weights)
    asc = _Ascent(wd, existing, candidates, k, upper, start_open, lam, integral, theta)
    if k == 0 or asc.nc == 0:
        val = float(asc.lam.sum()) if asc.nc == 0 or k == 0 else -np.inf
        return LagrangeOutcome(val, asc.closed, asc.opened, asc.lam, upper, asc.best_open, 0)
    done = asc.run(cost, weights, iterations, heuristic_every, min_theta)
    asc.closed &= ~asc.opened
    log.info(
        "lagrangian: bound %.6g vs incumbent %g after %d iterations; fixed %d closed, %d open of %d",
        asc.best,
        asc.upper,
        done,
        int(asc.closed.sum()),
        int(asc.opened.sum()),
        asc.nc,
    )
    return LagrangeOutcome(
        asc.best, asc.closed, asc.opened, asc.best_lam, asc.upper, asc.best_open, done
    )


@dataclass
class _Relaxed:
    """The relaxed problem at the current multipliers: reduced costs ``r`` of the pairs,
    ``rho`` per candidate, the ``k`` selected candidates (``sel``, ``in_sel``), the k-th
    smallest ``rho`` (``kth``), ``order`` from :func:`numpy.argpartition` and the bound ``val``."""

    r: npt.NDArray[np.float64]
    rho: npt.NDArray[np.float64]
    order: npt.NDArray[np.intp]
    sel: npt.NDArray[np.intp]
    in_sel: npt.NDArray[np.bool_]
    kth: float
    val: float


class _Ascent:
    """State of the projected subgradient ascent of :func:`lagrangian_reduce`."""

    def __init__(
        self,
        wd: npt.NDArray[np.float64],
        existing: npt.NDArray[np.intp],
        candidates: npt.NDArray[np.intp],
        k: int,
        upper: float,
        start_open: npt.NDArray[np.intp],
        lam: npt.NDArray[np.float64] | None,
        integral: bool,
        theta: float,
    ) -> None:
        self.wd, self.existing, self.candidates, self.k = wd, existing, candidates, k
        self.wd_c = np.ascontiguousarray(wd[:, candidates])
        self.n, self.nc = n, nc = self.wd_c.shape
        self.hi = hi = wd[:, existing].min(axis=1) if existing.size else np.full(n, np.inf)
        self.lo = lo = np.minimum(self.wd_c.min(axis=1) if nc else hi, hi)
        lam = wd[:, start_open].min(axis=1) if lam is None else lam.copy()
        self.lam = np.clip(lam, lo, hi)
        self.upper, self.theta = upper, theta
        self.slack = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(upper))
        self.best_open = np.asarray(start_open, dtype=np.intp)
        self.closed = np.zeros(nc, dtype=bool)
        self.opened = np.zeros(nc, dtype=bool)
        self.best, self.best_lam, self.stall = -np.inf, self.lam.copy(), 0
        self.seen: set[tuple[int, ...]] = set()
        self.polished = 0

    def run(
        self,
        cost: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
        iterations: int,
        heuristic_every: int,
        min_theta: float,
    ) -> int:
        """Iterate until the bound reaches the incumbent, the step factor falls below
        ``min_theta``, the subgradient vanishes or ``iterations`` are done; returns the count."""
        # Only pairs with w_i d_ij < lam_i have a non-zero reduced cost, so the sums run over
        # the pairs below a per-demand threshold T_i >= lam_i (rebuilt when a multiplier passes
        # it): a few percent of the matrix when k is small, instead of all of it every iteration.
        self.pairs = _pairs(self.wd_c, self.lam, self.hi)
        done = 0
        for done in range(1, iterations + 1):
            if (self.lam > self.pairs[3]).any():
                self.pairs = _pairs(self.wd_c, self.lam, self.hi)
            rel = self._relax()
            self._record(rel.val)
            self._fix(rel)
            every = heuristic_every * (1 if self.polished < 12 else 10)
            if heuristic_every and done % every == 1:
                self._heuristic(cost, weights, rel)
            if self.best > self.upper - self.slack or self.theta < min_theta:
                break
            if not self._step(rel):
                break
        return done

    def _relax(self) -> _Relaxed:
        """Solve the relaxation: ``rho_j`` summed over the pairs, the ``k`` smallest chosen."""
        pi, pj, pv, _ = self.pairs
        k, nc, lam = self.k, self.nc, self.lam
        r = pv - lam[pi]
        np.minimum(r, 0.0, out=r)
        rho = np.asarray(np.bincount(pj, weights=r, minlength=nc), dtype=np.float64)
        order = np.argpartition(rho, min(k, nc - 1))
        sel = order[:k]
        in_sel = np.zeros(nc, dtype=bool)
        in_sel[sel] = True
        kth = float(rho[sel].max())
        val = float(lam.sum() + rho[sel].sum())
        return _Relaxed(r, rho, order, sel, in_sel, kth, val)

    def _record(self, val: float) -> None:
        """Keep the best bound; halve the step factor after 30 iterations without progress."""
        if val > self.best + 1e-9 * max(1.0, abs(val)):
            improved = val > self.best + 1e-4 * max(1.0, abs(self.upper - self.best))
            self.best, self.best_lam = val, self.lam.copy()
            self.stall = 0 if improved else self.stall + 1
        else:
            self.stall += 1
        if self.stall >= 30:
            self.theta, self.stall = self.theta / 2, 0

    def _fix(self, rel: _Relaxed) -> None:
        """Reduction tests: close (open) candidates whose opening (closing) cannot beat ``upper``."""
        self.closed |= rel.val + rel.rho - rel.kth > self.upper - self.slack
        if self.k < self.nc:
            nxt = float(rel.rho[rel.order[self.k]])  # argpartition put the (k+1)-th smallest at k
            self.opened |= rel.in_sel & (rel.val - rel.rho + nxt > self.upper - self.slack)

    def _heuristic(
        self, cost: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], rel: _Relaxed
    ) -> None:
        """Lagrangian heuristic: evaluate the relaxed solution's sites (polished by interchange
        when within 50 % of the incumbent) and keep them if they beat the incumbent."""
        from .heuristic import interchange

        key = tuple(sorted(rel.sel.tolist()))
        if key in self.seen:
            return
        self.seen.add(key)
        existing, candidates, wd, upper = self.existing, self.candidates, self.wd, self.upper
        open_now = np.concatenate([existing, candidates[rel.sel]])
        v = float(wd[:, open_now].min(axis=1).sum())
        if v < upper * 1.5 + 1e-9:
            self.polished += 1
            loc = interchange(cost, weights, existing, candidates, candidates[rel.sel].tolist())
            open_now = np.concatenate([existing, np.asarray(loc, dtype=np.intp)])
            v = float(wd[:, open_now].min(axis=1).sum())
        if v < upper - 1e-9 * max(1.0, abs(upper)):
            log.info("lagrangian heuristic: incumbent %g -> %g", upper, v)
            self.upper, self.best_open = v, np.sort(open_now)

    def _step(self, rel: _Relaxed) -> bool:
        """Projected subgradient step with a Polyak step length towards the incumbent; False
        when the (projected) subgradient is zero."""
        pi, pj, _, _ = self.pairs
        lam, lo, hi = self.lam, self.lo, self.hi
        served = np.bincount(pi[(rel.r < 0) & rel.in_sel[pj]], minlength=self.n)
        at_hi = lam >= hi
        g = 1.0 - served - at_hi
        g[at_hi & (g > 0)] = 0.0
        g[(lam <= lo) & (g < 0)] = 0.0
        norm = float(g @ g)
        if norm == 0:
            return False
        step = self.theta * max(self.upper - rel.val, 1e-6 * max(1.0, abs(self.upper))) / norm
        self.lam = np.minimum(np.maximum(lam + step * g, lo), hi)
        return True
