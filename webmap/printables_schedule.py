"""The monthly 排班表 (schedule): one A4 landscape page, dates × advisers, villages per day.

Rows are the days of the month (weekends and statutory holidays shaded, make-up workdays
marked), columns the advisers (name and phone); a cell lists the villages the adviser visits
that day in route order, or says 请假 leave. The font size is the largest that keeps the month
on one page for the number of advisers and the longest day (:func:`fit_font_pt`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

from doorstep.analysis.circuits.model import weekday_zh

from .printables_data import HOTLINE, PrintablePlan, document

PAGE_W_PT, PAGE_H_PT = 842.0, 595.0  # A4 landscape
MARGINS_W_PT, MARGINS_H_PT = 68.0, 74.0  # page_css: 12 mm left/right, 12 mm top + 14 mm bottom
DATE_COL_PT = 66.0  # "10-10 周六 节假日" at 8 pt
FIXED_H_PT = 80.0  # title, two meta lines, legend, spacing
LINE_HEIGHT = 1.2
FONT_STEPS = (8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5)
_KIND_LABEL = {"holiday": "节假日", "weekend": "周末", "makeup": "补班"}  # English in the key


def day_cells(pp: PrintablePlan) -> list[tuple[dt.date, list[str]]]:
    """Per day of the month, one cell text per adviser (villages in route order, ``请假 leave``
    on a leave day, empty otherwise)."""
    plan = pp.plan
    by_key = {(r.lawyer_id, r.date): r for r in plan.routes}
    days = (
        plan.calendar.days() if plan.calendar is not None else sorted({r.date for r in plan.routes})
    )
    out = []
    for d in days:
        row = []
        for lw in plan.lawyers:
            r = by_key.get((lw.id, d))
            if r is not None:
                row.append("、".join(s.village for s in r.stops))
            else:
                row.append("请假 leave" if d in lw.leave else "")
        out.append((d, row))
    return out


def fit_font_pt(rows: Sequence[Sequence[str]], heads: Sequence[str]) -> float:
    """The largest font size (pt) of :data:`FONT_STEPS` at which the table's estimated height
    — the header (adviser names, bold, and a phone line) and the day rows — fits the page (a
    CJK character is about one em wide; cells wrap)."""
    col_w = (PAGE_W_PT - MARGINS_W_PT - DATE_COL_PT) / max(len(heads), 1) - 4
    avail = PAGE_H_PT - MARGINS_H_PT - FIXED_H_PT
    for f in FONT_STEPS:
        per_line = max(int(col_w / f), 1)
        head = 1 + max([1, *(math.ceil(len(h) * 1.1 / per_line) for h in heads)])
        lines = head + sum(max([1, *(math.ceil(len(c) / per_line) for c in r)]) for r in rows)
        if lines * f * LINE_HEIGHT + (len(rows) + 1) * 2.5 <= avail:
            return f
    return FONT_STEPS[-1]


def schedule_html(pp: PrintablePlan) -> str:
    """The 排班表 as a print-ready HTML document (A4 landscape, one page)."""
    plan = pp.plan
    cells = day_cells(pp)
    font = fit_font_pt([row for _, row in cells], [lw.name for lw in plan.lawyers])
    heads = "".join(
        f'<th scope="col" class="adviser" data-lawyer="{escape(lw.id)}">{escape(lw.name)}'
        f'<br><span class="phone">{escape(pp.phone(lw.id))}</span></th>'
        for lw in plan.lawyers
    )
    body_rows = "".join(_row(pp, d, row) for d, row in cells)
    title = f"{pp.county} {plan.month} 法律顾问排班表 Adviser schedule"
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">排班来源 plan source: <b class="source">{escape(pp.source)}</b></p>'
        f'<p class="meta">{plan.scheduled_visits} / {plan.required_visits} 次走访已排 visits '
        f"scheduled · 格内为当天走访的村（按路线顺序）villages visited that day, in route order "
        f"· 群众热线 hotline {HOTLINE}</p>"
        f'<table class="schedule"><thead><tr><th scope="col" class="date">日期 date</th>{heads}'
        f"</tr></thead><tbody>{body_rows}</tbody></table>"
        '<p class="legend"><span class="key holiday"></span> 节假日 statutory holiday '
        '<span class="key weekend"></span> 周末 weekend '
        '<span class="key makeup"></span> 补班 make-up workday '
        '<span class="key leave"></span> 请假 leave</p>'
        f'<p class="screen-foot">{escape(pp.footer())}</p>'
    )
    return document(title, _css(font), body, orientation="landscape", footer=pp.footer())


def _row(pp: PrintablePlan, d: dt.date, row: list[str]) -> str:
    cal = pp.plan.calendar
    kind = cal.day_kind(d) if cal is not None else "workday"
    label = f" {_KIND_LABEL[kind]}" if kind in ("holiday", "makeup") else ""
    tds = "".join(
        f'<td class="{"leave" if c.startswith("请假") else "visits" if c else "free"}">'
        f"{escape(c)}</td>"
        for c in row
    )
    return (
        f'<tr class="day {kind}" data-date="{d.isoformat()}"><th scope="row" class="date">'
        f"{d.month}-{d.day:02d} {weekday_zh(d)}<span class='kind'>{escape(label)}</span></th>"
        f"{tds}</tr>"
    )


def _css(font: float) -> str:
    return (
        f" table.schedule {{ width: 100%; table-layout: fixed; font-size: {font:g}pt;"
        f" line-height: {LINE_HEIGHT}; }}"
        " .schedule th, .schedule td { border: 0.5pt solid #777; padding: 0.6pt 1.5pt;"
        " vertical-align: top; overflow-wrap: anywhere; }"
        f" .schedule th.date {{ width: {DATE_COL_PT:g}pt; text-align: left; white-space: nowrap; overflow: hidden; }}"
        " .schedule thead th { background: #e8eef5; }"
        " .schedule .phone { font-weight: normal; color: #333; }"
        " .schedule .kind { font-weight: normal; font-size: 0.85em; }"
        " tr.weekend th, tr.weekend td { background: #eeeeee; }"
        " tr.holiday th, tr.holiday td { background: #f9dcdc; }"
        " tr.makeup th { background: #fff2cc; }"
        " td.leave { background: #dde7f3; color: #333; }"
        " .legend { font-size: 7pt; margin: 1.5mm 0 0; }"
        " .key { display: inline-block; width: 8pt; height: 6pt; border: 0.5pt solid #777; }"
        " .key.holiday { background: #f9dcdc; } .key.weekend { background: #eeeeee; }"
        " .key.makeup { background: #fff2cc; } .key.leave { background: #dde7f3; }"
        " .screen-foot { font-size: 7pt; color: #555; }"
        " @media print { .screen-foot { display: none; } }"
    )
