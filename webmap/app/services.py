"""Adapters between the web app and :mod:`analysis` (siting what-ifs, monthly circuits).

The app never computes analysis itself: these functions assemble the inputs the analysis
functions ask for (from the cached county model), call them and reshape the answers as JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from doorstep.analysis.coverage import CoverageTarget
from doorstep.geo.services import service_rules

from .db import now
from .errors import ApiError
from .validate import MAX_MINUTES, MODES, choice, integer, number

log = logging.getLogger(__name__)

MODELS = ("mclp", "lscp", "pmedian", "pcenter")
MAX_K = 30

__all__ = [
    "default_month",
    "now",
    "run_whatif",
    "service_info",
    "target_params",
    "village_detail",
    "whatif_params",
]
POINT_FIELDS = ("id", "name", "tier", "opening_hours", "phone", "address", "staffed", "modelled")


def default_month() -> str:
    """Next calendar month (YYYY-MM): the one staff plan for."""
    t = dt.date.today().replace(day=1) + dt.timedelta(days=32)
    return f"{t.year}-{t.month:02d}"


def target_params(src: Any) -> CoverageTarget:
    """The one coverage target from request parameters: ``mode``, ``minutes`` (rural villages)
    and ``urban_minutes`` (defaults: :class:`analysis.coverage.CoverageTarget`)."""
    d = CoverageTarget()
    return d.with_minutes(
        rural=number(src, "minutes", 1, MAX_MINUTES, d.rural_minutes),
        urban=number(src, "urban_minutes", 1, MAX_MINUTES, d.urban_minutes),
        mode=choice(src, "mode", MODES, d.mode),
    )


def whatif_params(body: dict[str, Any]) -> dict[str, Any]:
    """Validate what-if parameters: model, k, the target (mode, minutes = rural,
    urban_minutes), or clicked sites."""
    model = choice(body, "model", MODELS, "mclp")
    target = target_params(body)
    sites = body.get("sites")
    if sites is not None:
        if (
            not isinstance(sites, list)
            or len(sites) > MAX_K
            or not all(isinstance(s, str) and 0 < len(s) <= 20 for s in sites)
        ):
            raise ApiError(400, f"'sites' must be a list of at most {MAX_K} village codes", "sites")
        k: int = len(sites)
    else:
        k = integer(body, "k", 1, MAX_K, 3) or 3
    return {
        "model": model,
        "mode": target.mode,
        "minutes": target.rural_minutes,
        "urban_minutes": target.urban_minutes,
        "k": k,
        "sites": list(sites) if sites is not None else None,
    }


def siting_problem(state: Any, mode: str) -> Any:
    """The county siting problem of :func:`analysis.siting.county.county_problem` (cached)."""
    from doorstep.analysis.siting.county import county_problem

    return state._get(f"siting:{mode}", lambda: county_problem(state.model, mode=mode))


def run_whatif(state: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Coverage before/after opening sites chosen by a model (or clicked by the planner).

    Models run through :func:`analysis.siting.county.solve_county`; the per-township effect
    comes from :func:`analysis.siting.county.township_effect`.
    """
    from types import SimpleNamespace

    from doorstep.analysis.siting.county import site_report, solve_county, township_effect

    cs = siting_problem(state, p["mode"])
    prob = cs.problem
    target = target_params(p)
    radius = cs.thresholds(target)
    ids = list(prob.site_ids)
    if p["sites"] is not None:
        pos = {s: j for j, s in enumerate(ids)}
        bad = [s for s in p["sites"] if s not in pos or prob.roles[pos[s]] != "candidate"]
        if bad:
            raise ApiError(400, f"unknown candidate village code(s): {', '.join(bad[:5])}", "sites")
        new = np.array(sorted({pos[s] for s in p["sites"]}), dtype=np.intp)
        res: Any = SimpleNamespace(open_sites=np.union1d(prob.existing, new), new_sites=new)
        status, seconds, model, objective = "given", 0.0, "manual", None
    else:
        res = solve_county(
            cs, p["model"], add=int(p["k"]), target=target, time_limit=20.0, curve=False
        )
        new = np.asarray(res.new_sites, dtype=np.intp)
        status, seconds, model = res.status, float(res.seconds), p["model"]
        objective = site_report(state.model, cs, res, p["model"], target)
    w = prob.weights
    d = prob.cost
    before = (
        d[:, prob.existing].min(axis=1) if prob.existing.size else np.full(prob.n_demand, np.inf)
    )
    after = d[:, np.asarray(res.open_sites, dtype=np.intp)].min(axis=1)
    cov_before, cov_after = before <= radius, after <= radius
    total = float(w.sum())
    new_rows = [
        {
            "code": ids[j],
            "name": str(cs.sites["name"].iloc[j]),
            "lon": round(float(cs.sites.geometry.iloc[j].x), 6),
            "lat": round(float(cs.sites.geometry.iloc[j].y), 6),
        }
        for j in new
    ]
    out = {
        "params": p,
        "model": model,
        "status": status,
        "seconds": round(seconds, 3),
        "units": {"minutes": "min", "population": "persons", "share": "fraction 0–1"},
        "summary": {
            "population": round(total),
            "covered_before": round(float(w[cov_before].sum())),
            "covered_after": round(float(w[cov_after].sum())),
            "share_before": round(float(w[cov_before].sum() / total), 4) if total else None,
            "share_after": round(float(w[cov_after].sum() / total), 4) if total else None,
            "new_sites": len(new_rows),
        },
        "new_sites": new_rows,
        "townships": township_effect(cs, res, target),
        "villages_covered_before": [prob.demand_ids[i] for i in np.flatnonzero(cov_before)],
        "villages_covered_after": [prob.demand_ids[i] for i in np.flatnonzero(cov_after)],
        "assumptions": [
            f"covered = an open point within each village's own threshold, "
            f"{target.describe(compliance=False)}",
            "candidates = every village (its legal room upgraded); existing = the service points "
            "counting for coverage (county centre, township workstations)",
            "population and roads are modelled layers",
        ],
    }
    if objective is not None:
        out["objective"] = {
            k: objective[k]
            for k in ("objective_value", "objective_units", "lower_bound", "gap")
            if k in objective
        }
    return out


# ------------------------------------------------------------------------------ circuits


def _circuit_config() -> tuple[int, str, bool]:
    from flask import current_app

    from doorstep.analysis.circuits.county import DEFAULT_LAWYERS

    cfg = current_app.config
    return (
        int(cfg.get("CIRCUIT_LAWYERS", DEFAULT_LAWYERS)),
        str(cfg.get("CIRCUIT_MODE", "car")),
        bool(cfg.get("CIRCUIT_USE_PYVRP", True)),
    )


def circuits_month(state: Any, month: str) -> Any:
    """The county's :class:`analysis.circuits.county.CountyMonth` for ``month`` (cached per
    model). App config: ``CIRCUIT_LAWYERS`` (default 8), ``CIRCUIT_MODE`` (car/motorbike),
    ``CIRCUIT_USE_PYVRP`` (False: insertion routes only, for quick test instances)."""
    from doorstep.analysis.circuits.county import plan_county_month
    from doorstep.analysis.circuits.model import PlanParams

    n, mode, pyvrp = _circuit_config()
    return state.result(
        f"circuits:{month}:{n}:{mode}:{pyvrp}",
        lambda: plan_county_month(
            state.model, month, n_lawyers=n, mode=mode, params=PlanParams(use_pyvrp=pyvrp)
        ),
        expensive=True,
    )


def circuits_plan(state: Any, month: str) -> Any:
    """The month's :class:`analysis.circuits.plan.MonthPlan` for the county (cached)."""
    return circuits_month(state, month).plan


def circuits_json(state: Any, month: str) -> dict[str, Any]:
    """The month plan as JSON for the staff page: the plan's own dict (units in ``units``) with
    each day route given ``lawyer`` (id), ``lawyer_name``, stop coordinates and a road
    ``geometry`` (WGS84), plus the visits marked done in the database."""

    def build() -> dict[str, Any]:
        from doorstep.analysis.circuits.county import road_path_function
        from doorstep.analysis.circuits.export import routes_geojson

        cm = circuits_month(state, month)
        out: dict[str, Any] = cm.plan.to_dict()
        coords = cm.travel.coords
        lines = routes_geojson(cm.plan, coords, road_path_function(state.model, cm.travel, cm.plan))
        geoms = {
            (f["properties"]["lawyer_id"], f["properties"]["date"]): f["geometry"]
            for f in lines["features"]
        }
        routes = []
        for r in out.get("routes", []):
            stops = []
            for st in r.get("stops", []):
                code = str(st["village_id"])
                lon, lat = coords.get(code, (None, None))
                stops.append({**st, "village": code, "name": st["village"], "lon": lon, "lat": lat})
            routes.append(
                {
                    **r,
                    "lawyer": str(r["lawyer_id"]),
                    "lawyer_name": r["lawyer"],
                    "stops": stops,
                    "geometry": geoms.get((r["lawyer_id"], r["date"])),
                }
            )
        out["routes"] = routes
        out["month"] = month
        out["lawyers"] = [
            {"id": lw.id, "name": lw.name, "base": lw.base, "mode": lw.mode} for lw in cm.lawyers
        ]
        out["quality"] = state.model.quality()
        return out

    n, mode, pyvrp = _circuit_config()
    data = dict(state.result(f"circuits-json:{month}:{n}:{mode}:{pyvrp}", build))
    rows = _done_rows(month)
    data["done"] = [
        {
            "lawyer": r["lawyer"],
            "date": r["day"],
            "village": r["village"],
            "by": r["done_by"],
            "at": r["done_at"],
            "record": record_json(_row_entry(r)),
        }
        for r in rows
    ]
    return data


_VISIT_COLS = {"arrived": "arrived", "left": "left_at"}


def _done_rows(month: str) -> list[Any]:
    """Visits marked done in the web app for ``month`` (lawyer, day, village, by, at and the
    ledger record columns of :data:`.db.VISIT_COLUMNS`)."""
    from .db import get_db

    return list(get_db().execute("SELECT * FROM visit_done WHERE month = ?", (month,)))


def visit_record(body: Mapping[str, Any], lawyer: str, day: str, village: str) -> Any:
    """The ledger record sent with a tick (keys :data:`analysis.circuits.ledger.RECORD_FIELDS`),
    checked by :func:`analysis.circuits.ledger.validate_record`; a bad value is a 400 naming
    the field."""
    from doorstep.analysis.circuits.ledger import RECORD_FIELDS, RecordError, validate_record

    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise ApiError(400, f"'date' must be YYYY-MM-DD, got {day!r}", "date") from None
    try:
        return validate_record(
            {k: body.get(k) for k in RECORD_FIELDS},
            lawyer_id=lawyer,
            date=date,
            village_id=village,
        )
    except RecordError as exc:
        raise ApiError(400, str(exc), exc.field) from None


def record_json(entry: Any) -> dict[str, Any] | None:
    """A visit record as JSON (times HH:MM, counts, services as a list), or None."""
    from doorstep.analysis.circuits.ledger import record_text

    return None if entry is None else record_text(entry)


def mark_visit(month: str, entry: Any, lawyer: str, day: str, village: str, who: str) -> None:
    """Store a tick with its record (``entry``), or remove it (``entry`` None)."""
    from doorstep.analysis.circuits.ledger import record_text

    from .db import get_db

    db = get_db()
    key = (month, lawyer, day, village)
    with db:
        if entry is None:
            db.execute(
                "DELETE FROM visit_done WHERE month=? AND lawyer=? AND day=? AND village=?", key
            )
            return
        rec: dict[str, Any] = record_text(entry)
        cols = {_VISIT_COLS.get(k, k): v for k, v in rec.items()}
        cols["services"] = "、".join(rec["services"])
        cols["follow_up"] = None if rec["follow_up"] is None else int(rec["follow_up"])
        names = ["month", "lawyer", "day", "village", "done_by", "done_at", *cols]
        db.execute(
            f"INSERT OR REPLACE INTO visit_done ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))})",
            (*key, who, now(), *cols.values()),
        )


def _row_entry(r: Any) -> Any:
    """A stored tick as a :class:`analysis.circuits.ledger.LedgerEntry` (the same checks)."""
    from doorstep.analysis.circuits.ledger import RECORD_FIELDS, validate_record

    values = {k: r[_VISIT_COLS.get(k, k)] for k in RECORD_FIELDS}
    values["follow_up"] = None if r["follow_up"] is None else bool(r["follow_up"])
    return validate_record(
        values,
        lawyer_id=r["lawyer"],
        date=dt.date.fromisoformat(r["day"]),
        village_id=r["village"],
        notes=f"网上登记 marked done by {r['done_by']} {r['done_at']}",
    )


def ledger_file(state: Any, month: str) -> Any:
    """The month's visit ledger (台账) as .xlsx in the instance folder (written atomically),
    with the visits ticked in the web app marked visited and their records filled in — the
    ledger file format, read back by ``doorstep ledger report``."""
    from doorstep.analysis.circuits.export import write_ledger
    from doorstep.analysis.circuits.ledger import record_cells

    entries = [_row_entry(r) for r in _done_rows(month)]
    keys = [(e.lawyer_id, e.date.isoformat(), e.village_id) for e in entries]
    return write_ledger(
        circuits_plan(state, month),
        state_dir(state, month) / "ledger.xlsx",
        done={k: e.notes for k, e in zip(keys, entries, strict=True)},
        records={k: record_cells(e) for k, e in zip(keys, entries, strict=True)},
    )


def calendar_file(state: Any, month: str, lawyer: str | None) -> Any:
    """One lawyer's iCalendar file, or every lawyer's events in one file when ``lawyer`` is
    None."""
    from doorstep.analysis.circuits.export import (
        ALL_ICS,
        atomic_write_bytes,
        ics_calendar,
        write_ics,
    )

    from .security import safe_name

    plan = circuits_plan(state, month)
    folder = state_dir(state, month) / "ics"
    if lawyer is None:
        return atomic_write_bytes(
            folder / ALL_ICS, ics_calendar(plan, name="全部顾问 all advisers")
        )
    safe_name(lawyer, "lawyer")
    if lawyer not in {lw.id for lw in plan.lawyers}:
        raise ApiError(404, f"no lawyer {lawyer!r} in the {month} plan", "lawyer")
    (path,) = write_ics(plan, folder, [lawyer])
    return path


def state_dir(state: Any, month: str) -> Any:
    from pathlib import Path

    from flask import current_app

    d = Path(current_app.instance_path) / "exports" / month
    d.mkdir(parents=True, exist_ok=True)
    return d


def check_visit(state: Any, month: str, lawyer: str, day: str, village: str) -> None:
    """404 unless the month's plan has ``lawyer`` visiting ``village`` on ``day``."""
    data = circuits_json(state, month)
    for r in data.get("routes", []):
        if (
            r.get("lawyer") == lawyer
            and r.get("date") == day
            and any(
                s.get("village") == village or s.get("location") == village
                for s in r.get("stops", [])
            )
        ):
            return
    raise ApiError(404, f"no visit of {village} by {lawyer} on {day} in the {month} plan")


def service_info(code: str | None) -> dict[str, Any] | None:
    """The service a request asked for (code, names, what its times measure), or ``None``."""
    if code is None:
        return None
    svc = service_rules().service(code)
    return {"code": svc.code, "name_zh": svc.name_zh, "name_en": svc.name_en, "note": svc.note}


def village_map(doc: dict[str, Any]) -> dict[str, Any]:
    """What the village page's map draws, taken from :func:`village_detail`: the village, and
    each point the page names once (its room, then each service's point by car) with the
    services it is named for. Coordinates are WGS84 (the map shifts them for GCJ-02 tiles)."""
    v = doc["village"]
    points: dict[str, dict[str, Any]] = {}

    def named(p: dict[str, Any] | None, label: str) -> None:
        if p is None:
            return
        entry = points.setdefault(
            p["id"],
            {k: p.get(k) for k in ("id", "name", "tier", "lon", "lat", "phone", "opening_hours")}
            | {"for": []},
        )
        if label not in entry["for"]:
            entry["for"].append(label)

    named(doc["room"], "本村法务室 village room")
    for s in doc["services"]:
        named(s["point"], f"{s.get('name_zh', s.get('code'))} {s.get('name_en', '')}".strip())
    return {
        "village": {k: v[k] for k in ("code", "name", "lon", "lat")},
        "points": list(points.values()),
    }


def _point(sp: Any, pid: str) -> dict[str, Any] | None:
    rows = sp[sp["id"] == pid]
    if not pid or rows.empty:
        return None
    r = rows.iloc[0]
    out: dict[str, Any] = {f: _plain(r.get(f)) for f in POINT_FIELDS}
    tier = service_rules().tiers.get(str(r["tier"]))
    out["tier_label"] = tier.label_zh if tier else str(r["tier"])
    out["lon"], out["lat"] = round(float(r.geometry.x), 6), round(float(r.geometry.y), 6)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v if isinstance(v, bool | int | float) else str(v)


def next_visits(state: Any, code: str, today: dt.date | None = None) -> list[dict[str, Any]] | None:
    """The adviser's visits to village ``code`` from ``today`` on, in this month's circuit plan
    (:func:`circuits_month`), or in next month's when none are left this month; ``None`` while
    the server is too busy planning months to build the plan (the page says so)."""
    today = today or dt.date.today()
    n, mode, pyvrp = _circuit_config()
    for month in dict.fromkeys((f"{today:%Y-%m}", default_month())):

        def build(month: str = month) -> dict[str, list[dict[str, Any]]]:
            by: dict[str, list[dict[str, Any]]] = {}
            for r in circuits_plan(state, month).to_dict().get("routes", []):
                for st in r.get("stops", []):
                    by.setdefault(str(st["village_id"]), []).append(
                        {
                            "date": r["date"],
                            "arrival": st["arrival_hhmm"],
                            "departure": st["departure_hhmm"],
                            "base": r.get("base_name", ""),
                        }
                    )
            return by

        try:
            by = state.result(f"visits-by-village:{month}:{n}:{mode}:{pyvrp}", build)
        except ApiError as exc:
            if exc.status == 429:
                return None
            raise
        mine = by.get(code, [])
        ahead = sorted((v for v in mine if v["date"] >= today.isoformat()), key=lambda v: v["date"])
        if ahead:
            return ahead
    return []


def village_detail(state: Any, code: str) -> dict[str, Any] | None:
    """A village's own legal room, its adviser (no roster is loaded: "待公布"), the adviser's next
    visits (:func:`next_visits`) and, per service, the nearest point open for it (by car, and
    per mode in ``points_by_mode``) with the minutes by every mode (:func:`analysis.service_coverage.village_service_times`); ``None``
    for an unknown code."""
    m = state.model
    row = next((v for v in state.villages() if v["code"] == code), None)
    if row is None:
        return None
    sp = m.service_points
    rooms = sp[(sp["tier"] == "village_room") & (sp["village_code"].astype(str) == code)]
    times = state.service_times()
    mine = times[times["code"] == code]
    per_service = []
    for scode in service_rules().services:
        t = mine[mine["service"] == scode].set_index("mode")
        ids = {md: str(p) for md, p in t["point_id"].items()}
        first = ids.get("car") or next((p for p in ids.values() if p), "")
        per_service.append(
            {
                **(service_info(scode) or {}),
                "point": _point(sp, first),
                "points_by_mode": {md: p or None for md, p in ids.items()},
                "minutes": {
                    md: (round(float(x), 1) if np.isfinite(x) else None)
                    for md, x in t["minutes"].items()
                },
            }
        )
    return {
        "village": row,
        "room": _point(sp, str(rooms["id"].iloc[0])) if len(rooms) else None,
        "hotline": service_rules().hotline,
        "adviser": {"name": None, "phone": None, "status": "待公布 to be announced"},
        "next_visits": next_visits(state, code),
        "services": per_service,
        "units": {"minutes": "min (access walk + network + access walk)"},
        "modelled_layers": m.quality().get("modelled_layers", []),
    }
