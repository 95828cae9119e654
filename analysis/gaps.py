"""Underserved areas: villages and 500 m grid cells beyond the travel-time target.

"Underserved" is judged against one :class:`analysis.coverage.CoverageTarget` (each village
against its own threshold, urban or rural) and the points of :mod:`geo.services` that count for
coverage. Villages are ranked by the person-minutes beyond the target, ``P_i · (T_i − target_i)``
(unreachable villages first), and each carries a reason in Chinese and English naming the
nearest staffed point, the time, the mode and the roads along the fastest path.

Grid cells (default 500 m) cover the county polygon; each cell centre is joined to the network
like a village (nearest-edge snap + walk). A cell's population is approximated from nearby
villages: every village's population is shared equally among the cells whose nearest village it
is (a Voronoi allocation), so cell figures are modelled, not counted; a cell is judged against
the threshold of that village (urban or rural).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from doorstep.geo._errors import InputError
from doorstep.geo.routing import nearest_facility
from doorstep.geo.services import service_rules
from doorstep.geo.villages import imputed_flags

from .coverage import CoverageResult, CoverageTarget, coverage, coverage_points, quality_of

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

MODE_ZH = {"walk": "步行", "motorbike": "摩托车", "car": "驾车"}


def _reason(row: pd.Series) -> tuple[str, str]:
    mode = str(row["mode"])
    if not np.isfinite(row["min_staffed"]):
        return (
            f"没有可达的有人值守服务点（{MODE_ZH.get(mode, mode)}）",
            f"no staffed service point reachable by {mode}",
        )
    tier = str(row["nearest_tier"])
    t = service_rules().tiers.get(tier)
    tier_zh, tier_en = (t.short_zh, t.short_en) if t else (tier, tier)
    via = str(row.get("via", "") or "")
    mins = f"{row['min_staffed']:.0f}"
    zh = (
        f"最近的{tier_zh}（{row['nearest_name']}）{mins} 分钟"
        f"（{MODE_ZH.get(mode, mode)}），目标 {row['target_min']:.0f} 分钟"
    )
    en = (
        f"nearest {tier_en} ({row['nearest_name']}) {mins} min by {mode}, "
        f"target {row['target_min']:.0f} min"
    )
    places = str(row.get("via_places", "") or "")
    if via:
        zh += f"，经 {via}"
        en += f", via {via}"
    if places:
        zh += f"（途经 {places}）"
        en += f" (through {places})"
    if row.get("snap_flagged", False):
        zh += f"；离最近道路 {row['snap_m']:.0f} 米"
        en += f"; {row['snap_m']:.0f} m from the nearest road"
    return zh, en


def underserved_villages(
    model: CountyModel,
    target: CoverageTarget | None = None,
    result: CoverageResult | None = None,
) -> pd.DataFrame:
    """Villages beyond the target (by ``target.mode``), ranked, with the reason in words.

    A village is underserved when :math:`t_i > T_i` (its own threshold,
    :meth:`CoverageTarget.thresholds`). ``result`` (a :func:`coverage` of the same target with
    paths) is reused when given. Columns: ``rank``, village fields, ``location_quality``,
    ``min_staffed`` (minutes), ``target_min``, ``excess_min``, ``person_minutes``,
    ``reason_zh``, ``reason_en``, ``point_imputed`` (the village stands on an imputed point:
    location to be confirmed, 待核实位置); ``attrs['target']`` holds the target.
    """
    target = target or CoverageTarget()
    mode = target.mode
    if result is None or "via" not in result.villages.columns or result.target != target:
        result = coverage(model, target, modes=(mode,), with_paths=True)
    v = result.villages[result.villages["mode"] == mode].copy()
    v["target_min"] = target.thresholds(v["urban"])
    gap = v[~(v["min_staffed"] <= v["target_min"])].copy()
    gap["excess_min"] = gap["min_staffed"] - gap["target_min"]
    gap["person_minutes"] = gap["population"] * gap["excess_min"]
    gap = gap.sort_values(["person_minutes", "population"], ascending=False, kind="stable")
    reasons = [_reason(r) for _, r in gap.iterrows()]
    gap["reason_zh"] = [r[0] for r in reasons]
    gap["reason_en"] = [r[1] for r in reasons]
    gap["point_imputed"] = imputed_flags(model.villages, gap["code"])  # 待核实位置
    gap.insert(0, "rank", np.arange(1, len(gap) + 1))
    gap.attrs["units"] = {
        "min_staffed": "minutes",
        "excess_min": "minutes",
        "population": "persons",
        "person_minutes": "person-minutes",
    }
    gap.attrs["quality"] = quality_of(model)
    gap.attrs["target"] = target.to_dict()
    return gap.reset_index(drop=True)


def county_grid(model: CountyModel, cell_m: float = 500.0) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres whose centre lies inside the county (metric CRS)."""
    if not 50 <= cell_m <= 10_000:
        raise InputError(f"grid cell size must be 50–10000 m, got {cell_m}")
    poly = model.county.to_crs(model.crs).geometry.union_all()
    x0, y0, x1, y1 = poly.bounds
    xs = np.arange(x0 + cell_m / 2, x1, cell_m)
    ys = np.arange(y0 + cell_m / 2, y1, cell_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(poly, gx, gy)
    gx, gy = gx[inside], gy[inside]
    h = cell_m / 2
    cells = shapely.box(gx - h, gy - h, gx + h, gy + h)
    return gpd.GeoDataFrame({"cx": gx, "cy": gy}, geometry=cells, crs=model.crs)


def underserved_cells(
    model: CountyModel, target: CoverageTarget | None = None, cell_m: float = 500.0
) -> gpd.GeoDataFrame:
    """Grid cells beyond the target from the nearest point counting for coverage, ranked by
    modelled population (GeoDataFrame in EPSG:4326; ``population_est`` in persons, modelled).

    Each cell is judged against the threshold of the village it is allocated to
    (``target_min``: urban or rural minutes)."""
    target = target or CoverageTarget()
    mode = target.mode
    grid = county_grid(model, cell_m)
    if grid.empty:
        return grid.to_crs("EPSG:4326")
    centres = np.column_stack([grid["cx"], grid["cy"]])
    nf = nearest_facility(model, centres, coverage_points(model), mode)
    vill = model.villages.to_crs(model.crs)
    vxy = np.column_stack([vill.geometry.x, vill.geometry.y])
    _, owner = cKDTree(vxy).query(centres)
    n_cells = np.bincount(owner, minlength=len(vill))
    pop = vill["population"].to_numpy(float)
    grid["village_code"] = vill["code"].to_numpy()[owner]
    grid["population_est"] = pop[owner] / n_cells[owner]
    grid["minutes"] = nf.minutes
    grid["mode"] = mode
    grid["target_min"] = target.thresholds(vill["urban"].to_numpy(bool)[owner])
    grid["snap_m"] = nf.origin_snap_m
    grid["underserved"] = ~(nf.minutes <= grid["target_min"].to_numpy())
    out = grid[grid["underserved"]].sort_values(["population_est", "minutes"], ascending=False)
    out = out.drop(columns=["cx", "cy"]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    total = pop.sum()
    out.attrs["units"] = {
        "minutes": "minutes",
        "population_est": "persons (modelled)",
        "cell_m": cell_m,
    }
    out.attrs["population_share_underserved"] = (
        float(out["population_est"].sum() / total) if total else 0.0
    )
    out.attrs["quality"] = quality_of(model)
    out.attrs["target"] = target.to_dict()
    log.info("grid: %d cells, %d underserved (%s)", len(grid), len(out), target.describe())
    return out.to_crs("EPSG:4326")
