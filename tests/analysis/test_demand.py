"""Demand and capacity (issue 13): Erlang C against hand-computed textbook values, the
saturation year, the spread of county demand to points, 2SFCA called with staffed hours."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from doorstep.analysis.demand import (
    DEMAND_TOML,
    DemandParams,
    centre_queue,
    demand_capacity,
    erlang_c,
    mmc_wait_hours,
    saturation_year,
)
from doorstep.cli import main
from doorstep.geo._errors import DataFileError, InputError
from tests.analysis.fakecounty import line_county
from tests.conftest import needs_shared


def _closed_form(lam: float, mu: float, c: int) -> tuple[float, float]:
    """P_wait and W_q (hours) straight from the textbook formula."""
    a, rho = lam / mu, lam / (c * mu)
    top = a**c / math.factorial(c) / (1 - rho)
    p = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p, p / (c * mu - lam)


def test_erlang_c_textbook_cases() -> None:
    # λ = 2/h, μ = 1/h, c = 3: a = 2, ρ = 2/3; Σ_{k<3} 2^k/k! = 1 + 2 + 2 = 5;
    # a^c/c! · 1/(1-ρ) = 8/6 · 3 = 4  →  P_W = 4/9, W_q = (4/9)/(3 - 2) h
    assert erlang_c(2.0, 1.0, 3) == pytest.approx(4 / 9)
    assert mmc_wait_hours(2.0, 1.0, 3) == pytest.approx(4 / 9)
    # M/M/1: P_W = ρ, W_q = ρ/(μ - λ)
    assert erlang_c(0.5, 1.0, 1) == pytest.approx(0.5)
    assert mmc_wait_hours(0.5, 1.0, 1) == pytest.approx(1.0)
    # λ = μ = 1, c = 2: 1/2 · 1/(1/2) = 1, Σ = 2 → P_W = 1/3, W_q = 1/3 h
    assert erlang_c(1.0, 1.0, 2) == pytest.approx(1 / 3)
    for lam, mu, c in [(5.0, 2.0, 3), (10.0, 2.0, 6), (11.5, 2.0, 6), (0.1, 3.0, 8)]:
        p, w = _closed_form(lam, mu, c)
        assert erlang_c(lam, mu, c) == pytest.approx(p, rel=1e-12)
        assert mmc_wait_hours(lam, mu, c) == pytest.approx(w, rel=1e-12)
    assert erlang_c(6.0, 1.0, 6) == 1.0 and mmc_wait_hours(7.0, 1.0, 6) == math.inf
    with pytest.raises(InputError):
        erlang_c(1.0, 1.0, 0)


def test_the_county_centre_queue_and_its_saturation_year() -> None:
    p = DemandParams.from_file()
    assert (p.legal_aid_cases, p.centre_consultations, p.consultation_growth) == (200, 1000, 0.5)
    q = centre_queue(p, 6)
    # by hand: s̄ = (1000·20 + 600·45)/1600 = 29.375 min → μ = 2.0426/h, cμ = 12.255/h;
    # λ_0 = 1.5 · 1600 / (250 · 6.5) = 1.4769/h
    assert q.service_min == pytest.approx(29.375)
    assert q.years[0].arrivals_per_hour == pytest.approx(1.5 * 1600 / 1625)
    lam1 = 1.5 * (1000 * 1.5 + 600) / 1625
    assert q.years[1].arrivals_per_hour == pytest.approx(lam1)
    p1, w1 = _closed_form(lam1, 60 / 29.375, 6)
    assert q.years[1].p_wait == pytest.approx(p1)
    assert q.years[1].wait_min == pytest.approx(60 * w1)
    # n* = ln((12.2553 - 0.55385)/0.92308)/ln 1.5 = 6.26 → 7 years → 2025
    assert q.saturation_year == p.base_year + 7 == 2025
    cap = 6 * 60 / 29.375
    assert sum(p.arrivals_per_hour(6)) < cap <= sum(p.arrivals_per_hour(7))
    assert [y.wait_min for y in q.years] == sorted(y.wait_min for y in q.years)
    # more windows postpone saturation; no growth never saturates
    assert centre_queue(p, 8).saturation_year == 2026
    assert saturation_year(replace(p, consultation_growth=0.0), cap) is None


def test_bad_demand_parameters_name_the_field(tmp_path: Path) -> None:
    text = DEMAND_TOML.read_text(encoding="utf-8")
    bad = tmp_path / "demand.toml"
    bad.write_text(text.replace("peak_factor = 1.5", "peak_factor = -1"), encoding="utf-8")
    with pytest.raises(DataFileError, match="peak_factor"):
        DemandParams.from_file(bad)
    bad.write_text(text.replace("[queue]", "[queues]"), encoding="utf-8")
    with pytest.raises(DataFileError, match="malformed"):
        DemandParams.from_file(bad)


def test_demand_is_spread_by_population_and_sent_to_the_nearest_open_point() -> None:
    m = line_county()
    m.service_points["windows"] = [6, 1, 1, 1]
    d = demand_capacity(m, mode="car")
    v = d.villages
    # population 1000: V0 400 → C, V4 200 → C, V1 100 → C (8 min vs 12), V3 300 → S
    aid = v[v["service"] == "legal_aid"].set_index("code")
    assert aid.loc["V3", "demand_per_year"] == pytest.approx(200 * 0.3)
    assert aid.loc["V3", "point_id"] == "S"
    pts = d.points.set_index("id")
    assert pts.loc["C", "consultation_per_year"] == pytest.approx(1000 * 0.7)
    assert pts.loc["S", "legal_aid_per_year"] == pytest.approx(200 * 0.3)
    need_s = (300 * 20 + 60 * 60) / 60  # 300 consultations x 20 min + 60 applications x 60 min
    assert pts.loc["S", "hours_needed_per_year"] == pytest.approx(need_s)
    assert pts.loc["S", "utilisation"] == pytest.approx(need_s / (12 * 300.0))
    assert d.queue.windows == 6
    acc = d.meta["accessibility"]
    assert acc["decay"] == "gaussian" and acc["mean_hours_per_1000"] > 0
    doc = d.to_dict()
    assert doc["county_centre_queue"]["saturation_year"] == 2025
    assert any("from the county report" in a for a in doc["meta"]["assumptions"])


@needs_shared
def test_demand_cli_on_huayuan(capsys, tmp_path: Path) -> None:
    assert main(["-q", "demand", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    q = doc["county_centre_queue"]
    assert q["windows"] == 6 and q["saturation_year"] == 2025
    assert len(q["years"]) == 6 and q["years"][0]["year"] == 2018
    ids = {r["id"] for r in doc["points"]}
    assert len(ids) == 13  # the county centre and the 12 workstations receive the demand
    # 8 windows (a service-points file) postpone saturation by a year
    p = tmp_path / "sp.csv"
    p.write_text("id,windows\n433124-C,8\n", encoding="utf-8")
    assert main(["-q", "demand", "--json", "--service-points", str(p)]) == 0
    assert json.loads(capsys.readouterr().out)["county_centre_queue"]["saturation_year"] == 2026
