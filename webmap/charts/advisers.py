"""Each adviser's month: kilometres driven, hours (driving and on site) and village visits, as
three bar panels side by side, one row per adviser, figures from the circuit plan
(:meth:`analysis.circuits.plan.MonthPlan.lawyer_summary`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ._svg import (
    axis_label,
    close_svg,
    grid_line,
    linear,
    nice_max,
    open_svg,
    source_line,
    tick_label,
    ticks,
)

LABEL_W = 110
GAP = 30
ROW_H = 22
TOP = 60
BOTTOM = 62
DRIVE = "#2171b5"
ONSITE = "#9ecae1"
VISITS = "#238b45"
PANELS = (
    ("km", "里程 distance (km)"),
    ("hours", "小时 hours: 驾车 driving + 驻村 on site"),
    ("visits", "走访 village visits (次 count)"),
)


def short_name(name: str) -> str:
    """The adviser's name without the base in brackets (``律师1（…工作站）`` → ``律师1``); the
    full name is in the report's table."""
    return re.split(r"[（(]", name, maxsplit=1)[0].strip() or name


def _segments(metric: str, row: Mapping[str, Any]) -> list[tuple[str, float, str]]:
    """(metric key, value, colour) of the stacked pieces of one bar."""
    if metric == "hours":
        return [
            ("drive_hours", float(row["drive_hours"]), DRIVE),
            ("onsite_hours", float(row["onsite_hours"]), ONSITE),
        ]
    return [(metric, float(row[metric]), DRIVE if metric == "km" else VISITS)]


def _panel(
    metric: str, label: str, rows: Sequence[Mapping[str, Any]], x0: float, x1: float
) -> list[str]:
    totals = [sum(v for _, v, _ in _segments(metric, r)) for r in rows]
    vmax = nice_max(max(totals, default=0.0))
    px = linear(0.0, vmax, x0, x1)
    y_end = TOP + ROW_H * len(rows)
    out = [f'<g class="panel" data-metric="{metric}">']
    for t in ticks(0.0, vmax, 3):
        out.append(
            grid_line(px(t), TOP - 4, px(t), y_end) + tick_label(px(t), y_end + 14, f"{t:g}")
        )
    for i, r in enumerate(rows):
        y, x = TOP + i * ROW_H, x0
        for key, v, colour in _segments(metric, r):
            w = px(v) - x0
            out.append(
                f'<rect class="bar" x="{x:.2f}" y="{y + 4}" width="{w:.2f}" height="{ROW_H - 8}" '
                f'fill="{colour}" data-metric="{key}" data-value="{v:g}" '
                f'data-adviser="{escape(str(r["lawyer"]))}"><title>{escape(str(r["lawyer"]))} '
                f"{key}: {v:g}</title></rect>"
            )
            x += w
        total = sum(v for _, v, _ in _segments(metric, r))
        txt = f"{total:,.0f}" if float(total).is_integer() else f"{total:,.1f}"
        out.append(f'<text x="{x + 3:.1f}" y="{y + 15}" font-size="10">{txt}</text>')
    out.append(axis_label((x0 + x1) / 2, y_end + 32, label))
    out.append("</g>")
    return out


def adviser_bars_svg(
    rows: Sequence[Mapping[str, Any]], *, title: str, source: str, width: int = 760
) -> str:
    """Rows (``lawyer``, ``km``, ``drive_hours``, ``onsite_hours``, ``visits``) as three bar
    panels — km, hours (driving and on site stacked), visits — as a standalone SVG document."""
    panel_w = (width - LABEL_W - GAP * len(PANELS)) / len(PANELS)
    height = TOP + ROW_H * max(len(rows), 1) + BOTTOM
    parts = open_svg(width, height, "adviser-month", title)
    for i, r in enumerate(rows):
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{TOP + i * ROW_H + 15}" text-anchor="end">'
            f"{escape(short_name(str(r['lawyer'])))}</text>"
        )
    for j, (metric, label) in enumerate(PANELS):
        x0 = LABEL_W + j * (panel_w + GAP)
        parts += _panel(metric, label, rows, x0, x0 + panel_w - 24)
    parts.append(
        f'<text x="{LABEL_W}" y="{TOP - 22}" fill="#555"><tspan fill="{DRIVE}">■</tspan> 驾车 '
        f'driving  <tspan fill="{ONSITE}">■</tspan> 驻村 on site</text>'
    )
    parts.append(source_line(10, height - 8, source))
    return close_svg(parts)
