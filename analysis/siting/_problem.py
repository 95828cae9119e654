"""The validated input of every siting model: costs, demand weights, facility roles.

A :class:`SitingProblem` is the one object the models in :mod:`analysis.siting` accept. Demand
points are rows ``i`` of the cost matrix, potential sites are its columns ``j``; ``cost[i, j]`` is
the travel time (or any cost) from demand ``i`` to site ``j`` and ``inf`` means unreachable.
Every site has a role:

``existing``
    already open; every model keeps it open and counts its coverage;
``candidate``
    may be opened;
``excluded``
    never opened (kept so that indices stay aligned with the caller's table).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from doorstep.geo._errors import InfeasibleError, InputError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

ROLES = ("existing", "candidate", "excluded")

Radius = float | npt.NDArray[np.float64]
"""A coverage threshold: one value for every demand point, or one per demand point (``(n,)``)."""


def describe_radius(radius: Radius, units: str = "minutes") -> str:
    """A threshold in words: ``"30 minutes"`` or ``"each demand point's own threshold (15–30
    minutes)"``."""
    r = np.asarray(radius, dtype=float)
    if r.ndim == 0:
        return f"{float(r):g} {units}"
    lo, hi = float(r.min()), float(r.max())
    span = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
    return f"each demand point's own threshold ({span} {units})"


@dataclass(frozen=True)
class SitingProblem:
    """A location problem on a cost matrix.

    Parameters
    ----------
    cost
        ``(n_demand, n_sites)`` float array, non-negative; ``inf`` = unreachable.
    weights
        ``(n_demand,)`` non-negative demand weights (population, cases, ...).
    roles
        ``(n_sites,)`` array of ``"existing"``, ``"candidate"`` or ``"excluded"``.
    capacities
        Optional ``(n_sites,)`` capacity in the units of ``weights`` (e.g. population an adviser's
        staff-hours can serve); ``inf`` = uncapacitated.
    opening_costs
        Optional ``(n_sites,)`` cost of opening each candidate (existing sites cost nothing).
    budget
        Optional limit on the total opening cost of the newly opened sites.
    demand_ids, site_ids
        Labels used in results and error messages (default ``"0"``, ``"1"``, ...).
    units
        Units of ``cost`` (carried into every result).
    """

    cost: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    roles: npt.NDArray[np.str_]
    capacities: npt.NDArray[np.float64] | None = None
    opening_costs: npt.NDArray[np.float64] | None = None
    budget: float | None = None
    demand_ids: tuple[str, ...] = field(default=())
    site_ids: tuple[str, ...] = field(default=())
    units: str = "minutes"

    def __post_init__(self) -> None:
        cost = np.asarray(self.cost, dtype=float)
        if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
            raise InputError(f"cost must be a non-empty 2-D matrix, got shape {cost.shape}")
        n, m = cost.shape
        if np.isnan(cost).any():
            raise InputError("cost contains NaN; use inf for unreachable pairs")
        if (cost < 0).any():
            raise InputError("cost contains negative values; travel costs must be >= 0")
        w = np.asarray(self.weights, dtype=float)
        if w.shape != (n,):
            raise InputError(f"weights must have shape ({n},), got {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("weights must be finite and >= 0")
        roles = np.asarray(self.roles, dtype=str)
        if roles.shape != (m,):
            raise InputError(f"roles must have shape ({m},), got {roles.shape}")
        bad = sorted(set(roles.tolist()) - set(ROLES))
        if bad:
            raise InputError(f"unknown site roles {bad}; use one of {ROLES}")
        caps = None
        if self.capacities is not None:
            caps = np.asarray(self.capacities, dtype=float)
            if caps.shape != (m,) or np.isnan(caps).any() or (caps < 0).any():
                raise InputError(f"capacities must be ({m},) values >= 0 (inf = uncapacitated)")
        oc = None
        if self.opening_costs is not None:
            oc = np.asarray(self.opening_costs, dtype=float)
            if oc.shape != (m,) or not np.isfinite(oc).all() or (oc < 0).any():
                raise InputError(f"opening_costs must be ({m},) finite values >= 0")
        if self.budget is not None and (not np.isfinite(self.budget) or self.budget < 0):
            raise InputError(f"budget must be a finite number >= 0, got {self.budget}")
        dids = tuple(str(x) for x in self.demand_ids) or tuple(str(i) for i in range(n))
        sids = tuple(str(x) for x in self.site_ids) or tuple(str(j) for j in range(m))
        if len(dids) != n or len(sids) != m:
            raise InputError("demand_ids / site_ids must have one label per row / column")
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "roles", roles)
        object.__setattr__(self, "capacities", caps)
        object.__setattr__(self, "opening_costs", oc)
        object.__setattr__(self, "demand_ids", dids)
        object.__setattr__(self, "site_ids", sids)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_cost_matrix(
        cls,
        cost: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
        *,
        existing: Sequence[int] = (),
        excluded: Sequence[int] = (),
        capacities: npt.ArrayLike | None = None,
        opening_costs: npt.ArrayLike | None = None,
        budget: float | None = None,
        demand_ids: Sequence[object] = (),
        site_ids: Sequence[object] = (),
        units: str = "minutes",
    ) -> SitingProblem:
        """Build a problem from a matrix; every site not listed is a candidate.

        ``existing`` and ``excluded`` are column indices; weights default to 1.
        """
        c = np.asarray(cost, dtype=float)
        if c.ndim != 2:
            raise InputError(f"cost must be a 2-D matrix, got {c.ndim} dimensions")
        roles = np.full(c.shape[1], "candidate", dtype=object)
        ex, excl = set(int(j) for j in existing), set(int(j) for j in excluded)
        if ex & excl:
            raise InputError(f"sites {sorted(ex & excl)} are both existing and excluded")
        for j in ex | excl:
            if not 0 <= j < c.shape[1]:
                raise InputError(f"site index {j} out of range 0..{c.shape[1] - 1}")
        roles[list(ex)] = "existing"
        roles[list(excl)] = "excluded"
        w = np.ones(c.shape[0]) if weights is None else np.asarray(weights, dtype=float)
        return cls(
            cost=c,
            weights=w,
            roles=roles.astype(str),
            capacities=None if capacities is None else np.asarray(capacities, dtype=float),
            opening_costs=None if opening_costs is None else np.asarray(opening_costs, dtype=float),
            budget=budget,
            demand_ids=tuple(str(x) for x in demand_ids),
            site_ids=tuple(str(x) for x in site_ids),
            units=units,
        )

    @classmethod
    def from_geodataframe(
        cls,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        cost: npt.ArrayLike,
        *,
        weight: str | None = "population",
        role: str = "role",
        capacity: str | None = None,
        opening_cost: str | None = None,
        budget: float | None = None,
        demand_id: str = "code",
        site_id: str = "id",
        units: str = "minutes",
    ) -> SitingProblem:
        """Build a problem from a demand table, a site table and their cost matrix.

        ``sites[role]`` holds each site's role; optional columns ``capacity`` and
        ``opening_cost`` give capacities and opening costs. ``cost`` rows follow ``demand``,
        columns follow ``sites`` (e.g. ``geo.routing.od_matrix(...).minutes``).
        """
        for col, table, tname in (
            (weight, demand, "demand"),
            (demand_id, demand, "demand"),
            (role, sites, "sites"),
            (site_id, sites, "sites"),
            (capacity, sites, "sites"),
            (opening_cost, sites, "sites"),
        ):
            if col is not None and col not in table.columns:
                raise InputError(f"{tname} table has no column '{col}'")
        w = None if weight is None else demand[weight].to_numpy(dtype=float)
        return cls(
            cost=np.asarray(cost, dtype=float),
            weights=np.ones(len(demand)) if w is None else w,
            roles=sites[role].astype(str).to_numpy(),
            capacities=None if capacity is None else sites[capacity].to_numpy(dtype=float),
            opening_costs=None
            if opening_cost is None
            else sites[opening_cost].to_numpy(dtype=float),
            budget=budget,
            demand_ids=tuple(demand[demand_id].astype(str)),
            site_ids=tuple(sites[site_id].astype(str)),
            units=units,
        )

    # ------------------------------------------------------------------ helpers
    @property
    def n_demand(self) -> int:
        """Number of demand points (rows)."""
        return int(self.cost.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of sites (columns), whatever their role."""
        return int(self.cost.shape[1])

    @property
    def existing(self) -> npt.NDArray[np.intp]:
        """Indices of sites that are already open."""
        return np.flatnonzero(self.roles == "existing")

    @property
    def candidates(self) -> npt.NDArray[np.intp]:
        """Indices of sites that may be opened."""
        return np.flatnonzero(self.roles == "candidate")

    @property
    def usable(self) -> npt.NDArray[np.intp]:
        """Indices of existing and candidate sites (everything but excluded)."""
        return np.flatnonzero(self.roles != "excluded")

    @property
    def capacitated(self) -> bool:
        """True when at least one usable site has a finite capacity."""
        return self.capacities is not None and bool(np.isfinite(self.capacities[self.usable]).any())

    def site_cost(self) -> npt.NDArray[np.float64]:
        """Opening cost per site (zeros when none given; existing sites always 0)."""
        oc = np.zeros(self.n_sites) if self.opening_costs is None else self.opening_costs.copy()
        oc[self.existing] = 0.0
        return oc

    def radius_column(self, radius: Radius) -> float | npt.NDArray[np.float64]:
        """``radius`` ready to compare with ``cost``: a float, or a ``(n_demand, 1)`` column.

        A per-demand radius :math:`T_i` covers :math:`i` from :math:`j` when
        :math:`d_{ij} \\le T_i`.
        """
        r = np.asarray(radius, dtype=float)
        if r.ndim == 0:
            if np.isnan(r) or r < 0:
                raise InputError(f"radius must be >= 0, got {float(r)}")
            return float(r)
        if r.shape != (self.n_demand,) or np.isnan(r).any() or (r < 0).any():
            raise InputError(
                f"a per-demand radius must be {self.n_demand} values >= 0, got shape {r.shape}"
            )
        return r[:, None]

    def coverage(self, radius: Radius) -> npt.NDArray[np.bool_]:
        """Boolean ``(n_demand, n_sites)``: site ``j`` reaches demand ``i`` within ``radius``
        (a float, or one threshold per demand point)."""
        cov = (self.cost <= self.radius_column(radius)) & np.isfinite(self.cost)
        cov[:, self.roles == "excluded"] = False
        return cov

    def check_coverable(self, radius: Radius) -> None:
        """Raise :class:`InfeasibleError` naming demand points no usable site reaches."""
        cov = self.coverage(radius)
        lost = np.flatnonzero(~cov.any(axis=1) & (self.weights > 0))
        if lost.size:
            names = ", ".join(self.demand_ids[i] for i in lost[:20])
            more = f" (and {lost.size - 20} more)" if lost.size > 20 else ""
            raise InfeasibleError(
                f"{lost.size} demand point(s) cannot be reached within "
                f"{describe_radius(radius, self.units)} from any existing or candidate site: "
                f"{names}{more}"
            )

    def check_reachable(self) -> None:
        """Raise :class:`InfeasibleError` naming demand points no usable site reaches at all."""
        self.check_coverable(np.inf)

    def objective_sum(self, open_sites: npt.ArrayLike) -> float:
        """Weighted sum of distances to the nearest open site (uncapacitated p-median cost)."""
        idx = np.asarray(open_sites, dtype=int)
        d = self.cost[:, idx].min(axis=1)
        return float(self.weights @ d)
