"""``/api/nearest?service=`` and ``/api/villages/<code>`` (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webmap.test_api import CENTRE, err

pytestmark = pytest.mark.needs_data


def test_nearest_returns_only_points_offering_the_service(client: Any, huayuan_model) -> None:
    from doorstep.geo.services import service_rules

    sp = huayuan_model.service_points
    q = f"/api/nearest?lon={CENTRE[0]}&lat={CENTRE[1]}&mode=car&n=5&route=none"
    for code in ("legal_aid", "correction", "mediation"):
        r = client.get(f"{q}&service={code}").get_json()
        open_ids = set(service_rules().offering(sp, code)["id"])
        assert r["results"] and {x["id"] for x in r["results"]} <= open_ids
        assert r["service"]["code"] == code
    cor = client.get(f"{q}&service=correction").get_json()
    assert [x["tier"] for x in cor["results"]] == ["correction_centre"]  # the one centre
    med = client.get(f"{q}&service=mediation").get_json()
    anyp = client.get(q).get_json()
    assert anyp["service"] is None
    # the village rooms count for mediation: the nearest is a room, and at least as near
    assert med["results"][0]["tier"] == "village_room"
    assert med["results"][0]["minutes"] <= anyp["results"][0]["minutes"]
    err(client.get(f"{q}&service=notary"), 400, "service")


def test_village_detail_per_service(client: Any, huayuan_model) -> None:
    from doorstep.analysis.coverage import coverage

    code = "433124102201"
    doc = client.get(f"/api/villages/{code}").get_json()
    assert doc["village"]["code"] == code
    assert doc["room"]["id"] == f"{code}-R" and doc["room"]["tier"] == "village_room"
    assert doc["hotline"] == "12348" and doc["online"][0]["phone"] == "12348"
    by = {s["code"]: s for s in doc["services"]}
    assert list(by) == ["consultation", "legal_aid", "mediation", "correction", "publicity"]
    cov = coverage(huayuan_model, service="legal_aid").villages
    for mode in ("walk", "motorbike", "car"):
        row = cov[(cov["code"] == code) & (cov["mode"] == mode)].iloc[0]
        assert by["legal_aid"]["minutes"][mode] == pytest.approx(row["min_staffed"], abs=0.051)
    assert by["legal_aid"]["point"]["id"] == row["nearest_id"]  # car
    assert "forwarded" in by["legal_aid"]["note"]
    assert by["mediation"]["point"]["id"] == f"{code}-R"
    assert by["correction"]["point"]["tier"] == "correction_centre"
    assert by["correction"]["minutes"]["car"] >= by["legal_aid"]["minutes"]["car"]
    err(client.get("/api/villages/433124999999"), 404)
    err(client.get("/api/villages/abc"), 404)


def test_openapi_lists_the_new_paths(client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/villages/{code}" in spec["paths"]
    params = spec["paths"]["/api/nearest"]["get"]["parameters"]
    assert any(p["name"] == "service" for p in params)


def test_every_village_has_its_page(client: Any, huayuan_model) -> None:
    v = huayuan_model.villages
    assert len(v) == 228
    for code, name in zip(v["code"], v["name"], strict=True):
        r = client.get(f"/v/{code}")
        assert r.status_code == 200, code
        html = r.get_data(as_text=True)
        assert name in html and 'href="tel:12348"' in html
        assert f"{name}法务室" in html  # its own legal room
        assert html.count("data-service=") == 5
    assert client.get("/v/433124999999").status_code == 404
    assert client.get("/v/x1").status_code == 404


def test_village_page_map_shows_the_tables_points(client: Any, huayuan_model) -> None:
    """The map's data island names the village at its coordinates and, once each, the room and
    every service's point by car, at the model's coordinates, with what each is for."""
    import json
    import re

    code = "433124102201"
    html = client.get(f"/v/{code}").get_data(as_text=True)
    island = re.search(
        r'<script type="application/json" id="village-map-data">(.*?)</script>', html, re.S
    )
    assert island is not None and 'id="map"' in html and "village.js" in html
    data = json.loads(island.group(1))
    doc = client.get(f"/api/villages/{code}").get_json()
    v = huayuan_model.villages.set_index("code").loc[code]
    assert data["village"]["code"] == code
    assert data["village"]["lon"] == pytest.approx(v.geometry.x, abs=1e-6)
    assert data["village"]["lat"] == pytest.approx(v.geometry.y, abs=1e-6)
    expected = [doc["room"]["id"]] + [s["point"]["id"] for s in doc["services"] if s["point"]]
    ids = [p["id"] for p in data["points"]]
    assert ids == list(dict.fromkeys(expected))  # each point once, room first
    sp = huayuan_model.service_points.set_index("id")
    for p in data["points"]:
        assert p["lon"] == pytest.approx(sp.loc[p["id"]].geometry.x, abs=1e-6)
        assert p["lat"] == pytest.approx(sp.loc[p["id"]].geometry.y, abs=1e-6)
    uses = {label for p in data["points"] for label in p["for"]}
    assert len(uses) == 1 + sum(1 for s in doc["services"] if s["point"])
    assert data["points"][0]["for"][0] == "本村法务室 village room"
    for s in doc["services"]:  # each service is listed at its own point
        if s["point"]:
            at = next(p for p in data["points"] if p["id"] == s["point"]["id"])
            assert any(label.startswith(s["name_zh"]) for label in at["for"])


def test_village_search_links_to_pages(client: Any) -> None:
    html = client.get("/v?q=龙潭").get_data(as_text=True)
    assert 'href="/v/433124102' in html
    assert "没有找到" in client.get("/v?q=不存在的村").get_data(as_text=True)


def test_next_visits_come_from_the_month_plan(app: Any) -> None:
    import datetime as dt

    from doorstep.webmap.app import services
    from doorstep.webmap.app.state import get_state

    today = dt.date.today()
    client = app.test_client()
    with app.app_context():
        plan = services.circuits_plan(get_state(), f"{today:%Y-%m}").to_dict()
    planned: dict[str, list[str]] = {}
    for r in plan["routes"]:
        for st in r["stops"]:
            if r["date"] >= today.isoformat():
                planned.setdefault(str(st["village_id"]), []).append(r["date"])
    if not planned:  # the month's last days: the page falls back to next month's plan
        pytest.skip("no visits left in this month's plan")
    code = sorted(planned)[0]
    doc = client.get(f"/api/villages/{code}").get_json()
    got = [v["date"] for v in doc["next_visits"]]
    assert got == sorted(planned[code])
    assert doc["adviser"]["status"].startswith("待公布")
    html = client.get(f"/v/{code}").get_data(as_text=True)
    assert got[0] in html


def test_demand_and_service_coverage_endpoints(client: Any) -> None:
    from doorstep.analysis.demand import DemandParams, centre_queue

    d = client.get("/api/demand").get_json()
    q = centre_queue(DemandParams.from_file(), 6)
    assert d["county_centre_queue"]["saturation_year"] == q.saturation_year
    w0 = d["county_centre_queue"]["years"][0]["wait_min"]
    assert w0 == pytest.approx(q.years[0].wait_min)
    assert d["params"]["legal_aid_cases"] == 200
    s = client.get("/api/services/coverage?mode=car").get_json()
    county = {r["service"]: r for r in s["rows"] if r["scope"] == "county"}
    assert county["mediation"]["share_within_15"] == pytest.approx(1.0)
    assert county["correction"]["share_within_30"] < county["legal_aid"]["share_within_30"]
    assert len(s["rows"]) == 5 * 13
    err(client.get("/api/services/coverage?mode=plane"), 400, "mode")
