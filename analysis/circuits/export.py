"""Write a :class:`~.plan.MonthPlan` as a visit ledger (台账, xlsx), iCalendar files and GeoJSON.

All writes are atomic: a temporary file in the target folder, then :func:`os.replace`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from doorstep.geo._errors import InputError
from doorstep.geo.atomic import write_bytes

from .model import Lawyer, hhmm, weekday_zh
from .plan import DayRoute, MonthPlan

log = logging.getLogger(__name__)

LEDGER_COLUMNS = [
    ("date", "日期 date"),
    ("weekday", "星期 weekday"),
    ("order", "顺序 order"),
    ("village_id", "村代码 village code"),
    ("village", "村 village"),
    ("township", "乡镇 township"),
    ("visit_no", "第几次 visit no."),
    ("arrival", "计划到达 planned arrival"),
    ("departure", "计划离开 planned departure"),
    ("travel_min", "车程 travel (min)"),
    ("travel_km", "里程 distance (km)"),
    ("visited", "已走访 visited"),
    ("notes", "备注 notes"),
]
"""Ledger columns: (key, header). Staff fill in ``visited`` (是/否) and ``notes``."""

SERVICE_KINDS = ("法律咨询", "人民调解", "普法宣传", "法律援助引导", "法治体检", "其他")
"""Service content (服务内容) a ledger row may record, several separated by 、 or ,."""

LEDGER_RECORD_COLUMNS = [
    ("arrived", "实际到达 arrived"),
    ("left", "实际离开 left"),
    ("services", "服务内容 services"),
    ("persons", "服务人数 persons served"),
    ("mediated", "调解纠纷 disputes mediated"),
    ("resolved", "调解成功 disputes resolved"),
    ("issues", "反映问题 issues raised"),
    ("follow_up", "需跟进 follow-up (是/否)"),
    ("signature", "签名 signature"),
]
"""What was done at a visit (after :data:`LEDGER_COLUMNS`; optional when reading back)."""

TZ = "Asia/Shanghai"


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`geo.atomic.write_bytes`), creating its folder."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes(p, data)


def _sheet_title(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:28] or "lawyer"
    title, i = base, 2
    while title.lower() in used:
        title = f"{base[:25]}~{i}"
        i += 1
    used.add(title.lower())
    return title


_BOLD = Font(bold=True)
_FILL_IN = PatternFill("solid", fgColor="FFF2CC")  # cells staff fill in
_LEDGER_WIDTHS = (12, 8, 6, 14, 16, 14, 8, 10, 10, 9, 9, 10, 30, 10, 10, 22, 9, 9, 9, 24, 10, 12)


def write_ledger(
    plan: MonthPlan,
    path: str | Path,
    done: Mapping[tuple[str, str, str], str] | None = None,
    records: Mapping[tuple[str, str, str], Sequence[object]] | None = None,
) -> Path:
    """Write the visit ledger: a summary sheet, one sheet per lawyer, and an unscheduled sheet.

    Lawyer sheets carry the lawyer id in cell ``B1`` so :func:`.ledger.read_ledger` can read
    them back whatever the sheet is renamed to. ``done`` maps ``(lawyer id, ISO date, village
    code)`` of visits already recorded (e.g. ticked in the web app) to a note; those rows are
    written with 已走访 visited = 是 and the note, the others left blank for staff to fill in.
    ``records`` maps such keys to the cells of :data:`LEDGER_RECORD_COLUMNS` recorded there
    (:func:`.ledger.record_cells`).
    """
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    _summary_sheet(summary, plan)
    used = {summary.title.lower()}
    for lw in plan.lawyers:
        _lawyer_sheet(
            wb.create_sheet(_sheet_title(lw.name or lw.id, used)),
            plan,
            lw,
            done or {},
            records or {},
        )
    if plan.unscheduled:
        _unscheduled_sheet(wb.create_sheet(_sheet_title("未排 unscheduled", used)), plan)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    return atomic_write_bytes(path, data)


def _bold_row(ws: Worksheet, row: Iterable[object]) -> None:
    """Append ``row`` to sheet ``ws`` in bold (a header)."""
    ws.append(list(row))
    for c in ws[ws.max_row]:
        c.font = _BOLD


def _summary_sheet(summary: Worksheet, plan: MonthPlan) -> None:
    """Totals, one row per lawyer and one per township."""
    summary.title = "汇总 summary"
    summary.append([f"{plan.month} 法律顾问走访计划 lawyer circuits"])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append(
        [
            "required visits",
            plan.required_visits,
            "scheduled",
            plan.scheduled_visits,
            "unscheduled",
            len(plan.unscheduled),
        ]
    )
    summary.append([])
    lawyer_cols = {
        "lawyer": "律师 lawyer",
        "lawyer_id": "id",
        "base": "驻点 base",
        "working_days": "工作日 working days",
        "days_out": "出行天数 days out",
        "visits": "走访次数 visits",
        "villages": "村数 villages",
        "drive_hours": "驾车小时 drive h",
        "onsite_hours": "驻村小时 on-site h",
        "km": "里程 km",
        "max_day_hours": "最长一天 longest day h",
    }
    _bold_row(summary, lawyer_cols.values())
    for lr in plan.lawyer_summary():
        summary.append([lr[k] for k in lawyer_cols])
    summary.append([])
    town_cols = {
        "township": "乡镇 township",
        "visits": "走访次数 visits",
        "villages": "村数 villages",
        "onsite_hours": "驻村小时 on-site h",
        "unscheduled": "未排 unscheduled",
    }
    _bold_row(summary, town_cols.values())
    for t in plan.township_summary():
        summary.append([t[k] for k in town_cols])
    summary.column_dimensions["A"].width = 22


def _lawyer_sheet(
    ws: Worksheet,
    plan: MonthPlan,
    lw: Lawyer,
    done: Mapping[tuple[str, str, str], str],
    records: Mapping[tuple[str, str, str], Sequence[object]],
) -> None:
    """One row per planned visit of ``lw`` (columns :data:`LEDGER_COLUMNS`)."""
    ws.append(["律师 lawyer id", lw.id, lw.name, "驻点 base", lw.base, plan.month])
    _bold_row(ws, [h for _, h in (*LEDGER_COLUMNS, *LEDGER_RECORD_COLUMNS)])
    for r in plan.routes_of(lw.id):
        for i, s in enumerate(r.stops, start=1):
            key = (lw.id, r.date.isoformat(), s.village_id)
            ws.append(
                [
                    r.date,
                    weekday_zh(r.date),
                    i,
                    s.village_id,
                    s.village,
                    s.township,
                    s.visit_no,
                    _time_cell(s.arrival),
                    _time_cell(s.departure),
                    round(s.travel_min),
                    round(s.travel_km, 1),
                    *(("是", done[key]) if key in done else ("", "")),
                    *records.get(key, ()),
                ]
            )
            ws.cell(ws.max_row, 1).number_format = "yyyy-mm-dd"
            for j in (8, 9, 14, 15):  # planned and actual arrival / departure
                ws.cell(ws.max_row, j).number_format = "hh:mm"
            for j in range(12, 13 + len(LEDGER_RECORD_COLUMNS) + 1):
                ws.cell(ws.max_row, j).fill = _FILL_IN
    for j, w in enumerate(_LEDGER_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "A3"
    _printable(ws)


def _printable(ws: Worksheet) -> None:
    """A4 landscape, fit to the page width, header rows repeated on every page, and 是/否
    drop-downs on the 已走访 and 需跟进 columns."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:2"
    ws.print_options.gridLines = True
    last = max(ws.max_row, 3)
    yes_no = DataValidation(
        type="list",
        formula1='"是,否"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="已走访 visited",
        error="请选择 是 或 否 — choose 是 or 否",
    )
    follow = len(LEDGER_COLUMNS) + 1 + [k for k, _ in LEDGER_RECORD_COLUMNS].index("follow_up")
    for j in (12, follow):
        col = get_column_letter(j)
        yes_no.add(f"{col}3:{col}{last}")
    ws.add_data_validation(yes_no)


def _time_cell(minutes: float) -> dt.time:
    """A real time-of-day cell for ``minutes`` after midnight (rounded to the minute)."""
    m = min(round(minutes), 24 * 60 - 1)
    return dt.time(m // 60, m % 60)


def _unscheduled_sheet(ws: Worksheet, plan: MonthPlan) -> None:
    """The visits that could not be scheduled, with the reason."""
    _bold_row(
        ws,
        ["村代码 village code", "村 village", "乡镇 township", "第几次 visit no.", "原因 reason"],
    )
    for u in plan.unscheduled:
        ws.append([u.village_id, u.village, u.township, u.visit_no, u.reason])
        ws.cell(ws.max_row, 5).alignment = Alignment(wrap_text=True)
    ws.column_dimensions["E"].width = 90


SEQUENCE_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
"""SEQUENCE of a visit event = whole seconds from this instant to the calendar's DTSTAMP, so a
later re-plan always carries a higher revision number without any stored state."""


def visit_uid(plan: MonthPlan, village_id: str, visit_no: int) -> str:
    """The calendar UID of a visit: county, month, village code and visit number — not the
    lawyer or the date, so a re-plan of the same month that moves the visit to another day
    updates the event in the adviser's calendar instead of adding a second one."""
    return f"{uid_prefix(plan)}{village_id}-{visit_no}@doorstep"


def uid_prefix(plan: MonthPlan) -> str:
    """The start every visit UID of this county and month shares (:func:`visit_uid`)."""
    return f"visit-{plan.county or 'county'}-{plan.month}-"


def ics_sequence(stamp: dt.datetime) -> int:
    """RFC 5545 SEQUENCE for a calendar written at ``stamp`` (see :data:`SEQUENCE_EPOCH`)."""
    return max(0, int((stamp - SEQUENCE_EPOCH).total_seconds()))


def ics_calendar(
    plan: MonthPlan,
    lawyer_ids: Sequence[str] | None = None,
    name: str = "",
    *,
    stamp: dt.datetime | None = None,
    earlier: Sequence[Any] = (),
) -> bytes:
    """iCalendar bytes with one event per village visit (on-site time, Asia/Shanghai) of the
    given lawyers (default all), travel and lunch in the description.

    ``earlier`` holds the VEVENTs of this county and month that an earlier version of the same
    file had (:func:`earlier_visits`): each whose UID the plan no longer gives these lawyers
    (the visit moved to another adviser, or was dropped) is written again with
    ``STATUS:CANCELLED`` and the new SEQUENCE, so a calendar that imported the earlier file
    cancels it instead of keeping a visit its adviser no longer makes (§3.8.1.11).

    Each event's UID is :func:`visit_uid` (stable across re-plans of the month); DTSTAMP is
    ``stamp`` (UTC, default now) and SEQUENCE :func:`ics_sequence` of it, so a calendar that
    imports a re-plan moves the events rather than duplicating them (RFC 5545 §3.8.4.7,
    §3.8.7.4). Every TZID used has its VTIMEZONE (§3.2.19).
    """
    from zoneinfo import ZoneInfo

    from icalendar import Calendar, Event

    tz = ZoneInfo(TZ)
    ids = [lw.id for lw in plan.lawyers] if lawyer_ids is None else list(lawyer_ids)
    stamp = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", "-//Doorstep//lawyer circuits//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{name} {plan.month} 走访".strip())
    uids = set()
    for lid in ids:
        for r in plan.routes_of(lid):
            for i in range(1, len(r.stops) + 1):
                ev = _visit_event(plan, r, i, stamp, tz, Event)
                uids.add(str(ev["uid"]))
                cal.add_component(ev)
    for old in earlier:
        if str(old["uid"]) not in uids:
            cal.add_component(_cancelled(old, stamp, Event))
    cal.add_missing_timezones()  # RFC 5545 §3.2.19: every TZID used needs its VTIMEZONE
    return bytes(cal.to_ical())


def _visit_event(
    plan: MonthPlan, r: DayRoute, i: int, stamp: dt.datetime, tz: dt.tzinfo, event: Any
) -> Any:
    """The VEVENT of stop ``i`` (1-based) of day route ``r``."""
    s = r.stops[i - 1]
    midnight = dt.datetime.combine(r.date, dt.time())
    ev = event()
    ev.add("uid", visit_uid(plan, s.village_id, s.visit_no))
    ev.add("dtstamp", stamp)
    ev.add("sequence", ics_sequence(stamp))
    ev.add("dtstart", (midnight + dt.timedelta(minutes=round(s.start))).replace(tzinfo=tz))
    ev.add("dtend", (midnight + dt.timedelta(minutes=round(s.departure))).replace(tzinfo=tz))
    ev.add("summary", f"法律顾问走访 {s.village}（{s.township}）")
    ev.add("location", f"{s.township} {s.village}")
    desc = (
        f"{r.lawyer}: stop {i} of {len(r.stops)}; drive {round(s.travel_min)} min / "
        f"{s.travel_km:.1f} km from the previous stop (modelled). Leave base {r.base_name} "
        f"{hhmm(r.depart)}, back {hhmm(r.back)}."
    )
    if r.lunch_start is not None and r.lunch_end is not None:
        desc += f" Lunch {hhmm(r.lunch_start)}–{hhmm(r.lunch_end)} at {r.lunch_place}."
    ev.add("description", desc)
    return ev


def _cancelled(old: Any, stamp: dt.datetime, event: Any) -> Any:
    """An earlier visit event, cancelled as of ``stamp`` (same UID, times and place)."""
    ev = event()
    ev.add("uid", str(old["uid"]))
    ev.add("dtstamp", stamp)
    ev.add("sequence", ics_sequence(stamp))
    ev.add("status", "CANCELLED")
    ev.add("dtstart", old.decoded("dtstart"))
    if "dtend" in old:
        ev.add("dtend", old.decoded("dtend"))
    ev.add("summary", f"已取消 Cancelled: {old.get('summary', '')}")
    if "location" in old:
        ev.add("location", str(old["location"]))
    ev.add(
        "description",
        "重新排班后此走访不再由本日历的顾问进行（改由他人或取消）。 The re-plan no longer gives "
        "this visit to this calendar's adviser (another adviser makes it, or it was dropped).",
    )
    return ev


def earlier_visits(path: Path, plan: MonthPlan) -> list[Any]:
    """The visit events of ``plan``'s county and month in an earlier calendar at ``path`` (none
    when there is no such file; a file that cannot be read is logged and ignored: its visits
    then get no cancellation)."""
    from icalendar import Calendar

    if not path.is_file():
        return []
    try:
        cal = Calendar.from_ical(path.read_bytes())
    except (ValueError, OSError) as exc:
        log.warning("%s: earlier calendar not read (%s); no cancellations from it", path, exc)
        return []
    prefix = uid_prefix(plan)
    return [
        e for e in cal.walk("VEVENT") if str(e.get("uid", "")).startswith(prefix) and "dtstart" in e
    ]


def file_stem(lawyer_id: str) -> str:
    """A lawyer id made safe as a file name stem (characters other than word characters, ``.``
    and ``-`` replaced by ``_``)."""
    return re.sub(r"[^\w.-]", "_", lawyer_id)


def ics_file_name(lawyer_id: str) -> str:
    """File name of a lawyer's calendar (``<id>.ics``, unsafe characters replaced)."""
    return file_stem(lawyer_id) + ".ics"


ALL_ICS = "all-advisers.ics"
"""File name of the calendar holding every adviser's visits (beside the per-adviser files)."""


def write_ics(
    plan: MonthPlan,
    folder: str | Path,
    lawyer_ids: Sequence[str] | None = None,
    *,
    stamp: dt.datetime | None = None,
) -> list[Path]:
    """One iCalendar file per lawyer (``<id>.ics``, see :func:`ics_calendar`) for the given
    lawyers (default all), and, when all are written, :data:`ALL_ICS` with every visit (for the
    justice office's shared calendar). All files share one DTSTAMP/SEQUENCE. A file that
    replaces an earlier one of the same month keeps the earlier visits that are no longer its
    adviser's as cancelled events (:func:`ics_calendar`'s ``earlier``)."""
    names = {lw.id: lw.name for lw in plan.lawyers}
    ids = list(names) if lawyer_ids is None else list(lawyer_ids)
    stamp = stamp or dt.datetime.now(dt.UTC)
    out = []
    for lid in ids:
        path = Path(folder) / ics_file_name(lid)
        cal = ics_calendar(plan, [lid], names[lid], stamp=stamp, earlier=earlier_visits(path, plan))
        out.append(atomic_write_bytes(path, cal))
    if lawyer_ids is None:
        if ALL_ICS in {p.name for p in out}:  # an adviser whose id is the combined file's stem
            raise ValueError(f"an adviser id makes the file name {ALL_ICS}; rename the adviser")
        path = Path(folder) / ALL_ICS
        cal = ics_calendar(
            plan, name="全部顾问 all advisers", stamp=stamp, earlier=earlier_visits(path, plan)
        )
        out.append(atomic_write_bytes(path, cal))
    return out


def routes_geojson(
    plan: MonthPlan,
    coords: dict[str, tuple[float, float]],
    road_path: Callable[[str, str], list[tuple[float, float]] | None] | None = None,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection: one LineString per lawyer-day (WGS84 lon/lat).

    The line follows the stop coordinates, or the road geometry returned by ``road_path(a, b)``
    for each leg when given (a list of (lon, lat); ``None`` falls back to the straight leg).
    """
    feats = []
    for r in sorted(plan.routes, key=lambda x: (x.lawyer_id, x.date)):
        missing = [k for k in r.path if k not in coords]
        if missing:
            raise InputError(
                f"no coordinates for places {missing[:5]} (route of {r.lawyer_id} on {r.date})"
            )
        line: list[tuple[float, float]] = [coords[r.path[0]]]
        for a, b in zip(r.path, r.path[1:], strict=False):
            seg = road_path(a, b) if road_path is not None else None
            line.extend(seg[1:] if seg else [coords[b]])
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(p) for p in line]},
                "properties": {
                    "lawyer_id": r.lawyer_id,
                    "lawyer": r.lawyer,
                    "date": r.date.isoformat(),
                    "stops": [s.village for s in r.stops],
                    "village_ids": [s.village_id for s in r.stops],
                    "depart": hhmm(r.depart),
                    "back": hhmm(r.back),
                    "drive_min": round(r.drive_min, 1),
                    "km": round(r.drive_km, 2),
                    "geometry_source": "roads"
                    if road_path is not None
                    else "straight legs between stops",
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def write_geojson(
    plan: MonthPlan, path: str | Path, coords: dict[str, tuple[float, float]], **kw: Any
) -> Path:
    """Write :func:`routes_geojson` to ``path`` atomically."""
    return write_routes_geojson(routes_geojson(plan, coords, **kw), path)


def write_routes_geojson(lines: dict[str, Any], path: str | Path) -> Path:
    """Write route lines already built by :func:`routes_geojson` (compact UTF-8) atomically."""
    return atomic_write_bytes(path, json.dumps(lines, ensure_ascii=False).encode("utf-8"))


def write_json(obj: Any, path: str | Path) -> Path:
    """Write any JSON-ready object atomically (UTF-8, Chinese kept readable)."""
    return atomic_write_bytes(
        path, json.dumps(obj, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    )
