"""The bad-input corpus: every broken file gives a clear error naming file/row/field, never a
traceback, and no output file is left behind — through the library and through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from doorstep.cli import main
from doorstep.geo._errors import CRSError, DataFileError
from doorstep.geo.coords import wgs84_to_gcj02
from doorstep.geo.crscheck import GCJ02_MISLABEL_MESSAGE, check_gcj02_mislabel
from doorstep.geo.model import ModelInputs, build_county_model
from doorstep.geo.readers import (
    MAX_TABLE_BYTES,
    points_table_to_gdf,
    read_population_table,
    read_table,
)
from doorstep.geo.settings import PROJECT_ROOT

from ..conftest import needs_shared

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken"

# file -> (option that loads it, row, field, words the message must contain)
EXPECTED: dict[str, tuple[str, int | None, str | None, str]] = {
    "bom_only.csv": ("villages", None, None, "no header row"),
    "code_gbk_bad_row.csv": ("villages", 2, "lat", "not a number ('二十八')"),
    "crs_label_web_mercator.csv": ("villages", 2, "crs", "unknown coordinate system 'EPSG:3857'"),
    "duplicate_codes.csv": ("villages", 2, "code", "duplicate code 433124102201 (rows [2, 3])"),
    "duplicate_codes_gbk.csv": ("villages", 2, "code", "duplicate code 433124102201"),
    "empty.csv": ("villages", None, None, "file is empty"),
    "empty_coordinate.csv": ("villages", 2, "lon", "NaN/empty"),
    "gcj02_labelled_wgs84.csv": ("villages", 2, "crs", GCJ02_MISLABEL_MESSAGE),
    "gcj02_labelled_wgs84_service.csv": ("service-points", 2, "crs", GCJ02_MISLABEL_MESSAGE),
    "inf_coordinate.csv": ("villages", 2, "lon", "not a number (inf)"),
    "missing_column.csv": ("villages", None, "lon", "missing column(s) ['lon']"),
    "nan_coordinate.csv": ("villages", 2, "lat", "NaN/empty"),
    "negative_population.csv": ("population", 2, "population", "population -5 is not"),
    "no_crs.csv": ("villages", None, "crs", "coordinate system is not stated"),
    "nonnumeric_coordinate.csv": ("villages", 2, "lon", "not a number ('abc')"),
    "not_a_workbook.xlsx": ("villages", None, None, "cannot read as an Excel workbook"),
    "outside_county.csv": ("villages", None, "lon/lat", "lies outside the county"),
    "population_absurd.csv": ("population", 2, "population", "implausible"),
    "population_bad_code.csv": ("population", 3, "code", "'43312410' is neither"),
    "population_inf.csv": ("population", 3, "population", "population inf is not"),
    "service_negative_staff.csv": ("service-points", 2, "staff", "staff -5 must be"),
    "swapped_lonlat.csv": ("villages", 2, "lat", "109.3494 is outside -90..90"),
    "truncated.geojson": ("boundary", None, None, "cannot read as a vector file"),
    "truncated_midrow.csv": ("villages", 3, "lat", "looks truncated"),
    "unknown_code.csv": ("villages", 2, "code", "999999999999 is not in the 228-unit"),
    "unknown_crs.csv": ("villages", 2, "crs", "unknown coordinate system 'BEIJING54'"),
    "utf16.csv": ("villages", None, None, "neither UTF-8 nor GBK"),
}


def test_corpus_is_fully_described():
    """Every file in the corpus has an expectation here (and vice versa)."""
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


def _inputs(option: str, path: Path) -> ModelInputs:
    field = {"service-points": "service_points"}.get(option, option)
    return ModelInputs(**{field: path})


@needs_shared
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_model_refuses_with_row_and_field(name):
    option, row, field, words = EXPECTED[name]
    with pytest.raises(DataFileError) as info:
        build_county_model(inputs=_inputs(option, BROKEN / name))
    err = info.value
    assert err.path is not None and Path(err.path).name == name
    assert err.row == row
    assert err.field == field
    assert words in str(err)
    assert "fix:" in str(err)


def test_good_gbk_file_reads():
    gdf = points_table_to_gdf(DATA / "good" / "villages_gbk.csv")
    assert list(gdf["name"]) == ["土地村"]
    assert gdf.geometry.x.iloc[0] == pytest.approx(109.3494)


def test_crlf_and_final_line_break_optional(tmp_path):
    """A complete last row without a final newline is fine; only a short last row is refused."""
    p = tmp_path / "v.csv"
    p.write_bytes(b"code,name,lon,lat,crs\r\n1,a,109.35,28.47,WGS84")
    assert len(points_table_to_gdf(p)) == 1
    p.write_bytes(b"code,name,lon,lat,crs\r\n1,a,109.35,28.47,\r\n")
    with pytest.raises(CRSError):  # empty crs on a complete row: a different, named error
        points_table_to_gdf(p)


def test_huge_table_refused_before_reading(tmp_path):
    p = tmp_path / "huge.csv"
    with open(p, "wb") as fh:  # sparse file: > limit on paper, no disk used, instant
        fh.write(b"code,name,lon,lat,crs\n")
        fh.truncate(MAX_TABLE_BYTES + 1)
    with pytest.raises(DataFileError) as info:
        read_table(p)
    assert f"larger than {MAX_TABLE_BYTES // 2**20} MB" in str(info.value)


def test_population_reader_row_numbers():
    with pytest.raises(DataFileError) as info:
        read_population_table(BROKEN / "population_inf.csv")
    assert (info.value.row, info.value.field) == (3, "population")


# --- GCJ-02 labelled as WGS84 -------------------------------------------------------------


def test_gcj02_check_synthetic():
    ref_lon = np.array([109.35, 109.40, 109.38])
    ref_lat = np.array([28.47, 28.51, 28.49])
    glon, glat = wgs84_to_gcj02(ref_lon, ref_lat)
    with pytest.raises(CRSError) as info:
        check_gcj02_mislabel("x.csv", glon, glat, ["WGS84"] * 3, ref_lon, ref_lat)
    assert info.value.row == 2 and info.value.field == "crs"
    # the same points correctly labelled GCJ02 are not checked
    check_gcj02_mislabel("x.csv", glon, glat, ["GCJ02"] * 3, ref_lon, ref_lat)
    # genuine surveys: 50 m and 2 km from the reference, in random directions -> accepted
    rng = np.random.default_rng(1)
    for dist_m in (50.0, 2000.0):
        ang = rng.uniform(0, 2 * np.pi, 3)
        lon = ref_lon + dist_m * np.cos(ang) / (111_320 * np.cos(np.radians(ref_lat)))
        lat = ref_lat + dist_m * np.sin(ang) / 110_540
        check_gcj02_mislabel("x.csv", lon, lat, ["WGS84"] * 3, ref_lon, ref_lat)
    # one shifted point of three is a warning, not an error (majority rule)
    lon = np.array([glon[0], ref_lon[1], ref_lon[2]])
    lat = np.array([glat[0], ref_lat[1], ref_lat[2]])
    check_gcj02_mislabel("x.csv", lon, lat, ["WGS84"] * 3, ref_lon, ref_lat)
    # no reference -> nothing to compare
    nan = np.full(3, np.nan)
    check_gcj02_mislabel("x.csv", glon, glat, ["WGS84"] * 3, nan, nan)


@needs_shared
def test_same_points_labelled_gcj02_are_accepted(tmp_path):
    text = (BROKEN / "gcj02_labelled_wgs84.csv").read_text(encoding="utf-8")
    p = tmp_path / "v.csv"
    p.write_text(text.replace("WGS84", "GCJ02"), encoding="utf-8")
    m = build_county_model(inputs=ModelInputs(villages=p))
    v = m.villages.set_index("code").loc["433124102201"]
    assert v["location_quality"] == "surveyed"
    # GCJ-02 (109.354178, 28.470152) -> WGS84 reference (109.349382, 28.473379), to ~1 m
    assert v.geometry.x == pytest.approx(109.349382, abs=2e-5)
    assert v.geometry.y == pytest.approx(28.473379, abs=2e-5)


# --- through the command line -------------------------------------------------------------

CLI_CASES = [
    ("villages", "gcj02_labelled_wgs84.csv"),
    ("villages", "truncated_midrow.csv"),
    ("villages", "code_gbk_bad_row.csv"),
    ("villages", "duplicate_codes.csv"),
    ("villages", "outside_county.csv"),
    ("villages", "inf_coordinate.csv"),
    ("population", "population_absurd.csv"),
    ("service-points", "service_negative_staff.csv"),
    ("boundary", "truncated.geojson"),
    ("villages", "empty.csv"),
]


@needs_shared
@pytest.mark.parametrize(("option", "name"), CLI_CASES, ids=[c[1] for c in CLI_CASES])
def test_cli_export_refuses_broken_input(option, name, tmp_path, capsys):
    out = tmp_path / "model.gpkg"
    code = main(["-q", "export", str(out), f"--{option}", str(BROKEN / name)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"doorstep: 错误 error: file {BROKEN / name}" in err
    assert EXPECTED[name][3] in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no output, not even a temporary file


@needs_shared
def test_cli_huge_file(tmp_path, capsys):
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.write(b"code,name,lon,lat,crs\n")
        fh.truncate(MAX_TABLE_BYTES + 1024)
    code = main(["-q", "summary", "--villages", str(big)])
    err = capsys.readouterr().err
    assert code == 2 and "larger than 200 MB" in err and "Traceback" not in err


@needs_shared
def test_cli_missing_output_folder(tmp_path, capsys):
    code = main(["-q", "export", str(tmp_path / "no" / "such" / "dir" / "m.gpkg")])
    err = capsys.readouterr().err
    assert code == 2 and "output folder does not exist" in err


@needs_shared
def test_cli_subprocess_no_traceback(tmp_path):
    """The real console entry point: exit 2, one message on stderr, nothing on stdout."""
    out = tmp_path / "m.gpkg"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "doorstep.cli",
            "export",
            str(out),
            "--villages",
            str(BROKEN / "gcj02_labelled_wgs84.csv"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 2
    assert GCJ02_MISLABEL_MESSAGE in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


ABSURD = [
    (["site", "--add", "1000000"], "add = 1000000 new sites is impossible: there are 228"),
    (["site", "--minutes", "-5"], "--minutes must be in (0, 600] minutes, got -5.0"),
    (["site", "--minutes", "nan"], "--minutes must be in (0, 600] minutes, got nan"),
    (["coverage", "--minutes", "-5"], "--minutes must be in (0, 600] minutes, got -5.0"),
    (["coverage", "--urban-minutes", "inf"], "--urban-minutes must be in (0, 600] minutes"),
    (["gaps", "--minutes", "1e9"], "--minutes must be in (0, 600] minutes, got 1000000000.0"),
]


@needs_shared
@pytest.mark.parametrize(("argv", "words"), ABSURD, ids=[" ".join(a) for a, _ in ABSURD])
def test_cli_absurd_values(argv, words, capsys):
    """k = 10⁶ and minutes = −5 / NaN / ∞ are refused up front (k = 10⁶ used to run for ever)."""
    code = main(["-q", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "Traceback" not in err


def test_candidate_costs_are_numbers_and_blank_counts_one(tmp_path):
    """A candidate table's ``cost``: an empty cell counts 1; a word or a negative number is
    refused on its row (it used to become 1 silently, or fail later without a row)."""
    from doorstep.geo.readers import read_candidates

    head = "code,name,lon,lat,crs,cost\n"
    good = tmp_path / "cand.csv"
    good.write_text(head + "A1,甲,109.48,28.58,WGS84,2.5\nA2,乙,109.50,28.60,WGS84,\n")
    assert read_candidates(good)["cost"].tolist() == [2.5, 1.0]
    for body, row, shown in (
        ("A1,甲,109.48,28.58,WGS84,abc\n", 2, "'abc'"),
        ("A1,甲,109.48,28.58,WGS84,1\nA2,乙,109.50,28.60,WGS84,-3\n", 3, "-3"),
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(head + body)
        with pytest.raises(DataFileError) as info:
            read_candidates(bad)
        assert (info.value.row, info.value.field) == (row, "cost")
        assert f"cost {shown} is not a number >= 0" in str(info.value) and "bad.csv" in str(
            info.value
        )
