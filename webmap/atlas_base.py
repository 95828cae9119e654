"""The atlas's base layers drawn from the county model (the ``offline`` basemap's content):
roads by class (real solid, modelled dashed), township names, village names from zoom
:data:`LABEL_ZOOM`, and service points as inline CSS icons by tier (no image requests).

Styles come from :mod:`webmap.layers` (:data:`~webmap.layers.ROAD_STYLE`,
:data:`~webmap.layers.TIER_STYLE`, :data:`~webmap.layers.TIER_GLYPH`) so the atlas and the web
app draw the same map.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
from branca.element import Element, MacroElement
from jinja2 import Template

from .basemaps import TileSource
from .layers import ROAD_LABELS, TIER_GLYPH, TIER_STYLE, road_lines, township_labels

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

LABEL_ZOOM = 12
"""Village names are shown from this zoom on (the web app uses the same, ``common.js``)."""

CSS = """<style>
.ds-town-label span {display:inline-block; transform:translate(-50%,-50%); white-space:nowrap;
  font:700 13px/1.2 sans-serif; color:#333; text-shadow:0 0 3px #fff,0 0 3px #fff}
.ds-village-label {display:none; white-space:nowrap; font:12px/1.3 sans-serif; color:#222;
  position:absolute; left:7px; top:-8px; text-shadow:0 0 3px #fff,0 0 2px #fff}
.ds-names .ds-village-label {display:block}
.ds-sp span {display:inline-flex; align-items:center; justify-content:center;
  transform:translate(-50%,-50%); width:22px; height:22px; border-radius:4px; border:2px solid #fff;
  color:#fff; font:700 12px/1 sans-serif; box-shadow:0 1px 3px rgba(0,0,0,.5)}
.ds-sp-county_centre span {width:28px; height:28px; font-size:15px; border-radius:50%}
.ds-sp-village_room span {width:16px; height:16px; font-size:10px; border-width:1px; border-radius:50%}
.ds-road-key svg {vertical-align:middle}
.leaflet-container.ds-offline {background:#f3f1ea}
</style>"""


def add_roads(m: folium.Map, model: CountyModel) -> gpd.GeoDataFrame:
    """The model's roads (:func:`webmap.layers.road_lines`), one layer per class and status."""
    roads = road_lines(model)
    folium.GeoJson(
        roads[["road_class", "status", "km", "colour", "weight", "dash", "geometry"]],
        name="道路（真实/模拟）Roads (real/modelled)",
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": f["properties"]["weight"],
            "dashArray": f["properties"]["dash"],
            "opacity": 0.95,
        },
        tooltip=folium.GeoJsonTooltip(
            ["road_class", "status", "km"], aliases=["等级 Class", "来源 Status", "km"]
        ),
    ).add_to(m)
    return roads


def roads_key_html(km: dict[str, float]) -> str:
    """Legend rows: a solid line for real roads and a dashed one for modelled, with their km
    (:func:`geo.network.road_km`)."""
    rows = []
    for status in ("real", "modelled"):
        if not km.get(status):
            continue
        dash = ' stroke-dasharray="5 4"' if status == "modelled" else ""
        rows.append(
            f'<div data-road="{status}"><svg width="28" height="8" aria-hidden="true">'
            f'<line x1="0" y1="4" x2="28" y2="4" stroke="#8c8c8c" stroke-width="3"{dash}/></svg> '
            f"{html.escape(ROAD_LABELS[status])} · {km[status]:,.0f} km</div>"
        )
    return (
        '<div class="ds-sub">道路 Roads</div><div class="ds-road-key">' + "".join(rows) + "</div>"
    )


def add_names(m: folium.Map, model: CountyModel, bm: TileSource) -> None:
    """Township names (always) and village names (from zoom :data:`LABEL_ZOOM`)."""
    towns = folium.FeatureGroup(name="乡镇名 Township names")
    for _, r in bm.shift(township_labels(model)).iterrows():
        folium.Marker(
            [r.geometry.y, r.geometry.x],
            icon=folium.DivIcon(
                html=f"<span>{html.escape(r['name'])}</span>",
                class_name="ds-town-label",
                icon_size=(0, 0),
            ),
            interactive=False,
        ).add_to(towns)
    towns.add_to(m)
    names = folium.FeatureGroup(name="村名 Village names")
    for _, r in bm.shift(model.villages[["code", "name", "geometry"]]).iterrows():
        folium.Marker(
            [r.geometry.y, r.geometry.x],
            icon=folium.DivIcon(
                html=f'<span class="ds-village-label" data-code="{html.escape(str(r["code"]))}">'
                f"{html.escape(r['name'])}</span>",
                class_name="ds-village",
                icon_size=(0, 0),
            ),
            interactive=False,
        ).add_to(names)
    names.add_to(m)
    m.add_child(_NamesByZoom(bm.offline))
    m.get_root().header.add_child(Element(CSS))  # type: ignore[attr-defined]


class _NamesByZoom(MacroElement):  # type: ignore[misc]
    """Script (rendered after its map's): the map gets class ``ds-names`` from zoom
    :data:`LABEL_ZOOM` on, which shows the village names; offline maps get ``ds-offline``."""

    _template = Template(
        "{% macro script(this, kwargs) %}\n(function (m) {\n"
        "{% if this.offline %}  m.getContainer().classList.add('ds-offline');\n{% endif %}"
        "  var f = function () { m.getContainer().classList.toggle('ds-names', "
        f"m.getZoom() >= {LABEL_ZOOM}); }};\n"
        "  m.on('zoomend', f); f();\n})({{ this._parent.get_name() }});\n{% endmacro %}"
    )

    def __init__(self, offline: bool) -> None:
        super().__init__()
        self._name = "NamesByZoom"
        self.offline = offline


def service_icon(tier: str) -> folium.DivIcon:
    """A service point's icon: a coloured shape with the tier's glyph (县 站 矫 室 调)."""
    colour = TIER_STYLE.get(tier, ("#888", 5, tier))[0]
    glyph = html.escape(TIER_GLYPH.get(tier, "?"))
    return folium.DivIcon(
        html=f'<span style="background:{colour}" data-tier="{html.escape(tier)}">{glyph}</span>',
        class_name=f"ds-sp ds-sp-{tier}",
        icon_size=(0, 0),
    )
