"""Siting models on hand-solvable instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from doorstep.analysis.siting import SitingProblem, lscp, marginal_curve, mclp, pcenter, pmedian
from doorstep.analysis.siting.heuristic import median_heuristic
from doorstep.geo._errors import InfeasibleError, InputError

# six points on a line; point 5 is a heavy hamlet far away
POS = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 20.0])
D = np.abs(POS[:, None] - POS[None, :])
W = np.array([1, 1, 1, 1, 1, 5.0])


def brute_median(d: np.ndarray, w: np.ndarray, k: int, fixed=(), banned=()) -> float:
    cand = [j for j in range(d.shape[1]) if j not in fixed and j not in banned]
    return min(float(w @ d[:, [*fixed, *s]].min(axis=1)) for s in itertools.combinations(cand, k))


def test_lscp_line() -> None:
    p = SitingProblem.from_cost_matrix(D, W)
    r = lscp(p, 1.0)
    # {0,1,2} needs site 1; {10,11} needs 3 or 4; 20 needs 5
    assert r.objective == 3 and r.optimal
    assert 1 in r.new_sites and 5 in r.new_sites
    assert r.coverage_after == 1.0 and r.coverage_before == 0.0


def test_lscp_existing_and_costs() -> None:
    costs = np.array([1, 1, 1, 5, 1, 1.0])
    p = SitingProblem.from_cost_matrix(D, W, existing=[5], opening_costs=costs)
    r = lscp(p, 1.0)
    assert 5 in r.open_sites and 5 not in r.new_sites
    assert sorted(r.new_sites.tolist()) == [1, 4]  # 4 is cheaper than 3
    assert r.objective == 2.0


def test_lscp_infeasible_names_points() -> None:
    p = SitingProblem.from_cost_matrix(
        D, W, excluded=[5], demand_ids=list("abcdef"), site_ids=list("ABCDEF")
    )
    with pytest.raises(InfeasibleError, match=r"1 demand point.*: f"):
        lscp(p, 5.0)


def test_lscp_budget_too_small() -> None:
    p = SitingProblem.from_cost_matrix(D, W, opening_costs=np.ones(6), budget=2.0)
    with pytest.raises(InfeasibleError, match="budget"):
        lscp(p, 1.0)


def test_mclp_line_and_curve() -> None:
    p = SitingProblem.from_cost_matrix(D, W)
    r1 = mclp(p, 1, 1.0)
    assert r1.new_sites.tolist() == [5] and r1.objective == 5
    r2 = mclp(p, 2, 1.0)
    assert r2.objective == 8 and r2.optimal  # 5 + {0,1,2}
    curve = marginal_curve(p, "mclp", 3, radius=1.0)
    assert [c["objective"] for c in curve] == [0, 5, 8, 10]
    assert [c["gain"] for c in curve] == [None, 5, 3, 2]


def test_mclp_budget_and_excluded() -> None:
    costs = np.array([1, 3, 1, 1, 1, 4.0])
    p = SitingProblem.from_cost_matrix(D, W, opening_costs=costs, budget=4.0, excluded=[0])
    r = mclp(p, 3, 1.0)
    # budget 4: {5} (cost 4) covers weight 5; {1,3} or {1,4} (cost 4) cover 0..4 = 5;
    # {2,3}/{2,4} (cost 2) cover 1..4 = 4 -> optimum 5
    assert r.objective == 5 and r.optimal
    assert costs[r.new_sites].sum() <= 4
    assert 0 not in r.open_sites


def test_pmedian_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, (14, 2))
    d = np.asarray(np.round(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))), float)
    w = rng.integers(1, 9, 14).astype(float)
    p = SitingProblem.from_cost_matrix(d, w, existing=[0], excluded=[1, 2])
    for k in (1, 2, 3):
        r = pmedian(p, k)
        assert r.optimal
        assert r.objective == pytest.approx(brute_median(d, w, k, fixed=(0,), banned=(1, 2)))
        assert 0 in r.open_sites and not {1, 2} & set(r.open_sites.tolist())
        assert r.new_sites.size == k
        # heuristic never beats the proven optimum
        h = median_heuristic(d, w, p.existing, p.candidates, k)
        assert p.objective_sum([0, *h]) >= r.objective - 1e-9


def test_pmedian_line() -> None:
    p = SitingProblem.from_cost_matrix(D, W)
    r = pmedian(p, 2)
    assert r.objective == 20 and r.optimal and r.lower_bound == 20


def test_pmedian_capacities_respected() -> None:
    caps = np.array([2, 2, 2, 2, 2, 10.0])
    p = SitingProblem.from_cost_matrix(D, W, capacities=caps)
    r = pmedian(p, 3)
    assert r.optimal and r.assignment_shares is not None
    load = W @ r.assignment_shares
    assert (load <= caps + 1e-6).all()
    assert np.allclose(r.assignment_shares.sum(axis=1), 1.0)
    # hand solution: open 0, 2, 5 -> 0:0, 1:1(0), 2:0, 10:8 (site 2), 11:9 (site 5) = 18
    assert r.objective == pytest.approx(18.0)
    # uncapacitated: open 1, 4, 5 -> 1 + 0 + 1 + 1 + 0 + 0 = 3; capacities bind
    assert pmedian(SitingProblem.from_cost_matrix(D, W), 3).objective == 3


def test_pcenter_line() -> None:
    p = SitingProblem.from_cost_matrix(D, W)
    assert pcenter(p, 2).objective == 9 and pcenter(p, 2).optimal
    assert pcenter(p, 3).objective == 1
    r = pcenter(SitingProblem.from_cost_matrix(D, W, existing=[5]), 1)
    assert r.objective == 9 and 5 in r.open_sites  # one site for 0..11: pos 2 (9 to 11)


def test_unreachable_point_named() -> None:
    d = D.copy()
    d[5, :5] = np.inf
    d[:5, 5] = np.inf
    p = SitingProblem.from_cost_matrix(d, W, excluded=[5], demand_ids=list("abcdef"))
    with pytest.raises(InfeasibleError, match="f"):
        pmedian(p, 2)


def test_problem_validation() -> None:
    with pytest.raises(InputError, match="negative"):
        SitingProblem.from_cost_matrix(-D, W)
    with pytest.raises(InputError, match="both existing and excluded"):
        SitingProblem.from_cost_matrix(D, W, existing=[1], excluded=[1])
    with pytest.raises(InputError, match="only 5 candidates"):
        pmedian(SitingProblem.from_cost_matrix(D, W, existing=[0]), 6)


def test_radius_lp_equals_classical_lp() -> None:
    """The truncated radius LP must reach the classical p-median LP bound (a one-level
    truncation once let a demand count as served by no site, silently weakening the bound)."""
    import scipy.optimize as so

    from doorstep.analysis.siting.pmedian import _Radius, _radius_lp

    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 100, (18, 2))
    d = np.round(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    w = rng.integers(1, 6, 18).astype(float)
    n, k = 18, 3
    # classical LP: x_ij (n*n), y_j (n); sum_j x_ij = 1, x_ij <= y_j, sum y = k
    c = np.concatenate([(w[:, None] * d).ravel(), np.zeros(n)])
    a_eq = np.zeros((n + 1, n * n + n))
    for i in range(n):
        a_eq[i, i * n : (i + 1) * n] = 1
    a_eq[n, n * n :] = 1
    a_ub = np.zeros((n * n, n * n + n))
    a_ub[np.arange(n * n), np.arange(n * n)] = 1
    a_ub[np.arange(n * n), n * n + np.tile(np.arange(n), n)] = -1
    ref = so.linprog(
        c, A_ub=a_ub, b_ub=np.zeros(n * n), A_eq=a_eq, b_eq=[*([1] * n), k], bounds=(0, 1)
    )
    assert ref.status == 0
    p = SitingProblem.from_cost_matrix(d, w)
    rad = _Radius(p)
    # start from one level everywhere (the case that used to stop too early)
    _nlev, bound = _radius_lp(rad, np.ones(n, dtype=np.intp), k)
    assert bound == pytest.approx(ref.fun, rel=1e-7)
