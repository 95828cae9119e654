r"""Demand for legal services and the capacity that meets it: the county centre's windows as an
M/M/c queue, county demand spread to villages and points, and 2SFCA accessibility.

**Queue at the county centre** (Erlang C). Arrivals per open hour in year ``n`` after the base
year (consultations grow by ``g`` a year, other service matters stay flat, ``k`` = peak factor,
``D`` working days, ``H`` open hours a day):

.. math:: \lambda_n = k\,\frac{C_0 (1+g)^n + M_0}{D\,H}, \qquad
          \mu = \frac{60}{\bar s}, \quad
          \bar s = \frac{C_0 s_C + M_0 s_M}{C_0 + M_0}

(``\bar s`` the mean minutes per visit at the base year's mix), ``c`` windows, offered load
``a = \lambda/\mu`` and utilisation ``\rho = a/c``. For ``\rho < 1`` the probability that a
visitor waits and the mean wait are

.. math:: P_W = \frac{\frac{a^c}{c!}\frac{1}{1-\rho}}
                     {\sum_{k=0}^{c-1}\frac{a^k}{k!} + \frac{a^c}{c!}\frac{1}{1-\rho}},
          \qquad W_q = \frac{P_W}{c\mu - \lambda};

for ``\rho \ge 1`` the queue grows without bound (``W_q = \infty``). The windows saturate in the
first year with ``\lambda_n \ge c\mu``:

.. math:: n^* = \left\lceil \frac{\ln\big((c\mu - \lambda_M)/\lambda_{C,0}\big)}{\ln(1+g)}
          \right\rceil

with :math:`\lambda_M`, :math:`\lambda_{C,0}` the flat and the growing part of :math:`\lambda_0`.

**Spread** (modelled). Service ``s`` with county demand :math:`D_s` a year: village ``i`` of
population :math:`P_i` asks :math:`d_{is} = D_s P_i / \sum_k P_k` and goes to its nearest point
open for ``s`` (travel time by the coverage mode); point ``j`` needs
:math:`h_j = \sum_s m_s \sum_{i \to j} d_{is} / 60` staff hours a year against
:math:`12 \times` its staffed hours per month.

**Accessibility**: (E)2SFCA of :mod:`analysis.accessibility` with supply = staffed hours per
month of each point counting for coverage.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.params import _read_toml
from doorstep.geo.services import county_centre
from doorstep.geo.settings import project_data_dir

from .accessibility import FCAParams, accessibility
from .coverage import CoverageTarget, _json_records, coverage, quality_of

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

DEMAND_TOML = project_data_dir() / "params" / "demand.toml"


@dataclass(frozen=True)
class DemandParams:
    """The county's demand figures and the queue's assumptions (``data/params/demand.toml``,
    each value labelled there "from the county report" or "modelled")."""

    base_year: int
    horizon_years: int
    legal_aid_cases: float
    legal_aid_consultations: float
    court_defences: float
    centre_consultations: float
    centre_matters: float
    consultation_growth: float
    minutes_per_consultation: float
    minutes_per_matter: float
    working_days: float
    open_hours_per_day: float
    peak_factor: float
    spread: dict[str, float]
    spread_minutes: dict[str, float]
    catchment_min: float = 30.0
    decay: str = "gaussian"
    source: str = "data/params/demand.toml"

    def __post_init__(self) -> None:
        for name, v in asdict(self).items():
            if isinstance(v, int | float) and not isinstance(v, bool) and not v >= 0:
                raise DataFileError(self.source, f"{name} = {v} must be ≥ 0", field=name)
        for name in ("working_days", "open_hours_per_day", "peak_factor"):
            if getattr(self, name) <= 0:
                raise DataFileError(self.source, f"{name} must be > 0", field=name)
        if self.centre_consultations + self.centre_matters <= 0:
            raise DataFileError(
                self.source, "the county centre has no demand", field="county_centre"
            )
        if missing := sorted(set(self.spread) - set(self.spread_minutes)):
            raise DataFileError(
                self.source,
                f"no staff minutes for {missing}",
                field="spread",
                fix="add minutes_<service> for every service spread",
            )

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> DemandParams:
        """Read ``demand.toml`` (default: ``data/params``)."""
        p = Path(path) if path else DEMAND_TOML
        d = _read_toml(p)
        try:
            la, cc, q, sp = (d[k] for k in ("legal_aid_centre", "county_centre", "queue", "spread"))
            acc = d.get("accessibility", {})
            return cls(
                base_year=int(d["base_year"]),
                horizon_years=int(d["horizon_years"]),
                legal_aid_cases=float(la["cases_per_year"]),
                legal_aid_consultations=float(la["consultations_per_year"]),
                court_defences=float(la["court_defences_per_year"]),
                centre_consultations=float(cc["consultations_per_year"]),
                centre_matters=float(cc["service_matters_per_year"]),
                consultation_growth=float(cc["consultation_growth"]),
                minutes_per_consultation=float(q["minutes_per_consultation"]),
                minutes_per_matter=float(q["minutes_per_matter"]),
                working_days=float(q["working_days_per_year"]),
                open_hours_per_day=float(q["open_hours_per_day"]),
                peak_factor=float(q["peak_factor"]),
                spread={k: float(v) for k, v in sp.items() if not k.startswith("minutes_")},
                spread_minutes={
                    k.removeprefix("minutes_"): float(v)
                    for k, v in sp.items()
                    if k.startswith("minutes_")
                },
                catchment_min=float(acc.get("catchment_min", 30.0)),
                decay=str(acc.get("decay", "gaussian")),
                source=str(p),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(
                p, f"missing or malformed value ({exc})", fix="compare with the repository"
            ) from None

    def mean_service_minutes(self) -> float:
        """:math:`\\bar s`: minutes per visit at the county centre, weighted by the base mix."""
        c, m = self.centre_consultations, self.centre_matters
        return (c * self.minutes_per_consultation + m * self.minutes_per_matter) / (c + m)

    def arrivals_per_hour(self, years: float) -> tuple[float, float]:
        """:math:`(\\lambda_{C,n}, \\lambda_M)`: growing and flat arrivals per open hour."""
        hours = self.working_days * self.open_hours_per_day
        grow = self.peak_factor * self.centre_consultations / hours
        flat = self.peak_factor * self.centre_matters / hours
        return grow * (1.0 + self.consultation_growth) ** years, flat


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """:math:`P_W` of an M/M/c queue (probability an arrival waits); 1 when saturated.

    Computed by the Erlang B recursion :math:`B_0 = 1`, :math:`B_k = aB_{k-1}/(k + aB_{k-1})`
    and :math:`P_W = B_c/(1 - \\rho(1 - B_c))`, equal to the closed form of the module docstring
    and stable for large ``c``.
    """
    if servers < 1 or service_rate <= 0 or arrival_rate < 0:
        raise InputError(
            f"need ≥ 1 server, service rate > 0, arrivals ≥ 0 (got {servers}, {service_rate}, "
            f"{arrival_rate})"
        )
    a = arrival_rate / service_rate
    rho = a / servers
    if rho >= 1:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - rho * (1.0 - b))


def mmc_wait_hours(arrival_rate: float, service_rate: float, servers: int) -> float:
    """:math:`W_q = P_W/(c\\mu - \\lambda)` in hours (``inf`` when :math:`\\lambda \\ge c\\mu`)."""
    p = erlang_c(arrival_rate, service_rate, servers)
    spare = servers * service_rate - arrival_rate
    return p / spare if spare > 0 else math.inf


@dataclass(frozen=True)
class QueueYear:
    """The county centre's queue in one year (rates per open hour, wait in minutes)."""

    year: int
    arrivals_per_hour: float
    utilisation: float
    p_wait: float
    wait_min: float


@dataclass(frozen=True)
class CentreQueue:
    """The county centre's windows over the years, and the year they saturate (``None``: no
    growth can saturate them)."""

    windows: int
    service_min: float
    capacity_per_hour: float
    years: tuple[QueueYear, ...]
    saturation_year: int | None


def centre_queue(params: DemandParams, windows: int) -> CentreQueue:
    """Erlang C wait at the county centre from the base year to ``horizon_years`` later."""
    if windows < 1:
        raise InputError(
            f"the county centre has {windows} service windows; give it at least 1 (column "
            "windows of the service-points file)"
        )
    mu = 60.0 / params.mean_service_minutes()
    rows = []
    for n in range(params.horizon_years + 1):
        grow, flat = params.arrivals_per_hour(n)
        lam = grow + flat
        rows.append(
            QueueYear(
                params.base_year + n,
                lam,
                lam / (windows * mu),
                erlang_c(lam, mu, windows),
                60.0 * mmc_wait_hours(lam, mu, windows),
            )
        )
    return CentreQueue(
        windows, 60.0 / mu, windows * mu, tuple(rows), saturation_year(params, windows * mu)
    )


def saturation_year(params: DemandParams, capacity_per_hour: float) -> int | None:
    """First year with :math:`\\lambda_n \\ge c\\mu` (the closed form :math:`n^*` above)."""
    grow, flat = params.arrivals_per_hour(0)
    if grow + flat >= capacity_per_hour:
        return params.base_year
    if grow <= 0 or params.consultation_growth <= 0:
        return None
    n = math.log((capacity_per_hour - flat) / grow) / math.log1p(params.consultation_growth)
    return params.base_year + math.ceil(n - 1e-12)


def village_demand(model: CountyModel, params: DemandParams, mode: str) -> pd.DataFrame:
    """Per village and spread service: demand a year (population share of the county figure)
    and the nearest point open for the service that receives it, with the travel time."""
    v = model.villages
    share = v["population"].to_numpy(float) / float(v["population"].sum())
    frames = []
    for service, per_year in params.spread.items():
        cov = coverage(model, CoverageTarget(mode=mode), (mode,), per_tier=False, service=service)
        t = cov.villages
        frames.append(
            pd.DataFrame(
                {
                    "code": t["code"].to_numpy(),
                    "name": t["name"].to_numpy(),
                    "town_code": t["town_code"].to_numpy(),
                    "service": service,
                    "demand_per_year": per_year * share,
                    "point_id": t["nearest_id"].to_numpy(),
                    "minutes": t["min_staffed"].to_numpy(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def point_load(model: CountyModel, params: DemandParams, villages: pd.DataFrame) -> pd.DataFrame:
    """Per point receiving demand: visits and staff hours needed a year against its staffed
    hours a year (``utilisation`` = needed / staffed; ``inf`` for a point with no hours)."""
    vd = villages[villages["point_id"] != ""].copy()
    vd["hours"] = vd["demand_per_year"] * vd["service"].map(params.spread_minutes) / 60.0
    agg = vd.pivot_table(
        index="point_id", columns="service", values="demand_per_year", aggfunc="sum"
    )
    agg.columns = [f"{c}_per_year" for c in agg.columns]
    agg["hours_needed_per_year"] = vd.groupby("point_id")["hours"].sum()
    sp = model.service_points.set_index("id")
    out = agg.join(sp[["name", "tier", "hours_per_month"]], how="left").reset_index()
    out = out.rename(columns={"point_id": "id"})
    out["hours_staffed_per_year"] = 12.0 * out["hours_per_month"].astype(float)
    staffed = out["hours_staffed_per_year"].to_numpy(float)
    need = out["hours_needed_per_year"].to_numpy(float)
    out["utilisation"] = np.divide(need, staffed, out=np.full(len(out), np.inf), where=staffed > 0)
    return out.drop(columns="hours_per_month").sort_values("utilisation", ascending=False)


@dataclass
class DemandCapacity:
    """Demand, capacity and accessibility of a county (see the module docstring)."""

    params: DemandParams
    queue: CentreQueue
    villages: pd.DataFrame
    points: pd.DataFrame
    access: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: queue years, per-point load, accessibility summary, units, assumptions."""
        q = self.queue
        years = [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in (asdict(y) for y in q.years)
        ]
        return {
            "meta": self.meta,
            "params": asdict(self.params),
            "county_centre_queue": {**asdict(q), "years": years},
            "points": _json_records(self.points),
            "accessibility": self.meta["accessibility"],
        }


def demand_capacity(
    model: CountyModel, params: DemandParams | None = None, mode: str | None = None
) -> DemandCapacity:
    """Demand and capacity of ``model``: the county centre's queue (Erlang C), the county demand
    spread to villages and points (by ``mode``, default the coverage target's), and the 2SFCA
    accessibility with supply = staffed hours per month."""
    params = params or DemandParams.from_file()
    mode = mode or CoverageTarget().mode
    sp = model.service_points
    centre = county_centre(sp, "to queue at")
    windows = int(centre["windows"].iloc[0]) if "windows" in centre.columns else 1
    queue = centre_queue(params, windows)
    vd = village_demand(model, params, mode)
    acc = accessibility(model, mode, FCAParams(params.catchment_min, params.decay))
    a = acc["access_hours_per_1000"].to_numpy(float)
    pop = acc["population"].to_numpy(float)
    access = {
        "mode": mode,
        "catchment_min": params.catchment_min,
        "decay": params.decay,
        "mean_hours_per_1000": float(np.average(a, weights=pop)),
        "min_hours_per_1000": float(a.min()),
        "population_share_without_access": float(pop[a <= 0].sum() / pop.sum()),
    }
    meta = {
        "units": {
            "arrivals_per_hour": "visits per open hour (busy hour)",
            "wait_min": "minutes (mean wait before a window)",
            "*_per_year": "visits a year",
            "hours_*": "staff hours a year",
            "utilisation": "fraction (needed / staffed hours)",
            "access_hours_per_1000": "staffed hours per month per 1,000 residents",
        },
        "assumptions": [
            "county figures from the county report: legal aid "
            f"{params.legal_aid_cases:g}+ cases, {params.legal_aid_consultations:g}+ consultations, "
            f"{params.court_defences:g}+ court defences a year; centre consultations "
            f"{params.centre_consultations:g}+ a year growing {params.consultation_growth:.0%}",
            f"the centre's {windows} windows as an M/M/c queue (Erlang C), modelled: "
            f"{params.mean_service_minutes():.1f} min per visit, {params.working_days:g} days × "
            f"{params.open_hours_per_day:g} h, busy hour × {params.peak_factor:g}; year 0 = "
            f"{params.base_year} (modelled)",
            "county demand spread to villages by population and sent to the nearest point "
            f"open for the service by {mode} (modelled)",
        ],
        "accessibility": access,
        "params_source": params.source,
        "quality": quality_of(model),
    }
    return DemandCapacity(params, queue, vd, point_load(model, params, vd), acc, meta)
