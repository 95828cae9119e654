"""The one basemap setting (flag > app config > environment > default), its validation, the
map-layer endpoint (ETag, gzip, cache) and what the offline map's layers hold."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from doorstep.geo._errors import InputError
from doorstep.webmap.basemaps import BasemapChoice, resolve_basemap
from tests.conftest import needs_data
from tests.webmap.conftest import make_app

URL = "https://tiles.example.org/{z}/{x}/{y}.png"


def test_default_is_offline_and_none_is_its_alias() -> None:
    """Nothing set: offline (no tiles); ``none`` and ``gaode`` are accepted aliases."""
    d = resolve_basemap()
    assert d.name == "offline" and d.offline and d.url is None and d.origin() is None
    assert resolve_basemap(BasemapChoice("none")).name == "offline"
    g = resolve_basemap(BasemapChoice("gaode"))
    assert g.name == "amap" and g.gcj02 and "autonavi.com" in str(g.url)


def test_precedence_flag_over_config_over_env() -> None:
    """Each source wins over the ones after it; the key is looked up on its own."""
    env = {"DOORSTEP_BASEMAP": "osm", "DOORSTEP_TIANDITU_KEY": "envkey1"}
    cfg = {"BASEMAP": "amap"}
    assert resolve_basemap(env=env).name == "osm"
    assert resolve_basemap(env=env).setting == "DOORSTEP_BASEMAP"
    assert resolve_basemap(config=cfg, env=env).name == "amap"
    got = resolve_basemap(BasemapChoice("tianditu"), cfg, env)
    assert got.name == "tianditu" and got.setting == "--basemap"
    assert "tk=envkey1" in str(got.url)  # key from the environment, basemap from the flag
    got = resolve_basemap(BasemapChoice("tianditu", tianditu_key="flagkey"), cfg, env)
    assert "tk=flagkey" in str(got.url)
    # a number-looking key from Flask's from_prefixed_env is text again
    assert "tk=12345678" in str(
        resolve_basemap(config={"BASEMAP": "tianditu", "TIANDITU_KEY": 12345678}).url
    )


def test_url_template_with_its_crs() -> None:
    """A URL template keeps its URL, takes its stated CRS and names its host for the CSP."""
    w = resolve_basemap(BasemapChoice(URL, "WGS84"))
    assert (w.name, w.url, w.crs, w.origin()) == ("url", URL, "wgs84", "https://tiles.example.org")
    g = resolve_basemap(env={"DOORSTEP_BASEMAP": URL, "DOORSTEP_BASEMAP_CRS": "gcj-02"})
    assert g.gcj02 and g.setting == "DOORSTEP_BASEMAP"
    s = resolve_basemap(BasemapChoice("https://{s}.tile.example.org/{z}/{x}/{y}.png", "wgs84"))
    assert s.origin() == "https://*.tile.example.org"
    assert resolve_basemap(BasemapChoice("amap")).origin() == "https://*.is.autonavi.com"
    t = resolve_basemap(BasemapChoice("tianditu", tianditu_key="k"))
    assert t.origin() == "https://*.tianditu.gov.cn"


@pytest.mark.parametrize(
    ("flags", "config", "env", "words"),
    [
        (BasemapChoice("google"), None, None, r"unknown basemap 'google'.*URL template"),
        (None, None, {"DOORSTEP_BASEMAP": "bing"}, "unknown basemap 'bing'"),
        (BasemapChoice("tianditu"), None, None, "needs a user key.*--tianditu-key"),
        (
            None,
            None,
            {"DOORSTEP_BASEMAP": "tianditu"},
            "DOORSTEP_BASEMAP=tianditu needs a user key",
        ),
        (BasemapChoice("tianditu", tianditu_key="a b"), None, None, "--tianditu-key.*letters"),
        (BasemapChoice("https://h/{z}/{x}.png", "wgs84"), None, None, r"--basemap=.*lacks \{y\}"),
        (BasemapChoice(URL), None, None, "--basemap is a URL template.*--basemap-crs"),
        (None, {"BASEMAP": URL}, None, "BASEMAP is a URL template.*BASEMAP_CRS"),
        (BasemapChoice(URL, "bd09"), None, None, "--basemap-crs='bd09'.*wgs84.*gcj02"),
        (BasemapChoice("osm", "gcj02"), None, None, "--basemap-crs=gcj02 contradicts"),
        (BasemapChoice(crs="wgs84"), None, None, "--basemap-crs is set but --basemap is not"),
        (BasemapChoice("ftp://h/{z}/{x}/{y}", "wgs84"), None, None, "http"),
        (BasemapChoice("https://h/{z}/{x}/{y}?k={key}", "wgs84"), None, None, "unknown field"),
    ],
)
def test_bad_settings_name_the_setting_and_the_fix(
    flags: BasemapChoice | None, config: Any, env: Any, words: str
) -> None:
    with pytest.raises(InputError, match=words):
        resolve_basemap(flags, config, env)


def test_display_shift_moves_overlays_not_the_data() -> None:
    """On GCJ-02 tiles a copy is shifted ~ 400–600 m in Huayuan; WGS84 sources return the
    same frame; the input is untouched."""
    import geopandas as gpd
    from shapely.geometry import Point

    from doorstep.geo.coords import haversine_m

    pts = gpd.GeoDataFrame(geometry=[Point(109.48, 28.58)], crs="EPSG:4326")
    assert resolve_basemap(BasemapChoice(URL, "wgs84")).shift(pts) is pts
    moved = resolve_basemap(BasemapChoice("amap")).shift(pts)
    d = float(haversine_m(109.48, 28.58, moved.geometry.x.iloc[0], moved.geometry.y.iloc[0]))
    assert 300 < d < 700
    assert pts.geometry.x.iloc[0] == 109.48


@needs_data
def test_app_config_env_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``create_app``: config key over environment, flags over config; the pages carry the
    setting as JSON and the CSP lets that tile host in (and no other)."""
    monkeypatch.setenv("DOORSTEP_BASEMAP", "osm")
    for d in "abcd":
        (tmp_path / d).mkdir()
    app = make_app(tmp_path / "a", BASEMAP=URL, BASEMAP_CRS="gcj02")
    page = app.test_client().get("/")
    cfg = json.loads(page.get_data(as_text=True).split('id="ds-config">')[1].split("</script>")[0])
    assert cfg["basemap"] == {
        "name": "url",
        "label": "tiles.example.org",
        "url": URL,
        "crs": "gcj02",
        "attribution": "tiles: tiles.example.org",
        "subdomains": "abc",
    }
    assert (
        "img-src 'self' data: https://tiles.example.org" in page.headers["Content-Security-Policy"]
    )
    env_app = make_app(tmp_path / "b")
    assert env_app.extensions["doorstep_basemap"].name == "osm"
    from doorstep.webmap.app import create_app

    flagged = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "BASEMAP": URL, "BASEMAP_CRS": "wgs84"},
        instance_path=str(tmp_path / "c"),
        basemap=BasemapChoice("offline"),
    )
    assert flagged.extensions["doorstep_basemap"].offline
    csp = flagged.test_client().get("/").headers["Content-Security-Policy"]
    assert "tiles.example.org" not in csp
    with pytest.raises(InputError, match="BASEMAP_CRS"):
        make_app(tmp_path / "d", BASEMAP=URL)


@needs_data
def test_instance_config_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production path (no test config): ``instance/config.py`` wins over ``DOORSTEP_BASEMAP``."""
    from doorstep.webmap.app import create_app

    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text('BASEMAP = "amap"\n', encoding="utf-8")
    monkeypatch.setenv("DOORSTEP_BASEMAP", "osm")
    monkeypatch.setenv("DOORSTEP_SECRET_KEY", "s")
    assert create_app(instance_path=str(inst)).extensions["doorstep_basemap"].name == "amap"
    (inst / "config.py").write_text("", encoding="utf-8")
    assert create_app(instance_path=str(inst)).extensions["doorstep_basemap"].name == "osm"


@needs_data
def test_map_layers_are_cached_gzipped_and_304(tmp_path: Path) -> None:
    """``/api/maplayers/<name>``: GeoJSON with an ETag, public caching, gzip on request, 304
    on a matching ``If-None-Match``, 404 naming the layers otherwise."""
    c = make_app(tmp_path).test_client()
    plain = c.get("/api/maplayers/roads")
    assert plain.status_code == 200 and plain.mimetype == "application/geo+json"
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    etag = plain.headers["ETag"]
    zipped = c.get("/api/maplayers/roads", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["ETag"] == etag
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 3
    again = c.get("/api/maplayers/roads", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    bad = c.get("/api/maplayers/rivers")
    assert bad.status_code == 404 and "roads" in bad.get_json()["error"]["message"]


@needs_data
def test_display_layers_hold_the_model(huayuan_model: Any) -> None:
    """Roads: one feature per class and status whose km add up to the model's real and modelled
    km; coordinates rounded to 1e-5; township names inside their township."""
    from doorstep.webmap.layers import geojson_text, road_lines, township_labels

    roads = road_lines(huayuan_model)
    summary = huayuan_model.road_summary()
    km = roads.groupby("status")["km"].sum()
    assert km["real"] == pytest.approx(summary["real_km"], abs=0.5)
    assert km["modelled"] == pytest.approx(summary["modelled_km"], abs=0.5)
    assert set(roads["dash"].fillna("solid")) == {"solid", "5 4"}
    assert (roads.loc[roads["status"] == "real", "dash"].isna()).all()
    assert roads["edges"].sum() == huayuan_model.graph.number_of_edges()
    doc = json.loads(geojson_text(roads))
    import shapely
    from shapely.geometry import shape

    coords = shapely.get_coordinates([shape(f["geometry"]) for f in doc["features"]])
    assert len(coords) > 1000 and all(round(x, 5) == x and round(y, 5) == y for x, y in coords)
    t = township_labels(huayuan_model)
    towns = huayuan_model.townships.set_index("code").geometry
    assert len(t) == 12 and all(
        towns[c].contains(p) for c, p in zip(t["code"], t.geometry, strict=True)
    )


def test_cli_flags_on_map_run_and_serve() -> None:
    """``doorstep map``, ``run`` and ``serve`` take the same three flags."""
    from doorstep.cli import build_parser

    parser = build_parser()
    for cmd in (["map"], ["run"], ["serve"]):
        args = parser.parse_args(
            [*cmd, "--basemap", URL, "--basemap-crs", "gcj02", "--tianditu-key", "k1"]
        )
        assert (args.basemap, args.basemap_crs, args.tianditu_key) == (URL, "gcj02", "k1")
        assert parser.parse_args(cmd).basemap is None  # not given: config/env/offline decide


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--basemap", URL], "--basemap-crs"),
        (["--basemap", "https://h/{z}/{x}.png", "--basemap-crs", "wgs84"], "lacks"),
        (["--basemap", "google"], "unknown basemap"),
    ],
)
def test_doorstep_map_refuses_a_bad_basemap_before_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """Exit 2 with the message, no traceback, no output folder."""
    from doorstep.cli import main

    assert main(["map", "--out", str(tmp_path / "s"), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_env_basemap_reaches_the_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``JobOptions``: its own values (the flags) beat ``DOORSTEP_BASEMAP``; a bad env value
    is refused when the options are made."""
    from doorstep.job import JobOptions

    monkeypatch.setenv("DOORSTEP_BASEMAP", "osm")
    assert JobOptions(out=tmp_path / "o").tiles.name == "osm"
    assert JobOptions(out=tmp_path / "o", basemap="offline").tiles.offline
    monkeypatch.setenv("DOORSTEP_BASEMAP", URL)
    with pytest.raises(InputError, match="DOORSTEP_BASEMAP_CRS"):
        JobOptions(out=tmp_path / "o")
