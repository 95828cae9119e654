"""Service areas (isochrones) built from what is reachable along the network.

For a break ``B`` (minutes) and node times ``T`` from the service points, every (augmented)
edge ``a–b`` with time ``t_e`` is reached from ``a`` over the fraction
``r_a = min(1, (B − T_a) / t_e)`` when ``T_a < B`` (likewise from ``b``), so partial edges are cut
exactly at the break. The **line service area** is the set of these reachable pieces.

The **polygon service area** adds the off-road walking band: at a point of a reachable piece
reached at time ``t`` a person can still walk ``ρ(t) = min((B − t) · v_walk, cap_m)`` metres,
which is the same access-leg rule the OD engine uses. Pieces are densified (≤ ``seg_m``) and
each segment contributes the convex hull of its two end discs — exact for a radius that varies
linearly along a straight segment — then everything is unioned. No convex hull is taken over
the whole reachable set, so valleys without a road stay outside.

Polygons count a location as reachable if it is within the band of *any* reached road, while
the OD engine snaps each point to its single nearest road; the two agree wherever a point's
nearest road is also the one it is reached by.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from doorstep.geo._errors import InputError
from doorstep.geo.params import AccessParams

from .graph import Prepared, prepare
from .index import FloatArray, IntArray

log = logging.getLogger(__name__)

DEFAULT_BREAKS: tuple[float, ...] = (15.0, 30.0, 60.0)
_N_ANGLES = 12


def _check_breaks(breaks: Sequence[float]) -> list[float]:
    bs = sorted(float(b) for b in breaks)
    if not bs or bs[0] <= 0:
        raise InputError(f"breaks must be positive minutes, got {list(breaks)}")
    return bs


def reachable_pieces(
    prep: Prepared, times: FloatArray, brk: float
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Pieces of road edges reachable within ``brk`` minutes.

    Returns ``edge, f_start, f_end, t_start, t_end``: road-edge index, fractions along the edge
    (``f_start`` is where the piece is entered) and the times there.
    """
    aug = prep.aug
    road = aug.edge >= 0
    a, b, e = aug.a[road], aug.b[road], aug.edge[road]
    f0, f1, te = aug.f0[road], aug.f1[road], aug.minutes[road]
    ta, tb = times[a], times[b]
    # meeting point of the two fronts (fraction from a): ta + s·te = tb + (1 − s)·te
    both = (ta < brk) & (tb < brk) & (te > 0)
    meet = np.ones_like(te)
    meet[both] = np.clip((tb[both] - ta[both] + te[both]) / (2 * te[both]), 0.0, 1.0)
    out = []
    for t_side, f_from, f_to, lim in ((ta, f0, f1, meet), (tb, f1, f0, 1.0 - meet)):
        hit = t_side < brk
        ts, tt, ff, fto = t_side[hit], te[hit], f_from[hit], f_to[hit]
        r = np.ones_like(ts)
        pos = tt > 0
        r[pos] = np.minimum(1.0, (brk - ts[pos]) / tt[pos])
        r = np.where(both[hit], np.minimum(r, lim[hit]), r)
        keep = (r > 0) | ~pos
        out.append(
            (e[hit][keep], ff[keep], (ff + r * (fto - ff))[keep], ts[keep], (ts + r * tt)[keep])
        )
    return tuple(np.concatenate(z) for z in zip(*out, strict=True))  # type: ignore[return-value]


def _piece_geoms(prep: Prepared, edge: IntArray, fs: FloatArray, fe: FloatArray) -> np.ndarray:
    geoms = prep.index.geoms
    return np.array(
        [
            substring(geoms[k], float(a), float(b), normalized=True)
            for k, a, b in zip(edge, fs, fe, strict=True)
        ],
        dtype=object,
    )


def _band_polygon(
    pieces: np.ndarray,
    ts: FloatArray,
    tend: FloatArray,
    brk: float,
    v: float,
    cap: float,
    seg_m: float,
) -> shapely.Geometry:
    """Union of the walking bands around the reachable pieces."""
    keep = (shapely.get_type_id(pieces) == 1) & (shapely.length(pieces) > 1e-6)
    lines = pieces[keep]
    if lines.size == 0:
        pts = pieces[shapely.get_type_id(pieces) == 0]
        return shapely.union_all(shapely.buffer(pts, min(brk * v, cap), quad_segs=3))
    ts, tend = ts[keep], tend[keep]
    dense = shapely.segmentize(lines, seg_m)
    coords, which = shapely.get_coordinates(dense, return_index=True)
    # cumulative distance along each piece -> time at each vertex
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    first = np.r_[True, which[1:] != which[:-1]]
    step[first] = 0.0
    cum = np.cumsum(step)
    start_cum = np.maximum.accumulate(np.where(first, cum, 0.0))
    along = cum - start_cum
    total = shapely.length(lines)[which]
    frac = np.divide(along, total, out=np.zeros_like(along), where=total > 0)
    t = ts[which] + frac * (tend[which] - ts[which])
    rad = np.clip((brk - t) * v, 0.0, cap)
    # segments between consecutive vertices of one piece
    s = np.flatnonzero(~first)
    i0, i1 = s - 1, s
    ang = np.linspace(0.0, 2 * np.pi, _N_ANGLES, endpoint=False)
    cs, sn = np.cos(ang), np.sin(ang)

    def ring(i: IntArray) -> np.ndarray:
        return np.stack(
            [coords[i, 0, None] + rad[i, None] * cs, coords[i, 1, None] + rad[i, None] * sn],
            axis=-1,
        )

    pts = np.concatenate([ring(i0), ring(i1)], axis=1).reshape(-1, 2)
    idx = np.repeat(np.arange(s.size), 2 * _N_ANGLES)
    hulls = shapely.convex_hull(shapely.multipoints(pts, indices=idx))
    hulls = hulls[shapely.get_type_id(hulls) == 3]
    if hulls.size == 0:
        return shapely.Polygon()
    return shapely.union_all(hulls)


def _times(prep: Prepared, sources: IntArray, limit: float) -> FloatArray:
    return np.asarray(dijkstra(prep.aug.csr, indices=sources, limit=limit, min_only=True))


def service_areas(
    model_or_graph: Any,
    points: Any,
    mode: str = "car",
    breaks: Sequence[float] = DEFAULT_BREAKS,
    dissolve: bool = True,
    cap_m: float | None = None,
    seg_m: float = 100.0,
    access: AccessParams | None = None,
) -> gpd.GeoDataFrame:
    """Isochrone polygons around ``points`` at each break (nested, not rings).

    Parameters
    ----------
    dissolve
        One polygon per break for all points (nearest-point times), else one per point and break.
    cap_m
        Maximum off-road walking distance in the band (default: ``snap_limit_m``).
    seg_m
        Densification step (m) of the band construction.

    Returns
    -------
    GeoDataFrame in EPSG:4326 with ``point`` (-1 when dissolved), ``minutes``, ``area_km2``,
    ``mode`` and the polygon geometry.
    """
    bs = _check_breaks(breaks)
    access = access or AccessParams.from_file()
    cap = access.snap_limit_m if cap_m is None else float(cap_m)
    if seg_m <= 0 or cap <= 0:
        raise InputError("seg_m and cap_m must be positive")
    prep = prepare(model_or_graph, [points], mode, access)
    nodes = prep.nodes(0)
    groups: list[tuple[int, IntArray]] = (
        [(-1, nodes)] if dissolve else [(j, nodes[j : j + 1]) for j in range(nodes.size)]
    )
    rows = []
    for pid, src in groups:
        if src.size == 0:
            continue
        t = _times(prep, src, bs[-1])
        for brk in bs:
            e, fs, fe, ts, tend = reachable_pieces(prep, t, brk)
            pieces = _piece_geoms(prep, e, fs, fe)
            if pieces.size == 0:
                poly = shapely.Polygon()
            else:
                poly = _band_polygon(pieces, ts, tend, brk, access.walk_m_per_min, cap, seg_m)
            rows.append(
                {
                    "point": pid,
                    "minutes": brk,
                    "area_km2": poly.area / 1e6,
                    "mode": mode,
                    "geometry": poly,
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=prep.index.crs)
    if gdf.empty:
        gdf = gpd.GeoDataFrame(
            {"point": [], "minutes": [], "area_km2": [], "mode": []},
            geometry=[],
            crs=prep.index.crs,
        )
    log.info("service areas: %d polygons (%s, breaks %s)", len(gdf), mode, bs)
    return gdf.to_crs("EPSG:4326")


def service_lines(
    model_or_graph: Any,
    points: Any,
    mode: str = "car",
    breaks: Sequence[float] = DEFAULT_BREAKS,
    access: AccessParams | None = None,
) -> gpd.GeoDataFrame:
    """Road-segment service areas: reachable (partial) road pieces per break, nearest point.

    Returns a GeoDataFrame in EPSG:4326 with ``minutes`` (break), ``edge_id``, ``t_start``,
    ``t_end`` (minutes at the piece ends), ``length_m`` and ``mode``.
    """
    bs = _check_breaks(breaks)
    prep = prepare(model_or_graph, [points], mode, access)
    nodes = prep.nodes(0)
    t = _times(prep, nodes, bs[-1]) if nodes.size else np.full(prep.aug.n_total, np.inf)
    frames = []
    for brk in bs:
        e, fs, fe, ts, tend = reachable_pieces(prep, t, brk)
        geoms = _piece_geoms(prep, e, fs, fe)
        line = (
            (shapely.get_type_id(geoms) == 1) & (shapely.length(geoms) > 1e-6)
            if geoms.size
            else np.zeros(0, dtype=bool)
        )
        frames.append(
            gpd.GeoDataFrame(
                {
                    "minutes": brk,
                    "edge_id": prep.index.edge_id[e[line]],
                    "t_start": ts[line],
                    "t_end": tend[line],
                    "length_m": shapely.length(geoms[line]),
                    "mode": mode,
                },
                geometry=list(geoms[line]),
                crs=prep.index.crs,
            )
        )
    out = gpd.GeoDataFrame(
        gpd.pd.concat(frames, ignore_index=True), geometry="geometry", crs=prep.index.crs
    )
    return out.to_crs("EPSG:4326")


def count_within(
    areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame, weight: str | None = None
) -> gpd.GeoDataFrame:
    """Count points (and sum ``weight``, e.g. population) inside each service-area polygon."""
    pts = points.to_crs(areas.crs)
    counts, sums = [], []
    for geom in areas.geometry:
        inside = (
            np.asarray(shapely.contains_xy(geom, pts.geometry.x, pts.geometry.y), dtype=bool)
            if geom is not None and not geom.is_empty
            else np.zeros(len(pts), dtype=bool)
        )
        counts.append(int(inside.sum()))
        sums.append(float(pts[weight].to_numpy()[inside].sum()) if weight else float(inside.sum()))
    out = areas.copy()
    out["n_points"] = counts
    out[f"sum_{weight}" if weight else "n_weight"] = sums
    return out
