"""The province map: counties (and optionally townships) coloured by coverage.

Renders only — the figures come from :mod:`analysis.province_tables`. The legend states which
layers behind the figures are modelled (population, township polygons, imputed village points,
roads, service-point locations), as every Doorstep output must.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd

from doorstep.geo.atomic import atomic_path

from .assets import copy_vendor, offline_map
from .basemaps import Basemap, get_basemap, shift_for

#: (upper bound of the share, colour) — a 5-class sequential red→green scale.
BINS: list[tuple[float, str]] = [
    (0.5, "#d7191c"),
    (0.7, "#fdae61"),
    (0.85, "#ffffbf"),
    (0.95, "#a6d96a"),
    (1.0001, "#1a9641"),
]
NO_DATA = "#bdbdbd"


def share_colour(share: float | None) -> str:
    """Colour of a population share (0–1); grey when missing."""
    if share is None or share != share:
        return NO_DATA
    for upper, colour in BINS:
        if share < upper:
            return colour
    return BINS[-1][1]


def _legend(column: str, title: str, modelled_note: str, failed: Sequence[str]) -> str:
    rows, lower = [], 0.0
    for upper, colour in BINS:
        hi = min(upper, 1.0)
        rows.append(
            f'<div><span style="background:{colour};width:14px;height:14px;display:inline-block;'
            f'margin-right:6px;border:1px solid #777"></span>{lower:.0%}–{hi:.0%}</div>'
        )
        lower = hi
    rows.append(
        f'<div><span style="background:{NO_DATA};width:14px;height:14px;display:inline-block;'
        'margin-right:6px;border:1px solid #777"></span>无结果 no result (failed)</div>'
    )
    fail = (
        f"<div style='margin-top:4px;color:#a00'>未完成 failed: {html.escape(', '.join(failed))}</div>"
        if failed
        else ""
    )
    return (
        '<div style="position:fixed;bottom:20px;left:20px;z-index:9999;background:white;'
        'padding:8px 10px;border:1px solid #888;font:12px sans-serif;max-width:320px">'
        f"<b>{html.escape(title)}</b><br><i>{html.escape(column)}</i>{''.join(rows)}"
        "<div style='margin-top:6px;padding:4px;background:#fff3cd;border:1px solid #e0c36c'>"
        f"<b>模拟数据 MODELLED</b>: {html.escape(modelled_note)}</div>{fail}</div>"
    )


def province_map(
    counties: gpd.GeoDataFrame,
    out: str | Path,
    *,
    column: str = "share_within_30",
    title: str = "人口覆盖 share of population within 30 min (car) of a staffed legal service point",
    townships: gpd.GeoDataFrame | None = None,
    failed: Sequence[str] = (),
    modelled_note: str = (
        "populations (2020 provincial census spread over units), township polygons, imputed "
        "village points, roads and service-point locations are modelled, not surveyed"
    ),
    basemap: str = "none",
    simplify_deg: float = 0.002,
) -> Path:
    """Write an offline HTML choropleth of ``counties[column]`` (WGS84 outlines) to ``out``.

    Parameters
    ----------
    counties
        One row per county: ``code``, ``name``, ``population``, ``column`` and ``geometry``.
    townships
        Optional township layer with the same columns (hidden by default, toggled in the layer
        control).
    failed
        Labels of counties that produced no result (listed in the legend).
    simplify_deg
        Outline simplification tolerance (degrees; 0.002° ≈ 200 m) to keep the page small.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bm = get_basemap(basemap)
    b = counties.total_bounds if len(counties) else (108.8, 24.6, 114.3, 30.2)
    m = offline_map(location=[(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], zoom_start=7)
    url = bm.tiles_url()
    if url:
        folium.TileLayer(url, attr=bm.attribution, name=bm.label).add_to(m)
    _Choropleth(m, bm, column, simplify_deg).add(counties, "县 counties", True, 1.0)
    if townships is not None and len(townships):
        _Choropleth(m, bm, column, simplify_deg).add(
            townships, "乡镇 townships (modelled polygons)", False, 0.4
        )
    folium.LayerControl(collapsed=False).add_to(m)
    root: Any = m.get_root()
    root.html.add_child(folium.Element(_legend(column, title, modelled_note, failed)))
    copy_vendor(out.parent)
    with atomic_path(out) as tmp:
        m.save(str(tmp))
    return out


@dataclass(frozen=True)
class _Choropleth:
    """Adds polygon layers to map ``m`` coloured by ``column`` (:func:`share_colour`)."""

    m: folium.Map
    bm: Basemap
    column: str
    simplify_deg: float

    def add(self, gdf: gpd.GeoDataFrame, name: str, show: bool, weight: float) -> None:
        """One GeoJSON layer: identifying columns, every ``share_within_*`` and the coloured
        column (rounded to 0.001) in the tooltip, outlines simplified and shifted for the
        basemap."""
        column = self.column
        keep = [
            c
            for c in ("code", "name", "county_name", "population", "villages", "imputed")
            if c in gdf.columns
        ]
        shares = [c for c in gdf.columns if c.startswith("share_within_") or c == column]
        g = gdf[[*keep, *shares, "geometry"]].copy()
        g["geometry"] = g.geometry.simplify(self.simplify_deg, preserve_topology=True)
        for c in shares:
            g[c] = g[c].astype(float).round(3)
        g = shift_for(self.bm, g)

        def style(feat: dict[str, Any]) -> dict[str, Any]:
            return {
                "fillColor": share_colour(feat["properties"].get(column)),
                "color": "#444",
                "weight": weight,
                "fillOpacity": 0.75,
            }

        folium.GeoJson(
            g.to_json(ensure_ascii=False),
            name=name,
            show=show,
            style_function=style,
            tooltip=folium.GeoJsonTooltip(fields=[*keep, *shares]),
        ).add_to(self.m)
