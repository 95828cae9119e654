"""Benchmark of the coverage ensemble (issue 12; not a test).

Usage::

    PYTHONPATH=. python bench/ensemble.py [--draws 200] [--seed 1] [--repeat 3]

On the default Huayuan model it times

* one nominal coverage run — :func:`analysis.coverage.coverage`, every mode, the target of
  ``doorstep coverage`` (its snap cache warm, as in the ensemble);
* the ensemble — :func:`analysis.uncertainty.coverage_ensemble` with ``--draws`` draws, every
  mode, including sampling, populations, 5–95 % ranges of every township/county figure, gap
  probabilities and the one-at-a-time sensitivity; the engine (:class:`EnsembleEngine`) is
  built inside the timed call.

Each is run ``--repeat`` times and the best time kept (fair under machine load). Prints both
times and ``ensemble ratio: Nx`` = ensemble time / nominal time (goal ≤ 20x), and lists the
figures whose nominal value lies outside its 5–95 % range (a best or worst case of the draws).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time (s) of ``repeat`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)

    from doorstep.analysis.coverage import CoverageTarget, coverage
    from doorstep.analysis.uncertainty import annotate_coverage, coverage_ensemble
    from doorstep.geo.model import build_county_model

    model = build_county_model()
    target = CoverageTarget()
    t_cold, _ = best_of(lambda: coverage(model, target), 1)
    t_nom, res = best_of(lambda: coverage(model, target), a.repeat)
    t_ens, ens = best_of(lambda: coverage_ensemble(model, target, a.draws, a.seed), a.repeat)
    annotate_coverage(res, ens)
    w = sys.stdout.write
    w(
        f"model: {model.name}, {len(model.villages)} villages, {model.graph.number_of_edges()} edges\n"
    )
    w(
        f"nominal coverage (3 modes): {t_nom * 1000:.1f} ms (cold first call {t_cold * 1000:.1f} ms)\n"
    )
    w(f"ensemble, {a.draws} draws x 3 modes + sensitivity: {t_ens * 1000:.1f} ms\n")
    out = res.meta["uncertainty"]["nominal_outside_range"]
    w(
        f"figures (county + townships x modes) with the nominal outside its 5-95 % range: {len(out)}\n"
    )
    for o in out[:8]:
        w(
            f"  {o['mode']:9s} {o['where']:6s} {o['figure']:22s} {o['nominal']:.3g} {o['nominal_is']}\n"
        )
    w(f"ensemble ratio: {t_ens / t_nom:.1f}x\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
