"""Point sets prepared once (``prepared_points``): the same answers as the frames they came from,
in any CRS, on random points; read-only, and keyed by their coordinates."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from doorstep.geo.routing import (
    PointSet,
    nearest_facility,
    node_times,
    od_matrix,
    prepare,
    prepared_points,
    road_index,
)


def _random_frame(model: Any, k: int, seed: int) -> gpd.GeoDataFrame:
    b = model.county.total_bounds
    rng = np.random.default_rng(seed)
    xy = rng.uniform(b[:2], b[2:], size=(k, 2))
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], crs="EPSG:4326")


def test_prepared_points_answer_as_frames(huayuan_model: Any) -> None:
    m = huayuan_model
    origins = _random_frame(m, 60, 5)
    sp = m.service_points
    o_set, s_set = prepared_points(m, origins), prepared_points(m.graph, sp)
    assert isinstance(o_set, PointSet) and len(o_set) == 60
    assert not o_set.xy.flags.writeable
    for mode in ("walk", "motorbike", "car"):
        od = od_matrix(m, origins, sp, mode=mode)
        a = nearest_facility(m, origins, sp, mode)
        b = nearest_facility(m, o_set, s_set, mode)
        np.testing.assert_allclose(b.minutes, a.minutes, atol=1e-6, rtol=0)
        np.testing.assert_array_equal(b.facility, a.facility)
        # and both are the row minima of the full matrix
        np.testing.assert_allclose(b.minutes, od.minutes.min(axis=1), atol=1e-6, rtol=0)
        np.testing.assert_allclose(od_matrix(m, o_set, s_set, mode=mode).minutes, od.minutes)
        np.testing.assert_allclose(node_times(m, s_set, mode), node_times(m, sp, mode))
    # one key for frames and sets of the same points: one prepared entry
    assert prepare(m, [origins, sp], "car") is prepare(m, [o_set, s_set], "car")


def test_point_set_in_another_crs_is_projected(huayuan_model: Any) -> None:
    from doorstep.geo.routing.snap import point_set

    m = huayuan_model
    sp = m.service_points.iloc[:30]
    wgs = point_set(sp, "EPSG:4326")  # lon/lat, not the graph's metric CRS
    np.testing.assert_allclose(wgs.xy, np.column_stack([sp.geometry.x, sp.geometry.y]))
    metric = prepared_points(m, sp)
    assert metric.crs == road_index(m).crs
    np.testing.assert_allclose(prepared_points(m, wgs).xy, metric.xy, atol=1e-6, rtol=0)
    a = nearest_facility(m, wgs, m.service_points, "walk")
    b = nearest_facility(m, sp, m.service_points, "walk")
    np.testing.assert_allclose(a.minutes, b.minutes, atol=1e-6, rtol=0)
