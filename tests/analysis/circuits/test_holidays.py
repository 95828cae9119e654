"""Holidays are right in every year: loaded schedules, computed fallback with a warning."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from doorstep.analysis.circuits.model import MonthCalendar, computed_holidays

from ...conftest import needs_shared

SPRING_2027 = [dt.date(2027, 2, d) for d in (5, 6, 7, 8)]  # 除夕 .. 初三


def test_loaded_year_has_no_warning_and_keeps_makeup_days():
    cal = MonthCalendar.for_month("2026-10")
    assert cal.holidays_known and cal.holiday_warning is None
    assert dt.date(2026, 10, 10) in cal.working_days()  # Saturday make-up workday (调休)


def test_year_without_schedule_uses_computed_holidays_and_warns():
    jan, feb = MonthCalendar.for_month("2027-01"), MonthCalendar.for_month("2027-02")
    assert not jan.holidays_known
    assert dt.date(2027, 1, 1) not in jan.working_days()  # 元旦, a Friday
    assert not set(SPRING_2027) & set(feb.working_days())
    assert dt.date(2027, 2, 4) in feb.working_days()  # the Thursday before 除夕 is a workday
    assert jan.holiday_warning is not None
    assert "2027" in jan.holiday_warning and "[2027]" in jan.holiday_warning


def test_computed_calendar_agrees_with_a_published_schedule():
    """The fallback reproduces the 2026 State Council days off that fall on weekdays."""
    published = {d for d in MonthCalendar.for_month("2026-10").holidays if d.month == 10}
    computed = {d for d in computed_holidays(2026) if d.month == 10}
    on_weekdays = {d for d in published if d.weekday() < 5}
    assert on_weekdays and on_weekdays <= computed


@needs_shared
@pytest.mark.parametrize("month", ["2027-01", "2027-02"])
def test_huayuan_plan_skips_2027_holidays_and_says_so(month, tmp_path, capsys):
    from doorstep.cli import main

    rc = main(["-q", "circuits", "--lawyers", "8", "--month", month, "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    days = {r["date"] for r in doc["routes"]}
    assert days, "the month has visits"
    assert "2027-01-01" not in days
    assert not {d.isoformat() for d in SPRING_2027} & days
    assert "2027" in doc["assumptions"]["holidays"]
