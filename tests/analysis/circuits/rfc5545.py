"""A strict RFC 5545 check for the calendars Doorstep writes (test helper).

Two layers: the ``ical`` package parses every value strictly (dates, times, durations, property
types) and raises ``CalendarParseError`` on a malformed one; the content lines are then checked
here for what ``ical`` fills in or tolerates: CRLF line ends and 75-octet folding (§3.1), matched
BEGIN/END, the required properties exactly once (VCALENDAR: PRODID, VERSION §3.6; VEVENT: UID,
DTSTAMP, DTSTART §3.6.1; VTIMEZONE: TZID and a STANDARD/DAYLIGHT with DTSTART, TZOFFSETFROM,
TZOFFSETTO §3.6.5), a VTIMEZONE for every ``TZID=`` parameter (§3.2.19), DTEND after DTSTART,
SEQUENCE a non-negative integer and unique UIDs.
"""

from __future__ import annotations

import re

REQUIRED = {
    "VCALENDAR": ("PRODID", "VERSION"),
    "VEVENT": ("UID", "DTSTAMP", "DTSTART"),
    "VTIMEZONE": ("TZID",),
    "STANDARD": ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"),
    "DAYLIGHT": ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"),
}
ONCE = {*(p for ps in REQUIRED.values() for p in ps), "DTEND", "SEQUENCE"}


def content_lines(raw: bytes) -> tuple[list[str], list[str]]:
    """Unfolded content lines and the line-level problems (bare LF, lines over 75 octets)."""
    problems = []
    if not raw.endswith(b"\r\n"):
        problems.append("the file does not end with CRLF")
    if b"\n" in raw.replace(b"\r\n", b""):
        problems.append("a line ends with a bare LF (RFC 5545 §3.1 wants CRLF)")
    physical = raw.split(b"\r\n")
    problems += [
        f"line {i + 1} is {len(x)} octets (> 75)" for i, x in enumerate(physical) if len(x) > 75
    ]
    unfolded = re.sub(r"\r\n[ \t]", "", raw.decode("utf-8"))
    return [x for x in unfolded.split("\r\n") if x], problems


def _name_params_value(line: str) -> tuple[str, str, str]:
    head, _, value = line.partition(":")
    name, _, params = head.partition(";")
    return name.upper(), params, value


def structure_problems(lines: list[str]) -> list[str]:
    """BEGIN/END nesting, required properties, TZID references, DTEND > DTSTART, SEQUENCE."""
    problems: list[str] = []
    stack: list[tuple[str, dict[str, list[tuple[str, str]]]]] = []
    zones: set[str] = set()
    used_tzids: set[str] = set()
    uids: list[str] = []
    for line in lines:
        name, params, value = _name_params_value(line)
        used_tzids |= set(re.findall(r"TZID=([^;:]+)", params))
        if name == "BEGIN":
            stack.append((value.upper(), {}))
            continue
        if name == "END":
            if not stack or stack[-1][0] != value.upper():
                problems.append(
                    f"END:{value} does not close {stack[-1][0] if stack else 'nothing'}"
                )
                return problems
            comp, props = stack.pop()
            problems += _component_problems(comp, props)
            if comp == "VTIMEZONE":
                zones |= {v for _, v in props.get("TZID", [])}
            if comp == "VEVENT":
                uids += [v for _, v in props.get("UID", [])]
            continue
        if not stack:
            problems.append(f"property {name} outside any component")
            continue
        stack[-1][1].setdefault(name, []).append((params, value))
    if stack:
        problems.append(f"BEGIN:{stack[-1][0]} is never closed")
    problems += [f"TZID={t} has no VTIMEZONE (§3.2.19)" for t in sorted(used_tzids - zones)]
    dup = sorted({u for u in uids if uids.count(u) > 1})
    if dup:
        problems.append(f"UIDs used twice: {dup[:3]}")
    return problems


def _component_problems(comp: str, props: dict[str, list[tuple[str, str]]]) -> list[str]:
    out = [f"{comp} lacks {p}" for p in REQUIRED.get(comp, ()) if p not in props]
    out += [f"{comp} has {p} {len(v)} times" for p, v in props.items() if p in ONCE and len(v) > 1]
    if comp == "VCALENDAR" and [v for _, v in props.get("VERSION", [])] != ["2.0"]:
        out.append("VCALENDAR VERSION is not 2.0")
    if comp == "VEVENT":
        seq = [v for _, v in props.get("SEQUENCE", [])]
        if seq and not seq[0].isdigit():
            out.append(f"SEQUENCE {seq[0]!r} is not a non-negative integer")
        start, end = props.get("DTSTART"), props.get("DTEND")
        if start and end and end[0][1] <= start[0][1]:
            out.append(f"DTEND {end[0][1]} is not after DTSTART {start[0][1]}")
    return out


def rfc5545_problems(raw: bytes) -> list[str]:
    """Every way ``raw`` breaks RFC 5545 (empty list: valid)."""
    from ical.calendar_stream import IcsCalendarStream
    from ical.exceptions import CalendarParseError

    problems: list[str] = []
    try:
        IcsCalendarStream.calendar_from_ics(raw.decode("utf-8"))
    except CalendarParseError as exc:
        problems.append(f"strict parser (ical): {exc}")
    lines, line_problems = content_lines(raw)
    problems += line_problems
    problems += structure_problems(lines)
    zones = raw.count(b"BEGIN:VTIMEZONE")
    subs = raw.count(b"BEGIN:STANDARD") + raw.count(b"BEGIN:DAYLIGHT")
    if zones and subs < zones:
        problems.append("a VTIMEZONE has no STANDARD or DAYLIGHT (§3.6.5)")
    return problems
