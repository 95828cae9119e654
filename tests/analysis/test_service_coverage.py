"""Coverage per legal service (issue 13): legal aid vs any point vs mediation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from doorstep.analysis.coverage import CoverageTarget, coverage
from doorstep.analysis.service_coverage import service_coverage_table
from doorstep.cli import main
from doorstep.geo.service_points import apply_service_overrides
from tests.analysis.fakecounty import line_county
from tests.conftest import needs_shared


def _no_legal_aid_at_s(tmp_path: Path):
    m = line_county()
    p = tmp_path / "sp.csv"
    p.write_text("id,services\nS,consultation;mediation\n", encoding="utf-8")
    m.service_points = apply_service_overrides(
        m.service_points, p, crs=None, outline=m.county.geometry.iloc[0]
    )
    return m


def test_a_village_whose_nearest_point_lacks_legal_aid_travels_further(tmp_path: Path) -> None:
    m = _no_legal_aid_at_s(tmp_path)
    t = CoverageTarget(mode="car")
    anyp = coverage(m, t, modes=("car",)).villages.set_index("code")
    aid = coverage(m, t, modes=("car",), service="legal_aid").villages.set_index("code")
    # 三村 V3 (node 3): nearest point S at 10 km = 20 min; legal aid only at C, 20 km = 40 min
    assert anyp.loc["V3", "nearest_id"] == "S" and anyp.loc["V3", "min_staffed"] == pytest.approx(
        20
    )
    assert aid.loc["V3", "nearest_id"] == "C" and aid.loc["V3", "min_staffed"] == pytest.approx(40)
    # 一村 V1 is nearest to C anyway: the same time either way
    assert aid.loc["V1", "min_staffed"] == pytest.approx(anyp.loc["V1", "min_staffed"])
    assert (aid["min_staffed"] >= anyp["min_staffed"] - 1e-9).all()


def test_mediation_counts_the_village_room_and_correction_only_the_centre() -> None:
    m = line_county()
    t = CoverageTarget(mode="car")
    med = coverage(m, t, modes=("car",), service="mediation")
    v = med.villages.set_index("code")
    assert v.loc["V3", "nearest_id"] == "R" and v.loc["V3", "min_staffed"] == pytest.approx(
        0, abs=1e-6
    )
    assert "mediation committee" in med.meta["service"]["note"]
    cor = coverage(m, t, modes=("car",), service="correction").villages.set_index("code")
    assert set(cor["nearest_id"]) == {"K"}
    assert cor.loc["V3", "min_staffed"] == pytest.approx(40)


def test_the_service_table_has_every_service_and_band(tmp_path: Path) -> None:
    m = _no_legal_aid_at_s(tmp_path)
    tab = service_coverage_table(m, CoverageTarget(mode="car"))
    county = tab[tab["scope"] == "county"].set_index("service")
    assert list(county.index) == [
        "consultation",
        "legal_aid",
        "mediation",
        "correction",
        "publicity",
    ]
    # population 1000: V0 400 (0 min), V4 200 (10), V1 100 (8), V3 300 (any point 20; aid 40)
    assert county.loc["consultation", "share_within_30"] == pytest.approx(1.0)
    assert county.loc["legal_aid", "share_within_30"] == pytest.approx(0.7)
    assert county.loc["legal_aid", "share_within_60"] == pytest.approx(1.0)
    assert county.loc["mediation", "share_within_15"] == pytest.approx(1.0)
    assert county.loc["legal_aid", "points"] == 1
    assert "forwarded" in county.loc["legal_aid", "note"]
    towns = tab[(tab["scope"] == "township") & (tab["service"] == "legal_aid")]
    assert sorted(towns["code"]) == ["T1", "T2"]
    t2 = towns.set_index("code").loc["T2"]  # V1 100 at 8 min, V3 300 at 40 min
    assert t2["share_within_15"] == pytest.approx(0.25)
    assert t2["mean_min"] == pytest.approx((100 * 8 + 300 * 40) / 400)


@needs_shared
def test_legal_aid_and_mediation_differ_on_huayuan(capsys, tmp_path: Path) -> None:
    docs = {}
    for s in ("legal_aid", "mediation"):
        assert main(["-q", "coverage", "--service", s, "--mode", "car", "--json"]) == 0
        docs[s] = json.loads(capsys.readouterr().out)
    aid, med = docs["legal_aid"], docs["mediation"]
    assert aid["meta"]["service"]["points"] == 13  # county centre + 12 workstations
    assert "forwarded" in aid["meta"]["service"]["note"]
    assert med["meta"]["service"]["points_by_tier"]["village_room"] == 228
    # mediation: every village has its committee in its own room; legal aid: a drive
    car_aid = aid["population_share_within"]["county"]["car"]
    car_med = med["population_share_within"]["county"]["car"]
    assert car_med["15"] == pytest.approx(1.0)
    assert car_aid["15"] < 0.9
    assert max(r["min_staffed"] or 0 for r in med["villages"]) == pytest.approx(0, abs=1e-6)


@needs_shared
def test_huayuan_workstation_without_legal_aid(capsys, tmp_path: Path, huayuan_model) -> None:
    """A workstation that stops accepting legal-aid applications sends its villages further."""
    anyp = coverage(huayuan_model, modes=("car",)).villages
    ws = anyp[anyp["nearest_tier"] == "township_station"]
    sid = ws["nearest_id"].value_counts().index[0]
    p = tmp_path / "sp.csv"
    p.write_text(f"id,services\n{sid},consultation;mediation\n", encoding="utf-8")
    assert (
        main(["-q", "coverage", "--service", "legal_aid", "--json", "--service-points", str(p)])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    aid = {r["code"]: r for r in doc["villages"] if r["mode"] == "car"}
    served = ws[ws["nearest_id"] == sid]
    for _, v in served.iterrows():
        assert aid[v["code"]]["nearest_id"] != sid
        assert aid[v["code"]]["min_staffed"] > v["min_staffed"]
    others = anyp[anyp["nearest_id"] != sid]
    got = np.array([aid[c]["min_staffed"] for c in others["code"]])
    np.testing.assert_allclose(got, others["min_staffed"].to_numpy(), atol=1e-3)


def test_unknown_service_exits_2(capsys) -> None:
    assert main(["coverage", "--service", "notary"]) == 2
    assert "notary" in capsys.readouterr().err
