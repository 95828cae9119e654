"""Service areas: polygons contain exactly the reachable sample points; valleys stay out."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from doorstep.geo.routing import AccessParams, count_within, od_matrix, service_areas, service_lines
from doorstep.geo.synthetic import TEST_CRS, graph_from_edges

ACCESS = AccessParams(walk_kmh=4.5, snap_limit_m=1000.0)  # 75 m/min


def u_valley():
    # A U-shaped road round a 600 m wide valley: south road y=0, east link, north road y=600.
    # 30 km/h = 2 min/km by car.
    return graph_from_edges([(0, 0), (3000, 0), (3000, 600), (0, 600)], [(0, 1), (1, 2), (2, 3)])


def pts(xy):
    return gpd.GeoDataFrame(geometry=[shapely.Point(p) for p in xy], crs=TEST_CRS)


SAMPLES = [
    (1000, 100),  # 0.67 + 2 + 1.33 = 4.0 min -> in at 5
    (1000, 500),  # across the valley (north road): in only at 15 (13.2 min)
    (2000, 50),  # 0.67 + 4 + 0.67 = 5.33 -> out at 5
    (1900, 20),  # 0.67 + 3.8 + 0.27 = 4.73 -> in at 5
    (-200, 0),  # behind the road end: 0.67 + 2.67 = 3.33 -> in at 5
    (1500, 300),  # valley floor, 300 m from both roads: 0.67 + 3 + 4 = 7.67
]


def test_polygons_contain_exactly_the_reachable_points():
    g = u_valley()
    point = pts([(0, -50)])
    samples = pts(SAMPLES)
    od = od_matrix(g, point, samples, "car", access=ACCESS).minutes[0]
    np.testing.assert_allclose(
        od[[0, 2, 3, 4]], [4.0, 16 / 3, 2 / 3 + 3.8 + 20 / 75, 10 / 3], atol=1e-9
    )
    areas = service_areas(g, point, "car", breaks=(5, 8, 15), access=ACCESS).to_crs(TEST_CRS)
    assert list(areas["minutes"]) == [5.0, 8.0, 15.0]
    for _, row in areas.iterrows():
        inside = shapely.contains_xy(row.geometry, samples.geometry.x, samples.geometry.y)
        np.testing.assert_array_equal(inside, od <= row.minutes, err_msg=f"break {row.minutes}")
    # the 5-minute polygon does not bridge the valley: the north road is not in it
    assert not areas.geometry.iloc[0].intersects(shapely.LineString([(0, 600), (3000, 600)]))


def test_line_service_areas_cut_partial_edges():
    g = u_valley()
    lines = service_lines(g, pts([(0, -50)]), "car", breaks=(5, 10), access=ACCESS)
    lm = lines.groupby("minutes")["length_m"].sum()
    # 5 min: (5 - 2/3) / 2 km along the south road
    assert lm[5.0] == pytest.approx(1000 * (5 - 2 / 3) / 2)
    # 10 min: whole south road 3000 m + link 600 m + (10 - 2/3 - 7.2)/2 km of north road
    assert lm[10.0] == pytest.approx(3600 + 1000 * (10 - 2 / 3 - 7.2) / 2)


def test_per_point_areas_and_counts():
    g = u_valley()
    two = pts([(0, -50), (0, 650)])
    per = service_areas(g, two, "car", breaks=(5,), dissolve=False, access=ACCESS)
    assert list(per["point"]) == [0, 1]
    samples = pts(SAMPLES).assign(population=[100, 200, 300, 400, 500, 600])
    c = count_within(per, samples, "population")
    assert list(c["n_points"]) == [3, 1]  # south: 0, 3, 4; north: (1000, 500)
    assert list(c["sum_population"]) == [1000.0, 200.0]
    dis = service_areas(g, two, "car", breaks=(5,), access=ACCESS)
    assert dis.geometry.iloc[0].area == pytest.approx(per.geometry.union_all().area, rel=1e-6)
