"""Coverage by township as horizontal bars with the 5–95 % whisker.

One bar per row, its length the share of the population meeting the target (0–100 % over the
plot width), a whisker from the 5th to the 95th percentile of the ensemble when given, and a
dashed line at the county share. The shares come from the analysis; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ._svg import (
    axis_label,
    close_svg,
    grid_line,
    linear,
    open_svg,
    percent,
    source_line,
    tick_label,
)

LABEL_W = 150
VALUE_W = 150
ROW_H = 20
TOP = 50
BOTTOM = 58
BAR_COLOUR = "#2171b5"
MISS_COLOUR = "#d95f02"  # a township that does not comply


def _row(i: int, row: Mapping[str, Any], px: Any, x0: float) -> str:
    """Label, bar, whisker and value text of one township."""
    y = TOP + i * ROW_H
    share = float(row["share"])
    lo, hi = row.get("p05"), row.get("p95")
    name = escape(str(row["name"]))
    colour = BAR_COLOUR if row.get("complies", True) else MISS_COLOUR
    rng = "" if lo is None or hi is None else f" ({100 * lo:.0f}–{100 * hi:.0f} %)"
    out = [
        f'<text x="{x0 - 6}" y="{y + 14}" text-anchor="end">{name}</text>',
        f'<rect class="bar" x="{x0}" y="{y + 3}" width="{px(share) - x0:.2f}" height="{ROW_H - 6}" '
        f'fill="{colour}" data-name="{name}" data-share="{share:.6f}">'
        f"<title>{name}: {share:.1%}{rng}</title></rect>",
    ]
    if lo is not None and hi is not None:
        a, b, ym = px(float(lo)), px(float(hi)), y + ROW_H / 2
        out.append(
            f'<path class="whisker" d="M{a:.2f},{ym - 4} V{ym + 4} M{a:.2f},{ym} H{b:.2f} '
            f'M{b:.2f},{ym - 4} V{ym + 4}" stroke="#111" fill="none" '
            f'data-p05="{float(lo):.6f}" data-p95="{float(hi):.6f}"/>'
        )
    right = px(max(share, float(hi) if hi is not None else share))
    out.append(f'<text x="{right + 6:.1f}" y="{y + 14}" fill="#333">{share:.1%}{rng}</text>')
    return "".join(out)


def coverage_bars_svg(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    axis: str,
    source: str,
    county_share: float | None = None,
    width: int = 760,
) -> str:
    """Horizontal bars of ``rows`` (``name``, ``share`` 0–1, optional ``p05``/``p95`` and
    ``complies``), in the given order, as a standalone SVG document. The x axis runs from 0 to
    100 %; ``axis`` is its title (with the unit), ``source`` the data-source line."""
    x0, x1 = LABEL_W, width - VALUE_W
    px = linear(0.0, 1.0, x0, x1)
    n = max(len(rows), 1)
    y_end = TOP + ROW_H * len(rows)
    height = TOP + ROW_H * n + BOTTOM
    parts = open_svg(width, height, "coverage-bars", title)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = px(t)
        parts.append(grid_line(x, TOP - 4, x, y_end) + tick_label(x, y_end + 14, percent(t)))
    parts += [_row(i, r, px, x0) for i, r in enumerate(rows)]
    if county_share is not None:
        xc = px(county_share)
        parts.append(
            f'<line class="county" x1="{xc:.1f}" y1="{TOP - 8}" x2="{xc:.1f}" y2="{y_end}" '
            f'stroke="#000" stroke-dasharray="4 3"/><text x="{xc:.1f}" y="{TOP - 11}" '
            f'text-anchor="middle">全县 county {county_share:.1%}</text>'
        )
    parts.append(axis_label((x0 + x1) / 2, y_end + 32, axis))
    parts.append(source_line(10, height - 8, source))
    return close_svg(parts)
