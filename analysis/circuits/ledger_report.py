"""Monthly report from a filled ledger (台账): per township and per adviser, the figures a
司法所 reports upward — visits made, missed and left blank, persons served, disputes mediated and
resolved, follow-ups, and the count of each service content."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from doorstep.geo.atomic import write_bytes

from .export import SERVICE_KINDS
from .ledger import LedgerEntry, visit_status

REPORT_FIELDS: tuple[tuple[str, str], ...] = (
    ("planned", "计划走访 planned"),
    ("visited", "已走访 visited"),
    ("missed", "未走访 missed"),
    ("blank", "未填写 not filled in"),
    ("persons", "服务人数 persons served"),
    ("mediated", "调解纠纷 disputes mediated"),
    ("resolved", "调解成功 disputes resolved"),
    ("follow_up", "需跟进 follow-ups"),
    ("onsite_hours", "驻村时长 hours on site"),
)


def _row(entries: Sequence[LedgerEntry]) -> dict[str, Any]:
    """Sums over ``entries`` (one report line)."""
    status = [visit_status(e) for e in entries]
    hours = sum(
        (e.left - e.arrived) / 60 for e in entries if e.left is not None and e.arrived is not None
    )
    return {
        "planned": len(entries),
        "visited": status.count("visited"),
        "missed": status.count("missed"),
        "blank": status.count("blank"),
        "persons": sum(e.persons or 0 for e in entries),
        "mediated": sum(e.mediated or 0 for e in entries),
        "resolved": sum(e.resolved or 0 for e in entries),
        "follow_up": sum(e.follow_up is True for e in entries),
        "onsite_hours": round(hours, 2),
        "services": {k: sum(k in e.services for e in entries) for k in SERVICE_KINDS},
    }


def _grouped(
    entries: Sequence[LedgerEntry], key: Callable[[LedgerEntry], tuple[str, ...]]
) -> dict[tuple[str, ...], list[LedgerEntry]]:
    out: dict[tuple[str, ...], list[LedgerEntry]] = {}
    for e in entries:
        out.setdefault(key(e), []).append(e)
    return dict(sorted(out.items()))


def ledger_report(entries: Sequence[LedgerEntry]) -> dict[str, Any]:
    """The month's report: ``totals``, ``by_township`` and ``by_adviser`` lines."""
    months = sorted({e.date.isoformat()[:7] for e in entries})
    return {
        "months": months,
        "totals": _row(entries),
        "by_township": [
            {"township": k[0] or "—", **_row(v)}
            for k, v in _grouped(entries, lambda e: (e.township,)).items()
        ],
        "by_adviser": [
            {"adviser_id": k[0], "adviser": k[1], **_row(v)}
            for k, v in _grouped(entries, lambda e: (e.lawyer_id, e.lawyer or e.lawyer_id)).items()
        ],
        "units": {"onsite_hours": "hours between 实际到达 and 实际离开 where both are filled in"},
    }


def _sheet_rows(lines: list[dict[str, Any]], keys: list[tuple[str, str]]) -> list[list[Any]]:
    head = [h for _, h in keys] + [h for _, h in REPORT_FIELDS] + list(SERVICE_KINDS)
    rows: list[list[Any]] = [head]
    for r in lines:
        rows.append(
            [r[k] for k, _ in keys]
            + [r[k] for k, _ in REPORT_FIELDS]
            + [r["services"][s] for s in SERVICE_KINDS]
        )
    return rows


def write_ledger_report(
    report: dict[str, Any], xlsx: str | Path | None = None, json_path: str | Path | None = None
) -> list[Path]:
    """Write the report as XLSX (乡镇 and 顾问 sheets, a 合计 line each) and/or JSON."""
    out: list[Path] = []
    if xlsx is not None:
        wb = Workbook()
        total = {"township": "合计 total", "adviser_id": "合计 total", "adviser": ""}
        total.update(report["totals"])
        for i, (title, lines, keys) in enumerate(
            (
                ("乡镇 township", report["by_township"], [("township", "乡镇 township")]),
                (
                    "顾问 adviser",
                    report["by_adviser"],
                    [("adviser_id", "编号 id"), ("adviser", "顾问 adviser")],
                ),
            )
        ):
            ws = wb.active if i == 0 else wb.create_sheet()
            assert ws is not None
            ws.title = title
            for row in _sheet_rows([*lines, total], keys):
                ws.append(row)
            for c in ws[1]:
                c.font = Font(bold=True)
            for c in ws[ws.max_row]:
                c.font = Font(bold=True)
            ws.freeze_panes = "A2"
        buf = io.BytesIO()
        wb.save(buf)
        out.append(write_bytes(xlsx, buf.getvalue()))
    if json_path is not None:
        text = json.dumps(report, ensure_ascii=False, indent=2)
        out.append(write_bytes(json_path, text.encode("utf-8")))
    return out
