"""``/api``: JSON for residents, planners and staff (OpenAPI 3 at ``/api/openapi.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, send_file

from doorstep.analysis.coverage import _json_records
from doorstep.geo.services import TIERS, service_rules

from . import services
from .auth import role_required
from .db import ScenarioClash, get_db, save_scenario, scenario_dict
from .errors import ApiError
from .openapi import openapi_spec
from .state import AppState, get_state
from .validate import MODES, choice, integer, json_body, month, number, text

bp = Blueprint("api", __name__, url_prefix="/api")

ONLINE = [
    {"name": "12348 公共法律服务热线 Legal aid hotline", "phone": "12348"},
    {"name": "12348 中国法网 (湖南) China Legal Services online", "url": "https://hn.12348.gov.cn"},
    {"name": "如法网 Rufa legal learning", "url": "https://www.rufa.gov.cn"},
]
WHATIF_MODELS = ("mclp", "lscp", "pmedian", "pcenter")


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_spec())


@bp.get("/health")
def health() -> Any:
    st = get_state()
    m = st.model
    return jsonify(
        {
            "status": "ok",
            "county": {"code": m.code, "name": m.name, "vintage": m.vintage},
            "quality": m.quality(),
        }
    )


@bp.get("/villages")
def villages() -> Any:
    q = text(request.args, "q", 40)
    limit = integer(request.args, "limit", 1, 500, 500)
    rows = get_state().villages()
    if q:
        rows = [r for r in rows if q in r["name"] or q in r["town_name"] or r["code"].startswith(q)]
    return jsonify({"count": len(rows[:limit]), "villages": rows[:limit]})


@bp.get("/service-points")
def service_points() -> Any:
    tier = request.args.get("tier")
    fc = get_state().layer("service_points")
    if tier:
        tier = choice(request.args, "tier", TIERS)
        fc = {
            "type": "FeatureCollection",
            "features": [f for f in fc["features"] if f["properties"]["tier"] == tier],
        }
    return jsonify(fc)


@bp.get("/layers/<name>")
def layer(name: str) -> Any:
    if name not in ("county", "townships", "villages", "service_points"):
        raise ApiError(
            404, f"unknown layer {name!r}; use county, townships, villages, service_points"
        )
    return jsonify(get_state().layer(name))


@bp.get("/nearest")
def nearest() -> Any:
    return jsonify(nearest_answer(request.args, get_state()))


def nearest_answer(args: Mapping[str, Any], st: AppState) -> dict[str, Any]:
    """The ``/api/nearest`` answer for query ``args`` (Flask's view and the lean WSGI path of
    :mod:`.fastpath` both call this; bad values raise :class:`ApiError`). ``service=CODE``
    answers with the points offering that service only."""
    lon = number(args, "lon", -180, 180, required=True)
    lat = number(args, "lat", -90, 90, required=True)
    mode = choice(args, "mode", MODES, "car")
    n = integer(args, "n", 1, 5, 3)
    which = choice(args, "route", ("first", "all", "none"), "first")
    service = args.get("service") or None
    if service is not None:
        service = choice(args, "service", tuple(service_rules().services))
    assert lon is not None and lat is not None and n is not None
    eng = st.service_engine(service)
    if not eng.inside(lon, lat):
        raise ApiError(
            400,
            f"point ({lon:g}, {lat:g}) is outside {eng.model.name} 不在县域内",
            "lon",
            code="outside_county",
        )
    found, snap_m = eng.nearest(
        lon, lat, mode, n, routes={"first": 1, "all": None, "none": 0}[which]
    )
    results = [
        {
            **p.row,
            "minutes": round(p.minutes, 1),
            "km": round(p.km, 2) if p.route else None,
            "route": {
                "type": "Feature",
                "properties": {"minutes": round(p.minutes, 1), "mode": mode},
                "geometry": {"type": "LineString", "coordinates": p.route},
            }
            if p.route
            else None,
        }
        for p in found
    ]
    return {
        "origin": {"lon": lon, "lat": lat, "snap_m": round(snap_m, 1)},
        "mode": mode,
        "units": {"minutes": "min", "km": "km", "snap_m": "m"},
        "modelled": bool(eng.index.modelled),
        "service": services.service_info(service),
        "results": results,
        "online": ONLINE,
    }


@bp.get("/villages/<code>")
def village(code: str) -> Any:
    """One village: its legal room and, per service, the nearest open point by each mode."""
    if len(code) > 20 or not code.isdigit():
        raise ApiError(404, f"unknown village {code[:20]!r}; use a 12-digit code", "code")
    doc = services.village_detail(get_state(), code)
    if doc is None:
        raise ApiError(404, f"unknown village {code!r}", "code")
    return jsonify({**doc, "online": ONLINE})


@bp.get("/coverage")
def coverage() -> Any:
    mode = choice(request.args, "mode", MODES, "car")
    cov = get_state().coverage()
    t = cov.townships[cov.townships["mode"] == mode]
    c = cov.county[cov.county["mode"] == mode]
    return jsonify(
        {
            "mode": mode,
            "county": _json_records(c)[0],
            "townships": _json_records(t),
            "meta": cov.meta,
        }
    )


@bp.get("/services/coverage")
def service_coverage() -> Any:
    """Each service × 15/30/60 min, county and townships (:mod:`analysis.service_coverage`)."""
    mode = choice(request.args, "mode", MODES, "car")
    tab = get_state().service_coverage(mode)
    return jsonify(
        {
            "mode": mode,
            "rows": _json_records(tab),
            "units": tab.attrs["units"],
            "assumptions": tab.attrs["assumptions"],
        }
    )


@bp.get("/demand")
def demand() -> Any:
    """Demand vs capacity: the county centre's queue (Erlang C), load per point, 2SFCA."""
    return jsonify(get_state().demand().to_dict())


@bp.get("/underserved")
def underserved() -> Any:
    """Villages beyond the one coverage target (``minutes`` = rural, ``urban_minutes``)."""
    target = services.target_params(request.args)
    gap = get_state().underserved(target)
    cols = [
        "rank",
        "code",
        "name",
        "town_name",
        "population",
        "min_staffed",
        "target_min",
        "location_quality",
        "excess_min",
        "person_minutes",
        "reason_zh",
        "reason_en",
        "point_imputed",
    ]
    return jsonify(
        {
            "mode": target.mode,
            "target": target.to_dict(),
            "threshold": target.describe(compliance=False),
            "count": len(gap),
            "units": gap.attrs.get("units", {}),
            "villages": _json_records(gap[[c for c in cols if c in gap.columns]]),
        }
    )


@bp.post("/whatif")
@role_required("planner")
def whatif() -> Any:
    body = json_body()
    params = services.whatif_params(body)
    return jsonify(services.run_whatif(get_state(), params))


@bp.get("/scenarios")
@role_required("planner")
def scenarios() -> Any:
    rows = get_db().execute("SELECT * FROM scenario ORDER BY id").fetchall()
    return jsonify({"scenarios": [scenario_dict(r, full=False) for r in rows]})


@bp.post("/scenarios")
@role_required("planner")
def scenario_save() -> Any:
    body = json_body()
    name = text(body, "name", 80, required=True)
    raw = body.get("params")
    params = services.whatif_params(raw if isinstance(raw, dict) else {})
    result = services.run_whatif(get_state(), params)
    overwrite = body.get("overwrite", False) is True
    try:
        sid = save_scenario(name, g.user["username"], params, result, overwrite=overwrite)
    except ScenarioClash as exc:
        hint = "" if exc.owner != g.user["username"] else "; send overwrite: true to replace it"
        raise ApiError(409, f"{exc}{hint}", "name", code="conflict") from None
    row = get_db().execute("SELECT * FROM scenario WHERE id = ?", (sid,)).fetchone()
    return jsonify(scenario_dict(row)), 201


@bp.get("/scenarios/<int:sid>")
@role_required("planner")
def scenario_get(sid: int) -> Any:
    if not 0 < sid < 2**63:  # SQLite INTEGER range (a larger id would overflow: 500)
        raise ApiError(404, f"no scenario {sid}")
    row = get_db().execute("SELECT * FROM scenario WHERE id = ?", (sid,)).fetchone()
    if row is None:
        raise ApiError(404, f"no scenario {sid}")
    return jsonify(scenario_dict(row))


@bp.get("/scenarios/compare")
@role_required("planner")
def scenario_compare() -> Any:
    raw = text(request.args, "ids", 200, required=True)
    try:
        ids = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise ApiError(400, "'ids' must be comma-separated scenario ids", "ids") from None
    if not 1 <= len(ids) <= 10:
        raise ApiError(400, "'ids' must list 1–10 scenarios", "ids")
    if not all(0 < i < 2**63 for i in ids):
        raise ApiError(400, "'ids' must be positive scenario ids", "ids")
    out = []
    for sid in ids:
        row = get_db().execute("SELECT * FROM scenario WHERE id = ?", (sid,)).fetchone()
        if row is None:
            raise ApiError(404, f"no scenario {sid}", "ids")
        out.append(scenario_dict(row, full=False))
    return jsonify({"scenarios": out})


@bp.get("/circuits")
@role_required("staff", "planner")
def circuits() -> Any:
    m = month(request.args, default=services.default_month())
    return jsonify(services.circuits_json(get_state(), m))


@bp.get("/circuits/ledger.xlsx")
@role_required("staff", "planner")
def ledger() -> Response:
    m = month(request.args, default=services.default_month())
    path = services.ledger_file(get_state(), m)
    return send_file(
        path,
        as_attachment=True,
        download_name=f"doorstep-ledger-{m}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.get("/circuits/calendar.ics")
@role_required("staff", "planner")
def calendar() -> Response:
    m = month(request.args, default=services.default_month())
    lawyer = text(request.args, "lawyer", 40)
    path = services.calendar_file(get_state(), m, lawyer or None)
    return send_file(
        path,
        as_attachment=True,
        download_name=f"doorstep-{lawyer or 'all'}-{m}.ics",
        mimetype="text/calendar",
    )


@bp.post("/circuits/visits")
@role_required("staff")
def visit_done() -> Any:
    """Tick a visit done with its ledger record (the ledger's fields, checked by the ledger's
    rules: 400 naming the field), or untick it (``done: false``)."""
    body = json_body()
    m = month(body)
    lawyer = text(body, "lawyer", 40, required=True)
    day = text(body, "date", 10, required=True)
    village = text(body, "village", 20, required=True)
    done = body.get("done", True)
    if not isinstance(done, bool):
        raise ApiError(400, "'done' must be true or false", "done")
    services.check_visit(get_state(), m, lawyer, day, village)
    entry = services.visit_record(body, lawyer, day, village) if done else None
    services.mark_visit(m, entry, lawyer, day, village, g.user["username"])
    return jsonify(
        {
            "month": m,
            "lawyer": lawyer,
            "date": day,
            "village": village,
            "done": done,
            "record": services.record_json(entry),
        }
    )


@bp.get("/validation")
def validation() -> Any:
    """The model against published facts and independent sources (``doorstep validate``)."""
    from doorstep.geo.validation import validate_against_world

    st = get_state()
    rep = st._get("validation", lambda: validate_against_world(st.model, st.data))
    return jsonify(rep.as_dict())
