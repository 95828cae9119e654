"""The data a map draws, gathered from :mod:`geo` and :mod:`analysis` (never computed here).

:class:`MapLayers` holds plain GeoDataFrames so the static atlas and the web app draw the same
things. :func:`collect_layers` asks :mod:`geo.routing` for the travel time of every village to
its nearest *staffed* service point and :mod:`geo.routing` for the bands; the underserved list,
proposed sites and lawyer routes come from the analysis results passed in (a layer is simply
absent when its result is not given).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from doorstep.geo._errors import InputError

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

#: travel-time classes (upper bound in minutes, colour, label) for villages
MINUTE_CLASSES: list[tuple[float, str, str]] = [
    (15.0, "#1a9850", "≤15 分钟 min"),
    (30.0, "#91cf60", "15–30 分钟 min"),
    (45.0, "#fee08b", "30–45 分钟 min"),
    (60.0, "#fc8d59", "45–60 分钟 min"),
    (float("inf"), "#d73027", ">60 分钟 min"),
]
UNREACHABLE_COLOUR = "#777777"
UNREACHABLE_LABEL = "不可达 unreachable"

COVERAGE_COLOUR: dict[str, str] = {
    # a what-if result on the planner's maps (web app only, ds-config's ``coverage``): villages
    # covered before, newly covered, still not covered (the green and red ends of
    # MINUTE_CLASSES), and the fill of the new sites
    "before": MINUTE_CLASSES[0][1],
    "newly": "#2c7fb8",
    "none": MINUTE_CLASSES[-1][1],
    "site": "#ffd700",
}

TIER_STYLE: dict[str, tuple[str, int, str]] = {
    # tier: (colour, marker size for the static report map, label) — the one table: the atlas
    # and the report map read it here, the web app through :func:`tier_config` (ds-config)
    "county_centre": ("#08306b", 11, "县公共法律服务中心 County centre"),
    "correction_centre": ("#6a51a3", 9, "社区矫正中心 Correction centre"),
    "township_station": ("#2171b5", 8, "乡镇工作站 Township station"),
    # 3.5:1 against white (#9ecae1 was 1.75:1, under WCAG's 3:1 for map symbols)
    "village_room": ("#4a90b8", 4, "村法律服务室 Village room"),
    "lawyer_mediation_room": ("#238b45", 6, "律师个人调解室 Lawyer's mediation room"),
    # a muted rose, not a green: #74c476 was 2.12:1 on white, and a green that reaches 3:1 on
    # #f3f1ea can be at most a little lighter than the lawyer's room #238b45 (same 调 glyph,
    # same icon shape), so the two would hardly differ. #a05070 is 5.4:1 on white, 4.8:1 on the offline
    # background #f3f1ea (the white glyph on it too), 150° of hue from the lawyer's green, and
    # stays apart from every tier under simulated deuteranopia and protanopia (CIEDE2000 ≥ 14)
    "village_mediation_room": ("#a05070", 5, "村(社区)个人调解室 Village mediation room"),
}

TIER_GLYPH: dict[str, str] = {
    "county_centre": "县",
    "correction_centre": "矫",
    "township_station": "站",
    "village_room": "室",
    "lawyer_mediation_room": "调",
    "village_mediation_room": "调",
}
"""The character on a service point's icon (the atlas, and the web app via :func:`tier_config`)."""


def tier_config() -> dict[str, dict[str, str]]:
    """The service point styles as the web pages receive them (``ds-config``'s ``tiers``,
    read by ``static/common.js``): ``{tier: {"colour", "label", "glyph"}}`` from
    :data:`TIER_STYLE` and :data:`TIER_GLYPH`, so the web app keeps no copy of its own."""
    return {
        tier: {"colour": colour, "label": label, "glyph": TIER_GLYPH.get(tier, "?")}
        for tier, (colour, _size, label) in TIER_STYLE.items()
    }


def minute_config() -> dict[str, Any]:
    """The travel-time classes as the web pages receive them (``ds-config``'s ``minutes``, read
    by ``DS.minuteColour`` and the minutes legends of ``static/*.js``): ``{"classes": [{"upto",
    "colour", "label"}], "unreachable": {"colour", "label"}}`` from :data:`MINUTE_CLASSES`,
    :data:`UNREACHABLE_COLOUR` and :data:`UNREACHABLE_LABEL`. The open last class has
    ``upto: None`` (JSON has no infinity; ``float("inf")`` would write ``Infinity``, which
    ``JSON.parse`` rejects)."""
    return {
        "classes": [
            {"upto": upper if np.isfinite(upper) else None, "colour": colour, "label": label}
            for upper, colour, label in MINUTE_CLASSES
        ],
        "unreachable": {"colour": UNREACHABLE_COLOUR, "label": UNREACHABLE_LABEL},
    }


def minute_colour(minutes: float) -> str:
    """Colour of a village by its travel time class."""
    if not np.isfinite(minutes):
        return UNREACHABLE_COLOUR
    for upper, colour, _ in MINUTE_CLASSES:
        if minutes <= upper:
            return colour
    return UNREACHABLE_COLOUR


@dataclass
class MapLayers:
    """Everything a Doorstep map can show (all GeoDataFrames in EPSG:4326).

    Attributes
    ----------
    villages : village points with ``minutes`` (to the nearest staffed point, ``mode``)
    isochrones : bands with ``minutes`` (upper bound) — ``None`` if unavailable
    underserved : village points with ``reason`` — from :mod:`analysis.gaps`
    proposed : proposed sites with ``name`` and ``note`` — from :mod:`analysis.siting`
    routes : lawyer routes (LineStrings) with ``lawyer``, ``date``, ``minutes``, ``stops``
    """

    villages: gpd.GeoDataFrame
    mode: str = "car"
    isochrones: gpd.GeoDataFrame | None = None
    underserved: gpd.GeoDataFrame | None = None
    proposed: gpd.GeoDataFrame | None = None
    routes: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)


def staffed_points(model: CountyModel, service: str | None = None) -> gpd.GeoDataFrame:
    """Service points counting for coverage, as :mod:`geo.services` defines them (staffed and
    offering legal consultation: county centre, township workstations); with ``service``, the
    points open for that service code."""
    from doorstep.analysis.coverage import coverage_points

    return gpd.GeoDataFrame(coverage_points(model, service)).reset_index(drop=True)


def village_minutes(model: CountyModel, mode: str = "car") -> gpd.GeoDataFrame:
    """Villages with ``minutes`` to (and ``nearest_name`` of) the nearest staffed point.

    The times come from :func:`analysis.coverage.village_times` (one mode).
    """
    from doorstep.analysis.coverage import village_times

    vt = village_times(model, modes=(mode,)).set_index("code")
    v = model.villages.copy()
    v["minutes"] = vt.loc[v["code"], "min_staffed"].to_numpy(dtype=float)
    v["nearest"] = vt.loc[v["code"], "nearest_id"].to_numpy()
    v["nearest_name"] = vt.loc[v["code"], "nearest_name"].to_numpy()
    return v


def underserved_layer(model: CountyModel, mode: str = "car") -> gpd.GeoDataFrame:
    """Underserved villages from :func:`analysis.gaps.underserved_villages` (the default
    target judged by ``mode``) as points."""
    from doorstep.analysis.coverage import CoverageTarget
    from doorstep.analysis.gaps import underserved_villages

    gap = underserved_villages(model, CoverageTarget().with_minutes(mode=mode))
    geom = model.villages.set_index("code").geometry
    out = gpd.GeoDataFrame(
        gap.drop(columns=[c for c in ("geometry",) if c in gap.columns]),
        geometry=geom.loc[gap["code"]].to_numpy(),
        crs="EPSG:4326",
    )
    out["minutes"] = out["min_staffed"]
    out["reason"] = out["reason_zh"] + " / " + out["reason_en"]
    return out


def isochrone_bands(
    model: CountyModel,
    mode: str = "car",
    breaks: tuple[float, ...] = (15.0, 30.0, 60.0),
    seg_m: float = 500.0,
) -> gpd.GeoDataFrame | None:
    """Isochrone polygons around the staffed points, or ``None`` if geo cannot build them.

    ``seg_m`` is the band densification step of :func:`geo.routing.service_areas`; 500 m
    changes the Huayuan band areas by < 0.1 km² against 100 m and is 4× faster.
    """
    from doorstep.geo.routing import service_areas

    try:
        return service_areas(model, staffed_points(model), mode=mode, breaks=breaks, seg_m=seg_m)
    except InputError:
        raise
    except Exception as exc:  # geometry engine failure: the map is still useful without bands
        log.warning("isochrones unavailable (%s); the map is drawn without them", exc)
        return None


def collect_layers(
    model: CountyModel,
    mode: str = "car",
    *,
    isochrones: bool = True,
    gaps: bool = True,
    underserved: gpd.GeoDataFrame | None = None,
    proposed: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
) -> MapLayers:
    """Gather the layers of a county map (see :class:`MapLayers`)."""
    notes: list[str] = []
    iso = isochrone_bands(model, mode) if isochrones else None
    if isochrones and iso is None:
        notes.append("等时圈暂不可用 isochrones unavailable")
    if underserved is None and gaps:
        underserved = underserved_layer(model, mode)
    return MapLayers(
        villages=village_minutes(model, mode),
        mode=mode,
        isochrones=iso,
        underserved=underserved,
        proposed=proposed,
        routes=routes,
        notes=notes,
    )


# --- what the offline map draws: the model's own layers, selected and simplified ------------

DISPLAY_DECIMALS = 5
"""Coordinates of the display layers are rounded to 1e-5° (≈ 1 m in Huayuan)."""
ROAD_SIMPLIFY_M = 15.0
"""Douglas–Peucker tolerance of the drawn roads (metres; routing uses the full geometry)."""

ROAD_STYLE: dict[str, tuple[str, float, int]] = {
    # road_class: (colour, weight px, draw order — higher on top)
    "motorway": ("#c8621b", 4.5, 7),
    "trunk": ("#c8621b", 4.0, 6),
    "primary": ("#d9822b", 3.5, 5),
    "main_road": ("#d9822b", 3.5, 5),
    "secondary": ("#c9a03a", 2.5, 4),
    "tertiary": ("#8c8c8c", 2.0, 3),
    "village": ("#8c8c8c", 1.5, 2),
}
ROAD_DASH: dict[str, str | None] = {"real": None, "modelled": "5 4"}
"""Real roads are drawn solid, modelled roads dashed (same in the atlas and the web app)."""
ROAD_LABELS: dict[str, str] = {
    "real": "真实道路（OpenStreetMap）Real road (OSM)",
    "modelled": "模拟道路（按村庄连线推算）Modelled road",
}


def road_lines(model: CountyModel, tolerance_m: float = ROAD_SIMPLIFY_M) -> gpd.GeoDataFrame:
    """The road graph's edges for drawing, one (multi)line per ``road_class`` and ``status``
    (``real``/``modelled``, :mod:`geo.network`) with its ``km`` (of the graph's
    ``length_m``), ``edges`` and its drawing style (``colour``, ``weight`` px, ``dash``:
    modelled roads dashed, ``label``); simplified by ``tolerance_m`` in the model's metric CRS,
    then EPSG:4326; ordered so that real and major roads are drawn on top."""
    import shapely

    from doorstep.geo.network import MODELLED, REAL, edge_geometry

    G = model.graph
    unmarked = MODELLED if G.graph.get("modelled") else REAL  # as geo.network.road_km
    groups: dict[tuple[str, str], list[Any]] = {}
    km: dict[tuple[str, str], float] = {}
    for u, v, d in G.edges(data=True):
        geom = edge_geometry(G, u, v, d)
        key = (str(d.get("road_class", "village")), str(d.get("status", unmarked)))
        groups.setdefault(key, []).append(geom.simplify(tolerance_m, preserve_topology=False))
        km[key] = km.get(key, 0.0) + float(d.get("length_m", geom.length)) / 1000.0
    keys = sorted(groups, key=_road_order)
    gdf = gpd.GeoDataFrame(
        {
            "road_class": [k[0] for k in keys],
            "status": [k[1] for k in keys],
            "km": [round(km[k], 1) for k in keys],
            "edges": [len(groups[k]) for k in keys],
            "colour": [ROAD_STYLE.get(k[0], ROAD_STYLE["village"])[0] for k in keys],
            "weight": [ROAD_STYLE.get(k[0], ROAD_STYLE["village"])[1] for k in keys],
            "dash": [ROAD_DASH.get(k[1], ROAD_DASH["modelled"]) for k in keys],
            "label": [ROAD_LABELS.get(k[1], k[1]) for k in keys],
        },
        geometry=[shapely.line_merge(shapely.multilinestrings(groups[k])) for k in keys],
        crs=G.graph.get("crs", model.crs),
    )
    return gdf.to_crs("EPSG:4326")


def _road_order(key: tuple[str, str]) -> int:
    """Drawing order of a (road_class, status) group: real above modelled, major above minor."""
    cls, status = key
    return ROAD_STYLE.get(cls, ROAD_STYLE["village"])[2] + (10 if status == "real" else 0)


def township_labels(model: CountyModel) -> gpd.GeoDataFrame:
    """One point per township inside its polygon (``representative_point``) with ``name`` and
    ``code``: where the township name is written."""
    t = model.townships
    return gpd.GeoDataFrame(
        {"code": t["code"].astype(str), "name": t["name"].astype(str)},
        geometry=t.geometry.representative_point().to_numpy(),
        crs="EPSG:4326",
    )


def township_outlines(model: CountyModel, tolerance_deg: float = 0.0005) -> gpd.GeoDataFrame:
    """Township polygons (``code``, ``name``, ``polygon_source``) simplified for drawing
    (0.0005° ≈ 50 m)."""
    cols = [c for c in ("code", "name", "polygon_source") if c in model.townships.columns]
    t = model.townships[[*cols, "geometry"]].copy()
    t["geometry"] = t.geometry.simplify(tolerance_deg)
    return t


def village_points(model: CountyModel) -> gpd.GeoDataFrame:
    """Village points with ``code``, ``name``, ``town_name`` and ``location_quality``."""
    cols = ["code", "name", "town_name", "location_quality"]
    return model.villages[[*cols, "geometry"]].copy()


def service_point_icons(model: CountyModel) -> gpd.GeoDataFrame:
    """Service points with what their icon needs: ``id``, ``tier``, ``name``, ``services``
    (``;``-separated codes), ``opening_hours``, ``phone``, ``modelled`` (location)."""
    cols = ["id", "tier", "name", "services", "opening_hours", "phone", "modelled"]
    return model.service_points[[*cols, "geometry"]].copy()


def county_outline(model: CountyModel, tolerance_deg: float = 0.0005) -> gpd.GeoDataFrame:
    """The county polygon (``code``, ``name``) simplified for drawing (0.0005° ≈ 50 m)."""
    c = model.county[["code", "name", "geometry"]].copy()
    c["geometry"] = c.geometry.simplify(tolerance_deg)
    return c


DISPLAY_LAYERS: dict[str, Callable[[CountyModel], gpd.GeoDataFrame]] = {
    "county": county_outline,
    "townships": township_outlines,
    "township_names": township_labels,
    "roads": road_lines,
    "villages": village_points,
    "service_points": service_point_icons,
}
"""The layers the offline map draws, by name (served by :mod:`webmap.app.maplayers`)."""


def geojson_text(gdf: gpd.GeoDataFrame, decimals: int = DISPLAY_DECIMALS) -> str:
    """Compact GeoJSON of ``gdf`` (EPSG:4326) with coordinates rounded to ``decimals``."""
    import json

    import shapely

    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        raise InputError(f"display layers are EPSG:4326, got {gdf.crs}")
    out = gdf.copy()
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, decimals))
    doc = out.to_geo_dict(drop_id=True)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
