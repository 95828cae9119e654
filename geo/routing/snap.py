"""Snapping points to the road network, and where a snapped point joins the road nodes.

Points are joined to the network by snapping them to the *nearest edge* (not node) passable by
the mode, in the metric CRS:

* the point ``P`` is projected onto edge ``(u, v)`` at fraction ``f`` of its length from ``u``;
* the off-network access leg ``|P − P'|`` is walked at ``walk_kmh``
  (:class:`geo.params.AccessParams`, ``[access]`` of ``data/params/speeds.toml``), taking
  ``a = 0.06 · |P − P'| / walk_kmh`` minutes;
* the edge is split at ``P'``: the cost ``t_e`` becomes ``f·t_e`` towards ``u`` and
  ``(1 − f)·t_e`` towards ``v`` (:class:`Ends`); two points inside the same edge are also joined
  directly, ``|f₁ − f₂|·t_e`` (:func:`same_edge_pairs`).

Snap distances are reported and flagged above ``snap_limit_m``. This module is the only place
that turns a snap into times: every search (:mod:`geo.routing.od`, :mod:`geo.routing.graph`,
:mod:`geo.routing.nearest`) uses :func:`point_ends` / :func:`same_edge_pairs`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from doorstep.geo._errors import InputError
from doorstep.geo.params import AccessParams

from .index import FloatArray, IntArray, RoadIndex, check_mode

END_TOL_M = 0.01  # a snap this close (m) to an edge end joins the road node itself
SNAP_CACHE_SIZE = 32  # snapped point sets kept per road index and mode


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

    def with_access(self, access: AccessParams) -> Snaps:
        """The same snaps with the access legs timed and flagged by ``access``:
        ``a = snap_m / walk_m_per_min``, flagged where ``snap_m > snap_limit_m``."""
        return replace(
            self,
            access_min=self.snap_m / access.walk_m_per_min,
            flagged=self.snap_m > access.snap_limit_m,
        )

    @staticmethod
    def concat(sets: list[Snaps]) -> Snaps:
        """One point set made of several, in order."""
        return Snaps(
            *(np.concatenate([getattr(s, f) for s in sets]) for f in Snaps.__dataclass_fields__)
        )


@dataclass(frozen=True, eq=False)
class PointSet:
    """Points prepared once for repeated questions (:func:`point_set`): their metric ``xy``
    ``(k, 2)`` (read-only) in ``crs`` and its ``digest``, the key of the snap and prepared-set
    caches. Passing one instead of a GeoDataFrame skips reading the frame, projecting and
    hashing on every call — the fixed cost of a small question such as ``nearest_facility``."""

    xy: FloatArray
    crs: str
    digest: bytes

    def __len__(self) -> int:
        return len(self.xy)


def point_set(points: Any, crs: str) -> PointSet:
    """``points`` (GeoDataFrame/GeoSeries, metric array or PointSet) prepared for ``crs``."""
    if isinstance(points, PointSet) and points.crs == crs:
        return points
    xy = np.column_stack(point_xy(points, crs)).reshape(-1, 2)
    xy.setflags(write=False)
    return PointSet(xy, crs, xy_digest(xy))


def point_xy(points: Any, crs: str) -> tuple[FloatArray, FloatArray]:
    """Metric coordinates of points given as a GeoDataFrame/GeoSeries (any CRS), a
    :class:`PointSet` or an (k, 2) array already in the graph's metric CRS."""
    if isinstance(points, PointSet):
        if points.crs == crs:
            return points.xy[:, 0].copy(), points.xy[:, 1].copy()
        return _projected(points.crs, crs, points.xy[:, 0], points.xy[:, 1])
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
    px, py = transformer(src, dst).transform(xb, yb)
    out = (np.asarray(px, dtype=float), np.asarray(py, dtype=float))
    with _PROJECTED_LOCK:
        if len(_PROJECTED) >= 64:
            _PROJECTED.pop(next(iter(_PROJECTED)))
        _PROJECTED[key] = out
    return out[0].copy(), out[1].copy()


@functools.lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> Transformer:
    """Cached ``always_xy`` transformer from ``src`` to ``dst`` (not thread-safe: callers that
    share one across threads hold a lock)."""
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


def xy_digest(xy: FloatArray) -> bytes:
    """Digest of a ``(k, 2)`` coordinate array (cache key of a point set)."""
    return hashlib.blake2b(np.ascontiguousarray(xy).tobytes(), digest_size=16).digest()


def snap_cached(index: RoadIndex, xy: FloatArray, mode: str, access: AccessParams) -> Snaps:
    """:func:`snap_points` of metric ``xy``, remembered per index and mode (indexes derived by
    :meth:`RoadIndex.with_edge_minutes` share the memory while their passable edges stay the
    same); a different ``access`` only re-times the access legs (:meth:`Snaps.with_access`)."""
    memo = index.snap_cache.setdefault(check_mode(mode), {})
    key = xy_digest(xy)
    hit = memo.get(key)
    if hit is None:
        snaps = snap_points(index, xy, mode, access)
        if len(memo) >= SNAP_CACHE_SIZE:
            memo.pop(next(iter(memo)), None)
        memo[key] = (access, snaps)
        return snaps
    timed_by, snaps = hit
    return snaps if timed_by == access else snaps.with_access(access)


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


def end_flags(
    index: RoadIndex, snaps: Snaps
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Points snapped onto the u end, the v end, or strictly inside their edge (an end is hit
    when ``f·L ≤ END_TOL_M`` resp. ``(1 − f)·L ≤ END_TOL_M``, ``L`` the edge's length)."""
    glen = index.geom_length[snaps.edge]
    at_u = snaps.frac * glen <= END_TOL_M
    at_v = ~at_u & ((1.0 - snaps.frac) * glen <= END_TOL_M)
    return at_u, at_v, ~(at_u | at_v)


def point_ends(index: RoadIndex, snaps: Snaps, mode: str) -> Ends:
    """Road-node ends and offsets of snapped points (see :class:`Ends`)."""
    t = index.times[check_mode(mode)][snaps.edge]
    _at_u, at_v, mid = end_flags(index, snaps)
    u, v = index.u[snaps.edge], index.v[snaps.edge]
    first = np.where(at_v, v, u)
    node = np.column_stack([first, np.where(mid, v, first)]).astype(np.int64)
    off = end_offsets(mid, snaps.frac, t)
    return Ends(node, off, snaps.access_min, mid, snaps.edge, snaps.frac, t)


def end_offsets(mid: NDArray[np.bool_], frac: FloatArray, t_edge: FloatArray) -> FloatArray:
    """Minutes from snap positions to their two edge ends, shape ``t_edge.shape + (2,)``:
    ``(f·t_e, (1 − f)·t_e)`` inside an edge, ``(0, inf)`` on an end node. ``t_edge`` may carry
    leading batch axes (one row of edge times per draw, :func:`geo.routing.od.nearest_minutes_batch`).
    """
    return np.stack(
        [np.where(mid, frac * t_edge, 0.0), np.where(mid, (1.0 - frac) * t_edge, np.inf)], axis=-1
    )


def same_edge_pairs(a: Ends, b: Ends) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs (i, j) of points strictly inside the same edge and their direct along-edge time
    ``|f_i − f_j|·t_e`` (access legs not included)."""
    ai, bj = np.flatnonzero(a.mid), np.flatnonzero(b.mid)
    if ai.size == 0 or bj.size == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0)
    order = bj[np.argsort(b.edge[bj], kind="stable")]
    be = b.edge[order]
    lo = np.searchsorted(be, a.edge[ai], "left")
    cnt = np.searchsorted(be, a.edge[ai], "right") - lo
    i = np.repeat(ai, cnt)
    j = order[np.repeat(lo, cnt) + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)]
    return i, j, np.abs(a.frac[i] - b.frac[j]) * a.t_edge[i]
