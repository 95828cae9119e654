"""Province-wide coverage: every county of Hunan as one task on a Dask distributed cluster.

Each task (:func:`analyse_county`) builds a county model from the NBS code lists
(:func:`geo.hunan.hunan_county_source` → :func:`geo.model.build_county_model`), computes for every
village the travel time (minutes, network + access legs) to the nearest *staffed* service point
(county centre or township workstation, one multi-source Dijkstra pass,
:func:`geo.routing.nearest_facility`) and writes, atomically (temp file + ``os.replace``)::

    OUT/counties/<code>/villages.parquet    GeoParquet, one row per village, min_staffed, within_<b>
    OUT/counties/<code>/townships.parquet   GeoParquet, modelled township polygons + coverage
    OUT/counties/<code>/county.parquet      GeoParquet, county outline + coverage
    OUT/counties/<code>/summary.json        written last: marks the county done

The share of population within ``b`` minutes is ``Σ_v pop_v·[t_v ≤ b] / Σ_v pop_v`` (villages with
no route count as not covered). A task never raises: any error becomes a failure record with its
reason, so one broken county does not stop the province. :func:`run_province` skips counties
whose ``summary.json`` exists for the same parameters and merges everything into province tables.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from doorstep.geo._errors import DoorstepError, InputError
from doorstep.geo.atomic import atomic_path
from doorstep.geo.params import check_minutes
from doorstep.geo.routing import check_mode

log = logging.getLogger(__name__)

STAFFED_TIERS: tuple[str, ...] = ("county_centre", "township_station")
SUMMARY = "summary.json"


@dataclass(frozen=True)
class ProvinceParams:
    """Parameters of a province run.

    Parameters
    ----------
    mode
        Travel mode of the coverage times ("walk", "motorbike", "car").
    minutes
        Target time (minutes) to the nearest staffed point: ``meets_target = t ≤ minutes``.
    bands
        Band limits (minutes) whose population shares are reported.
    data
        Reference data folder (``None``: :func:`geo.settings.data_dir`).
    """

    mode: str = "car"
    minutes: float = 30.0
    bands: tuple[float, ...] = (15.0, 30.0, 60.0)
    data: str | None = None

    def __post_init__(self) -> None:
        check_mode(self.mode)
        check_minutes(self.minutes, "--minutes")
        if not self.bands or list(self.bands) != sorted(set(self.bands)) or self.bands[0] <= 0:
            raise InputError(f"bands must be increasing positive minutes, got {self.bands}")

    def key(self) -> dict[str, Any]:
        """What must match for a finished county to be reused."""
        return {"mode": self.mode, "minutes": self.minutes, "bands": list(self.bands)}


def _band(b: float) -> str:
    return f"{b:g}"


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def _coverage_table(df: pd.DataFrame, by: str | None, params: ProvinceParams) -> pd.DataFrame:
    """Population, population-weighted mean/max minutes and band shares per group."""
    d = df.assign(_all="all") if by is None else df
    key = "_all" if by is None else by
    rows = []
    for k, g in d.groupby(key, sort=True):
        pop = g["population"].to_numpy(float)
        t = g["min_staffed"].to_numpy(float)
        fin = np.isfinite(t)
        tot = float(pop.sum())
        r: dict[str, Any] = {
            key: k,
            "villages": len(g),
            "imputed": int((g["location_quality"] == "imputed").sum()),
            "population": int(tot),
            "unreachable": int((~fin).sum()),
            "mean_min": float((t[fin] * pop[fin]).sum() / pop[fin].sum())
            if pop[fin].sum() > 0
            else float("nan"),
            "max_min": float(t[fin].max()) if fin.any() else float("inf"),
        }
        for b in params.bands:
            covered = float(pop[t <= b].sum())
            r[f"pop_within_{_band(b)}"] = int(covered)
            r[f"share_within_{_band(b)}"] = covered / tot if tot > 0 else float("nan")
        r["share_meets_target"] = (
            float(pop[t <= params.minutes].sum()) / tot if tot > 0 else float("nan")
        )
        rows.append(r)
    out = pd.DataFrame(rows)
    return out.drop(columns="_all") if by is None else out


def county_coverage(
    model: Any, params: ProvinceParams
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, Any]]:
    """Village times to the nearest staffed point, the township table and the county figures."""
    from doorstep.geo.routing import nearest_facility

    sp = model.service_points
    staffed = sp[sp["tier"].isin(STAFFED_TIERS)].reset_index(drop=True)
    v = model.villages
    r = nearest_facility(model, v, staffed, mode=params.mode)
    fac = np.asarray(r.facility)
    out = gpd.GeoDataFrame(
        {
            "code": v["code"].to_numpy(),
            "name": v["name"].to_numpy(),
            "county_code": model.code,
            "town_code": v["town_code"].to_numpy(),
            "town_name": v["town_name"].to_numpy(),
            "urban": v["urban"].to_numpy(bool),
            "location_quality": v["location_quality"].to_numpy(),
            "population": v["population"].to_numpy(int),
            "population_source": v["population_source"].to_numpy(),
            "min_staffed": np.asarray(r.minutes, float),
            "nearest_id": np.where(fac >= 0, staffed["id"].to_numpy()[np.maximum(fac, 0)], ""),
            "nearest_tier": np.where(fac >= 0, staffed["tier"].to_numpy()[np.maximum(fac, 0)], ""),
            "snap_m": np.asarray(r.origin_snap_m, float),
        },
        geometry=v.geometry.to_numpy(),
        crs=v.crs,
    )
    for b in params.bands:
        out[f"within_{_band(b)}"] = out["min_staffed"] <= b
    out["meets_target"] = out["min_staffed"] <= params.minutes
    towns = _coverage_table(out, "town_code", params)
    county = {
        k: (
            int(x)
            if k in ("villages", "imputed", "population", "unreachable")
            or k.startswith("pop_within_")
            else float(x)
        )
        for k, x in _coverage_table(out, None, params).iloc[0].to_dict().items()
    }
    return out, towns, county


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def analyse_county(code: str, out_dir: str, params: ProvinceParams) -> dict[str, Any]:
    """Build, analyse and write one county; never raises (returns a failure record instead).

    Returns
    -------
    dict
        ``status`` ("ok" | "failed"), ``code``, ``name``, timings (s), ``peak_rss_mb`` of the worker
        process, ``pid``, the county coverage figures (ok) or ``reason`` / ``error_type`` (failed).
    """
    from doorstep.geo.hunan import hunan_county_source
    from doorstep.geo.model import build_county_model

    t0, c0 = time.perf_counter(), time.process_time()
    rec: dict[str, Any] = {
        "code": code,
        "name": "",
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    try:
        src = hunan_county_source(code, data=params.data)
        rec["name"] = src.name
        model = build_county_model(source=src)
        t1 = time.perf_counter()
        villages, towns, county = county_coverage(model, params)
        t2 = time.perf_counter()
        d = Path(out_dir) / "counties" / code
        d.mkdir(parents=True, exist_ok=True)
        tw = model.townships[["code", "name", "seat_quality", "polygon_source", "geometry"]]
        tw = tw.merge(towns.rename(columns={"town_code": "code"}), on="code", how="left")
        tw.insert(0, "county_code", code)
        cgdf = model.county[["code", "name", "area_km2", "geometry"]].copy()
        for k, val in county.items():
            cgdf[k] = val
        quality = model.quality()
        _atomic(d / "villages.parquet", lambda p: villages.to_parquet(p, index=False))
        _atomic(d / "townships.parquet", lambda p: tw.to_parquet(p, index=False))
        _atomic(d / "county.parquet", lambda p: cgdf.to_parquet(p, index=False))
        rec.update(
            status="ok",
            townships=len(model.townships),
            build_s=t1 - t0,
            analyse_s=t2 - t1,
            **{
                k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in county.items()
            },
            census_source=model.census.source,
            modelled_layers=quality["modelled_layers"],
            village_location_quality=quality["village_location_quality"],
            warnings=len(model.warnings),
            params=params.key(),
            units={"min": "minutes", "population": "persons", "share": "fraction 0-1"},
        )
        rec["seconds"] = time.perf_counter() - t0
        rec["cpu_s"] = time.process_time() - c0
        rec["peak_rss_mb"] = _peak_rss_mb()
        text = json.dumps(rec, ensure_ascii=False, indent=1)
        _atomic(d / SUMMARY, lambda p: p.write_text(text, encoding="utf-8"))
    except Exception as exc:  # one county must never stop the province
        known = isinstance(exc, DoorstepError)
        rec.update(
            status="failed",
            error_type=type(exc).__name__,
            reason=str(exc) if known else f"{type(exc).__name__}: {exc}",
            traceback="" if known else traceback.format_exc(limit=6),
            seconds=time.perf_counter() - t0,
            cpu_s=time.process_time() - c0,
            peak_rss_mb=_peak_rss_mb(),
        )
        log.info("county %s failed: %s", code, rec["reason"])
    return rec


def finished(out_dir: str | Path, code: str, params: ProvinceParams) -> dict[str, Any] | None:
    """The summary of a county already done with the same parameters (all files present), else None."""
    d = Path(out_dir) / "counties" / code
    p = d / SUMMARY
    if not p.exists() or not all(
        (d / f).exists() for f in ("villages.parquet", "townships.parquet", "county.parquet")
    ):
        return None
    try:
        rec = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if rec.get("status") != "ok" or rec.get("params") != params.key():
        return None
    rec["skipped"] = True
    return dict(rec)


@dataclass
class ProvinceRun:
    """Records of every county (ok, skipped or failed) and the wall time of the run (s)."""

    records: list[dict[str, Any]]
    wall_s: float
    workers: int
    scheduler: str

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] != "ok"]

    @property
    def computed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] == "ok" and not r.get("skipped")]


def _village_count(code: str, data: str | None) -> int:
    from doorstep.geo.hunan import adcode_dir

    try:
        with open(adcode_dir(data) / f"{code}.csv", encoding="utf-8", errors="replace") as fh:
            return sum(1 for line in fh if ",village," in line)
    except OSError:
        return 0


def run_province(
    codes: Sequence[str],
    out_dir: str | Path,
    params: ProvinceParams | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_result: Callable[[int, int, dict[str, Any]], None] | None = None,
    client: Any = None,
) -> ProvinceRun:
    """Run :func:`analyse_county` for every code on a Dask distributed cluster.

    Parameters
    ----------
    codes
        6-digit county codes.
    out_dir
        Output folder (created); finished counties found there are skipped.
    workers
        Worker processes of the local cluster (``LocalCluster(n_workers, threads_per_worker=1,
        processes=True)``) when neither ``scheduler`` nor ``client`` is given.
    scheduler
        Address of an existing Dask scheduler (its workers must be able to import Doorstep).
    on_result
        Called as ``on_result(done, total, record)`` after each county (progress).
    client
        An existing ``distributed.Client`` (used as is, not closed).

    Tasks are submitted largest county first (priority = number of villages) so that the
    last tasks to finish are short ones.
    """
    from distributed import Client, LocalCluster, as_completed

    params = params or ProvinceParams()
    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    todo: list[str] = []
    for c in dict.fromkeys(codes):
        rec = finished(out, c, params)
        if rec is None:
            todo.append(c)
        else:
            records.append(rec)
    total = len(records) + len(todo)
    if on_result:
        for i, r in enumerate(records, 1):
            on_result(i, total, r)
    cluster = None
    own = client is None
    if todo:
        if client is None:
            if scheduler:
                client = Client(scheduler)
            else:
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    scheduler_kwargs={"dashboard": False},
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster)
        try:
            futs = {
                client.submit(
                    analyse_county,
                    c,
                    str(out),
                    params,
                    key=f"county-{c}-{time.time_ns()}",
                    priority=_village_count(c, params.data),
                    pure=False,
                ): c
                for c in todo
            }
            for fut in as_completed(list(futs)):
                code = futs[fut]
                try:
                    rec = fut.result()
                except Exception as exc:  # worker died (memory, signal): still report and go on
                    rec = {
                        "code": code,
                        "name": "",
                        "status": "failed",
                        "error_type": type(exc).__name__,
                        "reason": f"task lost: {type(exc).__name__}: {exc}",
                        "seconds": float("nan"),
                    }
                records.append(rec)
                if on_result:
                    on_result(len(records), total, rec)
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    nworkers = workers if scheduler is None and own else 0
    return ProvinceRun(records, time.perf_counter() - t0, nworkers, scheduler or "local")
