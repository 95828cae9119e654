"""四个一 projects: checks, scenario → projects, status and township totals, change lists,
and the XLSX tables (analysis.projects, analysis.projects_export)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from doorstep.analysis.projects import (
    DEFAULT_MILESTONES,
    PROJECT_FIELDS,
    Milestone,
    ProjectError,
    changes,
    milestone_from_mapping,
    project_from_mapping,
    project_status,
    projects_from_scenario,
    township_totals,
)
from doorstep.geo._errors import InputError
from doorstep.geo.villages import CONFIRMED, TO_CONFIRM

START = dt.date(2027, 1, 4)
TODAY = dt.date(2027, 3, 1)


def test_project_values_round_trip() -> None:
    """A checked project gives back its values; the 四个一 gaps name leader and unit."""
    p = project_from_mapping(
        {
            "title": " 龙门村法务室升级 ",
            "start": "2027-01-04",
            "village_code": "433124102201",
            "lon": "109.48",
            "lat": 28.57,
            "unit": "龙潭镇司法所",
        }
    )
    assert p.title == "龙门村法务室升级" and p.start == START
    assert (p.place.lon, p.place.lat) == (109.48, 28.57)
    assert p.values()["start"] == "2027-01-04" and p.values()["village_code"] == "433124102201"
    assert project_from_mapping(p.values()) == p
    assert p.missing() == ("责任领导 responsible leader",)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"start": "2027-01-04"}, "title"),
        ({"title": "x"}, "start"),
        ({"title": "x", "start": "2027-02-30"}, "start"),
        ({"title": "x", "start": "2027-01-04", "lon": 109.5}, "lat"),
        ({"title": "x", "start": "2027-01-04", "lat": 28.5}, "lon"),
        ({"title": "x", "start": "2027-01-04", "lon": 200, "lat": 28.5}, "lon"),
        ({"title": "x", "start": "2027-01-04", "lon": "east", "lat": 28.5}, "lon"),
        ({"title": "x", "start": "2027-01-04", "village_code": "43A"}, "village_code"),
        ({"title": ["x"], "start": "2027-01-04"}, "title"),
        ({"title": "x" * 201, "start": "2027-01-04"}, "title"),
    ],
)
def test_bad_project_names_the_field(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ProjectError) as e:
        project_from_mapping(values)
    assert e.value.field == field
    assert str(e.value).startswith(dict(PROJECT_FIELDS)[field] + ": ")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"due": "2027-02-01"}, "title"),
        ({"title": "m"}, "due"),
        ({"title": "m", "due": "2026-12-31"}, "due"),
        ({"title": "m", "due": "2027-02-01", "status": "finished"}, "status"),
        ({"title": "m", "due": "2027-02-01", "status": "已完成"}, "done"),
        ({"title": "m", "due": "2027-02-01", "status": "已完成", "done": "2027-01-03"}, "done"),
        ({"title": "m", "due": "2027-02-01", "status": "已完成", "done": "2027-03-02"}, "done"),
        ({"title": "m", "due": "2027-02-01", "status": "进行中", "done": "2027-01-20"}, "status"),
        ({"title": "m", "due": "2027-02-01", "budget_planned": -1}, "budget_planned"),
        ({"title": "m", "due": "2027-02-01", "budget_spent": "abc"}, "budget_spent"),
        ({"title": "m", "due": "2027-02-01", "budget_spent": "nan"}, "budget_spent"),
        ({"title": "m", "due": "2027-02-01", "budget_spent": True}, "budget_spent"),
    ],
)
def test_bad_milestone_names_the_field(values: dict[str, Any], field: str) -> None:
    """Status values, dates after the project start, done dates not in the future, 已完成 with
    its done date, budgets ≥ 0 元."""
    with pytest.raises(ProjectError) as e:
        milestone_from_mapping(values, START, today=TODAY)
    assert e.value.field == field
    assert str(e.value).split(":")[0] in {
        "里程碑 milestone",
        "计划完成 due date",
        "实际完成 done date",
        "状态 status",
        "计划预算 budget planned (元)",
        "已支出 budget spent (元)",
    }


def test_milestone_done_on_the_start_day_and_budgets() -> None:
    m = milestone_from_mapping(
        {
            "title": "选址核实",
            "due": "2027-01-04",
            "status": "已完成",
            "done": "2027-01-04",
            "budget_planned": "12,000.50",
            "budget_spent": 0,
        },
        START,
        today=TODAY,
    )
    assert (m.done, m.budget_planned, m.budget_spent) == (START, 12000.5, 0.0)
    assert m.values()["done"] == "2027-01-04"


def _m(status: str, due: str = "2027-02-01", planned: float = 0, spent: float = 0) -> Milestone:
    done = "2027-02-01" if status == "已完成" else None
    return milestone_from_mapping(
        {
            "title": "m",
            "due": due,
            "status": status,
            "done": done,
            "budget_planned": planned,
            "budget_spent": spent,
        },
        START,
        today=TODAY,
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "未开始"),
        (["未开始", "未开始"], "未开始"),
        (["已完成", "未开始"], "进行中"),
        (["进行中"], "进行中"),
        (["已完成", "延期", "进行中"], "延期"),
        (["已完成", "已完成"], "已完成"),
    ],
)
def test_project_status(statuses: list[str], expected: str) -> None:
    assert project_status([_m(s) for s in statuses]) == expected


def test_township_totals() -> None:
    """Sums per township and for the county: statuses, overdue milestones, 元 planned/spent."""
    a = project_from_mapping({"title": "a", "start": "2027-01-04", "township": "龙潭镇"})
    b = project_from_mapping(
        {"title": "b", "start": "2027-01-04", "township": "龙潭镇", "location_status": TO_CONFIRM}
    )
    c = project_from_mapping({"title": "c", "start": "2027-01-04", "township": "边城镇"})
    items = [
        (a, [_m("已完成", planned=1000, spent=900.5), _m("未开始", "2027-02-15", 2000)]),
        (b, [_m("延期", "2027-04-01", 500, 100)]),
        (c, [_m("已完成", planned=300, spent=300)]),
    ]
    t = township_totals(items, today=TODAY)
    by = {r["township"]: r for r in t["townships"]}
    assert list(by) == ["边城镇", "龙潭镇"]
    lt = by["龙潭镇"]
    assert lt["projects"] == 2 and lt["milestones"] == 3 and lt["milestones_done"] == 1
    assert lt["status"] == {"未开始": 0, "进行中": 1, "已完成": 0, "延期": 1}
    assert lt["overdue"] == 1  # due 2027-02-15, not done, today 2027-03-01
    assert (lt["budget_planned"], lt["budget_spent"]) == (3500.0, 1000.5)
    assert lt["to_confirm"] == 1
    assert by["边城镇"]["status"]["已完成"] == 1
    assert t["total"]["projects"] == 3 and t["total"]["budget_planned"] == 3800.0
    assert t["total"]["budget_spent"] == 1300.5 and t["units"]["budget_spent"] == "元 (CNY)"


def test_changes_lists_fields() -> None:
    keys = ("title", "budget_spent", "done")
    old = {"title": "a", "budget_spent": 0.0, "done": None}
    new = {"title": "a", "budget_spent": 1250.0, "done": "2027-02-01"}
    assert changes(old, new, keys) == [("budget_spent", "0", "1250"), ("done", None, "2027-02-01")]
    assert changes(None, old, keys) == [("title", None, "a"), ("budget_spent", None, "0")]
    assert changes(new, None, keys) == [
        ("title", "a", None),
        ("budget_spent", "1250", None),
        ("done", "2027-02-01", None),
    ]


SCENARIO = {
    "id": 7,
    "name": "MCLP k=2",
    "params": {"model": "mclp", "k": 2},
    "result": {
        "new_sites": [
            {"code": "433124102201", "name": "龙门村", "lon": 109.41, "lat": 28.52},
            {"code": "433124110203", "name": "某村", "lon": 109.55, "lat": 28.40},
        ]
    },
}


def test_projects_from_scenario() -> None:
    """One prefilled project per new site: place, township unit, location status, source,
    the default work ledger; the leader left to name."""
    villages = {
        "433124102201": {"town_name": "龙潭镇", "location_quality": "geocoded"},
        "433124110203": {"town_name": "边城镇", "location_quality": "imputed"},
    }
    out = projects_from_scenario(SCENARIO, start=START, villages=villages)
    assert len(out) == 2
    (p1, ms1), (p2, _) = out
    assert p1.place.village_code == p1.place.point_code == "433124102201"
    assert (p1.place.lon, p1.place.lat, p1.place.township) == (109.41, 28.52, "龙潭镇")
    assert p1.place.location_status == CONFIRMED and p2.place.location_status == TO_CONFIRM
    assert p1.unit.startswith("龙潭镇司法所") and p2.unit.startswith("边城镇司法所")
    assert "龙门村" in p1.title and "#7" in p1.source and "modelled" in p1.source
    assert p1.missing() == ("责任领导 responsible leader",)
    assert [m.due for m in ms1] == [START + dt.timedelta(days=d) for _, d in DEFAULT_MILESTONES]
    assert all(m.status == "未开始" and m.budget_planned == 0 for m in ms1)
    # the prefilled values pass the same checks as typed ones
    assert project_from_mapping(p1.values()) == p1


def test_scenario_without_new_sites_is_refused() -> None:
    with pytest.raises(InputError, match="no new site"):
        projects_from_scenario({**SCENARIO, "result": {"new_sites": []}}, start=START, villages={})


def test_export_tables_are_formula_safe(tmp_path: Any) -> None:
    """Text starting with = is neutralised in the workbook; dates are date cells; 0644."""
    from openpyxl import load_workbook

    from doorstep.analysis.projects import project_doc
    from doorstep.analysis.projects_export import SHEETS, write_projects_xlsx

    p = project_from_mapping({"title": "=HYPERLINK(1)", "start": "2027-01-04"})
    doc = project_doc(1, p, [(5, _m("进行中", planned=10))], created_by="u", created_at="t")
    path = write_projects_xlsx(tmp_path / "p.xlsx", [doc], [])
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    ws = wb[SHEETS[0]]
    assert ws["B2"].value == "'=HYPERLINK(1)" and ws["B2"].data_type == "s"
    start_col = [c.value for c in ws[1]].index("开始日期 start date") + 1
    assert ws.cell(2, start_col).value == dt.datetime(2027, 1, 4)
    assert wb[SHEETS[1]]["C2"].value == 5
