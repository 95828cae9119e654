"""The adviser roster (一村一顾问): proposal, read-back and errors, and circuits that keep it."""

from __future__ import annotations

import json
import statistics

import pytest

from doorstep.analysis.circuits.county import county_travel, plan_county_month
from doorstep.analysis.circuits.roster import make_roster, read_roster, write_roster
from doorstep.geo._errors import DataFileError

from ..fakecounty import line_county


def _read(path, model):
    travel, bases = county_travel(model)
    return read_roster(path, model, [str(b) for b in bases["id"]], travel)


def test_make_roster_balances_workload_not_just_nearest(tmp_path):
    # workload e = 120 min on site + round trip; nearest-base grouping would give the centre
    # V0, V1, V4 (120 + 136 + 140 = 396 min) and the workstation only V3 (160): the balanced
    # grouping moves V1 (136 -> 144) to the workstation: 260 vs 304 minutes
    model = line_county()
    roster, travel = make_roster(model, 2)
    assert roster.modelled
    got = {a.base: a.villages for a in roster.advisers}
    assert got == {"base:C": ("V0", "V4"), "base:S": ("V1", "V3")}
    for suffix in ("xlsx", "csv"):
        path = write_roster(roster, travel, tmp_path / f"r.{suffix}")
        back = _read(path, model)
        assert back.modelled and back.adviser_of() == roster.adviser_of()


def test_an_edited_roster_is_no_longer_modelled(tmp_path):
    model = line_county()
    roster, travel = make_roster(model, 2)
    path = write_roster(roster, travel, tmp_path / "r.csv")
    text = path.read_text(encoding="utf-8-sig").replace("顾问1,,", "顾问1,13800000000,", 1)
    path.write_text(text, encoding="utf-8")
    assert not _read(path, model).modelled


def test_roster_file_by_names_coordinates_gbk_and_frequency(tmp_path):
    model = line_county()
    travel, _ = county_travel(model)
    lon, lat = travel.coords["base:S"]
    f = tmp_path / "r.csv"
    f.write_text(
        "姓名,电话,律所,驻点,经度,纬度,坐标系,服务村,工作日,请假\n"
        "张律师,138,苗乡律所,县中心,,,,城关社区、四社区,周二 周四,2026-12-01~2026-12-03\n"
        f"李律师,139,,,{lon},{lat},WGS84,V1*2,,\n"
        "王律师,,,S,,,,三村,,\n",
        encoding="gbk",
    )
    r = _read(f, model)
    zhang, li, wang = r.advisers
    assert (zhang.base, zhang.villages, zhang.weekdays) == ("base:C", ("V0", "V4"), (1, 3))
    assert len(zhang.leave) == 3 and zhang.firm == "苗乡律所"
    assert (li.base, li.villages, r.visits_of()) == ("base:S", ("V1",), {"V1": 2})
    assert wang.base == "base:S" and not r.modelled


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ("a,C,V0、V1\nb,S,V3、V1\n", ("row 3", "服务村 villages", "also in row 2")),
        ("a,C,V0、V9\n", ("row 2", "服务村 villages", "V9")),
        ("a,C,V0\nb,,V3\n", ("row 3", "驻点 base", "no base")),
        ("a,Nowhere,V0\n", ("row 2", "驻点 base", "Nowhere")),
    ],
)
def test_roster_errors_name_row_and_field(tmp_path, rows, where):
    f = tmp_path / "r.csv"
    f.write_text("name,base,villages\n" + rows, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        _read(f, line_county())
    for w in where:
        assert w in str(err.value)


def test_a_village_without_adviser_is_refused(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("name,base,villages\na,C,V0、V1\nb,S,V3\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="四社区 V4"):
        plan_county_month(line_county(), "2026-12", roster=f)


def test_roster_keeps_each_village_with_its_adviser(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("name,base,villages\n甲,C,V3、V0\n乙,S,V1、V4*2\n", encoding="utf-8")
    model = line_county()
    for month in ("2026-11", "2026-12"):
        plan = plan_county_month(model, month, roster=f, min_gap_days=7).plan
        who = {s.village_id: r.lawyer_id for r in plan.routes for s in r.stops}
        assert who == {"V3": "甲", "V0": "甲", "V1": "乙", "V4": "乙"}
        assert plan.scheduled_visits == 5 and "staff roster" in plan.assumptions["roster"]


def test_roster_weekdays_and_leave_are_kept(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(
        "name,base,villages,weekdays,leave\n"
        "甲,C,V3、V0,周三,\n"
        "乙,S,V1、V4*2,,2026-12-01~2026-12-15 2026-12-21\n",
        encoding="utf-8",
    )
    plan = plan_county_month(line_county(), "2026-12", roster=f, min_gap_days=7).plan
    days = {lw: [r.date for r in plan.routes if r.lawyer_id == lw] for lw in ("甲", "乙")}
    assert days["甲"] and all(d.weekday() == 2 for d in days["甲"])
    assert days["乙"] and all(d.day > 15 and d.day != 21 for d in days["乙"])
    assert plan.scheduled_visits == 5


@pytest.mark.needs_data
def test_huayuan_proposed_roster_two_months(tmp_path, capsys, huayuan_model):
    from doorstep.cli import main

    out = tmp_path / "roster.xlsx"
    assert main(["-q", "roster", "make", "--advisers", "8", "--out", str(out), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)["advisers"]
    assert sum(a["villages"] for a in made) == 228
    # nobody crosses the county: every village within 45 min of the nearest roster base
    assert max(a["max_detour_minutes"] for a in made) < 45
    owners = []
    for month in ("2026-11", "2026-12"):
        assert main(["-q", "circuits", "--roster", str(out), "--month", month, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["scheduled_visits"] == doc["required_visits"] == 228
        assert "modelled" in doc["assumptions"]["roster"] and doc["roster"]["modelled"] is True
        assert sum(len(lw["villages"]) for lw in doc["lawyers"]) == 228
        owners.append({s["village_id"]: r["lawyer_id"] for r in doc["routes"] for s in r["stops"]})
        km = [r["km"] for r in doc["summary_by_lawyer"]]
        assert max(km) <= 1.5 * statistics.median(km)
    assert len(owners[0]) == 228 and owners[0] == owners[1]


def test_base_coordinates_need_a_crs(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("name,lon,lat,villages\na,109.4,28.5,V0\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        _read(f, line_county())
    assert "row 2, field 'crs'" in str(err.value) and str(err.value).count("file ") == 1
