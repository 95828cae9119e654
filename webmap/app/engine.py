"""Fast nearest-service-point queries for the web API (built once per app).

The road index, the snapped staffed points and the coordinate transformers are prepared once;
a request then costs one origin snap, one augmented graph (:func:`geo.traveltime.prepare`) and
ONE single-source Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`) from the origin, whose
shortest-path tree gives the times to every staffed point and the routes to the best ``n``.
Times follow :mod:`geo.traveltime`: access walk + network + access walk, in minutes.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from doorstep.geo._errors import InputError
from doorstep.geo.roadindex import (
    MODES,
    AccessParams,
    Augmented,
    Snaps,
    augment,
    road_index,
    snap_points,
)

BORDER_M = 500.0  # GPS noise / border hamlets: accept points this close outside the outline


@dataclass
class NearestPoint:
    """One reachable service point: its row, minutes, km and route (WGS84 coordinates)."""

    row: dict[str, Any]
    minutes: float
    km: float
    route: list[tuple[float, float]]


@dataclass
class _ModeTable:
    """Facilities snapped for one mode, their augmented graph and shortest-path trees."""

    snaps: Snaps
    aug: Augmented
    dist: np.ndarray  # (F, n_total) minutes from each facility (incl. its access leg)
    pred: np.ndarray  # (F, n_total) predecessor towards each facility


class NearestEngine:
    """Answers "which staffed service points are fastest to reach from here?".

    Parameters
    ----------
    model
        The county model (its graph, county outline and staffed points are read once).
    points
        The service points to search (default: staffed points from :mod:`analysis.coverage`).
    """

    def __init__(self, model: Any, points: Any) -> None:
        self.model = model
        self.index = road_index(model)
        self.access = AccessParams.from_file()
        self._to_m = Transformer.from_crs("EPSG:4326", self.index.crs, always_xy=True)
        self._to_wgs = Transformer.from_crs(self.index.crs, "EPSG:4326", always_xy=True)
        self._lock = threading.Lock()
        self._tables: dict[str, _ModeTable] = {}
        self.points = points.reset_index(drop=True)
        pm = self.points.to_crs(self.index.crs)
        self._fxy = np.column_stack([pm.geometry.x.to_numpy(), pm.geometry.y.to_numpy()])
        self.rows = [
            {
                "id": str(r["id"]),
                "name": str(r["name"]),
                "tier": str(r["tier"]),
                "address": str(r.get("address", "")),
                "opening_hours": str(r.get("opening_hours", "")),
                "phone": str(r.get("phone", "")),
                "staff": int(r.get("staff", 0)),
                "modelled": bool(r.get("modelled", True)),
                "lon": float(r.geometry.x),
                "lat": float(r.geometry.y),
            }
            for _, r in self.points.iterrows()
        ]
        self._edge_xy = [shapely.get_coordinates(g) for g in self.index.geoms]
        self._edge_cum = [
            np.r_[0.0, np.cumsum(np.hypot(np.diff(c[:, 0]), np.diff(c[:, 1])))]
            for c in self._edge_xy
        ]
        county = model.to_metric(model.county).geometry.union_all().buffer(BORDER_M)
        shapely.prepare(county)
        self.county = county
        for mode in MODES:  # build everything up front (thread safety, first-request latency)
            self.index.tree(mode)
            self._table(mode)

    def inside(self, lon: float, lat: float) -> bool:
        """Is the WGS84 point inside the county outline (or within ``BORDER_M`` of it)?"""
        x, y = self.to_metric(lon, lat)
        return bool(np.isfinite(x) and shapely.contains_xy(self.county, x, y))

    def _table(self, mode: str) -> _ModeTable:
        """Per-mode precomputation: facility snaps, their augmented graph and trees (cached)."""
        tab = self._tables.get(mode)
        if tab is None:
            with self._lock:
                tab = self._tables.get(mode)
                if tab is None:
                    snaps = snap_points(self.index, self._fxy, mode, self.access)
                    aug = augment(self.index, snaps, mode)
                    src = aug.point_nodes(slice(None))
                    dist, pred = dijkstra(aug.csr, indices=src, return_predecessors=True)
                    tab = _ModeTable(snaps, aug, np.asarray(dist), np.asarray(pred))
                    self._tables[mode] = tab
        return tab

    def nearest(
        self, lon: float, lat: float, mode: str = "car", n: int = 3, routes: int | None = 1
    ) -> tuple[list[NearestPoint], float]:
        """The ``n`` fastest-to-reach points from (lon, lat) and the origin's snap distance (m).

        With the facility trees precomputed, the time to facility ``j`` from an origin snapped
        at fraction ``f`` of edge ``(u, v)`` with edge time ``t_e`` and access walk ``a`` is::

            T_j = a + min(f·t_e + D_j(u), (1 − f)·t_e + D_j(v), |f − f_j|·t_e + a_j [same edge])

        where ``D_j`` are the Dijkstra times from facility ``j`` (incl. its access leg ``a_j``).
        This equals :func:`geo.traveltime.od_matrix` (tested). Routes are drawn for the first
        ``routes`` results (all when ``None``).
        """
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        tab = self._table(mode)
        x, y = self.to_metric(lon, lat)
        s = snap_points(self.index, np.array([[x, y]]), mode, self.access)
        e, f, a0 = int(s.edge[0]), float(s.frac[0]), float(s.access_min[0])
        te = float(self.index.times[mode][e])
        u, v = int(self.index.u[e]), int(self.index.v[e])
        via_u = a0 + f * te + tab.dist[:, u]
        via_v = a0 + (1.0 - f) * te + tab.dist[:, v]
        direct = np.where(
            tab.snaps.edge == e, a0 + np.abs(f - tab.snaps.frac) * te + tab.snaps.access_min, np.inf
        )
        stack = np.vstack([via_u, via_v, direct])
        how = np.argmin(stack, axis=0)
        minutes = stack[how, np.arange(stack.shape[1])]
        order = [int(j) for j in np.argsort(minutes, kind="stable")[:n] if np.isfinite(minutes[j])]
        out = []
        for rank, j in enumerate(order):
            coords: list[tuple[float, float]] = []
            metres = np.nan
            if routes is None or rank < routes:
                coords, metres = self._route(tab, s, j, int(how[j]), u, v)
            out.append(NearestPoint(self.rows[j], float(minutes[j]), metres / 1000.0, coords))
        return out, float(s.snap_m[0])

    def _route(
        self, tab: _ModeTable, s: Snaps, j: int, how: int, u: int, v: int
    ) -> tuple[list[tuple[float, float]], float]:
        """Polyline (WGS84) and length (m): origin → its edge → tree of facility ``j``."""
        idx, aug, fs = self.index, tab.aug, tab.snaps
        e, f = int(s.edge[0]), float(s.frac[0])
        coords: list[tuple[float, float]] = [(float(s.x[0]), float(s.y[0]))]
        length = float(s.snap_m[0])
        if how == 2:  # along the shared edge, then the facility's access leg
            coords += self._piece(e, f, float(fs.frac[j]))
            length += abs(f - float(fs.frac[j])) * float(idx.length_m[e]) + float(fs.snap_m[j])
            coords.append((float(fs.x[j]), float(fs.y[j])))
        else:
            node, end_f = (u, 0.0) if how == 0 else (v, 1.0)
            coords += self._piece(e, f, end_f)
            length += abs(f - end_f) * float(idx.length_m[e])
            src = int(aug.point_nodes(slice(j, j + 1))[0])
            path = [node]
            while path[-1] != src:
                path.append(int(tab.pred[j, path[-1]]))
            more, metres = self._path(tab, path)
            coords += more
            length += metres
        arr = np.asarray(coords)
        with self._lock:  # pyproj transformers are not thread-safe
            lon, lat = self._to_wgs.transform(arr[:, 0], arr[:, 1])
        out: list[tuple[float, float]] = []
        for a, b in zip(np.round(lon, 6), np.round(lat, 6), strict=True):
            if not out or out[-1] != (float(a), float(b)):
                out.append((float(a), float(b)))
        return out, length

    def _piece(self, e: int, f_from: float, f_to: float) -> list[tuple[float, float]]:
        """Coordinates of edge ``e`` between two fractions of its length, in travel order."""
        xy, cum = self._edge_xy[e], self._edge_cum[e]
        total = cum[-1]
        if total <= 0:
            return [(float(xy[0, 0]), float(xy[0, 1]))]
        d0, d1 = f_from * total, f_to * total
        lo, hi = min(d0, d1), max(d0, d1)
        inner = np.flatnonzero((cum > lo) & (cum < hi))
        ends = [
            np.array([np.interp(d, cum, xy[:, 0]), np.interp(d, cum, xy[:, 1])]) for d in (lo, hi)
        ]
        pts = [ends[0], *xy[inner], ends[1]]
        if d0 > d1:
            pts.reverse()
        return [(float(q[0]), float(q[1])) for q in pts]

    def _path(self, tab: _ModeTable, path: list[int]) -> tuple[list[tuple[float, float]], float]:
        """Coordinates and length of a path in the facility-augmented graph (ends at a point)."""
        aug, fs = tab.aug, tab.snaps
        n, k = aug.n_road, aug.n_points
        coords: list[tuple[float, float]] = []
        length = 0.0
        for p, q in itertools.pairwise(path):
            r = aug.record(p, q)
            length += float(aug.length_m[r])
            e = int(aug.edge[r])
            if e < 0:  # access leg or join: only the point node adds a vertex
                if q >= n + k:
                    coords.append((float(fs.x[q - n - k]), float(fs.y[q - n - k])))
                continue
            f0, f1 = float(aug.f0[r]), float(aug.f1[r])
            coords += self._piece(e, f0, f1) if p == aug.a[r] else self._piece(e, f1, f0)
        return coords, length

    def to_metric(self, lon: float, lat: float) -> tuple[float, float]:
        with self._lock:
            x, y = self._to_m.transform(lon, lat)
        return float(x), float(y)
