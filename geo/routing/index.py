"""Array form of the road graph: :class:`RoadIndex`, built once per graph and cached.

The networkx road graph (see the road-graph contract in :mod:`geo.network`) is converted
**once** into flat numpy arrays: node coordinates, edge ends ``u, v``, lengths, per-mode edge
minutes ``times[mode]`` (``inf`` where the mode may not pass) and the edge geometries oriented
from ``u`` to ``v`` in the metric CRS. Per mode the index caches the STRtree of the passable
edges (for snapping) and the symmetric CSR of edge minutes (for Dijkstra).

Cheap re-timing (the uncertainty ensemble): :meth:`RoadIndex.with_edge_minutes` returns an index
with new minutes for one mode that shares the geometry, the spatial trees and the snapped
points, so a draw costs only new searches — no model rebuild, no re-snapping.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray

from doorstep.geo._errors import InputError
from doorstep.geo.params import MODES

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class RoadIndex:
    """Flat-array form of an undirected road graph (node ids ``0..n-1``).

    Edge ``k`` joins ``u[k]`` and ``v[k]``; ``geoms[k]`` runs from ``u[k]`` to ``v[k]`` in the
    metric CRS. ``times[mode][k]`` is in minutes, ``inf`` where the mode cannot pass.
    ``snap_cache`` holds snapped point sets per mode (shared with indexes derived by
    :meth:`with_edge_minutes` while the passable edges stay the same); ``cache`` holds prepared
    searches (:func:`geo.routing.od.prepare`) of this index only.
    """

    crs: str
    n: int
    x: FloatArray
    y: FloatArray
    u: IntArray
    v: IntArray
    length_m: FloatArray
    times: dict[str, FloatArray]
    edge_id: IntArray
    name: NDArray[np.object_]
    road_class: NDArray[np.object_]
    geoms: NDArray[np.object_]
    modelled: bool = False
    source: str = ""
    node_name: NDArray[np.object_] | None = None  # optional node attribute "name" (places)
    _trees: dict[str, tuple[shapely.STRtree, IntArray]] = field(default_factory=dict, repr=False)
    _road_csr: dict[str, sp.csr_matrix] = field(default_factory=dict, repr=False)
    _edge_xy: list[tuple[FloatArray, FloatArray]] | None = field(default=None, repr=False)
    _geom_length: FloatArray | None = field(default=None, repr=False)
    snap_cache: dict[str, dict[Any, Any]] = field(
        default_factory=lambda: {m: {} for m in MODES}, repr=False
    )
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)  # prepared point sets

    @property
    def n_edges(self) -> int:
        return int(self.u.size)

    def passable(self, mode: str) -> NDArray[np.bool_]:
        """Boolean mask of edges usable by ``mode``."""
        t = self.times[check_mode(mode)]
        return np.isfinite(t) & (t > 0)

    def tree(self, mode: str) -> tuple[shapely.STRtree, IntArray]:
        """STRtree over the geometries of the edges passable by ``mode`` (cached)."""
        if mode not in self._trees:
            idx = np.flatnonzero(self.passable(mode)).astype(np.int64)
            if idx.size == 0:
                raise InputError(f"no road in the network is passable by mode '{mode}'")
            self._trees[mode] = (shapely.STRtree(self.geoms[idx]), idx)
        return self._trees[mode]

    def road_csr(self, mode: str) -> sp.csr_matrix:
        """Symmetric ``n × n`` CSR of the road edges passable by ``mode`` (minutes, cached)."""
        if mode not in self._road_csr:
            t = self.times[check_mode(mode)]
            ok = np.isfinite(t) & (self.u != self.v)
            a, b, w = self.u[ok], self.v[ok], t[ok]
            m = sp.csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(self.n, self.n))
            m.sort_indices()
            self._road_csr[mode] = m
        return self._road_csr[mode]

    @property
    def geom_length(self) -> FloatArray:
        """Length (m) of every edge geometry (computed once; may differ from ``length_m``,
        which can carry a circuity factor)."""
        if self._geom_length is None:
            self._geom_length = np.asarray(shapely.length(self.geoms), dtype=float)
        return self._geom_length

    def edge_xy(self, e: int) -> tuple[FloatArray, FloatArray]:
        """Vertices ``(k, 2)`` of edge ``e`` (from ``u`` to ``v``) and the cumulative length
        ``c_i = Σ_{l<i} |p_{l+1} − p_l|`` at each vertex (all edges computed once, cached)."""
        if self._edge_xy is None:
            out = []
            for g in self.geoms:
                c = shapely.get_coordinates(g)
                out.append((c, np.r_[0.0, np.cumsum(np.hypot(*np.diff(c, axis=0).T))]))
            self._edge_xy = out
        return self._edge_xy[e]

    def with_edge_minutes(self, mode: str, minutes: FloatArray) -> RoadIndex:
        """A copy of this index whose ``mode`` edges take ``minutes`` (one value per edge).

        Geometry, the other modes, the spatial trees and the snapped point sets are shared (not
        copied); only the searches of ``mode`` are rebuilt. If the new minutes keep the same
        passable edges (finite and > 0), points are not snapped again, e.g. scaling every speed
        by a factor ``s``: ``idx.with_edge_minutes("car", idx.times["car"] / s)`` — road
        minutes become ``t_e / s`` while the walked access legs are unchanged. Non-finite or
        non-positive minutes make an edge impassable for ``mode``.
        """
        check_mode(mode)
        t = np.asarray(minutes, dtype=float)
        if t.shape != (self.n_edges,):
            raise InputError(
                f"with_edge_minutes: need {self.n_edges} edge minutes for mode {mode!r}, "
                f"got shape {t.shape}"
            )
        t = np.where(np.isfinite(t) & (t > 0), t, np.inf)
        same = bool(np.array_equal(np.isfinite(t), self.passable(mode)))
        trees = {m: tr for m, tr in self._trees.items() if same or m != mode}
        snaps = {m: c if same or m != mode else {} for m, c in self.snap_cache.items()}
        return replace(
            self,
            times={**self.times, mode: t},
            _trees=trees,
            _road_csr={m: c for m, c in self._road_csr.items() if m != mode},
            snap_cache=snaps,
            cache={},
        )


def check_mode(mode: str) -> str:
    """Validate a travel mode name."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


_CACHE: weakref.WeakKeyDictionary[nx.Graph, tuple[tuple[int, int], RoadIndex]] = (
    weakref.WeakKeyDictionary()
)


def graph_of(model_or_graph: Any) -> nx.Graph:
    """Return the road graph of a ``CountyModel`` (``.graph``) or the graph itself."""
    if isinstance(model_or_graph, nx.Graph):
        return model_or_graph
    g = getattr(model_or_graph, "graph", None)
    if isinstance(g, nx.Graph):
        return g
    raise InputError("expected a CountyModel, a networkx road graph or a RoadIndex")


def road_index(model_or_graph: Any) -> RoadIndex:
    """Return the (cached) :class:`RoadIndex` of a road graph or county model (an index given
    itself, e.g. one re-timed by :meth:`RoadIndex.with_edge_minutes`, is returned as is)."""
    if isinstance(model_or_graph, RoadIndex):
        return model_or_graph
    g = graph_of(model_or_graph)
    # degree sum (2 x edges): C-speed len() per adjacency dict; networkx's number_of_edges()
    # walks a Python generator and cost more than a whole nearest-point search on a county
    key = (len(g._adj), sum(map(len, g._adj.values())))
    hit = _CACHE.get(g)
    if hit is not None and hit[0] == key:
        return hit[1]
    idx = _build_index(g)
    _CACHE[g] = (key, idx)
    return idx


def _nodes(g: nx.Graph) -> tuple[FloatArray, FloatArray, NDArray[np.object_]]:
    """Node coordinates and names, checking the ``0..n-1`` numbering."""
    n = g.number_of_nodes()
    if n == 0:
        raise InputError("road graph has no nodes")
    nodes = np.fromiter(g.nodes, dtype=np.int64, count=n)
    if nodes.min() != 0 or nodes.max() != n - 1:
        raise InputError("road graph nodes must be the integers 0..n-1")
    x = np.empty(n)
    y = np.empty(n)
    node_name = np.empty(n, dtype=object)
    for i, d in g.nodes(data=True):
        x[i] = d["x"]
        y[i] = d["y"]
        node_name[i] = str(d.get("name") or "")
    return x, y, node_name


def _oriented_geoms(
    geoms: NDArray[np.object_], x: FloatArray, y: FloatArray, u: IntArray, v: IntArray
) -> None:
    """Fill missing edge geometries with straight lines and orient every stored one from u to v
    (in place)."""
    missing = np.array([gm is None for gm in geoms], dtype=bool)
    if missing.any():
        pts = np.stack([x[u[missing]], y[u[missing]], x[v[missing]], y[v[missing]]], axis=1)
        geoms[missing] = shapely.linestrings(pts.reshape(-1, 2, 2))
    if (~missing).any():
        have = np.flatnonzero(~missing)
        start = shapely.get_point(geoms[have], 0)
        du = shapely.distance(start, shapely.points(x[u[have]], y[u[have]]))
        dv = shapely.distance(start, shapely.points(x[v[have]], y[v[have]]))
        flip = have[dv < du]
        geoms[flip] = shapely.reverse(geoms[flip])


def _build_index(g: nx.Graph) -> RoadIndex:
    crs = g.graph.get("crs")
    if not crs:
        raise InputError("road graph has no metric CRS in G.graph['crs']")
    x, y, node_name = _nodes(g)
    m = g.number_of_edges()
    u = np.empty(m, dtype=np.int64)
    v = np.empty(m, dtype=np.int64)
    length = np.empty(m)
    times = {mo: np.empty(m) for mo in MODES}
    eid = np.empty(m, dtype=np.int64)
    names = np.empty(m, dtype=object)
    classes = np.empty(m, dtype=object)
    geoms = np.empty(m, dtype=object)
    for k, (a, b, d) in enumerate(g.edges(data=True)):
        u[k], v[k] = a, b
        length[k] = float(d.get("length_m", np.hypot(x[a] - x[b], y[a] - y[b])))
        for mo in MODES:
            t = float(d.get(f"time_{mo}", np.inf))
            times[mo][k] = t if (np.isfinite(t) and t > 0) else np.inf
        eid[k] = int(d.get("edge_id", k))
        names[k] = str(d.get("name") or "")
        classes[k] = str(d.get("road_class") or "")
        geoms[k] = d.get("geometry")
    _oriented_geoms(geoms, x, y, u, v)
    log.debug("road index: %d nodes, %d edges", x.size, m)
    return RoadIndex(
        crs=str(crs),
        n=int(x.size),
        x=x,
        y=y,
        u=u,
        v=v,
        length_m=length,
        times=times,
        edge_id=eid,
        name=names,
        road_class=classes,
        geoms=geoms,
        modelled=bool(g.graph.get("modelled", False)),
        source=str(g.graph.get("source", "")),
        node_name=node_name,
    )
