"""Exact evaluation of one lawyer-day: timing, lunch, shift and driving limits.

This is the planner's own, solver-independent check: every route PyVRP returns is re-timed here
and rejected if it breaks a rule. A day is a sequence of *events* at matrix nodes — village visits
and one lunch break — between leaving and returning to the base. With :math:`t_{ij}` travel
minutes, event :math:`i` starts at

.. math::  S_i = \\max(S_{i-1} + d_{i-1} + t_{i-1,i},\\; e_i)

and must satisfy :math:`S_i \\le l_i` (visit: :math:`l_i` = window close minus on-site time;
lunch: latest start inside the lunch window); the return must be by the shift end and total
driving :math:`\\sum t \\le` the daily limit. Departure is then delayed by the forward time slack
(Savelsbergh) to cut waiting, so the day is as short as possible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import Lawyer

EPS = 1e-6


@dataclass(frozen=True)
class Event:
    """A visit (``ref`` >= 0, the visit-instance number) or the lunch break (``ref`` = -1)."""

    ref: int
    node: int
    duration: float
    early: float
    late: float  # latest start


@dataclass
class TimedDay:
    """A feasible, timed lawyer-day (minutes after midnight)."""

    events: list[Event]
    depart: float
    arrive: list[float]
    start: list[float]
    end: list[float]
    legs: list[float]  # travel minutes into each event, then the leg home (len = events + 1)
    back: float  # return time
    drive: float

    @property
    def refs(self) -> list[int]:
        """Visit-instance refs in order (lunch left out)."""
        return [e.ref for e in self.events if e.ref >= 0]


def lunch_event(lawyer: Lawyer, node: int) -> Event:
    """The lunch break of ``lawyer`` taken at matrix node ``node``."""
    return Event(
        -1,
        node,
        lawyer.lunch_minutes,
        lawyer.lunch_earliest,
        lawyer.lunch_latest - lawyer.lunch_minutes,
    )


def simulate(lawyer: Lawyer, base: int, events: list[Event], minutes: np.ndarray) -> TimedDay | str:
    """Time a day; return :class:`TimedDay` or a string saying which rule is broken."""
    n_lunch = sum(1 for e in events if e.ref < 0)
    if lawyer.lunch_minutes > 0 and n_lunch != 1:
        return f"the day has {n_lunch} lunch breaks instead of one"
    t = float(lawyer.shift_start)
    prev = base
    arrive, start, end, legs, waits = [], [], [], [], []
    drive = 0.0
    slack = np.inf
    cum_wait = 0.0
    for e in events:
        tt = float(minutes[prev, e.node])
        if not np.isfinite(tt):
            return "no road between two stops"
        drive += tt
        a = t + tt
        s = max(a, e.early)
        if s > e.late + EPS:
            what = "lunch" if e.ref < 0 else f"visit {e.ref}"
            return f"{what} would start at {s:.0f} min, after its latest start {e.late:.0f}"
        cum_wait += s - a
        slack = min(slack, cum_wait + (e.late - s))
        arrive.append(a)
        start.append(s)
        end.append(s + e.duration)
        legs.append(tt)
        waits.append(s - a)
        t = s + e.duration
        prev = e.node
    tt = float(minutes[prev, base])
    if not np.isfinite(tt):
        return "no road back to the base"
    drive += tt
    legs.append(tt)
    back = t + tt
    if back > lawyer.shift_end + EPS:
        return f"back at base {back:.0f} min, after the shift end {lawyer.shift_end}"
    if drive > lawyer.max_drive_minutes + EPS:
        return f"{drive:.0f} min driving, over the {lawyer.max_drive_minutes:.0f} min daily limit"
    slack = min(slack, cum_wait + (lawyer.shift_end - back))
    delay = max(0.0, min(slack, cum_wait))
    if delay > EPS:
        # re-time with a later departure
        t = lawyer.shift_start + delay
        prev = base
        arrive, start, end = [], [], []
        for e, tt in zip(events, legs, strict=False):
            a = t + tt
            s = max(a, e.early)
            arrive.append(a)
            start.append(s)
            end.append(s + e.duration)
            t = s + e.duration
            prev = e.node
        back = t + legs[-1]
    return TimedDay(list(events), lawyer.shift_start + delay, arrive, start, end, legs, back, drive)


def best_day(
    lawyer: Lawyer, base: int, visits: list[Event], minutes: np.ndarray
) -> TimedDay | None:
    """Best placement of lunch for a fixed visit order (least driving, then earliest return).

    Lunch is tried at the base before leaving or after returning-equivalent positions, and
    after/before every visit at that village (no detours): driving is the same for all of
    these, only the timing differs.
    """
    if lawyer.lunch_minutes <= 0:
        r = simulate(lawyer, base, visits, minutes)
        return r if isinstance(r, TimedDay) else None
    best: TimedDay | None = None
    nodes = [base] + [v.node for v in visits] + [base]
    tried: set[tuple[int, int]] = set()
    for p in range(len(visits) + 1):
        for node in (nodes[p], nodes[p + 1]):
            if (p, node) in tried:
                continue
            tried.add((p, node))
            ev = [*visits[:p], lunch_event(lawyer, node), *visits[p:]]
            r = simulate(lawyer, base, ev, minutes)
            if isinstance(r, TimedDay) and (
                best is None or (r.drive, r.back) < (best.drive, best.back)
            ):
                best = r
    return best


def best_insertion(
    lawyer: Lawyer, base: int, visits: list[Event], new: Event, minutes: np.ndarray
) -> TimedDay | None:
    """Cheapest feasible insertion of ``new`` into the visit order ``visits`` (or None)."""
    best: TimedDay | None = None
    for p in range(len(visits) + 1):
        r = best_day(lawyer, base, [*visits[:p], new, *visits[p:]], minutes)
        if r is not None and (best is None or (r.drive, r.back) < (best.drive, best.back)):
            best = r
    return best
