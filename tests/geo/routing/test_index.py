"""The road index: cached per graph, validated, and cheaply re-timed."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from doorstep.geo._errors import InputError
from doorstep.geo.routing import nearest_facility, node_times, od_matrix, prepare, road_index

from ._tiny import ACCESS, pts, tiny


def test_index_cached_and_validated():
    g = tiny()
    assert road_index(g) is road_index(g)
    with pytest.raises(InputError, match="mode"):
        od_matrix(g, pts([(0, 0)]), pts([(0, 0)]), "bus")
    bad = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])
    with pytest.raises(InputError, match="CRS"):
        od_matrix(g, bad, bad, "car")


def test_index_of_an_index_is_itself():
    idx = road_index(tiny())
    assert road_index(idx) is idx
    with pytest.raises(InputError, match="RoadIndex"):
        road_index("not a graph")


def test_doubling_every_speed_halves_road_times_not_access_legs():
    g = tiny()
    idx = road_index(g)
    fast = idx.with_edge_minutes("car", idx.times["car"] / 2.0)
    a = pts([(250, 150), (750, 0)])
    b = pts([(1500, -75), (750, 0), (1000, 900)])
    base = od_matrix(idx, a, b, "car", with_distance=True, access=ACCESS)
    got = od_matrix(fast, a, b, "car", with_distance=True, access=ACCESS)
    walk_a = np.array([150.0, 0.0]) / 75.0  # access legs walked at 75 m/min
    walk_b = np.array([75.0, 0.0, 0.0]) / 75.0
    legs = walk_a[:, None] + walk_b[None, :]
    road = base.minutes - legs
    np.testing.assert_allclose(road, [[2.5, 1.0, 5.1], [1.5, 0.0, 4.1]], atol=1e-9)
    np.testing.assert_allclose(got.minutes, legs + road / 2.0, atol=1e-12)
    assert got.minutes[0, 0] == pytest.approx(2.0 + 1.0 + 1.25)
    np.testing.assert_allclose(got.km, base.km)  # same paths, same lengths
    nf = nearest_facility(fast, a, b, "car", access=ACCESS)
    np.testing.assert_allclose(nf.minutes, got.minutes.min(axis=1), atol=1e-12)
    nt = node_times(fast, a, "car", access=ACCESS)
    np.testing.assert_allclose(
        nt, walk_a[:, None] + (node_times(g, a, "car", access=ACCESS) - walk_a[:, None]) / 2
    )
    # the original index and graph are untouched; other modes are shared, not copied
    np.testing.assert_allclose(od_matrix(g, a, b, "car", access=ACCESS).minutes, base.minutes)
    assert fast.times["walk"] is idx.times["walk"] and fast.geoms is idx.geoms


def test_retimed_index_reuses_trees_and_snaps():
    idx = road_index(tiny())
    a, b = pts([(250, 150)]), pts([(1500, -75)])
    p0 = prepare(idx, [a, b], "car", ACCESS)
    fast = idx.with_edge_minutes("car", idx.times["car"] * 0.8)
    p1 = prepare(fast, [a, b], "car", ACCESS)
    assert p1 is not p0  # new searches ...
    assert p1.sets[0] is p0.sets[0] and p1.sets[1] is p0.sets[1]  # ... on the same snaps
    assert fast.tree("car") is idx.tree("car")
    assert fast.road_csr("car") is not idx.road_csr("car")
    np.testing.assert_allclose(fast.road_csr("car").data, idx.road_csr("car").data * 0.8)


def test_retiming_that_closes_a_road_snaps_again():
    g = tiny()
    idx = road_index(g)
    t = idx.times["car"].copy()
    north = int(np.flatnonzero((idx.u == 1) & (idx.v == 3) | (idx.u == 3) & (idx.v == 1))[0])
    t[north] = np.inf  # the north road closed to cars
    closed = idx.with_edge_minutes("car", t)
    o, d = pts([(1010, 900)]), pts([(0, 0)])
    assert od_matrix(idx, o, d, "car", access=ACCESS).minutes[0, 0] == pytest.approx(
        10 / 75 + 0.9 * 4.0 + 2.0
    )
    # now the nearest car road is 1-2 at x=1010, 900 m away: 12 min walk, 0.02 + 2 min drive
    assert od_matrix(closed, o, d, "car", access=ACCESS).minutes[0, 0] == pytest.approx(14.02)
    assert closed.tree("car") is not idx.tree("car")
    with pytest.raises(InputError, match="edge minutes"):
        idx.with_edge_minutes("car", t[:2])
    with pytest.raises(InputError, match="mode"):
        idx.with_edge_minutes("bus", t)
