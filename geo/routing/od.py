"""Travel times over the road network: OD matrices, nearest facility and node times.

All searches are vectorised multi-source Dijkstra runs (``scipy.sparse.csgraph.dijkstra``, C
speed) on the road graph, with the snapped points joined through their road-node ends
(:class:`geo.routing.snap.Ends`), or on the augmented graph (:mod:`geo.routing.graph`) where
path lengths are needed. Times are in **minutes** and include both off-network access legs,
walked at ``[access] walk_kmh``::

    T(o, d) = a_o + min over network paths (o' → d') of Σ t_e  + a_d

where ``o'``, ``d'`` are the snap positions on the nearest passable edges and ``t_e`` the edge
time of the mode (partial at the two ends). Unreachable pairs (or beyond ``cutoff``) are
``inf``. "Nearest facility" questions are answered in ONE multi-source pass
(``min_only=True``); the graph being undirected, times from the facilities equal times to them.
Every function takes a county model, a road graph or a :class:`geo.routing.index.RoadIndex`
(e.g. re-timed by :meth:`~geo.routing.index.RoadIndex.with_edge_minutes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from doorstep.geo._errors import InputError
from doorstep.geo.params import AccessParams

from .graph import Augmented, Prepared, prepare
from .index import FloatArray, IntArray
from .paths import edge_label, pred_path, walk
from .snap import Ends, end_offsets, same_edge_pairs

log = logging.getLogger(__name__)

MAX_CELLS = 20_000_000  # rows x nodes per Dijkstra batch (~160 MB of float64)


def _batch_rows(n_cols: int) -> int:
    return max(1, MAX_CELLS // max(n_cols, 1))


def _end_distances(
    prep: Prepared, src: Ends, dst_nodes: IntArray | None, lim: float
) -> tuple[FloatArray, IntArray]:
    """Road distances from the distinct end nodes of ``src`` to ``dst_nodes`` (all road nodes
    when None): ``(D, row)`` with ``D[row[j, c]]`` the row of end ``c`` of point ``j``."""
    road = prep.index.road_csr(prep.mode)
    rows = np.unique(src.node)
    cols = dst_nodes
    out = np.empty((rows.size, prep.index.n if cols is None else cols.size))
    b = _batch_rows(prep.index.n)
    for s in range(0, rows.size, b):
        d = dijkstra(road, indices=rows[s : s + b], limit=lim)
        out[s : s + b] = d if cols is None else d[:, cols]
    return out, np.searchsorted(rows, src.node)


def _combine(d: FloatArray, row: IntArray, col: IntArray, so: FloatArray, to: FloatArray) -> Any:
    """min over the end pairs (i, j) of ``d[row[:, i]][:, col[:, j]] + so[:, i] + to[:, j]``."""
    out = d[row[:, 0]][:, col[:, 0]] + so[:, :1] + to[None, :, 0]
    for i, j in ((0, 1), (1, 0), (1, 1)):
        si = np.flatnonzero(np.isfinite(so[:, i]))
        tj = np.flatnonzero(np.isfinite(to[:, j]))
        if si.size == 0 or tj.size == 0:
            continue
        blk = d[row[si, i]][:, col[tj, j]] + so[si, i : i + 1] + to[None, tj, j]
        if si.size == out.shape[0] and tj.size == out.shape[1]:
            np.minimum(out, blk, out=out)
        else:
            out[np.ix_(si, tj)] = np.minimum(out[np.ix_(si, tj)], blk)
    return out


def _od_minutes(prep: Prepared, lim: float) -> FloatArray:
    """OD minutes on the road nodes only (:class:`geo.routing.snap.Ends`), rows from the side with
    fewer distinct end nodes."""
    eo, ed = prep.ends(0), prep.ends(1)
    if len(eo) == 0 or len(ed) == 0:
        return np.full((len(eo), len(ed)), np.inf)
    flip = np.unique(ed.node).size < np.unique(eo.node).size
    es, et = (ed, eo) if flip else (eo, ed)
    cols = np.unique(et.node)
    d, row = _end_distances(prep, es, cols, lim)
    out = _combine(d, row, np.searchsorted(cols, et.node), es.offset, et.offset)
    i, j, direct = same_edge_pairs(es, et)
    if i.size:
        out[i, j] = np.minimum(out[i, j], direct)
    out += es.access[:, None]
    out += et.access[None, :]
    out[out > lim] = np.inf
    return out.T.copy() if flip else out


def _check_cutoff(cutoff: float | None) -> float:
    if cutoff is None:
        return np.inf
    if not cutoff > 0:
        raise InputError(f"cutoff must be a positive number of minutes, got {cutoff}")
    return float(cutoff)


def _path_lengths(aug: Augmented, pred: NDArray[np.int32]) -> FloatArray:
    """Network length (m) from the source to every node along the shortest-path tree ``pred``.

    Pointer doubling: ``D ← D + D[P]``, ``P ← P[P]`` until every pointer reaches its root,
    i.e. O(log depth) vectorised steps instead of a Python walk per node.
    """
    b, n = pred.shape
    rows = np.arange(b)[:, None]
    node = np.broadcast_to(np.arange(n), (b, n))
    has = pred >= 0
    ptr = np.where(has, pred, node).astype(np.int64)
    dist = np.zeros((b, n))
    r, c = np.nonzero(has)
    dist[r, c] = aug.edge_lengths(pred[r, c].astype(np.int64), c.astype(np.int64))
    for _ in range(64):
        nxt = ptr[rows, ptr]
        if np.array_equal(nxt, ptr):
            break
        dist = dist + dist[rows, ptr]
        ptr = nxt
    return dist


@dataclass
class ODMatrix:
    """Origin–destination travel times (minutes) including both access legs.

    Attributes
    ----------
    minutes : (n_orig, n_dest) float, ``inf`` where unreachable (or beyond the cutoff)
    km : (n_orig, n_dest) float or None, network + access distance along the fastest path
    origin_snap_m, dest_snap_m : snap distances (m); ``*_flagged`` above ``snap_limit_m``
    """

    minutes: FloatArray
    mode: str
    origin_snap_m: FloatArray
    dest_snap_m: FloatArray
    origin_flagged: NDArray[np.bool_]
    dest_flagged: NDArray[np.bool_]
    km: FloatArray | None = None
    cutoff: float | None = None
    units: dict[str, str] = field(
        default_factory=lambda: {"minutes": "min", "km": "km", "snap": "m"}
    )


def _od_with_km(prep: Prepared, lim: float) -> tuple[FloatArray, FloatArray]:
    """OD minutes and path km on the augmented graph (predecessors give the lengths)."""
    o_nodes, d_nodes = prep.nodes(0), prep.nodes(1)
    flip = d_nodes.size < o_nodes.size
    src, dst = (d_nodes, o_nodes) if flip else (o_nodes, d_nodes)
    out = np.full((src.size, dst.size), np.inf)
    km = np.full((src.size, dst.size), np.inf)
    batch = _batch_rows(prep.aug.n_total)
    for s in range(0, src.size, batch):
        ids = src[s : s + batch]
        d, pred = dijkstra(prep.aug.csr, indices=ids, limit=lim, return_predecessors=True)
        km[s : s + batch] = _path_lengths(prep.aug, pred)[:, dst] / 1000.0
        out[s : s + batch] = d[:, dst]
    km[~np.isfinite(out)] = np.inf
    if flip:
        return out.T.copy(), km.T.copy()
    return out, km


def od_matrix(
    model_or_graph: Any,
    origins: Any,
    destinations: Any,
    mode: str = "car",
    cutoff: float | None = None,
    with_distance: bool = False,
    access: AccessParams | None = None,
) -> ODMatrix:
    """Travel-time matrix between two point sets (see module docstring for the model).

    Times only: one C Dijkstra (``scipy.sparse.csgraph``) per distinct road node at the ends of
    the snapped edges of the side with fewer such nodes (the graph is undirected), on the road
    graph alone, combined with the snap offsets (:class:`geo.routing.snap.Ends`); batches of at
    most ``MAX_CELLS`` rows × nodes; ``cutoff`` bounds every search. With ``with_distance`` the
    search runs on the augmented graph and its predecessor trees give the path lengths.
    """
    lim = _check_cutoff(cutoff)
    prep = prepare(model_or_graph, [origins, destinations], mode, access)
    km = None
    if not with_distance:
        out = _od_minutes(prep, lim)
    else:
        out, km = _od_with_km(prep, lim)
    so, sd = prep.sets
    return ODMatrix(
        minutes=out,
        mode=mode,
        origin_snap_m=so.snap_m,
        dest_snap_m=sd.snap_m,
        origin_flagged=so.flagged,
        dest_flagged=sd.flagged,
        km=km,
        cutoff=cutoff,
    )


@dataclass
class NearestResult:
    """Nearest facility per origin: ``minutes`` (inf if none within cutoff) and ``facility``
    (positional index into the facilities, -1 if none)."""

    minutes: FloatArray
    facility: IntArray
    mode: str
    origin_snap_m: FloatArray
    origin_flagged: NDArray[np.bool_]
    facility_snap_m: FloatArray
    facility_flagged: NDArray[np.bool_]
    roads: list[list[str]] | None = None  # road names along each path (with_paths=True)
    km: FloatArray | None = None  # length of each path incl. access legs (with_paths=True)
    places: list[list[str]] | None = None  # named road nodes passed, from the origin on


def _trace_roads(
    prep: Prepared, pred: NDArray[np.int32], start: int
) -> tuple[list[str], float, list[str]]:
    """Road names (distinct, in order from the origin), length (m) and named places passed
    along the predecessor path from ``start`` to its tree's root."""
    w = walk(prep.index, prep.aug, prep.points, pred_path(pred, start), geometry=False)
    names: list[str] = []
    for e in w.edges:
        label = edge_label(prep.index, e)
        if label and label not in names:
            names.append(label)
    return names, w.length_m, w.places


def _from_sources(prep: Prepared, i: int, lim: float) -> tuple[FloatArray, IntArray]:
    """ONE multi-source pass from the points of set ``i``: minutes (incl. their access legs)
    to every road node and which point is nearest (-1 if none within ``lim``)."""
    n = prep.index.n
    k = len(prep.sets[i])
    dist, _pred, srcs = dijkstra(
        prep.source_graph(i),
        directed=True,
        indices=n + np.arange(k),
        limit=lim,
        min_only=True,
        return_predecessors=True,
    )
    src = np.where(srcs[:n] >= n, srcs[:n] - n, -1).astype(np.int64)
    return np.asarray(dist[:n]), src


def _nearest(prep: Prepared, lim: float) -> tuple[FloatArray, IntArray]:
    """Nearest facility (set 1) of every origin (set 0) from one multi-source pass."""
    eo, ef = prep.ends(0), prep.ends(1)
    dist, src = _from_sources(prep, 1, lim)
    cand = dist[eo.node] + eo.offset  # (k, 2)
    c = np.argmin(cand, axis=1)
    r = np.arange(len(eo))
    best = cand[r, c]
    fac = src[eo.node[r, c]]
    i, j, direct = same_edge_pairs(eo, ef)
    if i.size:
        direct = direct + ef.access[j]
        o = np.lexsort((direct, i))
        first = np.r_[True, i[o][1:] != i[o][:-1]]
        ii, jj, dd = i[o][first], j[o][first], direct[o][first]
        better = dd < best[ii]
        best[ii[better]] = dd[better]
        fac[ii[better]] = jj[better]
    best = best + eo.access
    best[best > lim] = np.inf
    return best, fac


def nearest_facility(
    model_or_graph: Any,
    origins: Any,
    facilities: Any,
    mode: str = "car",
    cutoff: float | None = None,
    access: AccessParams | None = None,
    with_paths: bool = False,
) -> NearestResult:
    """Time to the nearest facility for every origin, in ONE multi-source Dijkstra pass.

    With ``with_paths`` the shortest-path forest of that same pass gives, per origin, the road
    names along the way (``roads``, from the origin towards the facility) and the length (``km``).
    """
    lim = _check_cutoff(cutoff)
    prep = prepare(model_or_graph, [origins, facilities], mode, access)
    so, sf = prep.sets
    if len(sf) == 0:
        z = np.full(len(so), np.inf)
        return NearestResult(
            z,
            -np.ones(len(so), dtype=np.int64),
            mode,
            so.snap_m,
            so.flagged,
            sf.snap_m,
            sf.flagged,
        )
    if with_paths:
        o_nodes, f_nodes = prep.nodes(0), prep.nodes(1)
        dist, _pred, srcs = dijkstra(
            prep.aug.csr, indices=f_nodes, limit=lim, min_only=True, return_predecessors=True
        )
        lookup = -np.ones(prep.aug.n_total, dtype=np.int64)
        lookup[f_nodes] = np.arange(f_nodes.size)
        s = srcs[o_nodes]
        fac = np.where(s >= 0, lookup[np.maximum(s, 0)], -1)
        mins = dist[o_nodes]
    else:
        mins, fac = _nearest(prep, lim)
    fac[~np.isfinite(mins)] = -1
    res = NearestResult(mins, fac, mode, so.snap_m, so.flagged, sf.snap_m, sf.flagged)
    if with_paths:
        traced = [
            _trace_roads(prep, _pred, int(o)) if np.isfinite(mins[i]) else ([], np.inf, [])
            for i, o in enumerate(o_nodes)
        ]
        res.roads = [t[0] for t in traced]
        res.km = np.array([t[1] for t in traced], dtype=float) / 1000.0
        res.places = [t[2] for t in traced]
    return res


def node_times(
    model_or_graph: Any,
    sources: Any,
    mode: str = "car",
    cutoff: float | None = None,
    min_only: bool = False,
    access: AccessParams | None = None,
) -> FloatArray:
    """Minutes from each source point (incl. its access leg) to every road node.

    Returns ``(n_sources, n_nodes)``, or ``(n_nodes,)`` (time to the nearest source) when
    ``min_only``.
    """
    lim = _check_cutoff(cutoff)
    prep = prepare(model_or_graph, [sources], mode, access)
    n = prep.index.n
    if min_only:
        if len(prep.sets[0]) == 0:
            return np.full(n, np.inf)
        return _from_sources(prep, 0, lim)[0]
    return _node_times(prep, lim)


def _node_times(prep: Prepared, lim: float) -> FloatArray:
    """Minutes from every point of set 0 to every road node (rows batched)."""
    n = prep.index.n
    e = prep.ends(0)
    out = np.empty((len(e), n))
    b = _batch_rows(n)
    for s in range(0, len(e), b):
        part = e.take(slice(s, s + b))
        d, row = _end_distances(prep, part, None, lim)
        o = out[s : s + b]
        np.add(d[row[:, 0]], part.offset[:, :1], out=o)
        two = np.flatnonzero(part.mid)
        if two.size:
            o[two] = np.minimum(o[two], d[row[two, 1]] + part.offset[two, 1:])
        o += part.access[:, None]
    out[out > lim] = np.inf
    return out


def od_minutes_prepared(prep: Prepared, cutoff: float | None = None) -> FloatArray:
    """Origin (set 0) × destination (set 1) minutes of a prepared pair (see :func:`od_matrix`),
    e.g. of :meth:`Prepared.with_edge_minutes` for one ensemble draw."""
    return _od_minutes(prep, _check_cutoff(cutoff))


def nearest_minutes_batch(
    prep: Prepared, minutes: FloatArray, origin_access: FloatArray, facility_access: FloatArray
) -> FloatArray:
    """Minutes from every origin (set 0) to its nearest facility (set 1) for ``B`` rescalings
    of the edges at once.

    ``minutes`` is ``(B, n_edges)``, ``origin_access`` ``(B, k0)`` and ``facility_access``
    ``(B, k1)``. The ``B`` source graphs of :meth:`Prepared.source_graph` (road edges at their
    rescaled minutes ``t_e``, facility ``j`` joined to its edge ends with ``a_j + f·t_e`` and
    ``a_j + (1 − f)·t_e``) are laid out as one block-diagonal graph, so a single multi-source
    Dijkstra (``min_only``) answers every draw; origins then combine their two ends exactly as
    in :func:`nearest_facility`. Passable edges are those of ``prep`` (the snaps are kept).
    Returns ``(B, k0)``, ``inf`` where unreachable.
    """
    idx, eo, ef = prep.index, prep.ends(0), prep.ends(1)
    t = np.atleast_2d(np.asarray(minutes, dtype=float))
    b, n, k = t.shape[0], idx.n, len(ef)
    t = np.where(np.isfinite(t) & (t > 0), t, np.inf)
    if k == 0:
        return np.full((b, len(eo)), np.inf)
    ea = np.flatnonzero(np.isfinite(t[0]) & (idx.u != idx.v))
    f_ok = np.isfinite(ef.offset)
    src = (n + np.repeat(np.arange(k), 2).reshape(k, 2))[f_ok]
    rows = np.r_[idx.u[ea], idx.v[ea], src]
    cols = np.r_[idx.v[ea], idx.u[ea], ef.node[f_ok]]
    f_off = end_offsets(ef.mid, ef.frac, t[:, ef.edge]) + np.asarray(facility_access)[:, :, None]
    data = np.concatenate([t[:, ea], t[:, ea], f_off[:, f_ok]], axis=1)
    size = n + k
    shift = (np.arange(b) * size)[:, None]
    g = sp.csr_matrix(
        (data.ravel(), ((rows + shift).ravel(), (cols + shift).ravel())), shape=(b * size,) * 2
    )
    g.sort_indices()
    starts = (n + np.arange(k) + shift).ravel()
    dist = dijkstra(g, directed=True, indices=starts, min_only=True).reshape(b, size)[:, :n]
    best = np.min(dist[:, eo.node] + end_offsets(eo.mid, eo.frac, t[:, eo.edge]), axis=2)
    i, j, _ = same_edge_pairs(eo, ef)
    if i.size:
        direct = np.abs(eo.frac[i] - ef.frac[j]) * t[:, eo.edge[i]]
        np.minimum.at(best.T, i, (direct + np.asarray(facility_access)[:, j]).T)  # view: in place
    return best + np.asarray(origin_access)
