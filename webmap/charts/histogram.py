"""The distribution of travel times: a population-weighted histogram per mode.

One panel per mode (small multiples, stacked), bars from the bin edges the analysis chose
(:mod:`analysis.distribution`): the bar over ``(a, b]`` minutes is as tall as the persons
whose village is ``a``–``b`` minutes from the nearest staffed point. Unreachable persons, if
any, are named under the panel. Nothing is counted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ..layers import UNREACHABLE_LABEL
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

LEFT = 80
RIGHT = 20
TOP = 44
PANEL_H = 150
PLOT_H = 100
BOTTOM = 24
MODE_ZH = {"car": "汽车 car", "motorbike": "摩托车 motorbike", "walk": "步行 walk"}
COLOURS = {"car": "#2171b5", "motorbike": "#6a51a3", "walk": "#238b45"}


def _panel(i: int, h: Mapping[str, Any], x0: float, x1: float, y_unit: str) -> list[str]:
    """One mode: y grid with persons, bars per bin, x ticks in minutes, mode title."""
    mode = str(h["mode"])
    edges = [float(e) for e in h["edges_minutes"]]
    pop = [int(p) for p in h["population"]]
    top = TOP + i * PANEL_H + 16
    base = top + PLOT_H
    ymax = nice_max(max(pop, default=0))
    py = linear(0.0, ymax, base, top)
    px = linear(edges[0], edges[-1], x0, x1)
    colour = COLOURS.get(mode, "#555")
    out = [
        f'<g class="panel" data-mode="{escape(mode)}">',
        f'<text x="{x0}" y="{top - 6}" font-weight="bold">{escape(MODE_ZH.get(mode, mode))}</text>',
    ]
    for t in ticks(0.0, ymax, 3):
        y = py(t)
        out.append(grid_line(x0, y, x1, y) + tick_label(x0 - 4, y + 4, f"{t:,.0f}", anchor="end"))
    for a, b, p in zip(edges[:-1], edges[1:], pop, strict=True):
        xa, xb = px(a), px(b)
        out.append(
            f'<rect class="bin" x="{xa + 0.5:.2f}" y="{py(p):.2f}" width="{max(xb - xa - 1, 0.5):.2f}" '
            f'height="{base - py(p):.2f}" fill="{colour}" data-from="{a:g}" data-to="{b:g}" '
            f'data-persons="{p}"><title>{a:g}–{b:g} 分钟 min: {p:,} 人 persons</title></rect>'
        )
    step = max(1, (len(edges) - 1) // 10)
    for e in edges[::step]:
        out.append(tick_label(px(e), base + 13, f"{e:g}"))
    out.append(axis_label(LEFT - 58, (top + base) / 2, y_unit, rotate=True))
    unreachable = int(h.get("unreachable", 0))
    if unreachable:
        out.append(
            f'<text x="{x1}" y="{top - 6}" text-anchor="end" fill="#b00">'
            f"{escape(UNREACHABLE_LABEL)}: {unreachable:,} 人 persons</text>"
        )
    out.append("</g>")
    return out


def histogram_svg(
    hists: Sequence[Mapping[str, Any]],
    *,
    title: str,
    source: str,
    x_unit: str = "到最近服务点的时间 time to the nearest staffed point (分钟 minutes)",
    y_unit: str = "人口 persons",
    width: int = 760,
) -> str:
    """Population-weighted histograms (``mode``, ``edges_minutes``, ``population`` per bin,
    optional ``unreachable`` persons), one panel per entry, as a standalone SVG document."""
    x0, x1 = LEFT, width - RIGHT
    height = TOP + PANEL_H * max(len(hists), 1) + BOTTOM + 20
    parts = open_svg(width, height, "time-histogram", title)
    for i, h in enumerate(hists):
        parts += _panel(i, h, x0, x1, y_unit)
    y_axis = TOP + PANEL_H * len(hists) + 4
    parts.append(axis_label((x0 + x1) / 2, y_axis, x_unit))
    parts.append(source_line(10, height - 8, source))
    return close_svg(parts)
