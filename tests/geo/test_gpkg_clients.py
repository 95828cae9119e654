"""Output GeoPackages open right in GDAL clients: polygons only in service areas, area after the
clip, every layer converts to Shapefile and FlatGeobuf with all its features (issue 17)."""

from __future__ import annotations

import sqlite3
import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from doorstep.cli import main
from doorstep.geo.export import export_geopackage
from tests.conftest import needs_shared

pytestmark = needs_shared


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, huayuan_model):
    out = tmp_path_factory.mktemp("gpkg")
    assert main(["-q", "coverage", "--out", str(out / "coverage"), "--json"]) == 0
    assert main(["-q", "gaps", "--out", str(out / "gaps"), "--json", "--top", "3"]) == 0
    export_geopackage(huayuan_model, out / "model.gpkg")
    return out


def _files(out):
    return [out / "coverage" / "coverage.gpkg", out / "gaps" / "gaps.gpkg", out / "model.gpkg"]


def test_service_areas_are_polygons_with_area_after_clip(outputs, huayuan_model):
    areas = gpd.read_file(outputs / "coverage" / "coverage.gpkg", layer="service_areas")
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
    metric = areas.to_crs(huayuan_model.crs)
    np.testing.assert_allclose(areas["area_km2"], metric.area / 1e6, rtol=1e-9)
    county_km2 = float(huayuan_model.county.to_crs(huayuan_model.crs).area.iloc[0]) / 1e6
    assert (areas["area_km2"] <= county_km2 + 1e-6).all()


def test_every_layer_converts_to_shapefile_and_flatgeobuf(outputs, tmp_path):
    for gpkg in _files(outputs):
        for name, gtype in pyogrio.list_layers(gpkg):
            df = pyogrio.read_dataframe(gpkg, layer=name)
            if gtype is None:  # attribute table: no geometry column at all
                assert "geometry" not in df.columns
                continue
            for driver, ext in (("ESRI Shapefile", "shp"), ("FlatGeobuf", "fgb")):
                target = tmp_path / f"{gpkg.stem}-{name}.{ext}"
                with (
                    warnings.catch_warnings()
                ):  # Shapefile's own limits: 10-char names, 254-char text
                    warnings.simplefilter("ignore", RuntimeWarning)
                    pyogrio.write_dataframe(df, target, driver=driver)
                assert len(pyogrio.read_dataframe(target)) == len(df), (gpkg.name, name, driver)


def test_geopackages_are_version_1_2(outputs):
    for gpkg in _files(outputs):
        con = sqlite3.connect(gpkg)
        try:
            assert con.execute("pragma user_version").fetchone()[0] == 10200, gpkg.name
        finally:
            con.close()
