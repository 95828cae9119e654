r"""Lagrangian branch-and-bound for the uncapacitated p-median (after Beasley 1993).

Every node is a set ``F`` of sites forced open, a set ``C`` of free candidates and the number
``k'`` still to open. Its bound is the Lagrangian bound of :mod:`._lagrange` on that subproblem
(subgradient warm-started with the parent's multipliers), followed by the reduction tests, which
close or open candidates whenever no solution *better than the incumbent* can use (avoid) them;
the node is re-bounded while the tests fix anything. A node whose bound reaches the incumbent is
pruned (with integer data: ``ceil(bound) >= UB``). Otherwise it branches on the candidate the
relaxation likes most (most negative :math:`\rho_j`): first ``j`` open, then ``j`` closed.
Depth-first search, so memory stays small; on a time limit the smallest bound of the unexplored
nodes is the proven lower bound.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._lagrange import lagrangian_reduce, weighted_costs

log = logging.getLogger(__name__)


@dataclass
class BBResult:
    """Outcome of :func:`lagrangian_branch_and_bound`."""

    open_sites: npt.NDArray[np.intp]
    value: float
    bound: float
    proven: bool
    nodes: int


@dataclass
class _Node:
    fixed: npt.NDArray[np.intp]  # open anyway (existing + forced)
    free: npt.NDArray[np.intp]
    k: int
    lam: npt.NDArray[np.float64]
    parent_bound: float


def lagrangian_branch_and_bound(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    existing: npt.NDArray[np.intp],
    candidates: npt.NDArray[np.intp],
    k: int,
    upper: float,
    upper_open: npt.NDArray[np.intp],
    *,
    integral: bool,
    time_limit: float | None = None,
    root_iterations: int = 3000,
    node_iterations: int = 15,
) -> BBResult:
    """Solve ``min sum_i w_i min_{j in E ∪ S} d_ij`` over ``S ⊆ C, |S| = k`` exactly.

    Parameters
    ----------
    cost, weights
        Cost matrix (``inf`` = unreachable) and demand weights.
    existing, candidates, k
        Sites open anyway, free candidates, number of candidates to open.
    upper, upper_open
        Incumbent value and its open sites (a good incumbent makes the search much smaller).
    integral
        Every objective value is an integer, so bounds can be rounded up.
    time_limit
        Seconds; when hit, the incumbent is returned unproven with the smallest open bound.
    """
    t0 = time.perf_counter()
    wd = weighted_costs(cost, weights)

    def rounded(b: float) -> float:
        return float(math.ceil(b - 1e-6)) if integral and math.isfinite(b) else b

    best_open = np.sort(np.asarray(upper_open, dtype=np.intp))
    # the incumbent's value in the same (penalised) terms as the bounds
    ub = min(float(upper), float(wd[:, best_open].min(axis=1).sum()))
    tol = 1e-9 * max(1.0, abs(ub))
    stack = [
        _Node(
            np.asarray(existing, np.intp),
            np.asarray(candidates, np.intp),
            k,
            wd[:, best_open].min(axis=1),
            -np.inf,
        )
    ]
    nodes = 0
    while stack:
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            lb = min([nd.parent_bound for nd in stack] + [ub])
            log.warning("p-median B&B: time limit after %d nodes; bound %g, best %g", nodes, lb, ub)
            return BBResult(best_open, ub, float(lb), False, nodes)
        nd = stack.pop()
        if rounded(nd.parent_bound) >= ub - tol:
            continue
        nodes += 1
        fixed, free, kk, lam = nd.fixed, nd.free, nd.k, nd.lam
        bound = nd.parent_bound
        root = nodes == 1
        while True:
            if kk < 0 or free.size < kk:
                bound = np.inf
                break
            if kk == 0 or free.size == kk:
                leaf = np.concatenate([fixed, free]) if kk else fixed
                v = float(wd[:, leaf].min(axis=1).sum())
                if v < ub - tol:
                    ub, best_open = v, np.sort(leaf)
                bound = np.inf
                break
            out = lagrangian_reduce(
                cost,
                weights,
                fixed,
                free,
                kk,
                ub,
                best_open,
                integral=integral,
                lam=lam,
                wd=wd,
                iterations=root_iterations if root else node_iterations,
                heuristic_every=10 if root else 0,
                theta=2.0 if root else 0.5,
                min_theta=1e-3 if root else 5e-3,
            )
            root = False
            if out.upper < ub - tol:
                ub, best_open = out.upper, np.sort(out.upper_open)
            lam = out.lam
            bound = max(bound, out.bound)
            if rounded(bound) >= ub - tol:
                break
            if not (out.closed.any() or out.opened.any()):
                break
            fixed = np.concatenate([fixed, free[out.opened]])
            kk -= int(out.opened.sum())
            free = free[~out.closed & ~out.opened]
        if rounded(bound) >= ub - tol:
            continue
        # branch on the most attractive free candidate
        lam_c = np.minimum(wd[:, fixed].min(axis=1), lam) if fixed.size else lam
        rho = np.minimum(wd[:, free] - lam_c[:, None], 0.0).sum(axis=0)
        j = int(np.argmin(rho))
        rest = np.delete(free, j)
        # pushed last = explored first: "j open"
        stack.append(_Node(fixed, rest, kk, lam, bound))
        stack.append(_Node(np.append(fixed, free[j]), rest, kk - 1, lam, bound))
        if nodes % 200 == 0:
            log.info(
                "p-median B&B: %d nodes, %d open, best %g (%.1fs)",
                nodes,
                len(stack),
                ub,
                time.perf_counter() - t0,
            )
    log.info("p-median B&B: proven optimum %g after %d nodes", ub, nodes)
    return BBResult(best_open, ub, ub, True, nodes)
