"""Hand-written SVG charts and the atlas's evidence panel: well-formed, one mark per row, and
the marks where the numbers put them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from doorstep.webmap.atlas import validation_table_html
from doorstep.webmap.charts import LOWER_COLOUR, RAISE_COLOUR, tornado_svg

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    {"parameter": "imputed <positions>", "low": -1, "high": 1, "share_at_low": 0.9,
     "share_at_high": 0.7, "share_nominal": 0.8},
    {"parameter": "speed village (car)", "low": 0.75, "high": 1.25, "share_at_low": 0.76,
     "share_at_high": 0.84, "share_nominal": 0.8},
    {"parameter": "access walking speed", "low": 3.5, "high": 5.5, "share_at_low": 0.8,
     "share_at_high": 0.8, "share_nominal": 0.8},
]  # fmt: skip


def test_tornado_has_one_bar_per_row_spanning_low_to_high() -> None:
    root = ET.fromstring(tornado_svg(ROWS, mode="car"))
    bars = [r for r in root.iter(SVG + "rect") if r.get("class") == "bar"]
    assert [b.get("data-parameter") for b in bars] == [r["parameter"] for r in ROWS]
    w = [float(b.get("width", "nan")) for b in bars]
    assert w[0] == pytest.approx(2.5 * w[1], rel=0.02) and w[2] == 0.0  # swing 0.2 vs 0.08
    assert [b.get("fill") for b in bars[:2]] == [LOWER_COLOUR, RAISE_COLOUR]
    x = [float(b.get("x", "nan")) for b in bars]
    assert x[0] < x[1] < x[2]  # 0.7 < 0.76 < 0.8 on the same axis
    (nominal,) = [ln for ln in root.iter(SVG + "line") if ln.get("class") == "nominal"]
    assert float(nominal.get("x1", "nan")) == pytest.approx(x[2])  # the nominal share, 0.8
    text = "".join(root.itertext())
    assert "Δ 20.0 pp" in text and "Δ 8.0 pp" in text and "模拟 Modelled" in text
    assert "County share meeting the target (%, car)" in text


def test_tornado_titles_and_percent_ticks() -> None:
    root = ET.fromstring(tornado_svg(ROWS, mode="car <&>"))
    assert root.get("aria-labelledby") == "tornado-title"
    title = root.find(SVG + "title")  # the document's own (the bars' are inside their <rect>)
    assert title is not None and title.get("id") == "tornado-title"
    assert title.text == "敏感性（单因素）Sensitivity, one at a time"  # shorter than the heading
    heading = [t.text for t in root.iter(SVG + "text") if t.get("font-weight") == "bold"]
    assert heading == ["敏感性：县域达标人口比例 County share meeting the target (%, car <&>)"]
    ticks = [t for t in root.iter(SVG + "text") if t.get("class") == "tick"]
    # shares 0.7 … 0.9 padded by 5 % of the span: ticks every 5 pp from 70 % to 90 %
    assert [t.text for t in ticks] == ["70%", "75%", "80%", "85%", "90%"]
    grid = [ln for ln in root.iter(SVG + "line") if ln.get("class") is None]
    assert [ln.get("x1") for ln in grid] == [t.get("x") for t in ticks]


def test_tornado_without_rows_is_still_a_document() -> None:
    root = ET.fromstring(tornado_svg([], mode="walk"))
    assert not [r for r in root.iter(SVG + "rect") if r.get("class") == "bar"]


def test_validation_table_names_every_check_and_why_not_run() -> None:
    doc = {
        "checks_ok": 1,
        "checks_not_run": 1,
        "checks": [
            {"key": "road_length", "title": "network length", "status": "ok", "why": "",
             "rows": [{"item": "total", "model": 2500.0, "reference": 2724.0, "unit": "km",
                       "error_pct": -8.2, "note": "Jan 2024"}]},
            {"key": "county_outline", "title": "outline", "status": "not run",
             "why": "file <missing>", "rows": []},
        ],
    }  # fmt: skip
    html = validation_table_html(doc)
    root = ET.fromstring(html)  # well-formed, text escaped
    checks = [tr for tr in root.iter("tr") if tr.get("class") == "ds-check"]
    assert [(c.get("data-check"), c.get("data-status")) for c in checks] == [
        ("road_length", "ok"),
        ("county_outline", "not run"),
    ]
    assert "file <missing>" in "".join(checks[1].itertext())
    cells = ["".join(td.itertext()) for td in root.iter("td")]
    assert cells == ["total", "2,500.00", "2,724.00", "km", "-8.2", "Jan 2024"]
    assert "(1 ok, 1 not run)" in html


# --- the report's charts: each on a small hand-made input with known geometry ----------------


def _marks(svg: str, tag: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [e for e in root.iter(SVG + tag) if cls in (e.get("class") or "").split()]


def _text(svg: str) -> str:
    return "".join(ET.fromstring(svg).itertext())


def test_coverage_bars_lengths_whiskers_and_units() -> None:
    """Bars run 0–100 % over the plot width (760 − 150 − 150 = 460 px): 50 % is 230 px."""
    from doorstep.webmap.charts import coverage_bars_svg
    from doorstep.webmap.charts.bars import LABEL_W

    rows = [
        {"name": "甲乡", "share": 0.25, "p05": 0.1, "p95": 0.4, "complies": False},
        {"name": "乙镇 <b>", "share": 0.5, "p05": None, "p95": None, "complies": True},
        {"name": "丙乡", "share": 1.0, "p05": 0.9, "p95": 1.0, "complies": True},
    ]
    svg = coverage_bars_svg(rows, title="t", axis="达标人口比例 share (%)", source="模拟 modelled")
    bars = _marks(svg, "rect", "bar")
    assert [float(b.get("width", "nan")) for b in bars] == pytest.approx([115.0, 230.0, 460.0])
    assert {float(b.get("x", "nan")) for b in bars} == {LABEL_W}
    assert [b.get("data-name") for b in bars] == ["甲乡", "乙镇 <b>", "丙乡"]
    assert bars[0].get("fill") != bars[1].get("fill")  # a township missing the target stands out
    whiskers = _marks(svg, "path", "whisker")
    assert len(whiskers) == 2  # no range, no whisker
    d = whiskers[0].get("d", "")
    assert d.startswith(f"M{LABEL_W + 46:.2f},") and f"H{LABEL_W + 184:.2f}" in d  # 10 % … 40 %
    text = _text(svg)
    assert "25.0% (10–40 %)" in text and "50.0%" in text and "100%" in text
    assert "share (%)" in text and "模拟 modelled" in text


def test_histogram_bins_heights_and_axes() -> None:
    """One rect per bin and panel; heights in proportion to persons; minutes on the x axis."""
    from doorstep.webmap.charts import histogram_svg

    hists: list[dict[str, Any]] = [
        {"mode": "car", "edges_minutes": [0, 5, 10, 15], "population": [100, 50, 0]},
        {"mode": "walk", "edges_minutes": [0, 30, 60], "population": [10, 30], "unreachable": 7},
    ]
    svg = histogram_svg(hists, title="t", source="模拟 modelled")
    bins = _marks(svg, "rect", "bin")
    assert [(b.get("data-from"), b.get("data-to"), b.get("data-persons")) for b in bins] == [
        ("0", "5", "100"), ("5", "10", "50"), ("10", "15", "0"), ("0", "30", "10"),
        ("30", "60", "30"),
    ]  # fmt: skip
    h = [float(b.get("height", "nan")) for b in bins]
    assert h[0] == pytest.approx(2 * h[1]) and h[2] == 0.0 and h[4] == pytest.approx(3 * h[3])
    w = [float(b.get("width", "nan")) for b in bins]
    assert w[0] == pytest.approx(w[1]) == pytest.approx(w[2]) and w[3] == pytest.approx(w[4])
    assert w[3] + 1 == pytest.approx(1.5 * (w[0] + 1))  # 2 bins vs 3 over one width, 1 px gap
    text = _text(svg)
    assert "分钟 minutes" in text and "人口 persons" in text and "unreachable: 7 人" in text
    assert "汽车 car" in text and "步行 walk" in text


def test_marginal_curve_points_in_order_with_gains() -> None:
    from doorstep.webmap.charts import marginal_curve_svg

    pts: list[dict[str, Any]] = [
        {"k": 0, "share": 0.8, "gain": None},
        {"k": 1, "share": 0.9, "gain": 1000},
        {"k": 2, "share": 0.95, "gain": 500},
    ]
    svg = marginal_curve_svg(pts, title="t", source="模拟 modelled")
    circles = _marks(svg, "circle", "point")
    cx = [float(c.get("cx", "nan")) for c in circles]
    cy = [float(c.get("cy", "nan")) for c in circles]
    assert cx[1] - cx[0] > 0 and cx[1] - cx[0] == pytest.approx(cx[2] - cx[1])  # k evenly spaced
    assert cy[0] > cy[1] > cy[2]  # higher share, higher on the page
    assert cy[0] - cy[1] == pytest.approx(2 * (cy[1] - cy[2]), abs=0.02)  # +10 pp, then +5 pp
    text = _text(svg)
    assert "+1,000 人 persons" in text and "95.0%" in text
    assert "new service points (个 count)" in text and "population covered (%)" in text


def test_adviser_bars_km_hours_stacked_and_visits() -> None:
    from doorstep.webmap.charts import adviser_bars_svg

    rows = [
        {"lawyer": "律师1（花垣镇工作站）", "km": 100.0, "drive_hours": 2.0, "onsite_hours": 3.0,
         "visits": 10},
        {"lawyer": "律师2", "km": 50.0, "drive_hours": 1.0, "onsite_hours": 1.5, "visits": 5},
    ]  # fmt: skip
    svg = adviser_bars_svg(rows, title="t", source="模拟 modelled")
    bars = _marks(svg, "rect", "bar")

    def of(metric: str) -> list[ET.Element]:
        return [b for b in bars if b.get("data-metric") == metric]

    km, drive, onsite, visits = (of(m) for m in ("km", "drive_hours", "onsite_hours", "visits"))
    wk = [float(b.get("width", "nan")) for b in km]
    assert wk[0] == pytest.approx(2 * wk[1], abs=0.02)  # widths printed to 0.01 px
    d0, o0 = drive[0], onsite[0]
    assert float(o0.get("x", "nan")) == pytest.approx(
        float(d0.get("x", "nan")) + float(d0.get("width", "nan")), abs=0.02
    )  # on-site hours stacked after the driving hours
    assert float(o0.get("width", "nan")) == pytest.approx(
        1.5 * float(d0.get("width", "nan")), abs=0.02
    )
    assert [b.get("data-value") for b in visits] == ["10", "5"]
    text = _text(svg)
    assert "(km)" in text and "hours" in text and "次 count" in text
    labels = [t.text for t in ET.fromstring(svg).iter(SVG + "text")]
    assert "律师1" in labels and "律师2" in labels  # short names as row labels (full in tooltips)
