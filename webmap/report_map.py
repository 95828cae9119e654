"""The report's static map of coverage and gaps (inline SVG via :mod:`webmap.svgmap`).

County outline, township boundaries and names (modelled polygons), roads with real (OSM) and
modelled local roads styled apart, villages coloured by their minutes band
(:data:`webmap.layers.MINUTE_CLASSES`), underserved villages ringed, the staffed service
points. It draws the layers it is given (:class:`ReportMap`); the times and the underserved
flags come from the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from shapely.geometry import GeometryCollection
from shapely.geometry.base import BaseGeometry

from .layers import (
    MINUTE_CLASSES,
    TIER_STYLE,
    UNREACHABLE_COLOUR,
    UNREACHABLE_LABEL,
    minute_colour,
)
from .printing import CJK_FONT_STACK
from .svgmap import Frame, Layer, geometries, svg_map

GAP_COLOUR = "#b2182b"
GAP_FILL = "rgba(178,24,43,0.18)"  # a ring under the village dot
REAL_ROAD = "#8c510a"
MODELLED_ROAD = "#bf9f6f"
LABEL_STYLE = (
    f"<style>text {{ font-family: {CJK_FONT_STACK}; }} "
    ".township-names text { font-weight: bold; }</style>"
)
"""The map's text in the report's font (the names' white halo is :mod:`.svgmap`'s copy
underneath)."""
SIMPLIFY_DEG = 0.0003  # ≈ 30 m: under a pixel on an A4 county map


@dataclass(frozen=True)
class ReportMap:
    """The layers of the report map (any CRS; drawn in WGS84).

    ``townships`` has ``name``; ``roads`` has ``status`` (``real``/``modelled``), as
    :func:`webmap.layers.road_lines` gives it to the web app and the atlas, so that every map
    draws the same roads with the same status; ``villages`` has ``minutes`` (to the nearest
    staffed point by ``mode``) and ``underserved`` (bool, beyond the village's own target);
    ``points`` has ``tier`` (the points counting for coverage).
    """

    county: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    mode: str


def _band_layers(villages: gpd.GeoDataFrame) -> list[Layer]:
    """One point layer per minutes band (legend = the band), unreachable villages last."""
    colours = np.array([minute_colour(m) for m in villages["minutes"].to_numpy(dtype=float)])
    geoms = geometries(villages)
    bands = [
        (colours == colour, colour, f"村 village {label}") for _, colour, label in MINUTE_CLASSES
    ]
    bands.append((colours == UNREACHABLE_COLOUR, UNREACHABLE_COLOUR, UNREACHABLE_LABEL))
    return [
        Layer(
            [g for g, s in zip(geoms, sel, strict=True) if s],
            fill=colour,
            stroke="#333",
            width=0.4,
            radius=3.2,
            legend=legend,
            css_class="village-band",
        )
        for sel, colour, legend in bands
        if sel.any()
    ]


def _simplified(gdf: gpd.GeoDataFrame) -> list[BaseGeometry]:
    """WGS84 geometries simplified to :data:`SIMPLIFY_DEG` (the page cannot show finer)."""
    return list(gpd.GeoSeries(geometries(gdf), crs=4326).simplify(SIMPLIFY_DEG))


def _road_layers(roads: gpd.GeoDataFrame) -> list[Layer]:
    """Modelled and real roads, each drawn as one path (hundreds of edges, one element)."""
    lines = _simplified(roads)
    real = roads["status"].astype(str).to_numpy() == "real"
    modelled = GeometryCollection([g for g, r in zip(lines, real, strict=True) if not r])
    osm = GeometryCollection([g for g, r in zip(lines, real, strict=True) if r])
    return [
        Layer(
            [modelled],
            stroke=MODELLED_ROAD,
            width=0.6,
            dash="3 2",
            radius=0,
            legend="模拟乡村道路 modelled local road",
            css_class="road-modelled",
        ),
        Layer(
            [osm],
            stroke=REAL_ROAD,
            width=1.6,
            radius=0,
            legend="真实道路 real road (OSM)",
            css_class="road-real",
        ),
    ]


def _point_layers(points: gpd.GeoDataFrame) -> list[Layer]:
    out = []
    for tier, g in points.groupby("tier", sort=False):
        colour, size, label = TIER_STYLE.get(str(tier), ("#08306b", 7, str(tier)))
        out.append(
            Layer(
                geometries(g),
                fill=colour,
                stroke="#fff",
                width=1.0,
                radius=max(size / 2, 3.5),
                legend=label,
                css_class="service-point",
            )
        )
    return out


def coverage_map_svg(
    m: ReportMap, *, title: str, source: str, width: int = 720, height: int = 760
) -> str:
    """The map as an ``<svg>`` element with scale bar (km), north arrow and legend."""
    frame = Frame.fit(m.county.to_crs(4326).total_bounds, width=width, height=height)
    towns = m.townships.to_crs(4326)
    county = _simplified(m.county)
    gaps = m.villages[m.villages["underserved"].astype(bool)]
    layers = [
        Layer(county, fill="#f4f1ea", stroke="none", radius=0),
        *_road_layers(m.roads),
        Layer(
            _simplified(towns),
            stroke="#666",
            width=0.8,
            dash="5 3",
            radius=0,
            legend="乡镇界 township boundary (模拟 modelled)",
            css_class="townships",
        ),
        Layer(
            county,
            stroke="#111",
            width=2.0,
            radius=0,
            legend="县界 county outline",
            css_class="county",
        ),
        Layer(
            geometries(gaps),
            fill=GAP_FILL,
            stroke=GAP_COLOUR,
            width=1.0,
            radius=6.5,
            legend="服务盲区 underserved village",
            css_class="gap",
        ),
        *_band_layers(m.villages),
        *_point_layers(m.points),
        Layer(
            [g.representative_point() for g in geometries(towns)],
            radius=0,
            fill="none",
            stroke="none",
            labels=[str(n) for n in towns["name"]],
            label_size=12,
            css_class="township-names",
        ),
    ]
    svg = svg_map(frame, layers, title=title, source=source, css_class="map coverage-map")
    head, _, body = svg.partition(">")
    return f"{head}>{LABEL_STYLE}{body}"
