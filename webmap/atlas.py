"""The published atlas: a self-contained static site built with folium (works from ``file://``).

``build_atlas(model, layers, out)`` writes ``out/index.html`` plus ``out/vendor/`` (Leaflet and
jQuery copied from :mod:`webmap.assets`), so the pages open with no network. Layers: county and
township outlines, villages coloured by travel time to the nearest staffed service point,
service points by tier with popups, isochrone bands, underserved villages, proposed sites and
lawyer routes (each present when given), a layer control and a legend saying which layers are
**real** (真实) and which **modelled** (模拟), taken from ``model.quality()``.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
from branca.element import Element

from doorstep.geo.atomic import write_text
from doorstep.geo.network import road_km

from .assets import copy_vendor, inline_vendor, offline_map
from .atlas_base import add_names, add_roads, roads_key_html, service_icon
from .basemaps import DEFAULT_SOURCE, TileSource
from .layers import (
    MINUTE_CLASSES,
    TIER_GLYPH,
    TIER_STYLE,
    UNREACHABLE_COLOUR,
    UNREACHABLE_LABEL,
    MapLayers,
    minute_colour,
)

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

ROUTE_COLOURS = [
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#17becf",
    "#999999",
    "#bcbd22",
]
ONLINE = "12348 公共法律服务热线 hotline · 如法网 rufa.gov.cn · 12348 中国法网 12348.gov.cn"

#: legend rows: (layer label, quality keys whose status decides real/modelled)
LEGEND_SOURCES: list[tuple[str, str, tuple[str, ...]]] = [
    ("county", "县界 County outline", ("county",)),
    ("townships", "乡镇界 Township outlines", ("townships",)),
    ("villages", "村点位 Village points", ("villages",)),
    ("population", "人口 Population", ("population",)),
    ("service_points", "服务点 Service points", ("service_points",)),
    ("traveltime", "出行时间 / 等时圈 Travel times & bands", ("roads", "service_points")),
    ("underserved", "服务薄弱村 Underserved villages", ("population", "roads")),
    ("proposed", "建议选址 Proposed sites", ("population", "roads")),
    ("routes", "律师巡回路线 Lawyer routes", ("roads",)),
]


def layer_status(quality: dict[str, Any]) -> dict[str, bool]:
    """``{legend key: modelled?}`` — a derived layer is modelled if any input layer is."""
    q = quality.get("layers", {})
    out = {}
    for key, _label, deps in LEGEND_SOURCES:
        out[key] = any(bool(q.get(d, {}).get("modelled", True)) for d in deps)
    return out


def _legend_html(
    model: CountyModel, layers: MapLayers, present: set[str], roads_key: str = ""
) -> str:
    status = layer_status(model.quality())
    rows = []
    for key, label, _deps in LEGEND_SOURCES:
        if key not in present:
            continue
        modelled = status[key]
        tag = (
            '<span class="ds-tag ds-modelled" data-status="modelled">模拟 MODELLED</span>'
            if modelled
            else '<span class="ds-tag ds-real" data-status="real">真实 REAL</span>'
        )
        rows.append(f'<tr data-layer="{key}"><td>{html.escape(label)}</td><td>{tag}</td></tr>')
    swatches = "".join(
        f'<span class="ds-sw" style="background:{c}"></span>{html.escape(lbl)}<br>'
        for _u, c, lbl in MINUTE_CLASSES
    )
    swatches += (
        f'<span class="ds-sw" style="background:{UNREACHABLE_COLOUR}"></span>'
        f"{html.escape(UNREACHABLE_LABEL)}<br>"
    )
    tiers = "".join(
        f'<span class="ds-sw ds-round ds-glyph" style="background:{c}">'
        f"{html.escape(TIER_GLYPH.get(t, ''))}</span>{html.escape(lbl)}<br>"
        for t, (c, _r, lbl) in TIER_STYLE.items()
    )
    notes = "".join(f"<div class='ds-note'>{html.escape(n)}</div>" for n in layers.notes)
    mode = {"car": "驾车 car", "walk": "步行 walk", "motorbike": "摩托 motorbike"}.get(
        layers.mode, layers.mode
    )
    return f"""
<div id="ds-legend" class="ds-legend"><details id="ds-legend-box" open>
  <summary class="ds-h">图例 Legend</summary>
  <div class="ds-sub">村到最近有人值守服务点的时间（{mode}）<br>Village travel time to nearest staffed point</div>
  {swatches}
  <div class="ds-sub">服务点 Service points</div>
  {tiers}
  {roads_key}
  <div class="ds-sub">数据来源 Data status</div>
  <table class="ds-status">{"".join(rows)}</table>
  {notes}
  <div class="ds-online">{html.escape(ONLINE)}</div>
</details></div>
<script>
// phones: the legend starts folded (tap 图例 to open) so it does not cover the map
document.addEventListener("DOMContentLoaded", function () {{
  if (window.innerWidth < 600) {{
    var d = document.getElementById("ds-legend-box");
    if (d) d.removeAttribute("open");
  }}
}});
</script>
<style>
.ds-legend {{position:absolute; bottom:48px; left:10px; z-index:1000; background:#fff;
  padding:8px 10px; border-radius:6px; box-shadow:0 1px 5px rgba(0,0,0,.4); font:12px/1.35 sans-serif;
  max-width:300px; max-height:70vh; overflow:auto}}
.ds-h {{font-weight:bold; font-size:14px}} .ds-sub {{font-weight:bold; margin-top:6px}}
.ds-sw {{display:inline-block; width:12px; height:12px; margin-right:5px; vertical-align:middle}}
.ds-round {{border-radius:50%}}
.ds-glyph {{color:#fff; font-size:9px; line-height:12px; text-align:center}}
.ds-tag {{font-size:10px; padding:1px 4px; border-radius:3px; color:#fff; white-space:nowrap}}
.ds-real {{background:#1a9850}} .ds-modelled {{background:#d95f02}}
.ds-status td {{padding:1px 4px}} .ds-note {{color:#b00; margin-top:4px}}
.ds-online {{margin-top:6px; color:#333}}
.ds-title {{position:absolute; top:10px; left:55px; z-index:1000; background:#fff; padding:6px 10px;
  border-radius:6px; box-shadow:0 1px 5px rgba(0,0,0,.4); font:bold 15px sans-serif}}
.ds-legend summary {{cursor:pointer}}
@media (max-width: 600px) {{
  .ds-legend {{max-width:70vw; max-height:45vh}}
  .ds-title {{font-size:12px; max-width:60vw}}
  .leaflet-control-layers-list {{max-height:30vh; overflow:auto}}
  .leaflet-control-layers {{font-size:11px}}
}}
</style>
"""


def _cell(v: Any, fmt: str = "{:,.2f}") -> str:
    if v is None:
        return "—"
    return html.escape(fmt.format(v) if isinstance(v, float) else str(v))


def validation_table_html(doc: dict[str, Any]) -> str:
    """The validation report (:meth:`geo.validation.ValidationReport.as_dict`) as one HTML
    table: a header row per check (status, and why if not run), then its comparisons."""
    body = []
    for c in doc.get("checks", []):
        why = f" — {html.escape(c['why'])}" if c.get("why") else ""
        body.append(
            f'<tr class="ds-check" data-check="{html.escape(c["key"])}" '
            f'data-status="{html.escape(c["status"])}"><th colspan="6" scope="rowgroup">'
            f"{html.escape(c['title'])} [{html.escape(c['status'])}]{why}</th></tr>"
        )
        for r in c.get("rows", []):
            err = "—" if r["error_pct"] is None else f"{r['error_pct']:+.1f}"
            body.append(
                f"<tr><td>{_cell(r['item'])}</td><td>{_cell(r['model'])}</td>"
                f"<td>{_cell(r['reference'])}</td><td>{_cell(r['unit'])}</td><td>{err}</td>"
                f"<td>{_cell(r['note'])}</td></tr>"
            )
    return (
        '<table class="ds-validation"><caption>模型检验 Validation against published facts '
        f"({doc.get('checks_ok', 0)} ok, {doc.get('checks_not_run', 0)} not run)</caption>"
        "<thead><tr><th>项目 item</th><th>模型 model</th><th>参考 reference</th>"
        "<th>单位 unit</th><th>误差 error %</th><th>说明 note</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _evidence_html(sensitivity_svg: str | None, validation: dict[str, Any] | None) -> str:
    """A collapsible panel with the tornado chart and the validation table (inline, offline)."""
    if sensitivity_svg is None and validation is None:
        return ""
    parts = [
        '<details id="ds-evidence" class="ds-evidence"><summary>',
        "敏感性与模型检验 Sensitivity &amp; validation</summary>",
    ]
    if sensitivity_svg is not None:
        parts.append('<div class="ds-sub">敏感性 Sensitivity (modelled)</div>')
        parts.append(f'<div class="ds-tornado">{sensitivity_svg}</div>')
    if validation is not None:
        parts.append(validation_table_html(validation))
    parts.append("""</details>
<style>
.ds-evidence {position:absolute; top:60px; left:55px; z-index:1001; background:#fff;
  padding:6px 10px; border-radius:6px; box-shadow:0 1px 5px rgba(0,0,0,.4);
  font:12px/1.35 sans-serif; max-width:min(800px, 80vw); max-height:75vh; overflow:auto}
.ds-evidence summary {font-weight:bold; cursor:pointer}
.ds-tornado svg {max-width:100%; height:auto}
.ds-validation {border-collapse:collapse; margin-top:6px}
.ds-validation caption {font-weight:bold; text-align:left}
.ds-validation td, .ds-validation th {border:1px solid #ccc; padding:2px 4px; text-align:left}
.ds-check th {background:#eee}
</style>""")
    return "\n".join(parts)


def _props(gdf: gpd.GeoDataFrame, cols: list[str]) -> gpd.GeoDataFrame:
    keep = [c for c in cols if c in gdf.columns]
    out = gdf[[*keep, "geometry"]].copy()
    for c in keep:
        if out[c].dtype.kind == "f":
            out[c] = [None if not np.isfinite(x) else round(float(x), 1) for x in out[c]]
        elif out[c].dtype.kind not in "iub":
            out[c] = out[c].astype(str)
    return out


def _add_outlines(m: folium.Map, model: CountyModel, bm: TileSource) -> None:
    county = bm.shift(model.county[["name", "geometry"]])
    folium.GeoJson(
        county,
        name="县界 County",
        style_function=lambda _f: {"color": "#222", "weight": 3, "fill": False},
    ).add_to(m)
    towns = bm.shift(_props(model.townships, ["name", "code", "population", "polygon_source"]))
    folium.GeoJson(
        towns,
        name="乡镇 Townships",
        style_function=lambda _f: {
            "color": "#555",
            "weight": 1,
            "dashArray": "4 3",
            "fillOpacity": 0.03,
        },
        tooltip=folium.GeoJsonTooltip(
            ["name", "population"], aliases=["乡镇 Township", "人口 Population (modelled)"]
        ),
    ).add_to(m)


def _add_villages(m: folium.Map, layers: MapLayers, bm: TileSource) -> None:
    v = layers.villages.copy()
    v["colour"] = [minute_colour(x) for x in v["minutes"]]
    v = bm.shift(
        _props(
            v,
            [
                "name",
                "town_name",
                "population",
                "minutes",
                "nearest_name",
                "location_quality",
                "colour",
            ],
        ),
    )
    folium.GeoJson(
        v,
        name="村（出行时间）Villages by travel time",
        marker=folium.CircleMarker(radius=5, weight=1, fill=True, fill_opacity=0.9),
        style_function=lambda f: {"color": "#333", "fillColor": f["properties"]["colour"]},
        popup=folium.GeoJsonPopup(
            ["name", "town_name", "population", "minutes", "nearest_name", "location_quality"],
            aliases=[
                "村 Village",
                "乡镇 Township",
                "人口 Population",
                "分钟 Minutes",
                "最近服务点 Nearest point",
                "点位 Location",
            ],
        ),
    ).add_to(m)


def _add_service_points(m: folium.Map, model: CountyModel, bm: TileSource) -> None:
    sp = bm.shift(model.service_points)
    for tier, (_colour, _radius, label) in TIER_STYLE.items():
        sub = sp[sp["tier"] == tier]
        if sub.empty:
            continue
        fg = folium.FeatureGroup(name=label, show=tier != "village_room")
        for _, r in sub.iterrows():
            popup = (
                f"<b>{html.escape(str(r['name']))}</b><br>"
                f"地址 Address: {html.escape(str(r['address']))}<br>"
                f"时间 Hours: {html.escape(str(r['opening_hours']))}<br>"
                f"人员 Staff: {int(r['staff'])}<br>"
                f"电话 Phone: {html.escape(str(r['phone']))} · 热线 hotline 12348<br>"
                f"服务 Services: {html.escape(str(r['services']).replace(';', ', '))}<br>"
                f"<i>{'模拟位置 modelled location' if bool(r['modelled']) else '真实位置 surveyed'}</i>"
            )
            folium.Marker(
                [r.geometry.y, r.geometry.x],
                icon=service_icon(tier),
                tooltip=str(r["name"]),
                popup=folium.Popup(popup, max_width=320),
            ).add_to(fg)
        fg.add_to(m)


def _add_optional(m: folium.Map, layers: MapLayers, bm: TileSource) -> set[str]:
    present: set[str] = set()
    if layers.isochrones is not None and len(layers.isochrones):
        present.add("traveltime")
        iso = bm.shift(
            _props(
                layers.isochrones.sort_values("minutes", ascending=False), ["minutes", "area_km2"]
            ),
        )
        folium.GeoJson(
            iso,
            name="等时圈 Isochrone bands",
            style_function=lambda f: {
                # the band's travel-time class, as the villages' dots (≤30 was the ≤45 colour)
                "color": minute_colour(float(f["properties"]["minutes"])),
                "weight": 1,
                "fillOpacity": 0.18,
            },
            tooltip=folium.GeoJsonTooltip(
                ["minutes", "area_km2"], aliases=["≤ 分钟 min", "面积 km²"]
            ),
        ).add_to(m)
    if layers.underserved is not None and len(layers.underserved):
        present.add("underserved")
        u = bm.shift(
            _props(layers.underserved, ["name", "town_name", "population", "minutes", "reason"])
        )
        folium.GeoJson(
            u,
            name="服务薄弱村 Underserved",
            marker=folium.CircleMarker(radius=9, weight=3, fill=False),
            style_function=lambda _f: {"color": "#b2182b"},
            popup=folium.GeoJsonPopup(
                [
                    c
                    for c in ["name", "town_name", "population", "minutes", "reason"]
                    if c in u.columns
                ]
            ),
        ).add_to(m)
    if layers.proposed is not None and len(layers.proposed):
        present.add("proposed")
        p = bm.shift(_props(layers.proposed, ["name", "note", "tier"]))
        folium.GeoJson(
            p,
            name="建议选址 Proposed sites",
            marker=folium.CircleMarker(radius=8, weight=2, fill=True, fill_opacity=1.0),
            style_function=lambda _f: {"color": "#000", "fillColor": "#ffd700"},
            popup=folium.GeoJsonPopup([c for c in ["name", "note", "tier"] if c in p.columns]),
        ).add_to(m)
    if layers.routes is not None and len(layers.routes):
        present.add("routes")
        r = bm.shift(_props(layers.routes, ["lawyer", "date", "minutes", "stops"]))
        lawyers = sorted(set(r["lawyer"])) if "lawyer" in r.columns else []
        colour_of = {lw: ROUTE_COLOURS[i % len(ROUTE_COLOURS)] for i, lw in enumerate(lawyers)}
        r["colour"] = [colour_of.get(x, "#e41a1c") for x in r.get("lawyer", [])]
        folium.GeoJson(
            r,
            name="律师巡回路线 Lawyer routes",
            show=False,  # a month of routes hides the coverage colours; one click shows it
            style_function=lambda f: {
                "color": f["properties"].get("colour", "#e41a1c"),
                "weight": 3,
                "opacity": 0.8,
            },
            tooltip=folium.GeoJsonTooltip(
                [c for c in ["lawyer", "date", "minutes", "stops"] if c in r.columns]
            ),
        ).add_to(m)
    return present


def atlas_map(
    model: CountyModel,
    layers: MapLayers,
    basemap: TileSource = DEFAULT_SOURCE,
    vendor_prefix: str = "vendor",
    sensitivity_svg: str | None = None,
    validation: dict[str, Any] | None = None,
) -> folium.Map:
    """Build the folium map of the county (see module docstring); with ``sensitivity_svg``
    (:func:`webmap.charts.tornado_svg`) or ``validation`` (a validation report's dict) also a
    collapsible evidence panel showing them."""
    bm = basemap
    minx, miny, maxx, maxy = model.county.total_bounds
    m = offline_map(
        prefix=vendor_prefix,
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=10,
        control_scale=True,
    )
    if bm.url:
        folium.TileLayer(
            bm.url, attr=bm.attribution, name=bm.label, subdomains=bm.subdomains
        ).add_to(m)
    else:
        add_roads(m, model)
    _add_outlines(m, model, bm)
    add_names(m, model, bm)
    present = {"county", "townships", "villages", "population", "service_points", "traveltime"}
    present |= _add_optional(m, layers, bm)
    _add_villages(m, layers, bm)
    _add_service_points(m, model, bm)
    folium.LayerControl(collapsed=False).add_to(m)
    root = m.get_root()
    root.html.add_child(  # type: ignore[attr-defined]
        Element(
            f'<div class="ds-title">{html.escape(model.name)} 家门口法律服务地图 · '
            "Doorstep legal services atlas</div>"
        )
    )
    extra = "" if bm.url else roads_key_html(road_km(model.graph))
    root.html.add_child(Element(_legend_html(model, layers, present, extra)))  # type: ignore[attr-defined]
    evidence = _evidence_html(sensitivity_svg, validation)
    if evidence:
        root.html.add_child(Element(evidence))  # type: ignore[attr-defined]
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def build_atlas(
    model: CountyModel,
    layers: MapLayers,
    out: str | Path,
    basemap: TileSource = DEFAULT_SOURCE,
    sensitivity_svg: str | None = None,
    validation: dict[str, Any] | None = None,
    single_file: bool = False,
) -> list[Path]:
    """Write the static atlas to ``out`` and return the files written (``sensitivity_svg`` and
    ``validation``: see :func:`atlas_map`).

    ``out/index.html`` is the county map; ``out/vendor/`` holds the JS/CSS so the page opens
    from ``file://`` with no network (unless an online basemap is chosen). With
    ``single_file`` the JS/CSS are written into ``index.html`` instead: one file to e-mail.
    """
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    if not single_file:
        copy_vendor(outdir)
    m = atlas_map(
        model,
        layers,
        basemap=basemap,
        vendor_prefix="vendor",
        sensitivity_svg=sensitivity_svg,
        validation=validation,
    )
    page = m.get_root().render()
    page = page.replace(
        "<head>",
        '<head>\n<meta charset="utf-8">\n<title>'
        f"{html.escape(model.name)} 家门口法律服务地图 Doorstep atlas</title>",
        1,
    )
    if single_file:
        page = inline_vendor(page, "vendor")
    index = outdir / "index.html"
    write_text(index, page)
    log.info("atlas written to %s", index)
    return [index] if single_file else [index, outdir / "vendor"]
