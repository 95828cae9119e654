"""The Huayuan county model: counts, area, invariants of modelled layers."""

import networkx as nx
import numpy as np
import shapely

from doorstep.geo.params import MODES

from ..conftest import needs_data


def test_counts_and_population(huayuan_model):
    s = huayuan_model.summary()
    assert s["townships"] == 12
    assert s["villages"] == 228
    assert s["population"] == 249_238


def test_area_within_one_percent(huayuan_model):
    assert abs(huayuan_model.area_km2 - 1108.7) / 1108.7 < 0.01


def test_vintage_2016_has_241_villages(huayuan_model_2016):
    assert len(huayuan_model_2016.villages) == 241
    assert huayuan_model_2016.villages["population"].sum() == 249_238


def test_location_quality_values_and_imputation(huayuan_model):
    v = huayuan_model.villages
    assert set(v["location_quality"]) <= {"geocoded", "geocoded_suspect", "imputed", "surveyed"}
    # 67 units have no point at all; flagged collisions/far points rejected add to the imputed
    assert (v["location_quality"] == "imputed").sum() >= 67
    assert (v["location_quality"] == "geocoded").sum() == 149


def test_every_village_inside_county_and_own_township(huayuan_model):
    m = huayuan_model
    vm = m.to_metric(m.villages)
    tm = m.to_metric(m.townships).set_index("code")
    cm = m.to_metric(m.county).geometry.iloc[0]
    assert shapely.contains_xy(cm.buffer(1), vm.geometry.x, vm.geometry.y).all()
    for code, grp in vm.groupby("town_code"):
        assert shapely.contains_xy(
            tm.geometry[code].buffer(1), grp.geometry.x, grp.geometry.y
        ).all(), code


def test_township_polygons_tile_the_county(huayuan_model):
    m = huayuan_model
    tm = m.to_metric(m.townships)
    total = tm.area.sum() / 1e6
    assert abs(total - m.area_km2) < 0.5
    assert tm.geometry.union_all().area / 1e6 > m.area_km2 - 0.5


def test_imputation_is_deterministic(huayuan_model):
    from doorstep.geo.model import build_county_model

    again = build_county_model()
    a = huayuan_model.villages.geometry
    b = again.villages.geometry
    assert np.allclose(a.x, b.x) and np.allclose(a.y, b.y)


def test_graph_connected_and_times_positive(huayuan_model):
    G = huayuan_model.graph
    assert nx.is_connected(G)
    assert G.graph["modelled"] is True
    for *_, d in G.edges(data=True):
        assert d["length_m"] > 0
        for mode in MODES:
            assert d[f"time_{mode}"] > 0
        # walking is slower than driving on every modelled road
        assert d["time_walk"] > d["time_car"]


def test_service_points_tiers(huayuan_model):
    sp = huayuan_model.service_points
    counts = sp["tier"].value_counts()
    assert counts["county_centre"] == 1 and counts["correction_centre"] == 1
    assert counts["township_station"] == 12
    assert counts["village_room"] == 228
    assert (sp["phone"] == "12348").all()
    assert not sp.loc[sp["tier"] == "village_room", "staffed"].any()
    changle = sp[(sp["tier"] == "township_station") & (sp["town_code"] == "433124200")]
    # 长乐乡's seat is an OpenStreetMap node now: the workstation stands at a real seat point
    assert changle["location_quality"].iloc[0] == "modelled (town seat)"


def test_population_split_by_class(huayuan_model):
    v = huayuan_model.villages
    urban = v[v["urban"]]["population"].sum()
    # published township totals move people between townships; within each the modelled
    # urban-rural contrast is kept, so the urban share stays near the census 35.69 %
    assert abs(urban / 249_238 - 0.3569) < 0.015
    assert set(v["population_source"]) == {"modelled", "published_township"}


def test_layers_flag_real_and_modelled(huayuan_model):
    q = huayuan_model.quality()
    assert set(q["modelled_layers"]) == {"townships", "population", "service_points", "roads"}
    assert q["layers"]["county"]["status"] == "real"


def test_source_registry_matches_shared_files(huayuan_model):
    """The registered checksums match the reference files (a changed file would be reported)."""
    from doorstep.geo.sources import verify_registry

    assert verify_registry() == []


@needs_data
def test_registry_detects_changed_file(tmp_path, monkeypatch):
    import shutil

    from doorstep.geo.settings import data_dir
    from doorstep.geo.sources import verify_registry

    src = data_dir() / "huayuan"
    dst = tmp_path / "huayuan"
    shutil.copytree(src, dst)
    (dst / "huayuan_townships_codes_nbs2023.csv").write_text("code,name\n", encoding="utf-8")
    rows = verify_registry(tmp_path)
    assert [r["status"] for r in rows] == ["changed"]
