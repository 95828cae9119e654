"""Routes and the path walk: lengths, road names and geometry on a tiny graph."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from doorstep.geo._errors import InputError
from doorstep.geo.routing import (
    nearest_facility,
    node_times,
    route,
    routes,
)

from ._tiny import ACCESS, pts, tiny


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


def test_nearest_facility_paths_name_the_roads():
    g = tiny()
    nf = nearest_facility(
        g, pts([(1500, -75), (1000, 990)]), pts([(0, 0)]), "car", access=ACCESS, with_paths=True
    )
    assert nf.roads == [["S1", "G209"], ["village", "G209"]]
    np.testing.assert_allclose(nf.km, [0.075 + 0.5 + 1.0, 0.99 + 1.0])


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
