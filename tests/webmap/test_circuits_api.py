"""Staff circuits API on the real county planner (Huayuan, a month of 8 lawyers)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.webmap.conftest import PLANNER, STAFF

from ..conftest import needs_shared

pytestmark = needs_shared

MONTH = "2026-12"


@pytest.fixture(scope="module")
def plan_json() -> Any:
    """The month as the API serves it (planned once per module on a throw-away app)."""
    import tempfile
    from pathlib import Path

    from tests.webmap.conftest import Auth, make_app

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        c = app.test_client()
        Auth(c).login(STAFF)
        r = c.get(f"/api/circuits?month={MONTH}")
        assert r.status_code == 200, r.data[:300]
        return r.get_json()


def test_month_plan_covers_every_village(plan_json: Any, huayuan_model: Any) -> None:
    d = plan_json
    codes = [str(c) for c in huayuan_model.villages["code"]]
    visited = [s["village"] for r in d["routes"] for s in r["stops"]]
    assert sorted(visited) == sorted(codes)  # 228 villages, one visit each, nobody twice
    assert d["scheduled_visits"] == d["required_visits"] == len(codes) and not d["unscheduled"]
    assert [lw["id"] for lw in d["lawyers"]] == [f"L{i}" for i in range(1, 9)]
    assert d["units"]["travel"] == "minutes" and "quality" in d
    wgs = huayuan_model.villages.to_crs("EPSG:4326").set_index("code").geometry
    for r in d["routes"]:
        assert r["lawyer"].startswith("L") and r["lawyer_name"].startswith("律师")
        assert r["date"].startswith(MONTH)
        line = r["geometry"]["coordinates"]
        assert line[0] == pytest.approx(line[-1], abs=1e-9)  # leaves from and returns to base
        for s in r["stops"]:
            g = wgs[s["village"]]
            assert s["lon"] == pytest.approx(g.x, abs=1e-6)
            assert s["lat"] == pytest.approx(g.y, abs=1e-6)
            # the road line passes the village's own point (its access leg ends there)
            assert any(p == pytest.approx([s["lon"], s["lat"]], abs=1e-6) for p in line)
    # December 2026: 23 working days, nobody works weekends
    import datetime as dt

    assert all(dt.date.fromisoformat(r["date"]).weekday() < 5 for r in d["routes"])


def test_visits_marked_done(client: Any, auth: Any, plan_json: Any, tmp_path: Any) -> None:
    auth.login(STAFF)
    r0 = plan_json["routes"][0]
    code = r0["stops"][0]["village"]
    body = {"month": MONTH, "lawyer": r0["lawyer"], "date": r0["date"], "village": code}
    assert client.get(f"/api/circuits?month={MONTH}").get_json()["done"] == []
    assert client.post("/api/circuits/visits", json=body).get_json()["done"] is True
    done = client.get(f"/api/circuits?month={MONTH}").get_json()["done"]
    assert [(x["village"], x["by"]) for x in done] == [(code, STAFF[0])]
    # the downloaded ledger carries the web mark, and reads back as visited
    from doorstep.analysis.circuits.ledger import read_ledger

    x = client.get(f"/api/circuits/ledger.xlsx?month={MONTH}")
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(x.data)
    entries = read_ledger(path)
    marked = [e for e in entries if e.visited]
    assert [(e.lawyer_id, e.date.isoformat(), e.village_id) for e in marked] == [
        (r0["lawyer"], r0["date"], code)
    ]
    assert STAFF[0] in marked[0].notes
    assert sum(e.visited is None for e in entries) == len(entries) - 1
    assert client.post("/api/circuits/visits", json={**body, "done": False}).status_code == 200
    assert client.get(f"/api/circuits?month={MONTH}").get_json()["done"] == []
    other = next(r for r in plan_json["routes"] if r["date"] != r0["date"])
    r404 = client.post("/api/circuits/visits", json={**body, "date": other["date"]})
    assert r404.status_code == 404 and r404.is_json
    assert client.post("/api/circuits/visits", json={**body, "done": "yes"}).status_code == 400


def test_downloads(client: Any, auth: Any, plan_json: Any) -> None:
    auth.login(STAFF)
    x = client.get(f"/api/circuits/ledger.xlsx?month={MONTH}")
    assert x.status_code == 200 and x.data[:2] == b"PK"
    assert f"doorstep-ledger-{MONTH}.xlsx" in x.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(x.data))
    assert sum(1 for n in wb.sheetnames if n.startswith("律师")) == 8
    l1 = sum(len(r["stops"]) for r in plan_json["routes"] if r["lawyer"] == "L1")
    ics = client.get(f"/api/circuits/calendar.ics?month={MONTH}&lawyer=L1")
    assert ics.status_code == 200 and ics.data.startswith(b"BEGIN:VCALENDAR")
    assert ics.data.count(b"BEGIN:VEVENT") == l1
    every = client.get(f"/api/circuits/calendar.ics?month={MONTH}")
    assert every.data.count(b"BEGIN:VEVENT") == 228
    assert client.get(f"/api/circuits/calendar.ics?month={MONTH}&lawyer=../x").status_code == 400
    assert client.get(f"/api/circuits/calendar.ics?month={MONTH}&lawyer=L99").status_code == 404


def test_planner_reads_but_cannot_mark(client: Any, auth: Any, plan_json: Any) -> None:
    auth.login(PLANNER)
    assert client.get(f"/api/circuits?month={MONTH}").status_code == 200
    r0 = plan_json["routes"][0]
    body = {
        "month": MONTH,
        "lawyer": r0["lawyer"],
        "date": r0["date"],
        "village": r0["stops"][0]["village"],
    }
    assert client.post("/api/circuits/visits", json=body).status_code == 403


def test_staff_page(client: Any, auth: Any) -> None:
    auth.login(STAFF)
    page = client.get(f"/circuits/?month={MONTH}").get_data(as_text=True)
    assert f'data-month="{MONTH}"' in page and f"ledger.xlsx?month={MONTH}" in page
    assert client.get("/circuits/?month=bad").status_code == 400
