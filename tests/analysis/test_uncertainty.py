"""The ensemble (issue 12): ranges, gap probabilities, sensitivity, same seed same numbers."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from doorstep.analysis.coverage import CoverageTarget, coverage, coverage_points
from doorstep.analysis.siting.county import county_problem, solve_county
from doorstep.analysis.uncertainty import (
    EnsembleEngine,
    Range,
    UncertaintyParams,
    annotate_coverage,
    coverage_ensemble,
    edge_modelled,
    gap_class,
    run_ensemble,
)
from doorstep.geo._errors import DataFileError
from doorstep.geo.routing import nearest_facility, nearest_minutes_batch, prepare
from doorstep.geo.synthetic import graph_from_edges
from tests.analysis.fakecounty import FakeModel, _gdf, line_county, village_rows

TARGET = CoverageTarget(mode="car", rural_minutes=20.0, urban_minutes=15.0)


def cutoff_county(**edge_attrs) -> FakeModel:
    """line_county plus a road 5-6 joined to nothing, with village V9 (rural 50) on node 5.

    Car times (2 min/km): V0 0, V1 8, V3 20 (= the 20-min rural target), V4 10, V9 unreachable.
    """
    m = line_county()
    island = graph_from_edges([(40000, 0), (45000, 0)], [(0, 1, {"edge_id": 4})])
    m.graph = nx.compose(m.graph, nx.relabel_nodes(island, {0: 5, 1: 6}))
    for *_, d in m.graph.edges(data=True):
        d.update(edge_attrs)
    v9 = _gdf(village_rows([("V9", "孤村", "T2", False, 50)]), [(40000, 0)])
    m.villages = gpd.GeoDataFrame(pd.concat([m.villages, v9], ignore_index=True), crs="EPSG:4326")
    return m


def _village(ens, code, mode="car"):
    v = ens.villages
    return v[(v["code"] == code) & (v["mode"] == mode)].iloc[0]


def test_cut_off_village_is_a_robust_gap_and_one_at_the_threshold_uncertain():
    ens = coverage_ensemble(cutoff_county(), TARGET, draws=200, seed=3)
    assert _village(ens, "V9")["p_miss"] == 1.0
    assert _village(ens, "V9")["gap_class"] == "robust gap"
    v3 = _village(ens, "V3")
    assert 0.1 <= v3["p_miss"] < 0.9 and v3["gap_class"] == "uncertain"
    assert v3["min_staffed_p05"] < 20.0 < v3["min_staffed_p95"]
    # V0 sits on the county centre: 0 minutes in every draw
    assert _village(ens, "V0")["p_miss"] == 0.0 and _village(ens, "V0")["gap_class"] == "served"


def test_same_seed_same_numbers_other_seed_other_numbers():
    m = cutoff_county()
    a = coverage_ensemble(m, TARGET, draws=50, seed=7)
    b = coverage_ensemble(m, TARGET, draws=50, seed=7)
    c = coverage_ensemble(m, TARGET, draws=50, seed=8)
    for x, y in ((a.county, b.county), (a.townships, b.townships), (a.villages, b.villages)):
        pd.testing.assert_frame_equal(x, y)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert not a.villages["min_staffed_p05"].equals(c.villages["min_staffed_p05"])


def test_nominal_lies_inside_every_range():
    m = cutoff_county()
    res = annotate_coverage(coverage(m, TARGET), coverage_ensemble(m, TARGET, draws=200, seed=1))
    for table in (res.county, res.townships):
        for col in ("share_within_15", "share_within_30", "share_meeting_target", "mean_min"):
            assert (table[f"{col}_p05"] <= table[col] + 1e-12).all(), col
            assert (table[col] <= table[f"{col}_p95"] + 1e-12).all(), col
    assert res.meta["uncertainty"]["nominal_outside_range"] == []
    # V1 (8 min) and V3 (20 min) move with the draws: the county mean has a real width
    car = res.county[res.county["mode"] == "car"].iloc[0]
    assert car["mean_min_p95"] - car["mean_min_p05"] > 1.0


def test_nominal_draw_reproduces_the_engine_exactly():
    m = cutoff_county()
    eng = EnsembleEngine(m)
    ref = coverage(m, TARGET).villages
    for mode in ("walk", "motorbike", "car"):
        got = eng.village_minutes(eng.nominal(2), mode)
        want = ref[ref["mode"] == mode]["min_staffed"].to_numpy()
        np.testing.assert_allclose(got[0], want)
        np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_allclose(eng.populations(eng.nominal(1))[0], m.villages["population"])


@pytest.mark.parametrize("on_edge", [False, True])
def test_batched_times_equal_a_rebuilt_network(on_edge):
    """Rescaled edges on the prepared index give what a model rebuilt with those times gives
    (``on_edge``: a facility inside V1's edge, so the direct along-edge time counts)."""
    m = line_county()
    rng = np.random.default_rng(0)
    fac = np.array([[4600.0, 30.0], [10000.0, 0.0]]) if on_edge else coverage_points(m)
    prep = prepare(m, [m.villages, fac], "car")
    base = prep.index.times["car"]
    scale = rng.uniform(0.5, 2.0, (3, base.size))
    acc_o, acc_f = prep.ends(0).access, prep.ends(1).access
    got = nearest_minutes_batch(prep, base * scale, np.tile(acc_o, (3, 1)), np.tile(acc_f, (3, 1)))
    for b in range(3):
        g = m.graph.copy()
        for k, (_u, _v, d) in enumerate(g.edges(data=True)):
            d["time_car"] = d["time_car"] * scale[b, k]
        ref = nearest_facility(g, m.villages, fac, "car").minutes
        np.testing.assert_allclose(got[b], ref)


def test_real_edges_are_not_sampled():
    m = cutoff_county(status="real")
    assert not edge_modelled(m.graph).any()
    ens = coverage_ensemble(m, TARGET, draws=40, seed=2)
    v3 = _village(ens, "V3")
    assert v3["min_staffed_p05"] == pytest.approx(20.0) == v3["min_staffed_p95"]
    # a graph flagged not modelled (a user's OSM extract) counts as real without a status
    g = cutoff_county().graph
    g.graph["modelled"] = False
    assert not edge_modelled(g).any()


def test_imputed_position_moves_only_that_village_within_its_radius():
    m = cutoff_county(status="real")
    m.villages["uncertainty_m"] = [0.0, 1000.0, 0.0, 0.0, 0.0]
    ens = coverage_ensemble(m, TARGET, draws=200, seed=4)
    v1 = _village(ens, "V1")
    # 1 km at circuity <= 1.70 on a 24 km/h village road at factor >= 0.75: <= 5.67 min
    assert 8.0 - 5.67 <= v1["min_staffed_p05"] < 8.0 - 1.0
    assert 8.0 + 1.0 < v1["min_staffed_p95"] <= 8.0 + 5.67
    assert _village(ens, "V3")["min_staffed_p05"] == pytest.approx(20.0)


def test_populations_keep_totals_and_real_counts():
    m = cutoff_county()
    m.villages["population_source"] = ["user", "modelled", "modelled", "modelled", "modelled"]
    eng = EnsembleEngine(m)
    pop = eng.populations(eng.sample(30, 5))
    assert (pop[:, 0] == 400).all()  # a user's count is never sampled
    np.testing.assert_allclose(pop.sum(axis=1), m.villages["population"].sum())
    # rural villages V1, V3, V9 share one class weight: their split never changes
    np.testing.assert_allclose(pop[:, 1] / pop[:, 2], 100 / 300)
    assert pop[:, 3].std() > 0  # the urban share moves the one modelled urban village


def test_sensitivity_ranks_the_road_speed_first_and_leaves_other_modes_out():
    ens = coverage_ensemble(cutoff_county(), TARGET, draws=10, seed=0)
    s = ens.sensitivity
    assert not s["parameter"].str.contains(r"\((?:walk|motorbike)\)").any()
    top = s.iloc[0]
    # V3 (300 of 1050 persons) sits at its 20-min target: slower village roads lose it
    assert top["swing"] == pytest.approx(300 / 1050)
    assert top["parameter"] in ("speed village (car)", "circuity village roads")
    walk = s[s["parameter"] == "access walking speed"].iloc[0]
    assert walk["swing"] == 0.0  # every point sits on the network: no access leg to walk
    assert (s["swing"].diff().dropna() <= 0).all()


def test_gap_classes_follow_the_thresholds():
    p = UncertaintyParams()
    got = gap_class(np.array([1.0, 0.9, 0.899, 0.1, 0.099, 0.0]), p)
    assert list(got) == ["robust gap"] * 2 + ["uncertain"] * 2 + ["served"] * 2


def test_params_file_and_validation(tmp_path):
    p = UncertaintyParams.from_file()
    assert p.speed("village") == Range(0.75, 1.25) and p.speed("nope") == p.speed_default
    bad = tmp_path / "u.toml"
    bad.write_text("[speed]\ndefault = [1.1, 1.3]\n")
    with pytest.raises(DataFileError, match="contain 1"):
        UncertaintyParams.from_file(bad)
    bad.write_text("[circuity]\nvillage = [1.7, 1.2]\n")
    with pytest.raises(DataFileError, match="low <= high"):
        UncertaintyParams.from_file(bad)


def test_siting_ensemble_keeps_the_island_site_exactly_when_v3_stays_covered():
    """MCLP, one new site, 20 min: the nominal plan opens V9 (50 persons, cut off) because V3
    (300) sits at 20 min and is covered. In a draw where V3 slips past 20 min, opening V3 wins
    (300 > 50), so V9 stays optimal in exactly the draws where V3 is served. (The siting radius
    is 20 + 1e-9 min: the OD matrix puts V3 at 20 + 3e-11 min, nearest_facility at 20.0.)"""
    m = cutoff_county()
    cs = county_problem(m, mode="car", candidates=m.villages[["code", "name", "geometry"]])
    site_target = TARGET.with_minutes(rural=20.000000001)
    res = solve_county(cs, "mclp", add=1, target=site_target, curve=False)
    assert [cs.sites["id"].iloc[j] for j in res.new_sites] == ["V9"]
    run = run_ensemble(m, TARGET, draws=40, seed=6, siting=(cs, res, "mclp", 1, site_target))
    p_v3 = float(run.gaps.set_index("code").loc["V3", "p_miss"])
    assert 0 < p_v3 < 1
    (site,) = run.siting["sites"]
    assert site["code"] == "V9" and site["stay_share"] == pytest.approx(1 - p_v3)
    cov = run.siting["coverage_after"]
    # the plan covers 1050 persons minus V3 when V3 slips: p05 < 1 = p95
    assert cov["p05"] < 1.0 and cov["p95"] == 1.0
    doc = run.to_dict()
    assert sum(doc["gap_class_counts"].values()) == 5 and doc["siting"] is run.siting


def test_a_published_township_total_is_kept_while_its_split_is_sampled():
    m = cutoff_county()
    m.villages["ur_code"] = [111, 220, 210, 111, 220]
    m.villages["population_source"] = ["modelled", *["published_township"] * 3, "modelled"]
    eng = EnsembleEngine(m)
    pop = eng.populations(eng.sample(30, 9))
    # T2 (V1, V3, V9) is published: its 450 persons stay, split by sampled class weights
    np.testing.assert_allclose(pop[:, [1, 2, 4]].sum(axis=1), 450)
    assert pop[:, 1].std() > 0 and pop[:, 2].std() > 0
    # no rural block is left to trade with, so the urban villages keep their 600
    np.testing.assert_allclose(pop[:, [0, 3]].sum(axis=1), 600)


def test_batches_split_the_draws_without_changing_them(monkeypatch):
    import doorstep.analysis.uncertainty.engine as engine_mod

    m = cutoff_county()
    eng = EnsembleEngine(m)
    d = eng.sample(25, 11)
    whole = eng.village_minutes(d, "car")
    monkeypatch.setattr(engine_mod, "BATCH_ENTRIES", 1)  # one draw per Dijkstra
    np.testing.assert_array_equal(eng.village_minutes(d, "car"), whole)


def test_a_village_imputed_on_its_service_point_can_only_get_farther():
    m = cutoff_county(status="real")
    m.villages["uncertainty_m"] = [1000.0, 0.0, 0.0, 0.0, 0.0]  # V0 sits on the county centre
    eng = EnsembleEngine(m)
    t = eng.village_minutes(eng.sample(200, 12), "car")[:, 0]
    assert (t > 0).all() and t.max() <= 1000 * 1.70 / (400 * 0.75)
    # |δ| = r·√U: the median move is r/√2 ≈ 707 m, at nominal circuity and speed ≈ 2.6 min
    assert 1.5 < np.median(t) < 3.7
    low, high = eng.one_at_a_time([d for d in eng.dims if d.field == "position"], "car").position
    assert np.allclose(np.linalg.norm(low[0]), 1) and np.allclose(high[0], -low[0])


def test_a_best_case_nominal_is_listed_outside_its_range():
    m = cutoff_county(status="real")
    m.villages["uncertainty_m"] = [1000.0, 0.0, 0.0, 0.0, 0.0]
    res = annotate_coverage(coverage(m, TARGET), coverage_ensemble(m, TARGET, draws=100, seed=1))
    out = res.meta["uncertainty"]["nominal_outside_range"]
    # T1's mean: (400·0 + 200·10) / 600 = 3.33 min nominally; V0 moves off the centre in
    # every draw, so the nominal mean is below the whole range
    hit = [o for o in out if (o["mode"], o["where"], o["figure"]) == ("car", "镇1", "mean_min")]
    assert len(hit) == 1 and hit[0]["nominal_is"] == "below the range"
    assert hit[0]["nominal"] == pytest.approx(2000 / 600)
    assert hit[0]["nominal"] < hit[0]["p05"]
