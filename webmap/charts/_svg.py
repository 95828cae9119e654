"""Shared pieces of the hand-written SVG charts: linear scales, round ticks, the document frame
with its title, axis labels and the data-source line."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from doorstep.webmap.printing import CJK_FONT_STACK

Scale = Callable[[float], float]

FONT = CJK_FONT_STACK.replace('"', "'")
"""One font for the Chinese and the Latin text of a chart (and one font to embed in the PDF)."""
MUTED = "#555"
GRID = "#ddd"


def linear(lo: float, hi: float, p0: float, p1: float) -> Scale:
    """Map values ``[lo, hi]`` linearly onto pixels ``[p0, p1]`` (a flat domain maps to ``p0``)."""
    span = hi - lo

    def px(v: float) -> float:
        return p0 if span == 0 else p0 + (v - lo) / span * (p1 - p0)

    return px


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (1, 2, 2.5, 5 × 10^k steps) from ``lo`` to ``hi``."""
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 0.01
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def nice_max(v: float) -> float:
    """The smallest round number (1, 2, 2.5, 5 × 10^k) at or above ``v`` (1 for ``v <= 0``)."""
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= v - 1e-12)


def open_svg(
    width: int,
    height: int,
    chart_id: str,
    title: str,
    subtitle: str = "",
    *,
    accessible_title: str = "",
) -> list[str]:
    """The start of a standalone chart: ``<svg>`` with an accessible title (``title`` unless
    ``accessible_title`` is given), white background, the title line and an optional grey
    subtitle line."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(chart_id)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{FONT}" font-size="12" role="img" aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(accessible_title or title)}</title>',
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    if subtitle:
        parts.append(f'<text x="10" y="36" fill="{MUTED}">{escape(subtitle)}</text>')
    return parts


def percent(t: float) -> str:
    """A share 0–1 as a tick label in per cent (``0.125`` → ``12.5%``)."""
    return f"{100 * t:.4g}%"


def grid_line(x1: float, y1: float, x2: float, y2: float) -> str:
    """A light grid line across the plot at a tick."""
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{GRID}"/>'


def tick_label(x: float, y: float, label: str, *, anchor: str = "middle") -> str:
    """The value written at a tick of an axis."""
    return (
        f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(label)}</text>'
    )


def source_line(x: float, y: float, source: str) -> str:
    """The data-source line (e.g. ``数据来源 Source: 模拟 modelled …``) of a chart."""
    return f'<text class="source" x="{x:.1f}" y="{y:.1f}" font-size="10" fill="{MUTED}">{escape(source)}</text>'


def axis_label(
    x: float, y: float, text: str, *, anchor: str = "middle", rotate: bool = False
) -> str:
    """An axis title (with its unit); ``rotate`` turns it to run up a vertical axis."""
    rot = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (
        f'<text class="axis-label" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{rot}>'
        f"{escape(text)}</text>"
    )


def close_svg(parts: list[str]) -> str:
    """The finished SVG document."""
    return "\n".join([*parts, "</svg>"]) + "\n"
