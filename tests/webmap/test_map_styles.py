"""One source for the map's styles: the web pages receive the service point styles from
:mod:`webmap.layers` (no copy in the static JS), and the marker CSS lives once, in
``static/map.css``, which the app links and the atlas writes into its page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import needs_data
from tests.webmap.conftest import make_app

STATIC = Path(__file__).resolve().parents[2] / "webmap" / "static"


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
        cfg = json.loads(page.split('id="ds-config">')[1].split("</script>")[0])
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


def test_village_room_colour_is_visible_on_the_map() -> None:
    """The village room's colour meets the 3:1 non-text contrast against white (tile
    backgrounds) and against the offline map's background; the old #9ecae1 did not."""
    from doorstep.webmap.layers import TIER_STYLE

    offline_bg = re.search(
        r"\.ds-offline\.leaflet-container\s*\{\s*background:\s*(#[0-9a-f]{6})",
        (STATIC / "map.css").read_text(encoding="utf-8"),
    )
    assert offline_bg is not None
    room = TIER_STYLE["village_room"][0]
    assert contrast(room, "#ffffff") >= 3.0
    assert contrast(room, offline_bg.group(1)) >= 3.0
    assert contrast("#9ecae1", "#ffffff") < 3.0  # the check can fail


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
