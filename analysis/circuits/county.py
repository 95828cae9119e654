"""Build the month's circuit problem from a :class:`geo.model.CountyModel`.

Lawyers are based at the county public legal service centre and township workstations (chosen
farthest-first by travel time so N lawyers spread over the county); villages are
``model.villages``; door-to-door minutes and km come from :func:`geo.routing.od_matrix`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.services import service_rules

from .ledger import carry_over, check_filled, read_ledger
from .model import (
    WEEKDAYS_ZH,
    Lawyer,
    MonthCalendar,
    PlanParams,
    TravelMatrix,
    VillageVisit,
    circuits_default,
)
from .plan import MonthPlan
from .planner import plan_month
from .roster import MODELLED_LABEL, Roster, read_roster

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)


def base_points(model: CountyModel) -> gpd.GeoDataFrame:
    """Candidate home bases (:meth:`geo.services.ServicePointRules.circuit_bases`): the county
    centre first, then the township workstations."""
    sel = service_rules().circuit_bases(model.service_points)
    if sel.empty:
        raise InputError(
            "the county model has no county centre or township workstation to base lawyers at"
        )
    return sel


def county_travel(model: CountyModel, mode: str = "car") -> tuple[TravelMatrix, gpd.GeoDataFrame]:
    """Travel matrix over all bases and villages (keys ``base:<id>`` and village codes)."""
    from doorstep.geo.routing import od_matrix

    bases = base_points(model)
    vil = model.villages
    pts = pd.concat([bases[["geometry"]], vil[["geometry"]]], ignore_index=True)
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs=vil.crs)
    keys = [f"base:{i}" for i in bases["id"]] + [str(c) for c in vil["code"]]
    names = {f"base:{i}": str(n) for i, n in zip(bases["id"], bases["name"], strict=True)}
    names.update({str(c): str(n) for c, n in zip(vil["code"], vil["name"], strict=True)})
    od = od_matrix(model, pts, pts, mode=mode, with_distance=True)
    km = od.km if od.km is not None else np.zeros_like(od.minutes)
    minutes = np.array(od.minutes, dtype=float)
    np.fill_diagonal(minutes, 0.0)
    km = np.array(km, dtype=float)
    np.fill_diagonal(km, 0.0)
    wgs = pts.to_crs("EPSG:4326")
    coords = {k: (float(g.x), float(g.y)) for k, g in zip(keys, wgs.geometry, strict=True)}
    return TravelMatrix(keys, minutes, km, coords=coords, mode=mode, names=names), bases


def spread_bases(travel: TravelMatrix, base_keys: list[str], n: int) -> list[str]:
    """``n`` bases, farthest-first from the first one (the county centre), cycling if n > bases."""
    chosen = [base_keys[0]]
    idx = [travel.index(k) for k in base_keys]
    m = travel.minutes[np.ix_(idx, idx)]
    while len(chosen) < min(n, len(base_keys)):
        ci = [base_keys.index(c) for c in chosen]
        d = np.where(np.isfinite(m[ci]), m[ci], 1e9).min(axis=0)
        d[ci] = -1
        chosen.append(base_keys[int(np.argmax(d))])
    return [chosen[i % len(chosen)] for i in range(n)]


_WEEKDAY_NAMES = {
    **{f"周{c}": i for i, c in enumerate(WEEKDAYS_ZH)},
    **{f"星期{c}": i for i, c in enumerate(WEEKDAYS_ZH)},
    "周天": 6,
    "星期天": 6,
    **{n: i for i, n in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{
        n: i
        for i, n in enumerate(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        )
    },
    **{str(i + 1): i for i in range(7)},
}


def parse_weekdays(text: str) -> tuple[int, ...]:
    """``"周二,周四"``, ``"Tue Thu"`` or ``"2;4"`` (1 = Monday) → ``(1, 3)`` (0 = Monday)."""
    toks = [t for t in re.split(r"[,，;；/、\s]+", text.strip().lower()) if t]
    if not toks:
        raise ValueError("no weekday given")
    out = []
    for t in toks:
        if t not in _WEEKDAY_NAMES:
            raise ValueError(f"{t!r} is not a weekday (周一..周日, Mon..Sun or 1..7)")
        out.append(_WEEKDAY_NAMES[t])
    return tuple(sorted(set(out)))


def parse_window(text: str) -> tuple[int, int]:
    """``"09:00-12:00"`` (also ``–``, ``~``, ``至``) → minutes after midnight ``(540, 720)``."""
    m = re.fullmatch(
        r"\s*(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|to)\s*(\d{1,2})[:：](\d{2})\s*", text
    )
    if not m:
        raise ValueError(f"{text!r} is not a time window like 09:00-12:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    a, b = h1 * 60 + m1, h2 * 60 + m2
    if not (m1 < 60 and m2 < 60 and 0 <= a < b <= 24 * 60):
        raise ValueError(f"{text!r}: the window must open before it closes, within one day")
    return a, b


ASSIGNMENT_COLUMNS = "village_code[,lawyer,visits,service_minutes,weekdays,window]"


def read_assignments(path: str | Path) -> dict[str, dict[str, str]]:
    """Per-village planning wishes from a CSV (UTF-8 or GBK) or XLSX table.

    Columns: ``village_code`` and any of ``lawyer`` (assigned adviser id ``L1`` … ``LN``; blank
    = free assignment), ``visits`` (per month), ``service_minutes`` (on site), ``weekdays``
    (preferred days, e.g. ``周二,周四`` / ``Tue Thu`` / ``2,4``) and ``window`` (on-site hours,
    e.g. ``09:00-12:00``). Every value is checked here; errors name the row and field.
    """
    from doorstep.geo.readers import read_table

    p = Path(path)
    df = read_table(p, dtype_str=("village_code", "lawyer", "weekdays", "window"))
    if "village_code" not in df.columns:
        raise DataFileError(
            p,
            "missing column village_code",
            field="village_code",
            fix=f"columns: {ASSIGNMENT_COLUMNS}",
        )
    out: dict[str, dict[str, str]] = {}
    for i, r in enumerate(df.to_dict("records"), start=2):
        rec = {str(k): "" if pd.isna(v) else str(v).strip() for k, v in r.items()}
        code = rec.get("village_code", "")
        if not code:
            raise DataFileError(
                p,
                "missing village_code",
                row=i,
                field="village_code",
                fix=f"columns: {ASSIGNMENT_COLUMNS}",
            )
        if code in out:
            raise DataFileError(
                p,
                f"village {code} appears twice",
                row=i,
                field="village_code",
                fix="keep one row per village",
            )
        for f in ("visits", "service_minutes"):
            v = rec.get(f, "")
            if v.endswith(".0"):
                v = rec[f] = v[:-2]
            if v and not v.isdigit():
                raise DataFileError(p, f"{f} must be a whole number (got {v!r})", row=i, field=f)
        for f, parse in (("weekdays", parse_weekdays), ("window", parse_window)):
            if rec.get(f):
                try:
                    parse(rec[f])
                except ValueError as exc:
                    raise DataFileError(p, str(exc), row=i, field=f) from None
        out[code] = rec
    return out


def county_problem(
    model: CountyModel,
    n_lawyers: int,
    *,
    mode: str = "car",
    assignments: dict[str, dict[str, str]] | None = None,
    visits_per_month: int | None = None,
    service_minutes: int | None = None,
    lawyer_defaults: dict[str, Any] | None = None,
) -> tuple[list[Lawyer], list[VillageVisit], TravelMatrix]:
    """Lawyers, village visits and travel for a county.

    Parameters
    ----------
    model
        A :class:`geo.model.CountyModel` (or anything with the same fields).
    n_lawyers
        Number of lawyers; ids ``L1`` … ``LN``, based farthest-first at the bases.
    mode
        ``"car"`` or ``"motorbike"``.
    assignments
        From :func:`read_assignments`: village code -> {lawyer, visits, service_minutes}.
    visits_per_month, service_minutes
        For villages the assignments leave open (default: ``circuits.toml`` ``[visit]``).
    lawyer_defaults
        Extra :class:`Lawyer` fields for every lawyer (default: ``circuits.toml`` ``[lawyer]``).
    """
    if n_lawyers < 1:
        raise InputError("--lawyers must be at least 1")
    if visits_per_month is None:
        visits_per_month = int(circuits_default("visit", "visits"))
    if service_minutes is None:
        service_minutes = int(circuits_default("visit", "service_minutes"))
    travel, bases = county_travel(model, mode)
    keys = [f"base:{i}" for i in bases["id"]]
    homes = spread_bases(travel, keys, n_lawyers)
    extra = lawyer_defaults or {}
    lawyers = [
        Lawyer(f"L{i + 1}", f"律师{i + 1}（{travel.name(h)}）", h, mode=mode, **extra)
        for i, h in enumerate(homes)
    ]
    visits = village_visits(
        model, {lw.id for lw in lawyers}, assignments, visits_per_month, service_minutes
    )
    log.info(
        "%d lawyers at %d bases, %d villages (%s)", n_lawyers, len(set(homes)), len(visits), mode
    )
    return lawyers, visits, travel


def village_visits(
    model: CountyModel,
    lawyer_ids: set[str],
    assignments: dict[str, dict[str, str]] | None,
    visits_per_month: int,
    service_minutes: int,
) -> list[VillageVisit]:
    """One :class:`VillageVisit` per model village, with the wishes of ``assignments``."""
    assignments = assignments or {}
    codes = {str(c) for c in model.villages["code"]}
    unknown = sorted(set(assignments) - codes)
    if unknown:
        raise InputError(f"assignments name villages not in the model: {unknown[:5]}")
    visits = []
    for _, v in model.villages.iterrows():
        code = str(v["code"])
        a = assignments.get(code, {})
        adv = a.get("lawyer") or None
        if adv is not None and adv not in lawyer_ids:
            raise InputError(
                f"village {code} is assigned to {adv!r}; lawyers are {sorted(lawyer_ids)}"
            )
        visits.append(
            VillageVisit(
                id=code,
                name=str(v["name"]),
                location=code,
                township=str(v.get("town_name", "")),
                visits=int(a.get("visits") or visits_per_month),
                service_minutes=int(a.get("service_minutes") or service_minutes),
                window=parse_window(a["window"]) if a.get("window") else None,
                weekdays=parse_weekdays(a["weekdays"]) if a.get("weekdays") else None,
                adviser=adv,
            )
        )
    return visits


def roster_problem(
    model: CountyModel,
    roster_file: str | Path,
    *,
    mode: str = "car",
    assignments: dict[str, dict[str, str]] | None = None,
    visits_per_month: int | None = None,
    service_minutes: int | None = None,
    lawyer_defaults: dict[str, Any] | None = None,
) -> tuple[list[Lawyer], list[VillageVisit], TravelMatrix, Roster]:
    """Like :func:`county_problem`, with the advisers, bases and villages of a roster file:
    every village is pinned to its roster adviser (the same every month); the roster's visit
    frequencies override ``assignments`` and the defaults. A village missing from the roster is
    refused (一村一顾问)."""
    travel, bases = county_travel(model, mode)
    roster = read_roster(roster_file, model, [str(b) for b in bases["id"]], travel)
    missing = [str(c) for c in model.villages["code"] if str(c) not in roster.adviser_of()]
    if missing:
        raise DataFileError(
            Path(roster_file),
            f"{len(missing)} village(s) have no adviser: "
            + "、".join(f"{travel.name(c)} {c}" for c in missing[:5]),
            field="服务村 villages",
            fix="add every village to one adviser's row",
        )
    lawyers = [a.lawyer(mode, lawyer_defaults) for a in roster.advisers]
    visits = village_visits(
        model,
        {lw.id for lw in lawyers},
        {k: {**a, "lawyer": ""} for k, a in (assignments or {}).items()},
        int(circuits_default("visit", "visits")) if visits_per_month is None else visits_per_month,
        int(circuits_default("visit", "service_minutes"))
        if service_minutes is None
        else service_minutes,
    )
    owner, freq = roster.adviser_of(), roster.visits_of()
    visits = [replace(v, adviser=owner[v.id], visits=freq.get(v.id, v.visits)) for v in visits]
    return lawyers, visits, travel, roster


DEFAULT_LAWYERS = 8
NO_ROSTER_LABEL = (
    "模型分配（未用名册）— modelled assignment: no roster given, the planner chose each "
    "village's lawyer"
)


@dataclass
class CountyMonth:
    """A county's month of circuits: the plan plus what is needed to draw and export it.

    ``plan`` is the :class:`~analysis.circuits.plan.MonthPlan`; ``travel`` the door-to-door
    matrix it was planned on (``travel.coords`` holds WGS84 lon/lat of every place key);
    ``notes`` say what was carried over from a completed ledger; ``roster`` is the adviser
    roster planned with (None without ``--roster``).
    """

    plan: MonthPlan
    travel: TravelMatrix
    lawyers: list[Lawyer]
    notes: list[str] = field(default_factory=list)
    roster: Roster | None = None

    @property
    def plan_source(self) -> str:
        """Who assigned the villages, in words (Chinese first): a staff roster (its file), the
        unedited modelled roster, or the planner itself (no roster: modelled assignment)."""
        label = self.plan.assumptions.get("roster")
        return str(label) if label else NO_ROSTER_LABEL

    def phone_of(self, lawyer_id: str) -> str:
        """The adviser's phone from the roster ("" without a roster or a phone)."""
        if self.roster is None:
            return ""
        return next((a.phone for a in self.roster.advisers if a.name == lawyer_id), "")


def plan_county_month(
    model: CountyModel,
    month: str,
    *,
    n_lawyers: int = DEFAULT_LAWYERS,
    mode: str = "car",
    assignments: dict[str, dict[str, str]] | None = None,
    visits_per_month: int | None = None,
    service_minutes: int | None = None,
    max_drive_minutes: float | None = None,
    min_gap_days: int | None = None,
    ledger: str | Path | None = None,
    seed: int | None = None,
    params: PlanParams | None = None,
    roster: str | Path | None = None,
) -> CountyMonth:
    """Plan a county's month of lawyer circuits end to end.

    Builds the problem with :func:`county_problem`, carries over the visits a completed ledger
    (``ledger``, an .xlsx written by :func:`~analysis.circuits.export.write_ledger`) marks as
    missed, and runs :func:`~analysis.circuits.planner.plan_month` on the month's working days
    (weekends and the public holidays of ``data/params/holidays.toml`` off). ``params``
    overrides the planner parameters (then ``min_gap_days`` and ``seed`` are ignored); without
    it they come from ``data/params/circuits.toml`` unless ``min_gap_days`` / ``seed`` are given.
    With ``roster`` (a roster file, :mod:`.roster`) the advisers and their villages come from it
    (:func:`roster_problem`) and ``n_lawyers`` is ignored.
    """
    if not 1 <= n_lawyers <= 500:
        raise InputError("the number of lawyers must be between 1 and 500")
    if (
        (visits_per_month is not None and visits_per_month < 0)
        or (service_minutes is not None and service_minutes <= 0)
        or (min_gap_days is not None and min_gap_days < 0)
    ):
        raise InputError("visits >= 0, on-site minutes > 0 and min-gap days >= 0 are required")
    if max_drive_minutes is not None and not max_drive_minutes > 0:
        raise InputError("the daily driving limit must be > 0 minutes")
    cal = MonthCalendar.for_month(month)
    kw: dict[str, Any] = {
        "mode": mode,
        "assignments": assignments,
        "visits_per_month": visits_per_month,
        "service_minutes": service_minutes,
        "lawyer_defaults": None
        if max_drive_minutes is None
        else {"max_drive_minutes": max_drive_minutes},
    }
    rost: Roster | None = None
    if roster is not None:
        lawyers, visits, travel, rost = roster_problem(model, roster, **kw)
    else:
        lawyers, visits, travel = county_problem(model, n_lawyers, **kw)
    notes: list[str] = []
    if ledger is not None:
        entries = read_ledger(ledger, {str(c) for c in model.villages["code"]})
        check_filled(entries, ledger)
        visits, notes = carry_over(visits, entries)
    if params is None:
        params = PlanParams()
        if min_gap_days is not None:
            params = replace(params, min_gap_days=min_gap_days)
        if seed is not None:
            params = replace(params, seed=seed)
    plan = plan_month(lawyers, visits, cal, travel, params)
    plan.county = str(model.code)
    if cal.holiday_warning:
        plan.assumptions["holidays"] = cal.holiday_warning
    if rost is not None:
        plan.assumptions["roster"] = (
            MODELLED_LABEL
            if rost.modelled
            else f"工作人员名册 staff roster {Path(str(roster)).name}"
        )
    return CountyMonth(plan, travel, lawyers, notes, rost)


def road_path_function(
    model: CountyModel, travel: TravelMatrix, plan: MonthPlan | None = None
) -> Callable[[str, str], list[tuple[float, float]] | None]:
    """``road_path(a, b)``: the fastest road geometry (WGS84 lon/lat) between two place keys of
    ``travel``, for :func:`~analysis.circuits.export.routes_geojson`.

    With ``plan``, every leg of the plan is routed up front by :func:`geo.routing.routes`
    (one search per distinct origin); other legs are routed on demand. An unreachable or unknown
    leg gives ``None`` (drawn straight).
    """
    from doorstep.geo.routing import routes

    keys = list(travel.coords)
    pts = gpd.GeoDataFrame(
        {"key": keys},
        geometry=gpd.points_from_xy(
            [travel.coords[k][0] for k in keys], [travel.coords[k][1] for k in keys]
        ),
        crs="EPSG:4326",
    )
    row = {k: i for i, k in enumerate(keys)}
    cache: dict[tuple[str, str], list[tuple[float, float]] | None] = {}

    def fill(legs: set[tuple[str, str]]) -> None:
        todo = sorted({(a, b) for a, b in legs if a != b and a in row and b in row} - set(cache))
        if not todo:
            return
        got = routes(model, pts, [(row[a], row[b]) for a, b in todo], mode=travel.mode)
        for a, b in todo:
            r = got[(row[a], row[b])]
            cache[(a, b)] = (
                None if r is None else [(float(x), float(y)) for x, y in r.geometry_wgs84.coords]
            )

    if plan is not None:
        fill({(a, b) for r in plan.routes for a, b in zip(r.path, r.path[1:], strict=False)})

    def road_path(a: str, b: str) -> list[tuple[float, float]] | None:
        if (a, b) not in cache:
            fill({(a, b)})
        return cache.get((a, b))

    return road_path


__all__ = [
    "DEFAULT_LAWYERS",
    "NO_ROSTER_LABEL",
    "CountyMonth",
    "base_points",
    "county_problem",
    "county_travel",
    "parse_weekdays",
    "parse_window",
    "plan_county_month",
    "read_assignments",
    "road_path_function",
    "roster_problem",
    "spread_bases",
    "village_visits",
]
