"""Single-source capacitated p-median: a hand-checked case, Lorena & Senne and OR-Library files."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from doorstep.analysis.siting import SitingProblem, capacitated_pmedian
from doorstep.analysis.siting._cpmp import (
    CpmpData,
    SpSettings,
    knapsack_at_capacity,
    knapsacks,
    start_incumbent,
)
from doorstep.analysis.siting._cpmpls import swap_search
from doorstep.analysis.siting._cpmpsolve import CpmpSettings, solve_cpmp
from doorstep.analysis.siting._gapheur import greedy_assign, heuristic_assign
from doorstep.analysis.siting.readers import read_lorena_senne, read_pmedcap
from doorstep.geo._errors import InfeasibleError
from doorstep.geo.settings import PROJECT_ROOT

PMEDCAP = PROJECT_ROOT.parent / "shared" / "bench" / "pmedcap"

# five customers on a line at 0, 1, 2, 10, 11 with demands 2, 1, 2, 1, 1; p = 2, Q = 4
POS = np.array([0.0, 1, 2, 10, 11])
DEM = np.array([2.0, 1, 2, 1, 1])
LINE = np.abs(POS[:, None] - POS[None, :])


def test_hand_checked_line() -> None:
    # The left cluster's demand 5 exceeds Q = 4, so one left customer must travel right.
    # Cheapest: median at 1 (or 0) serving 0 and 1 (cost 1), customer at 2 -> median 10 (8),
    # 11 -> 10 (1): 10. Uncapacitated it would be 3; split demand 6.5 (half of customer 2 at
    # median 1 for 0.5, half at 10 for 4, plus 1 + 1).
    prob = SitingProblem.from_cost_matrix(LINE, np.ones(5), units="km")
    r = capacitated_pmedian(prob, 2, 4.0, demand=DEM, time_limit=30)
    assert r.optimal and r.objective == 10 and r.lower_bound == 10
    assert 3 in r.open_sites and r.open_sites.size == 2
    assert r.assignment[2] == 3 and r.assignment[4] == 3
    load = np.bincount(r.assignment, weights=DEM, minlength=5)
    assert load.max() <= 4
    assert r.assignment_shares is not None
    assert np.array_equal(r.assignment_shares.sum(axis=1), np.ones(5))
    split = capacitated_pmedian(prob, 2, 4.0, demand=DEM, single_source=False, time_limit=30)
    assert split.optimal and split.objective == pytest.approx(6.5)


def test_capacity_too_small_is_infeasible() -> None:
    prob = SitingProblem.from_cost_matrix(LINE, np.ones(5))
    with pytest.raises(InfeasibleError):
        capacitated_pmedian(prob, 2, 3.0, demand=DEM, time_limit=10)


def test_knapsack_dp_matches_enumeration() -> None:
    rng = np.random.default_rng(3)
    profit = rng.integers(-3, 14, size=(7, 3)).astype(float)
    wt = rng.integers(0, 5, size=7)
    cap = np.array([0, 6, 9])
    dp, x = knapsacks(profit, wt, cap, choose=True)
    assert x is not None
    for j in range(3):
        best = max(
            sum(profit[i, j] for i in s)
            for r in range(8)
            for s in itertools.combinations(range(7), r)
            if sum(wt[i] for i in s) <= cap[j]
        )
        assert dp[j, cap[j]] == best
        assert wt[x[:, j]].sum() <= cap[j] and profit[x[:, j], j].sum() == best


def test_knapsack_at_capacity_equals_the_full_programme() -> None:
    """The shortcut (columns whose positive items all fit take them all) gives the dynamic
    programme's values and optimal sets, on columns of both kinds."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        profit = rng.integers(-6, 10, size=(9, 6)).astype(float)
        wt = rng.integers(0, 6, size=9)
        cap = rng.integers(0, 30, size=6)
        dp, _x = knapsacks(profit, wt, cap)
        val, x = knapsack_at_capacity(profit, wt, cap, choose=True)
        assert x is not None
        np.testing.assert_array_equal(val, dp[np.arange(6), cap])
        for j in range(6):
            assert wt[x[:, j]].sum() <= cap[j]
            assert profit[x[:, j], j].sum() == val[j]
    # both kinds occur: a roomy column (shortcut) and a tight one (programme)
    profit = np.array([[5.0, 5.0], [4.0, 4.0], [-1.0, 3.0]])
    wt = np.array([2, 2, 2])
    val, x = knapsack_at_capacity(profit, wt, np.array([10, 4]), choose=True)
    assert val.tolist() == [9.0, 9.0]
    assert x is not None and x[:, 0].tolist() == [True, True, False]
    assert x[:, 1].tolist() == [True, True, False]


LS_NODES = [  # x y capacity demand
    (0.0, 0.0, 14, 4),
    (1.0, 2.0, 14, 3),
    (2.0, 0.5, 14, 5),
    (7.0, 7.0, 14, 4),
    (8.0, 6.0, 14, 2),
    (6.5, 8.5, 14, 3),
    (3.0, 4.0, 14, 4),
]


def _brute_force(xy: np.ndarray, cap: np.ndarray, dem: np.ndarray, p: int) -> float:
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    best = np.inf
    n = len(dem)
    for sites in itertools.combinations(range(n), p):
        for a in itertools.product(sites, repeat=n):
            load = np.bincount(a, weights=dem, minlength=n)
            if (load <= cap).all():
                best = min(best, float(d[np.arange(n), list(a)].sum()))
    return best


def test_lorena_senne_file(tmp_path: Path) -> None:
    f = tmp_path / "tiny.dat"
    f.write_text("7 2\n" + "\n".join(" ".join(f"{v:g}" for v in row) for row in LS_NODES) + "\n")
    inst = read_lorena_senne(f)
    assert inst.p == 2 and inst.cost[0, 1] == pytest.approx(np.sqrt(5))
    prob = SitingProblem.from_cost_matrix(inst.cost, np.ones(7))
    r = capacitated_pmedian(prob, 2, inst.capacity, demand=inst.demand, time_limit=30)
    expect = _brute_force(inst.xy, inst.capacity, inst.demand, 2)
    assert r.optimal and r.objective == pytest.approx(expect, abs=1e-9)
    # demand 25 of 28: the capacities bind (uncapacitated would be cheaper)
    assert np.bincount(r.assignment, weights=inst.demand, minlength=7).max() <= 14
    unc = min(inst.cost[:, list(s)].min(axis=1).sum() for s in itertools.combinations(range(7), 2))
    assert unc < expect - 1e-6
    out = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "capacitated.py"), str(f)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = json.loads(out.stdout)
    assert line["instance"] == "tiny" and line["format"] == "lorena-senne"
    assert line["optimal"] and line["objective"] == pytest.approx(expect, abs=1e-6)
    assert len(line["assignment"]) == 7 and set(line["assignment"]) == set(line["sites"])


@pytest.mark.skipif(not PMEDCAP.is_dir(), reason=f"pmedcap files not found at {PMEDCAP}")
def test_pmedcap1_02_published_optimum() -> None:
    inst = read_pmedcap(PMEDCAP / "pmedcap1_02.txt")
    assert (inst.demand.size, inst.p, inst.capacity[0], inst.published) == (50, 5, 120, 740)
    prob = SitingProblem.from_cost_matrix(inst.cost, np.ones(50))
    r = capacitated_pmedian(prob, inst.p, inst.capacity, demand=inst.demand, time_limit=60)
    assert r.optimal and r.objective == 740 and r.lower_bound == 740
    assert inst.cost[np.arange(50), r.assignment].sum() == 740
    assert np.bincount(r.assignment, weights=inst.demand, minlength=50).max() <= 120


def test_existing_site_and_per_demand_radius() -> None:
    # the median at 10 already exists: one new site, same optimum 10; coverage within each
    # customer's own radius (2, 2, 2, 0.5, 0.5): all but the customer at 11 (1 from 10)
    prob = SitingProblem.from_cost_matrix(LINE, np.ones(5), existing=[3])
    radius = np.array([2.0, 2, 2, 0.5, 0.5])
    r = capacitated_pmedian(prob, 1, 4.0, demand=DEM, radius=radius, time_limit=30)
    assert r.optimal and r.objective == 10 and r.new_sites.size == 1 and 3 in r.open_sites
    assert r.coverage_before == pytest.approx(1 / 5)
    assert r.coverage_after == pytest.approx(4 / 5)


def _brute_cpmp(cost: np.ndarray, dem: np.ndarray, cap: float, p: int) -> float:
    n, m = cost.shape
    best = np.inf
    for sites in itertools.combinations(range(m), p):
        for a in itertools.product(sites, repeat=n):
            if np.bincount(a, weights=dem, minlength=m).max() <= cap:
                best = min(best, float(cost[np.arange(n), list(a)].sum()))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_solver_matches_enumeration(seed: int) -> None:
    # tight random instances (demand 80-95 % of the open capacity): the proven optimum is the
    # enumerated one, and the assignment is feasible and worth it
    data, expect = _tight(seed)
    out = solve_cpmp(data)
    assert out.proven and out.assign is not None
    assert out.value == expect == out.bound
    assert data.cost[np.arange(8), out.assign].sum() == expect
    assert np.bincount(out.assign, weights=data.load, minlength=8).max() <= data.caps[0]


@pytest.mark.skipif(not PMEDCAP.is_dir(), reason=f"pmedcap files not found at {PMEDCAP}")
def test_bench_pmedcap1_04_recomputed_from_file() -> None:
    # the bench's JSON line alone lets anyone check the answer against the file
    path = PMEDCAP / "pmedcap1_04.txt"
    out = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "capacitated.py"), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = json.loads(out.stdout)
    inst = read_pmedcap(path)
    assign = np.array(line["assignment"]) - 1
    assert line["optimal"] and line["matches"] and line["published"] == 651
    assert line["objective"] == inst.cost[np.arange(50), assign].sum() == 651
    assert len(line["sites"]) == inst.p == 5 and set(assign + 1) == set(line["sites"])
    assert np.bincount(assign, weights=inst.demand, minlength=50).max() <= 120
    assert line["lower_bound"] == 651 and line["cpu_seconds"] >= 0


def test_same_answer_twice() -> None:
    # effort is counted in nodes and iterations, not seconds: identical runs, identical plans
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10, size=(12, 2))
    cost = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    prob = SitingProblem.from_cost_matrix(cost, np.ones(12))
    dem = rng.integers(1, 5, size=12).astype(float)
    runs = [capacitated_pmedian(prob, 3, 12.0, demand=dem, time_limit=None) for _ in range(2)]
    assert runs[0].optimal and runs[1].optimal
    assert np.array_equal(runs[0].assignment, runs[1].assignment)
    assert runs[0].objective == runs[1].objective
    load = np.bincount(runs[0].assignment, weights=dem, minlength=12)
    assert load.max() <= 12 and runs[0].new_sites.size == 3


def test_gap_heuristic_feasible_and_never_below_the_optimum() -> None:
    rng = np.random.default_rng(5)
    cost = rng.integers(1, 20, size=(7, 3)).astype(float)
    load = rng.integers(1, 5, size=7).astype(float)
    caps = np.full(3, np.ceil(load.sum() / 3 / 0.85))
    best = min(
        cost[np.arange(7), list(a)].sum()
        for a in itertools.product(range(3), repeat=7)
        if (np.bincount(a, weights=load, minlength=3) <= caps).all()
    )
    greedy = greedy_assign(cost, load, caps)
    assert greedy is not None
    final = heuristic_assign(cost, load, caps)
    assert final is not None
    for a in (greedy, final):
        assert (np.bincount(a, weights=load, minlength=3) <= caps).all()
    assert best <= cost[np.arange(7), final].sum() <= cost[np.arange(7), greedy].sum()
    assert greedy_assign(cost, load, np.full(3, load.max() - 1)) is None


def _regret_greedy_by_rescanning(
    cost: np.ndarray, load: np.ndarray, caps: np.ndarray
) -> np.ndarray | None:
    """Regret greedy written plainly: every step re-ranks every unplaced demand's feasible
    sites (the incremental :func:`greedy_assign` must make the same choices)."""
    n, s = cost.shape
    rest, assign = caps.astype(float).copy(), np.full(n, -1)
    for _ in range(n):
        best_i, best_regret = -1, -np.inf
        for i in np.flatnonzero(assign < 0):
            ok = [j for j in range(s) if np.isfinite(cost[i, j]) and load[i] <= rest[j] + 1e-9]
            if not ok:
                return None
            ranked = sorted(cost[i, j] for j in ok)
            regret = ranked[1] - ranked[0] if len(ranked) > 1 else np.inf
            if regret > best_regret:
                best_i, best_regret = int(i), regret
        ok = [
            j for j in range(s) if np.isfinite(cost[best_i, j]) and load[best_i] <= rest[j] + 1e-9
        ]
        j = min(ok, key=lambda jj: (cost[best_i, jj], jj))
        assign[best_i] = j
        rest[j] -= load[best_i]
    return assign


def test_incremental_regret_greedy_matches_the_plain_one() -> None:
    """Random cases with many ties and forbidden pairs: same assignment (or both ``None``)."""
    rng = np.random.default_rng(8)
    nones = 0
    for _ in range(300):
        n, s = int(rng.integers(1, 25)), int(rng.integers(1, 6))
        cost = rng.integers(0, 8, size=(n, s)).astype(float)
        cost[rng.random((n, s)) < 0.15] = np.inf
        load = rng.integers(1, 6, size=n).astype(float)
        caps = rng.integers(3, 30, size=s).astype(float)
        got, want = greedy_assign(cost, load, caps), _regret_greedy_by_rescanning(cost, load, caps)
        assert (got is None) == (want is None)
        if want is None:
            nones += 1
        else:
            np.testing.assert_array_equal(got, want)
    assert 0 < nones < 300  # both outcomes were exercised


def test_sjc2_solution_recomputed_from_the_file() -> None:
    # the kept Lorena & Senne instance and the bench's certificate for it agree
    data = PROJECT_ROOT / "bench" / "data"
    inst = read_lorena_senne(data / "SJC2.dat")
    assert (inst.demand.size, inst.p, inst.demand.sum()) == (200, 15, 9269)
    sol = json.loads((data / "SJC2.solution.json").read_text())
    assign = np.array(sol["assignment"]) - 1
    assert len(sol["sites"]) == 15 and set(assign + 1) == set(sol["sites"])
    value = inst.cost[np.arange(200), assign].sum()
    assert value == pytest.approx(33270.94, abs=0.01) == sol["objective"]
    assert (np.bincount(assign, weights=inst.demand, minlength=200) <= inst.capacity).all()


def _tight(seed: int, n: int = 8, p: int = 2) -> tuple[CpmpData, float]:
    """A tight random instance (demand 80-95 % of the open capacity) and its optimum."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 30, size=(n, 2))
    cost = np.floor(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2)))
    dem = rng.integers(1, 6, size=n).astype(float)
    cap = float(np.ceil(dem.sum() / p / rng.uniform(0.8, 0.95)))
    data = CpmpData(cost, dem, np.full(n, cap), np.zeros(0, np.intp), np.arange(n), p, True)
    return data, _brute_cpmp(cost, dem, cap, p)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_swap_search_feasible_and_never_worse(seed: int) -> None:
    data, best = _tight(seed)
    start = start_incumbent(data, 50)
    assert start is not None
    got = swap_search(data, start)
    assert got is not None
    value, assign, sites = got
    assert best <= value <= start[0]
    assert value == data.value(assign) and sites.size == data.k
    assert set(assign.tolist()) <= set(sites.tolist())
    assert np.bincount(assign, weights=data.load, minlength=8).max() <= data.caps[0]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_lagrangian_cuts_keep_the_optimum(seed: int) -> None:
    # the cuts are valid: with none, aggregated or per-site rows the proven optimum is the same
    data, best = _tight(seed)
    for kind in (0, 1, 2):
        cfg = CpmpSettings(lagrangian_cuts=kind, root_iterations=3, restricted_nodes=1)
        out = solve_cpmp(data, settings=cfg)
        assert out.proven and out.value == best == out.bound
        assert out.assign is not None and data.value(out.assign) == best


SP_LOG = "doorstep.analysis.siting._cpmpsp"


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_set_partitioning_route_and_its_fallback_keep_the_optimum(
    seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    # a weak root (3 subgradient steps, no local search) leaves a gap, so the set-partitioning
    # proof runs (min_gap 0); with a 1-step budget it gives up and HiGHS proves the optimum
    data, best = _tight(seed)
    routes = {
        "highs": None,
        "set partitioning": SpSettings(min_gap=0.0),
        "budget": SpSettings(min_gap=0.0, steps=1),
    }
    for name, sp in routes.items():
        caplog.clear()
        cfg = CpmpSettings(
            set_partitioning=sp, root_iterations=3, restricted_nodes=1, local_search=False
        )
        with caplog.at_level("INFO", logger=SP_LOG):
            out = solve_cpmp(data, settings=cfg)
        assert out.proven and out.value == best == out.bound, name
        assert out.assign is not None and out.open_sites is not None
        assert data.value(out.assign) == best
        assert set(out.assign.tolist()) <= set(out.open_sites.tolist())
        assert out.open_sites.size == data.k
        assert np.bincount(out.assign, weights=data.load, minlength=8).max() <= data.caps[0]
        said = " ".join(r.getMessage() for r in caplog.records if r.name == SP_LOG)
        if out.lagrangian_bound < best - 1:  # the root did not close it: the route ran
            assert ("set-partitioning bound" in said) == (name == "set partitioning"), name
            assert ("stopped (pricing search budget)" in said) == (name == "budget"), name


@pytest.mark.skipif(not PMEDCAP.is_dir(), reason=f"pmedcap files not found at {PMEDCAP}")
def test_pmedcap1_08_proven_through_set_partitioning(caplog: pytest.LogCaptureFixture) -> None:
    # the hardest pmedcap1 instance for the compact MILP (root gap 6 %): the subset-row bound and
    # the column enumeration prove the published optimum 820
    inst = read_pmedcap(PMEDCAP / "pmedcap1_08.txt")
    prob = SitingProblem.from_cost_matrix(inst.cost, np.ones(50))
    with caplog.at_level("INFO", logger=SP_LOG):
        r = capacitated_pmedian(prob, inst.p, inst.capacity, demand=inst.demand, time_limit=120)
    assert r.optimal and r.objective == 820 == r.lower_bound
    assert inst.cost[np.arange(50), r.assignment].sum() == 820
    assert np.bincount(r.assignment, weights=inst.demand, minlength=50).max() <= 120
    assert any("set-partitioning bound" in rec.getMessage() for rec in caplog.records)
