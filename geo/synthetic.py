"""Small synthetic road graphs that follow the road-graph contract (tests, benchmarks, demos).

``graph_from_edges`` builds a graph from node coordinates and an edge list with given car /
motorbike speeds; ``knn_graph`` joins every point to its ``k`` nearest neighbours (a proximity
network used when no real or modelled network is at hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from pyproj import Transformer
from scipy.spatial import cKDTree

from ._errors import InputError

TEST_CRS = (
    "+proj=tmerc +lat_0=28.5 +lon_0=109.5 +k=1 +x_0=500000 +y_0=0 "
    "+ellps=WGS84 +units=m +no_defs +type=crs"
)


def graph_from_edges(
    xy: ArrayLike,
    edges: Sequence[tuple[Any, ...]],
    *,
    crs: str = TEST_CRS,
    car_kmh: float = 30.0,
    motorbike_kmh: float = 25.0,
    walk_kmh: float = 4.5,
    road_class: str = "village",
    circuity: float = 1.0,
) -> nx.Graph:
    """Road graph from metric node coordinates and an edge list.

    Edge length is ``circuity × straight-line distance`` unless the edge's attribute dict gives
    ``length_m``; times are ``60 · length_km / speed`` minutes unless given (``time_car`` etc.).
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    tf = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tf.transform(pts[:, 0], pts[:, 1])
    g = nx.Graph(crs=crs, modelled=True, source="synthetic")
    for i, (x, y) in enumerate(pts):
        g.add_node(i, x=float(x), y=float(y), lon=float(lon[i]), lat=float(lat[i]))
    for k, edge in enumerate(edges):
        a, b = int(edge[0]), int(edge[1])
        extra: dict[str, Any] = dict(edge[2]) if len(edge) > 2 else {}
        if a == b:
            raise InputError(f"edge {k} is a self-loop")
        length = float(extra.pop("length_m", circuity * float(np.hypot(*(pts[a] - pts[b])))))
        attrs = {
            "length_m": max(length, 0.01),
            "road_class": road_class,
            "time_walk": 60.0 * length / 1000.0 / walk_kmh,
            "time_motorbike": 60.0 * length / 1000.0 / motorbike_kmh,
            "time_car": 60.0 * length / 1000.0 / car_kmh,
            "edge_id": k,
        }
        attrs.update(extra)
        g.add_edge(a, b, **attrs)
    return g


def knn_graph(
    xy: ArrayLike,
    k: int = 4,
    *,
    crs: str = TEST_CRS,
    circuity: float = 1.4,
    car_kmh: float = 30.0,
    motorbike_kmh: float = 25.0,
) -> nx.Graph:
    """Proximity road network: each point joined to its ``k`` nearest neighbours.

    Components are then chained by their closest pair of points so the graph is connected.
    """
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(pts) < 2:
        raise InputError("knn_graph needs at least two points")
    tree = cKDTree(pts)
    _, nb = tree.query(pts, k=min(k + 1, len(pts)))
    pairs = {
        (min(i, int(j)), max(i, int(j))) for i, row in enumerate(nb) for j in row[1:] if i != j
    }
    g = graph_from_edges(
        pts, sorted(pairs), crs=crs, circuity=circuity, car_kmh=car_kmh, motorbike_kmh=motorbike_kmh
    )
    comps = [np.fromiter(c, dtype=np.int64) for c in nx.connected_components(g)]
    if len(comps) > 1:
        comps.sort(key=len, reverse=True)
        main = comps[0]
        for comp in comps[1:]:
            d, j = cKDTree(pts[main]).query(pts[comp])
            i = int(np.argmin(d))
            a, b = int(comp[i]), int(main[j[i]])
            length = circuity * float(d[i])
            g.add_edge(
                a,
                b,
                length_m=max(length, 0.01),
                road_class="village",
                time_walk=60 * length / 1000 / 4.5,
                time_motorbike=60 * length / 1000 / motorbike_kmh,
                time_car=60 * length / 1000 / car_kmh,
                edge_id=g.number_of_edges(),
            )
            main = np.r_[main, comp]
    return g
