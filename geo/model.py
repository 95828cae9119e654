"""The county model: one object holding every layer Doorstep analyses.

:func:`build_county_model` reads the real layers (the bundled Huayuan default or a
:class:`~geo.sources.CountySource`), lets user files replace any of them
(:class:`ModelInputs`), models what is still missing (township polygons, imputed village points,
population, service points, roads — see :mod:`geo.modelled`, :mod:`geo.network`) and validates
the result. Every layer carries a :class:`~geo.sources.LayerInfo` saying where it came from and
whether it is real or modelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ._errors import DataFileError, InputError
from .coords import local_metric_crs
from .imputation import ImputationReport
from .modelled import impute_points, model_population, model_seats, township_polygons_from_points
from .params import ModelParams, ServiceDefaults
from .service_points import apply_service_overrides, model_service_points
from .sources import CensusFigures, CountySource, LayerInfo, huayuan_source
from .villages import apply_village_overrides, resolve_village_points

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInputs:
    """User files that replace layers of the default model (all optional).

    Attributes
    ----------
    boundary, townships
        Vector files (GeoPackage/GeoJSON/Shapefile); townships need a ``code`` column (9 digits).
    villages
        CSV/XLSX with code, name, lon, lat and a crs column (or ``crs``): surveyed points.
    population
        CSV/XLSX with code (village or township) and population.
    service_points
        CSV/XLSX overriding or adding service points (``id`` plus any fields; lon/lat/crs for moves).
    roads
        OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2).
    crs
        Coordinate system of tables without a crs column: "WGS84" or "GCJ02".
    """

    boundary: Path | None = None
    townships: Path | None = None
    villages: Path | None = None
    population: Path | None = None
    service_points: Path | None = None
    roads: Path | None = None
    crs: str | None = None


@dataclass
class CountyModel:
    """A county's spatial model. GeoDataFrames are WGS84; ``crs`` is the metric CRS for analysis."""

    code: str
    name: str
    vintage: str
    crs: str
    county: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    graph: nx.Graph
    census: CensusFigures
    layers: dict[str, LayerInfo] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    imputation: ImputationReport | None = None

    def to_metric(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Project a layer to the model's metric CRS (refuses layers without a CRS)."""
        if gdf.crs is None:
            raise InputError(
                "layer has no CRS; set it (e.g. gdf.set_crs('EPSG:4326')) before combining with the model"
            )
        return gdf.to_crs(self.crs)

    @property
    def area_km2(self) -> float:
        return float(self.county["area_km2"].iloc[0])

    def quality(self) -> dict[str, object]:
        """Real/modelled status of every layer and counts of imputed or suspect points."""
        lq = self.villages["location_quality"].value_counts().to_dict()
        return {
            "layers": {k: v.as_dict() for k, v in self.layers.items()},
            "village_location_quality": {str(k): int(v) for k, v in lq.items()},
            "imputation": None if self.imputation is None else self.imputation.as_dict(),
            "modelled_layers": sorted(k for k, v in self.layers.items() if v.modelled),
            "warnings": list(self.warnings),
        }

    def summary(self) -> dict[str, object]:
        """Counts, area, population, CRS and layer sources (what ``doorstep summary`` prints)."""
        sp = self.service_points["tier"].value_counts().to_dict()
        return {
            "county": {"code": self.code, "name": self.name},
            "vintage": self.vintage,
            "townships": len(self.townships),
            "villages": len(self.villages),
            "population": int(self.villages["population"].sum()),
            "population_units": "persons (2020 census residents)",
            "area_km2": round(self.area_km2, 1),
            "crs": {"storage": "EPSG:4326 (WGS84)", "metric": self.crs},
            "service_points": {str(k): int(v) for k, v in sp.items()},
            "roads": {
                "nodes": self.graph.number_of_nodes(),
                "edges": self.graph.number_of_edges(),
                "km": round(sum(d["length_m"] for *_, d in self.graph.edges(data=True)) / 1000, 1),
            },
            "quality": self.quality(),
        }


def _project(crs: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = t.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def _outline(
    source: CountySource, inputs: ModelInputs, layers: dict[str, LayerInfo]
) -> shapely.Geometry:
    if inputs.boundary is None:
        return source.outline.geometry.union_all()
    from .readers import read_vector

    gdf = read_vector(inputs.boundary, crs=inputs.crs)
    if not set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}:
        raise DataFileError(
            inputs.boundary,
            f"boundary must be polygons, found {sorted(set(gdf.geom_type))}",
            field="geometry",
            fix="give the county outline as a polygon layer",
        )
    layers["county"] = LayerInfo(f"user file {Path(inputs.boundary).name}", False)
    return gdf.geometry.union_all()


def _user_township_polygons(
    inputs: ModelInputs, codes: list[str], crs: str
) -> dict[str, shapely.Geometry]:
    from .readers import read_vector

    assert inputs.townships is not None
    gdf = read_vector(inputs.townships, crs=inputs.crs)
    col = next((c for c in ("code", "town_code", "adcode", "XZQDM") if c in gdf.columns), None)
    if col is None:
        raise DataFileError(
            inputs.townships,
            "no township code column",
            field="code",
            fix="add a 'code' column with the 9-digit NBS township code",
        )
    gdf["code"] = gdf[col].astype(str).str.strip().str[:9]
    unknown = sorted(set(gdf["code"]) - set(codes))
    if unknown:
        raise DataFileError(
            inputs.townships,
            f"codes {unknown[:5]} are not townships of this county",
            field="code",
            fix=f"use the township codes {codes[:3]}…",
        )
    missing = sorted(set(codes) - set(gdf["code"]))
    if missing:
        raise DataFileError(
            inputs.townships,
            f"townships {missing} have no polygon",
            field="code",
            fix="supply a polygon for every township",
        )
    gm = gdf.to_crs(crs)
    return {c: shapely.make_valid(gm[gm["code"] == c].geometry.union_all()) for c in codes}


def build_county_model(
    vintage: str = "2023",
    data: str | Path | None = None,
    inputs: ModelInputs | None = None,
    *,
    source: CountySource | None = None,
    params: ModelParams | None = None,
) -> CountyModel:
    """Build and validate a county model.

    Parameters
    ----------
    vintage
        ``"2023"`` (228 villages) or ``"2016"`` (241) for the Huayuan default.
    data
        Reference data folder (default :func:`geo.settings.data_dir`).
    inputs
        User files replacing layers (:class:`ModelInputs`).
    source
        Another county's raw inputs (e.g. from :func:`geo.hunan.hunan_county_source`); default Huayuan.
    params
        Modelling parameters (default ``data/params/*.toml``).
    """
    inputs = inputs or ModelInputs()
    params = params or ModelParams.from_files()
    src = source or huayuan_source(vintage, data)
    layers = dict(src.layers)
    warnings: list[str] = []
    outline_wgs = _outline(src, inputs, layers)
    c = outline_wgs.centroid
    crs = local_metric_crs(c.x, c.y)
    outline_m = gpd.GeoSeries([outline_wgs], crs="EPSG:4326").to_crs(crs).iloc[0]
    area_km2 = outline_m.area / 1e6

    villages = src.villages.copy().reset_index(drop=True)
    if inputs.villages is not None:
        villages = apply_village_overrides(villages, inputs.villages, crs=inputs.crs, layers=layers)
    villages["x"], villages["y"] = _project(
        crs, villages["lon"].to_numpy(float), villages["lat"].to_numpy(float)
    )
    inside = shapely.contains_xy(outline_m, villages["x"].to_numpy(), villages["y"].to_numpy())
    has = np.isfinite(villages["x"].to_numpy(float))
    outside = has & ~inside
    for i in np.flatnonzero(outside):
        msg = f"village {villages['code'].iloc[i]} {villages['name'].iloc[i]}: point lies outside the county; re-imputed"
        if villages["qa_flags"].iloc[i] == "surveyed":
            raise DataFileError(
                inputs.villages,
                f"surveyed point of {villages['code'].iloc[i]} lies outside the county",
                field="lon/lat",
                fix="check the coordinates and their crs (GCJ02 vs WGS84)",
            )
        warnings.append(msg)
        villages.loc[villages.index[i], "qa_flags"] = (
            villages["qa_flags"].iloc[i].replace("ok", "") + ";outside_county"
        )
    villages["usable"] = villages["qa_flags"].isin(["ok", "surveyed"]) & inside

    tw = src.townships.copy().reset_index(drop=True)
    tw["seat_x"], tw["seat_y"] = _project(
        crs, tw["seat_lon"].to_numpy(float), tw["seat_lat"].to_numpy(float)
    )
    tw["seat_note"] = ""
    seat_in = shapely.contains_xy(outline_m, tw["seat_x"].to_numpy(), tw["seat_y"].to_numpy())
    tw.loc[~seat_in, ["seat_x", "seat_y"]] = np.nan
    tw = model_seats(tw, villages)
    codes = tw["code"].tolist()
    seatless = ~np.isfinite(tw["seat_x"].to_numpy(float))
    if (
        seatless.any()
    ):  # townships with no located point at all: seat placed far from everything located
        known = np.vstack(
            [
                villages.loc[villages["usable"], ["x", "y"]].to_numpy(),
                tw.loc[~seatless, ["seat_x", "seat_y"]].to_numpy(),
            ]
        )
        pts = impute_points(outline_m, known, int(seatless.sum()), params.imputation_grid_m * 4)
        tw.loc[seatless, "seat_x"], tw.loc[seatless, "seat_y"] = pts[:, 0], pts[:, 1]
        tw.loc[seatless, "seat_note"] = (
            "no located point in this township: seat modelled in the least-covered part of the county"
        )
        warnings.append(
            f"{int(seatless.sum())} township(s) had no located point at all; their seats are modelled"
        )
    for i in np.flatnonzero(tw["seat_quality"].to_numpy() == "modelled"):
        warnings.append(
            f"township {tw['name'].iloc[i]} ({tw['code'].iloc[i]}) has no seat point in the sources: {tw['seat_note'].iloc[i]}"
        )

    if inputs.townships is not None:
        polys = _user_township_polygons(inputs, codes, crs)
        layers["townships"] = LayerInfo(f"user file {Path(inputs.townships).name}", False)
    else:
        gen = pd.concat(
            [
                villages.loc[villages["usable"], ["x", "y", "town_code"]],
                pd.DataFrame({"x": tw["seat_x"], "y": tw["seat_y"], "town_code": tw["code"]}),
            ],
            ignore_index=True,
        )
        polys = township_polygons_from_points(outline_m, gen, codes)
        layers["townships"] = LayerInfo(
            "modelled: Voronoi cells of located villages and seats, clipped to the county, dissolved by township",
            True,
            "no public township boundary source",
        )
    villages, imputation = resolve_village_points(villages, tw, polys, params.imputation, warnings)

    # population
    if inputs.population is not None:
        from .population import population_from_table

        villages["population"], psrc = population_from_table(
            inputs.population, villages, params.population
        )
        villages["population_source"] = "user"
        layers["population"] = LayerInfo(psrc, False)
    else:
        villages["population"] = model_population(
            villages, src.census.total_population, src.census.urban_share, params.population
        )
        villages["population_source"] = "modelled"
        layers["population"] = LayerInfo(
            f"modelled: census 2020 total {src.census.total_population:,} and urban share "
            f"{src.census.urban_share:.2%} spread over units by NBS urban-rural class (data/params/model.toml)",
            True,
            "no public village populations",
        )
    villages["urban"] = (villages["ur_code"] >= 100) & (villages["ur_code"] < 200)

    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    vlon, vlat = inv.transform(villages["x"].to_numpy(), villages["y"].to_numpy())
    town_name = dict(zip(tw["code"], tw["name"], strict=True))
    vgdf = gpd.GeoDataFrame(
        {
            "code": villages["code"].astype(str),
            "name": villages["name"],
            "town_code": villages["town_code"].astype(str),
            "town_name": villages["town_code"].map(town_name),
            "ur_code": villages["ur_code"].astype(int),
            "urban": villages["urban"].astype(bool),
            "location_quality": villages["location_quality"],
            "location_note": villages["location_note"],
            "uncertainty_m": villages["uncertainty_m"].astype(float),
            "qa_flags": villages["qa_flags"],
            "population": villages["population"].astype(int),
            "population_source": villages["population_source"],
        },
        geometry=gpd.points_from_xy(vlon, vlat),
        crs="EPSG:4326",
    )

    slon, slat = inv.transform(tw["seat_x"].to_numpy(), tw["seat_y"].to_numpy())
    pop_by_town = vgdf.groupby("town_code")["population"].sum()
    tgdf = gpd.GeoDataFrame(
        {
            "code": tw["code"],
            "name": tw["name"],
            "seat_lon": slon,
            "seat_lat": slat,
            "seat_quality": tw["seat_quality"],
            "seat_note": tw["seat_note"],
            "polygon_source": "official" if inputs.townships is not None else "modelled",
            "population": [int(pop_by_town.get(cd, 0)) for cd in tw["code"]],
            "villages": [int((vgdf["town_code"] == cd).sum()) for cd in tw["code"]],
        },
        geometry=gpd.GeoSeries([polys[cd] for cd in tw["code"]], crs=crs).to_crs("EPSG:4326"),
        crs="EPSG:4326",
    )
    county = gpd.GeoDataFrame(
        {"code": [src.code], "name": [src.name], "area_km2": [area_km2]},
        geometry=[outline_wgs],
        crs="EPSG:4326",
    )

    defaults = ServiceDefaults.from_file()
    sp = model_service_points(src, tgdf, vgdf, defaults, crs)
    layers["service_points"] = LayerInfo(
        "modelled: county centre and correction centre at the county seat, a workstation at each township seat, "
        "a room in every village (data/params/service_points.toml)",
        True,
        "no public list of service-point locations",
    )
    if inputs.service_points is not None:
        sp = apply_service_overrides(sp, inputs.service_points, crs=inputs.crs, outline=outline_wgs)
        layers["service_points"] = LayerInfo(
            f"modelled defaults edited by user file {Path(inputs.service_points).name}",
            bool(sp["modelled"].any()),
        )

    if inputs.roads is not None:
        from .osm import graph_from_osm

        G = graph_from_osm(inputs.roads, crs=crs, speeds=params.speeds)
        layers["roads"] = LayerInfo(G.graph["source"], False)
    else:
        G = _modelled_roads(vgdf, tgdf, src, crs, params, outline_m)
        layers["roads"] = LayerInfo(
            G.graph["source"], True, "no public road network; mountain circuity applied"
        )
    layers.setdefault("census", LayerInfo(src.census.source, False))

    model = CountyModel(
        code=src.code,
        name=src.name,
        vintage=src.vintage,
        crs=crs,
        county=county,
        townships=tgdf,
        villages=vgdf,
        service_points=sp,
        graph=G,
        census=src.census,
        layers=layers,
        warnings=warnings,
        imputation=imputation,
    )
    from .validate import validate_model

    validate_model(model)
    log.info(
        "county model %s %s: %d townships, %d villages, %d service points",
        src.code,
        src.name,
        len(tgdf),
        len(vgdf),
        len(sp),
    )
    return model


def _modelled_roads(
    vgdf: gpd.GeoDataFrame,
    tgdf: gpd.GeoDataFrame,
    src: CountySource,
    crs: str,
    params: ModelParams,
    outline_m: shapely.Geometry,
) -> nx.Graph:
    from .network import graph_from_points

    pts = pd.concat(
        [
            pd.DataFrame(
                {
                    "lon": vgdf.geometry.x,
                    "lat": vgdf.geometry.y,
                    "kind": "village",
                    "name": vgdf["name"],
                }
            ),
            pd.DataFrame(
                {
                    "lon": tgdf["seat_lon"],
                    "lat": tgdf["seat_lat"],
                    "kind": "seat",
                    "name": tgdf["name"] + "驻地",
                }
            ),
            pd.DataFrame(
                {
                    "lon": [src.county_seat[0]],
                    "lat": [src.county_seat[1]],
                    "kind": ["county_seat"],
                    "name": [src.name + "县城"],
                }
            ),
        ],
        ignore_index=True,
    )
    x, y = _project(crs, pts["lon"].to_numpy(), pts["lat"].to_numpy())
    key = np.round(x, 0).astype(np.int64) * 10_000_000 + np.round(y, 0).astype(np.int64)
    # coincident points share a node; the stronger kind wins (county_seat > seat > village)
    rank = pts["kind"].map({"county_seat": 0, "seat": 1, "village": 2}).to_numpy()
    order = np.lexsort((rank, key))
    _, first = np.unique(key[order], return_index=True)
    keep = np.sort(order[first])
    return graph_from_points(
        x[keep],
        y[keep],
        crs=crs,
        kinds=pts["kind"].to_numpy()[keep],
        names=pts["name"].to_numpy()[keep],
        params=params.network,
        speeds=params.speeds,
        within=outline_m,
    )
