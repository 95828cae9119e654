"""Solomon VRPTW benchmark through Doorstep's routing layer.

Usage::

    python bench/solomon.py ../shared/bench/solomon/C1*.txt [--time-limit 10] [--seed 0]
        [--bks ../shared/bench/solomon/solomon_bks_type1.csv]

Prints one JSON line per instance ``{"instance", "distance", "vehicles", "feasible", "seconds",
"routes", "bks", "gap_pct"}`` — distance recomputed unrounded from the routes, feasibility checked
independently of the solver — and a final summary line with the mean gap.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.circuits.benchmarks import (
    check_solomon,
    gap_percent,
    read_bks,
    read_solomon,
    solve_solomon,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bks", type=Path, default=None, help="CSV of best-known distances")
    a = ap.parse_args(argv)
    bks_path = a.bks or a.files[0].parent / "solomon_bks_type1.csv"
    bks = read_bks(bks_path) if bks_path.is_file() else {}
    gaps, n_feas = [], 0
    for f in a.files:
        inst = read_solomon(f)
        t0 = time.perf_counter()
        routes, _ = solve_solomon(inst, a.time_limit, a.seed)
        secs = time.perf_counter() - t0
        ok, dist, problems = check_solomon(inst, routes)
        best = bks.get(inst.name.upper())
        gap = gap_percent(dist, best)
        n_feas += ok
        if gap is not None and ok:
            gaps.append(gap)
        rec = {
            "instance": inst.name,
            "distance": round(dist, 4),
            "vehicles": len(routes),
            "feasible": ok,
            "seconds": round(secs, 2),
            "routes": routes,
            "bks": best,
            "gap_pct": None if gap is None else round(gap, 4),
        }
        if problems:
            rec["problems"] = problems[:10]
        print(json.dumps(rec), flush=True)
    summary = {
        "summary": "solomon",
        "instances": len(a.files),
        "feasible": n_feas,
        "mean_gap_pct": round(sum(gaps) / len(gaps), 4) if gaps else None,
        "time_limit": a.time_limit,
        "seed": a.seed,
    }
    print(json.dumps(summary), flush=True)
    return 0 if n_feas == len(a.files) else 1


if __name__ == "__main__":
    sys.exit(main())
