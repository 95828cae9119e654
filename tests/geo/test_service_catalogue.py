"""Per-point services, the service-points template and its round trip (issue 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from doorstep.geo._errors import DataFileError
from doorstep.geo.service_points import (
    apply_service_overrides,
    template_table,
    write_service_points_template,
)
from doorstep.geo.services import service_rules
from tests.analysis.fakecounty import line_county
from tests.conftest import needs_shared


def _outline():
    return line_county().county.geometry.iloc[0]


def _override(tmp_path: Path, text: str, encoding: str = "utf-8"):
    p = tmp_path / "sp.csv"
    p.write_bytes(text.encode(encoding))
    return apply_service_overrides(line_county().service_points, p, crs=None, outline=_outline())


def test_services_cell_overrides_the_tier_default(tmp_path: Path) -> None:
    r = service_rules()
    sp = line_county().service_points
    assert list(r.offering(sp, "legal_aid")["id"]) == ["C", "S"]
    # GBK (Excel on Chinese Windows), Chinese names and 、 as separator, 'hours' for opening hours
    out = _override(
        tmp_path, "id,services,hours,windows\nS,法律咨询、mediation,周一 9-12,3\n", "gbk"
    )
    s = out[out["id"] == "S"].iloc[0]
    assert s["services"] == "consultation;mediation"
    assert s["opening_hours"] == "周一 9-12" and s["windows"] == 3
    assert not s["modelled"]
    assert list(r.offering(out, "legal_aid")["id"]) == ["C"]
    assert list(r.offering(out, "mediation")["id"]) == ["C", "S", "R"]  # village room: committee
    assert list(r.coverage_points(out)["id"]) == ["C", "S"]
    # untouched points keep their tier's services and stay modelled
    assert bool(out[out["id"] == "C"].iloc[0]["modelled"])


def test_user_mediation_rooms_count_for_mediation_only(tmp_path: Path) -> None:
    lon, lat = line_county().service_points.geometry.iloc[2].coords[0]
    out = _override(
        tmp_path,
        f"id,tier,lon,lat,crs\nM1,律师个人调解室,{lon},{lat},WGS84\n"
        f"M2,村（社区）个人调解室,{lon},{lat},WGS84\n",
    )
    m = out[out["id"].isin(["M1", "M2"])]
    assert list(m["tier"]) == ["lawyer_mediation_room", "village_mediation_room"]
    assert list(m["services"]) == ["mediation", "mediation"]
    r = service_rules()
    assert {"M1", "M2"} <= set(r.offering(out, "mediation")["id"])
    assert not {"M1", "M2"} & set(r.coverage_points(out)["id"])
    assert not {"M1", "M2"} & set(r.offering(out, "legal_aid")["id"])


@pytest.mark.parametrize(
    ("text", "row", "field", "what"),
    [
        ("id,services\nC,consultation\nS,consultation;notary\n", 3, "services", "'notary'"),
        ("id,windows\nS,-1\n", 2, "windows", "whole number from 0"),
        ("id,staff\nS,1.5\n", 2, "staff", "whole number"),
        ("id,tier,lon,lat,crs\nX,prison,0,0,WGS84\n", 2, "tier", "unknown tier"),
    ],
)
def test_bad_cells_name_file_row_field(tmp_path: Path, text, row, field, what) -> None:
    with pytest.raises(DataFileError) as e:
        _override(tmp_path, text)
    assert e.value.row == row and e.value.field == field
    assert "sp.csv" in str(e.value) and what in str(e.value)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_template_round_trip(tmp_path: Path, suffix: str) -> None:
    sp = line_county().service_points
    path = write_service_points_template(sp, tmp_path / f"sp{suffix}")
    assert path.stat().st_mode & 0o777 == 0o644
    same = apply_service_overrides(sp, path, crs=None, outline=_outline())
    assert same["modelled"].all()  # an unchanged template changes nothing
    pd.testing.assert_frame_equal(
        template_table(same), template_table(sp), check_dtype=False, check_like=True
    )
    # fill one cell: the workstation stops accepting legal-aid applications
    t = template_table(sp)
    t.loc[t["id"] == "S", "services"] = "consultation;mediation"
    t.loc[t["id"] == "C", "windows"] = 8
    if suffix == ".xlsx":
        t.to_excel(path, index=False)
    else:
        t.to_csv(path, index=False)
    changed = apply_service_overrides(sp, path, crs=None, outline=_outline())
    assert list(service_rules().offering(changed, "legal_aid")["id"]) == ["C"]
    assert int(changed.loc[changed["id"] == "C", "windows"].iloc[0]) == 8
    assert list(changed.loc[~changed["modelled"].astype(bool), "id"]) == ["C", "S"]
    np.testing.assert_allclose(changed.geometry.x, sp.geometry.x)


@needs_shared
def test_template_cli_round_trip_on_huayuan(tmp_path: Path, huayuan_model) -> None:
    from doorstep.cli import main
    from doorstep.geo.model import ModelInputs, build_county_model

    out = tmp_path / "sp.xlsx"
    assert main(["-q", "template", "service-points", "--out", str(out)]) == 0
    t = pd.read_excel(out, dtype={"id": str, "phone": str, "town_code": str})
    assert len(t) == len(huayuan_model.service_points)
    assert set(pd.read_excel(out, sheet_name="help")["field"]) >= {"service: legal_aid"}
    same = build_county_model(inputs=ModelInputs(service_points=out))
    assert same.service_points["modelled"].all()
    sid = "433124102-S"
    t.loc[t["id"] == sid, "services"] = "法律咨询;人民调解"
    t.to_excel(out, index=False)
    edited = build_county_model(inputs=ModelInputs(service_points=out))
    aid = service_rules().offering(edited.service_points, "legal_aid")
    assert sid not in set(aid["id"]) and len(aid) == 12
    assert list(edited.service_points.loc[~edited.service_points["modelled"], "id"]) == [sid]
