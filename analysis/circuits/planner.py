"""Month planner: spread required village visits over lawyers and working days, then route.

Three layers:

1. **Screening.** Each visit is tried alone on a day of each candidate lawyer (the assigned
   adviser, or everyone). A visit that fits nobody's day is reported with the reason in words.
2. **Assignment and day filling.** Free villages go to lawyers by regret order under balanced
   workload caps (estimated on-site plus travel minutes, proportional to each lawyer's working
   days), then rebalanced so no lawyer carries under ``balance_floor`` (default 92 %) of a fair
   share (constants in ``data/params/circuits.toml``). Each lawyer's visits are then inserted,
   hardest first, into the working day with the lowest score
   ``added driving + balance_weight * day length`` where the insertion is feasible (exact
   timing with the lunch break, shift end and driving limit — :mod:`.schedule`) and repeat
   visits to a village stay ``min_gap_days`` apart. What fits no day of its lawyer is offered to
   the other lawyers (free villages only) before it is reported unscheduled.
3. **Routing.** Every date is one multi-depot VRPTW with lunch breaks solved by PyVRP
   (:func:`.vrp.solve_routing`), each visit restricted to its lawyer; the PyVRP route is
   re-timed by :func:`.schedule.simulate` and kept only if valid and no longer than the
   insertion route.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .model import Lawyer, MonthCalendar, PlanParams, TravelMatrix, VillageVisit, check_inputs, hhmm
from .plan import DayRoute, MonthPlan, PlannedStop, Unscheduled
from .schedule import EPS, Event, TimedDay, best_day, best_insertion, lunch_event, simulate
from .vrp import BIG, Break, ClientSpec, RoutingProblem, VehicleSpec, solve_routing

log = logging.getLogger(__name__)


@dataclass
class _Inst:
    ref: int
    vi: int  # village index
    k: int  # visit number 1..r
    node: int
    event: Event
    candidates: list[int] = field(default_factory=list)
    dates: set[dt.date] | None = None


def lawyer_days(lw: Lawyer, cal: MonthCalendar) -> list[dt.date]:
    """Dates of the month on which ``lw`` works (calendar, own weekdays, leave)."""
    out = []
    for d in cal.days():
        if d in lw.leave or (d in cal.holidays and d not in cal.makeup):
            continue
        if (cal.is_working(d) and (d.weekday() in lw.weekdays or d in cal.makeup)) or (
            d.weekday() >= 5 and d.weekday() in lw.weekdays
        ):
            out.append(d)
    return out


def _spread_rank(n: int) -> list[float]:
    """Van der Corput ranks: low-discrepancy order so the first-used days spread over the month."""
    out = []
    for i in range(n):
        x, f, j = 0.0, 0.5, i
        while j:
            x += f * (j & 1)
            j >>= 1
            f /= 2
        out.append(x)
    return out


def _h(minutes: float) -> str:
    return f"{minutes / 60:.1f} h"


def explain_unfit(lw: Lawyer, v: VillageVisit, travel: TravelMatrix) -> str:
    """Why visit ``v`` does not fit any day of lawyer ``lw`` (words, for the report)."""
    b, n = travel.index(lw.base), travel.index(v.location)
    rt = float(travel.minutes[b, n] + travel.minutes[n, b])
    base = travel.name(lw.base)
    who = f"village {v.name} ({v.township})" if v.township else f"village {v.name}"
    if not math.isfinite(rt):
        return f"{who} has no road connection to base {base}"
    if rt > lw.max_drive_minutes:
        return (
            f"{who} is {_h(rt)} round trip from base {base}, over the {_h(lw.max_drive_minutes)} "
            f"daily driving limit"
        )
    need = rt + v.service_minutes + lw.lunch_minutes
    if need > lw.shift_minutes:
        return (
            f"{who} is {_h(rt)} round trip from base {base}; with {_h(v.service_minutes)} on site and "
            f"{_h(lw.lunch_minutes)} lunch that is {_h(need)}, longer than the {_h(lw.shift_minutes)} "
            f"working day ({hhmm(lw.shift_start)}–{hhmm(lw.shift_end)})"
        )
    if v.window is not None:
        return (
            f"{who}: the visiting window {hhmm(v.window[0])}–{hhmm(v.window[1])} cannot hold "
            f"{_h(v.service_minutes)} on site with {_h(rt)} round trip from base {base}, the lunch "
            f"break ({hhmm(lw.lunch_earliest)}–{hhmm(lw.lunch_latest)}) and the shift "
            f"({hhmm(lw.shift_start)}–{hhmm(lw.shift_end)})"
        )
    return f"{who} cannot be timed into a working day from base {base} (lunch break and shift)"


@dataclass
class _Month:
    """The month being planned: inputs, derived indices and the visits dropped so far."""

    lawyers: Sequence[Lawyer]
    visits: Sequence[VillageVisit]
    calendar: MonthCalendar
    travel: TravelMatrix
    params: PlanParams
    bases: list[int]
    days: dict[int, list[dt.date]]
    insts: list[_Inst]
    unscheduled: list[Unscheduled] = field(default_factory=list)

    @property
    def mins(self) -> np.ndarray:
        return self.travel.minutes

    def drop(self, inst: _Inst, reason: str) -> None:
        v = self.visits[inst.vi]
        self.unscheduled.append(Unscheduled(v.id, v.name, v.township, inst.k, reason))


@dataclass
class _Filled:
    """Result of day filling: each (lawyer, date)'s visit events and timed day."""

    day_events: dict[tuple[int, dt.date], list[Event]] = field(default_factory=dict)
    day_timed: dict[tuple[int, dt.date], TimedDay] = field(default_factory=dict)
    placed: dict[int, list[dt.date]] = field(default_factory=dict)  # vi -> dates used
    where: dict[int, tuple[int, dt.date]] = field(default_factory=dict)  # ref -> (lawyer, date)
    n_repaired: int = 0


def _rebalance(
    owner: dict[int, int],
    load: np.ndarray,
    est: dict[tuple[int, int], float],
    free: list[int],
    ndays: np.ndarray,
    by_village: dict[int, list[_Inst]],
    params: PlanParams,
) -> int:
    """Move free villages to the least-loaded lawyer until every lawyer carries at least
    ``params.balance_floor`` of a fair share (estimated minutes, proportional to working days).

    Each move takes, from a lawyer above the fair share, the village whose transfer adds the
    least estimated time, and only if the pair's larger load goes down; at most
    ``params.rebalance_rounds`` moves per free village. Returns the moves made.
    """
    if len(load) < 2 or not free:
        return 0
    share = ndays / max(float(ndays.sum()), 1.0)
    moves = 0
    for _ in range(params.rebalance_rounds * len(free)):
        fair = float(load.sum()) * share
        rel = load / np.maximum(fair, 1e-9)
        lo = int(np.argmin(rel))
        if rel[lo] >= params.balance_floor:
            break
        best: tuple[float, int] | None = None
        for vi in free:
            o = owner[vi]
            if o == lo or lo not in by_village[vi][0].candidates or load[o] <= fair[o]:
                continue
            if load[lo] + est[(vi, lo)] >= load[o]:
                continue  # would only swap which of the two is overloaded
            delta = est[(vi, lo)] - est[(vi, o)]
            if best is None or delta < best[0]:
                best = (delta, vi)
        if best is None:
            break
        vi = best[1]
        o = owner[vi]
        load[o] -= est[(vi, o)]
        load[lo] += est[(vi, lo)]
        owner[vi] = lo
        moves += 1
    if moves:
        log.info("workload balance: %d villages moved to less loaded lawyers", moves)
    return moves


def _instances(
    lawyers: Sequence[Lawyer], visits: Sequence[VillageVisit], travel: TravelMatrix
) -> list[_Inst]:
    ids = {lw.id: i for i, lw in enumerate(lawyers)}
    out: list[_Inst] = []
    for vi, v in enumerate(visits):
        node = travel.index(v.location)
        early, late = (
            (v.window[0], v.window[1] - v.service_minutes) if v.window else (0.0, 24 * 60.0)
        )
        cands = [ids[v.adviser]] if v.adviser is not None else list(range(len(lawyers)))
        dates = None
        if v.dates is not None:
            dates = set(v.dates)
        for k in range(1, v.visits + 1):
            ev = Event(len(out), node, float(v.service_minutes), float(early), float(late))
            out.append(_Inst(len(out), vi, k, node, ev, list(cands), dates))
    return out


def _allowed(inst: _Inst, v: VillageVisit, days: list[dt.date]) -> list[dt.date]:
    return [
        d
        for d in days
        if (inst.dates is None or d in inst.dates)
        and (v.weekdays is None or d.weekday() in v.weekdays)
    ]


def plan_month(
    lawyers: Sequence[Lawyer],
    visits: Sequence[VillageVisit],
    calendar: MonthCalendar,
    travel: TravelMatrix,
    params: PlanParams | None = None,
) -> MonthPlan:
    """Plan a month of lawyer circuits.

    Parameters
    ----------
    lawyers, visits
        The planning model (see :mod:`.model`); visit ``location`` and lawyer ``base`` are keys
        of ``travel``.
    calendar
        The month's working days.
    travel
        Door-to-door minutes and km between all places (one mode).
    params
        Planner parameters (default: ``data/params/circuits.toml``).

    Returns
    -------
    MonthPlan
        Day routes (ordered stops with arrival/departure, travel minutes and km, lunch), the
        unscheduled visits with reasons, and summaries.
    """
    params = params or PlanParams()
    check_inputs(lawyers, visits, travel)
    month = _Month(
        lawyers,
        visits,
        calendar,
        travel,
        params,
        bases=[travel.index(lw.base) for lw in lawyers],
        days={i: lawyer_days(lw, calendar) for i, lw in enumerate(lawyers)},
        insts=_instances(lawyers, visits, travel),
    )
    live, single = _screen(month)
    owner = _assign(month, live, single)
    filled = _fill_days(month, live, single, owner)
    log.info(
        "placed %d of %d visits (%d moved to another lawyer)",
        len(filled.where),
        len(month.insts),
        filled.n_repaired,
    )
    solver_used: dict[tuple[int, dt.date], str] = {}
    if params.use_pyvrp:
        for d in sorted({d for (_, d) in filled.day_events}):
            _route_date(month, d, filled, solver_used)
    return _month_plan(month, filled, solver_used)


def _screen(month: _Month) -> tuple[list[_Inst], dict[tuple[int, int], float]]:
    """Phase 1: try each visit alone on a day of each candidate lawyer.

    Returns the visits that fit somebody (candidates narrowed to those lawyers) and
    ``single[(village, lawyer)]``: driving minutes of the best lone-visit day (``inf`` if none).
    Visits that fit nobody are dropped with the reason in words.
    """
    lawyers, mins, bases = month.lawyers, month.mins, month.bases
    single: dict[tuple[int, int], float] = {}
    live: list[_Inst] = []
    for inst in month.insts:
        v = month.visits[inst.vi]
        ok = []
        for li in inst.candidates:
            key = (inst.vi, li)
            if key not in single:
                r = best_day(lawyers[li], bases[li], [inst.event], mins)
                single[key] = r.drive if r is not None else math.inf
            if math.isfinite(single[key]) and _allowed(inst, v, month.days[li]):
                ok.append(li)
        if ok:
            inst.candidates = ok
            live.append(inst)
            continue
        fit = [li for li in inst.candidates if math.isfinite(single[(inst.vi, li)])]
        if fit:
            want = (
                f"on {', '.join(sorted(d.isoformat() for d in inst.dates))}"
                if inst.dates
                else "on the preferred weekdays"
            )
            month.drop(
                inst,
                f"village {v.name}: no working day of {lawyers[fit[0]].name} in "
                f"{month.calendar.label()} falls {want}",
            )
        else:
            li = min(
                inst.candidates, key=lambda j: mins[bases[j], inst.node] + mins[inst.node, bases[j]]
            )
            month.drop(inst, explain_unfit(lawyers[li], v, month.travel))
    return live, single


def _assign(
    month: _Month, live: list[_Inst], single: dict[tuple[int, int], float]
) -> dict[int, int]:
    """Phase 2a: a lawyer per village (``owner[village]``).

    Estimated workload ``e[v, l] = r_v (s_v + drive_share · single[v, l])``; caps
    ``cap_l = cap_slack · Σ_v min_l e[v, l] · n_l / Σ n`` (``n_l`` working days). Villages with
    one candidate go to it; free villages go, in decreasing regret (second-best minus best
    lone-visit driving), to the nearest lawyer with room under the cap (else the least relative
    overload), then :func:`_rebalance` evens the loads.
    """
    params, visits = month.params, month.visits
    by_village: dict[int, list[_Inst]] = {}
    for inst in live:
        by_village.setdefault(inst.vi, []).append(inst)
    est: dict[tuple[int, int], float] = {}
    for vi, group in by_village.items():
        for li in group[0].candidates:
            est[(vi, li)] = len(group) * (
                visits[vi].service_minutes + params.drive_share * single[(vi, li)]
            )
    total = sum(min(est[(vi, li)] for li in g[0].candidates) for vi, g in by_village.items())
    ndays = np.array([len(month.days[i]) for i in range(len(month.lawyers))], dtype=float)
    cap = total * ndays / max(ndays.sum(), 1) * params.cap_slack
    owner: dict[int, int] = {}
    load = np.zeros(len(month.lawyers))
    free = []
    for vi, group in by_village.items():
        if len(group[0].candidates) == 1:
            owner[vi] = group[0].candidates[0]
            load[owner[vi]] += est[(vi, owner[vi])]
        else:
            free.append(vi)

    def regret(vi: int) -> float:
        c = sorted(single[(vi, li)] for li in by_village[vi][0].candidates)
        return c[1] - c[0] if len(c) > 1 else math.inf

    for vi in sorted(free, key=lambda x: (-regret(x), visits[x].id)):
        cands = sorted(by_village[vi][0].candidates, key=lambda li: (single[(vi, li)], li))
        room = [li for li in cands if load[li] + est[(vi, li)] <= cap[li]]
        li = (
            room[0]
            if room
            else min(cands, key=lambda j: (load[j] + est[(vi, j)]) / max(cap[j], 1e-9))
        )
        owner[vi] = li
        load[li] += est[(vi, li)]
    _rebalance(owner, load, est, free, ndays, by_village, params)
    return owner


def _try_place(
    month: _Month,
    filled: _Filled,
    ranks: dict[int, dict[dt.date, float]],
    inst: _Inst,
    li: int,
) -> tuple[float, dt.date, TimedDay] | None:
    """Best day of lawyer ``li`` for ``inst``: lowest ``added driving + balance_weight · day
    length + spread_weight · spread rank`` among feasible insertions at least ``min_gap_days``
    from the village's other visits; ``None`` if no day has room."""
    params = month.params
    best = None
    for d in _allowed(inst, month.visits[inst.vi], month.days[li]):
        if any(
            abs((d - o).days) < max(params.min_gap_days, 1) for o in filled.placed.get(inst.vi, [])
        ):
            continue
        cur = filled.day_events.get((li, d), [])
        t = best_insertion(month.lawyers[li], month.bases[li], cur, inst.event, month.mins)
        if t is None:
            continue
        prev = filled.day_timed.get((li, d))
        added = t.drive - (prev.drive if prev else 0.0)
        score = (
            added
            + params.balance_weight * (t.back - t.depart)
            + params.spread_weight * ranks[li][d]
        )
        if best is None or score < best[0]:
            best = (score, d, t)
    return best


def _fill_days(
    month: _Month,
    live: list[_Inst],
    single: dict[tuple[int, int], float],
    owner: dict[int, int],
) -> _Filled:
    """Phase 2b: insert each visit, hardest first (fewest allowed days, longest lone drive),
    into its lawyer's best day (:func:`_try_place`); what fits no day of its lawyer goes to the
    cheapest other candidate lawyer, else it is dropped with the reason."""
    visits = month.visits
    ranks: dict[int, dict[dt.date, float]] = {}
    for li in range(len(month.lawyers)):
        rk = _spread_rank(len(month.days[li]))
        ranks[li] = {d: rk[i] for i, d in enumerate(month.days[li])}
    order = sorted(
        live,
        key=lambda s: (
            len(_allowed(s, visits[s.vi], month.days[owner[s.vi]])),
            -single[(s.vi, owner[s.vi])],
            visits[s.vi].id,
            s.k,
        ),
    )
    filled = _Filled()
    for inst in order:
        li = owner[inst.vi]
        got = _try_place(month, filled, ranks, inst, li)
        lw_used = li
        if got is None:
            alts = [o for o in inst.candidates if o != li]
            trials = [
                (g, o) for o in alts if (g := _try_place(month, filled, ranks, inst, o)) is not None
            ]
            if trials:
                got, lw_used = min(trials, key=lambda x: x[0][0])
                filled.n_repaired += 1
        if got is None:
            _drop_no_room(month, filled, inst, li)
            continue
        _, d, t = got
        filled.day_events[(lw_used, d)] = [e for e in t.events if e.ref >= 0]
        filled.day_timed[(lw_used, d)] = t
        filled.placed.setdefault(inst.vi, []).append(d)
        filled.where[inst.ref] = (lw_used, d)
    return filled


def _drop_no_room(month: _Month, filled: _Filled, inst: _Inst, li: int) -> None:
    v = month.visits[inst.vi]
    spaced = bool(filled.placed.get(inst.vi))
    month.drop(
        inst,
        f"village {v.name} (visit {inst.k} of {v.visits}): no working day of "
        f"{month.lawyers[li].name} in {month.calendar.label()} has room left"
        + (f" at least {month.params.min_gap_days} days from the other visit" if spaced else "")
        + (" (no other lawyer had room either)" if len(inst.candidates) > 1 else ""),
    )


def _month_plan(
    month: _Month, filled: _Filled, solver_used: dict[tuple[int, dt.date], str]
) -> MonthPlan:
    """Assemble the :class:`MonthPlan` from the timed days (lawyer, then date order)."""
    lawyers, params = month.lawyers, month.params
    routes = [
        _day_route(
            lawyers[li],
            d,
            filled.day_timed[(li, d)],
            month.insts,
            month.visits,
            month.travel,
            solver_used.get((li, d), "insertion"),
        )
        for (li, d) in sorted(filled.day_timed, key=lambda x: (x[0], x[1]))
    ]
    return MonthPlan(
        month=month.calendar.label(),
        lawyers=list(lawyers),
        routes=routes,
        unscheduled=month.unscheduled,
        working_days={lw.id: month.days[i] for i, lw in enumerate(lawyers)},
        required_visits=len(month.insts),
        assumptions={
            "min_gap_days": params.min_gap_days,
            "lunch": "one break per day inside the lawyer's lunch window, taken at the base or a village on the route",
            "holidays_known": month.calendar.holidays_known,
            "travel_mode": month.travel.mode,
            "moved_to_other_lawyer": filled.n_repaired,
            "seed": params.seed,
        },
        calendar=month.calendar,
    )


def _date_problem(
    month: _Month, d: dt.date, filled: _Filled
) -> tuple[list[int], list[int], list[Event], RoutingProblem]:
    """The lawyers working on ``d``, the matrix nodes involved, the visit events (client order)
    and the multi-depot VRPTW in seconds: one vehicle per lawyer (shift, driving limit, lunch
    break), each visit an optional client with prize ``visit_prize`` restricted to its lawyer."""
    lawyers, bases, day_events = month.lawyers, month.bases, filled.day_events
    lis = sorted(li for (li, dd) in day_events if dd == d)
    nodes = sorted({bases[li] for li in lis} | {e.node for li in lis for e in day_events[(li, d)]})
    pos = {n: i for i, n in enumerate(nodes)}
    sub = month.mins[np.ix_(nodes, nodes)]
    sec = np.where(np.isfinite(sub), np.ceil(sub * 60), BIG).astype(np.int64)
    vehicles, clients, refs = [], [], []
    for k, li in enumerate(lis):
        lw = lawyers[li]
        brk = (
            Break(
                lw.lunch_minutes * 60,
                lw.lunch_earliest * 60,
                (lw.lunch_latest - lw.lunch_minutes) * 60,
            )
            if lw.lunch_minutes
            else None
        )
        vehicles.append(
            VehicleSpec(
                depot=pos[bases[li]],
                tw_early=lw.shift_start * 60,
                tw_late=lw.shift_end * 60,
                max_distance=int(lw.max_drive_minutes * 60),
                brk=brk,
                name=lw.id,
            )
        )
        for e in day_events[(li, d)]:
            clients.append(
                ClientSpec(
                    location=pos[e.node],
                    service=int(e.duration * 60),
                    tw_early=int(e.early * 60),
                    tw_late=int(min(e.late, 24 * 60) * 60),
                    required=False,
                    prize=month.params.visit_prize,
                    vehicles=(k,),
                    name=str(e.ref),
                )
            )
            refs.append(e)
    return lis, nodes, refs, RoutingProblem(sec, sec, clients, vehicles)


def _route_date(
    month: _Month,
    d: dt.date,
    filled: _Filled,
    solver_used: dict[tuple[int, dt.date], str],
) -> None:
    """Re-route all lawyers working on ``d`` as one multi-depot VRPTW with breaks (PyVRP).

    Each PyVRP route is re-timed by :func:`.schedule.simulate` (or :func:`.schedule.best_day`
    on PyVRP's visit order, if that drives less) and replaces the insertion route only if it
    serves the same visits and drives less, or as much and returns no later.
    """
    params, mins = month.params, month.mins
    lis, nodes, refs, problem = _date_problem(month, d, filled)
    sol = solve_routing(
        problem,
        time_limit=params.day_time_limit,
        seed=params.seed,
        max_iterations=params.day_max_iterations,
    )
    for r in sol.routes:
        li = lis[r.vehicle]
        key = (li, d)
        lw = month.lawyers[li]
        base = month.bases[li]
        events = [
            refs[s.client] if not s.is_break else lunch_event(lw, nodes[s.location])
            for s in r.stops
        ]
        t: TimedDay | str | None = simulate(lw, base, events, mins)
        # keep PyVRP's visit order but let the exact evaluator place lunch if that is better
        alt = best_day(lw, base, [e for e in events if e.ref >= 0], mins)
        if alt is not None and (
            not isinstance(t, TimedDay) or (alt.drive, alt.back) < (t.drive, t.back)
        ):
            t = alt
        want = {e.ref for e in filled.day_events[key]}
        cur = filled.day_timed[key]
        if (
            isinstance(t, TimedDay)
            and set(t.refs) == want
            and (
                t.drive < cur.drive - EPS
                or (t.drive <= cur.drive + EPS and t.back <= cur.back + EPS)
            )
        ):
            filled.day_timed[key] = t
            solver_used[key] = "pyvrp"
        else:
            why = t if isinstance(t, str) else "route misses visits or drives longer"
            log.debug("%s %s: kept insertion route (%s)", lw.id, d, why)
            solver_used[key] = "insertion (pyvrp route rejected)"


def _day_route(
    lw: Lawyer,
    d: dt.date,
    t: TimedDay,
    insts: list[_Inst],
    visits: Sequence[VillageVisit],
    travel: TravelMatrix,
    solver: str,
) -> DayRoute:
    base = travel.index(lw.base)
    stops: list[PlannedStop] = []
    lunch: tuple[float, float, str] | None = None
    prev, acc_min, acc_km = base, 0.0, 0.0
    path = [lw.base]
    for e, a, s, en, leg in zip(t.events, t.arrive, t.start, t.end, t.legs, strict=False):
        acc_min += leg
        acc_km += float(travel.km[prev, e.node])
        prev = e.node
        if e.ref < 0:
            lunch = (s, en, travel.name(travel.keys[e.node]))
            continue
        inst = insts[e.ref]
        v = visits[inst.vi]
        stops.append(
            PlannedStop(v.id, v.name, v.township, inst.k, v.visits, a, s, en, acc_min, acc_km)
        )
        path.append(v.location)
        acc_min, acc_km = 0.0, 0.0
    home_min = acc_min + t.legs[-1]
    home_km = acc_km + float(travel.km[prev, base])
    path.append(lw.base)
    return DayRoute(
        lawyer_id=lw.id,
        lawyer=lw.name,
        date=d,
        base=lw.base,
        base_name=travel.name(lw.base),
        depart=t.depart,
        back=t.back,
        stops=stops,
        lunch_start=lunch[0] if lunch else None,
        lunch_end=lunch[1] if lunch else None,
        lunch_place=lunch[2] if lunch else "",
        drive_min=t.drive,
        drive_km=sum(s.travel_km for s in stops) + home_km,
        home_min=home_min,
        home_km=home_km,
        solver=solver,
        path=path,
    )
