"""OD matrices, nearest facility and node times: hand-computed times on a tiny graph."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from doorstep.geo._errors import InputError
from doorstep.geo.routing import (
    nearest_facility,
    nearest_minutes_batch,
    node_times,
    od_matrix,
    od_minutes_prepared,
    prepare,
    road_index,
)

from ._tiny import ACCESS, pts, tiny


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


def test_ensemble_hooks_equal_the_retimed_index():
    """One block-diagonal search for B re-timings = nearest_facility on each re-timed index;
    a re-timed prepared pair = od_matrix on the re-timed index (no re-snapping either way)."""
    g = tiny()
    idx = road_index(g)
    o = pts([(250, 150), (100, 0), (1000, 990), (1900, 30)])
    f = pts([(2000, 0), (900, 0)])  # the second inside edge 0-1, like origin 2
    prep = prepare(idx, [o, f], "car", ACCESS)
    t = idx.times["car"]
    scales = np.array([[1.0], [0.5], [3.0]])
    acc_o = np.tile(prep.sets[0].access_min, (3, 1))
    acc_f = np.tile(prep.sets[1].access_min, (3, 1)) * scales  # access legs re-timed too
    got = nearest_minutes_batch(prep, t * scales, acc_o, acc_f)
    for b, s in enumerate(scales[:, 0]):
        re = prep.with_edge_minutes(t * s, [prep.sets[0].access_min, prep.sets[1].access_min * s])
        assert re.sets[0].edge is prep.sets[0].edge  # the same snaps
        np.testing.assert_allclose(got[b], od_minutes_prepared(re).min(axis=1), atol=1e-12)
    np.testing.assert_allclose(got[0], nearest_facility(idx, o, f, "car", access=ACCESS).minutes)
    # scale 0.5 on roads, facility access legs halved too: hand value for origin 1 (same edge)
    assert got[1, 1] == pytest.approx(0.8 * 2.0 * 0.5)
    with pytest.raises(InputError, match="point sets"):
        prep.with_edge_minutes(t, [prep.sets[0].access_min])
