"""The augmented search graph: the road graph plus every snapped point as virtual nodes.

Every snapped point ``j`` (:mod:`geo.routing.snap`) becomes two virtual nodes: the on-edge node
``P'`` and the point ``P`` itself, joined by the walked access leg. An edge with points strictly
inside it is split into a chain ``u – P'₁ – P'₂ – … – v`` (sorted by ``f``), the piece between
fractions ``f₀ < f₁`` costing ``(f₁ − f₀)·t_e``; a point snapped onto an edge end is joined to
that road node at zero cost. So a multi-source Dijkstra from the point nodes includes both access
legs, and two points on the same edge also get the direct along-edge time. Used where a search
needs paths through the points (routes, path lengths, isochrones, the nearest-point engine).

:func:`prepare` snaps point sets once for a mode and keeps them (:class:`Prepared`) with their
road-node ends and, built on first use, their augmented graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from doorstep.geo._errors import InputError
from doorstep.geo.params import AccessParams

from .index import FloatArray, IntArray, RoadIndex, check_mode, road_index
from .snap import (
    Ends,
    PointSet,
    Snaps,
    end_flags,
    point_ends,
    point_set,
    snap_cached,
)

EPS_MIN = 0.0  # explicit zeros are kept as edges by scipy.sparse.csgraph (csr built directly)


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
    # polyline of each record in each direction, cut once (paths.record_piece)
    pieces: dict[tuple[int, bool], list[tuple[float, float]]] = field(default_factory=dict)

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
    at_u, _at_v, mid = end_flags(index, snaps)
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


@dataclass
class Prepared:
    """A road index, the snapped point sets and (built on first use) the augmented graph."""

    index: RoadIndex
    mode: str
    sets: list[Snaps]
    offsets: list[int]
    _aug: Augmented | None = field(default=None, repr=False)
    _points: Snaps | None = field(default=None, repr=False)
    _ends: dict[int, Ends] = field(default_factory=dict, repr=False)
    _fac: dict[int, sp.csr_matrix] = field(default_factory=dict, repr=False)

    @property
    def points(self) -> Snaps:
        """All point sets concatenated (point ``j`` is node ``n + k + j`` of :attr:`aug`)."""
        if self._points is None:
            self._points = self.sets[0] if len(self.sets) == 1 else Snaps.concat(self.sets)
        return self._points

    @property
    def aug(self) -> Augmented:
        """Road graph plus every snapped point as virtual nodes (built once, then kept)."""
        if self._aug is None:
            self._aug = augment(self.index, self.points, self.mode)
        return self._aug

    def nodes(self, i: int) -> IntArray:
        """Point-node ids (in the augmented graph) of point set ``i``."""
        o = self.offsets[i]
        return self.aug.point_nodes(slice(o, o + len(self.sets[i])))

    def ends(self, i: int) -> Ends:
        """Road-node ends of point set ``i`` (see :class:`geo.routing.snap.Ends`)."""
        if i not in self._ends:
            self._ends[i] = point_ends(self.index, self.sets[i], self.mode)
        return self._ends[i]

    def with_edge_minutes(
        self, minutes_per_edge: FloatArray, access: Sequence[FloatArray] | None = None
    ) -> Prepared:
        """These point sets on the road index re-timed by
        :meth:`RoadIndex.with_edge_minutes` (``minutes_per_edge`` for this mode) and, optionally,
        with each set's access-leg minutes replaced; the snaps are shared, the search graphs are
        built anew on first use. For the uncertainty ensemble: no model rebuild, no re-snap."""
        sets = list(self.sets)
        if access is not None:
            if len(access) != len(sets):
                raise InputError(f"need access minutes for {len(sets)} point sets")
            sets = [
                replace(s, access_min=np.asarray(a, dtype=float))
                for s, a in zip(sets, access, strict=True)
            ]
        idx = self.index.with_edge_minutes(self.mode, minutes_per_edge)
        return Prepared(idx, self.mode, sets, list(self.offsets))

    def source_graph(self, i: int) -> sp.csr_matrix:
        """Road CSR plus one node ``n + j`` per point ``j`` of set ``i`` with *directed* edges
        to its road ends (weight access + offset), for one multi-source pass from the points."""
        if i not in self._fac:
            e = self.ends(i)
            road = self.index.road_csr(self.mode)
            n, k = self.index.n, len(e)
            ok = np.isfinite(e.offset)
            src = (n + np.repeat(np.arange(k), 2).reshape(k, 2))[ok]
            w = (e.offset + e.access[:, None])[ok]
            coo = road.tocoo()
            m = sp.csr_matrix(
                (np.r_[coo.data, w], (np.r_[coo.row, src], np.r_[coo.col, e.node[ok]])),
                shape=(n + k, n + k),
            )
            m.sort_indices()
            self._fac[i] = m
        return self._fac[i]


CACHE_SIZE = 16  # prepared point sets kept per road index


def prepared_points(model_or_graph: Any, points: Any) -> PointSet:
    """``points`` (GeoDataFrame/GeoSeries in any CRS, or metric ``(k, 2)``) read, projected and
    keyed once for the road graph of ``model_or_graph``; pass the result to ``od_matrix``,
    ``nearest_facility``, ``node_times`` ... instead of the frame to skip that fixed cost::

        villages = prepared_points(model, model.villages)
        nearest_facility(model, villages, points_set, "car")  # answers as with the frames
    """
    return point_set(points, road_index(model_or_graph).crs)


def prepare(
    model_or_graph: Any, point_sets: list[Any], mode: str, access: AccessParams | None = None
) -> Prepared:
    """Snap several point sets for ``mode`` (the augmented graph is built on first use).

    ``model_or_graph`` is a county model, a road graph or a :class:`RoadIndex` (e.g. one
    re-timed by :meth:`RoadIndex.with_edge_minutes`). Results are cached on the road index,
    keyed by mode, access parameters and a digest of the points' metric coordinates, so repeated
    questions on the same points skip the snapping (:func:`geo.routing.snap.snap_cached`); point
    sets given as :class:`geo.routing.snap.PointSet` (:func:`geo.routing.point_set`) skip reading
    and hashing the frames too.
    """
    check_mode(mode)
    idx = road_index(model_or_graph)
    access = access or AccessParams.from_file()
    prepared = [point_set(p, idx.crs) for p in point_sets]
    key = (mode, access, tuple(p.digest for p in prepared))
    hit = idx.cache.get(key)
    if hit is not None:
        return cast(Prepared, hit)
    sets = [snap_cached(idx, p.xy, mode, access) for p in prepared]
    offsets = list(np.cumsum([0] + [len(s) for s in sets])[:-1].astype(int))
    prep = Prepared(idx, mode, sets, offsets)
    if len(idx.cache) >= CACHE_SIZE:
        idx.cache.pop(next(iter(idx.cache)), None)
    idx.cache[key] = prep
    return prep
