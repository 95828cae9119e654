r"""Branch and bound on the sites of the single-source capacitated p-median.

The Lagrangian (knapsack) bound of :mod:`._cpmp` is not tight on instances whose capacities
nearly all bind (OR-Library ``pmedcap1`` 08: 771.2 against the optimum 820, 6 %; the
column-generation bound is the same), but it becomes tight once the open sites are known
(instance 08 with its five optimal sites fixed: 819.2, so ``ceil`` = 820 proves it). Hence a
depth-first branch and bound on the site variables ``y_j``:

* a node is a set ``F`` of open sites (existing and forced), a set ``C`` of free candidates
  and the number ``k'`` still to open; its bound is :math:`\max_\lambda L(\lambda)` on that
  subproblem (a fixed number of subgradient steps warm-started from the parent's
  multipliers), followed by the reduction tests on the sites (close / open a candidate when no
  solution better than the incumbent avoids / uses it), repeated while they fix anything;
* a node whose bound reaches the incumbent is pruned (integer costs: ``ceil(bound) >= UB``);
  a relaxed solution that is a partition of the demand is feasible and is offered as
  incumbent;
* when every site is decided the node is a generalised assignment problem, solved exactly by
  HiGHS unless its bound prunes it;
* otherwise it branches on the free candidate with the smallest knapsack value :math:`z_j`
  (the one the relaxation likes most): "open" explored first, then "closed".

Effort is counted in nodes and subgradient steps, never in seconds, so the same input gives
the same answer however loaded the machine is; an optional wall-clock limit only stops the
search early (the answer is then reported unproven, with the smallest bound of the open
nodes).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._cpmp import CpmpData, Incumbent, assign_to, relaxed, site_tests, subgradient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BBLimits:
    """Deterministic effort limits of :func:`site_branch_and_bound`."""

    max_nodes: int = 20000
    node_iterations: int = 40
    leaf_iterations: int = 150
    node_theta: float = 0.5
    time_limit: float | None = None


@dataclass
class BBOutcome:
    """Best solution found, the proven lower bound, whether it is optimal, nodes explored."""

    incumbent: Incumbent | None
    bound: float
    proven: bool
    nodes: int


@dataclass
class _Node:
    fixed: npt.NDArray[np.intp]  # open anyway (existing + forced)
    free: npt.NDArray[np.intp]
    k: int
    lam: npt.NDArray[np.float64]
    bound: float
    z: npt.NDArray[np.float64] | None = None  # knapsack values on ``free`` at ``lam``


def site_branch_and_bound(
    data: CpmpData,
    incumbent: Incumbent | None,
    lam: npt.NDArray[np.float64],
    root_bound: float,
    limits: BBLimits,
) -> BBOutcome:
    """Solve ``data`` exactly by branching on its candidates (module docstring).

    ``incumbent`` and ``root_bound`` come from the root (heuristics, subgradient, reduction),
    ``lam`` are the root's best multipliers.
    """
    t0 = time.perf_counter()
    sr = _Search(data, incumbent, limits)
    stack = [_Node(data.existing, data.candidates, data.k, lam, root_bound)]
    nodes = 0
    while stack:
        out_of_time = limits.time_limit is not None and time.perf_counter() - t0 > limits.time_limit
        if nodes >= limits.max_nodes or out_of_time:
            lb = min([nd.bound for nd in stack] + [sr.upper])
            log.warning(
                "capacitated p-median B&B: stopped after %d nodes; bound %g, best %g",
                nodes,
                lb,
                sr.upper,
            )
            return BBOutcome(sr.inc, float(lb), False, nodes)
        nd = stack.pop()
        if sr.pruned(nd.bound):
            continue
        nodes += 1
        bounded = sr.bound(nd)
        if sr.pruned(bounded.bound):
            continue
        stack.extend(sr.children(bounded))
        if nodes % 100 == 0:
            log.info(
                "capacitated p-median B&B: %d nodes, %d open, best %g, smallest open bound %g",
                nodes,
                len(stack),
                sr.upper,
                min(nd.bound for nd in stack),
            )
    log.info("capacitated p-median B&B: proven optimum %g after %d nodes", sr.upper, nodes)
    return BBOutcome(sr.inc, sr.upper, True, nodes)


class _Search:
    """Incumbent, bounding and branching of :func:`site_branch_and_bound`."""

    def __init__(self, data: CpmpData, inc: Incumbent | None, limits: BBLimits) -> None:
        self.data, self.inc, self.limits = data, inc, limits

    @property
    def upper(self) -> float:
        return np.inf if self.inc is None else self.inc[0]

    def pruned(self, bound: float) -> bool:
        """The bound (rounded up with integer costs) reaches the incumbent."""
        ub = self.upper
        if not math.isfinite(ub):
            return bound == np.inf
        b = math.ceil(bound - 1e-6) if self.data.integral and math.isfinite(bound) else bound
        return b >= ub - 1e-9 * max(1.0, abs(ub))

    def offer(self, got: Incumbent | None) -> None:
        ub = self.upper
        if got is not None and (self.inc is None or got[0] < ub - 1e-9 * max(1.0, abs(ub))):
            log.info("capacitated p-median B&B: incumbent %g", got[0])
            self.inc = got

    def _sub(self, fixed: npt.NDArray[np.intp], free: npt.NDArray[np.intp], k: int) -> CpmpData:
        """The subproblem on the columns ``fixed`` then ``free`` (local numbering)."""
        d = self.data
        cols = np.concatenate([fixed, free])
        return CpmpData(
            cost=d.cost[:, cols],
            load=d.load,
            caps=d.caps[cols],
            existing=np.arange(fixed.size, dtype=np.intp),
            candidates=np.arange(fixed.size, cols.size, dtype=np.intp),
            k=k,
            integral=d.integral,
        )

    def bound(self, nd: _Node) -> _Node:
        """Bound ``nd`` and apply the site tests while they fix anything; the returned node
        carries the bound (``inf`` when infeasible or settled as a leaf)."""
        fixed, free, k, lam, bound = nd.fixed, nd.free, nd.k, nd.lam, nd.bound
        while True:
            if k < 0 or free.size < k:
                return _Node(fixed, free, k, lam, np.inf)
            if k == 0 or free.size == k:
                sites = np.concatenate([fixed, free]) if k else fixed
                return self._leaf(sites, lam, bound)
            sub = self._sub(fixed, free, k)
            if not np.isfinite(sub.cost).any(axis=1).all():
                return _Node(fixed, free, k, lam, np.inf)
            val, lams, _ = subgradient(
                sub,
                self.upper,
                lam,
                iterations=self.limits.node_iterations,
                theta=self.limits.node_theta,
            )
            lam = lams[0]
            bound = max(bound, val)
            if self.pruned(bound):
                return _Node(fixed, free, k, lam, bound)
            at = relaxed(sub, lam)
            if at.partition:
                self.offer(self._feasible(sub, at.assign, fixed, free))
            closed, opened = site_tests(sub, at, self.upper)
            if not (closed.any() or opened.any()):
                return _Node(fixed, free, k, lam, bound, at.z[sub.candidates])
            c_closed, c_opened = closed[sub.candidates], opened[sub.candidates]
            fixed = np.concatenate([fixed, free[c_opened]])
            k -= int(c_opened.sum())
            free = free[~c_closed & ~c_opened]

    def _feasible(
        self,
        sub: CpmpData,
        assign: npt.NDArray[np.intp],
        fixed: npt.NDArray[np.intp],
        free: npt.NDArray[np.intp],
    ) -> Incumbent:
        cols = np.concatenate([fixed, free])
        sites = np.unique(np.concatenate([fixed, cols[assign]]))
        return sub.value(assign), cols[assign], sites

    def _leaf(
        self, sites: npt.NDArray[np.intp], lam: npt.NDArray[np.float64], bound: float
    ) -> _Node:
        """Every site decided: bound the assignment problem, solve it exactly if needed."""
        sub = self._sub(sites, np.zeros(0, dtype=np.intp), 0)
        done = _Node(sites, np.zeros(0, dtype=np.intp), 0, lam, np.inf)
        if not np.isfinite(sub.cost).any(axis=1).all():
            return done
        val, _lams, _ = subgradient(
            sub,
            self.upper,
            lam,
            iterations=self.limits.leaf_iterations,
            theta=self.limits.node_theta,
        )
        if self.pruned(max(bound, val)):
            return done
        self.offer(assign_to(self.data, sites))
        return done

    def children(self, nd: _Node) -> list[_Node]:
        """Branch on the free candidate with the smallest knapsack value: "closed" first on
        the stack, "open" last (so explored first)."""
        assert nd.z is not None
        j = int(np.argmin(nd.z))
        rest = np.delete(nd.free, j)
        return [
            _Node(nd.fixed, rest, nd.k, nd.lam, nd.bound),
            _Node(np.append(nd.fixed, nd.free[j]), rest, nd.k - 1, nd.lam, nd.bound),
        ]
