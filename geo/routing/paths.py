"""Paths through the augmented graph: the one path walk, route geometry and :class:`Route`.

A shortest path is a node sequence of the augmented graph (:mod:`geo.routing.graph`); each step
``p → q`` lies on one edge record (road piece between fractions ``f₀, f₁`` of road edge ``e``,
an access leg, or a zero-length join). :func:`walk` turns such a path into its length
``Σ length(p, q)`` (metres, access legs included), the road edges used, the named places passed
and, optionally, the polyline; every caller (routes, nearest-facility road names, the web
nearest-point engine) uses it, and :func:`edge_piece` cuts the polyline of a route from an
edge's vertices (isochrones cut whole pieces with ``shapely.ops.substring`` instead).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from doorstep.geo._errors import InputError
from doorstep.geo.params import AccessParams

from .graph import Augmented, Prepared, prepare
from .index import RoadIndex
from .snap import Snaps, transformer

Coords = list[tuple[float, float]]


def pred_path(pred: NDArray[Any], node: int) -> list[int]:
    """Nodes from ``node`` to the root of its shortest-path tree (``pred < 0`` at the root)."""
    path = [int(node)]
    while pred[path[-1]] >= 0:
        path.append(int(pred[path[-1]]))
    return path


def edge_piece(index: RoadIndex, e: int, f_from: float, f_to: float) -> Coords:
    """Coordinates of edge ``e`` between two fractions of its length, in travel order.

    With cumulative vertex distances ``c`` (:meth:`RoadIndex.edge_xy`) and total ``L = c[-1]``
    the piece runs from the point at ``f_from·L`` to the point at ``f_to·L`` (linear
    interpolation on the segment), through every vertex strictly between them.
    """
    xy, cum = index.edge_xy(e)
    total = cum[-1]
    if total <= 0:
        return [(float(xy[0, 0]), float(xy[0, 1]))]
    d0, d1 = f_from * total, f_to * total
    lo, hi = min(d0, d1), max(d0, d1)
    inner = np.flatnonzero((cum > lo) & (cum < hi))
    ends = [np.array([np.interp(d, cum, xy[:, 0]), np.interp(d, cum, xy[:, 1])]) for d in (lo, hi)]
    pts = [ends[0], *xy[inner], ends[1]]
    if d0 > d1:
        pts.reverse()
    return [(float(q[0]), float(q[1])) for q in pts]


@dataclass
class Walk:
    """What a path passes: ``length_m``, road edges (``edges``, RoadIndex indices, consecutive
    repeats removed), named road nodes (``places``) and, when asked, the polyline ``coords``."""

    length_m: float = 0.0
    edges: list[int] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    coords: Coords = field(default_factory=list)


def walk(index: RoadIndex, aug: Augmented, points: Snaps, path: list[int], geometry: bool) -> Walk:
    """Walk an augmented-graph ``path`` (node ids, in travel order; ``points`` are the snapped
    points of ``aug``). The polyline starts at the first node's point if it is a point node and
    adds every point node entered, so an access leg is drawn from the point to the road."""
    n, k = aug.n_road, aug.n_points
    out = Walk()
    if geometry and path and path[0] >= n + k:
        out.coords.append((float(points.x[path[0] - n - k]), float(points.y[path[0] - n - k])))
    for p, q in itertools.pairwise(path):
        if q < n and index.node_name is not None and index.node_name[q]:
            out.places.append(str(index.node_name[q]))
        r = aug.record(p, q)
        out.length_m += float(aug.length_m[r])
        e = int(aug.edge[r])
        if e < 0:  # access leg (-1) or join of a snap position to its road node (-2)
            if geometry and q >= n + k:
                out.coords.append((float(points.x[q - n - k]), float(points.y[q - n - k])))
            continue
        if not out.edges or out.edges[-1] != e:
            out.edges.append(e)
        if geometry:
            out.coords += record_piece(index, aug, r, bool(p == aug.a[r]))
    return out


def record_piece(index: RoadIndex, aug: Augmented, r: int, forward: bool) -> Coords:
    """:func:`edge_piece` of augmented record ``r`` (``a → b`` if ``forward``), cut once per
    record and direction and then reused (the web engine's routes cross the same roads)."""
    key = (r, forward)
    got = aug.pieces.get(key)
    if got is None:
        e, f0, f1 = int(aug.edge[r]), float(aug.f0[r]), float(aug.f1[r])
        got = edge_piece(index, e, f0, f1) if forward else edge_piece(index, e, f1, f0)
        aug.pieces[key] = got
    return got


def edge_label(index: RoadIndex, e: int) -> str:
    """Road name of edge ``e``, or its road class when unnamed."""
    return str(index.name[e]) or str(index.road_class[e])


def dedupe(coords: Coords, tol: float = 1e-9) -> Coords:
    """Coordinates without consecutive repeats (within ``tol``)."""
    out: Coords = []
    for c in coords:
        if not out or abs(out[-1][0] - c[0]) > tol or abs(out[-1][1] - c[1]) > tol:
            out.append(c)
    return out


@dataclass
class Route:
    """Fastest route between two points.

    ``nodes`` are road-node ids passed, ``edge_ids`` the road edges used (in order),
    ``road_names`` the distinct consecutive road names (road class when unnamed),
    ``geometry`` a LineString in the graph's metric CRS (point → road → … → point) and
    ``geometry_wgs84`` the same in EPSG:4326.
    """

    minutes: float
    km: float
    nodes: list[int]
    edge_ids: list[int]
    road_names: list[str]
    geometry: shapely.LineString
    geometry_wgs84: shapely.LineString
    mode: str
    origin_snap_m: float
    dest_snap_m: float


def route(
    model_or_graph: Any,
    origin: Any,
    destination: Any,
    mode: str = "car",
    access: AccessParams | None = None,
) -> Route | None:
    """Fastest route from one point to another (``None`` if unreachable)."""
    prep = prepare(model_or_graph, [origin, destination], mode, access)
    if len(prep.sets[0]) != 1 or len(prep.sets[1]) != 1:
        raise InputError("route() takes exactly one origin and one destination point")
    o, d = int(prep.nodes(0)[0]), int(prep.nodes(1)[0])
    dist, pred = dijkstra(prep.aug.csr, indices=o, return_predecessors=True)
    if not np.isfinite(dist[d]):
        return None
    return _route_from_path(prep, pred_path(pred, d)[::-1], float(dist[d]), 0, 1)


def routes(
    model_or_graph: Any,
    points: Any,
    pairs: Sequence[tuple[int, int]],
    mode: str = "car",
    access: AccessParams | None = None,
) -> dict[tuple[int, int], Route | None]:
    """Fastest routes between pairs ``(i, j)`` of rows of one point set.

    One Dijkstra (with predecessors) per distinct origin over a graph holding every point, so a
    month of lawyer routes costs a few dozen searches, not one per leg. Unreachable pairs map to
    ``None``.
    """
    prep = prepare(model_or_graph, [points], mode, access)
    k = len(prep.sets[0])
    bad = [(i, j) for i, j in pairs if not (0 <= i < k and 0 <= j < k)]
    if bad:
        raise InputError(f"route pairs {bad[:3]} refer to rows outside the {k} points")
    nodes = prep.nodes(0)
    by_origin: dict[int, list[int]] = {}
    for i, j in pairs:
        by_origin.setdefault(int(i), []).append(int(j))
    out: dict[tuple[int, int], Route | None] = {}
    for i, dests in by_origin.items():
        dist, pred = dijkstra(prep.aug.csr, indices=int(nodes[i]), return_predecessors=True)
        for j in dests:
            d = int(nodes[j])
            out[(i, j)] = (
                _route_from_path(prep, pred_path(pred, d)[::-1], float(dist[d]), i, j)
                if np.isfinite(dist[d])
                else None
            )
    return out


def _route_from_path(
    prep: Prepared, path: list[int], minutes: float, origin: int, dest: int
) -> Route:
    """Route along an augmented-graph ``path`` from point ``origin`` to point ``dest`` (indices
    into the concatenated point sets)."""
    idx, allp = prep.index, prep.points
    w = walk(idx, prep.aug, allp, path, geometry=True)
    ids: list[int] = []
    names: list[str] = []
    for e in w.edges:  # edges sharing an id (one road cut into several edges) count once
        if ids and ids[-1] == int(idx.edge_id[e]):
            continue
        ids.append(int(idx.edge_id[e]))
        label = edge_label(idx, e)
        if label and (not names or names[-1] != label):
            names.append(label)
    coords = dedupe(w.coords)
    geom = shapely.LineString(coords if len(coords) > 1 else [coords[0], coords[0]])
    tf = transformer(idx.crs, "EPSG:4326")
    wgs = shapely.transform(geom, lambda c: np.column_stack(tf.transform(c[:, 0], c[:, 1])))
    return Route(
        minutes=minutes,
        km=w.length_m / 1000.0,
        nodes=[p for p in path if p < prep.aug.n_road],
        edge_ids=ids,
        road_names=names,
        geometry=geom,
        geometry_wgs84=wgs,
        mode=prep.mode,
        origin_snap_m=float(allp.snap_m[origin]),
        dest_snap_m=float(allp.snap_m[dest]),
    )
