"""Basemaps in headless Chromium: a known point lands on the right tile pixel for a WGS84 and a
GCJ-02 tile source (and would be hundreds of metres off without the shift), clicks on a GCJ-02
map come back as WGS84, the browser's GCJ-02 formula equals geo.coords', and the offline map
draws roads, township and village names (screenshots; axe stays clean).

Tiles come from a local test server (a URL-template source): each tile is white with a
magenta square at the county centre's exact position in that tile CRS (Web Mercator tile
maths on WGS84 or on GCJ-02 coordinates).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.webmap.conftest import app_server, serving

from .test_a11y import _violations
from .test_browser import PLANNER, Page, browser, login, pytestmark, shots  # noqa: F401

ZOOM = 16
MAGENTA = (255, 0, 255)


def mercator_px(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Global pixel of a point on the Web Mercator tile grid at zoom ``z`` (256-px tiles)."""
    n = 256 * 2**z
    phi = math.radians(lat)
    return (lon + 180.0) / 360.0 * n, (1.0 - math.asinh(math.tan(phi)) / math.pi) / 2.0 * n


def metres_per_px(lat: float, z: int) -> float:
    return 2 * math.pi * 6378137.0 * math.cos(math.radians(lat)) / (256 * 2**z)


def tile_png(z: int, x: int, y: int, marker: tuple[float, float]) -> bytes:
    """A white tile with a 9×9 magenta square centred on ``marker`` (lon, lat in the tiles' CRS)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (256, 256), (255, 255, 255))
    gx, gy = mercator_px(*marker, z)
    cx, cy = math.floor(gx) - 256 * x, math.floor(gy) - 256 * y
    ImageDraw.Draw(img).rectangle([cx - 4, cy - 4, cx + 4, cy + 4], fill=MAGENTA)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@contextmanager
def tile_server(marker: tuple[float, float]) -> Iterator[str]:
    """``http://127.0.0.1:PORT/{z}/{x}/{y}.png`` serving :func:`tile_png` tiles."""

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            z, x, y = (int(p) for p in self.path.removesuffix(".png").strip("/").split("/"))
            body = tile_png(z, x, y, marker)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_a: Any) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Tiles)) as port:
        yield f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"


def seat(model: Any) -> tuple[float, float]:
    """The county public legal service centre (WGS84 lon, lat): the known point."""
    sp = model.service_points
    g = sp[sp["tier"] == "county_centre"].geometry.iloc[0]
    return float(g.x), float(g.y)


def gcj(lon: float, lat: float) -> tuple[float, float]:
    from doorstep.geo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    return float(glon), float(glat)


def tile_marker_on_screen(pg: Any, box: dict[str, float]) -> tuple[float, float]:
    """Centre of the magenta pixels in a screenshot of the map (overlays hidden), page px."""
    from PIL import Image

    pg.add_style_tag(
        content=".leaflet-marker-pane,.leaflet-overlay-pane,.leaflet-tooltip-pane,"
        ".leaflet-popup-pane,.leaflet-control-container{visibility:hidden !important}"
    )
    # Leaflet fades loaded tiles in over ~200 ms after the layer's "load" event: wait until
    # every tile is opaque, or the screenshot may catch the marker's tile still transparent
    pg.wait_for_function(
        """() => {
          const tiles = Array.from(document.querySelectorAll("img.leaflet-tile"));
          return tiles.length > 0 && tiles.every(t => t.classList.contains("leaflet-tile-loaded")
            && getComputedStyle(t).opacity === "1");
        }"""
    )
    png = pg.screenshot(clip=box)
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    hit = (a[:, :, 0] > 235) & (a[:, :, 1] < 40) & (a[:, :, 2] > 235)
    ys, xs = np.nonzero(hit)
    assert 40 <= len(xs) <= 120, f"tile marker not found once on screen ({len(xs)} px)"
    return box["x"] + float(xs.mean()) + 0.5, box["y"] + float(ys.mean()) + 0.5


WEB_PROBE = """([lon, lat, z]) => new Promise(done => {
  const map = DS.maps.map, tiles = DS.tiles.map;
  tiles.once("load", () => {
    const probe = L.marker([lat, lon], {icon: L.divIcon({className: "probe", iconSize: [0, 0]})}).addTo(map);
    const r = probe.getElement().getBoundingClientRect();
    done({x: r.left, y: r.top});
  });
  map.setView([lat, lon], z, {animate: false});
})"""


def web_offset(
    chromium: Any, out: Path, server: str, point: tuple[float, float], name: str
) -> float:
    """Screen distance (px) between the WGS84 point drawn as an overlay on the web app's
    resident map and the tile marker."""
    p = Page(chromium, out, "http://127.0.0.1:", viewport={"width": 1200, "height": 900})
    pg = p.page
    pg.goto(server + "/")
    pg.wait_for_selector("#map img.leaflet-tile", state="attached")  # DS.maps, DS.tiles set
    pg.wait_for_selector("#village-list li")
    overlay = pg.evaluate(WEB_PROBE, [point[0], point[1], ZOOM])
    box = pg.locator("#map").bounding_box()
    p.shot(name)
    tx, ty = tile_marker_on_screen(pg, box)
    p.close()
    return math.hypot(overlay["x"] - tx, overlay["y"] - ty)


def test_tile_crs_pixels_web_app(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    tmp_path: Path,
    huayuan_model: Any,
) -> None:
    """The county centre lands within 2 px of its tile marker on WGS84 and on GCJ-02 tiles;
    GCJ-02 tiles taken for WGS84 put it > 300 m away (so the check can fail)."""
    lon, lat = seat(huayuan_model)
    m_px = metres_per_px(lat, ZOOM)
    with (
        tile_server((lon, lat)) as url,
        app_server(tmp_path / "w", BASEMAP=url, BASEMAP_CRS="wgs84") as s,
    ):
        assert web_offset(browser, shots, s, (lon, lat), "tiles_wgs84_web") <= 2.0
    with tile_server(gcj(lon, lat)) as url:
        with app_server(tmp_path / "g", BASEMAP=url, BASEMAP_CRS="gcj02") as s:
            assert web_offset(browser, shots, s, (lon, lat), "tiles_gcj02_web") <= 2.0
        with app_server(tmp_path / "x", BASEMAP=url, BASEMAP_CRS="wgs84") as s:
            off = web_offset(browser, shots, s, (lon, lat), "tiles_gcj02_unshifted_web")
    assert off * m_px > 300, (off, m_px)


def test_click_on_gcj02_map_queries_wgs84(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    tmp_path: Path,
    huayuan_model: Any,
) -> None:
    """A tap on the county centre's screen position of a GCJ-02 map asks /api/nearest for the
    centre's WGS84 coordinates (within a pixel), not its GCJ-02 ones ~ 470 m away."""
    lon, lat = seat(huayuan_model)
    with (
        tile_server(gcj(lon, lat)) as url,
        app_server(tmp_path, BASEMAP=url, BASEMAP_CRS="gcj02") as s,
    ):
        p = Page(browser, shots, "http://127.0.0.1:", viewport={"width": 1200, "height": 900})
        pg = p.page
        pg.goto(s + "/")
        pg.wait_for_selector("#map img.leaflet-tile", state="attached")  # DS.maps, DS.tiles set
        pg.wait_for_selector("#village-list li")
        at = pg.evaluate(WEB_PROBE, [lon, lat, ZOOM])
        with pg.expect_request(lambda r: "/api/nearest?" in r.url) as req:
            pg.evaluate(
                "([x, y]) => { const c = DS.maps.map.getContainer().getBoundingClientRect();"
                " DS.maps.map.fire('click', {latlng: DS.maps.map.containerPointToLatLng("
                "[x - c.left, y - c.top])}); }",
                [at["x"], at["y"]],
            )
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(req.value.url).query)
        qlon, qlat = float(q["lon"][0]), float(q["lat"][0])
        tol = 2 * metres_per_px(lat, ZOOM) / 111_000  # two pixels, in degrees
        assert abs(qlon - lon) < tol and abs(qlat - lat) < tol, (qlon, qlat, lon, lat)
        glon, glat = gcj(lon, lat)
        assert math.hypot(qlon - glon, qlat - glat) > 100 * tol
        pg.wait_for_selector(".mode[data-mode='car'] .card.best")
        p.close()


def test_js_gcj02_matches_python(browser: Any, shots: Path, tmp_path: Path) -> None:  # noqa: F811
    """``DS.toGcj``/``DS.toWgs`` (common.js) equal geo.coords' forward and inverse transforms
    to 1e-7° on a 0.01° grid over Huayuan and its margin."""
    from doorstep.geo.coords import gcj02_to_wgs84, wgs84_to_gcj02

    lon, lat = np.meshgrid(np.arange(109.1, 109.8, 0.01), np.arange(28.0, 28.8, 0.01))
    lon, lat = lon.ravel(), lat.ravel()
    with app_server(tmp_path) as s:
        p = Page(browser, shots, s)
        p.page.goto(s + "/auth/login")
        p.page.wait_for_load_state("load")  # common.js (DS.toGcj) has run
        js = p.page.evaluate(
            "pts => pts.map(([x, y]) => [DS.toGcj(x, y), DS.toWgs(x, y)])",
            np.column_stack([lon, lat]).tolist(),
        )
        p.close()
    fwd = np.array([j[0] for j in js])
    inv = np.array([j[1] for j in js])
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    assert len(lon) > 4000
    assert np.abs(fwd - np.column_stack([glon, glat])).max() < 1e-7
    assert np.abs(inv - np.column_stack([wlon, wlat])).max() < 1e-7
    assert np.abs(fwd - np.column_stack([lon, lat])).max() > 1e-3  # the shift is not nothing


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
def test_tile_crs_pixels_atlas(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    tmp_path: Path,
    huayuan_model: Any,
    crs: str,
) -> None:
    """The atlas (folium, overlays shifted in Python on GCJ-02 tiles) puts the county
    centre's icon on its tile marker, within 2 px, for WGS84 and GCJ-02 tiles."""
    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.basemaps import BasemapChoice, resolve_basemap
    from doorstep.webmap.layers import collect_layers

    lon, lat = seat(huayuan_model)
    glon, glat = gcj(lon, lat) if crs == "gcj02" else (lon, lat)  # the point in the tile CRS
    layers = collect_layers(huayuan_model, "car", isochrones=False, gaps=False)
    with tile_server((glon, glat)) as url:
        tiles = resolve_basemap(BasemapChoice(url, crs))
        build_atlas(huayuan_model, layers, tmp_path / "site", basemap=tiles)
        p = Page(browser, shots, "http://127.0.0.1:", viewport={"width": 1200, "height": 900})
        pg = p.page
        pg.goto((tmp_path / "site" / "index.html").as_uri())
        pg.wait_for_selector(".ds-sp-county_centre span")
        icon = pg.evaluate(
            """([lat, lon, z]) => new Promise(done => {
              const map = window[Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))];
              let tiles; map.eachLayer(l => { if (l instanceof L.TileLayer) tiles = l; });
              tiles.once("load", () => {
                const r = document.querySelector(".ds-sp-county_centre span").getBoundingClientRect();
                done({x: r.left + r.width / 2, y: r.top + r.height / 2});
              });
              map.setView([lat, lon], z, {animate: false});
            })""",
            [glat, glon, ZOOM],
        )
        box = pg.locator(".leaflet-container").bounding_box()
        p.shot(f"tiles_{crs}_atlas")
        tx, ty = tile_marker_on_screen(pg, box)
        p.close()
    assert math.hypot(icon["x"] - tx, icon["y"] - ty) <= 2.0


@pytest.fixture(scope="module")
def offline_server(tmp_path_factory: Any) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("offline")) as s:
        yield s


def test_offline_resident_map_draws_roads_and_names(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    offline_server: str,
) -> None:
    """Offline: the resident map draws real (solid) and modelled (dashed) roads with a legend
    saying which is which, the 12 township names, service point icons, and village names
    from zoom 12 on (hidden at the county view); no tile, no request elsewhere; axe clean."""
    s = offline_server
    p = Page(browser, shots, s, viewport={"width": 1200, "height": 900})
    pg = p.page
    pg.goto(s + "/")
    pg.wait_for_selector("path.ds-road-real", state="attached")
    pg.wait_for_selector(".ds-town-label")
    pg.wait_for_selector("#village-list li")
    pg.wait_for_selector(".ds-village-label >> nth=227", state="attached")
    assert pg.locator("img.leaflet-tile").count() == 0
    assert pg.locator("path.ds-road-real").count() >= 1
    assert pg.locator("path.ds-road-modelled").count() >= 1
    assert pg.locator("path.ds-road-real[stroke-dasharray]").count() == 0
    assert pg.locator("path.ds-road-modelled[stroke-dasharray='5 4']").count() >= 1
    key = pg.inner_text("#map-key")
    assert (
        "真实道路" in key and "Real road (OSM)" in key and "模拟道路" in key and "Modelled" in key
    )
    towns = pg.locator(".ds-town-label").all_inner_texts()
    assert len(towns) == 12 and "花垣镇" in towns
    assert pg.locator(".ds-sp-county_centre").count() == 1
    assert pg.locator(".ds-sp-village_room").count() == 228
    assert pg.evaluate("DS.maps.map.getZoom()") < 12
    assert pg.locator(".ds-village-label:visible").count() == 0  # county view: no clutter
    p.shot("offline_resident_county")
    lon, lat = seat_of(pg)
    pg.evaluate(f"() => {{ DS.maps.map.setView([{lat}, {lon}], 13, {{animate: false}}); }}")
    pg.wait_for_selector(".ds-village-label >> visible=true")
    visible = pg.locator(".ds-village-label:visible").all_inner_texts()
    assert len(visible) >= 10
    villages = {
        v["name"] for v in pg.evaluate("fetch('/api/villages').then(r => r.json())")["villages"]
    }
    assert set(visible) <= villages
    p.shot("offline_resident_zoom13")
    bad = _violations(pg)
    assert not bad, bad
    p.close()


def seat_of(pg: Any) -> tuple[float, float]:
    """The county centre's WGS84 position as the page's service-point layer gives it."""
    fc = pg.evaluate("fetch('/api/maplayers/service_points').then(r => r.json())")
    f = next(f for f in fc["features"] if f["properties"]["tier"] == "county_centre")
    return f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1]


def test_service_picker_fades_points_without_the_service(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    offline_server: str,
) -> None:
    """我要… correction: only the correction centre keeps a full-strength icon."""
    s = offline_server
    p = Page(browser, shots, s, viewport={"width": 1200, "height": 900})
    pg = p.page
    pg.goto(s + "/")
    pg.wait_for_selector(".ds-sp-correction_centre")
    pg.wait_for_selector("#village-list li")  # the page's script has finished setting up
    from playwright.sync_api import expect

    pg.select_option("#service", "correction")
    on = pg.locator(".ds-sp:not(.ds-off)")
    expect(on).to_have_count(1)  # the icons are restyled after the change event: wait for it
    assert on.first.locator("[data-tier='correction_centre']").count() == 1
    pg.select_option("#service", "")
    expect(pg.locator(".ds-sp.ds-off")).to_have_count(0)
    p.close()


def test_roads_key_folds_on_a_phone(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    offline_server: str,
) -> None:
    """On a 390-px phone the roads key starts folded (one line), and opens on a tap."""
    p = Page(browser, shots, offline_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = p.page
    pg.goto(offline_server + "/")
    pg.wait_for_selector("#map-key")
    assert pg.evaluate("document.querySelector('#map-key details').open") is False
    box = pg.locator("#map-key").bounding_box()
    assert box is not None and box["height"] < 40
    pg.click("#map-key summary")
    assert "Modelled road" in pg.inner_text("#map-key")
    p.shot("offline_resident_phone")
    p.close()


def test_offline_planner_map_draws_roads_and_names(
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
    offline_server: str,
) -> None:
    """The planner's map draws the same base: roads real/modelled, township names, and the
    village names over its travel-time dots from zoom 12."""
    s = offline_server
    p = Page(browser, shots, s, viewport={"width": 1400, "height": 1000})
    pg = p.page
    login(pg, s, PLANNER)
    pg.goto(s + "/plan/")
    pg.wait_for_selector("path.ds-road-modelled", state="attached")
    pg.wait_for_selector(".ds-village-label >> nth=227", state="attached")
    assert pg.locator("path.ds-road-real").count() >= 1
    assert pg.locator(".ds-town-label").count() == 12
    assert pg.locator(".ds-village-dot").count() == 0  # the planner's own dots carry the colour
    pg.evaluate("() => { DS.maps.map.setView([28.58, 109.48], 13, {animate: false}); }")
    pg.wait_for_selector(".ds-village-label >> visible=true")
    assert pg.locator(".ds-village-label:visible").count() >= 5
    p.shot("offline_planner_zoom13")
    p.close()
