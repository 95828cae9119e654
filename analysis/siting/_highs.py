"""Thin layer over highspy: build a MILP from arrays, warm-start it, report an honest status."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError, SolverError

log = logging.getLogger(__name__)

INF = highspy.kHighsInf


_BANNER_LOCK = threading.Lock()
_banner_shown = [False]


def new_highs() -> highspy.Highs:
    """A silent :class:`highspy.Highs`.

    HiGHS prints its copyright banner on the C-level stdout when the first instance of a process
    is built, before any option can be set; that would corrupt ``--json`` output, so the first
    construction runs with file descriptor 1 pointed at ``/dev/null``.
    """
    with _BANNER_LOCK:
        if _banner_shown[0]:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
            _banner_shown[0] = True
    h.setOptionValue("output_flag", False)
    return h


PRIMAL_HEURISTICS = (
    "mip_heuristic_run_rins",
    "mip_heuristic_run_rens",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_feasibility_jump",
)
"""HiGHS heuristics that ``mip_heuristic_effort = 0`` leaves on (sub-MIPs included)."""


def _proof_only(h: highspy.Highs) -> None:
    """No primal heuristics: the caller holds the incumbent, HiGHS only has to prove it.
    (On pmedcap1_08 the sub-MIPs took a quarter of the time.)"""
    h.setOptionValue("mip_heuristic_effort", 0.0)
    for name in PRIMAL_HEURISTICS:
        h.setOptionValue(name, False)


class NoSolutionError(SolverError):
    """No feasible solution within the limits; ``bound`` is the search's proven dual bound
    (for callers that hold an incumbent of their own, e.g. under a cutoff)."""

    def __init__(self, message: str, *, bound: float) -> None:
        super().__init__(message)
        self.bound = bound


class HighsSolveError(SolverError):
    """HiGHS stopped with its own "Solve error" status (seen in 1.16 when presolve reduces a
    small set-partitioning MILP to a point that violates a row); retrying without presolve
    works."""


@dataclass
class MilpSolution:
    """Outcome of one HiGHS run."""

    x: npt.NDArray[np.float64]
    objective: float
    bound: float
    optimal: bool
    seconds: float


class Milp:
    """Accumulates columns and CSR rows, then solves with HiGHS.

    Parameters
    ----------
    sense
        ``"min"`` or ``"max"``.
    """

    def __init__(self, sense: str = "min") -> None:
        self.sense = sense
        self.cost: list[npt.NDArray[np.float64]] = []
        self.lb: list[npt.NDArray[np.float64]] = []
        self.ub: list[npt.NDArray[np.float64]] = []
        self.integer: list[npt.NDArray[np.bool_]] = []
        self.n_col = 0
        self.rows_lo: list[npt.NDArray[np.float64]] = []
        self.rows_hi: list[npt.NDArray[np.float64]] = []
        self.rows_start: list[npt.NDArray[np.int64]] = []
        self.rows_idx: list[npt.NDArray[np.int64]] = []
        self.rows_val: list[npt.NDArray[np.float64]] = []
        self.n_row = 0
        self.offset = 0.0

    def add_cols(
        self,
        cost: npt.ArrayLike,
        lb: float | npt.ArrayLike = 0.0,
        ub: float | npt.ArrayLike = 1.0,
        integer: bool = False,
    ) -> npt.NDArray[np.intp]:
        """Add columns; return their indices."""
        c = np.atleast_1d(np.asarray(cost, dtype=float))
        k = c.size
        self.cost.append(c)
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (k,)).copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (k,)).copy())
        self.integer.append(np.full(k, integer))
        idx = np.arange(self.n_col, self.n_col + k)
        self.n_col += k
        return idx

    def add_rows(
        self,
        lo: npt.ArrayLike,
        hi: npt.ArrayLike,
        start: npt.ArrayLike,
        index: npt.ArrayLike,
        value: npt.ArrayLike,
    ) -> None:
        """Add rows ``lo <= A x <= hi`` given in CSR form (``start`` has one entry per row)."""
        lo_a = np.atleast_1d(np.asarray(lo, dtype=float))
        hi_a = np.broadcast_to(np.asarray(hi, dtype=float), lo_a.shape).copy()
        self.rows_lo.append(lo_a)
        self.rows_hi.append(hi_a)
        self.rows_start.append(np.asarray(start, dtype=np.int64))
        self.rows_idx.append(np.asarray(index, dtype=np.int64))
        self.rows_val.append(np.asarray(value, dtype=float))
        self.n_row += lo_a.size

    def add_row(self, lo: float, hi: float, index: npt.ArrayLike, value: npt.ArrayLike) -> None:
        """Add one row."""
        self.add_rows([lo], [hi], [0], index, value)

    def solve(
        self,
        *,
        time_limit: float | None = None,
        start: npt.ArrayLike | None = None,
        integral_objective: bool = False,
        seed: int = 0,
        label: str = "milp",
        relax: bool = False,
        cutoff: float | None = None,
        node_limit: int | None = None,
        heuristics: bool = True,
        presolve: bool = True,
    ) -> MilpSolution:
        """Solve; raise :class:`InfeasibleError` / :class:`SolverError` when no solution exists.

        ``integral_objective`` declares every feasible objective an integer, so a gap below 1 is
        a proof of optimality (HiGHS's ``mip_abs_gap`` is set just below 1). ``cutoff`` (for a
        minimisation) prunes every node not below it: :class:`InfeasibleError` then means that
        no solution below ``cutoff`` exists, and so does an optimal status with a solution at
        or above it (HiGHS 1.16 may keep one it found before pruning). ``node_limit`` caps
        HiGHS's branch-and-bound nodes: a deterministic effort limit (the same input gives the
        same answer on a loaded machine, unlike ``time_limit``). ``heuristics=False`` switches
        HiGHS's primal heuristics off (as under a ``cutoff``): for small models that its branch
        and bound solves anyway, e.g. the capacitated p-median's restricted MILP (pmedcap1_14:
        2.8 -> 1.4 s, same optimum). ``presolve=False`` skips HiGHS's presolve.
        """
        t0 = time.perf_counter()
        h = new_highs()
        h.setOptionValue("random_seed", int(seed))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6 if integral_objective else 1e-6)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        if node_limit is not None:
            h.setOptionValue("mip_max_nodes", int(max(node_limit, 1)))
        if cutoff is not None:
            h.setOptionValue("objective_bound", float(cutoff - self.offset))
        if cutoff is not None or not heuristics:
            _proof_only(h)
        if not presolve:
            h.setOptionValue("presolve", "off")
        n_integer = self._load(h, relax)
        if start is not None:
            sol = np.asarray(start, dtype=float)
            h.setSolution(sol.size, np.arange(sol.size, dtype=np.int32), sol)
            # the incumbent comes from our own heuristic: spend the time on the bound
            h.setOptionValue("mip_heuristic_effort", 0.0)
        log.debug("%s: %d columns, %d rows", label, self.n_col, self.n_row)
        h.run()
        return self._solution(h, n_integer, label, t0)

    def _load(self, h: highspy.Highs, relax: bool) -> int:
        """Pass columns, integrality (none if ``relax``), rows and sense to ``h``; returns the
        number of integer columns."""
        cost = np.concatenate(self.cost)
        lb, ub = np.concatenate(self.lb), np.concatenate(self.ub)
        h.addCols(
            self.n_col, cost, lb, ub, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
        )
        integer = np.flatnonzero(np.concatenate(self.integer)).astype(np.int32)
        if relax:
            integer = integer[:0]
        if integer.size:
            h.changeColsIntegrality(
                integer.size, integer, np.full(integer.size, highspy.HighsVarType.kInteger)
            )
        if self.n_row:
            starts, offset = [], 0
            for s, idx in zip(self.rows_start, self.rows_idx, strict=True):
                starts.append(s + offset)
                offset += idx.size
            index = np.concatenate(self.rows_idx).astype(np.int32)
            h.addRows(
                self.n_row,
                np.concatenate(self.rows_lo),
                np.concatenate(self.rows_hi),
                index.size,
                np.concatenate(starts).astype(np.int32),
                index,
                np.concatenate(self.rows_val),
            )
        if self.sense == "max":
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        return int(integer.size)

    def _solution(self, h: highspy.Highs, n_integer: int, label: str, t0: float) -> MilpSolution:
        """Read the solved model: objective (plus offset), bound (the MIP dual bound unless
        optimal), or :class:`InfeasibleError` / :class:`SolverError`."""
        status = h.getModelStatus()
        info = h.getInfo()
        seconds = time.perf_counter() - t0
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InfeasibleError(f"{label}: the model has no feasible solution")
        if status == highspy.HighsModelStatus.kSolveError:
            raise HighsSolveError(f"{label}: HiGHS reported a solve error")
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            raise NoSolutionError(
                f"{label}: HiGHS found no feasible solution (status "
                f"{h.modelStatusToString(status)}) within the time limit; raise --time-limit",
                bound=float(info.mip_dual_bound) + self.offset,
            )
        x = np.asarray(h.getSolution().col_value, dtype=float)
        obj = float(info.objective_function_value) + self.offset
        optimal = status == highspy.HighsModelStatus.kOptimal
        bound = obj if optimal else float(info.mip_dual_bound) + self.offset
        if not n_integer:
            bound = obj if optimal else bound
        log.debug(
            "%s: %s obj=%g bound=%g in %.2fs",
            label,
            h.modelStatusToString(status),
            obj,
            bound,
            seconds,
        )
        return MilpSolution(x=x, objective=obj, bound=bound, optimal=optimal, seconds=seconds)


def csr_from_lists(
    rows: list[npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """CSR ``(start, index)`` arrays from a list of per-row column index arrays."""
    lens = np.fromiter((r.size for r in rows), dtype=np.int64, count=len(rows))
    start = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        start[1:] = np.cumsum(lens)[:-1]
    index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    return start, index
