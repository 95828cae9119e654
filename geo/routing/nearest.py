"""The resident nearest-service-point engine (built once, then asked many times).

The road index, the snapped service points, their augmented graph
(:func:`geo.routing.graph.prepare`) and their shortest-path trees are prepared once per mode; a
question "which points are fastest to reach from (lon, lat)?" then costs one origin snap and a
few array operations — no search. With ``D_j`` the Dijkstra times from point ``j`` (its access
leg included) and the origin's road-node ends (:class:`geo.routing.snap.Ends`: nodes ``n_c``,
offsets ``o_c``, access walk ``a``)::

    T_j = a + min( min_c o_c + D_j(n_c),  |f − f_j|·t_e + a_j  [both inside the same edge e] )

which is :func:`geo.routing.od.od_matrix` term for term. The route to a result is the origin's
access leg, the piece of its edge to the chosen end, then the tree path of point ``j``
(:func:`geo.routing.paths.walk`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from doorstep.geo.params import MODES, AccessParams

from .graph import Prepared, prepare
from .index import FloatArray, check_mode, road_index
from .paths import Coords, edge_piece, pred_path, walk
from .snap import Ends, Snaps, point_ends, same_edge_pairs, snap_points

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

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
    """Service points prepared for one mode and their shortest-path trees."""

    prep: Prepared
    ends: Ends
    dist: FloatArray  # (F, n_total) minutes from each point (incl. its access leg)
    pred: NDArray[np.int32]  # (F, n_total) predecessor towards each point


def point_record(r: Any) -> dict[str, Any]:
    """The JSON-ready description of a service point returned with each answer."""
    return {
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


class NearestEngine:
    """Answers "which service points are fastest to reach from here?".

    Parameters
    ----------
    model
        The county model (its road graph and county outline are read once).
    points
        The service points to search (a GeoDataFrame, e.g. the staffed points).
    """

    def __init__(self, model: CountyModel, points: Any, access: AccessParams | None = None) -> None:
        self.model = model
        self.index = road_index(model)
        self.access = access or AccessParams.from_file()
        self._to_m = Transformer.from_crs("EPSG:4326", self.index.crs, always_xy=True)
        self._to_wgs = Transformer.from_crs(self.index.crs, "EPSG:4326", always_xy=True)
        self._lock = threading.Lock()
        self._tables: dict[str, _ModeTable] = {}
        self.points = points.reset_index(drop=True)
        pm = self.points.to_crs(self.index.crs)
        self._fxy = np.column_stack([pm.geometry.x.to_numpy(), pm.geometry.y.to_numpy()])
        self.rows = [point_record(r) for _, r in self.points.iterrows()]
        county = model.to_metric(model.county).geometry.union_all().buffer(BORDER_M)
        shapely.prepare(county)
        self.county = county
        self.index.edge_xy(0)  # vertex tables of every edge, before requests arrive
        for mode in MODES:  # build everything up front (thread safety, first-request latency)
            self.index.tree(mode)
            self._table(mode)

    def inside(self, lon: float, lat: float) -> bool:
        """Is the WGS84 point inside the county outline (or within ``BORDER_M`` of it)?"""
        x, y = self.to_metric(lon, lat)
        return bool(np.isfinite(x) and shapely.contains_xy(self.county, x, y))

    def _table(self, mode: str) -> _ModeTable:
        """Per-mode precomputation: snapped points, their augmented graph and trees (cached)."""
        tab = self._tables.get(mode)
        if tab is None:
            with self._lock:
                tab = self._tables.get(mode)
                if tab is None:
                    prep = prepare(self.index, [self._fxy], mode, self.access)
                    src = prep.nodes(0)
                    dist, pred = dijkstra(prep.aug.csr, indices=src, return_predecessors=True)
                    tab = _ModeTable(prep, prep.ends(0), np.asarray(dist), np.asarray(pred))
                    self._tables[mode] = tab
        return tab

    def nearest(
        self, lon: float, lat: float, mode: str = "car", n: int = 3, routes: int | None = 1
    ) -> tuple[list[NearestPoint], float]:
        """The ``n`` fastest-to-reach points from (lon, lat) and the origin's snap distance (m).

        Times follow the module docstring (equal to :func:`geo.routing.od.od_matrix`, tested).
        Routes are drawn for the first ``routes`` results (all when ``None``).
        """
        tab = self._table(check_mode(mode))
        s = snap_points(self.index, np.array([self.to_metric(lon, lat)]), mode, self.access)
        eo = point_ends(self.index, s, mode)
        stack = np.full((3, len(tab.ends)), np.inf)
        stack[:2] = eo.offset[0][:, None] + tab.dist[:, eo.node[0]].T
        _i, same, direct = same_edge_pairs(eo, tab.ends)
        stack[2, same] = direct + tab.ends.access[same]
        how = np.argmin(stack, axis=0)
        minutes = stack[how, np.arange(stack.shape[1])] + eo.access[0]
        order = [int(j) for j in np.argsort(minutes, kind="stable")[:n] if np.isfinite(minutes[j])]
        out = []
        for rank, j in enumerate(order):
            coords: list[tuple[float, float]] = []
            metres = np.nan
            if routes is None or rank < routes:
                coords, metres = self._route(tab, s, eo, j, int(how[j]))
            out.append(NearestPoint(self.rows[j], float(minutes[j]), metres / 1000.0, coords))
        return out, float(s.snap_m[0])

    def _route(
        self, tab: _ModeTable, s: Snaps, eo: Ends, j: int, how: int
    ) -> tuple[list[tuple[float, float]], float]:
        """Polyline (WGS84) and length (m): origin → its edge → tree path of point ``j``."""
        idx, fs = self.index, tab.prep.points
        e, f = int(s.edge[0]), float(s.frac[0])
        coords: Coords = [(float(s.x[0]), float(s.y[0]))]
        length = float(s.snap_m[0])
        if how == 2:  # along the shared edge, then the point's access leg
            coords += edge_piece(idx, e, f, float(fs.frac[j]))
            length += abs(f - float(fs.frac[j])) * float(idx.length_m[e]) + float(fs.snap_m[j])
            coords.append((float(fs.x[j]), float(fs.y[j])))
        else:
            node = int(eo.node[0, how])
            end_f = 0.0 if node == idx.u[e] else 1.0
            coords += edge_piece(idx, e, f, end_f)
            length += abs(f - end_f) * float(idx.length_m[e])
            w = walk(idx, tab.prep.aug, fs, pred_path(tab.pred[j], node), geometry=True)
            coords += w.coords
            length += w.length_m
        arr = np.asarray(coords)
        with self._lock:  # pyproj transformers are not thread-safe
            lon, lat = self._to_wgs.transform(arr[:, 0], arr[:, 1])
        out: list[tuple[float, float]] = []
        for a, b in zip(np.round(lon, 6), np.round(lat, 6), strict=True):
            if not out or out[-1] != (float(a), float(b)):
                out.append((float(a), float(b)))
        return out, length

    def to_metric(self, lon: float, lat: float) -> tuple[float, float]:
        with self._lock:
            x, y = self._to_m.transform(lon, lat)
        return float(x), float(y)
