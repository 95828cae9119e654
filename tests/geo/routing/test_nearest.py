"""The resident nearest-point engine answers exactly what od_matrix answers, with routes."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from doorstep.geo.routing import BORDER_M, NearestEngine, od_matrix
from doorstep.geo.synthetic import TEST_CRS

from ._tiny import ACCESS, pts, tiny

TO_WGS = Transformer.from_crs(TEST_CRS, "EPSG:4326", always_xy=True)


class FakeModel:
    """What the engine reads of a county model: the road graph and the outline."""

    def __init__(self) -> None:
        self.graph = tiny()
        outline = shapely.box(-500, -500, 2500, 1500)
        self.county = gpd.GeoDataFrame(geometry=[outline], crs=TEST_CRS).to_crs("EPSG:4326")

    def to_metric(self, gdf: Any) -> Any:
        return gdf.to_crs(TEST_CRS)


def facilities() -> gpd.GeoDataFrame:
    f = pts([(2000, 0), (900, 0), (1000, 1000)]).to_crs("EPSG:4326")
    return f.assign(id=["a", "b", "c"], name=["A", "B", "C"], tier=["township_station"] * 3)


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS.transform(x, y)
    return float(lon), float(lat)


def test_engine_equals_od_matrix_and_draws_the_route():
    eng = NearestEngine(FakeModel(), facilities(), access=ACCESS)
    origins = [(100, 0), (1500, -75), (1000, 500), (250, 150), (1000, 0), (1900, 30)]
    for mode in ("car", "walk"):
        od = od_matrix(
            eng.model, pts(origins), facilities(), mode, with_distance=True, access=ACCESS
        )
        for i, xy in enumerate(origins):
            found, snap = eng.nearest(*lonlat(*xy), mode=mode, n=3, routes=None)
            got = {p.row["id"]: p for p in found}
            assert [p.minutes for p in found] == sorted(p.minutes for p in found)
            assert snap == pytest.approx(od.origin_snap_m[i], abs=1e-6)
            for j, fid in enumerate("abc"):
                assert got[fid].minutes == pytest.approx(od.minutes[i, j], abs=1e-9)
                assert got[fid].km == pytest.approx(od.km[i, j], abs=1e-9)
                assert got[fid].route[0] == pytest.approx(lonlat(*xy), abs=2e-6)
                assert got[fid].route[-1] == pytest.approx(
                    (got[fid].row["lon"], got[fid].row["lat"]), abs=2e-6
                )


def test_engine_hand_computed_answers():
    eng = NearestEngine(FakeModel(), facilities(), access=ACCESS)
    # 100 m along edge 0-1: B lies 800 m further on the same edge (direct 1.6 min)
    found, snap = eng.nearest(*lonlat(100, 0), mode="car", n=2, routes=1)
    assert snap == pytest.approx(0.0, abs=1e-6)
    assert [p.row["id"] for p in found] == ["b", "a"]
    assert found[0].minutes == pytest.approx(1.6)
    assert found[0].km == pytest.approx(0.8)
    assert found[0].route == [pytest.approx(lonlat(100, 0)), pytest.approx(lonlat(900, 0))]
    assert found[1].route == [] and np.isnan(found[1].km)  # only the first route drawn
    # 75 m south of S1: 1 min walk, then A 0.5 km east (1 min), B via node 1 (1 + 0.2 min)
    found, _ = eng.nearest(*lonlat(1500, -75), mode="car", n=2, routes=None)
    assert [p.row["id"] for p in found] == ["a", "b"]
    assert [p.minutes for p in found] == pytest.approx([2.0, 2.2])
    assert [p.km for p in found] == pytest.approx([0.575, 0.675])
    want = [lonlat(*p) for p in ((1500, -75), (1500, 0), (1000, 0), (900, 0))]
    assert found[1].route == [pytest.approx(w, abs=1e-6) for w in want]


def test_engine_outline_and_modes():
    eng = NearestEngine(FakeModel(), facilities(), access=ACCESS)
    assert eng.inside(*lonlat(-500 - 0.6 * BORDER_M, 0))
    assert not eng.inside(*lonlat(-500 - 1.6 * BORDER_M, 0))
    with pytest.raises(ValueError, match="mode"):
        eng.nearest(*lonlat(0, 0), mode="plane")


def test_route_pieces_cut_once_are_the_pieces_cut_each_time():
    eng = NearestEngine(FakeModel(), facilities(), access=ACCESS)
    rng = np.random.default_rng(3)
    origins = [lonlat(*xy) for xy in rng.uniform([-100, -100], [2100, 1100], size=(25, 2))]
    for mode in ("car", "walk"):
        warm = [eng.nearest(*o, mode=mode, n=3, routes=None)[0] for o in origins]
        pieces = eng._table(mode).prep.aug.pieces
        assert pieces  # the walk filled the per-record memo
        pieces.clear()
        for o, before in zip(origins, warm, strict=True):
            after = eng.nearest(*o, mode=mode, n=3, routes=None)[0]
            pieces.clear()  # every answer from freshly cut pieces
            assert [(p.row["id"], p.minutes, p.km, p.route) for p in after] == [
                (p.row["id"], p.minutes, p.km, p.route) for p in before
            ]
