"""CVRPLIB (set A) benchmark through Doorstep's routing layer.

Usage::

    python bench/cvrp.py ../shared/bench/cvrp/A-*.vrp [--time-limit 10] [--seed 0]

Prints one JSON line per instance ``{"instance", "distance", "vehicles", "feasible", "seconds",
"routes", "bks", "gap_pct"}`` (routes as node ids of the file, depot left out; distance
recomputed with rounded EUC_2D; best known from the matching ``.sol`` file or the file comment)
and a final summary line with the mean gap.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.circuits.benchmarks import (
    check_cvrp,
    gap_percent,
    read_cvrp,
    read_cvrp_cost,
    solve_cvrp,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    gaps, n_feas = [], 0
    for f in a.files:
        inst = read_cvrp(f)
        t0 = time.perf_counter()
        routes, _ = solve_cvrp(inst, a.time_limit, a.seed)
        secs = time.perf_counter() - t0
        ok, dist, problems = check_cvrp(inst, routes)
        best = read_cvrp_cost(f.with_suffix(".sol")) or inst.optimum
        gap = gap_percent(dist, best)
        n_feas += ok
        if gap is not None and ok:
            gaps.append(gap)
        rec = {
            "instance": inst.name,
            "distance": dist,
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
        "summary": "cvrp",
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
