"""Province-wide coverage: every county of Hunan as one task on a Dask distributed cluster.

Each task (:func:`analyse_county`) builds a county model from the NBS code lists
(:func:`geo.hunan.hunan_county_source` → :func:`geo.model.build_county_model`), runs the county
coverage of :func:`analysis.coverage.coverage` — the same code, service points
(:mod:`geo.services`: county centre and township workstations) and
:class:`analysis.coverage.CoverageTarget` as a single-county run — and writes, atomically (temp
file + ``os.replace``)::

    OUT/counties/<code>/villages.parquet    GeoParquet, one row per village, min_staffed, within_<b>
    OUT/counties/<code>/townships.parquet   GeoParquet, modelled township polygons + coverage
    OUT/counties/<code>/county.parquet      GeoParquet, county outline + coverage
    OUT/counties/<code>/summary.json        written last: marks the county done

The share of population within ``b`` minutes is ``Σ_v pop_v·[t_v ≤ b] / Σ_v pop_v`` (villages with
no route count as not covered); ``share_meeting_target`` judges each village against its own
threshold (urban/rural). A task never raises: any error becomes a failure record with its
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from doorstep.geo._errors import DoorstepError, InputError
from doorstep.geo.atomic import atomic_path

from .coverage import CoverageTarget, coverage

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

SUMMARY = "summary.json"


@dataclass(frozen=True)
class ProvinceParams:
    """Parameters of a province run.

    Parameters
    ----------
    target
        The coverage target (mode, rural/urban minutes, bands, required share) — the same object
        every single-county analysis uses; defaults from ``data/params/coverage.toml``.
    data
        Reference data folder (``None``: :func:`geo.settings.data_dir`).
    """

    target: CoverageTarget = field(default_factory=CoverageTarget)
    data: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.target, CoverageTarget):
            raise InputError(f"target must be a CoverageTarget, got {type(self.target).__name__}")

    @property
    def mode(self) -> str:
        return self.target.mode

    @property
    def bands(self) -> tuple[float, ...]:
        return self.target.breaks

    def key(self) -> dict[str, Any]:
        """What must match for a finished county to be reused."""
        return {**self.target.to_dict(), "breaks": list(self.target.breaks)}


def _band(b: float) -> str:
    return f"{b:g}"


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def county_coverage(
    model: CountyModel, params: ProvinceParams
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, Any]]:
    """Village times, the township table and the county figures of
    :func:`analysis.coverage.coverage` (one mode, no per-tier times) for one county.

    Village rows add ``county_code``, ``population_source``, geometry and ``within_<b>`` flags;
    township and county rows are :func:`analysis.coverage.summarise` figures.
    """
    res = coverage(model, params.target, modes=(params.mode,), per_tier=False)
    vt = res.villages.drop(columns=["mode", "band"])
    v = model.villages.set_index("code").loc[vt["code"]]
    vt.insert(2, "county_code", model.code)
    vt["population_source"] = v["population_source"].to_numpy()
    for b in params.bands:
        vt[f"within_{_band(b)}"] = vt["min_staffed"] <= b
    out = gpd.GeoDataFrame(vt, geometry=v.geometry.to_numpy(), crs=model.villages.crs)
    towns = res.townships.drop(columns=["mode", "town_name"])
    row = res.county.drop(columns=["mode", "code", "name"]).iloc[0].to_dict()
    county = {k: (x.item() if hasattr(x, "item") else x) for k, x in row.items()}
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
