"""2SFCA/E2SFCA hand-worked example, Gini, 65+ figures and the link-failure analysis."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.analysis.accessibility import FCAParams, accessibility, decay_weights, two_step_fca
from doorstep.analysis.coverage import coverage
from doorstep.analysis.equity import equity_summary, weighted_gini
from doorstep.analysis.resilience import critical_links
from doorstep.geo._errors import InputError
from tests.analysis.fakecounty import bridge_county, line_county

TIMES = np.array([[10.0, 40.0], [20.0, 25.0], [35.0, 5.0]])
POP = [100.0, 200.0, 300.0]
SUPPLY = [10.0, 20.0]


def test_2sfca_hand_worked():
    a, r = two_step_fca(TIMES, POP, SUPPLY, FCAParams(catchment=30.0, decay="step"))
    # R1 = 10 / (100 + 200), R2 = 20 / (200 + 300)
    np.testing.assert_allclose(r, [1 / 30, 0.04])
    np.testing.assert_allclose(a, [1 / 30, 1 / 30 + 0.04, 0.04])


def test_e2sfca_hand_worked():
    a, r = two_step_fca(TIMES, POP, SUPPLY, FCAParams(catchment=30.0, decay="e2sfca"))
    r1, r2 = 10 / (100 + 200 * 0.68), 20 / (200 * 0.22 + 300)
    np.testing.assert_allclose(r, [r1, r2])
    np.testing.assert_allclose(a, [r1, 0.68 * r1 + 0.22 * r2, r2])


def test_decay_functions():
    t = np.array([0.0, 15.0, 30.0, 31.0, np.inf])
    np.testing.assert_allclose(decay_weights(t, FCAParams(decay="linear")), [1, 0.5, 0, 0, 0])
    g = decay_weights(t, FCAParams(decay="gaussian"))
    e = np.exp(-0.5)
    np.testing.assert_allclose(g, [1, (np.exp(-0.125) - e) / (1 - e), 0, 0, 0])
    with pytest.raises(InputError):
        FCAParams(decay="cubic")


def test_accessibility_on_model():
    acc = accessibility(line_county(), "car", FCAParams(catchment=15.0)).set_index("code")
    # county centre (1000 h) reaches V0, V1, V4 (700 people); the correction centre (500 h)
    # beside it is no general legal-service supply (geo.services); workstation (300 h)
    # reaches V1 (12 min) only within 15 min -> V3 has nothing.
    r_c = 1000 / 700
    r_s = 300 / 100
    np.testing.assert_allclose(
        acc["access_hours_per_1000"].to_numpy(), [r_c * 1000, (r_c + r_s) * 1000, 0.0, r_c * 1000]
    )


def test_gini_and_older_residents():
    assert weighted_gini(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(0.25)
    assert weighted_gini(np.array([0.0, 10.0]), np.array([3.0, 1.0])) == pytest.approx(0.75)
    assert weighted_gini(np.array([5.0, 5.0]), np.array([1.0, 2.0])) == 0.0
    m = line_county()
    from doorstep.analysis.coverage import CoverageTarget

    res = coverage(m, CoverageTarget(rural_minutes=15.0), modes=("car",))
    eq = equity_summary(m, res)["modes"]["car"]
    assert eq["persons_beyond_target"] == 300
    assert eq["persons65_beyond_target"] == 45  # 300 x 15 %
    assert eq["share65_beyond_target"] == pytest.approx(0.3)
    x = np.array([0.0, 8.0, 20.0, 10.0])
    w = np.array([400.0, 100.0, 300.0, 200.0])
    pairs = sum(w[i] * w[j] * abs(x[i] - x[j]) for i in range(4) for j in range(4))
    assert eq["gini_travel_time"] == pytest.approx(pairs / (2 * 1000**2 * 8.8))


def test_critical_links_find_the_bridge():
    m = bridge_county()
    from doorstep.analysis.coverage import CoverageTarget

    links = critical_links(m, CoverageTarget(rural_minutes=60.0, urban_minutes=60.0), top=None)
    top = links.iloc[0]
    assert top["name"] == "风雨桥" and bool(top["is_bridge"])
    assert top["population_losing"] == 100 and top["villages_losing"] == 2
    assert top["extra_person_minutes"] == np.inf
    assert (links["population_losing"].iloc[1:] == 0).all()
    assert links["is_bridge"].sum() == 1
    # only shortest-path-tree links are tested, not all 7
    assert links.attrs["links_tested"] < links.attrs["links_total"]
