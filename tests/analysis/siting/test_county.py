"""County glue on the tiny fake county (real od_matrix on a hand-checkable road line)."""

from __future__ import annotations

import json

import pytest

from doorstep.analysis.siting.county import county_problem, site_report, solve_county
from tests.analysis.fakecounty import line_county
from tests.conftest import needs_shared


def test_mclp_and_lscp_on_line_county() -> None:
    model = line_county()
    cs = county_problem(model, mode="car")
    p = cs.problem
    # existing = staffed C, K, S (the village room R is not staffed); candidates = 4 villages
    assert p.existing.size == 3 and p.candidates.size == 4
    res = solve_county(cs, "mclp", add=1, minutes=15)
    assert res.optimal
    assert [cs.sites.iloc[j]["id"] for j in res.new_sites] == ["V3"]
    doc = site_report(model, cs, res, "mclp", 15)
    assert doc["population_newly_covered"] == 300  # V3 was 20 min from S
    assert doc["coverage_before"] == pytest.approx(700 / 1000)
    assert doc["coverage_after"] == 1.0
    t2 = next(t for t in doc["townships"] if t["town_code"] == "T2")
    assert (t2["covered_before"], t2["covered_after"], t2["newly_covered"]) == (100, 400, 300)
    assert [r["objective"] for r in doc["marginal_curve"]] == [700, 1000]
    assert doc["quality"]["layers"]["roads"]["modelled"] is True
    lres = solve_county(cs, "lscp", add=0, minutes=15)
    ldoc = site_report(model, cs, lres, "lscp", 15)
    assert ldoc["sites_needed_for_full_coverage"] == 4  # 3 existing + V3


@needs_shared
def test_cli_json_stdout_is_pure_json():
    """HiGHS prints a banner on the C stdout at its first instance; --json must stay parseable."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "doorstep.cli", "-q", "site", "--objective", "mclp"]
    out = subprocess.run(
        [*cmd, "--add", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert doc["objective"] == "mclp" and len(doc["sites_opened"]) == 1
    assert "HiGHS" not in out.stdout
