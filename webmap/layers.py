"""The data a map draws, gathered from :mod:`geo` and :mod:`analysis` (never computed here).

:class:`MapLayers` holds plain GeoDataFrames so the static atlas and the web app draw the same
things. :func:`collect_layers` asks :mod:`geo.routing` for the travel time of every village to
its nearest *staffed* service point and :mod:`geo.routing` for the bands; the underserved list,
proposed sites and lawyer routes come from the analysis results passed in (a layer is simply
absent when its result is not given).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

TIER_STYLE: dict[str, tuple[str, int, str]] = {
    "county_centre": ("#08306b", 11, "县公共法律服务中心 County centre"),
    "correction_centre": ("#6a51a3", 9, "社区矫正中心 Correction centre"),
    "township_station": ("#2171b5", 8, "乡镇工作站 Township station"),
    "village_room": ("#9ecae1", 4, "村法律服务室 Village room"),
    "lawyer_mediation_room": ("#238b45", 6, "律师个人调解室 Lawyer's mediation room"),
    "village_mediation_room": ("#74c476", 5, "村(社区)个人调解室 Village mediation room"),
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
