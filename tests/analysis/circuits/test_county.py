"""Glue from a county model to the month plan, and the ``doorstep circuits`` command."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from doorstep.analysis.circuits.county import county_problem, read_assignments
from doorstep.analysis.circuits.model import MonthCalendar, PlanParams
from doorstep.analysis.circuits.planner import plan_month
from doorstep.geo._errors import DataFileError, InputError

from ..fakecounty import line_county


def test_fake_county_month_plan():
    model = line_county()
    lawyers, visits, travel = county_problem(model, 2)
    # county centre first, then the workstation (farthest-first)
    assert [lw.base for lw in lawyers] == ["base:C", "base:S"]
    assert [v.id for v in visits] == ["V0", "V1", "V3", "V4"]
    i, j = travel.index("base:C"), travel.index("V3")
    assert travel.minutes[i, j] == pytest.approx(40, abs=1.0)  # 20 km at 2 min/km
    assert travel.km[i, j] == pytest.approx(20, abs=0.5)
    plan = plan_month(
        lawyers, visits, MonthCalendar.for_month("2026-12"), travel, PlanParams(day_time_limit=0.2)
    )
    assert plan.scheduled_visits == 4 and not plan.unscheduled


def test_assignments_file(tmp_path):
    model = line_county()
    f = tmp_path / "a.csv"
    f.write_text("village_code,lawyer,visits\nV3,L1,2\nV0,,\n", encoding="utf-8")
    _, visits, _ = county_problem(model, 2, assignments=read_assignments(f))
    v3 = next(v for v in visits if v.id == "V3")
    assert (v3.adviser, v3.visits) == ("L1", 2)
    f.write_text("village_code,lawyer\nV3,L9\n", encoding="utf-8")
    with pytest.raises(InputError, match="L9"):
        county_problem(model, 2, assignments=read_assignments(f))
    f.write_text("village_code,lawyer,visits\nV3,L1,two\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="row 2"):
        read_assignments(f)


@pytest.mark.needs_data
def test_cli_huayuan_december(tmp_path, capsys):
    from doorstep.cli import main

    rc = main(
        [
            "-q",
            "circuits",
            "--lawyers",
            "8",
            "--month",
            "2026-12",
            "--json",
            "--xlsx",
            str(tmp_path / "l.xlsx"),
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["required_visits"] == 228
    assert doc["scheduled_visits"] + len(doc["unscheduled"]) == 228
    assert all(u["reason"] for u in doc["unscheduled"])
    assert "layers" in doc["quality"]
    for r in doc["routes"]:
        assert r["depart_hhmm"] >= "08:30" and r["back_hhmm"] <= "17:30"
        assert r["lunch"][:5] >= "11:30" and r["lunch"][6:11] <= "13:30"
    wb = load_workbook(tmp_path / "l.xlsx")
    assert len(wb.sheetnames) >= 9  # summary + 8 lawyers


def test_plan_county_month_and_road_paths():
    from doorstep.analysis.circuits.county import plan_county_month, road_path_function
    from doorstep.analysis.circuits.export import routes_geojson

    model = line_county()
    cm = plan_county_month(model, "2026-12", n_lawyers=2, min_gap_days=7)
    assert cm.plan.scheduled_visits == 4 and not cm.plan.unscheduled
    assert [lw.id for lw in cm.lawyers] == ["L1", "L2"]
    road = road_path_function(model, cm.travel, cm.plan)
    gj = routes_geojson(cm.plan, cm.travel.coords, road)
    assert len(gj["features"]) == len(cm.plan.routes)
    ordered = sorted(cm.plan.routes, key=lambda x: (x.lawyer_id, x.date))
    for f, r in zip(gj["features"], ordered, strict=True):
        line = f["geometry"]["coordinates"]
        # the road line starts and ends at the base and passes every stop of the day
        assert line[0] == pytest.approx(list(cm.travel.coords[r.path[0]]), abs=1e-9)
        assert line[-1] == pytest.approx(list(cm.travel.coords[r.path[-1]]), abs=1e-9)
        for key in r.path[1:-1]:
            assert any(p == pytest.approx(list(cm.travel.coords[key]), abs=1e-9) for p in line)
        assert len(line) >= len(r.path)
    with pytest.raises(InputError, match="between 1 and 500"):
        plan_county_month(model, "2026-12", n_lawyers=0)


def test_parse_weekdays_and_window():
    from doorstep.analysis.circuits.county import parse_weekdays, parse_window

    assert parse_weekdays("周二,周四") == (1, 3)
    assert parse_weekdays("Tue thu") == (1, 3)
    assert parse_weekdays("2；4 星期日") == (1, 3, 6)
    assert parse_window("09:00-12:00") == (540, 720)
    assert parse_window("14：00 至 16：30") == (840, 990)
    for bad in ("周八", "Funday", ""):
        with pytest.raises(ValueError):
            parse_weekdays(bad)
    for bad in ("12:00-09:00", "9-12", "09:70-10:00"):
        with pytest.raises(ValueError):
            parse_window(bad)


def test_assignment_wishes_bite_in_the_plan(tmp_path):
    """A GBK file asks for V3 on Tuesdays 14:00-16:00 and two visits of V0 on Thursdays."""
    model = line_county()
    f = tmp_path / "wishes.csv"
    f.write_bytes(
        "village_code,lawyer,visits,weekdays,window\nV3,,,周二,14:00-16:00\nV0,,2,周四,\n".encode(
            "gbk"
        )
    )
    wishes = read_assignments(f)
    lawyers, visits, travel = county_problem(model, 2, assignments=wishes)
    plan = plan_month(
        lawyers, visits, MonthCalendar.for_month("2026-12"), travel, PlanParams(day_time_limit=0.2)
    )
    assert not plan.unscheduled
    v3 = [(r.date, s) for r in plan.routes for s in r.stops if s.village_id == "V3"]
    v0 = [r.date for r in plan.routes for s in r.stops if s.village_id == "V0"]
    assert len(v3) == 1 and v3[0][0].weekday() == 1
    assert v3[0][1].start >= 14 * 60 and v3[0][1].departure <= 16 * 60
    assert len(v0) == 2 and all(d.weekday() == 3 for d in v0)
    f.write_text("village_code,weekdays\nV3,周八\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="row 2") as err:
        read_assignments(f)
    assert "weekdays" in str(err.value)
    f.write_text("village_code,window\nV3,12:00-09:00\nV3,\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="window"):
        read_assignments(f)
    f.write_text("village_code\nV3\nV3\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="twice"):
        read_assignments(f)
