"""Read a completed visit ledger (台账) back and carry missed visits into the next month."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from doorstep.geo._errors import DataFileError

from .export import LEDGER_COLUMNS
from .model import VillageVisit

YES = {"是", "y", "yes", "1", "true", "√", "✓", "✔", "x", "已走访", "已", "done", "visited"}
NO = {"否", "n", "no", "0", "false", "×", "✗", "未", "未走访", "missed"}


@dataclass(frozen=True)
class LedgerEntry:
    """One planned visit as recorded in the ledger; ``visited`` None = left blank."""

    lawyer_id: str
    date: dt.date
    village_id: str
    village: str
    visit_no: int
    visited: bool | None
    notes: str


def _parse_visited(val: object, path: Path, row: int, sheet: str) -> bool | None:
    if val is None or str(val).strip() == "":
        return None
    s = str(val).strip().lower()
    if s in YES:
        return True
    if s in NO:
        return False
    raise DataFileError(
        path,
        f"sheet {sheet!r}: cannot read 'visited' value {val!r}",
        row=row,
        field="已走访 visited",
        fix="write 是 / 否 (or yes / no), or leave it blank",
    )


def read_ledger(path: str | Path) -> list[LedgerEntry]:
    """Read every lawyer sheet of a ledger written by :func:`.export.write_ledger`.

    Lawyer sheets are recognised by ``A1`` = "律师 lawyer id" and the header row 2; rows may be
    re-ordered or deleted, extra sheets are ignored.
    """
    p = Path(path)
    try:
        wb = load_workbook(p, data_only=True, read_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise DataFileError(
            p,
            f"cannot open the ledger workbook ({exc})",
            fix="pass the .xlsx written by doorstep circuits",
        ) from exc
    out: list[LedgerEntry] = []
    n_sheets = 0
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if len(rows) < 2 or not rows[0] or rows[0][0] != "律师 lawyer id":
            continue
        n_sheets += 1
        out.extend(_sheet_entries(p, ws.title, rows))
    wb.close()
    if n_sheets == 0:
        raise DataFileError(
            p, "no lawyer sheets found", fix="pass a ledger written by doorstep circuits --xlsx"
        )
    return out


def _sheet_entries(p: Path, sheet: str, rows: list[tuple[Any, ...]]) -> list[LedgerEntry]:
    """The entries of one lawyer sheet (``rows`` as read, row 1 = lawyer id, row 2 = header)."""
    lawyer_id = str(rows[0][1])
    head = [str(h).strip() if h is not None else "" for h in rows[1]]
    try:
        col = {k: head.index(h) for k, h in LEDGER_COLUMNS}
    except ValueError as exc:
        raise DataFileError(
            p,
            f"sheet {sheet!r}: header row 2 changed ({exc})",
            row=2,
            fix="keep the column headers as written",
        ) from exc
    out: list[LedgerEntry] = []
    for i, r in enumerate(rows[2:], start=3):
        if r is None or all(v is None for v in r):
            continue
        vid = r[col["village_id"]]
        d = _entry_date(r[col["date"]], p, i, sheet)
        if vid is None:
            raise DataFileError(
                p,
                f"sheet {sheet!r}: missing village code",
                row=i,
                field="村代码 village code",
            )
        no = r[col["visit_no"]]
        out.append(
            LedgerEntry(
                lawyer_id=lawyer_id,
                date=d,
                village_id=str(vid),
                village=str(r[col["village"]] or ""),
                visit_no=int(no) if no is not None else 1,
                visited=_parse_visited(r[col["visited"]], p, i, sheet),
                notes=str(r[col["notes"]] or ""),
            )
        )
    return out


def _entry_date(d: object, p: Path, row: int, sheet: str) -> dt.date:
    """A ledger cell's date (an Excel date, or ``YYYY-MM-DD`` text)."""
    if isinstance(d, dt.datetime):
        d = d.date()
    elif isinstance(d, str):
        try:
            d = dt.date.fromisoformat(d.strip())
        except ValueError:
            raise DataFileError(
                p,
                f"sheet {sheet!r}: bad date {d!r}",
                row=row,
                field="日期 date",
                fix="use YYYY-MM-DD",
            ) from None
    if not isinstance(d, dt.date):
        raise DataFileError(p, f"sheet {sheet!r}: missing date", row=row, field="日期 date")
    return d


def missed_visits(entries: Sequence[LedgerEntry], blank_is_missed: bool = True) -> Counter[str]:
    """Count missed visits per village id (``visited`` 否, and blanks unless told otherwise)."""
    return Counter(
        e.village_id
        for e in entries
        if e.visited is False or (e.visited is None and blank_is_missed)
    )


def carry_over(
    visits: Sequence[VillageVisit], entries: Sequence[LedgerEntry], blank_is_missed: bool = True
) -> tuple[list[VillageVisit], list[str]]:
    """Next month's visits: each village's own requirement plus the visits it missed.

    Returns the new visit list and notes (villages in the ledger that are no longer known).
    """
    missed = missed_visits(entries, blank_is_missed)
    known = {v.id for v in visits}
    notes = [
        f"village {vid} is in the ledger but not in the model; its {n} missed visit(s) are dropped"
        for vid, n in sorted(missed.items())
        if vid not in known
    ]
    out = [
        replace(v, visits=v.visits + missed.get(v.id, 0)) if missed.get(v.id) else v for v in visits
    ]
    return out, notes
