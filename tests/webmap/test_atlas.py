"""Static atlas: offline assets, legend real/modelled labels, basemaps and the GCJ-02 shift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point

from doorstep.geo._errors import InputError
from tests.conftest import needs_shared


def test_layer_status_from_quality() -> None:
    from doorstep.webmap.atlas import layer_status

    q = {
        "layers": {
            "county": {"modelled": False},
            "townships": {"modelled": True},
            "villages": {"modelled": False},
            "population": {"modelled": True},
            "service_points": {"modelled": False},
            "roads": {"modelled": False},
        }
    }
    s = layer_status(q)
    assert s["county"] is False and s["townships"] is True
    assert s["traveltime"] is False  # roads and service points both real
    assert s["underserved"] is True  # population is modelled
    q["layers"]["roads"]["modelled"] = True
    assert layer_status(q)["routes"] is True
    assert layer_status({})["county"] is True  # unknown status counts as modelled


def test_basemaps_and_gcj02_shift() -> None:
    from doorstep.geo.coords import wgs84_to_gcj02
    from doorstep.webmap.basemaps import get_basemap, shift_for

    assert get_basemap("none").tiles_url() is None
    with pytest.raises(InputError, match="key"):
        get_basemap("tianditu").tiles_url(None)
    assert "tk=abc" in str(get_basemap("tianditu").tiles_url("abc"))
    with pytest.raises(InputError, match="unknown basemap"):
        get_basemap("google")
    pts = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(109.48, 28.58)], crs="EPSG:4326")
    assert shift_for(get_basemap("osm"), pts) is pts
    moved = shift_for(get_basemap("amap"), pts)
    lo, la = wgs84_to_gcj02(109.48, 28.58)
    assert moved.geometry.iloc[0].x == pytest.approx(float(lo), abs=1e-9)
    assert moved.geometry.iloc[0].y == pytest.approx(float(la), abs=1e-9)
    # the shift is a few hundred metres in Hunan: large enough to matter on a street map
    dx_m = (moved.geometry.iloc[0].x - 109.48) * 97_800
    dy_m = (moved.geometry.iloc[0].y - 28.58) * 111_000
    assert 100 < (dx_m**2 + dy_m**2) ** 0.5 < 1000
    assert pts.geometry.iloc[0].x == 109.48  # input untouched


@pytest.fixture(scope="module")
def atlas_dir(tmp_path_factory: Any, huayuan_model: Any) -> Path:
    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.layers import collect_layers

    out = tmp_path_factory.mktemp("site")
    routes = gpd.GeoDataFrame(
        {"lawyer": ["L1"], "date": ["2025-03-03"], "minutes": [95.0], "stops": [3]},
        geometry=[huayuan_model.villages.geometry.iloc[:3].union_all().convex_hull.exterior],
        crs="EPSG:4326",
    )
    proposed = gpd.GeoDataFrame(
        {"name": ["测试点 test"], "note": ["k=1"]},
        geometry=[huayuan_model.villages.geometry.iloc[5]],
        crs="EPSG:4326",
    )
    layers = collect_layers(huayuan_model, "car", isochrones=True, proposed=proposed, routes=routes)
    build_atlas(huayuan_model, layers, out)
    return out


@needs_shared
def test_atlas_is_self_contained(atlas_dir: Path) -> None:
    page = (atlas_dir / "index.html").read_text(encoding="utf-8")
    assert (atlas_dir / "vendor" / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert (atlas_dir / "vendor" / "leaflet" / "images" / "layers.png").exists()
    srcs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert srcs and all(not s.startswith(("http:", "https:", "//")) for s in srcs), srcs
    for s in srcs:
        assert (atlas_dir / s).exists(), s
    assert "https://" not in page and "http://" not in page


@needs_shared
def test_atlas_legend_and_layers(atlas_dir: Path, huayuan_model: Any) -> None:
    page = (atlas_dir / "index.html").read_text(encoding="utf-8")
    assert (
        'data-layer="county"><td>县界 County outline</td><td><span class="ds-tag ds-real"' in page
    )
    assert 'data-layer="roads"' not in page
    assert re.search(r'data-layer="townships">.*?data-status="modelled"', page)
    assert re.search(r'data-layer="routes">.*?data-status="modelled"', page)  # roads are modelled

    def js(s: str) -> str:  # folium writes names as JSON-escaped strings
        return json.dumps(s)[1:-1]

    for name in (
        "乡镇 Townships",
        "村（出行时间）Villages by travel time",
        "服务薄弱村 Underserved",
        "建议选址 Proposed sites",
        "律师巡回路线 Lawyer routes",
        "等时圈 Isochrone bands",
    ):
        assert js(name) in page or name in page, name
    assert "L.control.layers" in page
    for sp_name in huayuan_model.service_points.query("tier == 'township_station'")["name"]:
        assert js(sp_name) in page or sp_name in page
    assert "12348" in page


@needs_shared
def test_doorstep_map_cli(tmp_path: Path) -> None:
    from doorstep.cli import main

    assert (
        main(["-q", "map", "--out", str(tmp_path / "s"), "--no-isochrones", "--basemap", "amap"])
        == 0
    )
    page = (tmp_path / "s" / "index.html").read_text(encoding="utf-8")
    assert "autonavi" in page
    assert (
        main(["-q", "map", "--out", str(tmp_path / "p"), "--no-isochrones", "--siting-k", "2"]) == 0
    )
    assert json.dumps("建议选址 Proposed sites")[1:-1] in (tmp_path / "p" / "index.html").read_text(
        encoding="utf-8"
    )
    assert main(["-q", "map", "--out", str(tmp_path / "t"), "--basemap", "tianditu"]) == 2
    assert not (tmp_path / "t" / "index.html").exists()


@needs_shared
def test_atlas_writes_the_shared_map_css_once(atlas_dir: Path) -> None:
    """The standalone page carries ``static/map.css`` (the web app's marker rules, the icon
    fix included) written into it, once, after Leaflet's style sheet; its key shows the
    village room in TIER_STYLE's colour."""
    from doorstep.webmap.atlas_base import MAP_CSS
    from doorstep.webmap.layers import TIER_STYLE

    page = (atlas_dir / "index.html").read_text(encoding="utf-8")
    css = MAP_CSS.read_text(encoding="utf-8")
    assert page.count(css) == 1
    assert page.count(".ds-sp span {") == 1
    assert page.index("leaflet/leaflet.css") < page.index(css)
    assert "map.css" not in page.replace(css, "")  # written in, not linked
    room = TIER_STYLE["village_room"][0]
    assert re.search(rf'class="ds-sw ds-round ds-glyph" style="background:{room}">室', page)


@needs_shared
def test_atlas_isochrone_bands_use_the_travel_time_classes(atlas_dir: Path) -> None:
    """Each band (15/30/60 min) is drawn in its class's colour, as the villages' dots (the 30-min
    band used to take the 30–45 colour)."""
    from doorstep.webmap.layers import minute_colour

    page = (atlas_dir / "index.html").read_text(encoding="utf-8")
    stylers = re.findall(r"_styler\(feature\) \{(.*?)\n\s*\}\s*\n", page, re.S)
    bands = [s for s in stylers if '"fillOpacity": 0.18' in s]
    assert len(bands) == 1, "one isochrone layer"
    colours = set(re.findall(r'"color": "(#[0-9a-f]{6})"', bands[0]))
    assert colours == {minute_colour(15.0), minute_colour(30.0), minute_colour(60.0)}
    assert "#91cf60" in colours and "#fee08b" not in colours
