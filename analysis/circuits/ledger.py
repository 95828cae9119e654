"""Read a completed visit ledger (台账) back and carry missed visits into the next month."""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from doorstep.geo._errors import DataFileError, InputError

from .export import LEDGER_COLUMNS, LEDGER_RECORD_COLUMNS, SERVICE_KINDS
from .model import VillageVisit, hhmm, parse_hhmm

__all__ = [
    "LEDGER_COLUMNS",
    "LEDGER_RECORD_COLUMNS",
    "RECORD_FIELDS",
    "SERVICE_KINDS",
    "LedgerEntry",
    "RecordError",
    "carry_over",
    "check_filled",
    "missed_visits",
    "read_ledger",
    "record_cells",
    "record_text",
    "recorded",
    "validate_record",
    "visit_status",
]

RECORD_FIELDS: tuple[str, ...] = tuple(k for k, _ in LEDGER_RECORD_COLUMNS if k != "signature")
"""What staff record at a visit (keys of :data:`LEDGER_RECORD_COLUMNS` but the signature): the
fields of the ledger file and of the staff page's "done" form alike."""

YES = {"是", "y", "yes", "1", "true", "√", "✓", "✔", "x", "已走访", "已", "done", "visited"}
NO = {"否", "n", "no", "0", "false", "×", "✗", "未", "未走访", "missed"}


@dataclass(frozen=True)
class LedgerEntry:
    """One planned visit as recorded in the ledger; ``visited`` None = left blank.

    ``arrived``/``left`` are minutes after midnight; ``persons``, ``mediated``, ``resolved``
    counts (None = blank); ``services`` kinds of :data:`.export.SERVICE_KINDS`.
    """

    lawyer_id: str
    date: dt.date
    village_id: str
    village: str
    visit_no: int
    visited: bool | None
    notes: str
    township: str = ""
    lawyer: str = ""
    arrived: int | None = None
    left: int | None = None
    services: tuple[str, ...] = ()
    persons: int | None = None
    mediated: int | None = None
    resolved: int | None = None
    issues: str = ""
    follow_up: bool | None = None


@dataclass(frozen=True)
class _Where:
    """File, sheet and row of a ledger cell (for error messages)."""

    path: Path
    sheet: str
    row: int

    def error(self, msg: str, field: str, fix: str | None = None) -> DataFileError:
        return DataFileError(
            self.path, f"sheet {self.sheet!r}: {msg}", row=self.row, field=field, fix=fix
        )


class RecordError(InputError):
    """A visit record typed into a form is invalid; ``field`` is its key in
    :data:`RECORD_FIELDS` (``"visited"`` for the visited/recorded clash)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


_FIELD_KEYS = {h.split(" (")[0]: k for k, h in (*LEDGER_COLUMNS, *LEDGER_RECORD_COLUMNS)}


@dataclass(frozen=True)
class _Form(_Where):
    """A record typed into a form (the staff page): errors name the field's key."""

    def error(self, msg: str, field: str, fix: str | None = None) -> DataFileError:
        key = _FIELD_KEYS.get(field, field)
        raise RecordError(f"{field}: {msg}" + (f" — {fix}" if fix else ""), key)


def validate_record(
    values: Mapping[str, object],
    *,
    lawyer_id: str,
    date: dt.date,
    village_id: str,
    village: str = "",
    township: str = "",
    lawyer: str = "",
    notes: str = "",
) -> LedgerEntry:
    """A visit marked done with its record (``values``: :data:`RECORD_FIELDS` keys -> raw
    values, as a ledger cell or a form sends them), checked by the same rules as a ledger row
    read back; a bad value raises :class:`RecordError` naming the field's key."""
    w = _Form(Path("-"), "form", 0)
    raw = dict(values)
    kinds = raw.get("services")
    if isinstance(kinds, list | tuple):
        if not all(isinstance(k, str) for k in kinds):
            raise RecordError("服务内容 services: a list of service names", "services")
        raw["services"] = "、".join(kinds)
    e = LedgerEntry(
        lawyer_id=lawyer_id,
        date=date,
        village_id=village_id,
        village=village,
        visit_no=1,
        visited=True,
        notes=notes,
        township=township,
        lawyer=lawyer,
        **_record_fields(raw, w),
    )
    return _checked(e, w)


def record_cells(e: LedgerEntry) -> list[object]:
    """The ledger cells of ``e``'s record, in :data:`LEDGER_RECORD_COLUMNS` order (what
    :func:`read_ledger` reads back to the same values; the signature left blank)."""
    cells: dict[str, object] = {
        "arrived": None if e.arrived is None else dt.time(*divmod(min(e.arrived, 1439), 60)),
        "left": None if e.left is None else dt.time(*divmod(min(e.left, 1439), 60)),
        "services": "、".join(e.services) or None,
        "persons": e.persons,
        "mediated": e.mediated,
        "resolved": e.resolved,
        "issues": e.issues or None,
        "follow_up": None if e.follow_up is None else ("是" if e.follow_up else "否"),
        "signature": None,
    }
    return [cells[k] for k, _ in LEDGER_RECORD_COLUMNS]


def record_text(e: LedgerEntry) -> dict[str, object]:
    """``e``'s record as plain values for storage or JSON (times ``HH:MM``, services a list)."""
    return {
        "arrived": None if e.arrived is None else hhmm(e.arrived),
        "left": None if e.left is None else hhmm(e.left),
        "services": list(e.services),
        "persons": e.persons,
        "mediated": e.mediated,
        "resolved": e.resolved,
        "issues": e.issues,
        "follow_up": e.follow_up,
    }


def _yes_no(val: object, where: _Where, field: str) -> bool | None:
    if val is None or str(val).strip() == "":
        return None
    s = str(val).strip().lower()
    if s in YES:
        return True
    if s in NO:
        return False
    raise where.error(
        f"cannot read {val!r} as 是/否", field, "write 是 / 否 (or yes / no), or leave it blank"
    )


LEDGER_FORMATS = (".xlsx", ".xlsm")


def read_ledger(
    path: str | Path, known_villages: Collection[str] | None = None
) -> list[LedgerEntry]:
    """Read every lawyer sheet of a ledger written by :func:`.export.write_ledger`.

    Lawyer sheets are recognised by ``A1`` = "律师 lawyer id" and the header row 2; rows may be
    re-ordered or deleted, extra sheets are ignored. Every row is checked (dates in the sheet's
    month, villages among ``known_villages`` when given, counts whole and >= 0, 是/否 cells,
    times); errors name the file, sheet, row and field.
    """
    p = Path(path)
    if p.suffix.lower() not in LEDGER_FORMATS:
        raise DataFileError(
            p,
            f"a ledger is read from .xlsx, not {p.suffix or 'a file without extension'}",
            fix="open it in WPS / Excel / LibreOffice and save it as .xlsx (Excel 2007+)",
        )
    try:
        wb = load_workbook(p, data_only=True, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
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
        out.extend(_sheet_entries(p, ws.title, rows, known_villages))
    wb.close()
    if n_sheets == 0:
        raise DataFileError(
            p, "no lawyer sheets found", fix="pass a ledger written by doorstep circuits --xlsx"
        )
    return out


def _columns(p: Path, sheet: str, header: tuple[Any, ...]) -> dict[str, int]:
    head = [str(h).strip() if h is not None else "" for h in header]
    try:
        col = {k: head.index(h) for k, h in LEDGER_COLUMNS}
    except ValueError as exc:
        raise DataFileError(
            p,
            f"sheet {sheet!r}: header row 2 changed ({exc})",
            row=2,
            fix="keep the column headers as written",
        ) from exc
    col.update({k: head.index(h) for k, h in LEDGER_RECORD_COLUMNS if h in head})
    return col


def _sheet_entries(
    p: Path, sheet: str, rows: list[tuple[Any, ...]], known: Collection[str] | None
) -> list[LedgerEntry]:
    """The entries of one lawyer sheet (``rows`` as read, row 1 = lawyer id, row 2 = header)."""
    top = rows[0]
    lawyer_id = str(top[1])
    lawyer = str(top[2]) if len(top) > 2 and top[2] else lawyer_id
    month = str(top[5]) if len(top) > 5 and top[5] else None
    col = _columns(p, sheet, rows[1])
    out: list[LedgerEntry] = []
    for i, r in enumerate(rows[2:], start=3):
        if r is None or all(v is None or str(v).strip() == "" for v in r):
            continue
        cells = {k: (r[j] if j < len(r) else None) for k, j in col.items()}
        out.append(_entry(cells, _Where(p, sheet, i), lawyer_id, lawyer, month, known))
    return out


def _entry(
    c: dict[str, Any],
    w: _Where,
    lawyer_id: str,
    lawyer: str,
    month: str | None,
    known: Collection[str] | None,
) -> LedgerEntry:
    """One checked ledger row (``c``: column key -> cell value)."""
    d = _entry_date(c.get("date"), w, month)
    vid = str(c.get("village_id") or "").strip()
    if not vid:
        raise w.error("missing village code", "村代码 village code")
    if known is not None and vid not in known:
        raise w.error(
            f"village {vid} is not a village of this county",
            "村代码 village code",
            "correct the code or delete the row",
        )
    no = _count(c.get("visit_no"), w, "第几次 visit no.")
    e = LedgerEntry(
        lawyer_id=lawyer_id,
        date=d,
        village_id=vid,
        village=str(c.get("village") or ""),
        visit_no=no if no else 1,
        visited=_yes_no(c.get("visited"), w, "已走访 visited"),
        notes=str(c.get("notes") or ""),
        township=str(c.get("township") or ""),
        lawyer=lawyer,
        **_record_fields(c, w),
    )
    return _checked(e, w)


def _record_fields(c: Mapping[str, Any], w: _Where) -> dict[str, Any]:
    """The checked :data:`RECORD_FIELDS` of a row (``c``: key -> raw value), as
    :class:`LedgerEntry` keyword arguments."""
    return {
        "arrived": _time(c.get("arrived"), w, "实际到达 arrived"),
        "left": _time(c.get("left"), w, "实际离开 left"),
        "services": _services(c.get("services"), w),
        "persons": _count(c.get("persons"), w, "服务人数 persons served"),
        "mediated": _count(c.get("mediated"), w, "调解纠纷 disputes mediated"),
        "resolved": _count(c.get("resolved"), w, "调解成功 disputes resolved"),
        "issues": str(c.get("issues") or ""),
        "follow_up": _yes_no(c.get("follow_up"), w, "需跟进 follow-up"),
    }


def _checked(e: LedgerEntry, w: _Where) -> LedgerEntry:
    """Cross-field checks of a row: resolved <= mediated, nothing recorded for a missed visit,
    arrival before leaving."""
    if e.resolved is not None and e.resolved > (e.mediated or 0):
        raise w.error(
            f"{e.resolved} disputes resolved but {e.mediated or 0} mediated",
            "调解成功 disputes resolved",
            "resolved disputes are among the mediated ones",
        )
    did = bool(e.services or e.persons or e.mediated or e.arrived is not None)
    if e.visited is False and did:
        raise w.error(
            "marked 否 (not visited) but records work done",
            "已走访 visited",
            "write 是, or clear the record",
        )
    if e.arrived is not None and e.left is not None and e.left < e.arrived:
        raise w.error("leaves before arriving", "实际离开 left", "write HH:MM times of that day")
    return e


def _count(v: object, w: _Where, field: str) -> int | None:
    """A whole number >= 0 (None when blank)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        f = float(str(v).strip())
    except ValueError:
        f = math.nan
    if isinstance(v, bool) or not (f >= 0 and f == int(f)):
        raise w.error(f"{v!r} is not a whole number >= 0", field, "write a count such as 0, 3, 12")
    return int(f)


def _time(v: object, w: _Where, field: str) -> int | None:
    """A time of day (an Excel time cell or ``HH:MM`` text) in minutes after midnight."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, dt.datetime):
        v = v.time()
    if isinstance(v, dt.time):
        return v.hour * 60 + v.minute
    try:
        return parse_hhmm(str(v).strip().replace("：", ":"))
    except InputError:
        raise w.error(f"{v!r} is not a time HH:MM", field, "write e.g. 09:30") from None


def _services(v: object, w: _Where) -> tuple[str, ...]:
    """Service kinds of a cell (``法律咨询、人民调解``), each one of :data:`SERVICE_KINDS`."""
    toks = [t for t in re.split(r"[,，;；、/\s]+", str(v or "").strip()) if t]
    bad = [t for t in toks if t not in SERVICE_KINDS]
    if bad:
        raise w.error(
            f"unknown service {bad[0]!r}", "服务内容 services", "use " + "、".join(SERVICE_KINDS)
        )
    return tuple(dict.fromkeys(toks))


def _entry_date(d: object, w: _Where, month: str | None) -> dt.date:
    """A ledger cell's date (an Excel date, or ``YYYY-MM-DD`` text) inside the sheet's month."""
    if isinstance(d, dt.datetime):
        d = d.date()
    elif isinstance(d, str):
        try:
            d = dt.date.fromisoformat(d.strip())
        except ValueError:
            raise w.error(f"bad date {d!r}", "日期 date", "use YYYY-MM-DD") from None
    if not isinstance(d, dt.date):
        raise w.error("missing date", "日期 date", "use YYYY-MM-DD")
    if month is not None and d.isoformat()[:7] != month:
        raise w.error(f"date {d} is not in {month}", "日期 date", f"use a date of {month}")
    return d


def recorded(e: LedgerEntry) -> bool:
    """Whether a row records work done (times, services, persons or disputes)."""
    return bool(e.services or e.persons or e.mediated or e.arrived is not None)


def visit_status(e: LedgerEntry) -> str:
    """``"visited"`` (是, or blank with work recorded), ``"missed"`` (否) or ``"blank"``."""
    if e.visited is True or (e.visited is None and recorded(e)):
        return "visited"
    return "missed" if e.visited is False else "blank"


def check_filled(entries: Sequence[LedgerEntry], path: str | Path) -> None:
    """Refuse a ledger nobody has filled in (every 已走访 cell blank and no work recorded): it
    would otherwise read as every planned visit missed."""
    if entries and all(visit_status(e) == "blank" for e in entries):
        raise DataFileError(
            Path(path),
            f"the ledger has not been filled in: none of its {len(entries)} planned visits is "
            "marked 是 or 否 — a blank ledger is not read as missed visits",
            field="已走访 visited",
            fix="fill in 已走访 (是/否) for every visit, or leave out --ledger",
        )


def missed_visits(entries: Sequence[LedgerEntry], blank_is_missed: bool = True) -> Counter[str]:
    """Count missed visits per village id (``visited`` 否, and blanks unless told otherwise)."""
    return Counter(
        e.village_id
        for e in entries
        if visit_status(e) == "missed" or (visit_status(e) == "blank" and blank_is_missed)
    )


def carry_over(
    visits: Sequence[VillageVisit], entries: Sequence[LedgerEntry], blank_is_missed: bool = True
) -> tuple[list[VillageVisit], list[str]]:
    """Next month's visits: each village's own requirement plus the visits it missed.

    Returns the new visit list and notes (villages in the ledger that are no longer known).
    """
    missed = missed_visits(entries, blank_is_missed)
    known = {v.id for v in visits}
    blank = sum(visit_status(e) == "blank" for e in entries)
    notes = (
        [
            f"{blank} visit(s) left blank in the ledger (已走访 empty) counted as "
            + ("missed and carried over" if blank_is_missed else "not missed")
        ]
        if blank
        else []
    )
    notes += [
        f"village {vid} is in the ledger but not in the model; its {n} missed visit(s) are dropped"
        for vid, n in sorted(missed.items())
        if vid not in known
    ]
    out = [
        replace(v, visits=v.visits + missed.get(v.id, 0)) if missed.get(v.id) else v for v in visits
    ]
    return out, notes
