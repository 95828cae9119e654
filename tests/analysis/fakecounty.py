"""A tiny fake county model following the CountyModel contract (for analysis tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import networkx as nx
import shapely

from doorstep.geo.synthetic import TEST_CRS, graph_from_edges


@dataclass
class FakeModel:
    graph: nx.Graph
    villages: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    county: gpd.GeoDataFrame
    crs: str = TEST_CRS
    code: str = "999999"
    name: str = "测试县"
    vintage: str = "2023"
    census: Any = field(default_factory=lambda: SimpleNamespace(age65p_share=0.15))

    def quality(self) -> dict:
        return {
            "layers": {
                "roads": {"modelled": True, "status": "modelled"},
                "villages": {"modelled": False, "status": "real"},
            }
        }


def _gdf(rows, xy):
    return gpd.GeoDataFrame(rows, geometry=[shapely.Point(p) for p in xy], crs=TEST_CRS).to_crs(
        "EPSG:4326"
    )


def village_rows(specs):
    """specs: (code, name, town_code, urban, population)."""
    return [
        {
            "code": c,
            "name": n,
            "town_code": t,
            "town_name": "镇" + t[-1],
            "urban": u,
            "population": p,
            "ur_code": 111 if u else 220,
            "location_quality": "geocoded",
            "population_source": "modelled",
        }
        for c, n, t, u, p in specs
    ]


def sp_rows(specs):
    """specs: (id, tier, name, staffed, hours)."""
    return [
        {
            "id": i,
            "tier": t,
            "name": n,
            "town_code": "",
            "village_code": "",
            "staff": 1,
            "hours_per_month": h,
            "staffed": s,
            "modelled": True,
        }
        for i, t, n, s, h in specs
    ]


def line_county() -> FakeModel:
    """Road 0-(5 km)-1-(5 km)-2-(10 km)-3 east and 0-(5 km)-4 north; car 2 min/km.

    County centre C at node 0, workstation S at node 2, a village room at node 3.
    Villages: V0 at node 0 (urban 400), V1 at x=4 km (rural 100), V3 at node 3 (rural 300),
    V4 at node 4 (urban 200). Car times to the nearest staffed point: 0, 8, 20, 10 min.
    """
    g = graph_from_edges(
        [(0, 0), (5000, 0), (10000, 0), (20000, 0), (0, 5000)],
        [
            (0, 1, {"name": "G209"}),
            (1, 2, {"name": "G209"}),
            (2, 3, {"name": "X001"}),
            (0, 4, {"name": "Y002"}),
        ],
    )
    villages = _gdf(
        village_rows(
            [
                ("V0", "城关社区", "T1", True, 400),
                ("V1", "一村", "T2", False, 100),
                ("V3", "三村", "T2", False, 300),
                ("V4", "四社区", "T1", True, 200),
            ]
        ),
        [(0, 0), (4000, 0), (20000, 0), (0, 5000)],
    )
    sps = _gdf(
        sp_rows(
            [
                ("C", "county_centre", "县中心", True, 1000.0),
                ("K", "correction_centre", "矫正", True, 500.0),
                ("S", "township_station", "二镇工作站", True, 300.0),
                ("R", "village_room", "三村室", False, 8.0),
            ]
        ),
        [(0, 0), (0, 0), (10000, 0), (20000, 0)],
    )
    sps.loc[sps["id"] == "R", "village_code"] = "V3"  # the room of 三村
    county = gpd.GeoDataFrame(
        {"code": ["999999"]}, geometry=[shapely.box(-1000, -1000, 21000, 6000)], crs=TEST_CRS
    ).to_crs("EPSG:4326")
    return FakeModel(g, villages, sps, county)


def bridge_county() -> FakeModel:
    """Two triangles joined by the single bridge 1-3; the staffed point at node 0."""
    g = graph_from_edges(
        [(0, 0), (1000, 0), (500, 800), (3000, 0), (4000, 0), (3500, 800)],
        [(0, 1), (1, 2), (0, 2), (1, 3, {"name": "风雨桥"}), (3, 4), (4, 5), (3, 5)],
    )
    villages = _gdf(
        village_rows(
            [
                ("A2", "甲", "T1", False, 50),
                ("B4", "乙", "T2", False, 70),
                ("B5", "丙", "T2", False, 30),
            ]
        ),
        [(500, 800), (4000, 0), (3500, 800)],
    )
    sps = _gdf(sp_rows([("S", "township_station", "工作站", True, 100.0)]), [(0, 0)])
    county = gpd.GeoDataFrame(
        {"code": ["999999"]}, geometry=[shapely.box(-500, -500, 4500, 1300)], crs=TEST_CRS
    ).to_crs("EPSG:4326")
    return FakeModel(g, villages, sps, county)
