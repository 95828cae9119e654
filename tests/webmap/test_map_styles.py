"""One source for the map's styles: the web pages receive the service point styles, the
travel-time classes and the what-if colours from :mod:`webmap.layers` (no copy in the static
JS), and the marker CSS lives once, in ``static/map.css``, which the app links and the atlas
writes into its page. Every service point colour is visible on the map (3:1)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_data
from tests.webmap.conftest import make_app

STATIC = Path(__file__).resolve().parents[2] / "webmap" / "static"


def page_config(page: str) -> dict[str, Any]:
    """A page's ``ds-config``, parsed as strictly as ``JSON.parse`` (no ``Infinity``/``NaN``)."""

    def no_constant(name: str) -> None:
        raise ValueError(f"{name} is not JSON: JSON.parse would fail on the page")

    text = page.split('id="ds-config">')[1].split("</script>")[0]
    cfg: dict[str, Any] = json.loads(text, parse_constant=no_constant)
    return cfg


def offline_background() -> str:
    """The offline map's background colour, from map.css."""
    m = re.search(
        r"\.ds-offline\.leaflet-container\s*\{\s*background:\s*(#[0-9a-f]{6})",
        (STATIC / "map.css").read_text(encoding="utf-8"),
    )
    assert m is not None
    return m.group(1)


def lab_hue(h: str) -> float:
    """CIELAB hue angle (degrees, D65) of a ``#rrggbb`` colour."""
    c = [int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c)
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return math.degrees(math.atan2(200 * (fy - fz), 500 * (fx - fy))) % 360


def hue_gap(a: str, b: str) -> float:
    d = abs(lab_hue(a) - lab_hue(b)) % 360
    return min(d, 360 - d)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours."""

    def lum(h: str) -> float:
        c = [int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@needs_data
def test_pages_receive_the_python_tier_styles(tmp_path: Path) -> None:
    """Every page's ``ds-config`` carries, for every tier, TIER_STYLE's colour and label and
    TIER_GLYPH's glyph: what ``common.js`` draws the icons with."""
    from doorstep.geo.services import TIERS
    from doorstep.webmap.layers import TIER_GLYPH, TIER_STYLE

    c = make_app(tmp_path).test_client()
    for url in ("/", "/auth/login"):
        page = c.get(url).get_data(as_text=True)
        cfg = page_config(page)
        assert cfg["tiers"] == {
            t: {"colour": TIER_STYLE[t][0], "label": TIER_STYLE[t][2], "glyph": TIER_GLYPH[t]}
            for t in TIERS
        }, url
        assert cfg["tiers"]["village_room"]["colour"] == "#4a90b8"
        # map.css before app.css (the app's own rules may refine the shared ones)
        links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
        assert [Path(h).name for h in links] == ["leaflet.css", "map.css", "app.css"], links


def test_static_js_keeps_no_copy_of_the_tier_table() -> None:
    """No colour or label of TIER_STYLE is written in the web app's own scripts (a copy there
    would drift from the Python table, as the village room colour once did)."""
    from doorstep.webmap.layers import TIER_STYLE

    for js in STATIC.glob("*.js"):
        text = js.read_text(encoding="utf-8").lower()
        for tier, (colour, _size, label) in TIER_STYLE.items():
            assert colour.lower() not in text, (js.name, tier, colour)
            assert label.lower() not in text, (js.name, tier, label)


@needs_data
def test_pages_receive_the_python_minute_classes(tmp_path: Path) -> None:
    """Every page's ``ds-config`` carries MINUTE_CLASSES in order (bound, colour, label; the
    open last class with ``upto: null``, as ``JSON.parse`` reads no ``Infinity``), the
    unreachable colour (#777777, not the old JS "#777") and the what-if colours."""
    from doorstep.webmap.layers import (
        COVERAGE_COLOUR,
        MINUTE_CLASSES,
        UNREACHABLE_COLOUR,
        UNREACHABLE_LABEL,
    )

    c = make_app(tmp_path).test_client()
    for url in ("/", "/auth/login"):
        cfg = page_config(c.get(url).get_data(as_text=True))
        assert cfg["minutes"] == {
            "classes": [
                {"upto": None if math.isinf(u) else u, "colour": col, "label": lbl}
                for u, col, lbl in MINUTE_CLASSES
            ],
            "unreachable": {"colour": UNREACHABLE_COLOUR, "label": UNREACHABLE_LABEL},
        }, url
        assert [k["upto"] for k in cfg["minutes"]["classes"]] == [15, 30, 45, 60, None]
        assert cfg["minutes"]["unreachable"]["colour"] == "#777777"
        assert cfg["coverage"] == COVERAGE_COLOUR
    with pytest.raises(ValueError, match="Infinity"):  # the strict parse can fail
        page_config('<script id="ds-config">{"upto": Infinity}</script>')


def test_static_js_keeps_no_copy_of_the_minute_classes() -> None:
    """No colour of MINUTE_CLASSES, the unreachable grey (long or short form) or a what-if
    colour is written in the web app's scripts, and no class bound is compared in them: the
    minutes colours and legends come from ``ds-config``."""
    from doorstep.webmap.layers import COVERAGE_COLOUR, MINUTE_CLASSES, UNREACHABLE_COLOUR

    colours = [c for _u, c, _l in MINUTE_CLASSES] + [UNREACHABLE_COLOUR]
    colours += list(COVERAGE_COLOUR.values())
    for js in STATIC.glob("*.js"):
        text = js.read_text(encoding="utf-8").lower()
        for colour in colours:
            assert colour.lower() not in text, (js.name, colour)
        assert not re.search(r"[\"'`]#777\b", text), js.name  # the old short unreachable grey
        # the old hard-coded bounds: `m <= 15`, `<= 30` … in minuteColour
        assert not re.search(r"<=\s*(15|30|45|60)\b", text), js.name


def test_every_tier_colour_is_visible_on_the_map() -> None:
    """Every service point colour meets WCAG's 3:1 non-text contrast against white (tile
    backgrounds) and against the offline map's background; the old village room #9ecae1 and
    village mediation room #74c476 did not. The village mediation room (the lawyer's room's 调
    glyph and shape) is another hue family than the lawyer's green."""
    from doorstep.webmap.layers import TIER_STYLE

    bg = offline_background()
    assert bg == "#f3f1ea"
    for tier, (colour, _size, _label) in TIER_STYLE.items():
        assert contrast(colour, "#ffffff") >= 3.0, (tier, colour)
        assert contrast(colour, bg) >= 3.0, (tier, colour, bg)
    assert TIER_STYLE["village_room"][0] == "#4a90b8"
    for old in ("#9ecae1", "#74c476"):  # the check can fail
        assert contrast(old, "#ffffff") < 3.0 and contrast(old, bg) < 3.0, old
    lawyer, village = (
        TIER_STYLE["lawyer_mediation_room"][0],
        TIER_STYLE["village_mediation_room"][0],
    )
    assert hue_gap(village, lawyer) >= 90, (village, lawyer)
    assert hue_gap("#74c476", lawyer) < 15  # the old one was the same green, only lighter


def test_marker_rules_live_in_map_css_only() -> None:
    """The service point icon rules are in map.css, not in app.css; the atlas's style element
    is map.css verbatim."""
    from doorstep.webmap.atlas_base import MAP_CSS, map_css

    css = (STATIC / "map.css").read_text(encoding="utf-8")
    assert MAP_CSS == STATIC / "map.css"
    assert re.search(r"\.ds-sp span \{[^}]*vertical-align: top", css)
    app = (STATIC / "app.css").read_text(encoding="utf-8")
    assert not re.search(r"\.ds-sp[\w-]*[ .{]", app), "icon rules are back in app.css"
    assert not re.search(r"^\.ds-(town-label|village)", app, re.M), "name rules in app.css"
    assert css in map_css()
