"""Glue between a county model (:mod:`geo.model`) and the siting models.

Demand = villages weighted by population; existing sites = the service points that count for
coverage (:meth:`geo.services.ServicePointRules.coverage_points`: county centre and township
workstations, not the correction centre); candidates = the points of the candidate tiers (every
village's legal room, named by its village), or a user table of points. Travel times come from
:func:`geo.routing.od_matrix` (minutes, access legs included).

Covering models judge each village against its own threshold of the one
:class:`analysis.coverage.CoverageTarget` (:math:`T_i` = 15 min urban, 30 min rural by default),
so ``coverage_before`` equals the share meeting the target in :func:`analysis.coverage.coverage`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.params import OBJECTIVES
from doorstep.geo.readers import read_capacity_table
from doorstep.geo.services import service_rules
from doorstep.geo.villages import imputed_flags, location_status

from ..coverage import CoverageTarget
from ._capacitated import capacitated_pmedian
from ._problem import SitingProblem
from .curve import marginal_curve
from .lscp import lscp
from .mclp import mclp
from .pcenter import pcenter
from .pmedian import pmedian
from .result import SitingResult

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)


@dataclass
class CountySiting:
    """A county siting problem with the tables its rows and columns come from."""

    problem: SitingProblem
    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    mode: str

    def target(self, target: CoverageTarget | float | None = None) -> CoverageTarget:
        """The coverage target on this problem's mode; a number is the rural minutes (urban
        minutes from the default target), ``None`` the default target."""
        if target is None or isinstance(target, CoverageTarget):
            return (target or CoverageTarget()).with_minutes(mode=self.mode)
        return CoverageTarget().with_minutes(rural=float(target), mode=self.mode)

    def thresholds(self, target: CoverageTarget) -> npt.NDArray[np.float64]:
        """Each village's own threshold :math:`T_i` (minutes) under ``target``."""
        return target.thresholds(self.demand["urban"].to_numpy(bool))


def _candidate_points(model: CountyModel) -> gpd.GeoDataFrame:
    """Default candidates: the candidate points of :mod:`geo.services`, named by their village
    (id = village code, name = village name) when they stand for one."""
    pts = service_rules().candidate_points(model.service_points)
    vnames = dict(
        zip(model.villages["code"].astype(str), model.villages["name"].astype(str), strict=False)
    )
    vcode = pts["village_code"].fillna("").astype(str)
    ids = np.where(vcode != "", vcode, pts["id"].astype(str))
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "name": [vnames.get(c, str(n)) for c, n in zip(ids, pts["name"], strict=True)],
            "town_code": pts["town_code"].astype(str).to_numpy(),
            "role": "candidate",
            "cost": 1.0,
            "imputed": imputed_flags(model.villages, pd.Series(ids)),
        },
        geometry=pts.geometry.to_numpy(),
        crs=pts.crs,
    )


def county_problem(
    model: CountyModel,
    *,
    mode: str = "car",
    candidates: gpd.GeoDataFrame | None = None,
    budget: float | None = None,
    od: Any = None,
    confirmed_only: bool = False,
) -> CountySiting:
    """Build the Huayuan (or any county) siting problem.

    Parameters
    ----------
    model
        A :class:`geo.model.CountyModel` (or an object with the same fields).
    mode
        Travel mode for :func:`geo.routing.od_matrix`.
    candidates
        Points (``code``, ``name``, optional ``cost``, geometry) that may be opened; default:
        the candidate points of :mod:`geo.services` (every village's legal room, by village
        code).
    budget
        Total opening budget (costs from ``candidates["cost"]``, else 1 per site).
    od
        Travel-time function (default :func:`geo.routing.od_matrix`), for tests.
    confirmed_only
        Drop village candidates standing on an imputed point (their site would be
        "location to be confirmed", 待核实位置).
    """
    if od is None:
        from doorstep.geo.routing import od_matrix as od
    v = model.villages
    sp = model.service_points
    staffed = service_rules().coverage_points(sp)
    ex = gpd.GeoDataFrame(
        {
            "id": staffed["id"].astype(str),
            "name": staffed["name"].astype(str),
            "town_code": staffed["town_code"].astype(str),
            "role": "existing",
            "cost": 0.0,
            "imputed": False,
        },
        geometry=staffed.geometry.to_numpy(),
        crs=sp.crs,
    )
    if candidates is None:
        cand = _candidate_points(model)
        if confirmed_only:
            cand = cand[~cand["imputed"].to_numpy(bool)]
    else:
        for col in ("code", "name"):
            if col not in candidates.columns:
                raise InputError(f"candidate table has no '{col}' column")
        cost = (
            pd.to_numeric(candidates["cost"], errors="coerce").fillna(1.0).to_numpy()
            if "cost" in candidates.columns
            else np.ones(len(candidates))
        )
        cand = gpd.GeoDataFrame(
            {
                "id": candidates["code"].astype(str),
                "name": candidates["name"].astype(str),
                "town_code": "",
                "role": "candidate",
                "cost": cost,
                "imputed": False,
            },
            geometry=candidates.geometry.to_numpy(),
            crs=candidates.crs,
        )
    sites = gpd.GeoDataFrame(pd.concat([ex, cand.to_crs(ex.crs)], ignore_index=True), crs=ex.crs)
    demand = v.reset_index(drop=True)
    log.info(
        "siting: %d villages x %d sites (%d existing) by %s", len(demand), len(sites), len(ex), mode
    )
    minutes = od(model, demand, sites, mode=mode).minutes
    if candidates is not None:  # township of a user candidate: the nearest village's township
        cj = np.flatnonzero(sites["role"].to_numpy() == "candidate")
        near = np.argmin(minutes[:, cj], axis=0)
        sites.loc[cj, "town_code"] = demand["town_code"].astype(str).to_numpy()[near]
    prob = SitingProblem.from_geodataframe(
        demand,
        sites,
        minutes,
        weight="population",
        role="role",
        opening_cost="cost" if budget is not None else None,
        budget=budget,
        demand_id="code",
        site_id="id",
        units="minutes",
    )
    return CountySiting(problem=prob, demand=demand, sites=sites, mode=mode)


DEFAULT_BALANCE = 1.5
"""``--capacity default``: each open point serves at most this multiple of an even share."""


def site_capacities(cs: CountySiting, spec: str, add: int) -> npt.NDArray[np.float64]:
    r"""Per-site capacity in persons: ``spec`` is ``"default"`` (every point
    :math:`Q = 1.5 \cdot P / (|E| + k)`, ``P`` the population, ``|E| + k`` the points open after
    siting — a modelled balance limit, not a measured one) or a table (CSV in UTF-8 or GBK, or
    XLSX) with columns ``id,capacity``: one row per point, ``capacity`` a number of persons
    ``>= 0``; points not listed are uncapacitated. A bad row raises
    :class:`~doorstep.geo._errors.DataFileError` naming the file, row and field."""
    p = cs.problem
    if spec == "default":
        n_open = max(int(p.existing.size) + add, 1)
        return np.full(p.n_sites, DEFAULT_BALANCE * float(p.weights.sum()) / n_open)
    return _capacity_table(spec, list(p.site_ids))


def _capacity_table(path: str, site_ids: list[str]) -> npt.NDArray[np.float64]:
    """The capacities of a ``id,capacity`` table (:func:`geo.readers.read_capacity_table`) on
    the sites, ``inf`` for the sites it does not list."""
    table = read_capacity_table(path)
    pos = {str(sid): j for j, sid in enumerate(site_ids)}
    caps = np.full(len(site_ids), np.inf)
    for k, (key, value) in enumerate(zip(table["id"], table["capacity"], strict=True)):
        if key not in pos:
            raise DataFileError(
                path,
                f"unknown point {key!r}",
                row=k + 2,
                field="id",
                fix="use a service point's id (the id column of the service points) or a "
                "candidate village's 12-digit code, or remove the row",
            )
        caps[pos[key]] = value
    return caps


def site_loads(cs: CountySiting, res: SitingResult) -> list[dict[str, Any]]:
    """Persons served by each open point (and its capacity) in a capacitated result."""
    p = cs.problem
    if res.assignment_shares is None or p.capacities is None:
        return []
    load = p.weights @ res.assignment_shares
    return [
        {
            "id": p.site_ids[int(j)],
            "name": str(cs.sites.iloc[int(j)]["name"]),
            "load": round(float(load[j])),
            "capacity": None if not np.isfinite(p.capacities[j]) else float(p.capacities[j]),
        }
        for j in res.open_sites
    ]


def solve_county(
    cs: CountySiting,
    objective: str,
    *,
    add: int,
    target: CoverageTarget | None = None,
    minutes: float | None = None,
    time_limit: float | None = 60.0,
    curve: bool = True,
) -> SitingResult:
    """Run one objective (``mclp``, ``lscp``, ``pmedian``, ``pcenter``) on a county problem.

    Coverage is judged per village against ``target`` (:meth:`CountySiting.thresholds`: urban
    villages by the urban minutes, rural by the rural minutes); ``minutes`` alone means the
    default target with those rural minutes (as ``--minutes`` on the command line).
    """
    p = cs.problem
    n_cand = int(p.candidates.size)
    if objective != "lscp" and not 0 <= add <= n_cand:
        raise InputError(
            f"add = {add} new sites is impossible: there are {n_cand} candidate sites "
            f"(give 0..{n_cand})"
        )
    if target is not None and minutes is not None:
        raise InputError("give either a coverage target or minutes, not both")
    radius = cs.thresholds(cs.target(minutes if target is None else target))
    if objective == "mclp":
        res = mclp(p, add, radius, time_limit=time_limit)
    elif objective == "lscp":
        res = lscp(p, radius, time_limit=time_limit)
    elif objective == "pmedian" and p.capacitated:
        res = capacitated_pmedian(p, add, time_limit=time_limit, radius=radius)
    elif objective == "pmedian":
        res = pmedian(p, add, time_limit=time_limit, radius=radius)
    elif objective == "pcenter":
        res = pcenter(p, add, time_limit=time_limit, radius=radius)
    else:
        raise InputError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if curve and not p.capacitated:  # with capacities, few sites may not serve everyone
        k_max = res.new_sites.size if objective == "lscp" else add
        model = "mclp" if objective == "lscp" else objective
        res.marginal = marginal_curve(p, model, k_max, radius=radius, time_limit=time_limit)
    return res


def township_effect(
    cs: CountySiting, res: Any, target: CoverageTarget | float | None = None
) -> list[dict[str, Any]]:
    """Per township: population, covered before/after (each village against its own threshold
    under ``target``, see :meth:`CountySiting.target`), mean minutes before/after."""
    p = cs.problem
    limit = cs.thresholds(cs.target(target))
    d = p.cost
    before = d[:, p.existing].min(axis=1) if p.existing.size else np.full(p.n_demand, np.inf)
    after = d[:, res.open_sites].min(axis=1)
    df = pd.DataFrame(
        {
            "town_code": cs.demand["town_code"].astype(str),
            "town_name": cs.demand.get("town_name", cs.demand["town_code"]).astype(str),
            "pop": p.weights,
            "cov_b": p.weights * (before <= limit),
            "cov_a": p.weights * (after <= limit),
            "t_b": p.weights * np.where(np.isfinite(before), before, np.nan),
            "t_a": p.weights * np.where(np.isfinite(after), after, np.nan),
        }
    )
    out = []
    for (code, name), g in df.groupby(["town_code", "town_name"], sort=True):
        pop = float(g["pop"].sum())
        out.append(
            {
                "town_code": code,
                "town_name": name,
                "population": round(float(pop)),
                "covered_before": round(float(g["cov_b"].sum())),
                "covered_after": round(float(g["cov_a"].sum())),
                "newly_covered": round(float(g["cov_a"].sum() - g["cov_b"].sum())),
                "mean_minutes_before": round(float(g["t_b"].sum() / pop), 1) if pop else None,
                "mean_minutes_after": round(float(g["t_a"].sum() / pop), 1) if pop else None,
            }
        )
    return out


def site_report(
    model: CountyModel,
    cs: CountySiting,
    res: SitingResult,
    objective: str,
    target: CoverageTarget | float | None = None,
) -> dict[str, Any]:
    """JSON-ready report: sites opened, population newly covered, township effect, quality.

    ``target`` is the one the result was solved for (see :meth:`CountySiting.target`); the
    report names it (``target``, ``threshold``).
    """
    p = cs.problem
    tgt = cs.target(target)
    towns = getattr(model, "townships", None)
    tnames = (
        {}
        if towns is None
        else dict(zip(towns["code"].astype(str), towns["name"].astype(str), strict=False))
    )
    opened = []
    for j in res.new_sites:
        row = cs.sites.iloc[int(j)]
        opened.append(
            {
                "code": row["id"],
                "name": row["name"],
                "town_code": row["town_code"],
                "township": tnames.get(str(row["town_code"]), ""),
                "lon": round(float(row.geometry.x), 6),
                "lat": round(float(row.geometry.y), 6),
                "location_status": location_status(bool(row["imputed"])),
            }
        )
    total = float(p.weights.sum())
    cb = res.coverage_before if res.coverage_before is not None else 0.0
    ca = res.coverage_after if res.coverage_after is not None else 0.0
    doc = {
        "county": {"code": model.code, "name": model.name, "vintage": model.vintage},
        "objective": objective,
        "mode": cs.mode,
        "target": tgt.to_dict(),
        "threshold": f"{tgt.describe(compliance=False)}, each village against its own",
        "status": res.status,
        "objective_value": res.objective,
        "objective_units": res.objective_units,
        "lower_bound": res.lower_bound,
        "gap": res.gap,
        "seconds": round(res.seconds, 2),
        "existing_sites": int(p.existing.size),
        "candidates": int(p.candidates.size),
        "sites_opened": opened,
        "population": round(float(total)),
        "population_newly_covered": round(float((ca - cb) * total)),
        "coverage_before": cb,
        "coverage_after": ca,
        "townships": township_effect(cs, res, tgt),
        "marginal_curve": res.marginal,
        "loads": site_loads(cs, res),
        "assumptions": [
            *res.assumptions,
            "demand = village population (persons); existing sites = the service points "
            "counting for coverage",
            service_rules().describe(),
            f"travel times by {cs.mode} on the model's road network, access legs included",
        ],
        "quality": model.quality(),
    }
    if objective == "lscp":
        doc["sites_needed_for_full_coverage"] = int(p.existing.size + res.new_sites.size)
    return doc
