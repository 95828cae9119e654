"""API: good and bad inputs for every endpoint, auth, CSRF, headers, OpenAPI."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from tests.conftest import needs_data
from tests.webmap.conftest import PLANNER, STAFF, make_app

CENTRE = (109.40, 28.45)  # inside Huayuan


def err(resp: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.is_json
    body = resp.get_json()["error"]
    assert body["status"] == status and body["message"]
    assert "Traceback" not in resp.get_data(as_text=True)
    if field:
        assert body.get("field") == field
    return body  # type: ignore[no-any-return]


@needs_data
def test_health_and_quality(client: Any) -> None:
    r = client.get("/api/health").get_json()
    assert r["status"] == "ok" and r["county"]["code"] == "433124"
    assert r["quality"]["layers"]["roads"]["modelled"] is True
    assert r["quality"]["layers"]["county"]["modelled"] is False


def test_villages_search(client: Any, huayuan_model: Any) -> None:
    v = huayuan_model.villages
    expected = int(((v["name"].str.contains("龙潭")) | (v["town_name"].str.contains("龙潭"))).sum())
    r = client.get("/api/villages?q=龙潭").get_json()
    assert r["count"] == expected > 0
    assert len(client.get("/api/villages").get_json()["villages"]) == len(v)
    assert client.get("/api/villages?limit=5").get_json()["count"] == 5
    err(client.get("/api/villages?limit=0"), 400, "limit")
    err(client.get("/api/villages?limit=abc"), 400, "limit")
    err(client.get("/api/villages?q=" + "x" * 41), 400, "q")


@needs_data
def test_service_points_and_layers(client: Any) -> None:
    fc = client.get("/api/service-points?tier=township_station").get_json()
    assert len(fc["features"]) == 12
    assert all(f["properties"]["phone"] for f in fc["features"])
    assert len(client.get("/api/service-points").get_json()["features"]) == 242
    err(client.get("/api/service-points?tier=castle"), 400, "tier")
    for name in ("county", "townships", "villages", "service_points"):
        assert client.get(f"/api/layers/{name}").get_json()["type"] == "FeatureCollection"
    err(client.get("/api/layers/secret"), 404)


def test_nearest_matches_od_matrix(client: Any, huayuan_model: Any) -> None:
    from doorstep.analysis.coverage import coverage_points
    from doorstep.geo.routing import od_matrix

    sp = coverage_points(huayuan_model).reset_index(drop=True)
    origin = gpd.GeoDataFrame(geometry=[Point(*CENTRE)], crs="EPSG:4326")
    for mode in ("walk", "car"):
        od = od_matrix(huayuan_model, origin, sp, mode=mode, with_distance=True)
        j = int(np.argmin(od.minutes[0]))
        r = client.get(f"/api/nearest?lon={CENTRE[0]}&lat={CENTRE[1]}&mode={mode}&n=3").get_json()
        res = r["results"]
        assert len(res) == 3
        assert [x["minutes"] for x in res] == sorted(x["minutes"] for x in res)
        assert res[0]["id"] == sp["id"].iloc[j]
        assert res[0]["minutes"] == pytest.approx(od.minutes[0, j], abs=0.051)
        assert res[0]["km"] == pytest.approx(od.km[0, j], abs=0.006)
        line = res[0]["route"]["geometry"]["coordinates"]
        assert line[0] == pytest.approx(list(CENTRE), abs=1e-6)
        pt = sp.geometry.iloc[j]
        assert line[-1] == pytest.approx([pt.x, pt.y], abs=1e-5)
        assert res[1]["route"] is None  # only the first route unless route=all
        assert r["online"][0]["phone"] == "12348"
    walk = client.get(f"/api/nearest?lon={CENTRE[0]}&lat={CENTRE[1]}&mode=walk").get_json()
    car = client.get(f"/api/nearest?lon={CENTRE[0]}&lat={CENTRE[1]}&mode=car").get_json()
    assert walk["results"][0]["minutes"] > car["results"][0]["minutes"]
    allr = client.get(f"/api/nearest?lon={CENTRE[0]}&lat={CENTRE[1]}&route=all").get_json()
    assert all(x["route"] for x in allr["results"])


@needs_data
def test_engine_equals_od_matrix_random_points(app: Any) -> None:
    from doorstep.geo.routing import od_matrix
    from doorstep.webmap.app.state import get_state

    with app.app_context():
        eng = get_state().engine
        b = eng.model.county.total_bounds
        rng = np.random.default_rng(7)
        pts: list[tuple[float, float]] = []
        while len(pts) < 25:
            p = (rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3]))
            if eng.inside(*p):
                pts.append(p)
        ids = [r["id"] for r in eng.rows]
        for mode in ("walk", "motorbike", "car"):
            gdf = gpd.GeoDataFrame(geometry=[Point(p) for p in pts], crs="EPSG:4326")
            od = od_matrix(eng.model, gdf, eng.points, mode=mode)
            for i, p in enumerate(pts):
                found, _ = eng.nearest(*p, mode=mode, n=len(ids), routes=0)
                got = {f.row["id"]: f.minutes for f in found}
                for j, fid in enumerate(ids):
                    if np.isfinite(od.minutes[i, j]):
                        assert got[fid] == pytest.approx(od.minutes[i, j], abs=1e-9)


def test_nearest_at_a_service_point_is_two_access_legs(client: Any, huayuan_model: Any) -> None:
    from doorstep.analysis.coverage import coverage_points
    from doorstep.geo.routing import AccessParams

    sp = coverage_points(huayuan_model).iloc[0]
    r = client.get(f"/api/nearest?lon={sp.geometry.x}&lat={sp.geometry.y}&mode=car&n=1").get_json()
    snap = r["origin"]["snap_m"]
    walk = AccessParams.from_file().walk_m_per_min
    assert r["results"][0]["id"] == sp["id"]
    assert r["results"][0]["minutes"] == pytest.approx(2 * snap / walk, abs=0.06)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lat=28.45", "lon"),
        ("lon=109.4", "lat"),
        ("lon=abc&lat=28.45", "lon"),
        ("lon=nan&lat=28.45", "lon"),
        ("lon=inf&lat=28.45", "lon"),
        ("lon=200&lat=28.45", "lon"),
        ("lon=109.4&lat=-95", "lat"),
        ("lon=109.4&lat=28.45&mode=plane", "mode"),
        ("lon=109.4&lat=28.45&n=0", "n"),
        ("lon=109.4&lat=28.45&n=6", "n"),
        ("lon=109.4&lat=28.45&n=1.5", "n"),
        ("lon=109.4&lat=28.45&route=some", "route"),
    ],
)
def test_nearest_bad_inputs(client: Any, query: str, field: str) -> None:
    err(client.get(f"/api/nearest?{query}"), 400, field)


def test_nearest_outside_county(client: Any, huayuan_model: Any) -> None:
    import shapely
    from pyproj import Transformer

    from doorstep.geo.routing import BORDER_M

    # west of the westernmost vertex: 0.6·BORDER_M away is accepted (GPS noise), 1.6· is not
    outline = huayuan_model.to_metric(huayuan_model.county).geometry.union_all()
    xy = shapely.get_coordinates(outline)
    x0, y0 = xy[xy[:, 0].argmin()]
    back = Transformer.from_crs(huayuan_model.crs, "EPSG:4326", always_xy=True)
    for off, ok in ((BORDER_M * 0.6, True), (BORDER_M * 1.6, False)):
        lon, lat = back.transform(x0 - off, y0)
        r = client.get(f"/api/nearest?lon={lon}&lat={lat}&mode=car&n=1")
        assert (r.status_code == 200) is ok, (off, r.get_json())
    body = err(client.get("/api/nearest?lon=110.5&lat=28.58"), 400)
    assert body["code"] == "outside_county"
    body = err(client.get("/api/nearest?lon=0&lat=0"), 400)  # null island, e.g. a GPS failure
    assert body["code"] == "outside_county"


def test_coverage_and_underserved(client: Any, huayuan_model: Any) -> None:
    from doorstep.analysis.coverage import CoverageTarget
    from doorstep.analysis.gaps import underserved_villages

    c = client.get("/api/coverage?mode=car").get_json()
    assert c["county"]["population"] == 249238
    assert len(c["townships"]) == len(huayuan_model.townships)
    assert sum(t["population"] for t in c["townships"]) == 249238
    assert 0 <= c["county"]["share_within_30"] <= 1
    err(client.get("/api/coverage?mode=boat"), 400, "mode")
    u = client.get("/api/underserved?mode=car").get_json()
    expected = underserved_villages(huayuan_model, CoverageTarget())
    assert u["count"] == len(expected)
    assert u["target"]["urban_minutes"] == 15.0 and "urban ≤ 15 min" in u["threshold"]
    assert [v["code"] for v in u["villages"]] == list(expected["code"])
    u60 = client.get("/api/underserved?mode=car&minutes=60").get_json()
    assert u60["count"] <= u["count"]
    for bad in ("-5", "0", "1e6", "abc", "nan"):
        err(client.get(f"/api/underserved?minutes={bad}"), 400, "minutes")


def test_http_errors_are_json(client: Any) -> None:
    assert err(client.get("/api/nothing"), 404)["code"] == "not_found"
    assert err(client.post("/api/nearest"), 405)["code"] == "method_not_allowed"
    assert err(client.delete("/api/health"), 405)


def test_500_is_json_without_traceback(tmp_path: Any) -> None:
    app = make_app(tmp_path)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    r = app.test_client().get("/api/boom")
    body = err(r, 500)
    assert "secret internals" not in r.get_data(as_text=True)
    assert body["code"] == "internal"


def test_whatif_requires_planner(client: Any, auth: Any) -> None:
    body = {"sites": ["433124102003"], "minutes": 30}
    assert err(client.post("/api/whatif", json=body), 401)["code"] == "unauthorized"
    auth.login(STAFF)
    assert err(client.post("/api/whatif", json=body), 403)["code"] == "forbidden"
    client.post("/auth/logout")
    assert err(client.post("/api/whatif", json=body), 401)


def test_whatif_given_sites(client: Any, auth: Any, huayuan_model: Any) -> None:
    from doorstep.analysis.coverage import CoverageTarget
    from doorstep.analysis.gaps import underserved_villages

    auth.login(PLANNER)
    worst = underserved_villages(huayuan_model, CoverageTarget()).iloc[0]
    r = client.post("/api/whatif", json={"sites": [worst["code"]], "minutes": 30, "mode": "car"})
    assert r.status_code == 200, r.get_data(as_text=True)
    s = r.get_json()["summary"]
    assert s["population"] == 249238
    assert s["covered_after"] >= s["covered_before"] + int(worst["population"])
    assert worst["code"] in r.get_json()["villages_covered_after"]
    assert worst["code"] not in r.get_json()["villages_covered_before"]


@pytest.mark.parametrize(
    "body",
    [
        {"k": 0},
        {"k": 31},
        {"k": 1000000},
        {"k": "three"},
        {"k": True},
        {"minutes": -5},
        {"minutes": 1e9},
        {"model": "magic"},
        {"mode": "rocket"},
        {"sites": "433124102003"},
        {"sites": [1, 2]},
        {"sites": ["999999999999"]},
    ],
)
def test_whatif_bad_inputs(client: Any, auth: Any, body: dict[str, Any]) -> None:
    auth.login(PLANNER)
    err(client.post("/api/whatif", json=body), 400)


def test_whatif_body_must_be_json(client: Any, auth: Any) -> None:
    auth.login(PLANNER)
    err(client.post("/api/whatif", data="k=3"), 400, "body")
    err(client.post("/api/whatif", data="[1,2", content_type="application/json"), 400, "body")


def test_scenarios_save_compare(client: Any, auth: Any, huayuan_model: Any) -> None:
    auth.login(PLANNER)
    codes = list(huayuan_model.villages["code"][:2])
    a = client.post("/api/scenarios", json={"name": "一个点 one", "params": {"sites": codes[:1]}})
    b = client.post("/api/scenarios", json={"name": "two", "params": {"sites": codes}})
    assert a.status_code == 201 and b.status_code == 201
    ida, idb = a.get_json()["id"], b.get_json()["id"]
    lst = client.get("/api/scenarios").get_json()["scenarios"]
    assert [x["name"] for x in lst] == ["一个点 one", "two"]
    cmp = client.get(f"/api/scenarios/compare?ids={ida},{idb}").get_json()["scenarios"]
    assert cmp[1]["summary"]["covered_after"] >= cmp[0]["summary"]["covered_after"]
    assert client.get(f"/api/scenarios/{ida}").get_json()["params"]["sites"] == codes[:1]
    err(client.get("/api/scenarios/999"), 404)
    err(client.get("/api/scenarios/compare?ids=1,x"), 400, "ids")
    err(client.get("/api/scenarios/compare"), 400, "ids")
    err(client.post("/api/scenarios", json={"name": "x" * 81}), 400, "name")
    err(client.post("/api/scenarios", json={"params": {}}), 400, "name")
    # same name replaces
    client.post("/api/scenarios", json={"name": "two", "params": {"sites": codes[:1]}})
    assert len(client.get("/api/scenarios").get_json()["scenarios"]) == 2


def test_database_is_wal(app: Any) -> None:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        row = conn.execute("SELECT password FROM user WHERE username=?", (PLANNER[0],)).fetchone()
        assert row[0] != PLANNER[1] and row[0].startswith(("scrypt:", "pbkdf2:"))
    finally:
        conn.close()


@needs_data
def test_csrf_enforced(tmp_path: Any) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    c = app.test_client()
    assert (
        c.post("/auth/login", data={"username": PLANNER[0], "password": PLANNER[1]}).status_code
        == 400
    )
    page = c.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = c.post(
        "/auth/login", data={"username": PLANNER[0], "password": PLANNER[1], "csrf_token": token}
    )
    assert r.status_code == 302
    body = {"sites": ["433124102003"]}
    assert err(c.post("/api/whatif", json=body), 400)["code"] == "csrf"
    page = c.get("/").get_data(as_text=True)  # login starts a new session: a new token
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert c.post("/api/whatif", json=body, headers={"X-CSRFToken": token}).status_code == 200


@needs_data
def test_login_pages(client: Any, auth: Any) -> None:
    assert client.get("/plan/").status_code == 302
    assert (
        client.post("/auth/login", data={"username": "nobody", "password": "x"}).status_code == 401
    )
    r = client.post(
        "/auth/login?next=//evil.example/", data={"username": PLANNER[0], "password": PLANNER[1]}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/plan/"
    page = client.get("/plan/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)  # the validation table, filled from /api/validation
    assert (
        'id="validation"' in html
        and "模型检验" in html
        and 'aria-labelledby="validation-h"' in html
    )
    client.post("/auth/logout")
    r = auth.login(STAFF)
    assert r.headers["Location"] == "/circuits/"


@needs_data
def test_security_headers(client: Any) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "https://" not in r.get_data(as_text=True).split("<main>")[0]  # no CDN assets


def test_production_refuses_default_secret(tmp_path: Any) -> None:
    from doorstep.webmap.app import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"PRODUCTION": True, "SECRET_KEY": "dev"}, instance_path=str(tmp_path))
    app = create_app(
        {"PRODUCTION": True, "SECRET_KEY": "a-real-secret"}, instance_path=str(tmp_path)
    )
    assert app.config["PRODUCTION"] is True


def test_circuits_need_login(client: Any, auth: Any) -> None:
    err(client.get("/api/circuits"), 401)
    err(client.get("/api/circuits/ledger.xlsx"), 401)
    err(client.post("/api/circuits/visits", json={}), 401)
    auth.login(STAFF)
    err(client.get("/api/circuits?month=2025-13"), 400, "month")
    err(client.get("/api/circuits?month=../../etc"), 400, "month")
    err(client.get("/api/circuits/calendar.ics?month=2025-03&lawyer=" + "x" * 41), 400, "lawyer")


def test_openapi_document_validates(app: Any, client: Any) -> None:
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    rules = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/")
    }
    assert rules == set(spec["paths"])


@needs_data
def test_whatif_models(client: Any, auth: Any) -> None:
    auth.login(PLANNER)
    out = {}
    for model in ("mclp", "pmedian", "pcenter"):
        r = client.post("/api/whatif", json={"model": model, "k": 3, "minutes": 30, "mode": "car"})
        assert r.status_code == 200, r.get_data(as_text=True)
        out[model] = r.get_json()
        summary = out[model]["summary"]
        # MCLP opens fewer sites when fewer already cover everyone (2 do on the real road backbone)
        full = model == "mclp" and summary["share_after"] == 1.0
        assert summary["new_sites"] == 3 or (full and summary["new_sites"] < 3)
    s = out["mclp"]["summary"]
    # MCLP maximises covered population: no other 3-site answer covers more
    assert s["covered_after"] >= max(o["summary"]["covered_after"] for o in out.values())
    assert s["covered_after"] > s["covered_before"]
    towns = out["mclp"]["townships"]
    assert sum(t["covered_after"] - t["covered_before"] for t in towns) == pytest.approx(
        s["covered_after"] - s["covered_before"], abs=len(towns)
    )
    r = client.post("/api/whatif", json={"model": "lscp", "minutes": 30}).get_json()
    assert r["summary"]["share_after"] == 1.0
