"""Sites and gaps on imputed village points say so; ``--confirmed-only`` drops such candidates."""

from __future__ import annotations

import json

from doorstep.analysis.coverage import CoverageTarget
from doorstep.analysis.gaps import underserved_villages
from doorstep.analysis.siting.county import county_problem, site_report, solve_county
from doorstep.cli import main
from doorstep.geo.villages import CONFIRMED, TO_CONFIRM
from tests.analysis.fakecounty import line_county
from tests.conftest import needs_shared


def _imputed_v3():
    """The line county with a room in every village (candidates V0, V1, V3, V4); V3 imputed."""
    import pandas as pd

    model = line_county()
    model.villages.loc[model.villages["code"] == "V3", "location_quality"] = "imputed"
    room = model.service_points[model.service_points["id"] == "R"]
    extra = []
    for code in ("V0", "V1", "V4"):
        r = room.copy()
        r["id"], r["village_code"] = f"R{code}", code
        r["geometry"] = model.villages.loc[model.villages["code"] == code, "geometry"].to_numpy()
        extra.append(r)
    sp = pd.concat([model.service_points, *extra], ignore_index=True)
    model.service_points = type(model.service_points)(sp, crs=model.service_points.crs)
    return model


def test_site_on_imputed_point_is_to_be_confirmed():
    model = _imputed_v3()
    cs = county_problem(model, mode="car")
    res = solve_county(cs, "mclp", add=1, minutes=15, curve=False)
    doc = site_report(model, cs, res, "mclp", 15)
    # V3 (20 min from S) is the only village that gains coverage: opened, but on an imputed point
    assert [(s["code"], s["location_status"]) for s in doc["sites_opened"]] == [("V3", TO_CONFIRM)]


def test_confirmed_only_excludes_imputed_candidates():
    model = _imputed_v3()
    cs = county_problem(model, mode="car", confirmed_only=True)
    ids = set(cs.sites.loc[cs.sites["role"] == "candidate", "id"])
    assert ids == {"V0", "V1", "V4"}
    res = solve_county(cs, "mclp", add=1, minutes=15, curve=False)
    doc = site_report(model, cs, res, "mclp", 15)
    assert all(s["location_status"] == CONFIRMED for s in doc["sites_opened"])
    assert "V3" not in {s["code"] for s in doc["sites_opened"]}
    assert doc["population_newly_covered"] == 0  # only V3 itself could cover V3 within 15 min


def test_underserved_village_on_imputed_point_is_flagged():
    model = _imputed_v3()
    target = CoverageTarget(mode="car", rural_minutes=15.0, urban_minutes=15.0)
    gap = underserved_villages(model, target)
    # car times 0, 8, 20, 10 min: only V3 is beyond 15 min, and it stands on an imputed point
    assert gap["code"].tolist() == ["V3"]
    assert gap["point_imputed"].tolist() == [True]


@needs_shared
def test_huayuan_confirmed_only(huayuan_model, capsys):
    imputed = set(
        huayuan_model.villages.loc[huayuan_model.villages["location_quality"] == "imputed", "code"]
    )
    cs = county_problem(huayuan_model, mode="car", confirmed_only=True)
    cand = cs.sites.loc[cs.sites["role"] == "candidate", "id"]
    assert len(cand) == 228 - len(imputed) and not set(cand) & imputed and imputed
    assert main(["site", "--confirmed-only", "--no-curve", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(s["location_status"] == CONFIRMED for s in doc["sites_opened"])
    assert not {s["code"] for s in doc["sites_opened"]} & imputed
    gap = underserved_villages(huayuan_model, CoverageTarget(mode="car"))
    assert gap["point_imputed"].tolist() == [c in imputed for c in gap["code"]]
