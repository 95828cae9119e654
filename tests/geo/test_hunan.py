"""Hunan county sources from the NBS 2016 code lists and Amap outlines (geo.hunan)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.coords import gcj02_to_wgs84
from doorstep.geo.hunan import hunan_county_source, list_hunan_counties
from doorstep.geo.model import build_county_model
from tests.conftest import DATA as SHARED

pytestmark = pytest.mark.needs_data("hunan-adcode", "hunan-fences")


def _copy(tmp: Path, *codes: str) -> Path:
    """A data folder under tmp with copies of the given county files (+ their outlines)."""
    a, f = tmp / "hunan-adcode", tmp / "hunan-fences"
    a.mkdir(parents=True, exist_ok=True)
    f.mkdir(parents=True, exist_ok=True)
    for c in codes:
        shutil.copy(SHARED / "hunan-adcode" / f"{c}.csv", a / f"{c}.csv")
        if (SHARED / "hunan-fences" / f"{c}.json").exists():
            shutil.copy(SHARED / "hunan-fences" / f"{c}.json", f / f"{c}.json")
    return tmp


def _edit(path: Path, code_prefix: str, col: int, value: str) -> None:
    """Set column ``col`` of every row whose code starts with ``code_prefix``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        f = line.split(",")
        if f[0].startswith(code_prefix):
            f[col] = value
        out.append(",".join(f))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_counts_match_the_file_guzhang() -> None:
    # 433126 古丈县: 7 town rows and 121 village rows, 83 of them geocoded (counted with awk)
    s = hunan_county_source("433126")
    assert s.name == "古丈县"
    assert len(s.townships) == 7
    assert len(s.villages) == 121
    assert int(np.isfinite(s.villages["lon"]).sum()) == 83
    assert set(s.villages["town_code"]) <= set(s.townships["code"])
    assert s.townships["code"].str.len().eq(9).all()
    assert s.census.source.startswith("modelled")
    assert s.layers["census"].modelled


def test_points_are_converted_from_gcj02() -> None:
    s = hunan_county_source("430412")  # 南岳区: 3 towns, 25 villages
    assert (len(s.townships), len(s.villages)) == (3, 25)
    # county row: 112.7xx / 27.2xx GCJ-02 in the file; the source holds WGS84
    row = (SHARED / "hunan-adcode" / "430412.csv").read_text(encoding="utf-8").splitlines()[0]
    lon_g, lat_g = (float(x) for x in row.split(",")[12:14])
    lon_w, lat_w = gcj02_to_wgs84(np.array([lon_g]), np.array([lat_g]))
    assert s.county_seat == pytest.approx((float(lon_w[0]), float(lat_w[0])), abs=1e-9)
    shift_m = np.hypot((lon_g - s.county_seat[0]) * 98_800, (lat_g - s.county_seat[1]) * 111_000)
    assert 200 < shift_m < 800  # the GCJ-02 offset in Hunan is a few hundred metres


def test_huayuan_uses_the_real_census() -> None:
    s = hunan_county_source("433124")
    assert s.census.total_population == 249_238
    assert not s.layers["census"].modelled


def test_modelled_population_spreads_the_province_total(tmp_path: Path) -> None:
    # with only two counties in the data folder, their modelled totals add up to the province
    d = _copy(tmp_path, "430412", "430382")
    a = hunan_county_source("430412", data=d).census.total_population
    b = hunan_county_source("430382", data=d).census.total_population
    assert abs(a + b - 66_444_864) <= 1
    # both are unit counts x class weights: 25 vs 38 units, so b > a
    assert b > a > 0


def test_list_counties_reports_the_left_out_files() -> None:
    codes, skipped = list_hunan_counties()
    assert len(codes) == 122
    assert "433124" in codes and "430104" in codes
    assert "no township rows" in skipped["430101"]
    assert "not a county-level unit" in skipped["430000"]
    assert not set(codes) & set(skipped)


def test_no_town_rows_is_a_clear_error() -> None:
    with pytest.raises(DataFileError, match=r"430101\.csv.*no township rows"):
        hunan_county_source("430101")


def test_bad_code_is_an_input_error() -> None:
    with pytest.raises(InputError, match="6 digits starting with 43"):
        hunan_county_source("4331")


def test_garbage_coordinate_names_row_and_field(tmp_path: Path) -> None:
    d = _copy(tmp_path, "430412")
    _edit(d / "hunan-adcode" / "430412.csv", "430412001003", 12, "11x.7")
    with pytest.raises(DataFileError) as e:
        hunan_county_source("430412", data=d)
    assert e.value.field == "lon_gcj02"
    assert e.value.row == 6  # 1 county + 3 town rows + 430412001002 before it
    assert "11x.7" in str(e.value)


def test_missing_outline_is_a_clear_error(tmp_path: Path) -> None:
    d = _copy(tmp_path, "430412")
    (d / "hunan-fences" / "430412.json").unlink()
    with pytest.raises(DataFileError, match="county outline not found"):
        hunan_county_source("430412", data=d)


def test_outline_not_json_is_a_clear_error(tmp_path: Path) -> None:
    d = _copy(tmp_path, "430412")
    (d / "hunan-fences" / "430412.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a readable GeoJSON"):
        hunan_county_source("430412", data=d)


def test_multipolygon_outline_builds() -> None:
    s = hunan_county_source("430104")  # 岳麓区: outline is a MultiPolygon
    assert s.outline.geometry.iloc[0].geom_type == "MultiPolygon"
    m = build_county_model(source=s)
    assert len(m.villages) == len(s.villages)
    om = m.to_metric(m.county).geometry.iloc[0].buffer(1.0)
    vm = m.to_metric(m.villages)
    assert shapely.contains_xy(om, vm.geometry.x.to_numpy(), vm.geometry.y.to_numpy()).all()


def test_town_without_any_point_gets_a_modelled_seat(tmp_path: Path) -> None:
    # 寿岳乡 (430412203): its 5 villages have no geocode; blank the town row's point as well
    d = _copy(tmp_path, "430412")
    p = d / "hunan-adcode" / "430412.csv"
    _edit(p, "430412203", 12, "")
    _edit(p, "430412203", 13, "")
    s = hunan_county_source("430412", data=d)
    t = s.townships.set_index("code")
    assert np.isnan(t.loc["430412203", "seat_lon"])
    m = build_county_model(source=s)
    tw = m.townships.set_index("code")
    assert tw.loc["430412203", "seat_quality"] == "modelled"
    mine = m.villages[m.villages["town_code"] == "430412203"]
    assert len(mine) == 5
    assert (mine["location_quality"] == "imputed").all()
    assert m.villages["population"].sum() == s.census.total_population
