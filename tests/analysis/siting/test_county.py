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
    # existing = C and S, the points counting for coverage (not the correction centre K, not the
    # unstaffed village room R); candidates = the village rooms, named by their village (V3)
    assert list(cs.sites["id"][p.existing]) == ["C", "S"]
    assert list(cs.sites["id"][p.candidates]) == ["V3"]
    assert list(cs.sites["name"][p.candidates]) == ["三村"]
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
    assert ldoc["sites_needed_for_full_coverage"] == 3  # 2 existing + V3


def test_each_village_is_covered_against_its_own_threshold() -> None:
    """Urban villages by the urban minutes, rural by the rural minutes — the coverage target."""
    from doorstep.analysis.coverage import CoverageTarget, coverage
    from doorstep.geo._errors import InfeasibleError

    model = line_county()
    cs = county_problem(model, mode="car")
    # car minutes 0 (V0 urban), 8 (V1 rural), 20 (V3 rural), 10 (V4 urban)
    target = CoverageTarget(rural_minutes=15.0, urban_minutes=5.0)
    res = solve_county(cs, "mclp", add=1, target=target)
    doc = site_report(model, cs, res, "mclp", target)
    assert doc["coverage_before"] == pytest.approx(500 / 1000)  # V0 + V1; V4 misses 5 min
    assert doc["coverage_after"] == pytest.approx(800 / 1000)  # + V3 at its own room
    share = coverage(model, target, modes=("car",)).county.iloc[0]["share_meeting_target"]
    assert doc["coverage_before"] == pytest.approx(share)  # the same definition as coverage
    assert doc["target"]["urban_minutes"] == 5.0
    assert "rural villages ≤ 15 min, urban ≤ 5 min" in doc["threshold"]
    assert "each demand point's own threshold (5–15 minutes)" in " ".join(doc["assumptions"])
    t1 = next(t for t in doc["townships"] if t["town_code"] == "T1")
    assert (t1["covered_before"], t1["covered_after"]) == (400, 400)
    # a flat 15-minute threshold would have counted V4 (10 min) as covered
    flat = solve_county(cs, "mclp", add=0, target=target.with_minutes(urban=15.0), curve=False)
    assert flat.coverage_before == pytest.approx(700 / 1000)
    with pytest.raises(InfeasibleError, match="V4"):  # no candidate within 5 min of V4
        solve_county(cs, "lscp", add=0, target=target, curve=False)


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


def test_capacities_from_a_gbk_table_bind_on_the_line_county(tmp_path) -> None:
    """``--capacity FILE``: C may serve 400 persons, S 450, V3 unlisted (uncapacitated). By
    hand: uncapacitated, C serves V0 (400), V1 (100) and V4 (200): 100*8 + 200*10 = 2800;
    capacitated, V0 fills C, V1 and V4 go to S: 100*12 + 200*30 = 7200."""
    import numpy as np

    from doorstep.analysis.siting.county import site_capacities, site_loads

    model = line_county()
    cs = county_problem(model, mode="car")
    free = solve_county(cs, "pmedian", add=1, curve=False)
    assert free.objective == pytest.approx(2800)
    table = tmp_path / "caps.csv"
    table.write_bytes("id,capacity,备注\nC,400,县中心\nS,450,镇站\n".encode("gbk"))
    caps = site_capacities(cs, str(table), 1)
    np.testing.assert_array_equal(caps, [400.0, 450.0, np.inf])
    from dataclasses import replace

    capped = replace(cs, problem=replace(cs.problem, capacities=caps))
    res = solve_county(capped, "pmedian", add=1, curve=False)
    assert res.optimal and res.objective == pytest.approx(7200)
    loads = {r["id"]: (r["load"], r["capacity"]) for r in site_loads(capped, res)}
    assert loads == {"C": (400, 400.0), "S": (300, 450.0), "V3": (300, None)}
    # default: 1.5 x an even share of the 1,000 persons over the 3 points open after siting
    np.testing.assert_array_equal(site_capacities(cs, "default", 1), [500.0, 500.0, 500.0])


@pytest.mark.parametrize(
    ("body", "row", "field", "words"),
    [
        ("id,capacity\nC,abc\n", 2, "capacity", "'abc' is not a number"),
        ("id,capacity\nC,400\nS,-5\n", 3, "capacity", "-5 is not a number"),
        ("id,capacity\nC,\n", 2, "capacity", "NaN/empty is not a number"),
        ("id,capacity\nC,400\nX9,5\n", 3, "id", "unknown point 'X9'"),
        ("id,capacity\nC,400\nC,300\n", 2, "id", "duplicate"),
        ("code,cap\nC,400\n", None, "id", "missing column"),
    ],
)
def test_a_bad_capacity_table_names_file_row_and_field(tmp_path, body, row, field, words) -> None:
    from doorstep.analysis.siting.county import site_capacities
    from doorstep.geo._errors import DataFileError

    cs = county_problem(line_county(), mode="car")
    table = tmp_path / "caps.csv"
    table.write_text(body, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        site_capacities(cs, str(table), 1)
    msg = str(err.value)
    assert str(table) in msg and f"field '{field}'" in msg and words in msg and "fix:" in msg
    if row is not None:
        assert f"row {row}," in msg
