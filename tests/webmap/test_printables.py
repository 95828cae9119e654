"""Printable plans: the one-page 排班表 and the route sheets, as PDF and in headless Chromium.

The synthetic month is the fake line county (4 villages, 2 advisers from a staff roster) in
October 2026: 国庆 holidays 10-01..10-07, the make-up workday 10-10 and a leave day. The
Huayuan test plans a real month with 8 lawyers through ``doorstep circuits --print``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from doorstep.analysis.circuits.county import plan_county_month, road_path_function
from doorstep.analysis.circuits.export import routes_geojson
from doorstep.webmap.printables import PrintablePlan, write_printables
from doorstep.webmap.printables_schedule import FONT_STEPS, fit_font_pt
from tests.analysis.fakecounty import line_county
from tests.conftest import needs_data

from .test_browser import CHROMIUM, Page, browser, shots  # noqa: F401

pdfium = pytest.importorskip("pypdfium2")

MONTH = "2026-10"
LEAVE = dt.date(2026, 10, 13)
PHONES = {"李律师": "13900000001", "张律师": "13900000002"}
GENERATED = dt.datetime(2026, 9, 25, 8, 0, tzinfo=dt.UTC)


def _roster(folder: Path) -> Path:
    f = folder / "roster.csv"
    f.write_text(
        "姓名,电话,驻点,服务村,请假,走访频次\n"
        f"李律师,{PHONES['李律师']},县中心,城关社区、四社区,,2\n"
        f"张律师,{PHONES['张律师']},S,一村、三村,{LEAVE.isoformat()},2\n",
        encoding="utf-8",
    )
    return f


@pytest.fixture(scope="module")
def printed(tmp_path_factory: Any) -> tuple[Any, Path, list[Path]]:
    """The synthetic month planned with the staff roster, printed to HTML and PDF."""
    tmp = tmp_path_factory.mktemp("printables")
    model = line_county()
    cm = plan_county_month(model, MONTH, roster=_roster(tmp), min_gap_days=7)
    assert cm.plan.scheduled_visits == 8 and not cm.plan.unscheduled
    lines = routes_geojson(cm.plan, cm.travel.coords, road_path_function(model, cm.travel, cm.plan))
    pp = PrintablePlan.from_county_month(cm, model, lines, generated=GENERATED)
    old = os.umask(0o022)
    try:
        written = write_printables(pp, tmp / "print")
    finally:
        os.umask(old)
    return cm, tmp / "print", written


def _page_texts(pdf: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(pdf))
    return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]


def _flat(text: str) -> str:
    return "".join(text.split())


def test_files_laid_out_and_0644(printed) -> None:
    _, out, written = printed
    names = sorted(str(p.relative_to(out)) for p in written)
    assert names == sorted(
        [
            "schedule-2026-10.html",
            "schedule-2026-10.pdf",
            *(f"routes-2026-10/{n}.{x}" for n in ("张律师", "李律师") for x in ("html", "pdf")),
        ]
    )
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in written)
    html = (out / "schedule-2026-10.html").read_text(encoding="utf-8")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "@page" in html and "A4 landscape" in html


def test_schedule_is_one_a4_landscape_page_with_advisers_villages_and_source(printed) -> None:
    cm, out, _ = printed
    doc = pdfium.PdfDocument(str(out / "schedule-2026-10.pdf"))
    assert len(doc) == 1
    assert tuple(round(x) for x in doc[0].get_size()) == (842, 595)
    text = _flat(doc[0].get_textpage().get_text_range())
    for lw in cm.plan.lawyers:
        assert lw.name in text and PHONES[lw.id] in text
    visited = {s.village for r in cm.plan.routes for s in r.stops}
    assert visited == {"城关社区", "四社区", "一村", "三村"}
    assert all(v in text for v in visited)
    assert "工作人员名册staffroster" in text and "2026-09-2508:00" in text  # source, footer


def test_schedule_cells_follow_the_plan_and_the_calendar(printed) -> None:
    cm, out, _ = printed
    html = (out / "schedule-2026-10.html").read_text(encoding="utf-8")
    assert 'class="day holiday" data-date="2026-10-01"' in html
    assert 'class="day makeup" data-date="2026-10-10"' in html
    assert 'class="day weekend" data-date="2026-10-11"' in html
    assert 'class="day workday" data-date="2026-10-12"' in html
    # no visit on a holiday, the leave day says so in 张律师's column
    assert not [r for r in cm.plan.routes if dt.date(2026, 10, 1) <= r.date <= dt.date(2026, 10, 7)]
    leave_row = html.split(f'data-date="{LEAVE.isoformat()}"')[1].split("</tr>")[0]
    assert leave_row.count("<td") == 2 and '<td class="leave">请假 leave</td>' in leave_row


def test_route_sheets_page_per_day_with_stops_and_km_from_analysis(printed) -> None:
    cm, out, _ = printed
    for lw in cm.plan.lawyers:
        routes = cm.plan.routes_of(lw.id)
        pages = _page_texts(out / "routes-2026-10" / f"{lw.id}.pdf")
        assert len(pages) == len(routes) > 0
        for r, page in zip(routes, pages, strict=True):
            text = _flat(page)
            assert r.date.isoformat() in text and PHONES[lw.id] in text and "12348" in text
            for s in r.stops:
                assert s.village in text and s.village_id in text
                assert f"{s.travel_km:.1f}" in text
            assert f"{r.drive_km:.1f}" in text and f"{r.home_km:.1f}" in text
            # the day's km total is the sum of its legs as analysis computed them
            legs = sum(s.travel_km for s in r.stops) + r.home_km
            assert r.drive_km == pytest.approx(legs)


def test_sources_say_modelled_roster_or_modelled_assignment(tmp_path) -> None:
    from doorstep.analysis.circuits.roster import make_roster, write_roster
    from doorstep.webmap.printables import schedule_html

    model = line_county()
    roster, travel = make_roster(model, 2)
    f = write_roster(roster, travel, tmp_path / "r.csv")
    for kw, words in (({"roster": f}, "模型建议名册"), ({"n_lawyers": 2}, "模型分配（未用名册）")):
        cm = plan_county_month(model, MONTH, **kw)
        pp = PrintablePlan.from_county_month(cm, model, {"features": []}, generated=GENERATED)
        html = schedule_html(pp)
        assert f'<b class="source">{words}' in html


def test_font_shrinks_until_the_month_fits_one_page() -> None:
    short = [["一村"] * 8 for _ in range(31)]
    long = [["长村名之一村、长村名之二村、长村名之三村、长村名之四村"] * 8 for _ in range(31)]
    eight = [f"律师{i}" for i in range(1, 9)]
    assert fit_font_pt(short, eight) == FONT_STEPS[0]
    assert fit_font_pt(long, eight) < fit_font_pt(short, eight)
    assert fit_font_pt(long, eight[:2]) > fit_font_pt(long, eight)  # wider columns, fewer lines
    wordy = [f"律师{i}（某某镇公共法律服务工作站）" for i in range(1, 31)]
    assert fit_font_pt([["一村"] * 30] * 31, wordy) < FONT_STEPS[0]  # long headers wrap


# --- in the browser -----------------------------------------------------------------------------


def _ink(png: Path) -> float:
    """Share of pixels that are not near-white in a screenshot."""
    from PIL import Image

    img = Image.open(png).convert("L")
    hist = img.histogram()
    return sum(hist[:235]) / (img.width * img.height)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_schedule_in_chromium(printed, browser, shots) -> None:  # noqa: F811
    cm, out, _ = printed
    p = Page(browser, shots, viewport={"width": 1400, "height": 1000})
    pg = p.page
    pg.goto((out / "schedule-2026-10.html").as_uri())
    pg.wait_for_selector("table.schedule")
    assert pg.locator("thead th.adviser").count() == len(cm.plan.lawyers) == 2
    assert pg.locator("thead th.adviser").all_inner_texts()[0].startswith("李律师")
    assert pg.locator("tbody tr.day").count() == 31
    assert pg.locator("tbody tr.day").nth(14).locator("td").count() == 2
    # 9 weekend days in Oct 2026, less 10-03/04 (国庆 holidays) and 10-10 (make-up workday)
    assert pg.locator("tbody tr.weekend").count() == 6
    bg = pg.eval_on_selector("tr.holiday td", "e => getComputedStyle(e).backgroundColor")
    assert bg not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    visits = pg.locator("td.visits").all_inner_texts()
    assert sorted("、".join(visits).split("、")) == sorted(
        s.village for r in cm.plan.routes for s in r.stops
    )
    assert _ink(p.shot("printables_schedule")) > 0.03
    p.close()  # fails if the page asked for anything outside file://


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_route_sheet_in_chromium(printed, browser, shots) -> None:  # noqa: F811
    cm, out, _ = printed
    routes = cm.plan.routes_of("张律师")
    p = Page(browser, shots, viewport={"width": 900, "height": 1200})
    pg = p.page
    pg.goto((out / "routes-2026-10" / "张律师.html").as_uri())
    pg.wait_for_selector("section.sheet svg")
    assert pg.locator("section.sheet").count() == len(routes)
    first = pg.locator("section.sheet").first
    svg = first.locator("svg.map")
    assert svg.locator("g.route-legs path").count() == 1
    d = svg.locator("g.route-legs path").get_attribute("d") or ""
    assert d.count("L") >= len(routes[0].stops) + 1  # base → stops → base along the roads
    assert svg.locator("g.route-stops circle").count() == len(routes[0].stops)
    assert svg.locator("text.stop-no").all_text_contents() == [
        str(i) for i in range(1, len(routes[0].stops) + 1)
    ]
    assert svg.locator("g.route-base circle").count() == 1
    assert first.locator("tr.stop").count() == len(routes[0].stops)
    assert _ink(p.shot("printables_route_sheet")) > 0.03
    p.close()


# --- Huayuan through the command line ----------------------------------------------------------


@needs_data
@pytest.mark.slow
def test_huayuan_month_prints_through_the_cli(tmp_path, capsys, monkeypatch) -> None:
    """``doorstep circuits --lawyers 8 --month 2027-01 --print DIR --geojson F``: the 排班表 of
    228 visits and 8 lawyers stays one page; a route-sheet page per lawyer-day with its km
    total; the route lines are built once for the GeoJSON and the printables."""
    from doorstep.analysis.circuits import export
    from doorstep.cli import main

    built: list[dict[str, Any]] = []

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(routes_geojson(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(export, "routes_geojson", counted)
    out = tmp_path / "print"
    geojson = tmp_path / "routes.geojson"
    assert (
        main(
            [
                "circuits",
                "--lawyers",
                "8",
                "--month",
                "2027-01",
                "--print",
                str(out),
                "--geojson",
                str(geojson),
                "--out",
                str(tmp_path / "c.json"),
            ]
        )
        == 0
    )
    assert len(built) == 1  # one build of the route lines serves both outputs
    # the GeoJSON file is those lines, compact UTF-8 as analysis.circuits.export.write_geojson
    assert geojson.read_bytes() == json.dumps(built[0], ensure_ascii=False).encode("utf-8")
    assert {f["properties"]["geometry_source"] for f in built[0]["features"]} == {"roads"}
    doc = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert len(built[0]["features"]) == len(doc["routes"])
    assert len(doc["files"]["print"]) == 2 + 2 * 8
    sched = pdfium.PdfDocument(str(out / "schedule-2027-01.pdf"))
    assert len(sched) == 1 and tuple(round(x) for x in sched[0].get_size()) == (842, 595)
    text = _flat(sched[0].get_textpage().get_text_range())
    routes = doc["routes"]
    assert doc["scheduled_visits"] == 228
    assert all(f"律师{i}" in text for i in range(1, 9))
    assert all(s["village"] in text for r in routes for s in r["stops"])
    for i in range(1, 9):
        mine = [r for r in routes if r["lawyer_id"] == f"L{i}"]
        pages = _page_texts(out / "routes-2027-01" / f"L{i}.pdf")
        assert len(pages) == len(mine)
        for r, page in zip(mine, pages, strict=True):
            t = _flat(page)
            assert f"{r['drive_km']:.1f}" in t and all(s["village"] in t for s in r["stops"])
    assert not list(out.glob(".doorstep-partial*"))  # the staging folder is gone
