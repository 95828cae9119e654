"""四个一 projects: 一个重点项目、一名责任领导、一个责任单位、一本工作台账.

A key project (what, where), its responsible leader and unit, and a work ledger of milestones
(due and done dates, status, budget in 元 planned and spent). The web app stores them; this
module holds the domain types, the one validation used for forms, JSON and storage, turning a
siting scenario into projects, the per-township totals and the field-by-field change list the
history records. No Flask here.

Examples
--------
>>> p = project_from_mapping({"title": "龙门村法务室升级", "start": "2027-01-04"})
>>> m = milestone_from_mapping({"title": "选址核实", "due": "2027-02-01"}, p.start)
>>> project_status([m])
'未开始'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from doorstep.geo._errors import InputError
from doorstep.geo.villages import TO_CONFIRM, location_status

STATUSES: tuple[str, ...] = ("未开始", "进行中", "已完成", "延期")
"""Milestone status values (未开始 not started, 进行中 in progress, 已完成 done, 延期 delayed)."""
STATUS_EN = {"未开始": "not started", "进行中": "in progress", "已完成": "done", "延期": "delayed"}
DONE = "已完成"

PROJECT_FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "重点项目 project"),
    ("what", "建设内容 what"),
    ("village_code", "村代码 village code"),
    ("village", "村 village"),
    ("township", "乡镇 township"),
    ("point_code", "点位编号 point code"),
    ("lon", "经度 lon (WGS84)"),
    ("lat", "纬度 lat (WGS84)"),
    ("location_status", "位置状态 location status"),
    ("leader_name", "责任领导 responsible leader"),
    ("leader_post", "领导职务 leader's post"),
    ("unit", "责任单位 responsible unit"),
    ("start", "开始日期 start date"),
    ("source", "来源 source"),
)
"""A project's fields: (key, header) — form labels, JSON keys and export headers."""

MILESTONE_FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "里程碑 milestone"),
    ("due", "计划完成 due date"),
    ("done", "实际完成 done date"),
    ("status", "状态 status"),
    ("budget_planned", "计划预算 budget planned (元)"),
    ("budget_spent", "已支出 budget spent (元)"),
    ("note", "备注 note"),
)
"""A milestone's fields (the 工作台账 columns): (key, header)."""

UNITS = {"budget_planned": "元 (CNY)", "budget_spent": "元 (CNY)", "lon": "°", "lat": "°"}

_TEXT_MAX = {"what": 1000, "note": 1000, "source": 300}
MAX_BUDGET = 1e11
"""Budgets above 1000 亿元 are refused as typing errors."""

DEFAULT_MILESTONES: tuple[tuple[str, int], ...] = (
    ("选址核实 confirm the site on the ground", 30),
    ("场所改造与挂牌 fit-out and sign", 90),
    ("人员到岗、开始服务 staff in post, service opens", 180),
)
"""The work ledger a project made from a siting scenario starts with: (title, days after the
start date); budgets start at 0 元 for the responsible unit to fill in."""


class ProjectError(InputError):
    """A project or milestone value is invalid; ``field`` is its key, the message starts with
    its label (from ``fields``: :data:`PROJECT_FIELDS` or :data:`MILESTONE_FIELDS`)."""

    def __init__(
        self, field: str, problem: str, fields: Sequence[tuple[str, str]] = PROJECT_FIELDS
    ) -> None:
        super().__init__(f"{dict(fields).get(field, field)}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Place:
    """Where a project is: a village (code, name), its township, a service point code and
    WGS84 coordinates; ``location_status`` says whether the point is confirmed."""

    village_code: str = ""
    village: str = ""
    township: str = ""
    point_code: str = ""
    lon: float | None = None
    lat: float | None = None
    location_status: str = ""


@dataclass(frozen=True)
class Project:
    """一个重点项目 with 一名责任领导 and 一个责任单位 (the 工作台账 is its milestones)."""

    title: str
    start: dt.date
    what: str = ""
    place: Place = field(default_factory=Place)
    leader_name: str = ""
    leader_post: str = ""
    unit: str = ""
    source: str = ""

    def values(self) -> dict[str, Any]:
        """Flat values by :data:`PROJECT_FIELDS` key (dates ISO): storage, JSON, export."""
        out = {k: v for k, v in asdict(self).items() if k != "place"}
        out.update(asdict(self.place))
        out["start"] = self.start.isoformat()
        return {k: out[k] for k, _ in PROJECT_FIELDS}

    def missing(self) -> tuple[str, ...]:
        """Which of the 四个一 are not named yet (责任领导, 责任单位)."""
        return tuple(
            label
            for ok, label in (
                (self.leader_name, "责任领导 responsible leader"),
                (self.unit, "责任单位 responsible unit"),
            )
            if not ok
        )


@dataclass(frozen=True)
class Milestone:
    """One line of the 工作台账: due and done dates, status, budget planned and spent (元)."""

    title: str
    due: dt.date
    status: str = STATUSES[0]
    done: dt.date | None = None
    budget_planned: float = 0.0
    budget_spent: float = 0.0
    note: str = ""

    def values(self) -> dict[str, Any]:
        """Flat values by :data:`MILESTONE_FIELDS` key (dates ISO, ``done`` None when open)."""
        out = asdict(self)
        out["due"] = self.due.isoformat()
        out["done"] = self.done.isoformat() if self.done else None
        return {k: out[k] for k, _ in MILESTONE_FIELDS}


# ----------------------------------------------------------------------------- validation


def _text(v: Mapping[str, Any], key: str, required: bool = False) -> str:
    raw = v.get(key)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ProjectError(key, f"must be text, got {type(raw).__name__}")
    s = raw.strip()
    limit = _TEXT_MAX.get(key, 200)
    if len(s) > limit or any(ord(c) < 32 and c not in "\n\t" for c in s):
        raise ProjectError(key, f"at most {limit} printable characters")
    if required and not s:
        raise ProjectError(key, "is required")
    return s


def _date(v: Mapping[str, Any], key: str, required: bool = False) -> dt.date | None:
    raw = v.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise ProjectError(key, "is required (YYYY-MM-DD)")
        return None
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ProjectError(key, f"{str(raw)[:20]!r} is not a date YYYY-MM-DD") from None


def parse_date(raw: object, key: str) -> dt.date:
    """A required ISO date ``raw`` for field ``key`` (:class:`ProjectError` naming it)."""
    d = _date({key: raw}, key, required=True)
    assert d is not None
    return d


def _number(v: Mapping[str, Any], key: str, lo: float, hi: float) -> float | None:
    raw = v.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        x = float(str(raw).strip().replace(",", "")) if not isinstance(raw, bool) else math.nan
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise ProjectError(key, f"{str(raw)[:20]!r} is not a number")
    if not lo <= x <= hi:
        raise ProjectError(key, f"must be between {lo:g} and {hi:g}, got {x:g}")
    return x


def _place(v: Mapping[str, Any]) -> Place:
    code = _text(v, "village_code")
    if code and not (code.isdigit() and len(code) <= 20):
        raise ProjectError("village_code", f"{code[:20]!r} is not a statistical code (digits)")
    lon, lat = _number(v, "lon", -180, 180), _number(v, "lat", -90, 90)
    if (lon is None) != (lat is None):
        raise ProjectError("lat" if lat is None else "lon", "give both lon and lat, or neither")
    return Place(
        village_code=code,
        village=_text(v, "village"),
        township=_text(v, "township"),
        point_code=_text(v, "point_code"),
        lon=lon,
        lat=lat,
        location_status=_text(v, "location_status"),
    )


def project_from_mapping(values: Mapping[str, Any]) -> Project:
    """A checked :class:`Project` from form or JSON values (keys of :data:`PROJECT_FIELDS`).

    Raises :class:`ProjectError` naming the field: a missing title or start date, a bad date,
    a non-numeric code, coordinates out of range or only one of lon/lat.
    """
    start = _date(values, "start", required=True)
    assert start is not None
    return Project(
        title=_text(values, "title", required=True),
        start=start,
        what=_text(values, "what"),
        place=_place(values),
        leader_name=_text(values, "leader_name"),
        leader_post=_text(values, "leader_post"),
        unit=_text(values, "unit"),
        source=_text(values, "source"),
    )


def milestone_from_mapping(
    values: Mapping[str, Any], start: dt.date, *, today: dt.date | None = None
) -> Milestone:
    """A checked :class:`Milestone` of a project starting on ``start``.

    Rules: title and due date required; status one of :data:`STATUSES`; due and done dates not
    before the project start; a done date not after ``today`` (default: today); 已完成 needs a
    done date and a done date needs 已完成; budgets numbers ≥ 0 元. Raises
    :class:`ProjectError` naming the field.
    """
    try:
        return _milestone(values, start, today or dt.date.today())
    except ProjectError as exc:  # named with the milestone's labels
        raise ProjectError(exc.field, exc.problem, MILESTONE_FIELDS) from None


def _milestone(values: Mapping[str, Any], start: dt.date, today: dt.date) -> Milestone:
    status = values.get("status") or STATUSES[0]
    if status not in STATUSES:
        raise ProjectError("status", f"{str(status)[:20]!r} is not one of {'/'.join(STATUSES)}")
    due = _date(values, "due", required=True)
    done = _date(values, "done")
    assert due is not None
    if due < start:
        raise ProjectError("due", f"{due} is before the project start {start}")
    if done is not None and done < start:
        raise ProjectError("done", f"{done} is before the project start {start}")
    if done is not None and done > today:
        raise ProjectError("done", f"{done} is in the future (today is {today})")
    if status == DONE and done is None:
        raise ProjectError("done", "a milestone marked 已完成 needs its done date")
    if done is not None and status != DONE:
        raise ProjectError("status", f"a done date is given: the status is {DONE}")
    return Milestone(
        title=_text(values, "title", required=True),
        due=due,
        status=str(status),
        done=done,
        budget_planned=_number(values, "budget_planned", 0, MAX_BUDGET) or 0.0,
        budget_spent=_number(values, "budget_spent", 0, MAX_BUDGET) or 0.0,
        note=_text(values, "note"),
    )


# ------------------------------------------------------------------------ from a scenario


def projects_from_scenario(
    scenario: Mapping[str, Any],
    *,
    start: dt.date,
    villages: Mapping[str, Mapping[str, Any]],
) -> list[tuple[Project, list[Milestone]]]:
    """One project per new site of a saved siting scenario, prefilled.

    ``scenario`` is a saved scenario (``id``, ``name``, ``result.new_sites`` of code, name,
    lon, lat); ``villages`` maps village codes to ``town_name`` and ``location_quality``. Each
    project names the village room to upgrade, its township's 司法所 as responsible unit, the
    point's location status (待核实位置 on an imputed village point) and the scenario as its
    source (a modelled proposal); the leader is left for the planner to name. The work ledger
    starts with :data:`DEFAULT_MILESTONES`.
    """
    result = scenario.get("result") or {}
    sites = result.get("new_sites") or []
    if not sites:
        raise InputError(f"scenario {scenario.get('name')!r} proposes no new site")
    label = f"情景 scenario #{scenario.get('id')} “{scenario.get('name')}”"
    model = (scenario.get("params") or {}).get("model", "")
    out = []
    for s in sites:
        code = str(s["code"])
        v = villages.get(code, {})
        town = str(v.get("town_name", ""))
        place = Place(
            village_code=code,
            village=str(s.get("name", "")),
            township=town,
            point_code=code,
            lon=float(s["lon"]),
            lat=float(s["lat"]),
            location_status=location_status(v.get("location_quality") == "imputed"),
        )
        p = Project(
            title=f"{place.village}公共法律服务点建设 New service point at {place.village}",
            start=start,
            what=(
                f"将{place.village}法务室升级为工作日有人值守的公共法律服务点 — upgrade the "
                "village legal room to a point staffed on working days"
            ),
            place=place,
            unit=f"{town}司法所 {town} justice office" if town else "",
            source=f"{label}: {model} 选址方案 siting proposal (modelled roads and population)",
        )
        ms = [
            Milestone(title=t, due=start + dt.timedelta(days=days))
            for t, days in DEFAULT_MILESTONES
        ]
        out.append((p, ms))
    return out


# -------------------------------------------------------------------------------- totals


def project_status(milestones: Sequence[Milestone]) -> str:
    """The project's status from its ledger: 已完成 when every milestone is, 延期 when one is
    delayed, 进行中 once one is under way or done, else 未开始 (also with no milestone)."""
    st = {m.status for m in milestones}
    if milestones and st == {DONE}:
        return DONE
    if "延期" in st:
        return "延期"
    return "进行中" if st & {"进行中", DONE} else "未开始"


def overdue(milestones: Sequence[Milestone], today: dt.date) -> int:
    """Milestones past their due date and not done."""
    return sum(m.due < today and m.status != DONE for m in milestones)


def ledger_line(
    items: Sequence[tuple[Project, Sequence[Milestone]]], today: dt.date
) -> dict[str, Any]:
    """One line of the ledger for ``items`` (a township, the county, or one project): projects
    by status, milestones done and overdue on ``today``, budget planned and spent (元), projects
    on a point still to confirm."""
    ms = [m for _, mm in items for m in mm]
    status = [project_status(mm) for _, mm in items]
    return {
        "projects": len(items),
        "status": {s: status.count(s) for s in STATUSES},
        "milestones": len(ms),
        "milestones_done": sum(m.status == DONE for m in ms),
        "overdue": overdue(ms, today),
        "budget_planned": round(sum(m.budget_planned for m in ms), 2),
        "budget_spent": round(sum(m.budget_spent for m in ms), 2),
        "to_confirm": sum(p.place.location_status == TO_CONFIRM for p, _ in items),
    }


def township_totals(
    items: Sequence[tuple[Project, Sequence[Milestone]]], today: dt.date | None = None
) -> dict[str, Any]:
    """Per township (and the county total): projects by status, milestones done and overdue,
    budget planned and spent (元), projects on a point still to confirm."""
    today = today or dt.date.today()
    by: dict[str, list[tuple[Project, Sequence[Milestone]]]] = {}
    for p, ms in items:
        by.setdefault(p.place.township or "—", []).append((p, ms))
    return {
        "townships": [{"township": t, **ledger_line(v, today)} for t, v in sorted(by.items())],
        "total": ledger_line(items, today),
        "units": {"budget_planned": "元 (CNY)", "budget_spent": "元 (CNY)"},
        "today": today.isoformat(),
    }


# ------------------------------------------------------------------------------- history


def _cell(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def changes(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, keys: Sequence[str]
) -> list[tuple[str, str | None, str | None]]:
    """The fields of ``keys`` that differ: (field, old, new) as text (None = empty). ``old``
    None is a creation (every filled field), ``new`` None a deletion (every filled field)."""
    out = []
    for k in keys:
        a = _cell((old or {}).get(k))
        b = _cell((new or {}).get(k))
        if a != b:
            out.append((k, a, b))
    return out


def parse_all(
    project: Mapping[str, Any], milestones: Sequence[Mapping[str, Any]], today: dt.date | None
) -> tuple[Project, list[Milestone]]:
    """A stored project and its milestones checked together (a new start date must not leave
    a milestone before it); errors name the field."""
    p = project_from_mapping(project)
    return p, [milestone_from_mapping(m, p.start, today=today) for m in milestones]


def project_doc(
    pid: int, p: Project, milestones: Sequence[tuple[int, Milestone]], **meta: Any
) -> dict[str, Any]:
    """A project as JSON: its values, id, ``meta`` (created by/at), derived status, what of the
    四个一 is missing, budget sums (元) and its milestones (each with its id)."""
    ms = [m for _, m in milestones]
    return {
        "id": pid,
        **p.values(),
        **meta,
        "status": project_status(ms),
        "status_en": STATUS_EN[project_status(ms)],
        "missing": list(p.missing()),
        "budget_planned": round(sum(m.budget_planned for m in ms), 2),
        "budget_spent": round(sum(m.budget_spent for m in ms), 2),
        "milestones": [{"id": mid, **m.values()} for mid, m in milestones],
        "units": UNITS,
    }
