"""Imputation whose error is known: methods, leave-one-out, the radius, user files with gaps."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from doorstep.geo._errors import DataFileError
from doorstep.geo.imputation import (
    BASELINE,
    ImputationParams,
    choose_method,
    impute_xy,
    leave_one_out,
)
from doorstep.geo.model import ModelInputs, build_county_model
from doorstep.geo.settings import data_dir

from ..conftest import needs_shared

P = ImputationParams()


def test_code_neighbours_weighted_by_inverse_code_distance():
    known = np.array([[0.0, 0.0], [1000.0, 0.0], [5000.0, 800.0]])
    ords = np.array([201, 203, 210])
    # 202: neighbours 201 and 203 at code distance 1 each, 210 at 8 -> weights 1, 1, 1/8
    x, y = impute_xy("code_neighbours", 202, known, ords, (9e3, 9e3), 3)
    assert x == pytest.approx((0 + 1000 + 5000 / 8) / 2.125)
    assert y == pytest.approx((800 / 8) / 2.125)
    assert impute_xy("code_neighbours", 202, known, ords, (9e3, 9e3), 2) == (500.0, 0.0)
    assert impute_xy("centroid", 202, known, ords, (9e3, 9e3), 3) == (2000.0, 800 / 3)
    assert impute_xy("seat", 202, known, ords, (9e3, 9e3), 3) == (9e3, 9e3)
    # the seat joins as ordinal 000: community 001 leans on it (code distance 1 vs 200 to 201)
    x, y = impute_xy("code_neighbours", 1, known, ords, (9e3, 9e3), 2)
    assert (x, y) == pytest.approx(((9e3 + 0 / 200) / (1 + 1 / 200), 9e3 / (1 + 1 / 200)))
    # nothing located in the township: the seat, whatever the method
    empty = np.empty((0, 2))
    assert impute_xy("centroid", 5, empty, np.array([], int), (3.0, 4.0), 3) == (3.0, 4.0)


def test_leave_one_out_by_hand():
    truth = pd.DataFrame(
        {
            "x": [0.0, 3000.0, 0.0],
            "y": [0.0, 0.0, 4000.0],
            "town_code": ["t"] * 3,
            "code": ["433124102201", "433124102202", "433124102203"],
        }
    )
    rep = leave_one_out(truth, {"t": (0.0, 0.0)}, ImputationParams(min_loo=1))
    # seat at (0,0): errors 0, 3 km, 4 km
    assert rep.errors_m["seat"] == (0.0, 3000.0, 4000.0)
    assert rep.row("seat").mean_km == pytest.approx(7 / 3)
    # centroid of the other two: (1500,2000)->0: 2500; (0,2000)->(3000,0): sqrt(9e6+4e6); (1500,0)->(0,4000)
    assert rep.errors_m["centroid"] == pytest.approx(
        (2500.0, float(np.hypot(3000, 2000)), float(np.hypot(1500, 4000)))
    )
    assert rep.chosen in rep.errors_m and BASELINE not in rep.errors_m
    best = min(rep.table, key=lambda r: r.mean_km)
    assert rep.chosen == best.method
    assert rep.radius_m == pytest.approx(np.quantile(rep.errors_m[rep.chosen], 0.9))


def test_too_few_cases_use_default_and_no_radius():
    rep = choose_method({"seat": [100.0], "centroid": [50.0]}, ImputationParams(min_loo=5))
    assert rep.chosen == "code_neighbours" and rep.radius_m is None


def test_params_are_validated():
    with pytest.raises(DataFileError, match="quantile"):
        ImputationParams(quantile=1.5)
    with pytest.raises(DataFileError, match="unknown key"):
        ImputationParams.from_dict({"neighbors": 3})


@needs_shared
def test_chosen_method_beats_farthest_point_and_seat(huayuan_model):
    m = huayuan_model
    v = m.to_metric(m.villages)
    clean = v["location_quality"].isin(["geocoded", "surveyed"]).to_numpy()
    truth = pd.DataFrame(
        {
            "x": v.geometry.x[clean],
            "y": v.geometry.y[clean],
            "town_code": v["town_code"][clean],
            "code": v["code"][clean],
        }
    )
    t = Transformer.from_crs("EPSG:4326", m.crs, always_xy=True)
    sx, sy = t.transform(m.townships["seat_lon"].to_numpy(), m.townships["seat_lat"].to_numpy())
    seats = dict(zip(m.townships["code"], zip(sx, sy, strict=True), strict=True))
    polys = dict(zip(m.townships["code"], m.to_metric(m.townships).geometry, strict=True))
    located = v["location_quality"] != "imputed"
    settle = np.vstack(
        [np.column_stack([v.geometry.x[located], v.geometry.y[located]]), np.column_stack([sx, sy])]
    )
    rep = leave_one_out(truth, seats, P, polygons=polys, settlements_xy=settle)
    chosen, seat, far = rep.row(rep.chosen), rep.row("seat"), rep.row(BASELINE)
    assert chosen.n == int(clean.sum()) == seat.n == far.n > 100
    for stat in ("median_km", "mean_km", "p90_km"):
        assert getattr(chosen, stat) < getattr(seat, stat)
        assert getattr(chosen, stat) < getattr(far, stat)
    # by a wide margin: the code-neighbour methods roughly halve the mean error
    assert chosen.mean_km < 0.7 * min(seat.mean_km, far.mean_km)
    assert rep.chosen == m.imputation.chosen


@needs_shared
def test_imputed_points_carry_the_radius(huayuan_model):
    m = huayuan_model
    rep = m.imputation
    v = m.villages
    imp = v["location_quality"] == "imputed"
    assert int(imp.sum()) == rep.n_imputed > 0
    radius = float(np.quantile(rep.errors_m[rep.chosen], 0.9))
    assert rep.radius_m == pytest.approx(radius)
    assert 1000 < radius < 10_000
    assert np.allclose(v.loc[imp, "uncertainty_m"], radius)
    assert (v.loc[~imp, "uncertainty_m"] == 0).all()
    assert v.loc[imp, "location_note"].str.contains("imputed by").all()
    assert not v.loc[imp, "location_note"].str.contains("farthest").any()


@needs_shared
def test_one_imputed_village_by_hand(huayuan_model):
    """豆旺村 (433124102202, 龙潭镇, no geocode): the weighted mean of the 3 located villages of
    龙潭镇 with the nearest codes, recomputed here from the shared CSV."""
    m = huayuan_model
    assert m.imputation.chosen == "code_neighbours"
    path = data_dir() / "huayuan" / "huayuan_villages_nbs2023_coords.csv"
    with open(path, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["town_code"] == "433124102"]
    q = m.villages.set_index("code")["location_quality"]
    ok = [r for r in rows if q[r["code"]] in ("geocoded", "surveyed")]
    assert len(ok) >= 3 and q["433124102202"] == "imputed"
    t = Transformer.from_crs("EPSG:4326", m.crs, always_xy=True)
    pts = {
        int(r["code"][-3:]): t.transform(float(r["lon_wgs84"]), float(r["lat_wgs84"])) for r in ok
    }
    seat = m.townships.set_index("code").loc["433124102"]
    pts[0] = t.transform(seat["seat_lon"], seat["seat_lat"])  # the seat counts as ordinal 000
    near = sorted(pts, key=lambda o: (abs(o - 202), o))[:3]
    w = np.array([1 / abs(o - 202) for o in near])
    xy = np.array([pts[o] for o in near])
    want = (xy * w[:, None]).sum(axis=0) / w.sum()
    got = m.to_metric(m.villages.set_index("code").loc[["433124102202"]]).geometry.iloc[0]
    assert np.hypot(got.x - want[0], got.y - want[1]) < 5.0


@needs_shared
def test_deterministic():
    a = build_county_model()
    b = build_county_model()
    assert a.villages.geometry.equals(b.villages.geometry)
    assert a.imputation == b.imputation


@needs_shared
def test_user_file_may_leave_coordinates_empty(tmp_path):
    p = tmp_path / "villages.csv"
    p.write_text(
        "code,name,lon,lat,crs\n433124102201,土地村,,,\n433124102202,豆旺村,109.36,28.45,WGS84\n",
        encoding="utf-8",
    )
    m = build_county_model(inputs=ModelInputs(villages=p))
    v = m.villages.set_index("code")
    assert v.loc["433124102201", "location_quality"] == "imputed"
    assert "user file gives no coordinates" in v.loc["433124102201", "location_note"]
    assert v.loc["433124102201", "uncertainty_m"] > 0
    assert v.loc["433124102202", "location_quality"] == "surveyed"
    assert v.loc["433124102202", "uncertainty_m"] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,lon,lat,crs\n433124102201,土地村,东经,28.4,WGS84\n", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        build_county_model(inputs=ModelInputs(villages=bad))
    assert info.value.row == 2 and info.value.field == "lon"
    half = tmp_path / "half.csv"
    half.write_text("code,name,lon,lat,crs\n433124102201,土地村,109.3,,WGS84\n", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        build_county_model(inputs=ModelInputs(villages=half))
    assert info.value.row == 2 and info.value.field == "lat"


def test_no_cases_gives_json_safe_table():
    rep = choose_method({"seat": [], "centroid": []}, P)
    d = rep.as_dict()
    assert d["radius_m"] is None and d["chosen"] == P.default_method
    assert d["table"][0]["mean_km"] is None and d["table"][0]["n"] == 0
