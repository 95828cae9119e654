"""``doorstep validate``: values recomputed here from the shared files, not-run checks, output."""

from __future__ import annotations

import csv
import json
import os
import stat

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape

from doorstep.cli import main
from doorstep.geo.routing import route
from doorstep.geo.settings import data_dir
from doorstep.geo.validation import (
    NOT_RUN,
    OK,
    ValidationReport,
    parse_number,
    validate_against_world,
)

from ..conftest import needs_shared

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("约20", 20.0),
        ("10.3万", 103_000.0),
        ("约2.03万", 20_300.0),
        ("0.7万 / 约7000", 7_000.0),
        ("6000余", 6_000.0),
        ("2724 (of which rural 2490)", 2724.0),
        ("G209", 209.0),
        ("无", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.fixture(scope="module")
def report(huayuan_model) -> ValidationReport:
    return validate_against_world(huayuan_model, step_m=100.0)


def _hy():
    return data_dir() / "huayuan"


@needs_shared
def test_every_check_ran(report):
    assert [c.key for c in report.checks] == [
        "distances",
        "road_length",
        "township_population",
        "county_outline",
        "seat_sources",
        "imputation",
    ]
    assert all(c.status == OK for c in report.checks), [c.why for c in report.checks]


@needs_shared
def test_seat_sources_by_hand(report):
    with open(_hy() / "huayuan_township_seats_osm_wgs84.csv", encoding="utf-8") as fh:
        osm = {
            r["name"]: (float(r["lon_wgs84"]), float(r["lat_wgs84"])) for r in csv.DictReader(fh)
        }
    with open(_hy() / "huayuan_township_seats_wgs84.geojson", encoding="utf-8") as fh:
        vonng = {
            f["properties"]["name"]: f["geometry"]["coordinates"]
            for f in json.load(fh)["features"]
            if f["geometry"]
        }
    rows = {r.item: r for r in report.check("seat_sources").rows}
    lon, lat = osm["龙潭镇"]
    want = GEOD.inv(lon, lat, *vonng["龙潭镇"])[2] / 1000
    assert rows["龙潭镇"].model == pytest.approx(want, abs=1e-6)
    assert 0.3 < want < 0.45
    assert rows["长乐乡"].model is None and "OSM only" in rows["长乐乡"].note
    assert report.check("seat_sources").summary["compared"] == 11


@needs_shared
def test_outline_against_tianditu_by_hand(report, huayuan_model):
    with open(_hy() / "xiangxi_county_outlines_tianditu_cgcs2000.geojson", encoding="utf-8") as fh:
        feat = next(f for f in json.load(fh)["features"] if f["properties"]["gb"] == "156433124")
    tdt = shape(feat["geometry"])
    area = abs(GEOD.geometry_area_perimeter(tdt)[0]) / 1e6
    ours = abs(GEOD.geometry_area_perimeter(huayuan_model.county.geometry.iloc[0])[0]) / 1e6
    rows = {r.item: r for r in report.check("county_outline").rows}
    assert rows["area (geodesic)"].reference == pytest.approx(area, rel=1e-9)
    assert rows["area (geodesic)"].model == pytest.approx(ours, rel=1e-9)
    assert 1100 < area < 1115  # README: ~1,107 km²
    # the sampled max distance is the Hausdorff distance between the two outlines, to within a step
    a, b = gpd.GeoSeries([huayuan_model.county.geometry.iloc[0], tdt], crs="EPSG:4326").to_crs(
        huayuan_model.crs
    )
    h = shapely.hausdorff_distance(a.boundary, b.boundary, densify=0.01)
    assert rows["max boundary distance, both directions"].model == pytest.approx(h, abs=100)
    mean = rows["mean boundary distance, both directions"].model
    assert 0 < mean < rows["max boundary distance, both directions"].model


@needs_shared
def test_published_distance_by_hand(report, huayuan_model):
    m = huayuan_model
    row = next(r for r in report.check("distances").rows if r.item.startswith("民乐镇 →"))
    assert row.reference == 37.0  # 镇人民政府距县城37千米
    sp = m.service_points
    origin = sp[sp["tier"] == "county_centre"].iloc[[0]]
    t = m.townships.set_index("name").loc["民乐镇"]
    dest = gpd.GeoDataFrame(geometry=gpd.points_from_xy([t["seat_lon"]], [t["seat_lat"]]), crs=4326)
    r = route(m, origin, dest, mode="car")
    assert r is not None
    assert row.model == pytest.approx(r.km, abs=0.01)
    assert row.error_pct == pytest.approx(100 * (r.km - 37) / 37)
    items = [r.item for r in report.check("distances").rows]
    # every published 距县城 row is compared, conflicts kept (龙潭镇 约20 and 15)
    assert len(items) == 12 and sum(i.startswith("龙潭镇 →") for i in items) == 2
    assert any("十八洞村 (geocoded)" in i for i in items)
    assert report.check("distances").summary["not_found"] == 0


@needs_shared
def test_road_length_and_population(report, huayuan_model):
    km = sum(d["length_m"] for *_, d in huayuan_model.graph.edges(data=True)) / 1000
    rows = report.check("road_length").rows
    refs = sorted(r.reference for r in rows if r.item.startswith("all roads"))
    assert refs == [2534.0, 2724.0]
    assert all(r.model == pytest.approx(km) for r in rows if r.item.startswith("all roads"))
    assert any(r.reference == 2490.0 for r in rows)
    pop = {r.item: r for r in report.check("township_population").rows}
    mle = pop["民乐镇 (end-2019)"]
    assert mle.reference == 28_588
    assert mle.model == float(huayuan_model.townships.set_index("name").loc["民乐镇", "population"])
    assert "registered" in mle.note and "resident" in mle.note
    assert pop["花垣镇 (2015-11-30)"].reference == 103_000
    assert not any("old 花垣镇" in k for k in pop)  # old boundaries are not compared


@needs_shared
def test_imputation_check(report, huayuan_model):
    c = report.check("imputation")
    rows = {r.item: r for r in c.rows}
    chosen = huayuan_model.imputation.chosen
    assert rows[chosen].model < rows["seat"].model
    assert rows[chosen].model < rows["farthest_point"].model
    assert rows[chosen].model == pytest.approx(huayuan_model.imputation.row(chosen).mean_km)
    assert c.summary["radius_m"] == pytest.approx(huayuan_model.imputation.radius_m, abs=0.1)


@needs_shared
def test_missing_or_malformed_inputs_are_not_run(huayuan_model, tmp_path):
    hy = tmp_path / "huayuan"
    hy.mkdir()
    (hy / "huayuan_published_facts.csv").write_text("unit,fact\n花垣县,x\n", encoding="utf-8")
    (hy / "xiangxi_county_outlines_tianditu_cgcs2000.geojson").write_text(
        "{not json", encoding="utf-8"
    )
    rep = validate_against_world(huayuan_model, tmp_path)
    st = {c.key: c for c in rep.checks}
    for key in ("distances", "road_length", "township_population"):
        assert st[key].status == NOT_RUN and "missing column" in st[key].why
    assert st["county_outline"].status == NOT_RUN and "cannot read" in st["county_outline"].why
    assert st["seat_sources"].status == NOT_RUN and "file not found" in st["seat_sources"].why
    assert st["imputation"].status == OK
    nothing = validate_against_world(huayuan_model, tmp_path / "nowhere")
    assert [c.status for c in nothing.checks][:5] == [NOT_RUN] * 5
    assert "does not exist" in nothing.checks[0].why
    table = rep.table()
    assert (table.loc[table["check"] == "distances", "note"].str.contains("missing column")).all()


@needs_shared
def test_cli_writes_json_and_csv(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["-q", "validate", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["checks_ok"] == 6 and doc["checks_not_run"] == 0
    assert json.loads((out / "validation.json").read_text(encoding="utf-8")) == doc
    with open(out / "validation.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["check"] for r in rows} == {c["key"] for c in doc["checks"]}
    for name in ("validation.json", "validation.csv"):
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o644
    assert sorted(p.name for p in out.iterdir()) == ["validation.csv", "validation.json"]
    assert main(["-q", "validate"]) == 0
    text = capsys.readouterr().out
    assert "farthest_point" in text and "median km" in text and "[ok]" in text
    assert np.isfinite(doc["checks"][3]["summary"]["mean_m"])


@needs_shared
def test_markdown_has_every_check(report):
    from doorstep.geo.validation import format_markdown

    md = format_markdown(report)
    for c in report.checks:
        assert f"### {c.title} — ok" in md
    assert md.count("| item | model |") == len(report.checks)
    assert "| farthest_point |" in md and "| 长乐乡 | — |" in md


@needs_shared
def test_other_county_runs_only_what_applies(huayuan_model):
    """A Xiangxi county that is not Huayuan: its Tianditu outline is checked, Huayuan facts are not."""
    from doorstep.geo.hunan import hunan_county_source
    from doorstep.geo.model import build_county_model

    try:
        m = build_county_model(source=hunan_county_source("433125"))  # 保靖县
    except Exception as exc:  # the province files are optional in ../shared
        pytest.skip(f"no Hunan files: {exc}")
    rep = validate_against_world(m)
    st = {c.key: c for c in rep.checks}
    for key in ("distances", "road_length", "township_population", "seat_sources"):
        assert st[key].status == NOT_RUN and "Huayuan (433124) only" in st[key].why
    assert st["county_outline"].status == OK
    assert st["imputation"].status in (OK, NOT_RUN)
    area = next(r for r in st["county_outline"].rows if r.item == "area (geodesic)")
    assert abs(area.error_pct) < 2  # two independent outlines of 保靖县 agree on its area
