"""Service point icons in headless Chromium, in the web app and in the atlas: each icon is
centred within 2 px of its point (the small village-room dots of the county view and the 室
icons of zoom 13 alike), its colour is the Python style table's (:data:`webmap.layers.TIER_STYLE`),
and both draw from the one shared ``static/map.css`` (the county view's 9-px room dots, the
square correction centre)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.webmap.conftest import app_server

from .test_browser import Page, browser, pytestmark, shots  # noqa: F401

ICONS = """() => [...document.querySelectorAll('.ds-sp span')].map(s => {
  const a = s.parentElement.getBoundingClientRect(), r = s.getBoundingClientRect(),
        css = getComputedStyle(s);
  return {tier: s.dataset.tier, dx: r.left + r.width / 2 - a.left, dy: r.top + r.height / 2 - a.top,
          w: r.width, h: r.height, bg: css.backgroundColor, radius: css.borderRadius,
          inView: r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight};
})"""
"""Every service point icon: its centre against its marker's corner (the point: the markers
have no size and no anchor offset), size, colour and corner radius."""


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def check_icons(icons: list[dict[str, Any]], room_px: float) -> None:
    """Icons on their points, coloured from TIER_STYLE; village rooms ``room_px`` wide;
    correction centres square-cornered (both from map.css)."""
    from doorstep.webmap.layers import TIER_STYLE

    assert icons
    seen = {i["tier"] for i in icons}
    assert {"county_centre", "township_station", "village_room"} <= seen, seen
    for i in icons:
        assert i["bg"] == rgb(TIER_STYLE[i["tier"]][0]), i
        assert abs(i["dx"]) <= 2 and abs(i["dy"]) <= 2, i
    rooms = [i for i in icons if i["tier"] == "village_room"]
    assert all(abs(i["w"] - room_px) < 0.5 for i in rooms), rooms[:3]
    corr = [i for i in icons if i["tier"] == "correction_centre"]
    assert corr and all(i["radius"] == "0px" for i in corr), corr


def county_then_zoom13(p: Any, mapvar: str, shot: str) -> None:
    """Icons checked at the county view (rooms as 9 px dots), then at zoom 13 with names
    (rooms as 16 px icons, at least three in view); a screenshot of each."""
    pg = p.page
    assert pg.evaluate(f"{mapvar}.getZoom()") < 12
    check_icons(pg.evaluate(ICONS), room_px=9)
    p.shot(f"{shot}_county")
    pg.evaluate(f"() => {{ {mapvar}.setView([28.58, 109.48], 13, {{animate: false}}); }}")
    pg.wait_for_selector(".ds-names")
    icons = [i for i in pg.evaluate(ICONS) if i["inView"]]
    assert sum(i["tier"] == "village_room" for i in icons) >= 3
    check_icons(pg.evaluate(ICONS), room_px=16)
    p.shot(f"{shot}_zoom13")


def test_web_app_icons_on_their_points_in_the_python_colours(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Offline resident map: the page's tier styles (``DS.TIER``) are the ones Python put in
    ``ds-config``; icons sit on their points at the county view (room dots) and at zoom 13."""
    from doorstep.webmap.layers import tier_config

    with app_server(tmp_path) as s:
        p = Page(browser, shots, s, viewport={"width": 1200, "height": 900})
        pg = p.page
        pg.goto(s + "/")
        pg.wait_for_selector(".ds-sp-village_room >> nth=227", state="attached")
        pg.wait_for_selector("#village-list li")
        assert pg.evaluate("DS.TIER") == tier_config()
        county_then_zoom13(p, "DS.maps.map", "styles_web")
        p.close()


def test_atlas_icons_on_their_points_in_the_python_colours(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    tmp_path: Path,
    huayuan_model: Any,
) -> None:
    """The offline atlas, village rooms switched on: the same placement, colours and shared
    map.css rules as the web app, from a single file with no server."""
    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.layers import collect_layers

    layers = collect_layers(huayuan_model, "car", isochrones=False, gaps=False)
    build_atlas(huayuan_model, layers, tmp_path / "site", single_file=True)
    p = Page(browser, shots, "", viewport={"width": 1200, "height": 900})
    pg = p.page
    pg.goto((tmp_path / "site" / "index.html").as_uri())
    pg.wait_for_selector(".ds-sp-county_centre span")
    pg.locator(".leaflet-control-layers-overlays label", has_text="Village room").click()
    pg.wait_for_selector(".ds-sp-village_room >> nth=227", state="attached")
    mapvar = "window[Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))]"
    county_then_zoom13(p, mapvar, "styles_atlas")
    p.close()
