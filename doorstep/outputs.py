"""Coverage and underserved-area results as files: JSON reports, CSV tables and GeoPackages.

Used by ``doorstep coverage``, ``doorstep gaps`` and :func:`doorstep.job.run_job`; every file is
written atomically (:mod:`geo.atomic`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import pandas as pd

from doorstep.analysis.coverage import CoverageResult, CoverageTarget, coverage, coverage_points
from doorstep.analysis.equity import equity_summary
from doorstep.analysis.gaps import underserved_cells, underserved_villages
from doorstep.analysis.resilience import critical_links
from doorstep.analysis.uncertainty import annotate_coverage, coverage_ensemble, gap_table
from doorstep.geo.export import clip_polygons, write_csv, write_geopackage
from doorstep.geo.routing import service_areas

from .jsonio import write_json


class CoverageOutputs(NamedTuple):
    """Coverage for every mode and its JSON report."""

    result: CoverageResult
    doc: dict[str, Any]


class GapsOutputs(NamedTuple):
    """Underserved villages and cells, critical links and equity for one mode, and the report."""

    villages: pd.DataFrame
    cells: gpd.GeoDataFrame
    links: pd.DataFrame
    equity: dict[str, Any]
    doc: dict[str, Any]


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write named layers into one GeoPackage (version 1.2), atomically."""
    write_geopackage(path, layers)


def coverage_json(model: Any, res: CoverageResult) -> dict[str, Any]:
    """Share of the population within each band, per mode, for the county and each township."""
    doc = res.to_dict()
    bands = [f"{b:g}" for b in res.target.breaks]
    shares: dict[str, Any] = {"county": {}, "townships": {}}
    for row in doc["county"]:
        shares["county"][row["mode"]] = {b: row[f"share_within_{b}"] for b in bands}
    for row in doc["townships"]:
        t = shares["townships"].setdefault(
            row["town_code"], {"name": row["town_name"], "modes": {}}
        )
        t["modes"][row["mode"]] = {b: row[f"share_within_{b}"] for b in bands}
    out = {"county": {"code": model.code, "name": model.name}, "population_share_within": shares}
    if f"share_within_{bands[0]}_p05" in res.county.columns:
        out["population_share_within_p05_p95"] = _share_ranges(doc, bands)
    return {**out, **doc}


def _share_ranges(doc: dict[str, Any], bands: list[str]) -> dict[str, Any]:
    """``[p05, p95]`` of every share of ``population_share_within`` (same nesting)."""

    def rng(row: dict[str, Any]) -> dict[str, list[float]]:
        return {b: [row[f"share_within_{b}_p05"], row[f"share_within_{b}_p95"]] for b in bands}

    towns: dict[str, Any] = {}
    for row in doc["townships"]:
        towns.setdefault(row["town_code"], {})[row["mode"]] = rng(row)
    return {"county": {r["mode"]: rng(r) for r in doc["county"]}, "townships": towns}


def coverage_outputs(
    model: Any, target: CoverageTarget, out: Path | None, draws: int = 0, seed: int = 0
) -> CoverageOutputs:
    """Coverage for every mode and its JSON report; with ``out``, also coverage.json, CSV tables
    and coverage.gpkg (village coverage and service-area bands), each written atomically.
    With ``draws`` > 0 every figure carries its 5–95 % range over that many draws (and
    coverage_sensitivity.csv holds the one-at-a-time sensitivity)."""
    res = coverage(model, target)
    if draws:
        annotate_coverage(res, coverage_ensemble(model, target, draws, seed))
    doc = coverage_json(model, res)
    if out is not None:
        write_json(doc, out / "coverage.json")
        write_csv(res.villages, out / "coverage_villages.csv")
        write_csv(res.townships, out / "coverage_townships.csv")
        write_csv(res.county, out / "coverage_county.csv")
        if draws:  # one-at-a-time sensitivity: the data of a tornado chart
            sens = pd.DataFrame(res.meta["uncertainty"]["sensitivity"])
            write_csv(sens, out / "coverage_sensitivity.csv")
        v = model.villages[["code", "geometry"]].merge(res.villages, on="code")
        v = gpd.GeoDataFrame(v, geometry="geometry", crs=model.villages.crs)
        areas = service_areas(model, coverage_points(model), target.mode, target.breaks)
        areas = clip_polygons(areas, model.county, model.crs)  # polygons only, area after clip
        write_gpkg({"village_coverage": v, "service_areas": areas}, out / "coverage.gpkg")
    return CoverageOutputs(res, doc)


def gaps_outputs(
    model: Any,
    target: CoverageTarget,
    out: Path | None,
    cell: float = 500.0,
    top: int = 20,
    draws: int = 0,
    seed: int = 0,
) -> GapsOutputs:
    """Underserved villages and grid cells, critical links and equity for ``target.mode``;
    returns (villages, cells, links, equity, JSON report) and, with ``out``, writes gaps.json,
    CSV tables and gaps.gpkg atomically. With ``draws`` > 0 every village carries its
    probability of missing the target (``p_miss``) and its ``gap_class``."""
    mode = target.mode
    res = coverage(model, target, modes=(mode,), with_paths=True)
    if draws:
        annotate_coverage(res, coverage_ensemble(model, target, draws, seed, modes=(mode,)))
    vill = underserved_villages(model, target, result=res)
    cells = underserved_cells(model, target, cell)
    links = critical_links(model, target, top=top)
    eq = equity_summary(model, res)
    doc = {
        "county": {"code": model.code, "name": model.name},
        "mode": mode,
        "target": target.to_dict(),
        "underserved_count": len(vill),
        "units": {
            "minutes": "min",
            "population": "persons",
            "person_minutes": "person-minutes",
            "population_est": "persons (modelled, grid)",
        },
        "underserved_villages": _records(vill.drop(columns=["mode"], errors="ignore")),
        "underserved_cells": {
            "count": len(cells),
            "cell_m": cell,
            "population_share": cells.attrs.get("population_share_underserved"),
            "top": _records(pd.DataFrame(cells.drop(columns="geometry")).head(top)),
        },
        "critical_links": _records(links),
        "equity": eq,
        "quality": res.meta["quality"],
    }
    if draws:
        doc["uncertainty"] = _gap_uncertainty(res)
    if out is not None:
        _write_gaps(model, out, vill, cells, links, doc)
    return GapsOutputs(vill, cells, links, eq, doc)


def _gap_uncertainty(res: CoverageResult) -> dict[str, Any]:
    """Every village's probability of missing its target and class, with the ensemble notes."""
    v = gap_table(res)
    return {
        **res.meta["uncertainty"],
        "class_counts": {k: int(n) for k, n in v["gap_class"].value_counts().items()},
        "villages": _records(v),
    }


def _write_gaps(
    model: Any,
    out: Path,
    vill: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    links: pd.DataFrame,
    doc: dict[str, Any],
) -> None:
    write_json(doc, out / "gaps.json")
    write_csv(vill, out / "gaps_villages.csv")
    write_csv(links, out / "critical_links.csv")
    v = model.villages[["code", "geometry"]].merge(vill, on="code")
    layers = {
        "underserved_villages": gpd.GeoDataFrame(v, geometry="geometry", crs=model.villages.crs),
        "underserved_cells": cells,
    }
    write_gpkg({k: g for k, g in layers.items() if len(g)}, out / "gaps.gpkg")


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    from doorstep.analysis.coverage import _json_records

    return _json_records(pd.DataFrame(df))
