"""Prepared point sets and the augmented graph."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from doorstep.geo._errors import InputError
from doorstep.geo.routing import (
    od_matrix,
    prepare,
)
from doorstep.geo.synthetic import TEST_CRS

from ._tiny import ACCESS, pts, tiny


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
