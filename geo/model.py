"""The county model: one object holding every layer Doorstep analyses.

:func:`build_county_model` reads the real layers (the bundled Huayuan default or a
:class:`~geo.sources.CountySource`), lets user files replace any of them
(:class:`ModelInputs`), models what is still missing (township polygons, imputed village points,
population where nothing is published, service points, local roads joined to the real main
roads — see :mod:`geo.modelled`, :mod:`geo.population`, :mod:`geo.network`) and validates
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
from .params import ModelParams
from .population import PublishedShare
from .service_points import apply_service_overrides, model_service_points
from .services import service_rules
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
        OpenStreetMap extract (.osm.pbf/.osm/.osm.bz2), any size: streamed and clipped to the
        outline plus ``[backbone] margin_km``; its roads replace the source's main roads as the
        real backbone (``status = "real"``).
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
    published_facts: Path | None = None
    """The published-facts table the model drew on (for validation against the outside world)."""

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
            "seats": self.seat_sources(),
            "warnings": list(self.warnings),
        }

    def seat_sources(self) -> list[dict[str, object]]:
        """Per township: the seat's source and, where a second source has one, the distance (km)."""
        t = self.townships
        get = t.get
        alt = get("alt_seat_source", pd.Series("", index=t.index)).fillna("")
        km = get("seat_sources_km", pd.Series(np.nan, index=t.index))
        return [
            {
                "code": str(t["code"].iloc[i]),
                "name": str(t["name"].iloc[i]),
                "lon": round(float(t["seat_lon"].iloc[i]), 6),
                "lat": round(float(t["seat_lat"].iloc[i]), 6),
                "source": str(get("seat_source", t["seat_quality"]).iloc[i]),
                "quality": str(t["seat_quality"].iloc[i]),
                "other_source": str(alt.iloc[i]) or None,
                "distance_between_sources_km": (
                    round(float(km.iloc[i]), 3) if np.isfinite(km.iloc[i]) else None
                ),
            }
            for i in range(len(t))
        ]

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
            "roads": self.road_summary(),
            "seats": self.seat_sources(),
            "township_population": self.township_population(),
            "quality": self.quality(),
        }

    def road_summary(self) -> dict[str, object]:
        """Nodes, edges and km of the road graph, split by ``status`` (in total and inside the county)."""
        from .network import road_km

        km = road_km(self.graph)
        inside = road_km(self.graph, within=self.to_metric(self.county).geometry.iloc[0])
        return {
            "nodes": self.graph.number_of_nodes(),
            "edges": self.graph.number_of_edges(),
            "km": round(sum(km.values()), 1),
            "real_km": round(km["real"], 1),
            "modelled_km": round(km["modelled"], 1),
            "inside_county_km": {k: round(v, 1) for k, v in inside.items()},
            "edges_by_status": {
                st: sum(1 for *_, d in self.graph.edges(data=True) if d.get("status") == st)
                for st in ("real", "modelled")
            },
            "modelled_access_roads": sum(
                1 for *_, d in self.graph.edges(data=True) if "access road" in str(d.get("name"))
            ),
            "modelled_links_dropped_along_real_roads": int(
                self.graph.graph.get("corridor_links_dropped", 0)
            ),
            "source": self.layers["roads"].source if "roads" in self.layers else "",
        }

    def township_population(self) -> list[dict[str, object]]:
        """Per township: population, ``population_source`` (published/modelled/user) and basis."""
        t = self.townships
        src = t.get("population_source", pd.Series("modelled", index=t.index))
        basis = t.get("population_basis", pd.Series("", index=t.index))
        return [
            {
                "code": str(t["code"].iloc[i]),
                "name": str(t["name"].iloc[i]),
                "population": int(t["population"].iloc[i]),
                "population_source": str(src.iloc[i]),
                "basis": str(basis.iloc[i]),
            }
            for i in range(len(t))
        ]


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


@dataclass
class _Build:
    """Shared state of one :func:`build_county_model` call (its phases read and extend it)."""

    src: CountySource
    inputs: ModelInputs
    params: ModelParams
    outline_wgs: shapely.Geometry
    crs: str
    outline_m: shapely.Geometry
    layers: dict[str, LayerInfo]
    warnings: list[str] = field(default_factory=list)
    published: dict[str, PublishedShare] = field(default_factory=dict)


def _start(src: CountySource, inputs: ModelInputs, params: ModelParams) -> _Build:
    """Phase 1: the outline (source or user file) and the local metric CRS centred on it."""
    layers = dict(src.layers)
    outline_wgs = _outline(src, inputs, layers)
    c = outline_wgs.centroid
    crs = local_metric_crs(c.x, c.y)
    outline_m = gpd.GeoSeries([outline_wgs], crs="EPSG:4326").to_crs(crs).iloc[0]
    return _Build(src, inputs, params, outline_wgs, crs, outline_m, layers)


def _located_villages(b: _Build) -> pd.DataFrame:
    """Phase 2: source (or surveyed) village points, projected; ``usable`` = clean and inside.

    A source point outside the county is flagged ``outside_county`` (re-imputed later); a
    surveyed point outside it is an error in the user's file.
    """
    villages = b.src.villages.copy().reset_index(drop=True)
    if b.inputs.villages is not None:
        villages = apply_village_overrides(
            villages, b.inputs.villages, crs=b.inputs.crs, layers=b.layers
        )
    villages["x"], villages["y"] = _project(
        b.crs, villages["lon"].to_numpy(float), villages["lat"].to_numpy(float)
    )
    inside = shapely.contains_xy(b.outline_m, villages["x"].to_numpy(), villages["y"].to_numpy())
    has = np.isfinite(villages["x"].to_numpy(float))
    for i in np.flatnonzero(has & ~inside):
        code, name = villages["code"].iloc[i], villages["name"].iloc[i]
        if villages["qa_flags"].iloc[i] == "surveyed":
            raise DataFileError(
                b.inputs.villages,
                f"surveyed point of {code} lies outside the county",
                field="lon/lat",
                fix="check the coordinates and their crs (GCJ02 vs WGS84)",
            )
        b.warnings.append(f"village {code} {name}: point lies outside the county; re-imputed")
        villages.loc[villages.index[i], "qa_flags"] = (
            villages["qa_flags"].iloc[i].replace("ok", "") + ";outside_county"
        )
    villages["usable"] = villages["qa_flags"].isin(["ok", "surveyed"]) & inside
    return villages


def _seats(b: _Build, villages: pd.DataFrame) -> pd.DataFrame:
    """Phase 3: township seats (metric ``seat_x``/``seat_y``); missing ones modelled and warned."""
    tw = b.src.townships.copy().reset_index(drop=True)
    tw["seat_x"], tw["seat_y"] = _project(
        b.crs, tw["seat_lon"].to_numpy(float), tw["seat_lat"].to_numpy(float)
    )
    for col, empty in (("seat_source", ""), ("alt_seat_source", ""), ("seat_sources_km", np.nan)):
        if col not in tw.columns:
            tw[col] = empty
    tw["seat_note"] = tw["seat_source"].fillna("")
    seat_in = shapely.contains_xy(b.outline_m, tw["seat_x"].to_numpy(), tw["seat_y"].to_numpy())
    tw.loc[~seat_in, ["seat_x", "seat_y"]] = np.nan
    tw = model_seats(tw, villages)
    seatless = ~np.isfinite(tw["seat_x"].to_numpy(float))
    if seatless.any():  # no located point at all: seat placed far from everything located
        known = np.vstack(
            [
                villages.loc[villages["usable"], ["x", "y"]].to_numpy(),
                tw.loc[~seatless, ["seat_x", "seat_y"]].to_numpy(),
            ]
        )
        grid = b.params.imputation.grid_m * 4
        pts = impute_points(b.outline_m, known, int(seatless.sum()), grid)
        tw.loc[seatless, "seat_x"], tw.loc[seatless, "seat_y"] = pts[:, 0], pts[:, 1]
        tw.loc[seatless, "seat_note"] = (
            "no located point in this township: seat modelled in the least-covered part of the county"
        )
        b.warnings.append(
            f"{int(seatless.sum())} township(s) had no located point at all; their seats are modelled"
        )
    tw.loc[tw["seat_quality"] == "modelled", "seat_source"] = "modelled"
    for _, t in tw[tw["seat_sources_km"] > b.params.seat_warn_km].iterrows():
        b.warnings.append(
            f"township {t['name']} ({t['code']}): seat sources disagree by {t['seat_sources_km']:.2f} km "
            f"({t['seat_source']} vs {t['alt_seat_source']})"
        )
    for i in np.flatnonzero(tw["seat_quality"].to_numpy() == "modelled"):
        b.warnings.append(
            f"township {tw['name'].iloc[i]} ({tw['code'].iloc[i]}) has no seat point in the sources: "
            f"{tw['seat_note'].iloc[i]}"
        )
    return tw


def _township_polygons(
    b: _Build, villages: pd.DataFrame, tw: pd.DataFrame
) -> dict[str, shapely.Geometry]:
    """Phase 4: township polygons from the user's file, else Voronoi cells of located points."""
    codes = tw["code"].tolist()
    if b.inputs.townships is not None:
        polys = _user_township_polygons(b.inputs, codes, b.crs)
        b.layers["townships"] = LayerInfo(f"user file {Path(b.inputs.townships).name}", False)
        return polys
    gen = pd.concat(
        [
            villages.loc[villages["usable"], ["x", "y", "town_code"]],
            pd.DataFrame({"x": tw["seat_x"], "y": tw["seat_y"], "town_code": tw["code"]}),
        ],
        ignore_index=True,
    )
    b.layers["townships"] = LayerInfo(
        "modelled: Voronoi cells of located villages and seats, clipped to the county, dissolved by township",
        True,
        "no public township boundary source",
    )
    return township_polygons_from_points(b.outline_m, gen, codes)


def _populate(b: _Build, villages: pd.DataFrame) -> pd.DataFrame:
    """Phase 5: village populations from the user's table, else modelled from the census."""
    v = villages.copy()
    census = b.src.census
    if b.inputs.population is not None:
        from .population import population_from_table

        v["population"], psrc = population_from_table(b.inputs.population, v, b.params.population)
        v["population_source"] = "user"
        b.layers["population"] = LayerInfo(psrc, False)
    else:
        v["population"] = model_population(
            v, census.total_population, census.urban_share, b.params.population
        )
        v["population_source"] = "modelled"
        b.layers["population"] = LayerInfo(
            f"modelled: census 2020 total {census.total_population:,} and urban share "
            f"{census.urban_share:.2%} spread over units by NBS urban-rural class (data/params/model.toml)",
            True,
            "no public village populations",
        )
        if b.src.published_facts is not None and b.params.published_population.township_facts:
            _published_population(b, v)
    v["urban"] = (v["ur_code"] >= 100) & (v["ur_code"] < 200)
    return v


def _published_population(b: _Build, v: pd.DataFrame) -> None:
    """Phase 5b: township totals from published registered shares where they exist (in place)."""
    from .population import population_with_published, published_shares

    assert b.src.published_facts is not None
    shares = published_shares(
        b.src.published_facts, b.src.townships, b.src.name, b.params.published_population
    )
    if not shares:
        return
    total = b.src.census.total_population
    base = v["population"].to_numpy()
    v["population"] = population_with_published(v, total, base, shares)
    pub = v["town_code"].isin([s.code for s in shares])
    v["population_source"] = np.where(pub, "published_township", "modelled")
    b.published = {s.code: s for s in shares}
    b.layers["population"] = LayerInfo(
        f"{len(shares)} of {len(b.src.townships)} townships from published registered (户籍) counts "
        f"({b.src.published_facts.name}): share of the county's registered total x the 2020 census "
        f"resident total {total:,}; the others modelled by urban-rural class; villages within each "
        "part in proportion to the modelled populations (data/params/model.toml [published_population])",
        True,
        "no public village populations; registered shares stand in for resident shares",
    )


def _township_population_source(b: _Build, code: str) -> tuple[str, str]:
    """(population_source, basis) of one township for the township layer."""
    if b.inputs.population is not None:
        return "user", f"user file {Path(b.inputs.population).name}"
    s = b.published.get(code)
    if s is None:
        return "modelled", "modelled: remainder of the census total, by urban-rural class"
    return (
        "published",
        f"{s.fact} {s.registered:,} ({s.year}) / county registered {s.county_registered:,.0f} "
        f"= {s.share:.2%} of the 2020 census residents; {s.url}",
    )


def _village_frame(b: _Build, villages: pd.DataFrame, tw: pd.DataFrame) -> gpd.GeoDataFrame:
    """Phase 6a: the public village layer (WGS84 points)."""
    inv = Transformer.from_crs(b.crs, "EPSG:4326", always_xy=True)
    vlon, vlat = inv.transform(villages["x"].to_numpy(), villages["y"].to_numpy())
    town_name = dict(zip(tw["code"], tw["name"], strict=True))
    return gpd.GeoDataFrame(
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


def _township_frame(
    b: _Build, tw: pd.DataFrame, polys: dict[str, shapely.Geometry], vgdf: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Phase 6b: the public township layer (WGS84 polygons with seat, population, counts)."""
    inv = Transformer.from_crs(b.crs, "EPSG:4326", always_xy=True)
    slon, slat = inv.transform(tw["seat_x"].to_numpy(), tw["seat_y"].to_numpy())
    pop_by_town = vgdf.groupby("town_code")["population"].sum()
    return gpd.GeoDataFrame(
        {
            "code": tw["code"],
            "name": tw["name"],
            "seat_lon": slon,
            "seat_lat": slat,
            "seat_quality": tw["seat_quality"],
            "seat_note": tw["seat_note"],
            "seat_source": tw["seat_source"],
            "alt_seat_source": tw["alt_seat_source"],
            "seat_sources_km": tw["seat_sources_km"].round(3),
            "polygon_source": "official" if b.inputs.townships is not None else "modelled",
            "population": [int(pop_by_town.get(cd, 0)) for cd in tw["code"]],
            "population_source": [_township_population_source(b, cd)[0] for cd in tw["code"]],
            "population_basis": [_township_population_source(b, cd)[1] for cd in tw["code"]],
            "villages": [int((vgdf["town_code"] == cd).sum()) for cd in tw["code"]],
        },
        geometry=gpd.GeoSeries([polys[cd] for cd in tw["code"]], crs=b.crs).to_crs("EPSG:4326"),
        crs="EPSG:4326",
    )


def _service_points(b: _Build, tgdf: gpd.GeoDataFrame, vgdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Phase 7: the modelled service-point network, edited by the user's file."""
    sp = model_service_points(b.src, tgdf, vgdf, service_rules(), b.crs)
    b.layers["service_points"] = LayerInfo(
        "modelled: county centre and correction centre at the county seat, a workstation at each township seat, "
        "a room in every village (data/params/service_points.toml)",
        True,
        "no public list of service-point locations",
    )
    if b.inputs.service_points is not None:
        sp = apply_service_overrides(
            sp, b.inputs.service_points, crs=b.inputs.crs, outline=b.outline_wgs
        )
        b.layers["service_points"] = LayerInfo(
            f"modelled defaults edited by user file {Path(b.inputs.service_points).name}",
            bool(sp["modelled"].any()),
        )
    return sp


def _roads(b: _Build, vgdf: gpd.GeoDataFrame, tgdf: gpd.GeoDataFrame) -> nx.Graph:
    """Phase 8: the road graph: real roads (the user's OSM extract, else the source's main roads)
    as the backbone, joined by the modelled settlement network (:func:`geo.network.join_backbone`)."""
    from .network import backbone_from_file, join_backbone, road_km

    bb = b.params.backbone
    clip = b.outline_m.buffer(bb.margin_km * 1000.0)
    real: nx.Graph | None = None
    if b.inputs.roads is not None:
        from .osm import graph_from_osm

        clip_wgs = gpd.GeoSeries([clip], crs=b.crs).to_crs("EPSG:4326").iloc[0]
        real = graph_from_osm(
            b.inputs.roads,
            crs=b.crs,
            speeds=b.params.speeds,
            clip=clip_wgs,
            largest_component=False,
        )
    elif b.src.main_roads is not None:
        real = backbone_from_file(
            b.src.main_roads,
            crs=b.crs,
            keep_within=clip,
            road_class=bb.road_class,
            source=f"{Path(b.src.main_roads).name} (OpenStreetMap main roads via scgraph-data, "
            "© OpenStreetMap contributors, ODbL)",
        )
    G = _modelled_roads(vgdf, tgdf, b.src, b.crs, b.params, b.outline_m)
    if real is not None and real.number_of_edges():
        G = join_backbone(
            G,
            real,
            params=b.params.network,
            backbone=bb,
            speeds=b.params.speeds,
            outline=b.outline_m,
        )
    km = road_km(G)
    inside = road_km(G, within=b.outline_m)
    b.layers["roads"] = LayerInfo(
        G.graph["source"],
        km["modelled"] > 0,
        f"real {km['real']:.1f} km ({inside['real']:.1f} km inside the county), modelled "
        f"{km['modelled']:.1f} km: mountain circuity applied to modelled roads",
    )
    return G


def build_county_model(
    vintage: str = "2023",
    data: str | Path | None = None,
    inputs: ModelInputs | None = None,
    *,
    source: CountySource | None = None,
    params: ModelParams | None = None,
) -> CountyModel:
    """Build and validate a county model.

    The phases, in order: outline and metric CRS; located village points; township seats;
    township polygons; village points resolved (suspect kept or imputed,
    :func:`geo.villages.resolve_village_points`); population; the public village and township
    layers; service points; roads; validation (:func:`geo.validate.validate_model`).

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
    src = source or huayuan_source(vintage, data)
    b = _start(src, inputs or ModelInputs(), params or ModelParams.from_files())
    villages = _located_villages(b)
    tw = _seats(b, villages)
    polys = _township_polygons(b, villages, tw)
    villages, imputation = resolve_village_points(
        villages, tw, polys, b.params.imputation, b.warnings
    )
    villages = _populate(b, villages)
    vgdf = _village_frame(b, villages, tw)
    tgdf = _township_frame(b, tw, polys, vgdf)
    county = gpd.GeoDataFrame(
        {"code": [src.code], "name": [src.name], "area_km2": [b.outline_m.area / 1e6]},
        geometry=[b.outline_wgs],
        crs="EPSG:4326",
    )
    sp = _service_points(b, tgdf, vgdf)
    G = _roads(b, vgdf, tgdf)
    b.layers.setdefault("census", LayerInfo(src.census.source, False))
    model = CountyModel(
        code=src.code,
        name=src.name,
        vintage=src.vintage,
        crs=b.crs,
        county=county,
        townships=tgdf,
        villages=vgdf,
        service_points=sp,
        graph=G,
        census=src.census,
        layers=b.layers,
        warnings=b.warnings,
        imputation=imputation,
        published_facts=src.published_facts,
    )
    from .validate import validate_model

    validate_model(model)
    log.info(
        "county model %s %s: %d townships, %d villages, %d service points",
        *(src.code, src.name, len(tgdf), len(vgdf), len(sp)),
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
