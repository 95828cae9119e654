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
