"""Supply–demand accessibility: two-step floating catchment area (2SFCA / E2SFCA).

Step 1, for every service point ``j`` with supply ``S_j`` (staffed hours per month)::

    R_j = S_j / Σ_{k : d_kj ≤ d0} P_k · W(d_kj)

Step 2, for every village ``i``::

    A_i = Σ_{j : d_ij ≤ d0} R_j · W(d_ij)

``d`` is travel time (minutes), ``d0`` the catchment, ``P`` population. Decay ``W``:

* ``step`` — ``W = 1`` inside the catchment (classic 2SFCA, Luo & Wang 2003);
* ``linear`` — ``W = 1 − d/d0``;
* ``gaussian`` — ``W = (exp(−½(d/d0)²) − exp(−½)) / (1 − exp(−½))`` (Dai 2010);
* ``e2sfca`` — stepped weights per sub-zone (Luo & Qi 2009), default zones 0–10, 10–20,
  20–30 min of a 30-min catchment with Gaussian weights 1.00, 0.68, 0.22 (scaled to ``d0``).

``A_i`` is in hours per month per resident; tables report it per 1,000 residents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from doorstep.geo._errors import InputError
from doorstep.geo.routing import od_matrix
from doorstep.geo.services import service_rules

from .coverage import quality_of

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

DECAYS = ("step", "linear", "gaussian", "e2sfca")


@dataclass(frozen=True)
class FCAParams:
    """Parameters of (E)2SFCA: catchment (minutes), decay and, for E2SFCA, zone edges as
    fractions of the catchment with their weights."""

    catchment: float = 30.0
    decay: str = "step"
    zones: tuple[float, ...] = (1 / 3, 2 / 3, 1.0)
    zone_weights: tuple[float, ...] = (1.0, 0.68, 0.22)

    def __post_init__(self) -> None:
        if not self.catchment > 0:
            raise InputError(f"catchment must be positive minutes, got {self.catchment}")
        if self.decay not in DECAYS:
            raise InputError(f"unknown decay {self.decay!r}; use one of {', '.join(DECAYS)}")
        if len(self.zones) != len(self.zone_weights) or not self.zones:
            raise InputError("E2SFCA zones and zone_weights must have the same non-zero length")
        if list(self.zones) != sorted(self.zones) or self.zones[-1] != 1.0:
            raise InputError("E2SFCA zones must increase and end at 1.0 (the catchment)")
        if any(not 0 <= w <= 1 for w in self.zone_weights):
            raise InputError("E2SFCA zone weights must be in [0, 1]")


def decay_weights(t: np.ndarray, params: FCAParams) -> np.ndarray:
    """Weight ``W(d)`` for travel times ``t`` (0 outside the catchment or unreachable)."""
    d0 = params.catchment
    t = np.asarray(t, dtype=float)
    inside = np.isfinite(t) & (t <= d0)
    r = np.where(inside, t / d0, 0.0)
    if params.decay == "step":
        w = np.ones_like(r)
    elif params.decay == "linear":
        w = 1.0 - r
    elif params.decay == "gaussian":
        e = np.exp(-0.5)
        w = (np.exp(-0.5 * r**2) - e) / (1.0 - e)
    else:
        edges = np.asarray(params.zones)
        zone = np.minimum(np.searchsorted(edges, r, side="left"), len(edges) - 1)
        w = np.asarray(params.zone_weights)[zone]
    return np.where(inside, w, 0.0)


def two_step_fca(
    times: np.ndarray, demand: Sequence[float], supply: Sequence[float], params: FCAParams
) -> tuple[np.ndarray, np.ndarray]:
    """Core (E)2SFCA on a travel-time matrix ``times`` (n_demand, n_supply) in minutes.

    Returns ``(A, R)``: accessibility per demand point and supply-to-demand ratio per supply
    point (supply units per person).
    """
    t = np.asarray(times, dtype=float)
    p = np.asarray(demand, dtype=float)
    s = np.asarray(supply, dtype=float)
    if t.shape != (p.size, s.size):
        raise InputError(f"times must be {p.size} x {s.size}, got {t.shape}")
    if (p < 0).any() or (s < 0).any():
        raise InputError("demand and supply must be non-negative")
    w = decay_weights(t, params)
    weighted_demand = p @ w
    r = np.divide(s, weighted_demand, out=np.zeros_like(s), where=weighted_demand > 0)
    return w @ r, r


def accessibility(
    model: CountyModel,
    mode: str = "car",
    params: FCAParams | None = None,
    staffed_only: bool = True,
) -> pd.DataFrame:
    """(E)2SFCA score of every village: staffed hours per month per 1,000 residents.

    Supply is ``hours_per_month`` of each service point, with ``staffed_only`` of the points
    counting for coverage only (:mod:`geo.services`: no village rooms, no correction centre),
    demand the village population.
    """
    params = params or FCAParams()
    sp = model.service_points
    if staffed_only:
        sp = service_rules().coverage_points(sp)
    v = model.villages
    od = od_matrix(model, v, sp, mode, cutoff=params.catchment)
    a, _ = two_step_fca(
        od.minutes, v["population"].to_numpy(float), sp["hours_per_month"].to_numpy(float), params
    )
    out = pd.DataFrame(
        {
            "code": v["code"].to_numpy(),
            "name": v["name"].to_numpy(),
            "town_code": v["town_code"].to_numpy(),
            "population": v["population"].to_numpy(),
            "mode": mode,
            "access_hours_per_1000": a * 1000.0,
        }
    )
    out.attrs["units"] = {
        "access_hours_per_1000": "staffed hours per month per 1,000 residents",
        "population": "persons",
    }
    out.attrs["params"] = {"catchment_min": params.catchment, "decay": params.decay}
    out.attrs["quality"] = quality_of(model)
    return out
