"""Travel-time engine: hand-computed times on a tiny graph, including the snap legs."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from doorstep.geo._errors import InputError
from doorstep.geo.routing import (
    AccessParams,
    nearest_facility,
    node_times,
    od_matrix,
    prepare,
    road_index,
    route,
    routes,
)
from doorstep.geo.synthetic import TEST_CRS, graph_from_edges

ACCESS = AccessParams(walk_kmh=4.5, snap_limit_m=100.0)  # 75 m/min


def tiny() -> nx.Graph:
    # 0 --(1 km, 2 min)-- 1 --(1 km, 2 min)-- 2 ;  1 --(1 km, 4 min)-- 3 (north)
    return graph_from_edges(
        [(0, 0), (1000, 0), (2000, 0), (1000, 1000)],
        [
            (0, 1, {"time_car": 2.0, "name": "G209"}),
            (1, 2, {"time_car": 2.0, "name": "S1"}),
            (1, 3, {"time_car": 4.0}),
        ],
    )


def pts(xy):
    return gpd.GeoDataFrame(geometry=[shapely.Point(p) for p in xy], crs=TEST_CRS)


def test_od_matrix_hand_computed_with_snap_legs():
    g = tiny()
    a = pts([(250, 150), (750, 0)])
    b = pts([(1500, -75), (750, 0), (1000, 900)])
    od = od_matrix(g, a, b, "car", with_distance=True, access=ACCESS)
    # (250,150): 150 m walk = 2 min, 0.75 of edge 0-1 = 1.5, half of 1-2 = 1, 75 m walk = 1
    expected = np.array([[5.5, 3.0, 7.1], [2.5, 0.0, 4.1]])
    np.testing.assert_allclose(od.minutes, expected, atol=1e-9)
    np.testing.assert_allclose(od.km, [[1.475, 0.65, 1.8], [0.825, 0.0, 1.15]], atol=1e-9)
    np.testing.assert_allclose(od.origin_snap_m, [150, 0])
    np.testing.assert_array_equal(od.origin_flagged, [True, False])
    np.testing.assert_array_equal(od.dest_flagged, [False, False, False])


def test_same_edge_points_get_direct_along_edge_time():
    g = tiny()
    od = od_matrix(g, pts([(100, 0)]), pts([(900, 0)]), "car", access=ACCESS)
    assert od.minutes[0, 0] == pytest.approx(1.6)  # 0.8 km of a 2-min km, not via a node


def test_transposed_search_equals_direct():
    g = tiny()
    many = pts([(100, 10), (400, -20), (1300, 5), (1800, 40), (990, 700)])
    one = pts([(1000, 300)])
    a = od_matrix(g, many, one, "car", access=ACCESS).minutes
    b = od_matrix(g, one, many, "car", access=ACCESS).minutes
    np.testing.assert_allclose(a, b.T)
    assert a[0, 0] == pytest.approx(10 / 75 + 1.8 + 1.2)


def test_cutoff_and_unreachable():
    g = tiny()
    g.add_node(4, x=5000.0, y=5000.0, lon=0.0, lat=0.0)
    g.add_node(5, x=6000.0, y=5000.0, lon=0.0, lat=0.0)
    g.add_edge(
        4,
        5,
        length_m=1000.0,
        road_class="village",
        time_walk=13.3,
        time_motorbike=2.4,
        time_car=2.0,
        edge_id=9,
    )
    od = od_matrix(
        g,
        pts([(0, 0)]),
        pts([(2000, 0), (1000, 1000), (5500, 5000)]),
        "car",
        cutoff=5.0,
        access=ACCESS,
    )
    np.testing.assert_allclose(od.minutes, [[4.0, np.inf, np.inf]])
    with pytest.raises(InputError):
        od_matrix(g, pts([(0, 0)]), pts([(0, 0)]), "car", cutoff=-1)


def test_impassable_edges_are_not_snapped_to():
    g = tiny()
    g.edges[1, 3]["time_car"] = float("inf")  # footpath, no cars
    od = od_matrix(g, pts([(1010, 900)]), pts([(0, 0)]), "car", access=ACCESS)
    # car: nearest passable edge is 1-2 at x=1010, 900 m away = 12 min walk, 0.02 + 2 min drive
    assert od.minutes[0, 0] == pytest.approx(12.0 + 0.02 + 2.0)
    walk = od_matrix(g, pts([(1010, 900)]), pts([(0, 0)]), "walk", access=ACCESS)
    assert walk.minutes[0, 0] == pytest.approx(10 / 75 + 1900 / 75)


def test_nearest_facility_one_pass():
    g = tiny()
    orig = pts([(250, 150), (1900, 0), (1000, 990)])
    fac = pts([(0, 0), (2100, 0)])  # second one 100 m off the road end (1.33 min walk)
    nf = nearest_facility(g, orig, fac, "car", access=ACCESS)
    np.testing.assert_array_equal(nf.facility, [0, 1, 0])
    np.testing.assert_allclose(
        nf.minutes, [2.0 + 0.5, 0.2 + 100 / 75, 3.96 + 2.0]
    )  # third lies on edge 1-3
    od = od_matrix(g, orig, fac, "car", access=ACCESS).minutes
    np.testing.assert_allclose(nf.minutes, od.min(axis=1))


def test_node_times_and_route():
    g = tiny()
    t = node_times(g, pts([(250, 150)]), "car", access=ACCESS)
    np.testing.assert_allclose(t, [[2.5, 3.5, 5.5, 7.5]])
    np.testing.assert_allclose(
        node_times(g, pts([(250, 150), (2000, 0)]), "car", min_only=True, access=ACCESS),
        [2.5, 2.0, 0.0, 6.0],
    )
    r = route(g, pts([(250, 150)]), pts([(1500, -75)]), "car", access=ACCESS)
    assert r is not None
    assert r.minutes == pytest.approx(5.5)
    assert r.km == pytest.approx(1.475)
    assert r.road_names == ["G209", "S1"]
    assert r.nodes == [1]
    np.testing.assert_allclose(
        shapely.get_coordinates(r.geometry),
        [[250, 150], [250, 0], [1000, 0], [1500, 0], [1500, -75]],
    )


def test_index_cached_and_validated():
    g = tiny()
    assert road_index(g) is road_index(g)
    with pytest.raises(InputError, match="mode"):
        od_matrix(g, pts([(0, 0)]), pts([(0, 0)]), "bus")
    bad = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])
    with pytest.raises(InputError, match="CRS"):
        od_matrix(g, bad, bad, "car")


def test_nearest_facility_paths_name_the_roads():
    g = tiny()
    nf = nearest_facility(
        g, pts([(1500, -75), (1000, 990)]), pts([(0, 0)]), "car", access=ACCESS, with_paths=True
    )
    assert nf.roads == [["S1", "G209"], ["village", "G209"]]
    np.testing.assert_allclose(nf.km, [0.075 + 0.5 + 1.0, 0.99 + 1.0])


def test_nearest_same_edge_facility_and_cutoff():
    g = tiny()
    # origin 100 m along edge 0-1 (0.2 min from node 0); facilities: one at 900 m on the same
    # edge (direct 1.6 min), one at node 2 (3.8 min)
    nf = nearest_facility(g, pts([(100, 0)]), pts([(2000, 0), (900, 0)]), "car", access=ACCESS)
    np.testing.assert_array_equal(nf.facility, [1])
    np.testing.assert_allclose(nf.minutes, [1.6])
    cut = nearest_facility(
        g, pts([(100, 0)]), pts([(2000, 0), (900, 0)]), "car", cutoff=1.5, access=ACCESS
    )
    np.testing.assert_array_equal(cut.facility, [-1])
    assert np.isinf(cut.minutes[0])
    np.testing.assert_allclose(
        node_times(g, pts([(100, 0)]), "car", cutoff=4.0, access=ACCESS),
        [[0.2, 1.8, 3.8, np.inf]],
    )


def test_prepared_points_are_cached_per_point_set():
    g = tiny()
    a, b = pts([(250, 150)]), pts([(1500, -75)])
    p1 = prepare(g, [a, b], "car", ACCESS)
    assert prepare(g, [pts([(250, 150)]), pts([(1500, -75)])], "car", ACCESS) is p1
    assert prepare(g, [a, pts([(1500, -70)])], "car", ACCESS) is not p1
    assert prepare(g, [a, b], "walk", ACCESS) is not p1
    with pytest.raises(InputError, match="Point"):
        od_matrix(
            g, a, gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=TEST_CRS)
        )


def test_road_node_search_equals_augmented_graph_search():
    """The engine's road-node search (snap offsets added) = Dijkstra on the augmented graph."""
    rng = np.random.default_rng(3)
    g = tiny()
    xy = rng.uniform([-100, -100], [2100, 1100], size=(12, 2))
    xy[:2] = [(1000, 0), (500, 0)]  # on a node, and the same edge as others
    a, b = pts(xy[:7]), pts(np.r_[xy[7:], xy[:2]])
    for cutoff in (None, 4.0):
        od = od_matrix(g, a, b, "walk", cutoff=cutoff, access=ACCESS).minutes
        prep = prepare(g, [a, b], "walk", ACCESS)
        ref = dijkstra(prep.aug.csr, indices=prep.nodes(0), limit=cutoff or np.inf)
        np.testing.assert_allclose(od, ref[:, prep.nodes(1)], atol=1e-9)
        nf = nearest_facility(g, a, b, "walk", cutoff=cutoff, access=ACCESS)
        np.testing.assert_allclose(nf.minutes, ref[:, prep.nodes(1)].min(axis=1), atol=1e-9)
        nt = node_times(g, a, "walk", cutoff=cutoff, access=ACCESS)
        np.testing.assert_allclose(nt, ref[:, : prep.index.n], atol=1e-9)


def test_routes_batch_equals_single_routes():
    g = tiny()
    p = pts([(250, 150), (1500, -75), (1000, 900), (2000, 0)])
    pairs = [(0, 1), (0, 2), (1, 2), (3, 0)]
    got = routes(g, p, [*pairs, (2, 2)], "car", access=ACCESS)
    assert set(got) == {*pairs, (2, 2)}
    assert got[(2, 2)].minutes == 0.0 and got[(2, 2)].km == 0.0
    for i, j in pairs:
        one = route(g, p.iloc[[i]], p.iloc[[j]], "car", access=ACCESS)
        r = got[(i, j)]
        assert r is not None and one is not None
        assert r.minutes == pytest.approx(one.minutes)
        assert r.km == pytest.approx(one.km)
        assert r.road_names == one.road_names
        assert r.origin_snap_m == pytest.approx(one.origin_snap_m)
        assert r.dest_snap_m == pytest.approx(one.dest_snap_m)
        # the same line; the batch graph may carry extra vertices where other points snap
        assert r.geometry.equals(one.geometry)
    assert got[(0, 1)].minutes == pytest.approx(5.5)
    with pytest.raises(InputError, match="outside"):
        routes(g, p, [(0, 9)], "car", access=ACCESS)
