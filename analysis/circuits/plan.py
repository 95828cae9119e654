"""Result types of the month planner: day routes, unscheduled visits, summaries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from .model import Lawyer, MonthCalendar, hhmm


@dataclass
class PlannedStop:
    """One village visit on a day route. Times are minutes after midnight; travel is the drive
    from the previous stop (or the base)."""

    village_id: str
    village: str
    township: str
    visit_no: int
    visits_required: int
    arrival: float
    start: float
    departure: float
    travel_min: float
    travel_km: float


@dataclass
class DayRoute:
    """A lawyer's day: leave base, visit villages in order, lunch, return."""

    lawyer_id: str
    lawyer: str
    date: dt.date
    base: str
    base_name: str
    depart: float
    back: float
    stops: list[PlannedStop]
    lunch_start: float | None
    lunch_end: float | None
    lunch_place: str
    drive_min: float
    drive_km: float
    home_min: float
    home_km: float
    solver: str
    path: list[str] = field(default_factory=list)  # place keys base -> stops -> base

    @property
    def onsite_min(self) -> float:
        """Minutes spent in villages."""
        return sum(s.departure - s.start for s in self.stops)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with HH:MM strings next to minute values."""
        d = asdict(self)
        d["date"] = self.date.isoformat()
        d["depart_hhmm"], d["back_hhmm"] = hhmm(self.depart), hhmm(self.back)
        if self.lunch_start is not None and self.lunch_end is not None:
            d["lunch"] = f"{hhmm(self.lunch_start)}–{hhmm(self.lunch_end)} at {self.lunch_place}"
        for s, sd in zip(self.stops, d["stops"], strict=False):
            sd["arrival_hhmm"], sd["start_hhmm"], sd["departure_hhmm"] = (
                hhmm(s.arrival),
                hhmm(s.start),
                hhmm(s.departure),
            )
        d["onsite_min"] = self.onsite_min
        return d


@dataclass
class Unscheduled:
    """A required visit the planner could not place, with the reason in words."""

    village_id: str
    village: str
    township: str
    visit_no: int
    reason: str


@dataclass
class MonthPlan:
    """The month's circuits: routes per lawyer and day, what could not be scheduled, and why."""

    month: str
    lawyers: list[Lawyer]
    routes: list[DayRoute]
    unscheduled: list[Unscheduled]
    working_days: dict[str, list[dt.date]]
    required_visits: int
    assumptions: dict[str, Any] = field(default_factory=dict)
    calendar: MonthCalendar | None = None  # the month planned on (holidays, make-up workdays)
    county: str = ""  # county code (e.g. "433124"), set by plan_county_month

    @property
    def scheduled_visits(self) -> int:
        """Number of village visits placed on routes."""
        return sum(len(r.stops) for r in self.routes)

    def routes_of(self, lawyer_id: str) -> list[DayRoute]:
        """Day routes of one lawyer in date order."""
        return sorted((r for r in self.routes if r.lawyer_id == lawyer_id), key=lambda r: r.date)

    def lawyer_summary(self) -> list[dict[str, Any]]:
        """Per lawyer: working days, days out, visits, villages, hours driving and on site, km."""
        out = []
        for lw in self.lawyers:
            rs = self.routes_of(lw.id)
            out.append(
                {
                    "lawyer_id": lw.id,
                    "lawyer": lw.name,
                    "base": lw.base,
                    "working_days": len(self.working_days.get(lw.id, [])),
                    "days_out": len(rs),
                    "visits": sum(len(r.stops) for r in rs),
                    "villages": len({s.village_id for r in rs for s in r.stops}),
                    "drive_hours": round(sum(r.drive_min for r in rs) / 60, 2),
                    "onsite_hours": round(sum(r.onsite_min for r in rs) / 60, 2),
                    "km": round(sum(r.drive_km for r in rs), 1),
                    "max_day_hours": round(max((r.back - r.depart for r in rs), default=0) / 60, 2),
                }
            )
        return out

    def township_summary(self) -> list[dict[str, Any]]:
        """Per township: visits planned, villages covered, hours on site, unscheduled visits."""
        agg: dict[str, dict[str, Any]] = defaultdict(
            lambda: {
                "visits": 0,
                "villages": set(),
                "onsite_hours": 0.0,
                "unscheduled": 0,
                "lawyers": set(),
            }
        )
        for r in self.routes:
            for s in r.stops:
                a = agg[s.township]
                a["visits"] += 1
                a["villages"].add(s.village_id)
                a["onsite_hours"] += (s.departure - s.start) / 60
                a["lawyers"].add(r.lawyer_id)
        for u in self.unscheduled:
            agg[u.township]["unscheduled"] += 1
        return [
            {
                "township": t,
                "visits": a["visits"],
                "villages": len(a["villages"]),
                "onsite_hours": round(a["onsite_hours"], 2),
                "unscheduled": a["unscheduled"],
                "lawyers": sorted(a["lawyers"]),
            }
            for t, a in sorted(agg.items())
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole plan (units: minutes, km; times HH:MM)."""
        return {
            "month": self.month,
            "county": self.county,
            "required_visits": self.required_visits,
            "scheduled_visits": self.scheduled_visits,
            "unscheduled": [asdict(u) for u in self.unscheduled],
            "summary_by_lawyer": self.lawyer_summary(),
            "summary_by_township": self.township_summary(),
            "routes": [
                r.to_dict() for r in sorted(self.routes, key=lambda r: (r.lawyer_id, r.date))
            ],
            "assumptions": self.assumptions,
            "units": {
                "times": "minutes after midnight (and HH:MM)",
                "travel": "minutes",
                "distance": "km",
            },
        }
