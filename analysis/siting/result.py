"""What every siting model returns: :class:`SitingResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ._problem import Radius, SitingProblem

STATUSES = ("optimal", "feasible", "heuristic")


@dataclass
class SitingResult:
    """The answer of a siting model, with an honest account of its quality.

    Attributes
    ----------
    model
        ``"lscp"``, ``"mclp"``, ``"pmedian"`` or ``"pcenter"``.
    open_sites
        Indices of every open site (existing + newly opened), sorted.
    new_sites
        Indices of the newly opened sites (candidates), sorted.
    assignment
        ``(n_demand,)`` index of the site serving each demand point (nearest open site, or for
        capacitated models the site serving the largest share); ``-1`` = not served/covered.
    objective
        Objective value of the solution (units in ``objective_units``).
    status
        ``"optimal"`` (proved by the MILP), ``"feasible"`` (best found when the time limit hit;
        see ``lower_bound`` and ``gap``) or ``"heuristic"`` (no MILP was run).
    lower_bound, gap
        Proven bound on the optimum (an upper bound for maximisation) and relative gap
        ``|objective - bound| / max(|objective|, 1e-9)``; gap 0 when optimal.
    seconds
        Wall-clock solve time.
    coverage_before, coverage_after
        Share of demand weight within ``radius`` of an open site before (existing only) and
        after; ``None`` when the model has no radius.
    marginal
        The "next best point" curve: list of dicts ``{"k", "objective", "status", "sites"}``
        for k = 0..K added sites (filled by :func:`analysis.siting.marginal_curve`).
    assignment_shares
        For capacitated models: ``(n_demand, n_sites)`` share of each demand served by each
        site (rows sum to the covered share); ``None`` otherwise.
    """

    model: str
    open_sites: npt.NDArray[np.intp]
    new_sites: npt.NDArray[np.intp]
    assignment: npt.NDArray[np.intp]
    objective: float
    status: str
    lower_bound: float
    gap: float
    seconds: float
    objective_units: str
    radius: Radius | None = None
    coverage_before: float | None = None
    coverage_after: float | None = None
    marginal: list[dict[str, Any]] = field(default_factory=list)
    assignment_shares: npt.NDArray[np.float64] | None = None
    assumptions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def optimal(self) -> bool:
        """True when the objective is proved optimal."""
        return self.status == "optimal"

    def to_dict(self, problem: SitingProblem | None = None) -> dict[str, Any]:
        """JSON-ready summary (site labels from ``problem`` when given)."""

        def label(j: int) -> str | int:
            return problem.site_ids[j] if problem is not None else int(j)

        return {
            "model": self.model,
            "status": self.status,
            "objective": self.objective,
            "objective_units": self.objective_units,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "seconds": round(self.seconds, 3),
            "radius": None
            if self.radius is None
            else np.asarray(self.radius, dtype=float).tolist(),
            "open_sites": [label(j) for j in self.open_sites],
            "new_sites": [label(j) for j in self.new_sites],
            "coverage_before": self.coverage_before,
            "coverage_after": self.coverage_after,
            "marginal": self.marginal,
            "assumptions": self.assumptions,
        }


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap between a solution value and a proven bound (0 when they agree)."""
    if not np.isfinite(bound):
        return float("inf")
    return abs(objective - bound) / max(abs(objective), 1e-9)


def nearest_assignment(problem: SitingProblem, open_sites: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Index of the nearest open site for each demand (``-1`` if none is reachable)."""
    idx = np.asarray(open_sites, dtype=int)
    if idx.size == 0:
        return np.full(problem.n_demand, -1, dtype=np.intp)
    sub = problem.cost[:, idx]
    best = sub.argmin(axis=1)
    out = idx[best].astype(np.intp)
    out[~np.isfinite(sub[np.arange(problem.n_demand), best])] = -1
    return out


def covered_share(problem: SitingProblem, open_sites: npt.ArrayLike, radius: Radius) -> float:
    """Share of total demand weight within ``radius`` (a float or one threshold per demand
    point) of at least one of ``open_sites``."""
    idx = np.asarray(open_sites, dtype=int)
    total = float(problem.weights.sum())
    if idx.size == 0 or total <= 0:
        return 0.0
    cov = (problem.cost[:, idx] <= problem.radius_column(radius)).any(axis=1)
    return float(problem.weights[cov].sum() / total)
