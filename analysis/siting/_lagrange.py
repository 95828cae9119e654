r"""Lagrangian bound and reduction tests for the uncapacitated p-median (Beasley 1993).

Relaxing the assignment rows :math:`\sum_j x_{ij} = 1` with multipliers :math:`\lambda_i` gives

.. math::

    L(\lambda) = \sum_i \lambda_i + \sum_{j \in E} \rho_j + \min_{S \subseteq C, |S| = k}
    \sum_{j \in S} \rho_j, \qquad \rho_j = \sum_i \min(0, w_i d_{ij} - \lambda_i),

a lower bound for every :math:`\lambda` (equal at best to the LP bound). Subgradient ascent with
Polyak steps maximises it. With an incumbent of value ``UB``, forcing site ``j`` open (closed)
raises the bound to :math:`L + \rho_j - \rho_{(k)}` (:math:`L - \rho_j + \rho_{(k+1)}`); if that
reaches ``UB`` the site can be fixed closed (open) without losing any solution better than the
incumbent.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)


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
    iterations: int = 600,
) -> tuple[float, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return ``(bound, fixed_closed, fixed_open)`` masks over ``candidates``."""
    fin = np.isfinite(cost)
    big = (float(cost[fin].max()) + 1.0) * 10 if fin.any() else 1.0
    wd = np.where(fin, cost, big) * weights[:, None]
    wd_c = wd[:, candidates]
    wd_e = wd[:, existing]
    lam = wd[:, start_open].min(axis=1).copy()
    slack = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(upper))
    closed = np.zeros(candidates.size, dtype=bool)
    opened = np.zeros(candidates.size, dtype=bool)
    best, theta, stall = -np.inf, 2.0, 0
    nc = candidates.size
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007
        rho_c = np.minimum(0.0, wd_c - lam[:, None]).sum(axis=0)
        rho_e = np.minimum(0.0, wd_e - lam[:, None]).sum(axis=0)
        order = np.argsort(rho_c, kind="stable")
        sel = order[:k]
        val = float(lam.sum() + rho_e.sum() + rho_c[sel].sum())
        if val > best + 1e-9:
            best, stall = val, 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2, 0
        if k > 0:
            kth = rho_c[order[k - 1]]
            closed |= val + rho_c - kth > upper - slack
            if k < nc:
                nxt = rho_c[order[k]]
                mask = np.zeros(nc, dtype=bool)
                mask[sel] = True
                opened |= mask & (val - rho_c + nxt > upper - slack)
        if best > upper - slack or theta < 1e-4:
            break
        served = (wd_e < lam[:, None]).sum(axis=1) + (wd_c[:, sel] < lam[:, None]).sum(axis=1)
        g = 1.0 - served
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.maximum(lam + theta * (upper - val) / norm * g, 0.0)
    closed &= ~opened
    log.info(
        "lagrangian: bound %g vs incumbent %g after %d iterations; fixed %d closed, %d open of %d",
        best,
        upper,
        done,
        int(closed.sum()),
        int(opened.sum()),
        nc,
    )
    return best, closed, opened
