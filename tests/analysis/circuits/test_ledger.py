"""Ledger read-back: validation by row/field, blank ledgers refused, the monthly report."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from doorstep.analysis.circuits.export import write_ledger
from doorstep.analysis.circuits.ledger import check_filled, read_ledger
from doorstep.analysis.circuits.ledger_report import ledger_report, write_ledger_report
from doorstep.analysis.circuits.model import Lawyer, MonthCalendar, PlanParams, VillageVisit
from doorstep.analysis.circuits.planner import plan_month
from doorstep.geo._errors import DataFileError

from .conftest import make_travel

KNOWN = {"v1", "v2", "v3"}


@pytest.fixture(scope="module")
def plan():
    keys = ["b", "v1", "v2", "v3"]
    tm = make_travel({("b", "v1"): 30, ("b", "v2"): 40, ("b", "v3"): 50}, keys)
    towns = {"v1": "花垣镇", "v2": "花垣镇", "v3": "龙潭镇"}
    vs = [VillageVisit(k, f"村{k}", k, township=towns[k]) for k in keys[1:]]
    lawyers = [Lawyer("L1", "张律师", "b"), Lawyer("L2", "李律师", "b")]
    p = plan_month(
        lawyers, vs, MonthCalendar.for_month("2026-12"), tm, PlanParams(day_time_limit=0.2)
    )
    assert p.scheduled_visits == 3
    return p


def _fill(path, by_village):
    """Write ``{village: {header prefix: value}}`` into the rows of those villages."""
    wb = load_workbook(path)
    where = []
    for ws in wb.worksheets[1:]:
        if ws["A1"].value != "律师 lawyer id":
            continue
        head = {str(c.value).split()[0]: c.column for c in ws[2]}
        for row in range(3, ws.max_row + 1):
            vals = by_village.get(ws.cell(row, head["村代码"]).value, {})
            where += [f"row {row}, field"] if vals else []
            for k, v in vals.items():
                ws.cell(row, head[k], v)
    wb.save(path)
    return where


HAND_FILLED = {
    "v1": {
        "已走访": "是",
        "实际到达": dt.time(9, 0),
        "实际离开": dt.time(11, 0),
        "服务内容": "法律咨询、普法宣传",
        "服务人数": 12,
        "调解纠纷": 2,
        "调解成功": 1,
        "需跟进": "是",
        "反映问题": "土地承包合同",
    },
    "v2": {
        "已走访": "是",
        "实际到达": "14:00",
        "实际离开": "15:30",
        "服务内容": "人民调解",
        "服务人数": 5,
        "调解纠纷": 3,
        "调解成功": 3,
        "需跟进": "否",
    },
    "v3": {"已走访": "否", "备注 notes": None},
}


def test_hand_filled_ledger_report(tmp_path, plan):
    path = write_ledger(plan, tmp_path / "l.xlsx")
    _fill(
        path, {k: {h: v for h, v in d.items() if h != "备注 notes"} for k, d in HAND_FILLED.items()}
    )
    entries = read_ledger(path, KNOWN)
    check_filled(entries, path)
    rep = ledger_report(entries)
    t = rep["totals"]
    assert (t["planned"], t["visited"], t["missed"], t["blank"]) == (3, 2, 1, 0)
    assert (t["persons"], t["mediated"], t["resolved"], t["follow_up"]) == (17, 5, 4, 1)
    assert t["onsite_hours"] == 3.5
    assert t["services"] == {
        "法律咨询": 1,
        "人民调解": 1,
        "普法宣传": 1,
        "法律援助引导": 0,
        "法治体检": 0,
        "其他": 0,
    }
    towns = {r["township"]: r for r in rep["by_township"]}
    assert (towns["花垣镇"]["visited"], towns["花垣镇"]["persons"]) == (2, 17)
    assert (towns["龙潭镇"]["missed"], towns["龙潭镇"]["persons"]) == (1, 0)
    owner = {s.village_id: r.lawyer_id for r in plan.routes for s in r.stops}
    persons = {"v1": 12, "v2": 5, "v3": 0}
    for r in rep["by_adviser"]:
        assert r["persons"] == sum(n for v, n in persons.items() if owner[v] == r["adviser_id"])
    xlsx, js = write_ledger_report(rep, tmp_path / "r.xlsx", tmp_path / "r.json")
    assert json.loads(js.read_text(encoding="utf-8"))["totals"]["resolved"] == 4
    ws = load_workbook(xlsx)["乡镇 township"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[-1][0] == "合计 total" and rows[-1][5] == 17  # persons served column


@pytest.mark.parametrize(
    ("cells", "field", "what"),
    [
        ({"已走访": "maybe"}, "已走访 visited", "maybe"),
        ({"日期": "2026-13-01"}, "日期 date", "bad date"),
        ({"日期": dt.datetime(2027, 1, 5)}, "日期 date", "not in 2026-12"),
        ({"村代码": "zz"}, "村代码 village code", "not a village"),
        ({"已走访": "是", "服务人数": -1}, "服务人数 persons served", "whole number >= 0"),
        ({"已走访": "是", "调解纠纷": 1, "调解成功": 2}, "调解成功", "2 disputes resolved"),
        ({"已走访": "否", "服务人数": 4}, "已走访 visited", "records work done"),
        ({"已走访": "是", "服务内容": "算命"}, "服务内容 services", "unknown service"),
        ({"已走访": "是", "实际到达": "9点"}, "实际到达 arrived", "not a time"),
    ],
)
def test_bad_rows_are_named_by_row_and_field(tmp_path, plan, cells, field, what):
    path = write_ledger(plan, tmp_path / "l.xlsx")
    [row] = _fill(path, {"v1": cells})
    with pytest.raises(DataFileError) as err:
        read_ledger(path, KNOWN)
    msg = str(err.value)
    assert row in msg and field in msg and what in msg


def test_blank_ledger_is_refused_not_read_as_misses(tmp_path, plan):
    path = write_ledger(plan, tmp_path / "l.xlsx")
    entries = read_ledger(path, KNOWN)
    with pytest.raises(DataFileError, match="not been filled in: none of its 3 planned visits"):
        check_filled(entries, path)
    # work recorded without the 已走访 tick counts as a visit, so the ledger is filled in
    _fill(path, {"v2": {"服务人数": 3}})
    entries = read_ledger(path, KNOWN)
    check_filled(entries, path)
    assert ledger_report(entries)["totals"]["visited"] == 1


def test_blank_ledger_refused_by_the_planner(tmp_path):
    from doorstep.analysis.circuits.county import plan_county_month

    from ..fakecounty import line_county

    model = line_county()
    cm = plan_county_month(model, "2026-11", n_lawyers=2)
    path = write_ledger(cm.plan, tmp_path / "nov.xlsx")
    with pytest.raises(DataFileError, match="not been filled in"):
        plan_county_month(model, "2026-12", n_lawyers=2, ledger=path)


@pytest.mark.parametrize("suffix", [".ods", ".xls"])
def test_ledger_formats_named(tmp_path, suffix):
    f = tmp_path / f"l{suffix}"
    f.write_bytes(b"x")
    with pytest.raises(DataFileError, match=r"read from \.xlsx.*save it as \.xlsx"):
        read_ledger(f)


def test_ledger_is_printable_with_dropdowns_and_time_cells(tmp_path, plan):
    path = write_ledger(plan, tmp_path / "l.xlsx")
    ws = load_workbook(path)["张律师"]
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$2"
    dv = ws.data_validations.dataValidation
    assert [(d.type, d.formula1) for d in dv] == [("list", '"是,否"')]
    ranges = str(dv[0].sqref)
    assert all(r[1:].split(":")[0] == "3" for r in ranges.split())
    assert {r[0] for r in ranges.split()} == {"L", "U"}  # 已走访 and 需跟进, from row 3
    first = next(r for r in plan.routes if r.lawyer_id == "L1").stops[0]
    arrival = ws.cell(3, 8).value
    assert isinstance(arrival, dt.time)
    assert arrival.hour * 60 + arrival.minute == round(first.arrival)


@pytest.mark.needs_data
def test_cli_ledger_report_and_blank_ledger(tmp_path, capsys, huayuan_model):
    from doorstep.cli import main

    led = tmp_path / "dec.xlsx"
    args = ["-q", "circuits", "--lawyers", "8", "--month", "2026-12", "--xlsx", str(led)]
    assert main(args) == 0
    capsys.readouterr()
    nxt = ["-q", "circuits", "--lawyers", "8", "--month", "2027-01", "--ledger", str(led)]
    assert main(nxt) == 2
    err = capsys.readouterr().err
    assert "not been filled in" in err and "228" in err and err.count("\n") <= 2
    wb = load_workbook(led)
    ws = wb.worksheets[1]
    ws.cell(3, 12, "是")
    ws.cell(3, 17, 9)  # persons served
    ws.cell(4, 12, "否")
    wb.save(led)
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "-q",
                "ledger",
                "report",
                str(led),
                "--out",
                str(out),
                "--xlsx",
                str(tmp_path / "r.xlsx"),
            ]
        )
        == 0
    )
    t = json.loads(out.read_text(encoding="utf-8"))["totals"]
    assert (t["planned"], t["visited"], t["missed"], t["blank"], t["persons"]) == (
        228,
        1,
        1,
        226,
        9,
    )
