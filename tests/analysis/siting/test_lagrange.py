"""Lagrangian bound, reduction tests and branch-and-bound of the uncapacitated p-median."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from doorstep.analysis.siting import SitingProblem, pmedian
from doorstep.analysis.siting._lagbb import lagrangian_branch_and_bound
from doorstep.analysis.siting._lagrange import lagrangian_reduce, weighted_costs
from doorstep.analysis.siting.heuristic import median_heuristic
from doorstep.geo._errors import InfeasibleError


def brute(d, w, k, fixed=(), banned=()):
    cand = [j for j in range(d.shape[1]) if j not in fixed and j not in banned]
    best = (np.inf, ())
    for s in itertools.combinations(cand, k):
        v = float(w @ d[:, [*fixed, *s]].min(axis=1))
        if v < best[0]:
            best = (v, s)
    return best


def random_instance(seed: int, n: int = 13, integer: bool = True):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    if integer:
        d = np.round(d)
        w = rng.integers(1, 9, n).astype(float)
    else:
        w = rng.uniform(0.1, 5.0, n)
    return d, w


def test_line_bound_and_fixing_by_hand() -> None:
    # points 0, 1, 10, 11 on a line, k = 2: optimum {0 or 1} + {10 or 11} = 2
    pos = np.array([0.0, 1.0, 10.0, 11.0])
    d = np.abs(pos[:, None] - pos[None, :])
    w = np.ones(4)
    cand = np.arange(4)
    out = lagrangian_reduce(d, w, np.array([], int), cand, 2, 2.0, np.array([0, 2]), integral=True)
    # with lambda = (1, 1, 1, 1): rho_j = -1 for every j, L = 4 - 2 = 2 = optimum
    assert out.bound == pytest.approx(2.0, abs=1e-6)
    # a bad incumbent (value 20, sites 0 and 1): the optimum is still reachable
    bad = np.array([0, 1])
    out = lagrangian_reduce(d, w, np.array([], int), cand, 2, 20.0, bad, heuristic_every=0)
    assert not out.closed.any() and not out.opened.any()
    out = lagrangian_reduce(d, w, np.array([], int), cand, 2, 20.0, bad)
    assert out.upper == 2.0  # the Lagrangian heuristic finds the optimum


@pytest.mark.parametrize("seed", range(6))
def test_bound_valid_and_fixing_keeps_better_solutions(seed: int) -> None:
    d, w = random_instance(seed)
    k = 3
    opt, opt_set = brute(d, w, k)
    cand = np.arange(d.shape[1])
    # incumbent: a poor solution, so every optimal site must survive the tests
    poor = np.argsort(w)[:k]
    ub = float(w @ d[:, poor].min(axis=1))
    out = lagrangian_reduce(
        d, w, np.array([], int), cand, k, ub, poor, integral=True, heuristic_every=0
    )
    assert out.bound <= opt + 1e-6
    assert ub > opt  # so no fixing may remove the optimum
    assert not out.closed[list(opt_set)].any()
    assert set(np.flatnonzero(out.opened)) <= set(opt_set)
    # with the Lagrangian heuristic the incumbent can only improve, never below the optimum
    out = lagrangian_reduce(d, w, np.array([], int), cand, k, ub, poor, integral=True)
    assert opt - 1e-9 <= out.upper <= ub


@pytest.mark.parametrize(("seed", "integer"), [(s, s % 2 == 0) for s in range(8)])
def test_branch_and_bound_matches_brute_force(seed: int, integer: bool) -> None:
    d, w = random_instance(100 + seed, n=14, integer=integer)
    fixed, banned = (0,), (1, 2)
    cand = np.array([j for j in range(14) if j not in fixed + banned])
    for k in (1, 3, 5):
        opt, _ = brute(d, w, k, fixed, banned)
        # start from a deliberately poor incumbent so branching is exercised
        start = np.array([0, *cand[:k]])
        ub = float(w @ d[:, start].min(axis=1))
        r = lagrangian_branch_and_bound(
            d, w, np.array(fixed), cand, k, ub, start, integral=integer, node_iterations=30
        )
        assert r.proven
        assert r.value == pytest.approx(opt, rel=1e-9)
        assert float(w @ d[:, r.open_sites].min(axis=1)) == pytest.approx(opt, rel=1e-9)
        assert 0 in r.open_sites and not {1, 2} & set(r.open_sites.tolist())
        assert r.open_sites.size == k + 1


def test_time_limit_is_honest() -> None:
    d, w = random_instance(7, n=14, integer=False)
    cand = np.arange(14)
    start = cand[:4]
    ub = float(w @ d[:, start].min(axis=1))
    r = lagrangian_branch_and_bound(
        d, w, np.array([], int), cand, 4, ub, start, integral=False, time_limit=0.0
    )
    opt, _ = brute(d, w, 4)
    assert not r.proven
    assert r.bound <= opt + 1e-9 <= r.value + 1e-9


def test_unreachable_pairs_penalised() -> None:
    d = np.array([[0.0, np.inf, 5.0], [np.inf, 0.0, 5.0], [5.0, 5.0, 0.0]])
    w = np.array([1.0, 1.0, 0.0])
    wd = weighted_costs(d, w)
    assert wd[0, 1] > 2 * 5.0 and wd[2, 0] == 0.0
    # k = 1: only site 2 reaches everyone (cost 10); sites 0/1 leave a point unreachable
    p = SitingProblem.from_cost_matrix(d, w)
    r = pmedian(p, 1)
    assert r.optimal and r.objective == 10.0 and r.open_sites.tolist() == [2]
    # with site 2 excluded no single site reaches both points
    with pytest.raises(InfeasibleError, match="reaches every demand"):
        pmedian(SitingProblem.from_cost_matrix(d, w, excluded=[2]), 1)


def test_pmedian_proves_heuristic_suboptimal_instance() -> None:
    # a 20-point instance on which greedy + interchange is not optimal for some k
    found = False
    for seed in range(40):
        d, w = random_instance(seed, n=16)
        for k in (2, 3, 4):
            h = median_heuristic(d, w, [], np.arange(16), k)
            hv = float(w @ d[:, h].min(axis=1))
            opt, _ = brute(d, w, k)
            if hv > opt:
                r = pmedian(SitingProblem.from_cost_matrix(d, w), k)
                assert r.optimal and r.objective == opt and r.lower_bound == opt
                found = True
                break
        if found:
            break
    assert found, "no instance where the heuristic misses the optimum"
