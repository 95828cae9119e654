"""Shared driver of ``bench/solomon.py`` and ``bench/cvrp.py``: solve, check, print JSON lines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from doorstep.analysis.circuits.benchmarks import gap_percent


def run(
    kind: str,
    files: Sequence[Path],
    read: Callable[[Path], Any],
    solve: Callable[[Any, float, int], tuple[list[list[int]], Any]],
    check: Callable[[Any, list[list[int]]], tuple[bool, float, list[str]]],
    best_known: Callable[[Path, Any], float | None],
    time_limit: float,
    seed: int,
) -> int:
    """One JSON line per instance, then a summary line; exit status 1 if any is infeasible."""
    gaps, n_feas = [], 0
    for f in files:
        inst = read(f)
        t0 = time.perf_counter()
        routes, _ = solve(inst, time_limit, seed)
        secs = time.perf_counter() - t0
        ok, dist, problems = check(inst, routes)
        best = best_known(f, inst)
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
        "summary": kind,
        "instances": len(files),
        "feasible": n_feas,
        "mean_gap_pct": round(sum(gaps) / len(gaps), 4) if gaps else None,
        "time_limit": time_limit,
        "seed": seed,
    }
    print(json.dumps(summary), flush=True)
    return 0 if n_feas == len(files) else 1
