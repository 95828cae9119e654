"""The real layers: OSM seats (both sources compared), published township populations, the OSM
main-road backbone. Expected values are computed here by hand from the shared files."""

from __future__ import annotations

import csv
import math

import pytest

from doorstep.geo.settings import data_dir
from tests.conftest import needs_shared

pytestmark = needs_shared


def _rows(name: str) -> list[dict[str, str]]:
    with open(data_dir() / "huayuan" / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine on a sphere of radius 6371.0088 km, written out."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_all_twelve_seats_from_osm(huayuan_model):
    seats = huayuan_model.quality()["seats"]
    assert len(seats) == 12
    assert all(s["source"].startswith("OpenStreetMap node") for s in seats)
    assert all(s["quality"] == "geocoded" for s in seats)
    changle = next(s for s in seats if s["code"] == "433124200")
    assert "3906572921" in changle["source"]
    assert (changle["lon"], changle["lat"]) == (109.537063, 28.547203)
    # 长乐乡 has no Vonng seat: nothing to compare, and no warning says its seat is modelled
    assert changle["distance_between_sources_km"] is None
    assert not any("has no seat point" in w for w in huayuan_model.warnings)


def test_seat_distance_between_sources_by_hand(huayuan_model):
    osm = next(r for r in _rows("huayuan_township_seats_osm_wgs84.csv") if r["name"] == "龙潭镇")
    vonng = next(
        r
        for r in _rows("huayuan_vonng_adcode_2016_gcj02.csv")
        if r["code"] == "433124102000" and r["level"] == "town"
    )
    # the Vonng file's own WGS84 columns, converted outside Doorstep
    expect = _km(
        float(osm["lon_wgs84"]),
        float(osm["lat_wgs84"]),
        float(vonng["lon_wgs84"]),
        float(vonng["lat_wgs84"]),
    )
    assert expect == pytest.approx(0.370, abs=0.002)
    got = next(s for s in huayuan_model.quality()["seats"] if s["name"] == "龙潭镇")
    assert got["distance_between_sources_km"] == pytest.approx(expect, abs=0.005)
    # only the sources more than warn_km (0.5) apart are warned: 边城镇 0.50, 猫儿乡 0.60
    warned = [w for w in huayuan_model.warnings if "seat sources disagree" in w]
    assert sorted(w.split()[1] for w in warned) == ["猫儿乡", "边城镇"]


def test_parse_published_counts_and_years():
    from doorstep.geo.population import parse_count, parse_year

    assert parse_count("10.3万") == 103_000
    assert parse_count("28588") == 28_588
    assert parse_count("约2.03万") is None and parse_count("6000余") is None
    assert parse_year("2015-11-30 (merger approval)") == 2015
    assert parse_year("end-2019") == 2019
    assert parse_year("pre-2015 (undated, same page)") is None
    assert parse_year("c.2010") is None


def test_township_population_from_published_registered_shares(huayuan_model):
    t = huayuan_model.townships.set_index("name")
    published = set(t.index[t["population_source"] == "published"])
    assert published == {"花垣镇", "民乐镇", "双龙镇", "石栏镇", "边城镇", "麻栗场镇"}
    assert set(t["population_source"]) == {"published", "modelled"}
    # 民乐镇: 28,588 registered at end-2019; the county's registered total in 2019 lies halfway
    # between 31.27万 (2016) and 31.02万 (end-2022): 311,450. Share x 2020 census residents:
    assert abs(t.loc["民乐镇", "population"] - 28_588 / 311_450 * 249_238) <= 1
    # 花垣镇: 10.3万 of 30.9万 in the 2015 merger approval
    assert abs(t.loc["花垣镇", "population"] - 103_000 / 309_000 * 249_238) <= 1
    assert t["population"].sum() == 249_238
    assert "population_hukou 28,588 (2019)" in t.loc["民乐镇", "population_basis"]


def test_real_main_road_km_inside_the_outline_by_hand(huayuan_model):
    """Σ length_km × (share of the line inside the outline), outline and lines in UTM 49N."""
    import json

    import shapely
    from pyproj import Transformer
    from shapely.ops import transform

    base = data_dir() / "huayuan"
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True).transform
    with open(base / "huayuan_county_boundary_wgs84.geojson", encoding="utf-8") as fh:
        outline = shapely.union_all(
            [
                transform(utm, shapely.geometry.shape(f["geometry"]))
                for f in json.load(fh)["features"]
            ]
        )
    with open(base / "huayuan_main_roads_osm_scgraph_wgs84.geojson", encoding="utf-8") as fh:
        feats = json.load(fh)["features"]
    assert len(feats) == 248
    expect = 0.0
    for f in feats:
        line = transform(utm, shapely.geometry.shape(f["geometry"]))
        expect += f["properties"]["length_km"] * line.intersection(outline).length / line.length
    assert expect == pytest.approx(107.8, abs=0.3)
    roads = huayuan_model.summary()["roads"]
    assert roads["inside_county_km"]["real"] == pytest.approx(expect, abs=0.3)
    assert roads["real_km"] > roads["inside_county_km"]["real"]  # kept within the 5 km margin too
    assert roads["km"] == pytest.approx(roads["real_km"] + roads["modelled_km"], abs=0.11)


def test_every_edge_has_status_and_real_roads_are_main_roads(huayuan_model):
    import networkx as nx
    import shapely

    G = huayuan_model.graph
    assert nx.is_connected(G)
    status = {d["status"] for *_, d in G.edges(data=True)}
    assert status == {"real", "modelled"}
    real = [d for *_, d in G.edges(data=True) if d["status"] == "real"]
    assert {d["road_class"] for d in real} == {"main_road"}
    # main_road speed from speeds.toml: car 45 km/h on the source's length
    d = real[0]
    assert d["time_car"] == pytest.approx(d["length_m"] / 1000 / 45 * 60)
    # no modelled settlement link runs along a real corridor (>= 70 % within 1 km)
    corridor = shapely.union_all([d["geometry"] for d in real]).buffer(1000)
    for *_, e in G.edges(data=True):
        if e["status"] == "modelled" and "connecting" not in e["name"]:
            g = e["geometry"]
            if "access road" not in e["name"]:
                assert g.intersection(corridor).length / g.length < 0.7, e["name"]


def test_summary_json_reports_seats_roads_and_population_sources(capsys):
    import json

    from doorstep.cli import main

    assert main(["-q", "summary", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["seats"]) == 12
    assert all(s["source"].startswith("OpenStreetMap") for s in doc["seats"])
    lt = next(s for s in doc["seats"] if s["name"] == "龙潭镇")
    assert lt["distance_between_sources_km"] == pytest.approx(0.370, abs=0.005)
    roads = doc["roads"]
    assert roads["real_km"] > 100 and roads["modelled_km"] > 1000
    assert roads["edges_by_status"]["real"] > 0
    pop = {t["name"]: t["population_source"] for t in doc["township_population"]}
    assert pop["民乐镇"] == "published" and pop["长乐乡"] == "modelled"
    assert sum(t["population"] for t in doc["township_population"]) == 249_238


def test_published_shares_need_a_county_total(tmp_path):
    import pandas as pd

    from doorstep.geo._errors import DataFileError
    from doorstep.geo.params import PublishedPopulationParams
    from doorstep.geo.population import published_shares

    p = tmp_path / "facts.csv"
    p.write_text(
        "unit,fact,value,year_or_era,url,quote\n甲镇,population_hukou,1000,end-2019,u,q\n",
        encoding="utf-8",
    )
    tw = pd.DataFrame({"code": ["1"], "name": ["甲镇"]})
    params = PublishedPopulationParams(county_facts=("population_total_2016",))
    with pytest.raises(DataFileError, match="no county registered total") as exc:
        published_shares(p, tw, "某县", params)
    assert "county_facts" in str(exc.value) or "fact" in str(exc.value)
    # with a county total the share is the plain ratio
    p.write_text(
        p.read_text(encoding="utf-8") + "某县,population_total_2016,1万,2016,u,q\n",
        encoding="utf-8",
    )
    (s,) = published_shares(p, tw, "某县", params)
    assert (s.registered, s.year, s.county_registered, s.share) == (1000, 2019, 10_000.0, 0.1)


def test_backbone_params_are_validated():
    from doorstep.geo._errors import DataFileError
    from doorstep.geo.params import BackboneParams

    with pytest.raises(DataFileError, match="corridor_share"):
        BackboneParams(corridor_share=1.5)
    with pytest.raises(DataFileError, match="join_km"):
        BackboneParams(join_km=-1)
