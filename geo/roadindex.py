"""Array form of the road graph, nearest-edge snapping and the augmented search graph.

The networkx road graph (see the road-graph contract in ``notes/contracts.md``) is converted
**once** into flat numpy arrays (:class:`RoadIndex`, cached per graph object). Points are joined
to the network by snapping them to the *nearest edge* (not node) in the metric CRS:

* the point ``P`` is projected onto edge ``(u, v)`` at fraction ``f`` of its length from ``u``;
* the off-network access leg ``|P − P'|`` is walked at ``walk_kmh`` (``[access]`` of
  ``data/params/speeds.toml``), taking ``a = 0.06 · |P − P'| / walk_kmh`` minutes;
* the edge is split at ``P'``: the cost ``t_e`` becomes ``f·t_e`` towards ``u`` and
  ``(1 − f)·t_e`` towards ``v``. Several points snapped to one edge split it into a chain
  ``u – P'₁ – P'₂ – … – v`` (sorted by ``f``), so two points on the same edge also get the direct
  along-edge time.

Every snapped point becomes two virtual nodes (on-edge ``P'`` and the point ``P`` itself, joined
by the access leg), so a multi-source Dijkstra from the point nodes includes both access legs.
Snap distances are reported and flagged above ``snap_limit_m``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import tomllib
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from ._errors import DataFileError, InputError
from .params import MODES
from .settings import project_data_dir

log = logging.getLogger(__name__)

END_TOL_M = 0.01  # a snap this close (m) to an edge end joins the road node itself
EPS_MIN = 0.0  # explicit zeros are kept as edges by scipy.sparse.csgraph (csr built directly)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class AccessParams:
    """Off-network access leg: walking speed (km/h) and the snap distance flag limit (m)."""

    walk_kmh: float = 4.5
    snap_limit_m: float = 1000.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.walk_kmh <= 10.0:
            raise InputError(f"access walking speed must be 0.5–10 km/h, got {self.walk_kmh}")
        if not self.snap_limit_m > 0:
            raise InputError(f"snap_limit_m must be positive, got {self.snap_limit_m}")

    @property
    def walk_m_per_min(self) -> float:
        """Walking speed in metres per minute."""
        return self.walk_kmh * 1000.0 / 60.0

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> AccessParams:
        """Read ``[access]`` from ``data/params/speeds.toml`` (defaults when absent; the parsed
        file is cached until it changes)."""
        p = Path(path) if path else project_data_dir() / "params" / "speeds.toml"
        try:
            st = os.stat(p)
        except OSError:
            return cls()
        return cls._read(str(p), st.st_mtime_ns, st.st_size)

    @classmethod
    @functools.lru_cache(maxsize=8)
    def _read(cls, path: str, _mtime_ns: int, _size: int) -> AccessParams:
        p = Path(path)
        try:
            with open(p, "rb") as fh:
                d = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise DataFileError(p, f"not valid TOML ({exc})", fix="correct the syntax") from None
        acc = d.get("access", {})
        try:
            return cls(float(acc.get("walk_kmh", 4.5)), float(acc.get("snap_limit_m", 1000.0)))
        except InputError as exc:
            raise DataFileError(
                p, str(exc), field="access", fix="give walk_kmh in 0.5–10"
            ) from None


@dataclass
class RoadIndex:
    """Flat-array form of an undirected road graph (node ids ``0..n-1``).

    Edge ``k`` joins ``u[k]`` and ``v[k]``; ``geoms[k]`` runs from ``u[k]`` to ``v[k]`` in the
    metric CRS. ``times[mode][k]`` is in minutes, ``inf`` where the mode cannot pass.
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
    raise InputError("expected a CountyModel or a networkx road graph")


def road_index(model_or_graph: Any) -> RoadIndex:
    """Return the (cached) :class:`RoadIndex` of a road graph or county model."""
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


def _build_index(g: nx.Graph) -> RoadIndex:
    crs = g.graph.get("crs")
    if not crs:
        raise InputError("road graph has no metric CRS in G.graph['crs']")
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
    missing = np.array([gm is None for gm in geoms], dtype=bool)
    if missing.any():
        pts = np.stack([x[u[missing]], y[u[missing]], x[v[missing]], y[v[missing]]], axis=1)
        geoms[missing] = shapely.linestrings(pts.reshape(-1, 2, 2))
    if (~missing).any():
        # orient every stored geometry from u to v
        have = np.flatnonzero(~missing)
        start = shapely.get_point(geoms[have], 0)
        du = shapely.distance(start, shapely.points(x[u[have]], y[u[have]]))
        dv = shapely.distance(start, shapely.points(x[v[have]], y[v[have]]))
        flip = have[dv < du]
        geoms[flip] = shapely.reverse(geoms[flip])
    log.debug("road index: %d nodes, %d edges", n, m)
    return RoadIndex(
        crs=str(crs),
        n=n,
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


# ----------------------------------------------------------------------------------- snapping


@dataclass
class Snaps:
    """Points snapped to their nearest passable edge (all arrays of length ``k``)."""

    x: FloatArray  # point coordinates (metric CRS)
    y: FloatArray
    edge: IntArray  # edge index in the RoadIndex
    frac: FloatArray  # fraction of the edge from u
    snap_m: FloatArray  # off-network distance (m)
    access_min: FloatArray  # walk time of the access leg (minutes)
    flagged: NDArray[np.bool_]  # snap_m > snap_limit_m

    def __len__(self) -> int:
        return int(self.x.size)


def point_xy(points: Any, crs: str) -> tuple[FloatArray, FloatArray]:
    """Metric coordinates of points given as a GeoDataFrame/GeoSeries (any CRS) or an (k, 2) array
    already in the graph's metric CRS."""
    if isinstance(points, np.ndarray):
        arr = np.asarray(points, dtype=float).reshape(-1, 2)
        return arr[:, 0].copy(), arr[:, 1].copy()
    geom = getattr(points, "geometry", None)
    if geom is None:
        raise InputError(
            "points must be a GeoDataFrame/GeoSeries or an (k, 2) array of metric x, y"
        )
    if len(geom) == 0:
        return np.empty(0), np.empty(0)
    if geom.crs is None:
        raise InputError("points have no CRS; set it (e.g. gdf.set_crs('EPSG:4326'))")
    arr = np.asarray(geom.values, dtype=object)
    tid = shapely.get_type_id(arr)
    bad = (tid != 0) & (tid != -1)  # -1: missing geometry (reported as invalid coordinates)
    if bad.any():
        types = sorted({str(t) for t in shapely.get_type_id(arr[bad])})
        names = sorted({g.geom_type for g in arr[bad]})
        raise InputError(f"points must be Point geometries, got {names or types}")
    x, y = shapely.get_x(arr), shapely.get_y(arr)
    src = str(geom.crs.srs)
    if src != crs:
        x, y = _projected(src, crs, x, y)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


_PROJECTED: dict[tuple[str, str, bytes], tuple[FloatArray, FloatArray]] = {}
_PROJECTED_LOCK = threading.Lock()


def _projected(src: str, dst: str, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``x, y`` projected from ``src`` to ``dst``; repeated questions about the same points
    (the web app's and the planners' calls) reuse the result, keyed by a digest of the input
    coordinates, so projecting is not most of a nearest-point query."""
    xb, yb = np.ascontiguousarray(x, dtype=float), np.ascontiguousarray(y, dtype=float)
    key = (src, dst, hashlib.blake2b(xb.tobytes() + yb.tobytes(), digest_size=16).digest())
    with _PROJECTED_LOCK:
        hit = _PROJECTED.get(key)
    if hit is not None:
        return hit[0].copy(), hit[1].copy()
    px, py = _transformer(src, dst).transform(xb, yb)
    out = (np.asarray(px, dtype=float), np.asarray(py, dtype=float))
    with _PROJECTED_LOCK:
        if len(_PROJECTED) >= 64:
            _PROJECTED.pop(next(iter(_PROJECTED)))
        _PROJECTED[key] = out
    return out[0].copy(), out[1].copy()


@functools.lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def snap_points(
    index: RoadIndex, points: Any, mode: str, access: AccessParams | None = None
) -> Snaps:
    """Snap points to the nearest edge passable by ``mode`` (see module docstring)."""
    access = access or AccessParams.from_file()
    px, py = point_xy(points, index.crs)
    if px.size and not (np.isfinite(px).all() and np.isfinite(py).all()):
        raise InputError("some points have missing/invalid coordinates")
    tree, sub = index.tree(mode)
    if px.size == 0:
        e = np.empty(0, dtype=np.int64)
        z = np.empty(0)
        return Snaps(px, py, e, z, z, z, np.empty(0, dtype=bool))
    pts = shapely.points(px, py)
    (qi, ti), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(qi)
    edge = sub[ti[order]]
    snap_m = np.asarray(dist[order], dtype=float)
    frac = shapely.line_locate_point(index.geoms[edge], pts, normalized=True)
    frac = np.clip(np.nan_to_num(np.asarray(frac, dtype=float), nan=0.0), 0.0, 1.0)
    return Snaps(
        x=px,
        y=py,
        edge=edge.astype(np.int64),
        frac=frac,
        snap_m=snap_m,
        access_min=snap_m / access.walk_m_per_min,
        flagged=snap_m > access.snap_limit_m,
    )


@dataclass
class Ends:
    """Where each snapped point joins the road graph, for searches on the road nodes only.

    ``node[j]`` are the two road nodes at the ends of point ``j``'s edge and ``offset[j]`` the
    minutes from the snap position ``P'`` to each (``f·t_e`` and ``(1 − f)·t_e``); a point
    snapped onto an edge end uses that node with offset 0 and ``inf`` for the other column.
    ``access`` is the walk time of the access leg, ``mid`` marks points strictly inside their
    edge (two such points on one edge are also joined directly: ``|f₁ − f₂|·t_e``). Then::

        T(o, d) = a_o + a_d + min( min_{i,j} off_o[i] + D(node_o[i], node_d[j]) + off_d[j],
                                   |f_o − f_d|·t_e  if o, d inside the same edge e )

    with ``D`` the road-node distances — exactly the augmented-graph time, because the virtual
    nodes only split edges (no shortcut) and the point nodes are leaves.
    """

    node: IntArray  # (k, 2)
    offset: FloatArray  # (k, 2) minutes
    access: FloatArray
    mid: NDArray[np.bool_]
    edge: IntArray
    frac: FloatArray
    t_edge: FloatArray

    def __len__(self) -> int:
        return int(self.access.size)

    def take(self, j: IntArray | slice) -> Ends:
        """The ends of a subset of the points."""
        return Ends(*(getattr(self, f)[j] for f in Ends.__dataclass_fields__))


def _end_flags(
    index: RoadIndex, snaps: Snaps
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Points snapped onto the u end, the v end, or strictly inside their edge."""
    glen = shapely.length(index.geoms[snaps.edge]) if len(snaps) else np.empty(0)
    at_u = snaps.frac * glen <= END_TOL_M
    at_v = ~at_u & ((1.0 - snaps.frac) * glen <= END_TOL_M)
    return at_u, at_v, ~(at_u | at_v)


def point_ends(index: RoadIndex, snaps: Snaps, mode: str) -> Ends:
    """Road-node ends and offsets of snapped points (see :class:`Ends`)."""
    t = index.times[check_mode(mode)][snaps.edge]
    _at_u, at_v, mid = _end_flags(index, snaps)
    u, v = index.u[snaps.edge], index.v[snaps.edge]
    first = np.where(at_v, v, u)
    node = np.column_stack([first, np.where(mid, v, first)]).astype(np.int64)
    off = np.column_stack(
        [np.where(mid, snaps.frac * t, 0.0), np.where(mid, (1.0 - snaps.frac) * t, np.inf)]
    )
    return Ends(node, off, snaps.access_min, mid, snaps.edge, snaps.frac, t)


# -------------------------------------------------------------------------- augmented graph


@dataclass
class Augmented:
    """Road graph plus virtual nodes for snapped points, as a symmetric CSR of minutes.

    Nodes ``0..n-1`` are road nodes; ``n + j`` is the on-edge node of point ``j`` and
    ``n + k + j`` the point node itself. Edge records ``a, b, edge, f0, f1`` give, for every
    (undirected) augmented edge, the road edge it lies on and the fractions it spans (``edge=-1``
    for access legs, ``-2`` for a zero-length join of an on-edge node to the road node it sits
    on).
    """

    n_road: int
    n_points: int
    csr: sp.csr_matrix
    a: IntArray
    b: IntArray
    edge: IntArray
    f0: FloatArray
    f1: FloatArray
    minutes: FloatArray
    length_m: FloatArray
    _keys: IntArray | None = None
    _len_data: FloatArray | None = None
    _records: dict[tuple[int, int], int] | None = None

    @property
    def n_total(self) -> int:
        return self.n_road + 2 * self.n_points

    def point_nodes(self, j: IntArray | slice) -> IntArray:
        return (self.n_road + self.n_points + np.arange(self.n_points)[j]).astype(np.int64)

    def _lookup(self, p: IntArray, q: IntArray) -> IntArray:
        """Index into csr.data of the entries (p, q)."""
        if self._keys is None:
            rows = np.repeat(np.arange(self.csr.shape[0], dtype=np.int64), np.diff(self.csr.indptr))
            self._keys = rows * self.n_total + self.csr.indices.astype(np.int64)
        return np.searchsorted(self._keys, p.astype(np.int64) * self.n_total + q)

    def edge_lengths(self, p: IntArray, q: IntArray) -> FloatArray:
        """Length (m) of the augmented edges (p, q) (must exist)."""
        assert self._len_data is not None
        return self._len_data[self._lookup(p, q)]

    def record(self, p: int, q: int) -> int:
        """Index of the (fastest) edge record joining p and q."""
        if self._records is None:
            rec: dict[tuple[int, int], int] = {}
            for i, (x, y) in enumerate(zip(self.a.tolist(), self.b.tolist(), strict=True)):
                key = (x, y) if x < y else (y, x)
                if key not in rec or self.minutes[i] < self.minutes[rec[key]]:
                    rec[key] = i
            self._records = rec
        return self._records[(p, q) if p < q else (q, p)]

    def csr_without(self, road_edges: IntArray) -> sp.csr_matrix:
        """The search graph with the given road edges (RoadIndex edge indices) removed."""
        keep = ~np.isin(self.edge, road_edges)
        a, b, w = self.a[keep], self.b[keep], np.maximum(self.minutes[keep], EPS_MIN)
        n = self.n_total
        m = sp.csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
        m.sort_indices()
        return m


def augment(index: RoadIndex, snaps: Snaps, mode: str) -> Augmented:
    """Build the augmented search graph for ``mode`` with every snapped point as virtual nodes."""
    n, k = index.n, len(snaps)
    t_all = index.times[check_mode(mode)]
    keep = np.isfinite(t_all)
    # points snapped onto an edge end are joined to that road node (edge = -2), not split in
    at_u, _at_v, mid = _end_flags(index, snaps)
    touched = np.zeros(index.n_edges, dtype=bool)
    touched[snaps.edge[mid]] = True
    base = np.flatnonzero(keep & ~touched)
    recs_a = [index.u[base]]
    recs_b = [index.v[base]]
    recs_e = [base]
    recs_f0 = [np.zeros(base.size)]
    recs_f1 = [np.ones(base.size)]
    if k and mid.any():
        order = np.flatnonzero(mid)[np.lexsort((snaps.frac[mid], snaps.edge[mid]))]
        e_sorted = snaps.edge[order]
        on_node = n + order  # on-edge virtual node of each sorted point
        f_sorted = snaps.frac[order]
        first = np.r_[True, e_sorted[1:] != e_sorted[:-1]]
        last = np.r_[e_sorted[1:] != e_sorted[:-1], True]
        # chain: u -> first point, point i -> point i+1 (same edge), last point -> v
        prev_node = np.where(first, index.u[e_sorted], np.r_[-1, on_node[:-1]])
        prev_f = np.where(first, 0.0, np.r_[0.0, f_sorted[:-1]])
        recs_a += [prev_node, on_node[last]]
        recs_b += [on_node, index.v[e_sorted[last]]]
        recs_e += [e_sorted, e_sorted[last]]
        recs_f0 += [prev_f, f_sorted[last]]
        recs_f1 += [f_sorted, np.ones(int(last.sum()))]
    a = np.concatenate(recs_a).astype(np.int64)
    b = np.concatenate(recs_b).astype(np.int64)
    e = np.concatenate(recs_e).astype(np.int64)
    f0 = np.concatenate(recs_f0)
    f1 = np.concatenate(recs_f1)
    span = f1 - f0
    minutes = t_all[e] * span
    length = index.length_m[e] * span
    if k:
        ends = np.flatnonzero(~mid)
        end_node = np.where(at_u, index.u[snaps.edge], index.v[snaps.edge])[ends]
        a = np.r_[a, n + ends]
        b = np.r_[b, end_node]
        e = np.r_[e, np.full(ends.size, -2, dtype=np.int64)]
        f0 = np.r_[f0, np.zeros(ends.size)]
        f1 = np.r_[f1, np.zeros(ends.size)]
        minutes = np.r_[minutes, np.zeros(ends.size)]
        length = np.r_[length, np.zeros(ends.size)]
        # access legs: point node <-> on-edge node
        pt = n + k + np.arange(k)
        a = np.r_[a, pt]
        b = np.r_[b, n + np.arange(k)]
        e = np.r_[e, -np.ones(k, dtype=np.int64)]
        f0 = np.r_[f0, np.zeros(k)]
        f1 = np.r_[f1, np.zeros(k)]
        minutes = np.r_[minutes, snaps.access_min]
        length = np.r_[length, snaps.snap_m]
    ok = np.isfinite(minutes) & (a != b)
    a, b, e, f0, f1, minutes, length = (z[ok] for z in (a, b, e, f0, f1, minutes, length))
    w = np.maximum(minutes, EPS_MIN)
    total = n + 2 * k
    rows = np.r_[a, b]
    cols = np.r_[b, a]
    csr = sp.csr_matrix((np.r_[w, w], (rows, cols)), shape=(total, total))
    lcsr = sp.csr_matrix((np.r_[length, length], (rows, cols)), shape=(total, total))
    csr.sort_indices()
    lcsr.sort_indices()
    aug = Augmented(n, k, csr, a, b, e, f0, f1, minutes, length)
    if csr.nnz != lcsr.nnz:  # pragma: no cover - duplicates are impossible by construction
        raise RuntimeError("augmented graph has duplicate edges")
    aug._len_data = lcsr.data
    return aug
