"""Solve OR-Library set-covering files exactly and compare with the published optima.

Usage: ``python bench/setcover.py FILE... [--time-limit S]``

Prints one JSON line per instance (``instance, n, p, objective, optimal, lower_bound, seconds,
columns``; ``n`` = rows, ``p`` = number of chosen columns; columns numbered as in the file),
then a comparison with ``scp_optima_4-5.csv`` (next to the files) when listed there.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from doorstep.analysis.siting.lscp import solve_set_cover
from doorstep.analysis.siting.readers import read_setcover


def published(path: Path) -> dict[str, float]:
    table = path.parent / "scp_optima_4-5.csv"
    if not table.is_file():
        return {}
    with table.open() as fh:
        return {r["instance"]: float(r["optimal_cost_literature"]) for r in csv.DictReader(fh)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args(argv)
    for path in args.files:
        t0 = time.perf_counter()
        inst = read_setcover(path)
        sol = solve_set_cover(inst.cover, inst.costs, time_limit=args.time_limit)
        secs = time.perf_counter() - t0
        line = {
            "instance": inst.name,
            "n": int(inst.cover.shape[0]),
            "p": int(sol.columns.size),
            "objective": sol.objective,
            "optimal": sol.optimal,
            "lower_bound": sol.bound,
            "seconds": round(secs, 3),
            "columns": [int(j) + 1 for j in sol.columns],
        }
        print(json.dumps(line), flush=True)
        known = published(path).get(inst.name)
        if known is not None:
            verdict = "matched" if abs(known - sol.objective) < 1e-6 else "MISMATCH"
            print(f"published optimum {known:g}: {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
