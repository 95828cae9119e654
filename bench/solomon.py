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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _vrprun import run

from doorstep.analysis.circuits.benchmarks import (
    check_solomon,
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
    return run(
        "solomon",
        a.files,
        read_solomon,
        solve_solomon,
        check_solomon,
        lambda _f, inst: bks.get(inst.name.upper()),
        a.time_limit,
        a.seed,
    )


if __name__ == "__main__":
    sys.exit(main())
