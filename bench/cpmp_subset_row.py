"""How much 3-row subset-row cuts close the capacitated p-median's root gap.

Usage: ``python bench/cpmp_subset_row.py [--rounds R] [--cuts C] FILE...``

Runs the root of :mod:`doorstep.analysis.siting._cpmpsp` alone: column generation on the
set-partitioning master (Ceselli & Righini 2005; its bound equals the knapsack Lagrangian's
maximum), then rounds of violated 3-row subset-row cuts (Jepsen et al. 2008), each re-priced
exactly by the compiled per-site search of :mod:`~doorstep.analysis.siting._cpmpkern`. Every
printed bound is the master LP's optimum after pricing found no negative column, hence a valid
lower bound. The rounds stop early only when no triple is violated or three rounds gain almost
nothing (the published optimum is not given to the root, so the bound never stops at it).

Prints one JSON line per instance: ``column_generation`` (the bound without cuts), ``rounds``
(the bound after each round of cuts), ``cuts``, ``columns``, ``seconds`` and, when the optimum is
known, each bound's gap in per cent and ``valid`` (every bound at most the optimum).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cpmp_bounds import _data

from doorstep.analysis.siting._cpmp import CpmpData, subgradient
from doorstep.analysis.siting._cpmpsp import SpSettings, root_bound


def measure(data: CpmpData, rounds: int, per_round: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    lam0 = np.sort(data.cost, axis=1)[:, min(1, data.cost.shape[1] - 1)]
    _b, lams, _u = subgradient(data, np.inf, lam0, iterations=300)
    settings = SpSettings(rounds=rounds, cuts_per_round=per_round, steps=10**12)
    root = root_bound(data, lams[:5], np.inf, settings)
    return {
        "column_generation": round(root.rounds[0], 3),
        "rounds": [round(v, 3) for v in root.rounds[1:]],
        "cuts": len(root.master.triples),
        "columns": len(root.master.sets),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=30, help="rounds of cuts (default 30)")
    ap.add_argument("--cuts", type=int, default=30, help="cuts added per round (default 30)")
    args = ap.parse_args(argv)
    for path in args.files:
        if path.suffix == ".csv":
            continue
        name, data, known = _data(path)
        out: dict[str, Any] = {"instance": name, "published": known}
        out.update(measure(data, args.rounds, args.cuts))
        if known:
            last = out["rounds"][-1] if out["rounds"] else out["column_generation"]
            out["column_generation_gap_pct"] = round(
                100 * (known - out["column_generation"]) / known, 2
            )
            out["subset_row_gap_pct"] = round(100 * (known - last) / known, 2)
            out["valid"] = all(
                b <= known + 1e-6 for b in [out["column_generation"], *out["rounds"]]
            )
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
