"""Where the capacitated p-median's root gap lies: LP, Lagrangian and fixed-sites bounds.

Usage: ``python bench/cpmp_bounds.py [--solutions FILE] FILE...``

For each instance (the formats of ``bench/capacitated.py``) prints one JSON line with

* ``lp``: the LP relaxation of the compact model (``x_ij <= y_j``, capacity rows, ``p`` sites);
* ``lagrangian``: the knapsack Lagrangian bound of :mod:`doorstep.analysis.siting._cpmp`
  (600 subgradient steps; it equals the column-generation bound of Ceselli & Righini 2005);
* ``fixed_sites``: the same bound with the sites of a known solution fixed open (from
  ``--solutions``, the JSON lines that ``bench/capacitated.py`` prints), i.e. the bound once
  the choice of sites is right;
* ``published`` and each bound's gap to it in per cent.

A small ``fixed_sites`` gap beside a large ``lagrangian`` gap says that the bound is weak in
the combination of sites, not in the assignment: only branching on sites (or bounds that see
several sites at once) can close it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from capacitated import published, read_any

from doorstep.analysis.siting._cpmp import CpmpData, assignment_milp, subgradient


def _data(path: Path) -> tuple[str, CpmpData, float | None]:
    fmt, inst = read_any(path)
    n = inst.demand.size
    caps = np.broadcast_to(np.asarray(inst.capacity, dtype=float), (n,)).copy()
    data = CpmpData(
        cost=np.asarray(inst.cost, dtype=float),
        load=np.asarray(inst.demand, dtype=float),
        caps=caps,
        existing=np.zeros(0, dtype=np.intp),
        candidates=np.arange(n, dtype=np.intp),
        k=inst.p,
        integral=fmt == "pmedcap",
    )
    return inst.name, data, published(path, inst)


def lp_bound(data: CpmpData) -> float:
    keep = np.isfinite(data.cost) & (data.load[:, None] <= data.caps[None, :])
    m_cols = keep.shape[1]
    model, _y, _x, _ii = assignment_milp(data, keep, np.zeros(m_cols), np.ones(m_cols))
    return float(model.solve(relax=True, label="capacitated p-median LP").objective)


def lagrangian_bound(data: CpmpData, upper: float) -> float:
    lam0 = np.sort(data.cost, axis=1)[:, min(1, data.cost.shape[1] - 1)]
    best, _lams, _ub = subgradient(data, upper, lam0, iterations=600)
    return float(best)


def fixed_sites_bound(data: CpmpData, sites: list[int], upper: float) -> float:
    fixed = CpmpData(
        cost=data.cost,
        load=data.load,
        caps=data.caps,
        existing=np.asarray(sites, dtype=np.intp),
        candidates=np.zeros(0, dtype=np.intp),
        k=0,
        integral=data.integral,
    )
    return lagrangian_bound(fixed, upper)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument(
        "--solutions",
        type=Path,
        help="JSON lines of bench/capacitated.py (instance, sites 1-based) for fixed_sites",
    )
    args = ap.parse_args(argv)
    sites: dict[str, list[int]] = {}
    if args.solutions is not None:
        for line in args.solutions.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                sites[row["instance"]] = [int(j) - 1 for j in row["sites"]]
    for path in args.files:
        if path.suffix == ".csv":
            continue
        name, data, known = _data(path)
        upper = np.inf if known is None else known
        out: dict[str, Any] = {
            "instance": name,
            "published": known,
            "lp": round(lp_bound(data), 3),
            "lagrangian": round(lagrangian_bound(data, upper), 3),
        }
        if name in sites:
            out["fixed_sites"] = round(fixed_sites_bound(data, sites[name], upper), 3)
        if known:
            for key in ("lp", "lagrangian", "fixed_sites"):
                if key in out:
                    out[f"{key}_gap_pct"] = round(100.0 * (known - out[key]) / known, 2)
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
