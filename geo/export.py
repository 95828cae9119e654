"""Write a county model to one GeoPackage (atomically) that QGIS opens."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from .atomic import atomic_path
from .network import edge_geometry

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
        geoms.append(edge_geometry(G, u, v, d))
    edf = pd.DataFrame(rows)
    for c in edf.columns:
        if edf[c].dtype == float:
            edf[c] = edf[c].replace(
                float("inf"), -1.0
            )  # GeoPackage has no infinity: -1 = impassable
    egdf = gpd.GeoDataFrame(edf, geometry=geoms, crs=G.graph["crs"]).to_crs("EPSG:4326")
    return ngdf, egdf


GPKG_VERSION = "1.2"
"""GeoPackage version written: 1.2 opens without warnings in QGIS 3.22 / GDAL 3.6 and passes
their validators (GDAL >= 3.8 writes 1.4 by default, which those versions flag)."""


def polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Keep only the polygon parts of each geometry (as MultiPolygon; empty stays empty).

    Clipping a polygon to an outline can return a GeometryCollection with line or point slivers
    along the shared boundary; QGIS draws nothing for such features and Shapefile cannot hold
    them. The slivers have no area, so dropping them changes no area.
    """

    def parts(g: shapely.Geometry | None) -> shapely.Geometry:
        if g is None or g.is_empty:
            return shapely.MultiPolygon()
        if isinstance(g, shapely.Polygon):
            return shapely.MultiPolygon([g])
        if isinstance(g, shapely.MultiPolygon):
            return g
        polys = [
            p for p in shapely.get_parts(g) if isinstance(p, shapely.Polygon | shapely.MultiPolygon)
        ]
        flat = [q for p in polys for q in (p.geoms if isinstance(p, shapely.MultiPolygon) else [p])]
        return shapely.MultiPolygon(flat)

    return gpd.GeoSeries([parts(g) for g in geoms], index=geoms.index, crs=geoms.crs)


def clip_polygons(
    gdf: gpd.GeoDataFrame, outline: gpd.GeoDataFrame, metric_crs: str
) -> gpd.GeoDataFrame:
    """Clip polygons to ``outline`` in ``metric_crs``; keep only polygon parts
    (:func:`polygonal`) and recompute ``area_km2`` *after* the clip. Returns EPSG:4326."""
    out = gdf.to_crs(metric_crs)
    mask = outline.to_crs(metric_crs).geometry.union_all()
    out["geometry"] = polygonal(out.geometry.intersection(mask))
    if "area_km2" in out.columns:
        out["area_km2"] = out.geometry.area / 1e6
    return out.to_crs("EPSG:4326")


def write_geopackage(
    target: str | Path,
    layers: dict[str, gpd.GeoDataFrame],
    tables: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write map layers and plain attribute tables to one GeoPackage, atomically.

    ``layers`` become feature tables; ``tables`` (no geometry) become GeoPackage *attribute*
    tables (``data_type = 'attributes'``), not map layers of empty geometries. The file is
    GeoPackage :data:`GPKG_VERSION`.
    """
    final = Path(target)
    items: list[tuple[str, pd.DataFrame]] = [*layers.items(), *(tables or {}).items()]
    with atomic_path(final) as tmp:
        for i, (name, df) in enumerate(items):
            opts = {"VERSION": GPKG_VERSION} if i == 0 else None
            pyogrio.write_dataframe(
                df, tmp, layer=name, driver="GPKG", dataset_options=opts, append=i > 0
            )
    return final


FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet treat a text cell as a formula (CSV injection)."""


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as formulas: a leading ``= + - @`` (or tab/CR) gets an
    apostrophe in front, the OWASP-recommended neutraliser; numbers and geometry are untouched."""
    out = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_LEAD) else v
            )
    return out


def write_csv(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a table as CSV for spreadsheets, atomically: UTF-8 with BOM (Excel on Chinese
    Windows reads it right), text cells neutralised (:func:`spreadsheet_safe`), no index."""
    final = Path(target)
    with atomic_path(final) as tmp:
        spreadsheet_safe(df).to_csv(tmp, index=False, encoding="utf-8-sig")
    return final


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
    meta = pd.DataFrame([{"layer": k, **v.as_dict()} for k, v in model.layers.items()])
    write_geopackage(final, layers, {"layer_sources": meta})
    log.info("wrote %s (%d layers)", final, len(layers) + 1)
    return final
