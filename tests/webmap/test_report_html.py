"""The printable report (``report.html``/``report.pdf``) on a small hand-made job manifest: one
``<svg>`` per chart with units and its real/modelled source line, bar lengths equal to the
figures, nothing fetched from outside, and the PDF's A4 pages in caption order."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from html import escape
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from doorstep.webmap.report_html import CAPTIONS, report_html
from doorstep.webmap.report_map import ReportMap

SVG = "{http://www.w3.org/2000/svg}"


def _fig(v: float, lo: float, hi: float) -> dict[str, float]:
    return {"value": v, "p05": lo, "p95": hi}


def manifest(*, ranges: bool = True, siting: bool = True) -> dict[str, Any]:
    """A ``run.json`` as :func:`doorstep.report.run_manifest` writes it (two townships)."""
    src = {
        k: f"数据来源 Source: 模拟 modelled {k}; real roads (OSM)"
        for k in ("townships", "histogram", "map", "marginal_curve", "sensitivity", "advisers")
    }
    m: dict[str, Any] = {
        "county": {"code": "999999", "name": "测试县", "vintage": "2023"},
        "generated": "2026-12-01T00:00:00+00:00",
        "target": {"mode": "car", "rural_minutes": 30.0, "urban_minutes": 15.0},
        "figures": {
            "population": 1500,
            "coverage": {"mode": "car", "breaks_minutes": [15.0, 30.0, 60.0],
                         "share_within": [0.25, 0.875, 1.0], "mean_minutes": 21.5,
                         "townships_complying": 1, "townships": 2},
            "underserved_villages": 1,
            "underserved_population": 150,
            "siting": {"sites": ["甲村"], "coverage_before": 0.8, "coverage_after": 0.9},
            "circuits": {"month": "2026-12", "scheduled": 3, "required": 3, "drive_hours": 7.5},
        },
        "uncertainty": {
            "draws": 50, "seed": 7,
            "county": [{"mode": "car", "share_within_15": _fig(0.25, 0.2, 0.3),
                        "share_within_30": _fig(0.875, 0.8, 0.9),
                        "share_within_60": _fig(1.0, 1.0, 1.0), "mean_min": _fig(21.5, 19.0, 26.0)}],
            "siting": {"coverage_after": {"p05": 0.85, "p50": 0.9, "p95": 0.93}},
            "sensitivity": {"mode": "car", "rows": [
                {"parameter": "speed village (car)", "low": 0.75, "nominal": 1.0, "high": 1.25,
                 "share_at_low": 0.7, "share_at_high": 0.8, "share_nominal": 0.75, "swing": 0.1}]},
        },
        "validation": {"status": "not run", "why": "no reference data"},
        "quality": {"modelled_layers": ["roads"], "layers": {"roads": {"source": "modelled <x>"}}},
        "assumptions": ["target: rural ≤ 30 min"],
        "charts": {
            "mode": "car",
            "townships": [
                {"code": "T2", "name": "乙乡", "population": 500, "share": 0.4, "p05": 0.3,
                 "p95": 0.6, "complies": False},
                {"code": "T1", "name": "甲镇", "population": 1000, "share": 0.9, "p05": 0.85,
                 "p95": 0.95, "complies": True},
            ],
            "county_share_meeting_target": _fig(0.733, 0.7, 0.8),
            "travel_time_histograms": [
                {"mode": "car", "edges_minutes": [0, 15, 30, 45], "population": [900, 450, 150],
                 "unreachable": 0},
                {"mode": "walk", "edges_minutes": [0, 60, 120], "population": [1000, 500],
                 "unreachable": 0},
            ],
            "marginal_curve": {"population": 1500, "points": [
                {"k": 0, "share": 0.8, "gain": None}, {"k": 1, "share": 0.9, "gain": 150}]},
            "advisers": [
                {"lawyer": "律师1（甲镇工作站）", "km": 120.5, "drive_hours": 5.0,
                 "onsite_hours": 6.0, "visits": 2, "villages": 2},
                {"lawyer": "律师2（乙乡工作站）", "km": 60.0, "drive_hours": 2.5,
                 "onsite_hours": 3.0, "visits": 1, "villages": 1},
            ],
            "sources": src,
        },
    }  # fmt: skip
    if not ranges:
        m["uncertainty"] = None
        m["charts"]["townships"] = [
            {**t, "p05": None, "p95": None} for t in m["charts"]["townships"]
        ]
    if not siting:
        del m["figures"]["siting"]
        m["charts"]["marginal_curve"] = None
    return m


def small_map() -> ReportMap:
    crs = "EPSG:4326"
    square = Polygon([(109.3, 28.4), (109.5, 28.4), (109.5, 28.6), (109.3, 28.6)])
    west = Polygon([(109.3, 28.4), (109.4, 28.4), (109.4, 28.6), (109.3, 28.6)])
    east = Polygon([(109.4, 28.4), (109.5, 28.4), (109.5, 28.6), (109.4, 28.6)])
    return ReportMap(
        county=gpd.GeoDataFrame(geometry=[square], crs=crs),
        townships=gpd.GeoDataFrame({"name": ["甲镇", "乙乡"]}, geometry=[west, east], crs=crs),
        roads=gpd.GeoDataFrame(
            {"status": ["real", "modelled"]},
            geometry=[
                LineString([(109.3, 28.5), (109.5, 28.5)]),
                LineString([(109.35, 28.4), (109.35, 28.6)]),
            ],
            crs=crs,
        ),
        villages=gpd.GeoDataFrame(
            {
                "code": ["V1", "V2", "V3"],
                "minutes": [5.0, 25.0, 50.0],
                "underserved": [False, False, True],
            },
            geometry=[Point(109.32, 28.45), Point(109.42, 28.5), Point(109.48, 28.58)],
            crs=crs,
        ),
        points=gpd.GeoDataFrame(
            {"tier": ["county_centre", "township_station"]},
            geometry=[Point(109.35, 28.5), Point(109.45, 28.5)],
            crs=crs,
        ),
        mode="car",
    )


def figures(html: str) -> dict[str, str]:
    """Each ``<figure id="fig-KEY">`` of the report by key."""
    return dict(re.findall(r'<figure class="chart" id="fig-([a-z_]+)">(.*?)</figure>', html, re.S))


def test_each_chart_is_one_svg_with_caption_units_and_source() -> None:
    html = report_html(manifest(), report_map=small_map())
    figs = figures(html)
    assert list(figs) == list(CAPTIONS)  # all six, in caption order
    for key, body in figs.items():
        assert body.count("<svg") == 1, key
        assert (
            escape(CAPTIONS[key]) in body and "模拟 modelled" in body and "数据来源 Source" in body
        )
        ET.fromstring(re.search(r"<svg.*</svg>", body, re.S).group(0))  # type: ignore[union-attr]
    assert "达标人口比例 share of population meeting the target (%)" in figs["townships"]
    assert "分钟 minutes" in figs["histogram"] and "人口 persons" in figs["histogram"]
    assert "km</text>" in figs["map"] and "真实道路 real road" in figs["map"]
    assert "模拟乡村道路 modelled local road" in figs["map"]
    assert "population covered (%)" in figs["marginal_curve"]
    assert "County share meeting the target (%, car)" in figs["sensitivity"]
    assert "里程 distance (km)" in figs["advisers"] and "(次 count)" in figs["advisers"]
    # headline figures with ranges, the modelled-data notice (escaped), validation not run
    assert "87.5 %</td><td class='num'>80.0–90.0 %" in html
    assert "80.0 % → 90.0 %</td><td class='num'>85.0–93.0 %" in html
    assert 'id="modelled-notice"' in html and "modelled &lt;x&gt;" in html
    assert "未运行 Not run: no reference data" in html
    assert html.count("<svg") == 6


def test_report_is_self_contained() -> None:
    """No stylesheet, script, image or font from anywhere: the only URL is the SVG namespace."""
    html = report_html(manifest(), report_map=small_map())
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert "@import" not in html and "url(" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls == {"http://www.w3.org/2000/svg"}


def test_township_bars_are_the_figures() -> None:
    m = manifest()
    svg = re.search(
        r"<svg.*?</svg>", figures(report_html(m, report_map=small_map()))["townships"], re.S
    )
    root = ET.fromstring(svg.group(0))  # type: ignore[union-attr]
    bars = [r for r in root.iter(SVG + "rect") if r.get("class") == "bar"]
    rows = m["charts"]["townships"]
    assert [b.get("data-name") for b in bars] == [r["name"] for r in rows]
    assert [float(b.get("data-share", "nan")) for b in bars] == [r["share"] for r in rows]
    w = [float(b.get("width", "nan")) for b in bars]
    assert w == pytest.approx([0.4 * 460, 0.9 * 460], abs=0.01)
    whiskers = [p for p in root.iter(SVG + "path") if p.get("class") == "whisker"]
    assert [
        (float(p.get("data-p05", "nan")), float(p.get("data-p95", "nan"))) for p in whiskers
    ] == [
        (0.3, 0.6),
        (0.85, 0.95),
    ]


def test_map_marks_gaps_roads_names_and_bands() -> None:
    svg = figures(report_html(manifest(), report_map=small_map()))["map"]
    root = ET.fromstring(re.search(r"<svg.*</svg>", svg, re.S).group(0))  # type: ignore[union-attr]

    def group(cls: str) -> list[ET.Element]:
        return [g for g in root.iter(SVG + "g") if g.get("class") == cls]

    (gap,) = group("gap")
    assert len(list(gap.iter(SVG + "circle"))) == 1  # the one underserved village ringed
    assert sum(len(list(g.iter(SVG + "circle"))) for g in group("village-band")) == 3
    fills = [c.get("fill") for g in group("village-band") for c in g.iter(SVG + "circle")]
    assert fills == ["#1a9850", "#91cf60", "#fc8d59"]  # ≤15, 15–30, 45–60 min
    (real,) = group("road-real")
    (modelled,) = group("road-modelled")
    assert "stroke-dasharray" in ET.tostring(modelled, encoding="unicode")
    assert "stroke-dasharray" not in ET.tostring(real, encoding="unicode")
    names = [
        "".join(t.itertext())
        for g in group("township-names")
        for t in g.iter(SVG + "text")
        if t.get("class") != "halo"
    ]
    assert names == ["甲镇", "乙乡"]


def test_without_ranges_or_siting_those_charts_are_left_out() -> None:
    html = report_html(manifest(ranges=False, siting=False), report_map=small_map())
    assert list(figures(html)) == ["townships", "histogram", "map", "advisers"]
    assert "No ranges: the ensemble was off (--draws 0)." in html
    assert 'class="whisker"' not in html


def test_pdf_has_a4_pages_with_one_chart_each_in_order() -> None:
    pdfium = pytest.importorskip("pypdfium2")
    from doorstep.webmap.printing import html_to_pdf

    m = copy.deepcopy(manifest())
    doc = pdfium.PdfDocument(html_to_pdf(report_html(m, report_map=small_map())))
    texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    assert all(tuple(round(x) for x in doc[i].get_size()) == (595, 842) for i in range(len(doc)))
    # title and headline, validation, six charts, assumptions
    assert len(doc) == 9
    assert "测试县 家门口法律服务规划报告" in texts[0] and "Headline figures" in texts[0]
    assert "Validation against published facts" in texts[1]
    pages = [
        next(
            i
            for i, t in enumerate(texts)
            if c.replace(" ", "") in t.replace(" ", "").replace("\r\n", "")
        )
        for c in CAPTIONS.values()
    ]
    assert pages == list(range(2, 8))
    assert "Assumptions" in texts[8]
