"""Write a county model to one GeoPackage (atomically) that QGIS opens."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from .atomic import atomic_path

if TYPE_CHECKING:
    from .model import CountyModel

log = logging.getLogger(__name__)


def graph_to_gdfs(model: CountyModel) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Road graph as (nodes, edges) GeoDataFrames in WGS84."""
    G = model.graph
    nodes = pd.DataFrame(
        [
            {"node": n, **{k: v for k, v in d.items() if k not in ("x", "y")}}
            for n, d in G.nodes(data=True)
        ]
    )
    ngdf = gpd.GeoDataFrame(
        nodes, geometry=gpd.points_from_xy(nodes["lon"], nodes["lat"]), crs="EPSG:4326"
    )
    rows, geoms = [], []
    for u, v, d in G.edges(data=True):
        rows.append({"u": u, "v": v, **{k: val for k, val in d.items() if k != "geometry"}})
        geoms.append(
            d.get("geometry")
            or shapely.LineString(
                [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
            )
        )
    edf = pd.DataFrame(rows)
    for c in edf.columns:
        if edf[c].dtype == float:
            edf[c] = edf[c].replace(
                float("inf"), -1.0
            )  # GeoPackage has no infinity: -1 = impassable
    egdf = gpd.GeoDataFrame(edf, geometry=geoms, crs=G.graph["crs"]).to_crs("EPSG:4326")
    return ngdf, egdf


def export_geopackage(model: CountyModel, target: str | Path) -> Path:
    """Write county, townships, villages, service points, road nodes/edges and layer sources.

    The file is written under a temporary name and renamed, so an interrupted export never leaves
    a half-written GeoPackage (an existing file stays intact).
    """
    final = Path(target)
    nodes, edges = graph_to_gdfs(model)
    layers = {
        "county": model.county,
        "townships": model.townships,
        "villages": model.villages,
        "service_points": model.service_points,
        "road_nodes": nodes,
        "road_edges": edges,
    }
    with atomic_path(final) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG")
        meta = pd.DataFrame([{"layer": k, **v.as_dict()} for k, v in model.layers.items()])
        gpd.GeoDataFrame(meta, geometry=[None] * len(meta), crs="EPSG:4326").to_file(
            tmp, layer="layer_sources", driver="GPKG"
        )
    log.info("wrote %s (%d layers)", final, len(layers) + 1)
    return final
