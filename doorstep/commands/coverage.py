"""``doorstep coverage`` and ``doorstep gaps``: travel-time coverage and underserved areas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from doorstep.analysis.coverage import CoverageResult, CoverageTarget, coverage, coverage_points
from doorstep.analysis.equity import equity_summary
from doorstep.analysis.gaps import MODE_ZH, underserved_cells, underserved_villages
from doorstep.analysis.resilience import critical_links
from doorstep.analysis.uncertainty import annotate_coverage, coverage_ensemble, gap_table
from doorstep.geo.atomic import atomic_path
from doorstep.geo.routing import service_areas
from doorstep.geo.villages import TO_CONFIRM

from ._common import (
    add_ensemble_options,
    add_model_options,
    add_target_options,
    draws_from_args,
    emit_json,
    model_from_args,
    target_from_args,
)


def _add_target_options(p: argparse.ArgumentParser) -> None:
    add_target_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--out", metavar="DIR", help="also write GeoPackage/CSV/JSON files here")
    add_ensemble_options(p)
    add_model_options(p)


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "coverage", help="who reaches a staffed service point in 15/30/60 min 服务圈覆盖"
    )
    _add_target_options(c)
    c.set_defaults(func=cmd_coverage)
    g = sub.add_parser(
        "gaps", help="underserved villages and grid cells, equity, critical roads 服务盲区"
    )
    _add_target_options(g)
    g.add_argument("--cell", type=float, default=500.0, help="grid cell size (m)")
    g.add_argument("--top", type=int, default=20, help="rows of the ranked lists to print")
    g.set_defaults(func=cmd_gaps)


def _out_dir(args: argparse.Namespace) -> Path | None:
    if not args.out:
        return None
    d = Path(args.out)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")


def _write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG")


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
) -> tuple[CoverageResult, dict[str, Any]]:
    """Coverage for every mode and its JSON report; with ``out``, also coverage.json, CSV tables
    and coverage.gpkg (village coverage and service-area bands), each written atomically.
    With ``draws`` > 0 every figure carries its 5–95 % range over that many draws (and
    coverage_sensitivity.csv holds the one-at-a-time sensitivity)."""
    res = coverage(model, target)
    if draws:
        annotate_coverage(res, coverage_ensemble(model, target, draws, seed))
    doc = coverage_json(model, res)
    if out is not None:
        emit_json(doc, str(out / "coverage.json"))
        _write_csv(res.villages, out / "coverage_villages.csv")
        _write_csv(res.townships, out / "coverage_townships.csv")
        _write_csv(res.county, out / "coverage_county.csv")
        if draws:  # one-at-a-time sensitivity: the data of a tornado chart
            sens = pd.DataFrame(res.meta["uncertainty"]["sensitivity"])
            _write_csv(sens, out / "coverage_sensitivity.csv")
        v = model.villages[["code", "geometry"]].merge(res.villages, on="code")
        v = gpd.GeoDataFrame(v, geometry="geometry", crs=model.villages.crs)
        areas = service_areas(model, coverage_points(model), target.mode, target.breaks)
        county = model.county.to_crs(areas.crs).geometry.union_all()
        areas["geometry"] = areas.geometry.intersection(county)
        _write_gpkg({"village_coverage": v, "service_areas": areas}, out / "coverage.gpkg")
    return res, doc


def cmd_coverage(args: argparse.Namespace) -> int:
    model = model_from_args(args)
    target = target_from_args(args)
    draws = draws_from_args(args)
    res, doc = coverage_outputs(model, target, _out_dir(args), draws, args.seed)
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(f"{model.name} ({model.code}) 公共法律服务圈覆盖 coverage — vintage {model.vintage}\n")
    w(f"目标 {target.describe()} ({MODE_ZH[target.mode]})\n")
    w("人口比例 population share within 15 / 30 / 60 min:\n")
    for _, r in res.county.iterrows():
        w(
            f"  {r['mode']:10s} {r['share_within_15']:6.1%} {r['share_within_30']:6.1%} "
            f"{r['share_within_60']:6.1%}   mean {r['mean_min']:.1f} min, p90 {r['p90_min']:.1f}\n"
        )
        if draws:
            w(f"  {'':10s} 5–95 %: {_ranges(r)}\n")
    w(f"乡镇 townships ({target.mode}):\n")
    t = res.townships[res.townships["mode"] == target.mode]
    for _, r in t.iterrows():
        flag = "达标 OK " if r["complies"] else "未达标 NO"
        w(
            f"  {r['town_name']:8s} {r['population']:7,d} 人  ≤15 {r['share_within_15']:6.1%}  "
            f"≤30 {r['share_within_30']:6.1%}  ≤60 {r['share_within_60']:6.1%}  "
            f"p90 {r['p90_min']:5.1f} min  {flag}\n"
        )
        if draws:
            w(f"  {'':8s} 5–95 %: {_ranges(r)}\n")
    if draws:
        _write_uncertainty(w, res.meta["uncertainty"])
    modelled = res.meta["quality"].get("modelled_layers", [])
    if modelled:
        w(f"注意 modelled layers (not measured): {', '.join(modelled)}\n")
    return 0


def _ranges(r: pd.Series) -> str:
    keys = [c[: -len("_p05")] for c in r.index if c.startswith("share_") and c.endswith("_p05")]
    parts = [f"{k.removeprefix('share_')} {r[k + '_p05']:.1%}–{r[k + '_p95']:.1%}" for k in keys]
    return ", ".join(parts) + f"; mean {r['mean_min_p05']:.1f}–{r['mean_min_p95']:.1f} min"


def _write_uncertainty(w: Any, u: dict[str, Any]) -> None:
    w(f"不确定性 uncertainty: {u['draws']} draws, seed {u['seed']} ({u['params_source']})\n")
    w("  敏感性 one-at-a-time sensitivity (county share meeting the target):\n")
    for r in u["sensitivity"][:6]:
        w(
            f"    {r['parameter']:32s} {r['share_at_low']:6.1%} .. {r['share_at_high']:6.1%}"
            f"  (swing {r['swing']:.1%})\n"
        )
    for o in u.get("nominal_outside_range", []):
        w(
            f"  注意 nominal {o['figure']} ({o['mode']}, {o['where']}) = {o['nominal']:.3g} is "
            f"{o['nominal_is']} {o['p05']:.3g}–{o['p95']:.3g} (a best/worst case, not typical)\n"
        )


def gaps_outputs(
    model: Any,
    target: CoverageTarget,
    out: Path | None,
    cell: float = 500.0,
    top: int = 20,
    draws: int = 0,
    seed: int = 0,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame, dict[str, Any], dict[str, Any]]:
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
        emit_json(doc, str(out / "gaps.json"))
        _write_csv(vill, out / "gaps_villages.csv")
        _write_csv(links, out / "critical_links.csv")
        v = model.villages[["code", "geometry"]].merge(vill, on="code")
        layers = {
            "underserved_villages": gpd.GeoDataFrame(
                v, geometry="geometry", crs=model.villages.crs
            ),
            "underserved_cells": cells,
        }
        _write_gpkg({k: g for k, g in layers.items() if len(g)}, out / "gaps.gpkg")
    return vill, cells, links, eq, doc


def _gap_uncertainty(res: CoverageResult) -> dict[str, Any]:
    """Every village's probability of missing its target and class, with the ensemble notes."""
    v = gap_table(res)
    return {
        **res.meta["uncertainty"],
        "class_counts": {k: int(n) for k, n in v["gap_class"].value_counts().items()},
        "villages": _records(v),
    }


def cmd_gaps(args: argparse.Namespace) -> int:
    model = model_from_args(args)
    target = target_from_args(args)
    draws = draws_from_args(args)
    vill, cells, links, eq, doc = gaps_outputs(
        model, target, _out_dir(args), args.cell, args.top, draws, args.seed
    )
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(
        f"{model.name} 服务盲区 underserved villages beyond {target.rural_minutes:g} min (rural) / "
        f"{target.urban_minutes:g} min (urban) by {target.mode}: {len(vill)}\n"
    )
    for _, r in vill.head(args.top).iterrows():
        tag = f" [{TO_CONFIRM}]" if r.get("point_imputed", False) else ""
        w(
            f"  {r['rank']:3d}. {r['name']}{tag} ({r['population']:,} 人): {r['reason_zh']}\n"
            f"       {r['reason_en']}\n"
        )
        if draws:
            w(f"       P(miss) {r['p_miss']:.0%} — {r['gap_class']}\n")
    if draws:
        u = doc["uncertainty"]
        w(f"不确定性 uncertainty ({u['draws']} draws, seed {u['seed']}): {u['class_counts']}\n")
    w(
        f"网格 grid cells ({args.cell:g} m) beyond the target: {len(cells)} "
        f"(≈{cells.attrs.get('population_share_underserved', 0):.1%} of the population, modelled)\n"
    )
    m = eq["modes"][target.mode]
    w(
        f"公平 equity: Gini of travel time {m['gini_travel_time']:.3f}; 65+ beyond target ≈ "
        f"{m['persons65_beyond_target']} persons\n"
    )
    w("关键路段 critical road links (population losing coverage if closed):\n")
    for _, r in links.head(10).iterrows():
        if r["population_losing"] <= 0:
            break
        w(
            f"  edge {r['edge_id']} ({r['name'] or r['road_class']}, {r['length_m'] / 1000:.1f} km"
            f"{', bridge' if r['is_bridge'] else ''}): {r['population_losing']:,} persons\n"
        )
    return 0


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    from doorstep.analysis.coverage import _json_records

    return _json_records(pd.DataFrame(df))
