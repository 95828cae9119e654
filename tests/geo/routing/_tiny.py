"""A tiny road graph with hand-computable times, shared by the routing tests."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import networkx as nx
import shapely

from doorstep.geo.params import AccessParams
from doorstep.geo.synthetic import TEST_CRS, graph_from_edges

ACCESS = AccessParams(walk_kmh=4.5, snap_limit_m=100.0)  # 75 m/min


def tiny() -> nx.Graph:
    """0 --(1 km, 2 min)-- 1 --(1 km, 2 min)-- 2 ;  1 --(1 km, 4 min)-- 3 (north)."""
    return graph_from_edges(
        [(0, 0), (1000, 0), (2000, 0), (1000, 1000)],
        [
            (0, 1, {"time_car": 2.0, "name": "G209"}),
            (1, 2, {"time_car": 2.0, "name": "S1"}),
            (1, 3, {"time_car": 4.0}),
        ],
    )


def pts(xy: Any) -> gpd.GeoDataFrame:
    """Points given in the test CRS (metres)."""
    return gpd.GeoDataFrame(geometry=[shapely.Point(p) for p in xy], crs=TEST_CRS)
