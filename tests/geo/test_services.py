"""One definition of a legal-service point (geo.services): tiers, services and roles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.services import TIERS, ServicePointRules, county_centre, service_rules
from doorstep.geo.settings import project_data_dir
from tests.analysis.fakecounty import line_county

PARAMS = project_data_dir() / "params"


def test_the_bundled_rules() -> None:
    r = service_rules()
    assert r.coverage_service == "consultation"
    # the correction centre serves people under community correction, not general consultation
    assert r.coverage_tiers() == ("county_centre", "township_station", "village_room")
    assert r.tier_services("correction_centre") == ("correction",)
    assert "legal_aid" in r.tier_services("township_station")
    assert "legal_aid" not in r.tier_services("village_room")
    assert r.candidate_tiers == ("village_room",)
    assert r.tiers["township_station"].short_en == "township workstation"
    assert set(r.tiers) == set(TIERS)
    assert "not counted: county community-correction centre" in r.describe()


def test_which_points_count_on_a_fake_county() -> None:
    sp = line_county().service_points
    r = service_rules()
    # C county centre, K correction centre, S workstation (staffed), R village room (not staffed)
    assert list(r.coverage_points(sp)["id"]) == ["C", "S"]
    assert list(r.candidate_points(sp)["id"]) == ["R"]
    assert list(r.circuit_bases(sp.iloc[::-1])["id"]) == ["C", "S"]  # county centre first
    assert list(r.offering(sp, "correction")["id"]) == ["K"]
    assert list(r.offering(sp, "legal_aid")["id"]) == ["C", "S"]
    np.testing.assert_array_equal(r.offers(sp, "mediation"), [True, False, True, True])
    # a user table marking the workstation closed removes it; staffing the room adds it
    sp2 = sp.copy()
    sp2.loc[sp2["id"] == "S", "staffed"] = False
    sp2.loc[sp2["id"] == "R", "staffed"] = True
    assert list(r.coverage_points(sp2)["id"]) == ["C", "R"]
    with pytest.raises(InputError, match="unknown service 'notary'"):
        r.offering(sp, "notary")


def _copy_params(tmp_path: Path, points: str | None = None, services: str | None = None) -> Path:
    p = tmp_path / "service_points.toml"
    p.write_text(points or (PARAMS / "service_points.toml").read_text(encoding="utf-8"), "utf-8")
    s = services or (PARAMS / "services.toml").read_text(encoding="utf-8")
    (tmp_path / "services.toml").write_text(s, encoding="utf-8")
    return p


def test_bad_parameter_files_name_file_and_field(tmp_path: Path) -> None:
    text = (PARAMS / "service_points.toml").read_text(encoding="utf-8")
    p = _copy_params(tmp_path, text.replace('"consultation"', '"consulting"'))
    with pytest.raises(DataFileError, match=r"service_points.toml.*roles.coverage_service"):
        ServicePointRules.from_files(p)
    p = _copy_params(tmp_path, text.replace("[tiers.correction_centre]", "[tiers.prison]"))
    with pytest.raises(DataFileError, match=r"tiers.*correction_centre"):
        ServicePointRules.from_files(p)
    stext = (PARAMS / "services.toml").read_text(encoding="utf-8")
    p = _copy_params(
        tmp_path, None, stext.replace('tiers = ["correction_centre"]', 'tiers = ["jail"]')
    )
    with pytest.raises(DataFileError, match=r"correction.*jail"):
        ServicePointRules.from_files(p)
    p = _copy_params(tmp_path, None, stext.replace('name_en = "Legal publicity"\n', ""))
    with pytest.raises(DataFileError, match="malformed"):
        ServicePointRules.from_files(p)


def test_a_changed_role_changes_every_selection(tmp_path: Path) -> None:
    """The rules are data: making correction reporting the coverage service counts the
    correction centre only."""
    text = (PARAMS / "service_points.toml").read_text(encoding="utf-8")
    p = _copy_params(
        tmp_path,
        text.replace('coverage_service = "consultation"', 'coverage_service = "correction"'),
    )
    r = ServicePointRules.from_files(p)
    assert list(r.coverage_points(line_county().service_points)["id"]) == ["K"]


def test_county_centre_is_found_or_named_in_the_error() -> None:
    pts = pd.DataFrame(
        {"tier": ["township_station", "county_centre", "village_room"], "n": [1, 2, 3]}
    )
    assert county_centre(pts, "to queue at")["n"].tolist() == [2]
    with pytest.raises(InputError, match=r"no county centre.*to queue at.*tier = county_centre"):
        county_centre(pts[pts["tier"] != "county_centre"], "to queue at")
