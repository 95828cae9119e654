"""Joining modelled local roads to a real backbone, on a small hand-made county."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
import shapely

from doorstep.geo.network import backbone_from_file, graph_from_points, join_backbone, road_km
from doorstep.geo.params import BackboneParams, ModelParams, NetworkParams

CRS = "EPSG:32649"  # UTM 49N: x, y in metres


def _real(tmp_path, lines: list[list[tuple[float, float]]], km: list[float]) -> nx.Graph:
    from pyproj import Transformer

    inv = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    feats = []
    for line, k in zip(lines, km, strict=True):
        coords = [list(inv.transform(x, y)) for x, y in line]
        feats.append(
            {
                "type": "Feature",
                "properties": {"length_km": k},
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    p = tmp_path / "roads.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return backbone_from_file(
        p, crs=CRS, keep_within=shapely.box(0, 0, 1e7, 1e7), road_class="main_road", source="test"
    )


def test_join_backbone_by_hand(tmp_path):
    # a real road 10 km east along y = 1,000,000 (source length 12 km: it winds)
    x0, y0 = 500_000.0, 1_000_000.0
    real = _real(tmp_path, [[(x0, y0), (x0 + 10_000, y0)]], [12.0])
    assert real.number_of_edges() == 1
    # settlements: two beside the road (1 km north at 2 km and 8 km), one 20 km south
    sx = np.array([x0 + 2_000, x0 + 8_000, x0 + 5_000])
    sy = np.array([y0 + 1_000, y0 + 1_000, y0 - 20_000])
    net = NetworkParams(max_edge_km=30, trunk_neighbours=1)
    params = ModelParams.from_files()
    local = graph_from_points(
        sx, sy, crs=CRS, kinds=np.array(["village"] * 3), params=net, speeds=params.speeds
    )
    G = join_backbone(
        local,
        real,
        params=net,
        backbone=BackboneParams(join_km=3.0, corridor_m=1500.0, corridor_share=0.7),
        speeds=params.speeds,
        outline=shapely.box(x0 - 30_000, y0 - 30_000, x0 + 30_000, y0 + 30_000),
    )
    assert nx.is_connected(G)
    edges = {(min(u, v), max(u, v)): d for u, v, d in G.edges(data=True)}
    real_parts = sorted(d["length_m"] for d in edges.values() if d["status"] == "real")
    # split at x = 2 km and 8 km: parts 2, 6, 2 km of geometry -> 12 km source length pro rata
    assert real_parts == pytest.approx([2_400, 2_400, 7_200])
    access = sorted(d["length_m"] for d in edges.values() if "access road" in d["name"])
    assert access == pytest.approx([1_000 * 1.45] * 2)  # 1 km x circuity_village
    # the link between the two roadside villages runs along the road: dropped
    assert not G.has_edge(0, 1)
    assert G.graph["corridor_links_dropped"] == 1
    # the southern village (20 km away, beyond join_km) keeps its modelled links
    assert G.degree(2) >= 1
    km = road_km(G)
    assert km["real"] == pytest.approx(12.0)
    assert {d["status"] for d in edges.values()} == {"real", "modelled"}
