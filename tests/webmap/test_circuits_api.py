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


RECORDS = [
    {
        "arrived": "09:00",
        "left": "11:30",
        "services": ["法律咨询", "人民调解"],
        "persons": 12,
        "mediated": 3,
        "resolved": 2,
        "issues": "宅基地纠纷",
        "follow_up": True,
    },
    {
        "arrived": "13:00",
        "left": "14:00",
        "services": ["普法宣传"],
        "persons": "30",
        "mediated": 0,
        "resolved": 0,
        "follow_up": "否",
    },
    {
        "arrived": "10:00",
        "left": "10:45",
        "services": "法治体检",
        "persons": 5,
        "mediated": 1,
        "resolved": 1,
    },
]


def _three_visits(plan_json: Any) -> list[dict[str, str]]:
    """Two stops of lawyer L1's first day and one of another lawyer."""
    r1 = next(r for r in plan_json["routes"] if r["lawyer"] == "L1" and len(r["stops"]) >= 2)
    r2 = next(r for r in plan_json["routes"] if r["lawyer"] != "L1")
    picks = [(r1, r1["stops"][0]), (r1, r1["stops"][1]), (r2, r2["stops"][0])]
    return [
        {"month": MONTH, "lawyer": r["lawyer"], "date": r["date"], "village": s["village"]}
        for r, s in picks
    ]


def test_ticks_record_the_ledger_and_round_trip(
    client: Any, auth: Any, plan_json: Any, tmp_path: Any, huayuan_model: Any
) -> None:
    """Three ticks with their records → the downloaded ledger → ``doorstep ledger report``:
    the report's sums are the ones typed in."""
    auth.login(STAFF)
    visits = _three_visits(plan_json)
    for v, rec in zip(visits, RECORDS, strict=True):
        r = client.post("/api/circuits/visits", json={**v, **rec})
        assert r.status_code == 200, r.get_data(as_text=True)
    first = r0 = client.get(f"/api/circuits?month={MONTH}").get_json()["done"]
    byv = {d["village"]: d["record"] for d in r0}
    assert byv[visits[0]["village"]] == {**RECORDS[0]}
    assert byv[visits[1]["village"]]["persons"] == 30
    assert byv[visits[1]["village"]]["follow_up"] is False
    assert byv[visits[2]["village"]]["services"] == ["法治体检"]
    assert byv[visits[2]["village"]]["follow_up"] is None and len(first) == 3

    x = client.get(f"/api/circuits/ledger.xlsx?month={MONTH}")
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(x.data)
    from doorstep.analysis.circuits.ledger import read_ledger

    codes = {str(c) for c in huayuan_model.villages["code"]}
    entries = read_ledger(path, codes)
    got = {e.village_id: e for e in entries if e.visited}
    assert set(got) == {v["village"] for v in visits}
    e0 = got[visits[0]["village"]]
    assert (e0.arrived, e0.left, e0.services) == (540, 690, ("法律咨询", "人民调解"))
    assert (e0.persons, e0.mediated, e0.resolved, e0.issues, e0.follow_up) == (
        12,
        3,
        2,
        "宅基地纠纷",
        True,
    )

    from doorstep.cli import main

    out = tmp_path / "report.json"
    assert main(["ledger", "report", str(path), "--out", str(out)]) == 0
    import json

    t = json.loads(out.read_text(encoding="utf-8"))["totals"]
    assert (t["visited"], t["missed"], t["blank"]) == (3, 0, t["planned"] - 3)
    assert (t["persons"], t["mediated"], t["resolved"], t["follow_up"]) == (47, 4, 3, 1)
    assert t["onsite_hours"] == 4.25  # 2.5 + 1 + 0.75
    assert t["services"] == {
        "法律咨询": 1,
        "人民调解": 1,
        "普法宣传": 1,
        "法律援助引导": 0,
        "法治体检": 1,
        "其他": 0,
    }


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"arrived": "11:00", "left": "10:00"}, "left"),
        ({"arrived": "25:99"}, "arrived"),
        ({"persons": -1}, "persons"),
        ({"persons": 2.5}, "persons"),
        ({"mediated": 1, "resolved": 2}, "resolved"),
        ({"services": ["法律咨询", "算命"]}, "services"),
        ({"services": [1]}, "services"),
        ({"follow_up": "maybe"}, "follow_up"),
    ],
)
def test_bad_record_is_400_naming_the_field(
    client: Any, auth: Any, plan_json: Any, record: dict[str, Any], field: str
) -> None:
    """The ledger read-back's rules, applied to the form: nothing is stored."""
    auth.login(STAFF)
    v = _three_visits(plan_json)[0]
    r = client.post("/api/circuits/visits", json={**v, **record})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == field, r.get_json()
    assert client.get(f"/api/circuits?month={MONTH}").get_json()["done"] == []


def test_older_database_gains_the_record_columns(tmp_path: Any) -> None:
    """A database of the previous version (ticks without records) is migrated on start: its
    ticks stay, with empty records, and the project tables appear."""
    import sqlite3

    from doorstep.webmap.app.db import VISIT_COLUMNS, init_db

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE visit_done (month TEXT NOT NULL, lawyer TEXT NOT NULL, day TEXT NOT NULL, "
        "village TEXT NOT NULL, done_by TEXT NOT NULL, done_at TEXT NOT NULL, "
        "PRIMARY KEY (month, lawyer, day, village))"
    )
    conn.execute(
        "INSERT INTO visit_done VALUES ('2026-12','L1','2026-12-01','433124102201','s','t')"
    )
    conn.commit()
    conn.close()
    init_db(str(path))
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(visit_done)")]
    assert cols[6:] == list(VISIT_COLUMNS)
    row = conn.execute("SELECT services, persons, follow_up FROM visit_done").fetchone()
    assert row == ("", None, None)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"project", "milestone", "project_history"} <= tables
    conn.close()
