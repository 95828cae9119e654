"""Solomon C101 through the same routing layer (fast regression) and the independent checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.analysis.circuits.benchmarks import (
    check_cvrp,
    check_solomon,
    read_bks,
    read_cvrp,
    read_solomon,
    solve_cvrp,
    solve_solomon,
)
from doorstep.geo.settings import PROJECT_ROOT

BENCH = PROJECT_ROOT.parent / "shared" / "bench"
needs_bench = pytest.mark.skipif(
    not (BENCH / "solomon" / "C101.txt").is_file(), reason="../shared/bench absent"
)


@needs_bench
def test_solomon_c101_regression():
    inst = read_solomon(BENCH / "solomon" / "C101.txt")
    routes, _ = solve_solomon(inst, time_limit=2.0, seed=1)
    ok, dist, problems = check_solomon(inst, routes)
    assert ok, problems
    bks = read_bks(BENCH / "solomon" / "solomon_bks_type1.csv")["C101"]
    assert bks == 828.94
    assert dist <= bks * 1.01
    assert len(routes) == 10


@needs_bench
def test_checker_catches_broken_solutions():
    inst = read_solomon(BENCH / "solomon" / "C101.txt")
    routes, _ = solve_solomon(inst, time_limit=0.5)
    ok, _, _ = check_solomon(inst, routes)
    assert ok
    r0 = routes[0]
    swapped = [list(reversed(r0)), *routes[1:]]  # C101 windows are tight: reversal breaks them
    ok, _, problems = check_solomon(inst, swapped)
    assert not ok and any("after due" in p for p in problems)
    ok, _, problems = check_solomon(inst, routes[1:])
    assert not ok and any("visited 0 times" in p for p in problems)
    merged = [routes[0] + routes[1], *routes[2:]]
    ok, _, problems = check_solomon(inst, merged)
    assert not ok and any("capacity" in p for p in problems)


@needs_bench
def test_cvrp_a_n32_k5():
    inst = read_cvrp(BENCH / "cvrp" / "A-n32-k5.vrp")
    assert inst.optimum == 784
    routes, _ = solve_cvrp(inst, time_limit=1.0)
    ok, dist, problems = check_cvrp(inst, routes)
    assert ok, problems
    assert dist <= 784 * 1.01
    assert 1 not in {n for r in routes for n in r}  # depot (node 1) left out


def test_solomon_reader_refuses_garbage(tmp_path: Path):
    from doorstep.geo._errors import DataFileError

    bad = tmp_path / "x.txt"
    bad.write_text("hello\nworld\n")
    with pytest.raises(DataFileError):
        read_solomon(bad)
