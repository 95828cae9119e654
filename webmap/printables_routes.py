"""Route sheets 巡回路线单: one A4 page per adviser-day, one document per adviser.

A page lists the day's stops in order (village name and code, arrival and leave times, minutes
and km of each leg from the previous stop, the way home and the totals, all as the planner
computed them), the lunch break, a small map of the day (county outline, the day's legs,
numbered stops, the base; :mod:`webmap.svgmap`), the adviser's phone, 12348 and a signature
line.
"""

from __future__ import annotations

from html import escape

from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from doorstep.analysis.circuits.model import hhmm, weekday_zh
from doorstep.analysis.circuits.plan import DayRoute

from .printables_data import HOTLINE, PrintablePlan, document
from .svgmap import Frame, Layer, svg_map

MAP_W, MAP_H = 640, 400
MIN_SPAN_DEG = 0.04  # about 4 km: a day near the base is not drawn at street scale
ROUTE_COLOUR = "#b03a2e"


def route_map_svg(pp: PrintablePlan, r: DayRoute) -> str:
    """The day's map: outline, legs (road lines when the plan has them), numbered stops, base."""
    line = pp.lines.get((r.lawyer_id, r.date.isoformat()))
    pts = [pp.coords[k] for k in r.path if k in pp.coords]
    if line is None and len(pts) >= 2:
        line = LineString(pts)
    frame = Frame.fit(_bounds(line, pts), width=MAP_W, height=MAP_H, margin=40)
    base = pp.coords.get(r.base)
    svg = svg_map(
        frame,
        _layers(pp, r, frame, line),
        title=f"{r.lawyer} {r.date.isoformat()} 路线图 route map",
        source=f"路线 route: {pp.line_source}; 村点与路网部分为模型 villages/roads partly modelled",
    )
    labels = [(frame.xy(*base), "", f"驻点 {r.base_name}")] if base is not None else []
    labels += [
        (frame.xy(*pp.coords[s.village_id]), str(i), s.village)
        for i, s in enumerate(r.stops, start=1)
        if s.village_id in pp.coords
    ]
    return svg.replace("</svg>", _labels_svg(labels) + "</svg>")


def _layers(pp: PrintablePlan, r: DayRoute, frame: Frame, line: BaseGeometry | None) -> list[Layer]:
    """Outline (the visible part), the day's line, the base and the stops, bottom to top."""
    base = pp.coords.get(r.base)
    stops = [Point(pp.coords[s.village_id]) for s in r.stops if s.village_id in pp.coords]
    layers = []
    if pp.outline is not None:
        layers.append(
            Layer(
                [_visible_outline(pp.outline, frame)],
                stroke="#777",
                width=1.2,
                fill="#f1efe6",
                legend="县界 county",
            )
        )
    if line is not None:
        layers.append(
            Layer(
                [line], stroke=ROUTE_COLOUR, width=2.5, css_class="route-legs", legend="路线 route"
            )
        )
    if base is not None:
        layers.append(
            Layer(
                [Point(base)],
                fill="#111",
                stroke="#fff",
                radius=6,
                css_class="route-base",
                legend="驻点 base",
            )
        )
    layers.append(
        Layer(
            stops,
            fill="#fff",
            stroke=ROUTE_COLOUR,
            width=1,
            radius=8,
            css_class="route-stops",
            legend="走访村 stop",
        )
    )
    return layers


def _labels_svg(labels: list[tuple[tuple[float, float], str, str]]) -> str:
    """Stop numbers inside the stop circles and names beside them on a white box, moved down a
    line (with a leader) where they would overprint an earlier name — denser than the plain
    point labels of :mod:`webmap.svgmap`, which a day's close-together stops would need."""
    out = ['<g class="stop-labels" font-size="11">']
    placed: list[tuple[float, float]] = []
    for (x, y0), number, name in labels:
        y = y0
        while any(abs(px - x) < 90 and abs(py - y) < 13 for px, py in placed):
            y += 13  # a name would overprint an earlier one: move it down a line
        placed.append((x, y))
        if y != y0:
            out.append(
                f'<path d="M{x:.1f},{y0:.1f} L{x + 9:.1f},{y:.1f}" stroke="#555" '
                'stroke-width="0.6"/>'
            )
        if number:
            out.append(
                f'<text class="stop-no" x="{x:.1f}" y="{y0 + 4:.1f}" text-anchor="middle" '
                f'font-weight="bold" fill="{ROUTE_COLOUR}">{number}</text>'
            )
        left = x > MAP_W * 0.7  # near the right edge: the name goes left of the point
        tx, anchor = (x - 11, "end") if left else (x + 11, "start")
        w = 11.0 * len(name) + 4  # CJK glyphs are about one em (11 px) wide
        rx = tx - w + 2 if left else tx - 2
        out.append(
            f'<rect x="{rx:.1f}" y="{y - 8:.1f}" width="{w:.0f}" height="15" fill="#fff" '
            f'opacity="0.85"/><text x="{tx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" '
            f'fill="#111">{escape(name)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _visible_outline(outline: BaseGeometry, frame: Frame) -> BaseGeometry:
    """The part of the outline inside the map (cut a few pixels beyond its edges, so the cut is
    not drawn), without detail finer than a pixel: drawing only, a full county outline on every
    page of a month's route sheets slows the PDF down."""
    px = 1.0 / frame.scale  # one pixel in degrees of latitude
    pad = 5
    west = frame.minx - (frame.ox + pad) / (frame.kx * frame.scale)
    east = frame.minx + (frame.width - frame.ox + pad) / (frame.kx * frame.scale)
    north = frame.maxy + (frame.oy + pad) / frame.scale
    south = frame.maxy - (frame.height - frame.oy + pad) / frame.scale
    return outline.intersection(box(west, south, east, north)).simplify(px, preserve_topology=True)


def _bounds(line: BaseGeometry | None, pts: list[tuple[float, float]]) -> tuple[float, ...]:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    if line is not None:
        minx, miny, maxx, maxy = line.bounds
        xs += [minx, maxx]
        ys += [miny, maxy]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    hw = max(max(xs) - min(xs), MIN_SPAN_DEG) / 2
    hh = max(max(ys) - min(ys), MIN_SPAN_DEG) / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def _legs_table(r: DayRoute) -> str:
    rows = [
        f'<tr class="base"><td>—</td><td>出发 leave {escape(r.base_name)}</td><td></td><td></td>'
        f"<td></td><td>{hhmm(r.depart)}</td><td></td><td></td></tr>"
    ]
    for i, s in enumerate(r.stops, start=1):
        rows.append(
            f'<tr class="stop" data-village="{escape(s.village_id)}"><td>{i}</td>'
            f"<td>{escape(s.village)}</td><td>{escape(s.village_id)}</td>"
            f"<td>{escape(s.township)}</td><td>{hhmm(s.arrival)}</td><td>{hhmm(s.departure)}</td>"
            f'<td class="num">{s.travel_min:.0f}</td><td class="num">{s.travel_km:.1f}</td></tr>'
        )
    rows.append(
        f'<tr class="base"><td>—</td><td>返回 back at {escape(r.base_name)}</td><td></td><td></td>'
        f'<td>{hhmm(r.back)}</td><td></td><td class="num">{r.home_min:.0f}</td>'
        f'<td class="num">{r.home_km:.1f}</td></tr>'
    )
    rows.append(
        f'<tr class="total"><td></td><td colspan="5">合计 total: 驻村 on site {r.onsite_min:.0f} min'
        f'</td><td class="num">{r.drive_min:.0f}</td>'
        f'<td class="num total-km">{r.drive_km:.1f}</td></tr>'
    )
    cols = "".join(f'<col style="width: {w}%">' for w in (6, 31, 15, 12, 9, 9, 9, 9))
    head = (
        "<tr><th>序 no.</th><th>村 village</th><th>村代码 code</th><th>乡镇 township</th>"
        "<th>到达 arrive</th><th>离开 leave</th><th>车程 min</th><th>里程 km</th></tr>"
    )
    return (
        f'<table class="legs"><colgroup>{cols}</colgroup><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def route_page(pp: PrintablePlan, r: DayRoute) -> str:
    """One adviser-day as a page (a ``<section>``)."""
    lunch = (
        f"午餐 lunch {hhmm(r.lunch_start)}–{hhmm(r.lunch_end)} @ {escape(r.lunch_place)} · "
        if r.lunch_start is not None and r.lunch_end is not None
        else ""
    )
    return (
        f'<section class="sheet" data-date="{r.date.isoformat()}">'
        f"<h1>巡回路线单 Route sheet · {escape(r.lawyer)} · {r.date.isoformat()} "
        f"{weekday_zh(r.date)}</h1>"
        f'<p class="meta">{escape(pp.county)} {pp.plan.month} · 顾问电话 adviser phone '
        f"<b>{escape(pp.phone(r.lawyer_id))}</b> · 公共法律服务热线 hotline <b>{HOTLINE}</b></p>"
        f'<p class="meta">排班来源 plan source: {escape(pp.source)}</p>'
        f"{_legs_table(r)}"
        f'<p class="meta">{lunch}车程、里程为路网模型估算（分钟、公里）modelled drive minutes '
        "and km on the road network; leg = from the previous stop</p>"
        f'<div class="map">{route_map_svg(pp, r)}</div>'
        '<table class="sign"><tr><td>顾问签名 Adviser signature</td><td>日期 Date</td>'
        "<td>村（居）委会签章 Village stamp</td></tr></table>"
        "</section>"
    )


def route_sheets_html(pp: PrintablePlan, lawyer_id: str) -> str:
    """All route sheets of one adviser for the month (a page per day, date order)."""
    routes = pp.plan.routes_of(lawyer_id)
    name = next((lw.name for lw in pp.plan.lawyers if lw.id == lawyer_id), lawyer_id)
    title = f"{pp.county} {pp.plan.month} {name} 巡回路线单 Route sheets"
    pages = "".join(route_page(pp, r) for r in routes) or (
        f'<section class="sheet"><h1>{escape(title)}</h1><p>本月无走访 no visits this month</p>'
        "</section>"
    )
    return document(title, _CSS, pages, orientation="portrait", footer=pp.footer())


_CSS = (
    " .sheet { page-break-after: always; break-after: page; }"
    " .sheet:last-child { page-break-after: auto; break-after: auto; }"
    " table.legs { width: 100%; table-layout: fixed; font-size: 9pt; margin: 1mm 0 2mm; }"
    " .legs th, .legs td { border: 0.5pt solid #777; padding: 1pt 3pt; text-align: left;"
    " overflow-wrap: anywhere; }"
    " .legs thead th { background: #e8eef5; }"
    " .legs td.num { text-align: right; }"
    " .legs tr.base td { color: #333; background: #f6f6f6; }"
    " .legs tr.total td { font-weight: bold; }"
    " .sheet h1 { font-size: 12.5pt; }"
    " .map svg { width: 100%; height: auto; max-height: 118mm; }"
    " table.sign { width: 100%; margin-top: 8mm; font-size: 9pt; }"
    " .sign td { border-bottom: 0.8pt solid #111; height: 12mm; vertical-align: bottom;"
    " padding: 0 3mm 1mm 0; width: 33%; }"
    " @media screen { .sheet { border-bottom: 2px dashed #999; padding-bottom: 8mm;"
    " margin-bottom: 8mm; } }"
)
