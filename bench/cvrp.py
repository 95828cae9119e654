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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _vrprun import run

from doorstep.analysis.circuits.benchmarks import (
    check_cvrp,
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
    return run(
        "cvrp",
        a.files,
        read_cvrp,
        solve_cvrp,
        check_cvrp,
        lambda f, inst: read_cvrp_cost(f.with_suffix(".sol")) or inst.optimum,
        a.time_limit,
        a.seed,
    )


if __name__ == "__main__":
    sys.exit(main())
