"""Loaders with good and deliberately broken files; user overrides; OSM import; GeoPackage export."""

from pathlib import Path

import pyogrio
import pytest

from doorstep.geo._errors import DataFileError, DoorstepError
from doorstep.geo.model import ModelInputs, build_county_model
from doorstep.geo.readers import points_table_to_gdf, read_population_table, read_vector

from ..conftest import SHARED, needs_shared

BROKEN = Path(__file__).parent.parent / "data" / "broken"


def _load_any(path: Path):
    name = path.name
    if "population" in name:
        return read_population_table(path)
    if path.suffix == ".geojson":
        return read_vector(path)
    if name.startswith("service"):
        return build_county_model(inputs=ModelInputs(service_points=path))
    if name in ("outside_county.csv", "unknown_code.csv") or name.startswith("gcj02_"):
        if "service" in name:
            return build_county_model(inputs=ModelInputs(service_points=path))
        return build_county_model(inputs=ModelInputs(villages=path))
    return points_table_to_gdf(path)


@needs_shared
@pytest.mark.parametrize("path", sorted(BROKEN.iterdir()), ids=lambda p: p.name)
def test_broken_input_gives_clear_error(path):
    """Every broken file is refused with a DataFileError naming the file (never a traceback)."""
    with pytest.raises(DoorstepError) as info:
        _load_any(path)
    msg = str(info.value)
    assert path.name in msg
    assert "fix:" in msg or "file" in msg


def test_row_and_field_named():
    with pytest.raises(DataFileError) as info:
        points_table_to_gdf(BROKEN / "nonnumeric_coordinate.csv")
    assert info.value.row == 2 and info.value.field == "lon"


def test_gbk_csv_read(test_data):
    gdf = points_table_to_gdf(test_data / "good" / "villages_gbk.csv")
    assert gdf["name"].iloc[0] == "土地村"


def test_gcj02_column_converted(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("code,name,lon,lat,crs\n1,a,109.399394,28.48482,GCJ02\n", encoding="utf-8")
    gdf = points_table_to_gdf(p)
    assert abs(gdf.geometry.x.iloc[0] - 109.39452) < 1e-5
    assert abs(gdf.geometry.y.iloc[0] - 28.487991) < 1e-5


@needs_shared
def test_surveyed_override(test_data):
    m = build_county_model(
        inputs=ModelInputs(villages=test_data / "good" / "villages_surveyed.csv")
    )
    v = m.villages.set_index("code")
    assert v.loc["433124102202", "location_quality"] == "surveyed"
    assert abs(v.loc["433124102202"].geometry.x - 109.37) < 1e-9


@needs_shared
def test_population_table_by_township(tmp_path, huayuan_model):
    rows = ["code,population"] + [
        f"{c},{1000 + i}" for i, c in enumerate(huayuan_model.townships["code"])
    ]
    p = tmp_path / "pop.csv"
    p.write_text("\n".join(rows), encoding="utf-8")
    m = build_county_model(inputs=ModelInputs(population=p))
    by_t = m.villages.groupby("town_code")["population"].sum()
    for i, c in enumerate(huayuan_model.townships["code"]):
        assert by_t[c] == 1000 + i
    assert m.quality()["layers"]["population"]["status"] == "real"


@needs_shared
def test_service_point_edit(tmp_path):
    p = tmp_path / "sp.csv"
    p.write_text(
        "id,staff,hours_per_month,phone\n433124102-S,5,880,0743-7221234\n", encoding="utf-8"
    )
    m = build_county_model(inputs=ModelInputs(service_points=p))
    row = m.service_points.set_index("id").loc["433124102-S"]
    assert row["staff"] == 5 and row["hours_per_month"] == 880.0 and row["phone"] == "0743-7221234"
    assert not row["modelled"]


@pytest.mark.skipif(
    not (SHARED / "bench/roads/test.osm.pbf").exists(), reason="OSM test extract absent"
)
def test_osm_import():
    from doorstep.geo.osm import graph_from_osm

    G = graph_from_osm(SHARED / "bench/roads/test.osm.pbf")
    assert G.number_of_nodes() == 330 and G.number_of_edges() == 375
    assert G.graph["modelled"] is False
    for *_, d in G.edges(data=True):
        assert abs(d["geometry"].length - d["length_m"]) < 1e-6
        assert d["time_walk"] > 0


def test_osm_garbage_rejected(tmp_path):
    from doorstep.geo.osm import graph_from_osm

    p = tmp_path / "x.osm.pbf"
    p.write_bytes(b"not a pbf")
    with pytest.raises(DataFileError):
        graph_from_osm(p)


@needs_shared
def test_export_geopackage(tmp_path, huayuan_model):
    from doorstep.geo.export import export_geopackage

    out = export_geopackage(huayuan_model, tmp_path / "model.gpkg")
    names = [n for n, _ in pyogrio.list_layers(out)]
    assert {
        "county",
        "townships",
        "villages",
        "service_points",
        "road_edges",
        "layer_sources",
    } <= set(names)
    assert pyogrio.read_info(out, layer="villages")["features"] == 228
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
