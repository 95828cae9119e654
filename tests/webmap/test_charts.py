"""Hand-written SVG charts and the atlas's evidence panel: well-formed, one mark per row, and
the marks where the numbers put them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

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
