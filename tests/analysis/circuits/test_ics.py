"""Calendars: strict RFC 5545 validity and UIDs that stay the same when the month is re-planned."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar

from doorstep.analysis.circuits.county import plan_county_month
from doorstep.analysis.circuits.export import ics_calendar, ics_sequence, visit_uid, write_ics

from ..fakecounty import line_county
from .rfc5545 import rfc5545_problems

STAMP_1 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
STAMP_2 = dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC)


def _roster(tmp_path, leave: str):
    """Two advisers on the fake county; 张律师 serves 一村 and 三村 from the workstation."""
    f = tmp_path / f"roster-{len(leave)}.csv"
    f.write_text(
        "姓名,电话,驻点,服务村,请假\n"
        "李律师,13900000001,县中心,城关社区、四社区,\n"
        f"张律师,13900000002,S,一村、三村,{leave}\n",
        encoding="utf-8",
    )
    return f


def _events(raw: bytes) -> dict[str, tuple[dt.date, int, str]]:
    """UID -> (date, SEQUENCE, summary) of every event of a calendar."""
    cal = Calendar.from_ical(raw)
    return {
        str(e["uid"]): (e.decoded("dtstart").date(), int(e["sequence"]), str(e["summary"]))
        for e in cal.walk("VEVENT")
    }


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory):
    """The same month planned twice: the second time 张律师 is on leave on the day of his
    first visit in the first plan, so that visit must move."""
    tmp = tmp_path_factory.mktemp("ics")
    model = line_county()
    first = plan_county_month(model, "2026-12", roster=_roster(tmp, ""), min_gap_days=7)
    zhang = first.plan.routes_of("张律师")
    assert zhang, "the first plan gives 张律师 a day out"
    day = zhang[0].date.isoformat()
    second = plan_county_month(model, "2026-12", roster=_roster(tmp, day), min_gap_days=7)
    return first, second, zhang[0].date


def test_uids_identify_the_visit_not_the_day(two_plans):
    first, second, leave_day = two_plans
    assert first.plan.county == "999999"
    a = _events(ics_calendar(first.plan, stamp=STAMP_1))
    b = _events(ics_calendar(second.plan, stamp=STAMP_2))
    assert set(a) == set(b) and len(a) == first.plan.scheduled_visits == 4
    assert all(re.fullmatch(r"visit-999999-2026-12-V\d-\d@doorstep", u) for u in a)
    on_leave = {
        visit_uid(first.plan, s.village_id, s.visit_no)
        for r in first.plan.routes_of("张律师")
        if r.date == leave_day
        for s in r.stops
    }
    assert on_leave and all(a[u][0] == leave_day != b[u][0] for u in on_leave)  # moved
    # a calendar that imports the re-plan keeps one event per UID, the higher SEQUENCE wins
    assert all(b[u][1] > a[u][1] for u in a)
    merged = dict(a)
    for uid, ev in b.items():
        if ev[1] >= merged.get(uid, (None, -1, ""))[1]:
            merged[uid] = ev
    assert len(merged) == 4 and {u: e[0] for u, e in merged.items()} == {
        u: e[0] for u, e in b.items()
    }


def test_uid_and_sequence_values():
    plan = plan_county_month(line_county(), "2026-12", n_lawyers=1).plan
    assert visit_uid(plan, "V3", 2) == "visit-999999-2026-12-V3-2@doorstep"
    assert ics_sequence(dt.datetime(2024, 1, 1, 0, 1, tzinfo=dt.UTC)) == 60
    assert ics_sequence(STAMP_2) - ics_sequence(STAMP_1) == 5 * 86400 + 7.5 * 3600


def test_every_calendar_passes_the_strict_check(two_plans, tmp_path):
    first, _, _ = two_plans
    files = write_ics(first.plan, tmp_path / "ics", stamp=STAMP_1)
    assert sorted(f.name for f in files) == ["all-advisers.ics", "张律师.ics", "李律师.ics"]
    for raw in [f.read_bytes() for f in files]:
        assert rfc5545_problems(raw) == []
        assert b"SEQUENCE:" in raw and b"DTSTAMP:20261120T090000Z" in raw


def test_the_strict_check_fails_broken_calendars(two_plans):
    """The validator is not a rubber stamp: each break below is found."""
    raw = ics_calendar(two_plans[0].plan, stamp=STAMP_1)
    no_tz = re.sub(rb"BEGIN:VTIMEZONE.*?END:VTIMEZONE\r\n", b"", raw, flags=re.S)
    assert b"TZID=Asia/Shanghai" in no_tz
    assert any("no VTIMEZONE" in p for p in rfc5545_problems(no_tz))
    no_stamp = re.sub(rb"DTSTAMP:[^\r]*\r\n", b"", raw)
    assert any("VEVENT lacks DTSTAMP" in p for p in rfc5545_problems(no_stamp))
    no_uid = re.sub(rb"UID:[^\r]*\r\n", b"", raw, count=1)
    assert any("VEVENT lacks UID" in p for p in rfc5545_problems(no_uid))
    bad_date = re.sub(
        rb"DTSTART;TZID=Asia/Shanghai:2026", b"DTSTART;TZID=Asia/Shanghai:2026-", raw, count=1
    )
    assert any("strict parser" in p for p in rfc5545_problems(bad_date))
    lf = raw.replace(b"\r\n", b"\n")
    assert any("bare LF" in p for p in rfc5545_problems(lf))


def _statuses(raw: bytes) -> dict[str, tuple[str, int]]:
    """UID -> (STATUS or CONFIRMED, SEQUENCE) of every event of a calendar."""
    cal = Calendar.from_ical(raw)
    return {
        str(e["uid"]): (str(e.get("status", "CONFIRMED")), int(e["sequence"]))
        for e in cal.walk("VEVENT")
    }


def test_a_visit_moved_to_another_adviser_is_cancelled_in_the_first_ones_file(tmp_path):
    """Re-planned with 三村 moved from 张律师 to 李律师: 张律师's rewritten file cancels its
    三村 visits (same UID, higher SEQUENCE, STATUS:CANCELLED), 李律师's has them, the shared
    file cancels nothing; another month's file in the folder is left alone."""
    model = line_county()
    first = plan_county_month(model, "2026-12", roster=_roster(tmp_path, ""), min_gap_days=7)
    moved_roster = tmp_path / "moved.csv"
    moved_roster.write_text(
        "姓名,电话,驻点,服务村,请假\n"
        "李律师,13900000001,县中心,城关社区、四社区、三村,\n"
        "张律师,13900000002,S,一村,\n",
        encoding="utf-8",
    )
    second = plan_county_month(model, "2026-12", roster=moved_roster, min_gap_days=7)
    folder = tmp_path / "ics"
    write_ics(first.plan, folder, stamp=STAMP_1)
    zhang_before = _statuses((folder / "张律师.ics").read_bytes())
    san = {
        visit_uid(first.plan, s.village_id, s.visit_no)
        for r in first.plan.routes_of("张律师")
        for s in r.stops
        if s.village == "三村"
    }
    assert san and san <= set(zhang_before)
    january = plan_county_month(model, "2027-01", roster=_roster(tmp_path, ""), min_gap_days=7)
    write_ics(january.plan, tmp_path / "jan", stamp=STAMP_1)
    write_ics(second.plan, folder, stamp=STAMP_2)
    zhang = _statuses((folder / "张律师.ics").read_bytes())
    li = _statuses((folder / "李律师.ics").read_bytes())
    shared = _statuses((folder / "all-advisers.ics").read_bytes())
    seq2 = ics_sequence(STAMP_2)
    assert {u for u, (st, _) in zhang.items() if st == "CANCELLED"} == san
    assert all(zhang[u][1] == seq2 > zhang_before[u][1] for u in san)
    assert all(li[u] == ("CONFIRMED", seq2) for u in san)
    assert all(st == "CONFIRMED" for st, _ in shared.values())  # every visit is still made
    assert len(shared) == second.plan.scheduled_visits
    for name in ("张律师.ics", "李律师.ics", "all-advisers.ics"):
        assert rfc5545_problems((folder / name).read_bytes()) == []
    # the same folder holding January: December's re-plan leaves other months' visits alone
    jan_file = tmp_path / "jan" / "张律师.ics"
    write_ics(second.plan, tmp_path / "jan", stamp=STAMP_2)
    assert all(st == "CONFIRMED" for st, _ in _statuses(jan_file.read_bytes()).values())
