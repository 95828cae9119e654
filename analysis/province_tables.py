"""Province tables: merge the per-county outputs of :mod:`analysis.province` and write them.

``province_counties`` and ``province_townships`` (CSV and GeoParquet, WGS84) hold, per county and
per township: villages, imputed villages, population (persons, MODELLED outside Huayuan), mean and
max minutes to the nearest staffed point and the population share within each band.
``run.json`` records every county's status, timings and, for failures, the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from doorstep.geo.export import write_csv
from doorstep.geo.services import service_rules

from .province import SUMMARY, ProvinceParams, ProvinceRun, _atomic, _band


def merge_province(
    out_dir: str | Path, codes: Sequence[str]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Concatenate the per-county outputs of ``codes`` found in ``out_dir``.

    Returns
    -------
    counties, townships
        GeoDataFrames (WGS84): one row per county (outline, population, band shares, …) and per
        township (modelled polygon, same figures, ``county_code``).
    """
    cs, ts = [], []
    for c in codes:
        d = Path(out_dir) / "counties" / c
        if (d / SUMMARY).exists():
            cs.append(gpd.read_parquet(d / "county.parquet"))
            ts.append(gpd.read_parquet(d / "townships.parquet"))
    if not cs:
        empty = gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
        return empty, empty.copy()
    counties = gpd.GeoDataFrame(pd.concat(cs, ignore_index=True), crs="EPSG:4326")
    towns = gpd.GeoDataFrame(pd.concat(ts, ignore_index=True), crs="EPSG:4326")
    names = counties.set_index("code")["name"]
    towns.insert(1, "county_name", towns["county_code"].map(names))
    return counties, towns


def write_province_outputs(
    out_dir: str | Path,
    run: ProvinceRun,
    counties: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    params: ProvinceParams,
) -> dict[str, Path]:
    """Write the province tables (CSV + GeoParquet) and ``run.json`` atomically; return the paths."""
    out = Path(out_dir)
    paths = {
        "counties_csv": out / "province_counties.csv",
        "counties_parquet": out / "province_counties.parquet",
        "townships_csv": out / "province_townships.csv",
        "townships_parquet": out / "province_townships.parquet",
        "run": out / "run.json",
    }
    write_csv(counties, paths["counties_csv"])
    write_csv(towns, paths["townships_csv"])
    _atomic(paths["counties_parquet"], lambda p: counties.to_parquet(p, index=False))
    _atomic(paths["townships_parquet"], lambda p: towns.to_parquet(p, index=False))
    pop = counties["population"].to_numpy(float) if len(counties) else np.zeros(0)
    summary = {
        "params": asdict(params),
        "wall_s": run.wall_s,
        "scheduler": run.scheduler,
        "workers": run.workers,
        "counties": {"ok": len(counties), "computed": len(run.computed), "failed": len(run.failed)},
        "population": int(pop.sum()),
        "share_within": {
            _band(b): float((counties[f"population_within_{_band(b)}"].sum()) / pop.sum())
            if pop.sum()
            else None
            for b in params.bands
        },
        "assumptions": (
            "Village points partly imputed, populations, township polygons, service points and roads "
            "are MODELLED (see each county's modelled_layers); times in minutes by "
            f"{params.mode} to the nearest point counting for coverage; "
            f"{service_rules().describe()}; {params.target.describe()}."
        ),
        "failures": [
            {k: r.get(k) for k in ("code", "name", "error_type", "reason")} for r in run.failed
        ],
        "records": [{k: v for k, v in r.items() if k != "traceback"} for r in run.records],
    }
    text = json.dumps(summary, ensure_ascii=False, indent=1, default=str)
    _atomic(paths["run"], lambda p: p.write_text(text, encoding="utf-8"))
    return paths
