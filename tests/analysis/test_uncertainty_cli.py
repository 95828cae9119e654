"""``--draws N --seed S`` on ``doorstep coverage``, ``gaps`` and ``site`` (Huayuan)."""

from __future__ import annotations

import json

import pandas as pd

from doorstep.cli import main
from tests.conftest import needs_shared

SHARES = ("share_within_15", "share_within_30", "share_within_60", "share_meeting_target")


def _json(capsys, argv):
    assert main(["-q", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@needs_shared
def test_coverage_draws_put_every_township_share_inside_its_range(capsys, tmp_path):
    doc = _json(capsys, ["coverage", "--draws", "200", "--seed", "1", "--out", str(tmp_path)])
    sens = pd.read_csv(tmp_path / "coverage_sensitivity.csv", encoding="utf-8-sig")
    assert list(sens["parameter"]) == [
        r["parameter"] for r in doc["meta"]["uncertainty"]["sensitivity"]
    ]
    vill = pd.read_csv(tmp_path / "coverage_villages.csv", encoding="utf-8-sig")
    assert vill["p_miss"].between(0, 1).all() and len(vill) == 3 * 228
    assert len(doc["townships"]) == 36  # 12 townships x 3 modes
    u = doc["meta"]["uncertainty"]
    # the done-when check: p05 <= value <= p95, except where the output itself says the
    # nominal lies outside (a best case, e.g. villages imputed on their service point)
    listed = {(o["mode"], o["where"], o["figure"]) for o in u["nominal_outside_range"]}
    for row in doc["townships"] + doc["county"]:
        where = row.get("town_name", "county")
        for col in (*SHARES, "mean_min"):
            inside = row[f"{col}_p05"] <= row[col] <= row[f"{col}_p95"]
            assert inside != ((row["mode"], where, col) in listed), (row["mode"], where, col)
    ranges = doc["population_share_within_p05_p95"]
    names = {r["town_code"]: r["town_name"] for r in doc["townships"]}
    for code, t in doc["population_share_within"]["townships"].items():
        for mode, shares in t["modes"].items():
            for band, x in shares.items():
                lo, hi = ranges["townships"][code][mode][band]
                listed_here = (mode, names[code], f"share_within_{band}") in listed
                assert (lo <= x <= hi) != listed_here
    assert u["draws"] == 200 and u["seed"] == 1 and u["interval_percentiles"] == [5.0, 95.0]
    sens = u["sensitivity"]
    assert sens[0]["swing"] >= sens[-1]["swing"] and sens[0]["swing"] > 0
    car = next(r for r in doc["county"] if r["mode"] == "car")
    assert car["share_meeting_target_p05"] < car["share_meeting_target_p95"]


@needs_shared
def test_gaps_draws_give_every_village_a_probability_and_class_reruns_identical(capsys):
    argv = ["gaps", "--draws", "200", "--seed", "1", "--top", "3"]
    a = _json(capsys, argv)
    b = _json(capsys, argv)
    assert a == b
    u = a["uncertainty"]
    assert len(u["villages"]) == 228
    assert sum(u["class_counts"].values()) == 228
    for v in u["villages"]:
        p = v["p_miss"]
        want = "robust gap" if p >= 0.9 else "uncertain" if p >= 0.1 else "served"
        assert 0 <= p <= 1 and v["gap_class"] == want
    # a village beyond its target in the nominal model is missed in some draws at least
    for v in a["underserved_villages"]:
        assert v["p_miss"] > 0 and v["gap_class"] in ("robust gap", "uncertain")


@needs_shared
def test_site_draws_report_stay_shares_and_plan_coverage(capsys):
    doc = _json(capsys, ["site", "--add", "2", "--no-curve", "--draws", "8", "--seed", "2"])
    u = doc["uncertainty"]
    assert u["draws"] == 8
    assert [s["code"] for s in u["sites"]] == [s["code"] for s in doc["sites_opened"]]
    assert all(0 <= s["stay_share"] <= 1 for s in u["sites"])
    c = u["coverage_after"]
    assert c["p05"] <= c["p50"] <= c["p95"] <= 1
    assert u["coverage_before"]["p50"] <= c["p50"]


def test_negative_draws_are_a_user_error(capsys):
    assert main(["-q", "coverage", "--draws", "-1"]) != 0
    assert "--draws" in capsys.readouterr().err
