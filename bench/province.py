"""Benchmark of the province run on Dask distributed (prints figures; not a test).

1. Speed-up: the same sample of counties (every k-th of Hunan's list) on a warmed
   ``LocalCluster`` of 1 then 2 worker processes (threads_per_worker=1). Timed from the first
   submit to the last result, so cluster start-up and imports are excluded (reported apart).
2. Full province: every county of Hunan on 2 workers, fresh output folder, wall time including
   cluster start; per-county time distribution and peak RSS per worker process.
3. Projection for China (~2,800 counties, ~600,000 villages) at the measured per-worker rate.

Usage::

    PYTHONPATH=. python bench/province.py [--sample 30] [--out /tmp/doorstep-bench] [--no-full]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from doorstep.analysis.province import ProvinceParams, ProvinceRun, _village_count, run_province
from doorstep.geo.hunan import list_hunan_counties

CHINA_COUNTIES = 2_800
CHINA_VILLAGES = 600_000


def _warm(data: str | None) -> int:
    """Import the pipeline and fill the provincial cache in a worker (excluded from timings)."""
    import doorstep.geo.model  # noqa: F401
    from doorstep.geo.hunan import _province_weight, adcode_dir

    _province_weight(str(adcode_dir(data).resolve()))
    return 0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed_run(
    codes: list[str], out: Path, workers: int, params: ProvinceParams
) -> tuple[ProvinceRun, float, dict[str, float]]:
    """Run on a fresh, warmed local cluster; return the run, start-up seconds and peak RSS per worker."""
    from distributed import Client, LocalCluster

    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm, params.data)
        startup = time.perf_counter() - t0
        run = run_province(codes, out, params, client=client)
        rss = client.run(_peak_rss_mb)
    return run, startup, rss


def dist(xs: list[float]) -> str:
    a = np.asarray(xs, float)
    return (
        f"min {a.min():.2f}  median {np.median(a):.2f}  p90 {np.percentile(a, 90):.2f}  "
        f"max {a.max():.2f}  mean {a.mean():.2f}  (s, n={a.size})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=30, help="counties in the speed-up sample")
    ap.add_argument("--out", default="/tmp/doorstep-bench-province")
    ap.add_argument("--data", default=None)
    ap.add_argument("--no-full", action="store_true", help="skip the full-province run")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import distributed  # noqa: F401

    logging.getLogger("distributed").setLevel(logging.ERROR)
    params = ProvinceParams(data=args.data)
    codes, skipped = list_hunan_counties(args.data)
    out = Path(args.out)
    print(
        f"Hunan: {len(codes)} counties with townships and an outline; {len(skipped)} code files left out"
    )

    step = max(1, len(codes) // args.sample)
    sample = codes[::step][: args.sample]
    nv = sum(_village_count(c, args.data) for c in sample)
    print(f"\n== speed-up sample: {len(sample)} counties, {nv:,} villages (every {step}th county)")
    walls = {}
    for w in (1, 2):
        run, startup, rss = timed_run(sample, out / f"sample-w{w}", w, params)
        walls[w] = run.wall_s
        busy = sum(r["seconds"] for r in run.records)
        cpu = sum(r.get("cpu_s", 0.0) for r in run.records)
        print(
            f"  {w} worker(s): wall {run.wall_s:.1f} s (cluster start + warm-up {startup:.1f} s, excluded); "
            f"sum of task times {busy:.1f} s (CPU {cpu:.1f} s); load avg {os.getloadavg()[0]:.1f}; failed {len(run.failed)}; peak RSS/worker "
            + ", ".join(f"{v:.0f} MB" for v in rss.values())
        )
        print(
            f"    worker occupancy {busy / (w * run.wall_s):.0%} (sum of task wall times / "
            f"(workers x wall)); task CPU/wall {cpu / busy:.0%} (below 100% = CPU taken by other "
            "processes on this machine)"
        )
    speedup = walls[1] / walls[2]
    print(
        f"  speed-up 1 -> 2 workers: {speedup:.2f}x (target >= 1.7x; parallel efficiency {speedup / 2:.0%})"
    )

    if args.no_full:
        return 0
    print(f"\n== full province: {len(codes)} counties on 2 workers (fresh output)")
    t0 = time.perf_counter()
    run, startup, rss = timed_run(codes, out / "full", 2, params)
    wall = time.perf_counter() - t0
    ok = [r for r in run.records if r["status"] == "ok"]
    secs = [r["seconds"] for r in ok]
    villages = sum(int(r.get("villages", 0)) for r in ok)
    print(
        f"  wall {wall:.1f} s including cluster start {startup:.1f} s (run itself {run.wall_s:.1f} s)"
    )
    print(f"  counties ok {len(ok)}, failed {len(run.failed)}; villages {villages:,}")
    for r in run.failed:
        print(f"    FAILED {r['code']} {r.get('name', '')}: {r.get('reason', '')[:200]}")
    print(f"  per-county time: {dist(secs)}")
    big = sorted(ok, key=lambda r: -r["seconds"])[:3]
    print(
        "  slowest: "
        + ", ".join(
            f"{r['code']} {r['name']} {r['seconds']:.1f} s ({r['villages']} villages)" for r in big
        )
    )
    print(
        "  peak RSS per worker process: "
        + ", ".join(f"{v:.0f} MB" for v in rss.values())
        + f"; max task-reported peak {max(r.get('peak_rss_mb', 0) for r in run.records):.0f} MB"
    )

    busy = sum(secs)
    cpu = sum(r.get("cpu_s", 0.0) for r in ok)
    occupancy = busy / (2 * run.wall_s)
    print(
        f"  worker occupancy {occupancy:.0%}; task CPU {cpu:.0f} s of {busy:.0f} s task wall "
        f"({cpu / busy:.0%}); load avg now {os.getloadavg()[0]:.1f}"
    )
    print("\n== projection for China (~2,800 counties, ~600,000 villages)")
    # a dedicated core does a task in its CPU time; the wall rate here includes contention
    eff = min(1.0, max(speedup / 2, occupancy))
    for label, work in (
        ("dedicated cores (task CPU time)", cpu),
        ("as measured here (task wall)", busy),
    ):
        per_village, per_county = work / max(villages, 1), work / max(len(ok), 1)
        china = max(per_village * CHINA_VILLAGES, per_county * CHINA_COUNTIES)
        print(
            f"  {label}: {per_village * 1000:.1f} ms/village, {per_county:.2f} s/county -> "
            f"China ≈ {china / 3600:.2f} worker-hours"
        )
        for target_min in (60, 15, 5):
            need = math.ceil(china / (target_min * 60 * eff))
            print(
                f"    finish in {target_min:>2} min: ~{need} worker processes (1 core, "
                f"~{max(rss.values()) / 1024:.2f} GB RAM each; efficiency {eff:.0%})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
