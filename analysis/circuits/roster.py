"""The adviser roster (一村一法律顾问): who serves which village, from where, on which days.

A roster is a table (CSV in UTF-8 or GBK, or XLSX), one row per adviser:

``姓名 name`` · ``电话 phone`` · ``律所 firm`` · ``驻点 base`` (a base point id or name; or
``lon``/``lat`` with ``crs``) · ``服务村 villages`` (codes or names, ``、`` or ``,`` separated; a
``*2`` suffix asks for 2 visits a month in that village) · ``工作日 weekdays`` (``周一,周三``;
blank = every working day) · ``请假 leave`` (dates or ranges ``2027-01-04~2027-01-08``) ·
``走访频次 visits`` (visits a month for this adviser's villages; blank = the default).

:func:`make_roster` proposes one (villages grouped by travel time from each base, balanced by
workload); every proposed row carries a ``模型校验 check`` fingerprint, so a roster reads back as
*modelled* until staff edit a row (or clear the check).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from doorstep.geo._errors import DataFileError, InputError

from .model import Lawyer, TravelMatrix, circuits_default, weekday_zh

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

# canonical column -> header written (Chinese first) and the names accepted when reading
ROSTER_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("姓名 name", ("name", "姓名", "顾问", "adviser")),
    "phone": ("电话 phone", ("phone", "电话", "手机")),
    "firm": ("律所 firm", ("firm", "律所", "律师事务所")),
    "base": ("驻点 base", ("base", "驻点", "基地")),
    "lon": ("经度 lon", ("lon", "经度")),
    "lat": ("纬度 lat", ("lat", "纬度")),
    "crs": ("坐标系 crs", ("crs", "坐标系")),
    "villages": ("服务村 villages", ("villages", "服务村", "村")),
    "weekdays": ("工作日 weekdays", ("weekdays", "工作日")),
    "leave": ("请假 leave", ("leave", "请假")),
    "visits": ("走访频次 visits", ("visits", "走访频次", "频次")),
    "check": ("模型校验 check", ("check", "模型校验")),
}
_FINGERPRINTED = ("name", "phone", "firm", "base", "villages", "weekdays", "leave", "visits")
_SPLIT = r"[,，;；、\s]+"
MODELLED_LABEL = (
    "模型建议名册（未经工作人员修改）— modelled roster proposed by doorstep roster make; "
    "staff have not edited it"
)


@dataclass(frozen=True)
class RosterAdviser:
    """One roster row: an adviser, the base key in the travel matrix and the villages served.

    ``visits`` maps a village code to its visits a month where the roster sets it.
    """

    name: str
    base: str
    villages: tuple[str, ...]
    phone: str = ""
    firm: str = ""
    weekdays: tuple[int, ...] | None = None
    leave: tuple[dt.date, ...] = ()
    visits: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("an adviser needs a name")
        if not self.base:
            raise InputError(f"adviser {self.name}: no base")
        if any(n < 0 for _, n in self.visits):
            raise InputError(f"adviser {self.name}: visits must be >= 0")

    def lawyer(self, mode: str, defaults: dict[str, Any] | None = None) -> Lawyer:
        """The planner's :class:`Lawyer` (id = name) for this adviser."""
        extra = dict(defaults or {})
        if self.weekdays is not None:
            extra["weekdays"] = self.weekdays
        return Lawyer(self.name, self.name, self.base, mode=mode, leave=self.leave, **extra)


@dataclass(frozen=True)
class Roster:
    """Advisers in file order; ``modelled`` while it is the unedited proposal."""

    advisers: tuple[RosterAdviser, ...]
    modelled: bool = False

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for a in self.advisers:
            for v in a.villages:
                if v in seen:
                    raise InputError(f"village {v} is served by both {seen[v]} and {a.name}")
                seen[v] = a.name

    def adviser_of(self) -> dict[str, str]:
        """Village code -> adviser name."""
        return {v: a.name for a in self.advisers for v in a.villages}

    def visits_of(self) -> dict[str, int]:
        """Village code -> visits a month, where the roster sets them."""
        return {v: n for a in self.advisers for v, n in a.visits}


def fingerprint(values: dict[str, str]) -> str:
    """Short digest of a row's fingerprinted fields (detects staff edits of a proposal)."""
    text = "\x1f".join(values.get(k, "") for k in _FINGERPRINTED)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _canonical_columns(df: pd.DataFrame, p: Path) -> dict[str, str]:
    """Canonical column key -> the file's header, matched by any word of the header."""
    out: dict[str, str] = {}
    for head in df.columns:
        words = [w.lower() for w in re.split(r"\s+", str(head).strip()) if w]
        for key, (_, names) in ROSTER_COLUMNS.items():
            if any(w in names for w in words) and key not in out:
                out[key] = str(head)
                break
    for key in ("name", "villages"):
        if key not in out:
            raise DataFileError(
                p,
                f"missing column {ROSTER_COLUMNS[key][0]}",
                field=ROSTER_COLUMNS[key][0],
                fix="columns: " + ", ".join(h for h, _ in ROSTER_COLUMNS.values()),
            )
    return out


class _Places:
    """Village and base names/codes of a county, to resolve roster cells."""

    def __init__(self, model: CountyModel, base_ids: Sequence[str], travel: TravelMatrix) -> None:
        vil = model.villages
        self.codes = [str(c) for c in vil["code"]]
        self.by_name: dict[str, list[str]] = {}
        for c, n in zip(self.codes, vil["name"], strict=True):
            self.by_name.setdefault(str(n), []).append(c)
        self.bases = {str(b): f"base:{b}" for b in base_ids}
        self.base_names = {travel.name(k): k for k in self.bases.values()}
        self.travel = travel

    def village(self, token: str) -> str:
        if token in self.codes:
            return token
        hits = self.by_name.get(token, [])
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise ValueError(f"village name {token!r} is ambiguous (codes {hits}); write the code")
        raise ValueError(f"{token!r} is not a village code or name of this county")

    def base(self, token: str) -> str:
        if token in self.bases:
            return self.bases[token]
        if token in self.base_names:
            return self.base_names[token]
        if token.startswith("base:") and token[5:] in self.bases:
            return token
        raise ValueError(
            f"{token!r} is not a base point (township workstation or county centre) id or name"
        )

    def nearest(self, lon: float, lat: float) -> str:
        """The base or village nearest to a WGS84 point (where the adviser's day starts)."""
        keys = list(self.travel.coords)
        xy = np.array([self.travel.coords[k] for k in keys])
        d = (xy[:, 0] - lon) ** 2 * np.cos(np.radians(lat)) ** 2 + (xy[:, 1] - lat) ** 2
        return keys[int(np.argmin(d))]


def _parse_leave(text: str) -> tuple[dt.date, ...]:
    """``2027-01-04, 2027-01-11~2027-01-13`` -> the dates (ranges inclusive)."""
    out: set[dt.date] = set()
    for tok in (t for t in re.split(r"[,，;；、\s]+", text) if t):
        a, _, b = re.sub(r"～|至|\.\.", "~", tok).partition("~")
        try:
            lo = dt.date.fromisoformat(a)
            hi = dt.date.fromisoformat(b) if b else lo
        except ValueError:
            raise ValueError(
                f"{tok!r} is not a date YYYY-MM-DD or a range YYYY-MM-DD~YYYY-MM-DD"
            ) from None
        if hi < lo:
            raise ValueError(f"{tok!r}: the range ends before it starts")
        out.update(lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1))
    return tuple(sorted(out))


def _whole(text: str, what: str) -> int:
    t = text[:-2] if text.endswith(".0") else text
    if not t.isdigit():
        raise ValueError(f"{what} must be a whole number >= 0 (got {text!r})")
    return int(t)


def _row_villages(
    cell: str, row_visits: int | None, places: _Places
) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """Village codes of a roster cell and the visits set for them (``*N`` suffix or the row)."""
    codes: list[str] = []
    visits: list[tuple[str, int]] = []
    for tok in (t for t in re.split(_SPLIT, cell) if t):
        name, star, n = re.sub(r"[×xX＊]", "*", tok).partition("*")
        code = places.village(name)
        if code in codes:
            raise ValueError(f"village {tok!r} is listed twice in this row")
        codes.append(code)
        if star:
            visits.append((code, _whole(n, f"visits of {name}")))
        elif row_visits is not None:
            visits.append((code, row_visits))
    return tuple(codes), tuple(visits)


def _row_base(rec: dict[str, str], places: _Places, p: Path, row: int, crs: str | None) -> str:
    """The travel-matrix key of a row's base (a base point, or the place nearest lon/lat)."""
    if rec.get("base"):
        try:
            return places.base(rec["base"])
        except ValueError as exc:
            raise DataFileError(p, str(exc), row=row, field="驻点 base") from None
    if rec.get("lon") or rec.get("lat"):
        from doorstep.geo.readers import parse_points

        one = pd.DataFrame([{k: rec.get(k) or None for k in ("lon", "lat", "crs")}])
        if one["crs"].isna().all():
            one = one.drop(columns="crs")
        try:
            lon, lat, _ = parse_points(one, p, crs=crs)
        except DataFileError as exc:
            raise DataFileError(
                p, exc.problem, row=row, field=exc.field or "lon/lat/crs", fix=exc.fix
            ) from None
        return places.nearest(float(lon[0]), float(lat[0]))
    raise DataFileError(
        p,
        f"adviser {rec.get('name')!r} has no base",
        row=row,
        field="驻点 base",
        fix="write a township workstation or county centre id/name, or lon, lat and crs",
    )


def read_roster(
    path: str | Path,
    model: CountyModel,
    base_ids: Sequence[str],
    travel: TravelMatrix,
    *,
    crs: str | None = None,
) -> Roster:
    """Read and check a roster file; errors name the file, row and field."""
    from doorstep.geo.readers import read_table

    p = Path(path)
    raw = read_table(p, dtype_str=tuple(h for h, _ in ROSTER_COLUMNS.values()))
    cols = _canonical_columns(raw, p)
    places = _Places(model, base_ids, travel)
    advisers: list[RosterAdviser] = []
    owner: dict[str, int] = {}
    modelled = bool(len(raw))
    for i, r in enumerate(raw.to_dict("records"), start=2):
        rec = {k: _cell(r.get(h)) for k, h in cols.items()}
        if not any(rec.values()):
            continue
        a = _roster_row(rec, places, p, i, crs)
        for v in a.villages:
            if v in owner:
                raise DataFileError(
                    p,
                    f"village {v} ({travel.name(v)}) is also in row {owner[v]}",
                    row=i,
                    field="服务村 villages",
                    fix="keep each village in one adviser's row (一村一顾问)",
                )
            owner[v] = i
        if a.name in {b.name for b in advisers}:
            raise DataFileError(p, f"adviser {a.name} appears twice", row=i, field="姓名 name")
        advisers.append(a)
        modelled = modelled and rec.get("check", "") == fingerprint(rec)
    if not advisers:
        raise DataFileError(p, "the roster has no adviser rows", fix="add one row per adviser")
    return Roster(tuple(advisers), modelled=modelled)


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.date().isoformat()
    return str(v).strip()


def _roster_row(
    rec: dict[str, str], places: _Places, p: Path, row: int, crs: str | None
) -> RosterAdviser:
    from .county import parse_weekdays

    if not rec.get("name"):
        raise DataFileError(p, "missing adviser name", row=row, field="姓名 name")
    base = _row_base(rec, places, p, row, crs)
    field = "走访频次 visits"
    try:
        row_visits = _whole(rec["visits"], "走访频次 visits") if rec.get("visits") else None
        field = "服务村 villages"
        villages, visits = _row_villages(rec.get("villages", ""), row_visits, places)
        field = "工作日 weekdays"
        weekdays = parse_weekdays(rec["weekdays"]) if rec.get("weekdays") else None
        field = "请假 leave"
        leave = _parse_leave(rec.get("leave", ""))
    except ValueError as exc:
        raise DataFileError(p, str(exc), row=row, field=field) from None
    return RosterAdviser(
        name=rec["name"],
        base=base,
        villages=villages,
        phone=rec.get("phone", ""),
        firm=rec.get("firm", ""),
        weekdays=weekdays,
        leave=leave,
        visits=visits,
    )


def workload_matrix(
    travel: TravelMatrix,
    villages: Sequence[str],
    visits: Sequence[int],
    service: Sequence[int],
    bases: Sequence[str],
) -> np.ndarray:
    """``e[v, b] = visits_v × (on-site_v + round trip base_b ↔ v)`` in minutes (inf: unreachable)."""
    vi = [travel.index(v) for v in villages]
    bi = [travel.index(b) for b in bases]
    trip = travel.minutes[np.ix_(bi, vi)].T + travel.minutes[np.ix_(vi, bi)]
    return np.asarray(visits, float)[:, None] * (np.asarray(service, float)[:, None] + trip)


def balanced_groups(
    load: np.ndarray, slacks: Sequence[float] = (1.1, 1.2, 1.35, 1.5, 2.0)
) -> list[int]:
    """Adviser index per village: least total workload with every adviser's load within
    ``[(2 - s) · fair, s · fair]`` for the smallest feasible slack ``s`` (fair = mean load of a
    nearest-base assignment); solved as a MILP (HiGHS), deterministic."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    nv, na = load.shape
    finite = np.where(np.isfinite(load), load, 0.0)
    allowed = np.isfinite(load).ravel()
    fair = float(np.min(np.where(np.isfinite(load), load, np.inf), axis=1).sum()) / na
    rows = np.repeat(np.arange(nv), na)
    one = coo_matrix((np.ones(nv * na), (rows, np.arange(nv * na))), shape=(nv, nv * na))
    cap = coo_matrix(
        (finite.ravel(), (np.tile(np.arange(na), nv), np.arange(nv * na))), shape=(na, nv * na)
    )
    for s in slacks:
        res = milp(
            c=finite.ravel(),
            integrality=np.ones(nv * na),
            bounds=Bounds(0, allowed.astype(float)),
            constraints=[
                LinearConstraint(one, 1, 1),
                LinearConstraint(cap, max(0.0, 2 - s) * fair, s * fair),
            ],
            options={"time_limit": 30.0, "mip_rel_gap": 0.005},
        )
        if res.x is not None:
            x = res.x.reshape(nv, na)
            return [int(np.argmax(x[v])) for v in range(nv)]
    raise InputError(
        "no balanced grouping of the villages exists for this number of advisers; "
        "try more or fewer advisers"
    )


def make_roster(
    model: CountyModel,
    n_advisers: int,
    *,
    mode: str = "car",
) -> tuple[Roster, TravelMatrix]:
    """Propose a roster of ``n_advisers``: bases spread farthest-first over the workstations
    and the county centre, villages grouped by travel time from them and balanced by workload
    (:func:`balanced_groups`). The result is ``modelled``."""
    from .county import county_travel, spread_bases

    if not 1 <= n_advisers <= 500:
        raise InputError("--advisers must be between 1 and 500")
    travel, bases = county_travel(model, mode)
    homes = spread_bases(travel, [f"base:{i}" for i in bases["id"]], n_advisers)
    codes = [str(c) for c in model.villages["code"]]
    visits = int(circuits_default("visit", "visits"))
    service = int(circuits_default("visit", "service_minutes"))
    load = workload_matrix(travel, codes, [visits] * len(codes), [service] * len(codes), homes)
    owner = balanced_groups(load)
    advisers = tuple(
        RosterAdviser(
            name=f"顾问{k + 1}",
            base=h,
            villages=tuple(c for c, o in zip(codes, owner, strict=True) if o == k),
        )
        for k, h in enumerate(homes)
    )
    return Roster(advisers, modelled=True), travel


def roster_rows(roster: Roster, travel: TravelMatrix) -> list[dict[str, str]]:
    """Rows of a roster file (canonical keys; ``check`` set on a modelled roster)."""
    out = []
    for a in roster.advisers:
        per = dict(a.visits)
        rec = {
            "name": a.name,
            "phone": a.phone,
            "firm": a.firm,
            "base": a.base.removeprefix("base:"),
            "villages": "、".join(v + (f"*{per[v]}" if v in per else "") for v in a.villages),
            "weekdays": "" if a.weekdays is None else ",".join(weekday_zh(d) for d in a.weekdays),
            "leave": ",".join(d.isoformat() for d in a.leave),
            "visits": "",
        }
        rec["check"] = fingerprint(rec) if roster.modelled else ""
        rec["reference"] = f"驻点 {travel.name(a.base)}；村 " + "、".join(
            travel.name(v) for v in a.villages
        )
        out.append(rec)
    return out


_REFERENCE_HEADER = "参考（不读入）reference"


def write_roster(roster: Roster, travel: TravelMatrix, path: str | Path) -> Path:
    """Write a roster as .xlsx (with a 说明 sheet) or .csv (UTF-8 with BOM), atomically."""
    import io

    from openpyxl import Workbook

    from doorstep.geo.atomic import write_bytes

    p = Path(path)
    heads = [h for k, (h, _) in ROSTER_COLUMNS.items() if k not in ("lon", "lat", "crs")]
    keys = [k for k in ROSTER_COLUMNS if k not in ("lon", "lat", "crs")]
    rows = roster_rows(roster, travel)
    table = pd.DataFrame(
        [[r[k] for k in keys] + [r["reference"]] for r in rows], columns=[*heads, _REFERENCE_HEADER]
    )
    if p.suffix.lower() == ".csv":
        return write_bytes(p, table.to_csv(index=False).encode("utf-8-sig"))
    if p.suffix.lower() != ".xlsx":
        raise InputError(f"{p}: a roster is written as .xlsx or .csv")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "名册 roster"
    ws.append(list(table.columns))
    for r in table.itertuples(index=False):
        ws.append(list(r))
    about = wb.create_sheet("说明 about")
    about.append([MODELLED_LABEL if roster.modelled else "工作人员名册 staff roster"])
    about.append(["每行一名顾问；服务村写村代码或村名，用“、”分隔；“*2”表示该村每月走访 2 次。"])
    about.append(
        ["One row per adviser; villages as codes or names; '*2' = 2 visits a month there."]
    )
    about.append(
        ["修改任何一行后，名册即视为工作人员名册 — editing a row makes it a staff roster."]
    )
    buf = io.BytesIO()
    wb.save(buf)
    return write_bytes(p, buf.getvalue())


def roster_summary(roster: Roster, travel: TravelMatrix) -> list[dict[str, Any]]:
    """Per adviser: base, villages, estimated workload (hours a month), farthest one-way leg and
    the largest detour (minutes one way beyond the nearest roster base) of a village served."""
    visits = int(circuits_default("visit", "visits"))
    bi = [travel.index(a.base) for a in roster.advisers]
    service = int(circuits_default("visit", "service_minutes"))
    per = roster.visits_of()
    out = []
    for a in roster.advisers:
        vs = list(a.villages)
        load = workload_matrix(
            travel, vs, [per.get(v, visits) for v in vs], [service] * len(vs), [a.base]
        )
        one_way = [travel.minutes[travel.index(a.base), travel.index(v)] for v in vs]
        nearest = [float(travel.minutes[bi, travel.index(v)].min()) for v in vs]
        out.append(
            {
                "name": a.name,
                "base": a.base,
                "base_name": travel.name(a.base),
                "villages": len(vs),
                "workload_hours": round(float(load.sum()) / 60, 1),
                "max_one_way_minutes": round(float(max(one_way, default=0.0)), 1),
                "max_detour_minutes": round(
                    max((o - n for o, n in zip(one_way, nearest, strict=True)), default=0.0), 1
                ),
            }
        )
    return out
