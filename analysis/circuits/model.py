"""Planning model for lawyer circuits: lawyers, village visits, the month's calendar, travel.

Times of day are minutes after midnight (``int``); ``parse_hhmm("08:30") == 510``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.settings import project_data_dir

MODES = ("car", "motorbike")


def parse_hhmm(text: str | int) -> int:
    """``"08:30"`` -> 510 (minutes after midnight); ints pass through."""
    if isinstance(text, int):
        return text
    try:
        h, m = str(text).strip().split(":")
        val = int(h) * 60 + int(m)
    except ValueError as exc:
        raise InputError(f"time {text!r} is not HH:MM") from exc
    if not 0 <= val <= 24 * 60:
        raise InputError(f"time {text!r} is outside 00:00–24:00")
    return val


def hhmm(minutes: float) -> str:
    """510 -> ``"08:30"`` (rounded to the minute)."""
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


WEEKDAYS_ZH = "一二三四五六日"
"""Monday..Sunday as in ``周一``..``周日``."""


def weekday_zh(day: dt.date | int) -> str:
    """``周二`` for a Tuesday (a date, or its ``weekday()`` number)."""
    return f"周{WEEKDAYS_ZH[day if isinstance(day, int) else day.weekday()]}"


CIRCUITS_PARAMS = "circuits.toml"
"""File (under ``data/params``) holding the defaults of :class:`Lawyer` (``[lawyer]``),
:class:`VillageVisit` (``[visit]``) and :class:`PlanParams` (``[planner]``)."""


def _circuits_path() -> Path:
    return project_data_dir() / "params" / CIRCUITS_PARAMS


@functools.cache
def _circuits_tables() -> dict[str, Any]:
    """``data/params/circuits.toml`` (read once per process)."""
    p = _circuits_path()
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError:
        raise DataFileError(p, "circuits parameter file not found", fix="restore it") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(p, f"not valid TOML ({exc})", fix="correct the syntax") from None


def circuits_default(table: str, name: str) -> Any:
    """Default ``name`` of ``[table]`` in ``data/params/circuits.toml`` (times of day given as
    ``"HH:MM"`` are returned as minutes after midnight, lists as tuples)."""
    tab = _circuits_tables().get(table)
    if not isinstance(tab, dict) or name not in tab:
        raise DataFileError(
            _circuits_path(),
            "parameter missing",
            field=f"{table}.{name}",
            fix="add it (the repository copy documents every parameter)",
        )
    v = tab[name]
    if isinstance(v, str) and ":" in v:
        return parse_hhmm(v)
    return tuple(v) if isinstance(v, list) else v


def _from_file(table: str, name: str) -> Any:
    """Dataclass field whose default is ``[table] name`` of ``data/params/circuits.toml``."""
    return field(default_factory=functools.partial(circuits_default, table, name))


@dataclass(frozen=True)
class Lawyer:
    """A lawyer (or legal adviser) who drives circuits from a home base.

    Parameters
    ----------
    id, name
        Identifier (used by assignments and the ledger) and display name.
    base
        Key of the home base in the :class:`TravelMatrix` (law firm in the county seat, or a
        township workstation).
    mode
        ``"car"`` or ``"motorbike"`` (which travel-time matrix applies).
    weekdays
        Working weekdays (0 = Monday); public holidays come from the :class:`MonthCalendar`.
    shift_start, shift_end
        Working day, minutes after midnight (default 08:30–17:30 = 9 h including lunch).
    lunch_earliest, lunch_latest, lunch_minutes
        A break of ``lunch_minutes`` lying wholly inside ``[lunch_earliest, lunch_latest]``
        (default 60 min within 11:30–13:30), taken at a real place (base or a village on the
        route); no driving and no on-site work during it.
    max_drive_minutes
        Daily limit on driving time.
    leave
        Dates the lawyer is not available (leave, training, court days).

    Defaults of ``weekdays`` … ``max_drive_minutes`` come from ``data/params/circuits.toml``
    ``[lawyer]``.
    """

    id: str
    name: str
    base: str
    mode: str = "car"
    weekdays: tuple[int, ...] = _from_file("lawyer", "weekdays")
    shift_start: int = _from_file("lawyer", "shift_start")
    shift_end: int = _from_file("lawyer", "shift_end")
    lunch_earliest: int = _from_file("lawyer", "lunch_earliest")
    lunch_latest: int = _from_file("lawyer", "lunch_latest")
    lunch_minutes: int = _from_file("lawyer", "lunch_minutes")
    max_drive_minutes: float = _from_file("lawyer", "max_drive_minutes")
    leave: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise InputError("lawyer id must not be empty")
        if self.mode not in MODES:
            raise InputError(f"lawyer {self.id}: mode {self.mode!r} not one of {MODES}")
        if not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays):
            raise InputError(f"lawyer {self.id}: weekdays must be 0 (Mon) .. 6 (Sun)")
        if not 0 <= self.shift_start < self.shift_end <= 24 * 60:
            raise InputError(f"lawyer {self.id}: shift must satisfy 00:00 <= start < end <= 24:00")
        if self.lunch_minutes < 0:
            raise InputError(f"lawyer {self.id}: lunch_minutes must be >= 0")
        if self.lunch_minutes and not (
            self.shift_start <= self.lunch_earliest
            and self.lunch_earliest + self.lunch_minutes <= self.lunch_latest <= self.shift_end
        ):
            raise InputError(
                f"lawyer {self.id}: the lunch window {hhmm(self.lunch_earliest)}–{hhmm(self.lunch_latest)} "
                f"must hold {self.lunch_minutes} min and lie inside the shift"
            )
        if self.max_drive_minutes <= 0:
            raise InputError(f"lawyer {self.id}: max_drive_minutes must be > 0")

    @property
    def shift_minutes(self) -> int:
        """Length of the working day including lunch (minutes)."""
        return self.shift_end - self.shift_start


@dataclass(frozen=True)
class VillageVisit:
    """A village that must be visited ``visits`` times in the month.

    ``window`` = (open, close) minutes after midnight: the on-site time must lie inside it.
    ``weekdays`` / ``dates`` restrict the days (preferred market days, meeting days);
    ``adviser`` = id of the assigned lawyer (一村一顾问) or ``None`` for free assignment.
    Defaults of ``visits`` and ``service_minutes`` come from ``data/params/circuits.toml``
    ``[visit]``.
    """

    id: str
    name: str
    location: str
    township: str = ""
    visits: int = _from_file("visit", "visits")
    service_minutes: int = _from_file("visit", "service_minutes")
    window: tuple[int, int] | None = None
    weekdays: tuple[int, ...] | None = None
    dates: tuple[dt.date, ...] | None = None
    adviser: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InputError("village id must not be empty")
        if self.visits < 0:
            raise InputError(f"village {self.id}: visits must be >= 0")
        if self.service_minutes <= 0:
            raise InputError(f"village {self.id}: service_minutes must be > 0")
        if self.window is not None and not 0 <= self.window[0] < self.window[1] <= 24 * 60:
            raise InputError(
                f"village {self.id}: time window must satisfy open < close within a day"
            )
        if self.weekdays is not None and any(not 0 <= d <= 6 for d in self.weekdays):
            raise InputError(f"village {self.id}: weekdays must be 0 (Mon) .. 6 (Sun)")


def load_holidays(path: str | Path | None = None) -> dict[int, tuple[set[dt.date], set[dt.date]]]:
    """Read ``data/params/holidays.toml``: ``{year: (days_off, make_up_workdays)}``."""
    p = Path(path) if path is not None else project_data_dir() / "params" / "holidays.toml"
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFileError(p, f"cannot read holidays: {exc}", fix="fix the TOML syntax") from exc
    out: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for year, block in raw.items():
        sets: list[set[dt.date]] = []
        for key in ("off", "workdays"):
            vals = set()
            for s in block.get(key, []):
                try:
                    vals.add(dt.date.fromisoformat(s))
                except (TypeError, ValueError) as exc:
                    raise DataFileError(
                        p, f"bad date {s!r}", field=f"{year}.{key}", fix="use YYYY-MM-DD"
                    ) from exc
            sets.append(vals)
        out[int(year)] = (sets[0], sets[1])
    return out


def computed_holidays(year: int) -> set[dt.date]:
    """Statutory days off in mainland China for ``year``, computed (no State Council notice).

    Uses the ``holidays`` package's China calendar: 元旦, 春节 (除夕 to 初三 and the days it
    observes), 清明, 劳动节, 端午, 中秋 and 国庆 from their solar and lunar dates. Make-up
    workdays (调休) are decided each year by notice and cannot be computed.
    """
    import holidays as holiday_calendars  # deferred: only needed for years without a schedule

    return set(holiday_calendars.China(years=year).keys())


@dataclass
class MonthCalendar:
    """Working days of one month: weekdays minus public holidays plus make-up workdays.

    Build with :meth:`for_month`; ``holidays`` and ``makeup`` may be edited (configurable).
    """

    year: int
    month: int
    holidays: set[dt.date] = field(default_factory=set)
    makeup: set[dt.date] = field(default_factory=set)
    holidays_known: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise InputError(f"month {self.month} is not 1..12")

    @classmethod
    def for_month(
        cls, month: str | tuple[int, int], holidays_file: str | Path | None = None
    ) -> MonthCalendar:
        """``MonthCalendar.for_month("2026-12")`` with holidays from the TOML file."""
        if isinstance(month, str):
            try:
                y, m = (int(x) for x in month.split("-"))
            except ValueError as exc:
                raise InputError(f"month {month!r} is not YYYY-MM") from exc
        else:
            y, m = month
        table = load_holidays(holidays_file)
        if y in table:
            off, work = table[y]
            return cls(y, m, set(off), set(work), holidays_known=True)
        return cls(y, m, computed_holidays(y), set(), holidays_known=False)

    @property
    def holiday_warning(self) -> str | None:
        """Bilingual warning when the year's State Council schedule is not loaded, else ``None``."""
        if self.holidays_known:
            return None
        return (
            f"{self.year} 年国务院放假安排未载入：法定节假日按农历计算，调休上班日未计入 — "
            f"the State Council schedule for {self.year} is not in data/params/holidays.toml: "
            "statutory holidays are computed (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆 by their "
            "lunar dates) and make-up workdays (调休) are not known; add a "
            f"[{self.year}] block with `off` and `workdays` from the published notice"
        )

    def days(self) -> list[dt.date]:
        """All dates of the month."""
        n = calendar.monthrange(self.year, self.month)[1]
        return [dt.date(self.year, self.month, d) for d in range(1, n + 1)]

    def is_working(self, day: dt.date) -> bool:
        """Whether ``day`` is an official working day."""
        if day in self.makeup:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def working_days(self) -> list[dt.date]:
        """Official working days of the month, in order."""
        return [d for d in self.days() if self.is_working(d)]

    def day_kind(self, day: dt.date) -> str:
        """``"holiday"`` (statutory, 法定节假日), ``"makeup"`` (调休上班日, a weekend worked),
        ``"weekend"`` or ``"workday"``."""
        if day in self.makeup:
            return "makeup"
        if day in self.holidays:
            return "holiday"
        return "weekend" if day.weekday() >= 5 else "workday"

    def label(self) -> str:
        """``"2026-12"``."""
        return f"{self.year:04d}-{self.month:02d}"


@dataclass
class TravelMatrix:
    """Door-to-door travel between named places for one mode.

    ``minutes[i, j]`` (``np.inf`` = unreachable) and ``km[i, j]`` between ``keys[i]`` and
    ``keys[j]``; ``coords`` maps keys to (lon, lat) for GeoJSON output, ``names`` to display names.
    """

    keys: list[str]
    minutes: np.ndarray
    km: np.ndarray
    coords: dict[str, tuple[float, float]] = field(default_factory=dict)
    mode: str = "car"
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.minutes = np.asarray(self.minutes, dtype=float)
        self.km = np.asarray(self.km, dtype=float)
        n = len(self.keys)
        if self.minutes.shape != (n, n) or self.km.shape != (n, n):
            raise InputError(f"travel matrices must be {n}x{n} to match the keys")
        if len(set(self.keys)) != n:
            raise InputError("travel matrix keys must be unique")
        if (self.minutes < 0).any() or np.isnan(self.minutes).any():
            raise InputError("travel minutes must be >= 0 (np.inf for unreachable)")
        self._index = {k: i for i, k in enumerate(self.keys)}

    def index(self, key: str) -> int:
        """Row of ``key``; raises :class:`InputError` naming the missing place."""
        try:
            return self._index[key]
        except KeyError:
            raise InputError(f"place {key!r} is not in the travel matrix") from None

    def name(self, key: str) -> str:
        """Display name of a place (its key when no name is known)."""
        return self.names.get(key, key)


# (field, kind, lower bound, upper bound, lower bound inclusive)
_PLAN_CHECKS: tuple[tuple[str, type, float, float, bool], ...] = (
    ("min_gap_days", int, 0, math.inf, True),
    ("balance_weight", float, 0, math.inf, True),
    ("day_time_limit", float, 0, math.inf, False),
    ("day_max_iterations", int, 1, math.inf, True),
    ("seed", int, 0, math.inf, True),
    ("drive_share", float, 0, 1, True),
    ("cap_slack", float, 1, math.inf, True),
    ("balance_floor", float, 0, 1, True),
    ("rebalance_rounds", int, 0, math.inf, True),
    ("spread_weight", float, 0, math.inf, True),
    ("visit_prize", int, 1, math.inf, True),
)


@dataclass(frozen=True)
class PlanParams:
    """Parameters of the month planner; every default is read from ``data/params/circuits.toml``
    ``[planner]`` (units and meaning are documented there), a value passed here overrides it.

    User-facing: ``min_gap_days`` (repeat visits to a village at least this many calendar days
    apart), ``balance_weight`` (score minutes per minute of day length), ``day_time_limit``
    (PyVRP seconds per date), ``day_max_iterations``, ``seed``, ``use_pyvrp``.

    Heuristic constants of :func:`~analysis.circuits.planner.plan_month`: a village ``v`` with
    ``r_v`` visits of ``s_v`` minutes, whose lone visit from lawyer ``l``'s base drives
    ``d_{vl}`` minutes, is estimated at ``e_{vl} = r_v (s_v + drive_share · d_{vl})``; lawyer
    ``l`` with ``n_l`` working days gets the cap ``cap_slack · Σ_v min_l e_{vl} · n_l / Σ n``;
    rebalancing stops when every load is at least ``balance_floor`` of that fair share (at most
    ``rebalance_rounds`` moves per free village); ``spread_weight`` scores a day's spread rank
    (tie-break), and ``visit_prize`` is PyVRP's prize for serving a visit.
    """

    min_gap_days: int = _from_file("planner", "min_gap_days")
    balance_weight: float = _from_file("planner", "balance_weight")
    day_time_limit: float = _from_file("planner", "day_time_limit")
    day_max_iterations: int = _from_file("planner", "day_max_iterations")
    seed: int = _from_file("planner", "seed")
    use_pyvrp: bool = _from_file("planner", "use_pyvrp")
    drive_share: float = _from_file("planner", "drive_share")
    cap_slack: float = _from_file("planner", "cap_slack")
    balance_floor: float = _from_file("planner", "balance_floor")
    rebalance_rounds: int = _from_file("planner", "rebalance_rounds")
    spread_weight: float = _from_file("planner", "spread_weight")
    visit_prize: int = _from_file("planner", "visit_prize")

    def __post_init__(self) -> None:
        where = f"(data/params/{CIRCUITS_PARAMS} [planner] or the value passed)"
        if not isinstance(self.use_pyvrp, bool):
            raise InputError(f"use_pyvrp must be true or false, got {self.use_pyvrp!r} {where}")
        for name, kind, lo, hi, closed in _PLAN_CHECKS:
            v = getattr(self, name)
            ok_type = not isinstance(v, bool) and isinstance(
                v, int if kind is int else (int, float)
            )
            ok = ok_type and (lo <= v if closed else lo < v) and v <= hi
            if not ok:
                bound = f"{'>=' if closed else '>'} {lo:g}" + (
                    f" and <= {hi:g}" if hi < math.inf else ""
                )
                raise InputError(
                    f"{name} must be {'an integer' if kind is int else 'a number'} {bound}, got {v!r} {where}"
                )


def check_inputs(
    lawyers: Sequence[Lawyer], visits: Sequence[VillageVisit], travel: TravelMatrix
) -> None:
    """Cross-check ids: unique lawyers and villages, known advisers and places."""
    ids = [lw.id for lw in lawyers]
    if not ids:
        raise InputError("at least one lawyer is needed")
    if len(set(ids)) != len(ids):
        raise InputError("lawyer ids must be unique")
    vids = [v.id for v in visits]
    if len(set(vids)) != len(vids):
        dup = sorted({x for x in vids if vids.count(x) > 1})[:5]
        raise InputError(f"village ids must be unique (duplicates: {dup})")
    for lw in lawyers:
        travel.index(lw.base)
    known = set(ids)
    for v in visits:
        travel.index(v.location)
        if v.adviser is not None and v.adviser not in known:
            raise InputError(
                f"village {v.id} ({v.name}) is assigned to adviser {v.adviser!r}, who is not among the lawyers {sorted(known)}"
            )
