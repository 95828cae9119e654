"""Streaming a (big) OSM extract clipped to an area: only the area's nodes are held, ways outside
are dropped, ways crossing the edge are cut there. ``test.osm.pbf`` lies outside China, so the
clip area is built around part of it."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely

from tests.conftest import SHARED, needs_shared

PBF = SHARED / "bench/roads/test.osm.pbf"
needs_pbf = pytest.mark.skipif(not PBF.exists(), reason="OSM test extract absent")


def _lonlat(G: nx.Graph) -> np.ndarray:
    return np.array([(d["lon"], d["lat"]) for _, d in G.nodes(data=True)])


@needs_pbf
def test_clip_keeps_only_the_area_and_cuts_ways_at_its_edge():
    from doorstep.geo.osm import _nodes_within, graph_from_osm

    full = graph_from_osm(PBF, largest_component=False)
    ll = _lonlat(full)
    mid = float(np.median(ll[:, 0]))
    clip = shapely.box(ll[:, 0].min() - 0.01, ll[:, 1].min() - 0.01, mid, ll[:, 1].max() + 0.01)
    # pass 1 holds only the nodes inside the clip, not the whole file's
    held = _nodes_within(PBF, clip)
    assert len(held) > 0 and all(lon <= mid for lon, _ in held.values())
    assert len(held) < len(_nodes_within(PBF, None))
    part = graph_from_osm(PBF, largest_component=False, clip=clip)
    pl = _lonlat(part)
    assert (pl[:, 0] <= mid).all()  # nothing outside the clip survives
    assert 0 < part.number_of_edges() < full.number_of_edges()
    assert {d["status"] for *_, d in part.edges(data=True)} == {"real"}
    # every edge of the full graph lying wholly inside the clip is kept (possibly split where
    # a cut way now ends), so the clipped graph has at least their length ...
    inside_km = sum(
        d["length_m"] for u, v, d in full.edges(data=True) if max(_geom_lons(full, u, v)) <= mid
    )
    part_km = sum(d["length_m"] for *_, d in part.edges(data=True))
    assert part_km >= inside_km - 1e-6
    # ... and ways crossing the edge were cut there: less than the whole file
    assert part_km < sum(d["length_m"] for *_, d in full.edges(data=True))


def _geom_lons(G: nx.Graph, u: int, v: int) -> list[float]:
    from pyproj import Transformer

    inv = Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True)
    xs, ys = G.edges[u, v]["geometry"].xy
    return list(inv.transform(np.asarray(xs), np.asarray(ys))[0])


@needs_pbf
def test_clip_far_away_gives_a_clear_error():
    from doorstep.geo._errors import DataFileError
    from doorstep.geo.osm import graph_from_osm

    huayuan = shapely.box(109.1, 28.1, 109.7, 28.7)
    with pytest.raises(DataFileError, match="inside the county outline plus margin"):
        graph_from_osm(PBF, clip=huayuan)


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="28.5800" lon="109.4600" version="1"/>
  <node id="2" lat="28.5500" lon="109.4500" version="1"/>
  <node id="3" lat="28.5200" lon="109.4400" version="1"/>
  <node id="4" lat="30.0000" lon="112.0000" version="1"/>
  <node id="5" lat="30.0100" lon="112.0100" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="secondary"/><tag k="ref" v="S1"/></way>
  <way id="11" version="1"><nd ref="4"/><nd ref="5"/><tag k="highway" v="primary"/></way>
</osm>
"""


@needs_shared
def test_user_osm_roads_replace_the_backbone_and_are_clipped(tmp_path):
    from doorstep.geo.model import ModelInputs, build_county_model

    p = tmp_path / "hunan.osm"
    p.write_text(OSM_XML, encoding="utf-8")
    m = build_county_model(inputs=ModelInputs(roads=p))
    real = [d for *_, d in m.graph.edges(data=True) if d["status"] == "real"]
    # only way 10 (inside the county) is real; way 11 (Yueyang, 300 km away) was dropped
    assert {d["road_class"] for d in real} == {"secondary"}
    assert {d["name"] for d in real} == {"S1"}
    assert max(d["lon"] for _, d in m.graph.nodes(data=True)) < 110
    km = m.summary()["roads"]
    assert km["real_km"] == pytest.approx(sum(d["length_m"] for d in real) / 1000, abs=0.05)
    # two straight segments, each 0.03° north x 0.01° east at 28.55° N on the WGS84 ellipsoid:
    # a degree of latitude M·π/180, of longitude N·cos φ·π/180 (M, N: radii of curvature)
    a, e2, phi = 6378.137, 0.00669438, math.radians(28.55)
    w = 1 - e2 * math.sin(phi) ** 2
    m_deg = a * (1 - e2) / w**1.5 * math.pi / 180
    n_deg = a / math.sqrt(w) * math.cos(phi) * math.pi / 180
    seg = math.hypot(0.03 * m_deg, 0.01 * n_deg)
    assert sum(d["length_m"] for d in real) / 1000 == pytest.approx(2 * seg, abs=0.002)
    assert "hunan.osm" in m.layers["roads"].source
