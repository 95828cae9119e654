"""Staff circuits API with a stand-in county planner (the wiring, not the planner itself)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.webmap.conftest import PLANNER, STAFF


def fake_module(model: Any) -> Any:
    from analysis.circuits.model import Lawyer
    from analysis.circuits.plan import DayRoute, MonthPlan, PlannedStop

    v = model.villages.iloc[:2]
    stops = [
        PlannedStop(
            str(r["code"]),
            str(r["name"]),
            str(r["town_name"]),
            1,
            1,
            600.0 + 120 * i,
            600.0 + 120 * i,
            700.0 + 120 * i,
            20.0,
            9.5,
        )
        for i, (_, r) in enumerate(v.iterrows())
    ]
    day = DayRoute(
        "L1",
        "张律师",
        dt.date(2025, 3, 3),
        "433124-C",
        "县中心",
        510.0,
        1000.0,
        stops,
        720.0,
        780.0,
        "base",
        80.0,
        40.0,
        20.0,
        10.0,
        "test",
    )
    plan = MonthPlan(
        "2025-03", [Lawyer("L1", "张律师", "433124-C")], [day], [], {"L1": [dt.date(2025, 3, 3)]}, 2
    )

    def write_ledger(_plan: Any, path: Path) -> Path:
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.append(["lawyer", "date", "village"])  # type: ignore[union-attr]
        wb.save(path)
        return path

    def write_ics(_plan: Any, path: Path, lawyer: str | None = None) -> Path:
        path.write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        return path

    return SimpleNamespace(
        plan_county_month=lambda _m, _month: plan, write_ledger=write_ledger, write_ics=write_ics
    ), stops


@pytest.fixture
def fake(monkeypatch: Any, huayuan_model: Any) -> Iterator[Any]:
    from webmap.app import services, state

    def forget() -> None:  # the stand-in plan must not stay in the process-wide cache
        for cache in state._SHARED.values():
            for key in [k for k in cache if k.startswith("circuits")]:
                del cache[key]

    mod, stops = fake_module(huayuan_model)
    monkeypatch.setattr(services, "_circuits_module", lambda: mod)
    forget()
    yield stops
    forget()


def test_circuits_json_and_visits(client: Any, auth: Any, fake: Any, huayuan_model: Any) -> None:
    auth.login(STAFF)
    d = client.get("/api/circuits?month=2025-03").get_json()
    (r,) = d["routes"]
    assert r["lawyer"] == "L1" and r["lawyer_name"] == "张律师" and r["date"] == "2025-03-03"
    code = fake[0].village_id
    g = huayuan_model.villages.set_index("code").geometry[code]
    assert r["stops"][0]["village"] == code
    assert r["stops"][0]["lon"] == pytest.approx(g.x, abs=1e-6)
    line = r["geometry"]["coordinates"]
    assert len(line) == 4 and line[0] == line[-1]  # base -> 2 villages -> base
    assert d["done"] == []
    body = {"month": "2025-03", "lawyer": "L1", "date": "2025-03-03", "village": code}
    assert client.post("/api/circuits/visits", json=body).get_json()["done"] is True
    done = client.get("/api/circuits?month=2025-03").get_json()["done"]
    assert [(x["village"], x["by"]) for x in done] == [(code, STAFF[0])]
    assert client.post("/api/circuits/visits", json={**body, "done": False}).status_code == 200
    assert client.get("/api/circuits?month=2025-03").get_json()["done"] == []
    r404 = client.post("/api/circuits/visits", json={**body, "date": "2025-03-04"})
    assert r404.status_code == 404 and r404.is_json
    assert client.post("/api/circuits/visits", json={**body, "done": "yes"}).status_code == 400


def test_downloads(client: Any, auth: Any, fake: Any) -> None:
    auth.login(STAFF)
    x = client.get("/api/circuits/ledger.xlsx?month=2025-03")
    assert x.status_code == 200 and x.data[:2] == b"PK"
    assert "doorstep-ledger-2025-03.xlsx" in x.headers["Content-Disposition"]
    ics = client.get("/api/circuits/calendar.ics?month=2025-03&lawyer=L1")
    assert ics.status_code == 200 and ics.data.startswith(b"BEGIN:VCALENDAR")
    assert client.get("/api/circuits/calendar.ics?month=2025-03&lawyer=../x").status_code == 400


def test_planner_reads_but_cannot_mark(client: Any, auth: Any, fake: Any) -> None:
    auth.login(PLANNER)
    assert client.get("/api/circuits?month=2025-03").status_code == 200
    body = {"month": "2025-03", "lawyer": "L1", "date": "2025-03-03", "village": fake[0].village_id}
    assert client.post("/api/circuits/visits", json=body).status_code == 403


def test_staff_page(client: Any, auth: Any, fake: Any) -> None:
    auth.login(STAFF)
    page = client.get("/circuits/?month=2025-03").get_data(as_text=True)
    assert 'data-month="2025-03"' in page and "ledger.xlsx?month=2025-03" in page
    assert client.get("/circuits/?month=bad").status_code == 400
