"""Road graphs: the modelled settlement network and per-mode travel times.

The graph contract (shared by every part of Doorstep): an undirected :class:`networkx.Graph` with
integer nodes carrying ``x``, ``y`` (metres in the county CRS) and ``lon``, ``lat`` (WGS84); edges
carrying ``length_m``, ``road_class``, ``time_walk``/``time_motorbike``/``time_car`` (minutes;
``inf`` where a mode may not use the road), ``edge_id`` and optionally ``geometry`` (LineString,
metric) and ``name``. ``G.graph`` holds ``crs``, ``modelled`` and ``source``.
"""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree

from ._errors import InputError
from .params import MODES, NetworkParams, SpeedParams

log = logging.getLogger(__name__)


def add_travel_times(G: nx.Graph, speeds: SpeedParams) -> nx.Graph:
    """Set ``time_<mode>`` (minutes) on every edge from its length and road class. In place; returns G."""
    for _, _, d in G.edges(data=True):
        for mode in MODES:
            kmh = speeds.speed(d.get("road_class", "unclassified"), mode)
            d[f"time_{mode}"] = (d["length_m"] / 1000.0) / kmh * 60.0 if kmh > 0 else float("inf")
    G.graph["speeds_source"] = speeds.source
    return G


def graph_from_points(
    x: np.ndarray,
    y: np.ndarray,
    *,
    crs: str,
    kinds: np.ndarray,
    names: np.ndarray | None = None,
    params: NetworkParams,
    speeds: SpeedParams,
    within: shapely.Geometry | None = None,
) -> nx.Graph:
    """Model a road network over settlement points (metric coordinates).

    Edges: Delaunay triangulation edges no longer than ``max_edge_km``, plus the Euclidean minimum
    spanning tree (so the graph is connected), as village roads with length = distance ×
    ``circuity_village``; plus links from every seat (``kinds`` = "seat" or "county_seat") to its
    ``trunk_neighbours`` nearest seats as trunk roads with ``circuity_trunk`` (the class
    ``county_trunk_class`` where the county seat is an end). Deterministic for given inputs.
    With ``within`` (the county outline, metric), triangulation edges that run mostly outside it
    (across a concave bend of the border) are dropped unless the spanning tree needs them.

    Parameters
    ----------
    kinds
        Per point: "village", "seat" or "county_seat".
    """
    n = len(x)
    if n < 2:
        raise InputError("a road network needs at least two settlement points")
    xy = np.column_stack([x, y]).astype(float)
    if len(np.unique(xy.round(3), axis=0)) != n:
        raise InputError("settlement points for the modelled network must be distinct")
    pairs: set[tuple[int, int]] = set()
    if n >= 3:
        try:
            tri = Delaunay(xy)
            for s in tri.simplices:
                for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
                    pairs.add((min(a, b), max(a, b)))
        except Exception:  # collinear points: fall back to the MST alone
            log.warning(
                "Delaunay triangulation failed (points collinear?); using the spanning tree only"
            )
    else:
        pairs.add((0, 1))
    dist = {p: float(np.hypot(*(xy[p[0]] - xy[p[1]]))) for p in pairs}
    keep = {p for p, d in dist.items() if d <= params.max_edge_km * 1000.0}
    if within is not None and keep:
        area = within.buffer(500.0)
        order = sorted(keep)
        segs = shapely.linestrings([[xy[i], xy[j]] for i, j in order])
        inside = shapely.length(shapely.intersection(segs, area)) / np.maximum(
            shapely.length(segs), 1e-9
        )
        keep = {p for p, f in zip(order, inside, strict=True) if f >= 0.9}
    # Euclidean MST over the candidate (Delaunay) edges guarantees connectivity.
    if pairs:
        a = np.array([p[0] for p in pairs])
        b = np.array([p[1] for p in pairs])
        w = np.array([dist[p] for p in pairs]) + 1e-9
        mst = minimum_spanning_tree(coo_matrix((w, (a, b)), shape=(n, n))).tocoo()
        keep |= {(min(i, j), max(i, j)) for i, j in zip(mst.row, mst.col, strict=True)}
    G = nx.Graph(
        crs=crs,
        modelled=True,
        source="modelled: Delaunay/MST settlement network with trunk links (data/params/model.toml)",
    )
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = inv.transform(x, y)
    for i in range(n):
        G.add_node(
            i,
            x=float(x[i]),
            y=float(y[i]),
            lon=float(lon[i]),
            lat=float(lat[i]),
            kind=str(kinds[i]),
            name=str(names[i]) if names is not None else "",
        )
    eid = 0

    def _add(i: int, j: int, cls: str, circuity: float, name: str) -> None:
        nonlocal eid
        length = float(np.hypot(*(xy[i] - xy[j]))) * circuity
        if G.has_edge(i, j):
            if G.edges[i, j]["road_class"] == params.village_class and cls != params.village_class:
                G.edges[i, j].update(road_class=cls, length_m=length, name=name)
            return
        G.add_edge(
            i,
            j,
            length_m=max(length, 1.0),
            road_class=cls,
            edge_id=eid,
            name=name,
            geometry=shapely.LineString([xy[i], xy[j]]),
        )
        eid += 1

    seats = np.flatnonzero(np.isin(kinds, ["seat", "county_seat"]))
    if len(seats) >= 2:
        tree = cKDTree(xy[seats])
        k = min(params.trunk_neighbours + 1, len(seats))
        _, nn = tree.query(xy[seats], k=k)
        for si, row in zip(seats, nn, strict=True):
            for j in np.atleast_1d(row)[1:]:
                sj = seats[j]
                county = kinds[si] == "county_seat" or kinds[sj] == "county_seat"
                cls = params.county_trunk_class if county else params.trunk_class
                if within is not None:
                    seg = shapely.LineString([xy[si], xy[sj]])
                    if shapely.intersection(seg, within.buffer(500.0)).length < 0.9 * seg.length:
                        continue  # would run outside the county
                _add(
                    int(si),
                    int(sj),
                    cls,
                    params.circuity_trunk,
                    _road_name(names, int(si), int(sj), "公路"),
                )
    for i, j in sorted(keep):
        _add(
            int(i),
            int(j),
            params.village_class,
            params.circuity_village,
            _road_name(names, i, j, "村道"),
        )
    add_travel_times(G, speeds)
    log.info("modelled network: %d nodes, %d edges", G.number_of_nodes(), G.number_of_edges())
    return G


def _road_name(names: np.ndarray | None, i: int, j: int, kind: str) -> str:
    """A modelled road is named by the settlements it joins, e.g. "龙门村—土地村村道"."""
    if names is None:
        return f"modelled {kind}"
    a, b = str(names[i]), str(names[j])
    return f"{a}—{b}{kind}"


def check_graph(G: nx.Graph) -> list[str]:
    """Return a list of problems with a road graph (empty when it satisfies the contract)."""
    problems = []
    if G.number_of_nodes() == 0:
        return ["graph has no nodes"]
    if not nx.is_connected(G):
        comps = nx.number_connected_components(G)
        problems.append(f"graph has {comps} disconnected components")
    for u, v, d in G.edges(data=True):
        if not d.get("length_m", 0) > 0:
            problems.append(f"edge {u}-{v} has non-positive length")
            break
        if any(not d.get(f"time_{m}", 0) > 0 for m in MODES):
            problems.append(f"edge {u}-{v} has a non-positive travel time")
            break
    return problems
