"""User files replacing layers: XLSX points, official boundary and township polygons, CLI summary."""

import json

import geopandas as gpd
import pandas as pd
import pytest

from doorstep.cli import main
from doorstep.geo._errors import DataFileError
from doorstep.geo.model import ModelInputs, build_county_model

from ..conftest import needs_shared

pytestmark = needs_shared


def test_xlsx_surveyed_points(tmp_path):
    p = tmp_path / "v.xlsx"
    pd.DataFrame(
        {
            "code": ["433124102202"],
            "name": ["豆旺村"],
            "lon": [109.37],
            "lat": [28.45],
            "crs": ["WGS84"],
        }
    ).to_excel(p, index=False)
    m = build_county_model(inputs=ModelInputs(villages=p))
    row = m.villages.set_index("code").loc["433124102202"]
    assert row["location_quality"] == "surveyed"


def test_official_township_polygons_replace_modelled(tmp_path, huayuan_model):
    """Supplying township polygons flips their status to official/real."""
    p = tmp_path / "townships.geojson"
    huayuan_model.townships[["code", "name", "geometry"]].to_file(p, driver="GeoJSON")
    m = build_county_model(inputs=ModelInputs(townships=p))
    assert (m.townships["polygon_source"] == "official").all()
    assert m.quality()["layers"]["townships"]["status"] == "real"


def test_township_polygons_missing_one(tmp_path, huayuan_model):
    p = tmp_path / "townships.geojson"
    huayuan_model.townships[["code", "name", "geometry"]].iloc[1:].to_file(p, driver="GeoJSON")
    with pytest.raises(DataFileError, match="no polygon"):
        build_county_model(inputs=ModelInputs(townships=p))


def test_boundary_without_crs_refused(tmp_path, huayuan_model):
    """A shapefile whose .prj was lost cannot be placed: refused, not guessed."""
    p = tmp_path / "b.shp"
    gpd.GeoDataFrame(geometry=huayuan_model.county.geometry.values, crs="EPSG:4326").to_file(p)
    p.with_suffix(".prj").unlink()
    with pytest.raises(DataFileError, match="no coordinate reference system"):
        build_county_model(inputs=ModelInputs(boundary=p))


def test_boundary_gcj02_declared_is_converted(tmp_path):
    from doorstep.geo.settings import data_dir

    src = data_dir() / "huayuan" / "huayuan_county_boundary_gcj02.geojson"
    m = build_county_model(inputs=ModelInputs(boundary=src, crs="GCJ02"))
    assert abs(m.area_km2 - 1108.7) / 1108.7 < 0.01
    assert m.quality()["layers"]["county"]["source"].startswith("user file")


def test_cli_summary_json(capsys):
    assert main(["summary", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["townships"] == 12 and out["villages"] == 228 and out["population"] == 249_238
    assert abs(out["area_km2"] - 1108.7) / 1108.7 < 0.01
    assert out["quality"]["layers"]["roads"]["status"] == "modelled"


def test_cli_summary_2016(capsys):
    assert main(["summary", "--json", "--vintage", "2016"]) == 0
    assert json.loads(capsys.readouterr().out)["villages"] == 241


def test_cli_bad_file_is_a_message_not_a_traceback(capsys, test_data):
    code = main(["summary", "--villages", str(test_data / "broken" / "duplicate_codes.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "duplicate code" in err and "Traceback" not in err
