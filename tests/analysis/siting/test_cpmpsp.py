"""The set-partitioning proof of the capacitated p-median (:mod:`._cpmpsp`) and its kernels
(:mod:`._cpmpkern`), checked against brute force on tiny random instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pytest

from doorstep.analysis.siting._cpmp import CpmpData, CpmpOutcome, Incumbent
from doorstep.analysis.siting._cpmpkern import csr, enumerate_site, price_sites, triple_lhs
from doorstep.analysis.siting._cpmpsp import (
    EPS,
    Master,
    SpSettings,
    prove,
    root_bound,
    solve_columns,
)

NODES = 10**9  # search steps: no limit on these instances
NO_W = np.zeros(0)  # no cut penalties

Triples = list[tuple[int, int, int]]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- brute force


def all_subsets(n: int) -> Bools:
    """Every customer subset of ``range(n)`` as a ``(2**n, n)`` mask, the empty set first."""
    codes = np.arange(2**n)
    return ((codes[:, None] >> np.arange(n)) & 1).astype(bool)


def penalised_values(
    masks: Bools,
    profit_j: Floats,
    load: Floats,
    cap: float,
    triples: Triples,
    weights: Floats,
) -> Floats:
    """``sum(profit_j[S]) - sum(w_T : |S & T| >= 2)`` for every mask; ``-inf`` for the empty
    set, for sets holding a forbidden (``-inf``) customer and for sets over ``cap``."""
    finite = np.isfinite(profit_j)
    value = masks.astype(float) @ np.where(finite, profit_j, 0.0)
    for tri, w in zip(triples, weights, strict=True):
        value -= w * (masks[:, list(tri)].sum(axis=1) >= 2)
    ok = masks.any(axis=1) & ~(masks & ~finite).any(axis=1)
    ok &= masks.astype(float) @ load <= cap + 1e-9
    return np.where(ok, value, -np.inf)


def random_cuts(
    rng: np.random.Generator, n: int, count: int
) -> tuple[Triples, Floats, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``count`` distinct sorted triples with positive penalties (multiples of 1/4) and their
    CSR from :func:`csr`."""
    triples: Triples = []
    while len(triples) < count:
        a, b, c = sorted(int(v) for v in rng.choice(n, 3, replace=False))
        if (a, b, c) not in triples:
            triples.append((a, b, c))
    weights = rng.integers(1, 13, size=count) / 4.0
    ptr, idx = csr(triples, n)
    return triples, weights, ptr, idx


def random_profits(rng: np.random.Generator, n: int, m: int) -> Floats:
    """Integer profits in ``[-6, 10]``, about one in eight ``-inf`` (not allowed)."""
    profit = rng.integers(-6, 11, size=(n, m)).astype(float)
    profit[rng.random((n, m)) < 0.125] = -np.inf
    return profit


def random_loads(rng: np.random.Generator, n: int) -> Floats:
    load = rng.integers(1, 6, size=n).astype(float)
    load[rng.choice(n, 2, replace=False)] = 0.0  # two customers of no load
    return load


# --------------------------------------------------------------------------- csr


def test_csr_lists_the_cuts_of_each_customer() -> None:
    triples = [(0, 2, 4), (1, 2, 3), (0, 3, 4)]
    ptr, idx = csr(triples, 6)
    assert ptr.tolist() == [0, 2, 3, 5, 7, 9, 9]
    held = [sorted(idx[ptr[c] : ptr[c + 1]].tolist()) for c in range(6)]
    assert held == [[0, 2], [1], [0, 1], [1, 2], [0, 2], []]
    ptr0, idx0 = csr([], 4)
    assert ptr0.tolist() == [0, 0, 0, 0, 0] and idx0.size == 0


# --------------------------------------------------------------------------- price_sites


@pytest.mark.parametrize("seed", range(30))
def test_price_sites_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(6, 10)), int(rng.integers(3, 6))
    profit = random_profits(rng, n, m)
    load = random_loads(rng, n)
    caps = rng.integers(2, 10, size=m).astype(float)  # binding: total load is ~3 n
    caps[0] = load.sum()  # uncapacitated
    ncuts = int(rng.integers(0, 5))
    triples, weights, ptr, idx = random_cuts(rng, n, ncuts)
    # bases >= 0, as in the master (-mu_j - sigma with the duals of <= rows); the kernel skips
    # customers of profit <= 0, which is exact only then
    base = rng.integers(0, 13, size=m) / 2.0
    base[m - 1] = 100.0  # no set of this site beats its base
    sites = rng.permutation(m).astype(np.int64)  # gains follow ``sites``, not the columns
    gains, sets, steps = price_sites(
        profit, load, caps, sites, base, ptr, idx, weights, ncuts, EPS, NODES
    )
    assert steps >= sites.size  # at least one step per site
    assert gains.shape == (m,) and sets.shape == (m, n)
    masks = all_subsets(n)
    for s, j in enumerate(sites.tolist()):
        values = penalised_values(masks, profit[:, j], load, caps[j], triples, weights)
        best = float(values.max()) - base[j]
        expected = best if best > EPS else 0.0
        assert gains[s] == pytest.approx(expected, abs=1e-9), (s, j)
        if expected == 0.0:
            assert not sets[s].any()
            continue
        got = sets[s]
        assert load[got].sum() <= caps[j] + 1e-9
        assert np.isfinite(profit[got, j]).all()
        at = int(np.flatnonzero((masks == got).all(axis=1))[0])
        assert values[at] - base[j] == pytest.approx(gains[s], abs=1e-9)


def test_price_sites_penalty_changes_the_best_set() -> None:
    # Customers 0, 1, 2 are worth 5 each and fit together; a cut on them of penalty 4 makes
    # two of them worth 10 - 4 = 6 and all three 15 - 4 = 11: still all three. With
    # penalty 12 the best is one customer (5) or customer 3 (worth 4) with one of them (9).
    profit = np.array([[5.0], [5.0], [5.0], [4.0]])
    load = np.ones(4)
    caps = np.array([3.0])
    sites = np.array([0], dtype=np.int64)
    base = np.zeros(1)
    ptr, idx = csr([(0, 1, 2)], 4)
    gains, sets, _ = price_sites(
        profit, load, caps, sites, base, ptr, idx, np.array([4.0]), 1, EPS, NODES
    )
    assert gains[0] == pytest.approx(11.0) and sets[0].tolist() == [True, True, True, False]
    gains, sets, _ = price_sites(
        profit, load, caps, sites, base, ptr, idx, np.array([12.0]), 1, EPS, NODES
    )
    assert gains[0] == pytest.approx(9.0)
    assert sets[0][3] and sets[0][:3].sum() == 1


# --------------------------------------------------------------------------- enumerate_site


def _rows(sets: Bools) -> list[bytes]:
    return [np.packbits(r).tobytes() for r in sets]


@pytest.mark.parametrize("seed", range(25))
def test_enumerate_site_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(6, 10))
    profit_j = random_profits(rng, n, 1)[:, 0]
    load = random_loads(rng, n)
    cap = float(rng.integers(3, 12)) if seed % 4 else float(load.sum())
    ncuts = int(rng.integers(0, 5))
    triples, weights, ptr, idx = random_cuts(rng, n, ncuts)
    threshold = float(rng.integers(-8, 16)) / 2.0
    values = penalised_values(all_subsets(n), profit_j, load, cap, triples, weights)
    want = all_subsets(n)[values >= threshold]
    count, out, steps = enumerate_site(
        profit_j, load, cap, threshold, ptr, idx, weights, ncuts, 10_000, NODES
    )
    assert steps >= count
    assert count == want.shape[0]
    got = _rows(out[:count])
    assert len(set(got)) == count  # no duplicates
    assert set(got) == set(_rows(want))  # none missing, none extra
    if count >= 1:
        # exactly at the limit is still complete; one below it is reported as too many
        again, out2, _ = enumerate_site(
            profit_j, load, cap, threshold, ptr, idx, weights, ncuts, count, NODES
        )
        assert again == count and set(_rows(out2[:again])) == set(got)
        over, _, _ = enumerate_site(
            profit_j, load, cap, threshold, ptr, idx, weights, ncuts, count - 1, NODES
        )
        assert over == -1


def test_enumerate_site_grows_past_its_first_block() -> None:
    # 12 customers of no load and profit 1: every non-empty subset has value >= 1 (4095 of
    # them); the output starts at 1024 rows and must grow twice.
    n = 12
    profit_j, load = np.ones(n), np.zeros(n)
    ptr, idx = csr([], n)
    count, out, _ = enumerate_site(profit_j, load, 0.0, 1.0, ptr, idx, NO_W, 0, 10_000, NODES)
    assert count == 2**n - 1
    assert len(set(_rows(out[:count]))) == count and out[:count].any(axis=1).all()
    count, _, _ = enumerate_site(profit_j, load, 0.0, 1.0, ptr, idx, NO_W, 0, 2000, NODES)
    assert count == -1
    # value >= 6: subsets of at least 6 customers
    count, out, _ = enumerate_site(profit_j, load, 0.0, 6.0, ptr, idx, NO_W, 0, 10_000, NODES)
    assert count == sum(math.comb(n, r) for r in range(6, n + 1))
    assert (out[:count].sum(axis=1) >= 6).all()


def test_kernels_stop_at_their_step_budget() -> None:
    # 10 customers of no load and profit 1: the best set (all) takes at least 10 steps, the
    # enumeration of every set at least 2**10 - 1
    n = 10
    profit = np.ones((n, 2))
    load = np.zeros(n)
    caps = np.zeros(2)
    ptr, idx = csr([], n)
    sites = np.arange(2, dtype=np.int64)
    gains, sets, steps = price_sites(
        profit, load, caps, sites, np.zeros(2), ptr, idx, NO_W, 0, EPS, NODES
    )
    assert gains.tolist() == [10.0, 10.0] and sets.all() and steps >= 2 * n
    # the budget covers the first site only: incomplete
    _, _, short = price_sites(
        profit, load, caps, sites, np.zeros(2), ptr, idx, NO_W, 0, EPS, steps - 1
    )
    assert short == -1
    _, _, again = price_sites(profit, load, caps, sites, np.zeros(2), ptr, idx, NO_W, 0, EPS, steps)
    assert again == steps
    count, _, steps = enumerate_site(profit[:, 0], load, 0.0, 1.0, ptr, idx, NO_W, 0, 5000, NODES)
    assert count == 2**n - 1 and steps >= count
    count, _, _ = enumerate_site(profit[:, 0], load, 0.0, 1.0, ptr, idx, NO_W, 0, 5000, steps - 1)
    assert count == -2
    count, _, _ = enumerate_site(profit[:, 0], load, 0.0, 1.0, ptr, idx, NO_W, 0, 5000, steps)
    assert count == 2**n - 1


# --------------------------------------------------------------------------- triple_lhs


def _brute_lhs(
    supports: Bools, weights: Floats, floor: float, customers: list[int]
) -> dict[tuple[int, ...], float]:
    out: dict[tuple[int, ...], float] = {}
    for tri in itertools.combinations(customers, 3):
        lhs = float(weights @ (supports[:, list(tri)].sum(axis=1) >= 2))
        if lhs > floor:
            out[tri] = lhs
    return out


def _lhs(supports: Bools, weights: Floats, floor: float) -> dict[tuple[int, ...], float]:
    af = supports.astype(float)
    pair = (af.T * weights) @ af
    touched = np.flatnonzero(supports.any(axis=0)).astype(np.int64)
    tris, vals = triple_lhs(supports, weights, pair, touched, floor)
    keys = [tuple(int(v) for v in t) for t in tris]
    assert len(set(keys)) == len(keys)
    return dict(zip(keys, vals.tolist(), strict=True))


@pytest.mark.parametrize("seed", range(20))
def test_triple_lhs_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    n, cols = int(rng.integers(6, 13)), int(rng.integers(3, 12))
    supports = rng.random((cols, n)) < 0.4
    supports[:, n - 1] = False  # a customer in no column
    weights = rng.integers(1, 9, size=cols) / 8.0
    touched = np.flatnonzero(supports.any(axis=0)).tolist()
    for floor in (0.3, 1.0 + 1e-3):
        got = _lhs(supports, weights, floor)
        # the contract: every triple of customers in some column (``touched``)
        want = _brute_lhs(supports, weights, floor, touched)
        assert got.keys() == want.keys()
        for tri, v in want.items():
            assert got[tri] == pytest.approx(v, abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_triple_lhs_misses_no_violated_triple_of_a_master_solution(seed: int) -> None:
    # Columns of a master solution cover each customer at most once in total (the rest is
    # its artificial), so a triple holding a customer in no column has lhs <= 1: above the
    # separation floor 1 + 1e-3, the triples of ``touched`` customers are all the triples.
    rng = np.random.default_rng(300 + seed)
    n, parts = int(rng.integers(6, 13)), int(rng.integers(2, 5))
    left_out = int(rng.integers(n))
    cols, weights = [], []
    for _ in range(parts):
        group = rng.integers(0, 3, size=n)  # a partition of the customers into <= 3 sets
        for g in range(3):
            s = (group == g) & (np.arange(n) != left_out)
            if s.any():
                cols.append(s)
                weights.append(1.0 / parts)
    supports, w = np.array(cols), np.array(weights)
    assert (w @ supports <= 1.0 + 1e-12).all()
    floor = 1.0 + 1e-3
    got = _lhs(supports, w, floor)
    want = _brute_lhs(supports, w, floor, list(range(n)))
    assert got.keys() == want.keys()
    for tri, v in want.items():
        assert got[tri] == pytest.approx(v, abs=1e-12)


def test_triple_lhs_grows_past_its_first_block() -> None:
    # one column of weight 1.5 over 32 customers: all C(32, 3) = 4960 > 4096 triples count
    supports = np.ones((1, 32), dtype=bool)
    got = _lhs(supports, np.array([1.5]), 1.0 + 1e-3)
    assert len(got) == math.comb(32, 3)
    assert set(got) == set(itertools.combinations(range(32), 3))
    assert all(v == 1.5 for v in got.values())


# --------------------------------------------------------------------------- root_bound / prove


def random_data(
    seed: int, n: int, k: int, *, existing: int | None = None, integral: bool = True
) -> CpmpData:
    """Sites at the customers, weighted Euclidean costs (rounded when ``integral``), loads 2..6
    and tight capacities (1.0 to 1.08 of the mean load per open site): the column-generation
    bound is then often below the optimum."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 21, size=(n, 2)).astype(float)
    w = rng.integers(1, 4, size=n).astype(float)
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    cost = dist * w[:, None]
    if integral:
        cost = np.round(cost)
    load = rng.integers(2, 7, size=n).astype(float)
    opened = k + (existing is not None)
    caps = np.ceil(float(load.sum()) / opened * rng.uniform(1.0, 1.08, size=n))
    ex = [] if existing is None else [existing]
    cand = [j for j in range(n) if j not in ex]
    return CpmpData(
        cost=cost,
        load=load,
        caps=caps,
        existing=np.array(ex, dtype=np.intp),
        candidates=np.array(cand, dtype=np.intp),
        k=k,
        integral=integral,
    )


def brute_force(data: CpmpData) -> list[Incumbent]:
    """The best single-source assignment of every choice of ``k`` candidates (with the existing
    sites), feasible ones only, best first."""
    n = data.cost.shape[0]
    cands = data.candidates.tolist()
    r = data.existing.size + min(data.k, len(cands))
    every = np.array(list(itertools.product(range(r), repeat=n)), dtype=np.intp)
    rows = np.arange(n)
    out: list[Incumbent] = []
    for combo in itertools.combinations(cands, min(data.k, len(cands))):
        sites = np.array([*data.existing.tolist(), *combo], dtype=np.intp)
        total = data.cost[:, sites][rows, every].sum(axis=1)
        for s, j in enumerate(sites.tolist()):
            over = (every == s).astype(float) @ data.load > data.caps[j] + 1e-9
            total[over] = np.inf
        best = int(np.argmin(total))
        if np.isfinite(total[best]):
            out.append((float(total[best]), sites[every[best]], np.sort(sites)))
    assert out, "the random instance must be feasible"
    return sorted(out, key=lambda t: t[0])


def check_solution(data: CpmpData, assign: npt.NDArray[np.intp], open_sites: object) -> float:
    """Asserts that ``assign`` is feasible with ``open_sites``; returns its cost."""
    n, m = data.cost.shape
    assert isinstance(open_sites, np.ndarray)
    assert assign.shape == (n,) and ((assign >= 0) & (assign < m)).all()
    assert set(assign.tolist()) <= set(open_sites.tolist())
    assert set(data.existing.tolist()) <= set(open_sites.tolist())
    opened = np.setdiff1d(open_sites, data.existing)
    assert set(opened.tolist()) <= set(data.candidates.tolist())
    assert opened.size == min(data.k, data.candidates.size)
    used = np.bincount(assign, weights=data.load, minlength=m)
    assert (used <= data.caps + 1e-9).all()
    return data.value(assign)


def lams_for(data: CpmpData) -> list[Floats]:
    """No multipliers, and each customer's second cheapest site (the first is its own)."""
    n = data.cost.shape[0]
    return [np.zeros(n), np.sort(data.cost, axis=1)[:, 1]]


def test_master_columns_hold_their_rows() -> None:
    # rows: n covers, m sites, the cardinality (candidates only), then one row per cut, which
    # holds every column with two or three of its customers, added before the cut or after
    data = random_data(1, 6, 2, existing=0)
    n, m = 6, 6
    master = Master(data)

    def mask(*ix: int) -> Bools:
        return np.isin(np.arange(n), ix)

    assert master.add(0, mask(0, 1, 2)) and master.add(3, mask(1, 2)) and master.add(4, mask(3, 4))
    assert not master.add(4, mask(3, 4))  # already there
    assert not master.add(2, mask())  # empty
    master.cut([(0, 1, 2), (2, 3, 4)])
    assert master.add(5, mask(0, 2, 3)) and master.add(1, mask(0, 4))
    master.cut([(1, 2, 5)])
    lp = master.h.getLp()
    start, index = np.asarray(lp.a_matrix_.start_), np.asarray(lp.a_matrix_.index_)
    assert lp.num_col_ == n + 5 and lp.num_row_ == n + m + 1 + 3
    cols = [(0, [0, 1, 2]), (3, [1, 2]), (4, [3, 4]), (5, [0, 2, 3]), (1, [0, 4])]
    cuts = [(0, 1, 2), (2, 3, 4), (1, 2, 5)]
    for c in range(n):  # artificials
        assert index[start[c] : start[c + 1]].tolist() == [c]
        assert lp.col_cost_[c] == master.artificial
    for t, (j, cust) in enumerate(cols):
        c = n + t
        rows = sorted(index[start[c] : start[c + 1]].tolist())
        want = [*cust, n + j] + ([n + m] if j != 0 else [])
        want += [n + m + 1 + q for q, tri in enumerate(cuts) if len(set(tri) & set(cust)) >= 2]
        assert rows == sorted(want), (j, cust)
        assert lp.col_cost_[c] == data.cost[cust, j].sum()
        assert master.sites[t] == j and np.flatnonzero(master.sets[t]).tolist() == cust


CASES = [
    # (seed, n, k, existing site, incumbent: None / "opt" / "worse"); on all of them the
    # column-generation bound is below the optimum, so cuts and enumeration have work to do
    (105, 9, 2, None, None),
    (151, 9, 3, None, "worse"),
    (167, 9, 3, None, "opt"),
    (118, 8, 3, None, "next"),
    (5, 10, 2, None, None),
    (116, 8, 2, 4, "next"),
    (156, 8, 2, 4, None),  # no violated triple is left: the enumeration closes the gap
    (138, 8, 3, 2, "worse"),
]


def incumbent(sols: list[Incumbent], start: str | None) -> Incumbent | None:
    """None, the optimum, the next worse value ("next": a bound that skipped the optimum would
    prove it) or the worst choice of sites."""
    if start is None:
        return None
    if start == "opt":
        return sols[0]
    if start == "next":
        return next(s for s in sols if s[0] > sols[0][0] + 1e-6)
    assert sols[-1][0] > sols[0][0] + 1e-3  # the instance must have a worse solution
    return sols[-1]


def check_outcome(data: CpmpData, out: CpmpOutcome, opt: float) -> None:
    """Proven, of the brute-force optimum, with a feasible assignment of that cost."""
    assert out.proven
    assert out.value == pytest.approx(opt, rel=1e-9, abs=1e-9)
    assert out.bound == pytest.approx(opt, rel=1e-9, abs=1e-9)
    assert out.assign is not None
    assert check_solution(data, out.assign, out.open_sites) == pytest.approx(opt, rel=1e-9)


@pytest.mark.parametrize(("seed", "n", "k", "existing", "start"), CASES)
def test_prove_finds_the_brute_force_optimum(
    seed: int, n: int, k: int, existing: int | None, start: str | None
) -> None:
    data = random_data(seed, n, k, existing=existing)
    sols = brute_force(data)
    opt = sols[0][0]
    lams = lams_for(data)
    root = root_bound(data, lams, math.inf, SpSettings())
    assert root.rounds[0] < opt - 1e-6  # the column-generation bound leaves a gap
    assert root.value <= opt + 1e-6
    # cuts only raise the bound of the master (each round prices to optimality again)
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(root.rounds))
    assert root.value == root.rounds[-1]
    out = prove(data, incumbent(sols, start), lams, SpSettings(), None, 0, -math.inf)
    check_outcome(data, out, opt)
    assert out.value == opt  # integral costs: exactly
    if start == "opt":  # nothing better: the incumbent itself comes back
        assert out.assign is not None and np.array_equal(out.assign, sols[0][1])


@pytest.mark.parametrize("start", [None, "worse"])
def test_prove_keeps_an_existing_site_open_that_serves_nobody(start: str | None) -> None:
    # site 8 is open anyway but may serve no customer (cost inf): it is still an open site
    base = random_data(118, 8, 3)
    cost = np.column_stack([base.cost, np.full(8, np.inf)])
    data = CpmpData(
        cost,
        base.load,
        np.append(base.caps, 100.0),
        np.array([8], dtype=np.intp),
        base.candidates,
        3,
        True,
    )
    sols = brute_force(data)
    opt = sols[0][0]
    out = prove(data, incumbent(sols, start), lams_for(data), SpSettings(), None, 0, -math.inf)
    check_outcome(data, out, opt)
    assert out.open_sites is not None and 8 in out.open_sites.tolist()
    assert out.assign is not None and 8 not in out.assign.tolist()


def test_prove_with_the_plain_multipliers_only() -> None:
    data = random_data(189, 9, 2)
    opt = brute_force(data)[0][0]
    out = prove(data, None, [np.zeros(9)], SpSettings(), None, 0, -math.inf)
    check_outcome(data, out, opt)


@pytest.mark.parametrize(
    ("seed", "n", "k", "existing", "integral", "start"),
    [
        (151, 9, 3, None, True, "worse"),
        (151, 9, 3, None, False, "worse"),
        (189, 9, 2, None, True, "next"),  # bound 96, optimum 97, incumbent 98
        (138, 8, 3, 2, True, "next"),  # bound 30, optimum 31, incumbent 32
    ],
)
def test_prove_without_cut_rounds_still_proves(
    seed: int, n: int, k: int, existing: int | None, integral: bool, start: str
) -> None:
    # the enumeration alone closes the gap left by the column-generation bound
    data = random_data(seed, n, k, existing=existing, integral=integral)
    sols = brute_force(data)
    opt = sols[0][0]
    root = root_bound(data, lams_for(data), math.inf, SpSettings(rounds=0))
    assert root.value < opt - 0.5 and not root.master.triples
    inc = incumbent(sols, start)
    out = prove(data, inc, lams_for(data), SpSettings(rounds=0), None, 0, -math.inf)
    check_outcome(data, out, opt)


def test_prove_enumerates_with_cut_penalties() -> None:
    # one cut only: the bound stays below the optimum, so the enumeration prices the cut's
    # dual too (a wrong penalty would drop columns of the optimum or of its proof)
    data = random_data(20, 10, 2, existing=2)
    sols = brute_force(data)
    opt = sols[0][0]
    settings = SpSettings(rounds=1, cuts_per_round=1)
    root = root_bound(data, lams_for(data), math.inf, settings)
    assert len(root.master.triples) == 1 and root.value < opt - 1.0
    assert root.duals[-1] < -1e-6  # the cut is tight, with a penalty in the pricing
    out = prove(data, sols[-1], lams_for(data), settings, None, 0, -math.inf)
    check_outcome(data, out, opt)


@pytest.mark.parametrize(
    ("seed", "n", "k", "start"), [(105, 9, 2, None), (167, 9, 3, "worse"), (151, 9, 3, "next")]
)
def test_prove_fractional_costs(seed: int, n: int, k: int, start: str | None) -> None:
    data = random_data(seed, n, k, integral=False)
    assert not np.allclose(data.cost, np.round(data.cost))
    sols = brute_force(data)
    opt = sols[0][0]
    root = root_bound(data, lams_for(data), math.inf, SpSettings())
    assert root.rounds[0] < opt - 1e-3
    assert root.value <= opt + 1e-6
    out = prove(data, incumbent(sols, start), lams_for(data), SpSettings(), None, 0, -math.inf)
    check_outcome(data, out, opt)


@pytest.mark.parametrize("steps", [1, 1000, 2100, 2300, 10**6])
def test_prove_under_a_step_budget_keeps_a_valid_bound(steps: int) -> None:
    # Whatever the budget: the bound holds for every solution, the answer is the incumbent or
    # better, and a proof is of the optimum. (When written, 1000 steps ran out in the first
    # column generation, 2100 in a cut round and 2300 in the enumeration.)
    data = random_data(151, 9, 3)
    sols = brute_force(data)
    opt, worse = sols[0][0], sols[-1]
    out = prove(data, worse, lams_for(data), SpSettings(steps=steps), None, 7, 12.5)
    assert out.pairs_kept == 7 and out.lagrangian_bound == 12.5
    assert out.bound <= opt
    assert out.assign is not None
    assert opt <= out.value <= worse[0]
    assert check_solution(data, out.assign, out.open_sites) == out.value
    if steps == 1:  # not even the first pricing fits
        assert not out.proven and out.value == worse[0] and out.bound == -math.inf
    if steps == 10**6:
        assert out.proven and out.value == opt
    if out.proven:
        assert out.value == opt == out.bound


def test_kernels_take_a_zero_load_customer_after_an_item_filled_the_room() -> None:
    # 0.1 + 0.2 fills 0.3 only within rounding (room ends slightly below 0), then a customer of
    # no load: the bound must not divide by zero, and the best set takes all three
    profit = np.array([[10.0], [20.0], [1e-3]])
    load = np.array([0.1, 0.2, 0.0])
    ptr, idx = csr([], 3)
    gains, sets, _ = price_sites(
        profit, load, np.array([0.3]), np.array([0]), np.zeros(1), ptr, idx, NO_W, 0, EPS, NODES
    )
    assert gains[0] == pytest.approx(30.001) and sets[0].all()
    count, out, _ = enumerate_site(profit[:, 0], load, 0.3, 0.0, ptr, idx, NO_W, 0, 100, NODES)
    assert count == 7 and out[:count].any(axis=1).all()  # every non-empty subset


@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_prove_on_large_costs_takes_few_rounds(
    scale: float, caplog: pytest.LogCaptureFixture
) -> None:
    # costs x 1e4 (integral) and x 1e6 (far above any fixed artificial cost): the same
    # root bound, scaled, and a proof in a few enumeration rounds (the step doubles), not one
    # round per unit of cost
    data = random_data(151, 9, 3)
    big = CpmpData(
        data.cost * scale, data.load, data.caps, data.existing, data.candidates, data.k, True
    )
    sols = brute_force(data)
    settings = SpSettings(rounds=0)
    small_root = root_bound(data, lams_for(data), math.inf, settings)
    big_root = root_bound(big, [lam * scale for lam in lams_for(data)], math.inf, settings)
    assert big_root.value == pytest.approx(small_root.value * scale, rel=1e-6)
    worst = (sols[-1][0] * scale, sols[-1][1], sols[-1][2])
    with caplog.at_level("INFO", logger="doorstep.analysis.siting._cpmpsp"):
        out = prove(big, worst, lams_for(data), settings, None, 0, -math.inf)
    assert out.proven and out.value == sols[0][0] * scale
    rounds = [r for r in caplog.records if "columns within" in r.getMessage()]
    assert 1 <= len(rounds) <= 40


def test_prove_with_no_time_left_is_unproven_but_valid() -> None:
    data = random_data(151, 9, 3)
    sols = brute_force(data)
    out = prove(data, sols[-1], lams_for(data), SpSettings(), 0.0, 0, -math.inf)
    assert out.bound <= sols[0][0] and out.value == sols[-1][0]
    assert not out.proven  # the root stops after its column generation; no enumeration


# --------------------------------------------------------------------------- solve_columns


def test_solve_columns_customer_in_no_column() -> None:
    data = random_data(31, 6, 2)
    s01 = np.array([True, True, False, False, False, False])
    s2345 = np.array([False, False, True, True, True, True])
    s234 = np.array([False, False, True, True, True, False])
    assert solve_columns(data, [(0, s01), (3, s234)], None) == (True, None)
    assert solve_columns(data, [], None) == (True, None)
    # with customer 5 covered the same call has a solution (when the loads fit)
    data = CpmpData(data.cost, data.load, np.full(6, 1e9), data.existing, data.candidates, 2, True)
    done, got = solve_columns(data, [(0, s01), (3, s2345)], None)
    assert done and got is not None
    assert got[0] == data.cost[s01, 0].sum() + data.cost[s2345, 3].sum()
    assert got[1].tolist() == [0, 0, 3, 3, 3, 3] and got[2].tolist() == [0, 3]


def test_solve_columns_on_every_column_is_the_optimum() -> None:
    data = random_data(32, 7, 2)
    n = 7
    masks = all_subsets(n)[1:]
    cols = [(j, s) for j in range(n) for s in masks if data.load[s].sum() <= data.caps[j] + 1e-9]
    sols = brute_force(data)
    opt = sols[0][0]
    done, got = solve_columns(data, cols, None)
    assert done and got is not None and got[0] == opt
    assert check_solution(data, got[1], got[2]) == opt


def test_solve_columns_without_an_optimal_column_gives_the_best_of_the_rest() -> None:
    # drop one column of the optimal solution: the answer is the best assignment (at most k
    # sites, within capacity) whose customers at that site are not exactly that column
    data = random_data(32, 7, 2)
    n = 7
    masks = all_subsets(n)[1:]
    cols = [(j, s) for j in range(n) for s in masks if data.load[s].sum() <= data.caps[j] + 1e-9]
    opt, assign = brute_force(data)[0][:2]
    j0 = int(assign[0])
    drop = assign == j0
    rest = [(j, s) for j, s in cols if not (j == j0 and (s == drop).all())]
    every = np.array(list(itertools.product(range(n), repeat=n)), dtype=np.intp)
    total = data.cost[np.arange(n), every].sum(axis=1)
    at = every[:, :, None] == np.arange(n)  # (assignments, customers, sites)
    ok = (at.any(axis=1).sum(axis=1) <= data.k) & ~(at[:, :, j0] == drop).all(axis=1)
    ok &= (np.einsum("acj,c->aj", at, data.load) <= data.caps + 1e-9).all(axis=1)
    expect = float(total[ok].min())
    done, got = solve_columns(data, rest, None)
    assert done and got is not None
    assert got[0] == expect > opt
    assert check_solution(data, got[1], got[2]) == expect


def test_solve_columns_is_integral() -> None:
    # An odd cycle: pairs {0,1}, {1,2}, {0,2} at sites 0, 1, 2 cost 1 each, singletons at
    # sites 3, 4, 5 cost 1.5 each. The LP takes half of each pair (1.5); the best partition is
    # a pair and a singleton (2.5).
    cost = np.full((3, 6), 9.0)
    cost[[0, 1], 0] = cost[[1, 2], 1] = cost[[0, 2], 2] = 0.5
    cost[0, 3] = cost[1, 4] = cost[2, 5] = 1.5
    data = CpmpData(
        cost, np.ones(3), np.full(6, 10.0), np.zeros(0, np.intp), np.arange(6), 5, False
    )
    mask = [np.isin(np.arange(3), ix) for ix in ([0, 1], [1, 2], [0, 2], [0], [1], [2])]
    cols = list(enumerate(mask))
    done, got = solve_columns(data, cols, None)
    assert done and got is not None and got[0] == pytest.approx(2.5)
    # one pair site serves two customers, one singleton site the third
    counts = np.bincount(got[1], minlength=6)
    assert sorted(counts[:3].tolist()) == [0, 0, 2] and sorted(counts[3:].tolist()) == [0, 0, 1]
    assert data.value(got[1]) == pytest.approx(2.5)
    # k = 5 candidates open: the two used and three spare ones
    assert got[2].size == 5 and set(got[1].tolist()) <= set(got[2].tolist())


def test_kernels_compile_without_a_writable_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # numba raises RuntimeError at decoration when no cache folder is writable (a read-only
    # install under an account without a home folder): the kernel is then compiled uncached
    from numba.core import dispatcher

    from doorstep.analysis.siting import _cpmpkern

    def no_locator(self: object) -> None:
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(dispatcher.Dispatcher, "enable_caching", no_locator)

    def plus_one(x: int) -> int:
        return x + 1

    fn = _cpmpkern.njit(plus_one)
    assert isinstance(fn, dispatcher.Dispatcher)  # compiled, not the plain function
    assert type(fn._cache).__name__ == "NullCache" and fn(1) == 2
