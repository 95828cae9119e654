"""The atlas's base layers drawn from the county model (the ``offline`` basemap's content):
roads by class (real solid, modelled dashed), township names, village names from zoom
:data:`LABEL_ZOOM`, and service points as inline CSS icons by tier (no image requests).

Styles come from :mod:`webmap.layers` (:data:`~webmap.layers.ROAD_STYLE`,
:data:`~webmap.layers.TIER_STYLE`, :data:`~webmap.layers.TIER_GLYPH`) and the CSS rules from
``static/map.css`` (:func:`map_css`), the same the web app uses, so both draw the same map.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
from branca.element import Element, MacroElement
from jinja2 import Template

from .assets import STATIC_DIR
from .basemaps import TileSource
from .layers import ROAD_LABELS, TIER_GLYPH, TIER_STYLE, road_lines, township_labels

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

LABEL_ZOOM = 12
"""Village names are shown from this zoom on (the web app uses the same, ``common.js``)."""

MAP_CSS = STATIC_DIR / "map.css"
"""The map's style sheet, shared with the web app (which links it): the atlas writes it into its
page so the standalone file needs no server and no second copy of the rules."""


def map_css() -> str:
    """A ``<style>`` element holding :data:`MAP_CSS` (kept verbatim: a Jinja ``raw`` block,
    since folium renders the element as a template)."""
    css = MAP_CSS.read_text(encoding="utf-8")
    return "{% raw %}<style>\n" + css + "</style>{% endraw %}"


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
    m.add_child(_MapCss())


class _MapCss(MacroElement):  # type: ignore[misc]
    """Writes :func:`map_css` into the page's head when its map is rendered: after the map's
    Leaflet style sheet (which the map adds at render time), as the web app links them."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "MapCss"

    def render(self, **kwargs: object) -> None:  # type: ignore[override]
        root = self.get_root()
        root.header.add_child(Element(map_css()), name="ds_map_css")  # type: ignore[attr-defined]
        super().render(**kwargs)


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
