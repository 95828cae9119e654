"""Ledger round trip, iCalendar parse-back, GeoJSON routes, carrying missed visits over."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from doorstep.analysis.circuits.export import write_geojson, write_ics, write_ledger
from doorstep.analysis.circuits.ledger import carry_over, read_ledger
from doorstep.analysis.circuits.model import Lawyer, MonthCalendar, PlanParams, VillageVisit
from doorstep.analysis.circuits.planner import plan_month
from doorstep.geo._errors import DataFileError

from .conftest import make_travel


@pytest.fixture(scope="module")
def plan_and_visits():
    keys = ["b", "v1", "v2", "v3"]
    tm = make_travel({("b", "v1"): 30, ("b", "v2"): 40, ("b", "v3"): 50}, keys)
    vs = [VillageVisit(k, f"村{k}", k, township="花垣镇") for k in keys[1:]]
    lawyers = [Lawyer("L1", "张律师", "b"), Lawyer("L2", "李律师", "b")]
    plan = plan_month(
        lawyers, vs, MonthCalendar.for_month("2026-12"), tm, PlanParams(day_time_limit=0.2)
    )
    assert plan.scheduled_visits == 3
    return plan, vs, tm


def test_ledger_round_trip_and_carry_over(tmp_path, plan_and_visits):
    plan, vs, _ = plan_and_visits
    path = write_ledger(plan, tmp_path / "ledger.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "汇总 summary"
    assert {"张律师", "李律师"} <= set(wb.sheetnames)
    # staff mark the visits: first 是, second 否 with a note, the rest left blank
    marks = iter([("是", ""), ("否", "road closed 塌方")])
    for ws in wb.worksheets[1:]:
        for row in range(3, ws.max_row + 1):
            v, note = next(marks, (None, None))
            ws.cell(row, 12, v)
            ws.cell(row, 13, note)
    wb.save(path)
    entries = read_ledger(path)
    assert len(entries) == 3
    assert {e.village_id for e in entries} == {"v1", "v2", "v3"}
    assert sorted(str(e.visited) for e in entries) == ["False", "None", "True"]
    planned = {(s.village_id, r.date) for r in plan.routes for s in r.stops}
    assert {(e.village_id, e.date) for e in entries} == planned
    assert any(e.notes == "road closed 塌方" for e in entries)
    nxt, notes = carry_over(vs, entries)
    extra = {v.id: v.visits for v in nxt}
    assert sum(extra.values()) == 3 + 2  # one missed (否) + one blank
    assert notes == [
        "1 visit(s) left blank in the ledger (已走访 empty) counted as missed and carried over"
    ]
    strict, _ = carry_over(vs, entries, blank_is_missed=False)
    assert sum(v.visits for v in strict) == 4


def test_ledger_rejects_unreadable_visited_value(tmp_path, plan_and_visits):
    plan, _, _ = plan_and_visits
    path = write_ledger(plan, tmp_path / "l.xlsx")
    wb = load_workbook(path)
    ws = next(w for w in wb.worksheets[1:] if w.max_row >= 3)
    ws.cell(3, 12, "maybe")
    wb.save(path)
    with pytest.raises(DataFileError, match="row 3"):
        read_ledger(path)


def test_ics_parse_back(tmp_path, plan_and_visits):
    plan, _, _ = plan_and_visits
    files = write_ics(plan, tmp_path / "ics")
    assert sorted(f.name for f in files) == ["L1.ics", "L2.ics", "all-advisers.ics"]
    one = [Calendar.from_ical(f.read_bytes()) for f in files]
    uids = [{str(e["uid"]) for e in c.walk("VEVENT")} for c in one]
    assert uids[0].isdisjoint(uids[1]) and uids[2] == uids[0] | uids[1]  # all = the union
    events = []
    for f in files[:2]:  # the per-adviser files
        cal = Calendar.from_ical(f.read_bytes())
        events += [c for c in cal.walk("VEVENT")]
    assert len(events) == 3
    by_uid = {str(e["uid"]): e for e in events}
    for r in plan.routes:
        for s in r.stops:
            e = by_uid[f"visit-county-{plan.month}-{s.village_id}-{s.visit_no}@doorstep"]
            start = e.decoded("dtstart")
            assert start.date() == r.date
            assert start.hour * 60 + start.minute == round(s.start)
            assert start.utcoffset() == dt.timedelta(hours=8)
            assert (e.decoded("dtend") - start) == dt.timedelta(minutes=120)
            assert s.village in str(e["summary"])


def test_geojson_routes(tmp_path, plan_and_visits):
    plan, _, tm = plan_and_visits
    path = write_geojson(plan, tmp_path / "routes.geojson", tm.coords)
    fc = json.loads(path.read_text(encoding="utf-8"))
    assert len(fc["features"]) == len(plan.routes)
    for f, r in zip(
        fc["features"], sorted(plan.routes, key=lambda x: (x.lawyer_id, x.date)), strict=True
    ):
        coords = f["geometry"]["coordinates"]
        assert f["geometry"]["type"] == "LineString"
        assert len(coords) == len(r.stops) + 2 and coords[0] == coords[-1] == list(tm.coords["b"])

    # with road geometry: each leg gets a midpoint
    def road(a, b):
        (x0, y0), (x1, y1) = tm.coords[a], tm.coords[b]
        return [(x0, y0), ((x0 + x1) / 2, y0 + 0.001), (x1, y1)]

    fc2 = json.loads(
        write_geojson(plan, tmp_path / "r2.geojson", tm.coords, road_path=road).read_text()
    )
    assert all(
        len(f["geometry"]["coordinates"]) == 2 * len(f["properties"]["stops"]) + 3
        for f in fc2["features"]
    )


def test_ledger_prefilled_with_recorded_visits(tmp_path, plan_and_visits):
    plan, vs, _ = plan_and_visits
    r = plan.routes[0]
    s = r.stops[0]
    key = (r.lawyer_id, r.date.isoformat(), s.village_id)
    path = write_ledger(plan, tmp_path / "l.xlsx", done={key: "marked in the web app"})
    entries = read_ledger(path)
    got = {(e.lawyer_id, e.date.isoformat(), e.village_id): e for e in entries}
    assert got[key].visited is True and got[key].notes == "marked in the web app"
    assert all(e.visited is None for k, e in got.items() if k != key)
    # the recorded visit is not carried over; the blank ones are
    nxt, _ = carry_over(vs, entries)
    assert sum(v.visits for v in nxt) == sum(v.visits for v in vs) + len(entries) - 1


def test_ics_carries_vtimezone_for_every_tzid(tmp_path, plan_and_visits):
    """RFC 5545 §3.2.19: a TZID parameter must name a VTIMEZONE in the same calendar."""
    plan, _, _ = plan_and_visits
    for f in write_ics(plan, tmp_path / "ics"):
        raw = f.read_bytes()
        cal = Calendar.from_ical(raw)
        zones = [str(z["tzid"]) for z in cal.walk("VTIMEZONE")]
        assert zones == ["Asia/Shanghai"]
        assert b"DTSTART;TZID=Asia/Shanghai:" in raw
        std = cal.walk("STANDARD")
        assert std and std[0].decoded("tzoffsetto") == dt.timedelta(hours=8)
