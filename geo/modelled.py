"""Modelled layers: what no public source gives, built deterministically and flagged.

* :func:`model_seats` — township seats missing from the sources;
* :func:`township_polygons_from_points` — township polygons as Voronoi cells of the located
  settlements, clipped to the county outline and dissolved by township;
* :func:`impute_points` — points inside a polygon, farthest from every located settlement
  (farthest-point sampling of a regular grid): the seat of a township with no located point at
  all, and the *baseline* that village imputation (:mod:`geo.imputation`) is measured against —
  villages themselves are no longer placed this way;
* :func:`model_population` — census totals spread over units by urban–rural class.

Everything here works in the county's metric CRS (metres).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ._errors import InputError
from .params import PopulationParams

log = logging.getLogger(__name__)


def model_seats(townships: pd.DataFrame, villages_xy: pd.DataFrame) -> pd.DataFrame:
    """Fill missing township seats (metric ``seat_x``/``seat_y``).

    A township without a seat point gets the located village nearest to the mean of its located
    villages (``seat_quality = "modelled"``). One without any located village keeps NaN; its seat
    is placed later by :func:`impute_points` over the whole county.
    """
    t = townships.copy()
    t["seat_quality"] = np.where(np.isfinite(t["seat_x"]), "geocoded", "modelled")
    for i in np.flatnonzero(~np.isfinite(t["seat_x"].to_numpy(float))):
        code = t["code"].iloc[i]
        mine = villages_xy[(villages_xy["town_code"] == code) & villages_xy["usable"]]
        if mine.empty:
            continue
        cx, cy = mine["x"].mean(), mine["y"].mean()
        j = int(np.argmin((mine["x"] - cx) ** 2 + (mine["y"] - cy) ** 2))
        t.iloc[i, t.columns.get_loc("seat_x")] = float(mine["x"].iloc[j])
        t.iloc[i, t.columns.get_loc("seat_y")] = float(mine["y"].iloc[j])
        t.iloc[i, t.columns.get_loc("seat_note")] = (
            f"modelled at {mine['name'].iloc[j]} (central located village)"
        )
        log.info(
            "township %s has no seat point; modelled at %s", t["name"].iloc[i], mine["name"].iloc[j]
        )
    return t


def grid_in_polygon(poly: shapely.Geometry, step: float) -> np.ndarray:
    """Regular grid points (step metres) inside ``poly``; at least the representative point."""
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step)
    mx, my = np.meshgrid(xs, ys)
    gx, gy = mx.ravel(), my.ravel()
    inside = shapely.contains_xy(poly, gx, gy)
    pts = np.column_stack([gx[inside], gy[inside]])
    if len(pts) == 0:
        rp = poly.representative_point()
        return np.array([[rp.x, rp.y]])
    return pts


def farthest_points(
    candidates: np.ndarray, existing: np.ndarray, k: int, cap: np.ndarray | None = None
) -> np.ndarray:
    """Pick ``k`` candidates greedily, each the farthest from all existing and already picked points.

    ``cap`` (per candidate, metres) bounds each candidate's score from above — e.g. its distance
    to the township boundary, so that points are not pushed onto the edge of the polygon.
    Deterministic: ties go to the lowest candidate index. Candidates may be reused only when
    ``k`` exceeds their number.
    """
    if k <= 0:
        return np.empty((0, 2))
    picked: list[np.ndarray] = []
    if len(existing):
        dmin = cKDTree(existing).query(candidates)[0]
    else:  # nothing located yet: start from the candidate nearest the centroid
        c = candidates.mean(axis=0)
        j0 = int(np.argmin(np.hypot(candidates[:, 0] - c[0], candidates[:, 1] - c[1])))
        picked.append(candidates[j0])
        dmin = np.hypot(candidates[:, 0] - candidates[j0, 0], candidates[:, 1] - candidates[j0, 1])
    while len(picked) < k:
        j = int(np.argmax(dmin if cap is None else np.minimum(dmin, cap)))
        picked.append(candidates[j])
        dmin = np.minimum(
            dmin, np.hypot(candidates[:, 0] - candidates[j, 0], candidates[:, 1] - candidates[j, 1])
        )
    return np.array(picked)


def township_polygons_from_points(
    outline_m: shapely.Geometry, gen: pd.DataFrame, township_codes: list[str]
) -> dict[str, shapely.Geometry]:
    """Voronoi cells of generator points (columns x, y, town_code), clipped and dissolved by township.

    Raises
    ------
    InputError
        If a township has no generator point (call :func:`impute_points` for its seat first).
    """
    g = gen.drop_duplicates(subset=["x", "y"]).reset_index(drop=True)
    missing = sorted(set(township_codes) - set(g["town_code"]))
    if missing:
        raise InputError(f"townships {missing} have no located point to build a polygon from")
    if len(g) == 1:
        return {g["town_code"].iloc[0]: outline_m}
    pts = shapely.points(g["x"].to_numpy(), g["y"].to_numpy())
    env = outline_m.envelope.buffer(10_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env))
    tree = shapely.STRtree(cells)
    owner = np.full(len(cells), -1)
    pi, ci = tree.query(pts, predicate="intersects")
    for p, c in zip(pi, ci, strict=True):
        if owner[c] < 0 and shapely.contains(cells[c], pts[p]):
            owner[c] = p
    out: dict[str, list[shapely.Geometry]] = {c: [] for c in township_codes}
    for c, p in enumerate(owner):
        if p >= 0:
            out[g["town_code"].iloc[p]].append(cells[c])
    polys: dict[str, shapely.Geometry] = {}
    for code, parts in out.items():
        u = shapely.intersection(shapely.union_all(parts), outline_m)
        polys[code] = shapely.make_valid(u)
    return polys


def impute_points(
    polygon_m: shapely.Geometry, existing_xy: np.ndarray, k: int, step: float
) -> np.ndarray:
    """``k`` deterministic points inside ``polygon_m``, as far as possible from ``existing_xy``.

    A candidate's score is min(distance to the nearest located settlement, distance to the
    polygon boundary): settlements sit between their neighbours, not on township borders.
    """
    cand = grid_in_polygon(polygon_m, step)
    inner = polygon_m.buffer(-step / 2)
    if not inner.is_empty:
        keep = shapely.contains_xy(inner, cand[:, 0], cand[:, 1])
        if keep.any():
            cand = cand[keep]
    edge = shapely.distance(polygon_m.boundary, shapely.points(cand[:, 0], cand[:, 1]))
    return farthest_points(cand, existing_xy, k, cap=np.asarray(edge))


def model_population(
    villages: pd.DataFrame, total: int, urban_share: float, params: PopulationParams
) -> np.ndarray:
    """Spread a census total over units by urban–rural class (largest-remainder rounding).

    The urban population ``round(total × urban_share)`` goes to urban units (``ur_code`` 1xx) in
    proportion to their class weights, the rest to rural units (2xx). The result sums exactly to
    ``total``. If a county has no unit of one kind, everything goes to the other.
    """
    if total <= 0:
        raise InputError(f"population total must be positive, got {total}")
    ur = villages["ur_code"].to_numpy(int)
    w = np.array([params.weight(int(c)) for c in ur], dtype=float)
    urban = (ur >= 100) & (ur < 200)
    pop = np.zeros(len(ur), dtype=float)
    urban_total = (
        total * urban_share if urban.any() and (~urban).any() else (total if urban.any() else 0.0)
    )
    rural_total = total - urban_total
    if urban.any():
        pop[urban] = urban_total * w[urban] / w[urban].sum()
    if (~urban).any():
        pop[~urban] = rural_total * w[~urban] / w[~urban].sum()
    return _largest_remainder(pop, total)


def split_total(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to positive weights (largest remainder; sums exactly)."""
    w = np.asarray(weights, dtype=float)
    if total < 0 or len(w) == 0 or not (w > 0).all():
        raise InputError("split_total needs a non-negative total and positive weights")
    return _largest_remainder(total * w / w.sum(), total)


def _largest_remainder(pop: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(pop).astype(np.int64)
    short = int(total) - int(base.sum())
    order = np.lexsort((np.arange(len(pop)), -(pop - base)))
    base[order[:short]] += 1
    return base
