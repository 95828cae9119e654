"""Province run on a real dask.distributed LocalCluster (2 worker processes)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from doorstep.analysis.province import ProvinceParams, run_province
from doorstep.analysis.province_tables import merge_province, write_province_outputs
from doorstep.geo._errors import InputError
from tests.conftest import DATA as SHARED

pytestmark = pytest.mark.needs_data("hunan-adcode", "hunan-fences")
OK = ("430412", "430382")  # 南岳区 3 towns / 25 villages, 韶山市 4 towns / 38 villages
BROKEN = "430211"  # 天元区, given a garbage longitude below
P_HUNAN = 66_444_864


def test_province_figures_are_the_coverage_summary_by_hand() -> None:
    """The province tables are :func:`analysis.coverage.summarise` (no second implementation)."""
    from doorstep.analysis.coverage import CoverageTarget, summarise

    target = CoverageTarget(rural_minutes=20.0, urban_minutes=10.0)
    df = pd.DataFrame(
        {
            "town_code": ["t1", "t1", "t2"],
            "urban": [False, True, False],
            "population": [100, 200, 700],
            "min_staffed": [10.0, 20.0, np.inf],
            "location_quality": ["geocoded", "imputed", "imputed"],
        }
    )
    df["meets_target"] = df["min_staffed"] <= target.thresholds(df["urban"])
    c = summarise(df, target)
    assert c["population"] == 1000 and c["unreachable"] == 1 and c["imputed"] == 2
    assert c["share_within_15"] == pytest.approx(0.1)
    assert c["share_within_30"] == pytest.approx(0.3)
    assert c["share_within_60"] == pytest.approx(0.3)
    # the urban 20-min village misses its own 10-min threshold; the rural 10-min one meets 20
    assert c["share_meeting_target"] == pytest.approx(0.1)
    assert c["villages_underserved"] == 2
    assert c["mean_min"] == pytest.approx((10 * 100 + 20 * 200) / 300)
    assert c["max_min"] == 20.0
    t2 = summarise(df[df["town_code"] == "t2"], target)
    assert t2["share_within_60"] == 0.0 and t2["max_min"] == np.inf


def test_params_are_validated() -> None:
    from doorstep.analysis.coverage import CoverageTarget

    with pytest.raises(InputError, match="minutes"):
        ProvinceParams(target=CoverageTarget(rural_minutes=0))
    with pytest.raises(InputError, match="breaks"):
        ProvinceParams(target=CoverageTarget(breaks=(30.0, 15.0)))
    with pytest.raises(InputError, match="CoverageTarget"):
        ProvinceParams(target=30.0)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        scheduler_kwargs={"dashboard": False},
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _data(tmp: Path) -> Path:
    a, f = tmp / "data" / "hunan-adcode", tmp / "data" / "hunan-fences"
    a.mkdir(parents=True)
    f.mkdir(parents=True)
    for c in (*OK, BROKEN):
        shutil.copy(SHARED / "hunan-adcode" / f"{c}.csv", a / f"{c}.csv")
        shutil.copy(SHARED / "hunan-fences" / f"{c}.json", f / f"{c}.json")
    lines = (a / f"{BROKEN}.csv").read_text(encoding="utf-8").splitlines()
    row = lines[9].split(",")
    row[12] = "not-a-number"
    lines[9] = ",".join(row)
    (a / f"{BROKEN}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp / "data"


def test_province_run_on_local_cluster(client, tmp_path: Path) -> None:
    data = _data(tmp_path)
    out = tmp_path / "out"
    params = ProvinceParams(data=str(data))
    seen: list[tuple[int, int, str]] = []
    codes = [*OK, BROKEN]
    run = run_province(
        codes, out, params, client=client, on_result=lambda d, n, r: seen.append((d, n, r["code"]))
    )

    # every county reported once, progress counted 1..3 of 3
    assert sorted(r["code"] for r in run.records) == sorted(codes)
    assert [(d, n) for d, n, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    by = {r["code"]: r for r in run.records}
    # the broken county is reported with the file, row and field; the others finished
    bad = by[BROKEN]
    assert bad["status"] == "failed" and bad["error_type"] == "DataFileError"
    assert f"{BROKEN}.csv" in bad["reason"] and "row 10" in bad["reason"]
    assert "lon_gcj02" in bad["reason"] and "not-a-number" in bad["reason"]
    assert not (out / "counties" / BROKEN / "summary.json").exists()
    for c in OK:
        assert by[c]["status"] == "ok"
        assert by[c]["pid"] != os.getpid()  # ran in a worker process, not in-process
    assert {by[c]["villages"] for c in OK} == {25, 38}

    # village outputs: GeoParquet with times; county figures agree with the villages
    v = gpd.read_parquet(out / "counties" / "430382" / "villages.parquet")
    assert len(v) == 38 and v.crs.to_epsg() == 4326
    assert np.isfinite(v["min_staffed"]).all() and (v["min_staffed"] > 0).all()
    within30 = int(v.loc[v["min_staffed"] <= 30, "population"].sum())
    assert by["430382"]["population_within_30"] == within30
    assert by["430382"]["population"] == int(v["population"].sum())
    s = [by["430382"][f"share_within_{b}"] for b in (15, 30, 60)]
    assert s == sorted(s) and 0 < s[0] <= s[2] <= 1

    counties, towns = merge_province(out, codes)
    assert sorted(counties["code"]) == sorted(OK)
    assert len(towns) == 3 + 4
    assert towns.groupby("county_code")["population"].sum().to_dict() == {
        c: by[c]["population"] for c in OK
    }
    paths = write_province_outputs(out, run, counties, towns, params)
    summary = json.loads(paths["run"].read_text(encoding="utf-8"))
    assert summary["counties"] == {"ok": 2, "computed": 2, "failed": 1}
    assert summary["failures"][0]["code"] == BROKEN
    assert len(pd.read_csv(paths["townships_csv"])) == 7

    # fix the broken file and run again through the CLI on the same cluster (--scheduler):
    # the two finished counties are skipped
    shutil.copy(SHARED / "hunan-adcode" / f"{BROKEN}.csv", data / "hunan-adcode" / f"{BROKEN}.csv")
    stamp = {c: (out / "counties" / c / "summary.json").stat().st_mtime_ns for c in OK}
    from doorstep.cli import main

    rc = main(
        ["-q", "province", "43", "--data", str(data), "--out", str(out),
         "--scheduler", client.scheduler.address,
         "--counties", ",".join(codes)]
    )  # fmt: skip
    assert rc == 0
    assert stamp == {c: (out / "counties" / c / "summary.json").stat().st_mtime_ns for c in OK}
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert summary["counties"] == {"ok": 3, "computed": 1, "failed": 0}
    skipped = {r["code"] for r in summary["records"] if r.get("skipped")}
    assert skipped == set(OK)
    # the three counties are the whole (test) province: their modelled totals add up to it
    assert abs(summary["population"] - P_HUNAN) <= 2
    html = (out / "province_map.html").read_text(encoding="utf-8")
    assert "MODELLED" in html and "430382" in html and "430211" in html
