"""The static SVG map and the HTML-to-PDF writer shared by the printables."""

from __future__ import annotations

import os
import stat

import pytest
from shapely.geometry import LineString, Point, Polygon

from doorstep.webmap.printing import html_to_pdf, page_css, write_html_and_pdf
from doorstep.webmap.svgmap import Frame, Layer, svg_map


def test_frame_places_corners_and_centre() -> None:
    f = Frame.fit((109.0, 28.0, 110.0, 29.0), width=300, height=200, margin=0)
    # 1° of latitude fills the 200 px height; longitude is squeezed by cos(28.5°)
    assert f.xy(109.0, 29.0)[1] == pytest.approx(0.0)
    assert f.xy(109.0, 28.0)[1] == pytest.approx(200.0)
    width_px = f.xy(110.0, 28.5)[0] - f.xy(109.0, 28.5)[0]
    assert width_px == pytest.approx(200 * 0.87882, rel=1e-4)
    assert f.xy(109.5, 28.5) == pytest.approx((150.0, 100.0))
    assert f.px_per_km() == pytest.approx(200 / 111.32)


def test_svg_map_draws_each_layer_with_labels_and_legend() -> None:
    f = Frame.fit((109.0, 28.0, 109.2, 28.2), width=400, height=400)
    svg = svg_map(
        f,
        [
            Layer(
                [Polygon([(109.0, 28.0), (109.2, 28.0), (109.2, 28.2)])], fill="#eee", legend="县界"
            ),
            Layer(
                [LineString([(109.0, 28.0), (109.2, 28.2)])],
                stroke="#c00",
                dash="4 2",
                legend="modelled road",
            ),
            Layer([Point(109.1, 28.1)], fill="#06c", labels=["雅酉镇 <x>"], legend="镇"),
        ],
        title="test map",
        source="roads: modelled",
    )
    assert svg.count("<path d=") >= 3  # polygon, line and scale bar
    assert 'stroke-dasharray="4 2"' in svg
    assert "雅酉镇 &lt;x&gt;" in svg  # escaped label
    assert "<title>test map</title>" in svg and "roads: modelled" in svg
    assert "km</text>" in svg and ">N</text>" in svg


def test_page_css_rejects_unknown_orientation() -> None:
    assert "A4 landscape" in page_css("landscape")
    with pytest.raises(ValueError, match="orientation"):
        page_css("sideways")


def test_html_and_pdf_written_0644_with_expected_pages(tmp_path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    html = (
        f"<html><head><style>{page_css('landscape')}</style></head><body>"
        "<h1>排班表</h1><div style='page-break-after: always'>一</div><div>二</div></body></html>"
    )
    old = os.umask(0o022)
    try:
        h, p = write_html_and_pdf(html, tmp_path / "a.html", tmp_path / "a.pdf")
    finally:
        os.umask(old)
    assert stat.S_IMODE(h.stat().st_mode) == 0o644 and stat.S_IMODE(p.stat().st_mode) == 0o644
    doc = pdfium.PdfDocument(str(p))
    assert len(doc) == 2
    w, hgt = doc[0].get_size()
    assert (round(w), round(hgt)) == (842, 595)  # A4 landscape in points
    assert "排班表" in doc[0].get_textpage().get_text_range()
    assert html_to_pdf("<p>x</p>").startswith(b"%PDF")
