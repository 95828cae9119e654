"""OR-Library regression tests (pmed1, scp41) read in place from ../shared/bench."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.analysis.siting.heuristic import median_heuristic
from doorstep.analysis.siting.lscp import solve_set_cover
from doorstep.analysis.siting.pmedian import pmedian
from doorstep.analysis.siting.readers import read_pmed, read_setcover
from doorstep.geo.settings import PROJECT_ROOT

BENCH = PROJECT_ROOT.parent / "shared" / "bench"
needs_bench = pytest.mark.skipif(
    not BENCH.is_dir(), reason=f"OR-Library files not found at {BENCH} (../shared/bench)"
)


@needs_bench
def test_pmed1_published_optimum() -> None:
    inst = read_pmed(BENCH / "pmed" / "pmed1.txt")
    assert (inst.n, inst.p) == (100, 5)
    r = pmedian(inst.problem, inst.p, time_limit=60)
    assert r.optimal and r.objective == 5819 and r.lower_bound == 5819
    assert inst.problem.objective_sum(r.open_sites) == 5819
    h = median_heuristic(inst.problem.cost, inst.problem.weights, [], inst.problem.candidates, 5)
    assert inst.problem.objective_sum(h) >= 5819


@needs_bench
@pytest.mark.parametrize(("name", "p", "opt"), [("pmed6", 5, 7824), ("pmed16", 5, 8162)])
def test_small_p_needs_branching_and_is_proven(name: str, p: int, opt: int) -> None:
    # the Lagrangian (= LP) bound is below the optimum here, so the search must branch
    inst = read_pmed(BENCH / "pmed" / f"{name}.txt")
    assert inst.p == p
    r = pmedian(inst.problem, inst.p, time_limit=60)
    assert r.optimal and r.objective == opt and r.lower_bound == opt
    assert inst.problem.objective_sum(r.open_sites) == opt
    assert r.new_sites.size == p


@needs_bench
def test_scp41_published_optimum() -> None:
    inst = read_setcover(BENCH / "setcover" / "scp41.txt")
    s = solve_set_cover(inst.cover, inst.costs, time_limit=60)
    assert s.optimal and s.objective == 429
    covered = np.asarray(inst.cover[:, s.columns].sum(axis=1)).ravel()
    assert (covered >= 1).all()


def test_pmed_reader_last_cost_wins(tmp_path) -> None:
    f = tmp_path / "tiny.txt"
    f.write_text("3 3 1\n1 2 5\n2 3 1\n2 1 2\n")
    inst = read_pmed(f)
    assert inst.problem.cost[0, 2] == 3  # 1-2 costs 2 (last), then 2-3 costs 1


def test_setcover_reader_wrapped_lines(tmp_path) -> None:
    f = tmp_path / "tiny.txt"
    f.write_text("2 3\n 4 1\n 1\n 2 1\n 2 2 1 3\n")
    inst = read_setcover(f)
    assert inst.costs.tolist() == [4, 1, 1]
    assert inst.cover.toarray().tolist() == [[True, True, False], [True, False, True]]
    s = solve_set_cover(inst.cover, inst.costs)
    assert s.objective == 2 and sorted(s.columns.tolist()) == [1, 2]
