"""Adapters from :mod:`analysis` results (siting, circuits) to map layers.

Nothing is computed here: these functions call the analysis glue for the county model and
reshape its output into the GeoDataFrames :class:`webmap.layers.MapLayers` draws.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from doorstep.geo._errors import InputError

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)


def proposed_sites(
    model: CountyModel, k: int, target: Any = None, objective: str = "mclp"
) -> gpd.GeoDataFrame:
    """Proposed new sites (points with ``name``, ``note``) from :mod:`analysis.siting.county`,
    each village judged against its own threshold of ``target`` (a
    :class:`analysis.coverage.CoverageTarget`; default: the default target)."""
    from doorstep.analysis.coverage import CoverageTarget
    from doorstep.analysis.siting.county import county_problem, site_report, solve_county

    if not 1 <= k <= 50:
        raise InputError(f"number of proposed sites must be 1–50, got {k}")
    target = target or CoverageTarget()
    cs = county_problem(model, mode=target.mode)
    res = solve_county(cs, objective, add=k, target=target, curve=False)
    rep = site_report(model, cs, res, objective, target)
    return sites_from_report(rep, f"{objective.upper()} k={k}, {rep['threshold']}", res.status)


def sites_from_report(rep: dict[str, Any], label: str, status: str) -> gpd.GeoDataFrame:
    """Map layer of the sites a :func:`analysis.siting.county.site_report` opened."""
    rows = rep["sites_opened"]
    note = (
        f"{label}: coverage {rep['coverage_before']:.1%} → {rep['coverage_after']:.1%} ({status})"
    )
    return gpd.GeoDataFrame(
        {
            "name": [r["name"] for r in rows],
            "tier": [r.get("township", "") for r in rows],
            "note": [note] * len(rows),
        },
        geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
        crs="EPSG:4326",
    )


def circuit_routes(model: CountyModel, month: str, *, n_lawyers: int = 8) -> gpd.GeoDataFrame:
    """Lawyer day routes of ``month`` planned by :func:`analysis.circuits.county.plan_county_month`
    (LineStrings along the roads, WGS84) with ``lawyer``, ``date``, ``minutes`` (driving), ``km``
    and ``stops``."""
    from doorstep.analysis.circuits.county import plan_county_month, road_path_function
    from doorstep.analysis.circuits.export import routes_geojson

    cm = plan_county_month(model, month, n_lawyers=n_lawyers)
    return routes_layer(
        routes_geojson(cm.plan, cm.travel.coords, road_path_function(model, cm.travel, cm.plan))
    )


def routes_layer(geojson: dict[str, Any]) -> gpd.GeoDataFrame:
    """Map layer of lawyer routes from :func:`analysis.circuits.export.routes_geojson` output."""
    if not geojson["features"]:
        return gpd.GeoDataFrame(
            {"lawyer": [], "date": [], "minutes": [], "km": [], "stops": []},
            geometry=[],
            crs="EPSG:4326",
        )
    gdf = gpd.GeoDataFrame.from_features(geojson["features"], crs="EPSG:4326")
    gdf["minutes"] = gdf["drive_min"]
    gdf["lawyer"] = gdf["lawyer"].astype(str)
    gdf["stops"] = [" → ".join(s) for s in gdf["stops"]]
    return gdf[["lawyer", "lawyer_id", "date", "minutes", "km", "stops", "geometry"]]
