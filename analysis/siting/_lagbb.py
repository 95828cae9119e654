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
    sr = _Search(cost, weights, integral, upper, upper_open, root_iterations, node_iterations)
    root_lam = sr.wd[:, sr.best_open].min(axis=1)
    stack = [
        _Node(np.asarray(existing, np.intp), np.asarray(candidates, np.intp), k, root_lam, -np.inf)
    ]
    nodes = 0
    while stack:
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            lb = min([nd.parent_bound for nd in stack] + [sr.ub])
            log.warning(
                "p-median B&B: time limit after %d nodes; bound %g, best %g", nodes, lb, sr.ub
            )
            return BBResult(sr.best_open, sr.ub, float(lb), False, nodes)
        nd = stack.pop()
        if sr.pruned(nd.parent_bound):
            continue
        nodes += 1
        bounded = sr.bound(nd, root=nodes == 1)
        if sr.pruned(bounded.parent_bound):
            continue
        stack.extend(sr.children(bounded))
        if nodes % 200 == 0:
            log.info(
                "p-median B&B: %d nodes, %d open, best %g (%.1fs)",
                nodes,
                len(stack),
                sr.ub,
                time.perf_counter() - t0,
            )
    log.info("p-median B&B: proven optimum %g after %d nodes", sr.ub, nodes)
    return BBResult(sr.best_open, sr.ub, sr.ub, True, nodes)


class _Search:
    """Incumbent and bounding of :func:`lagrangian_branch_and_bound`."""

    def __init__(
        self,
        cost: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
        integral: bool,
        upper: float,
        upper_open: npt.NDArray[np.intp],
        root_iterations: int,
        node_iterations: int,
    ) -> None:
        self.cost, self.weights, self.integral = cost, weights, integral
        self.root_iterations, self.node_iterations = root_iterations, node_iterations
        self.wd = wd = weighted_costs(cost, weights)
        self.best_open = np.sort(np.asarray(upper_open, dtype=np.intp))
        # the incumbent's value in the same (penalised) terms as the bounds
        self.ub = min(float(upper), float(wd[:, self.best_open].min(axis=1).sum()))
        self.tol = 1e-9 * max(1.0, abs(self.ub))

    def pruned(self, bound: float) -> bool:
        """The bound (rounded up with integer data) reaches the incumbent."""
        b = float(math.ceil(bound - 1e-6)) if self.integral and math.isfinite(bound) else bound
        return b >= self.ub - self.tol

    def offer(self, value: float, open_sites: npt.NDArray[np.intp]) -> None:
        """Take ``open_sites`` as the incumbent if ``value`` beats it."""
        if value < self.ub - self.tol:
            self.ub, self.best_open = value, np.sort(open_sites)

    def bound(self, nd: _Node, root: bool) -> _Node:
        """Bound node ``nd``: Lagrangian bound and reduction tests, repeated while the tests fix
        candidates. Returns the reduced node with its bound in ``parent_bound`` (``inf`` for
        an infeasible node or a leaf, whose value is offered as incumbent)."""
        fixed, free, kk, lam, bound = nd.fixed, nd.free, nd.k, nd.lam, nd.parent_bound
        while True:
            if kk < 0 or free.size < kk:
                return _Node(fixed, free, kk, lam, np.inf)
            if kk == 0 or free.size == kk:
                leaf = np.concatenate([fixed, free]) if kk else fixed
                self.offer(float(self.wd[:, leaf].min(axis=1).sum()), leaf)
                return _Node(fixed, free, kk, lam, np.inf)
            out = lagrangian_reduce(
                self.cost,
                self.weights,
                fixed,
                free,
                kk,
                self.ub,
                self.best_open,
                integral=self.integral,
                lam=lam,
                wd=self.wd,
                iterations=self.root_iterations if root else self.node_iterations,
                heuristic_every=10 if root else 0,
                theta=2.0 if root else 0.5,
                min_theta=1e-3 if root else 5e-3,
            )
            root = False
            self.offer(out.upper, out.upper_open)
            lam = out.lam
            bound = max(bound, out.bound)
            if self.pruned(bound) or not (out.closed.any() or out.opened.any()):
                return _Node(fixed, free, kk, lam, bound)
            fixed = np.concatenate([fixed, free[out.opened]])
            kk -= int(out.opened.sum())
            free = free[~out.closed & ~out.opened]

    def children(self, nd: _Node) -> list[_Node]:
        """Branch on the most attractive free candidate ``j`` (most negative ``rho_j``): the
        "j closed" child first, "j open" last (so explored first)."""
        fixed, free, kk, lam, bound = nd.fixed, nd.free, nd.k, nd.lam, nd.parent_bound
        lam_c = np.minimum(self.wd[:, fixed].min(axis=1), lam) if fixed.size else lam
        rho = np.minimum(self.wd[:, free] - lam_c[:, None], 0.0).sum(axis=0)
        j = int(np.argmin(rho))
        rest = np.delete(free, j)
        return [
            _Node(fixed, rest, kk, lam, bound),
            _Node(np.append(fixed, free[j]), rest, kk - 1, lam, bound),
        ]
