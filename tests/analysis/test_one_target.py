"""One definition of "underserved" (issue 12): the library figures the report uses,
``/api/underserved``, ``doorstep gaps --json`` and siting agree for the same target."""

from __future__ import annotations

import json
from typing import Any

import pytest

from doorstep.analysis.coverage import CoverageTarget, coverage
from doorstep.analysis.gaps import underserved_villages
from doorstep.analysis.siting.county import county_problem, site_report, solve_county
from doorstep.cli import main
from tests.conftest import needs_shared

pytestmark = needs_shared

TARGETS = [CoverageTarget(), CoverageTarget(rural_minutes=25.0, urban_minutes=10.0)]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.webmap.conftest import make_app

    return make_app(tmp_path_factory.mktemp("app")).test_client()


@pytest.mark.parametrize("target", TARGETS, ids=["default", "25-10"])
def test_report_api_gaps_and_siting_agree(
    target: CoverageTarget, huayuan_model: Any, api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # the report's figures: coverage() of the target (county row) and the underserved list
    res = coverage(huayuan_model, target, modes=(target.mode,))
    row = res.county.iloc[0]
    gaps = underserved_villages(huayuan_model, target, result=None)
    assert row["villages_underserved"] == len(gaps) > 0
    # every village is judged against its own threshold
    v = res.villages
    assert (v.loc[v["urban"], "target_min"] == target.urban_minutes).all()
    assert (v.loc[~v["urban"], "target_min"] == target.rural_minutes).all()

    q = f"mode={target.mode}&minutes={target.rural_minutes:g}&urban_minutes={target.urban_minutes:g}"
    u = api.get(f"/api/underserved?{q}").get_json()
    assert u["count"] == len(gaps)
    assert [x["code"] for x in u["villages"]] == list(gaps["code"])
    assert u["target"]["urban_minutes"] == target.urban_minutes

    argv = ["-q", "gaps", "--json", "--top", "1", "--minutes", f"{target.rural_minutes:g}"]
    assert main([*argv, "--urban-minutes", f"{target.urban_minutes:g}"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["underserved_count"] == len(doc["underserved_villages"]) == len(gaps)
    assert doc["target"]["rural_minutes"] == target.rural_minutes

    # siting's "before" is the share of the population meeting the same target
    cs = county_problem(huayuan_model, mode=target.mode)
    sres = solve_county(cs, "mclp", add=0, target=target, curve=False)
    rep = site_report(huayuan_model, cs, sres, "mclp", target)
    assert rep["coverage_before"] == pytest.approx(row["share_meeting_target"], abs=1e-9)
    assert rep["target"]["urban_minutes"] == target.urban_minutes


def test_the_urban_threshold_bites_on_huayuan(huayuan_model: Any) -> None:
    """A flat 30-minute target (the old /api/underserved?minutes=30) misses the urban villages
    between 15 and 30 minutes that the one target counts."""
    mixed = underserved_villages(huayuan_model, CoverageTarget())
    flat = underserved_villages(huayuan_model, CoverageTarget(urban_minutes=30.0))
    assert set(flat["code"]) < set(mixed["code"])
    extra = mixed[~mixed["code"].isin(flat["code"])]
    assert extra["urban"].all() and (extra["min_staffed"] > 15.0).all()
    assert (extra["min_staffed"] <= 30.0).all()


def test_cli_target_options_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "coverage", "--minutes", "25", "--urban-minutes", "10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"]["rural_minutes"] == 25.0 and doc["target"]["urban_minutes"] == 10.0
    assert any("urban ≤ 10 min" in a for a in doc["meta"]["assumptions"])
