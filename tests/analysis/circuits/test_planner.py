"""Month planner: hand-known answers; shift, lunch, spacing and adviser rules hold and bite."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from doorstep.analysis.circuits.model import Lawyer, MonthCalendar, PlanParams, VillageVisit
from doorstep.analysis.circuits.plan import MonthPlan
from doorstep.analysis.circuits.planner import plan_month
from doorstep.geo._errors import InputError

from .conftest import make_travel

DEC = MonthCalendar.for_month("2026-12")
P0 = PlanParams(balance_weight=0.0, day_time_limit=0.2, day_max_iterations=200)


def assert_rules_hold(plan: MonthPlan) -> None:
    """Every route: inside the shift, one lunch inside its window, no overlaps, drive limit."""
    lw = {x.id: x for x in plan.lawyers}
    for r in plan.routes:
        law = lw[r.lawyer_id]
        assert law.shift_start - 1e-6 <= r.depart and r.back <= law.shift_end + 1e-6
        assert r.drive_min <= law.max_drive_minutes + 1e-6
        assert r.lunch_start is not None and r.lunch_end is not None
        assert r.lunch_end - r.lunch_start == pytest.approx(law.lunch_minutes)
        assert law.lunch_earliest - 1e-6 <= r.lunch_start and r.lunch_end <= law.lunch_latest + 1e-6
        spans = sorted([(s.start, s.departure) for s in r.stops] + [(r.lunch_start, r.lunch_end)])
        for (_a0, a1), (b0, _) in itertools.pairwise(spans):
            assert a1 <= b0 + 1e-6
        assert all(s.arrival >= r.depart for s in r.stops)


def test_two_near_villages_share_one_day_known_by_hand():
    tm = make_travel({("b", "v1"): 30, ("b", "v2"): 30, ("v1", "v2"): 20}, ["b", "v1", "v2"])
    law = Lawyer("L1", "Li", "b")
    plan = plan_month(
        [law], [VillageVisit("v1", "V1", "v1"), VillageVisit("v2", "V2", "v2")], DEC, tm, P0
    )
    assert not plan.unscheduled
    (r,) = plan.routes
    assert r.date == dt.date(2026, 12, 1)
    assert r.drive_min == pytest.approx(80)  # 30 + 20 + 30
    assert r.drive_km == pytest.approx(40)
    # lunch (11:30-13:30) cannot follow V2 (it would end 14:20), so it is taken on arrival at the second village:
    # 30 + 120 + 20 min must bring the lawyer to V2 at 11:30 (the second village) at 11:30 -> leave 08:40 without waiting
    assert r.depart == pytest.approx(520)
    assert [s.start for s in r.stops] == pytest.approx([550, 750])  # 09:10, 12:30
    assert (r.lunch_start, r.lunch_end, r.lunch_place) == (
        pytest.approx(690),
        pytest.approx(750),
        r.stops[1].village,
    )
    assert r.back == pytest.approx(900)  # 15:00 = 08:40 + 80 drive + 240 on site + 60 lunch
    assert_rules_hold(plan)


def test_shift_end_bites():
    tm = make_travel({("b", "v1"): 100, ("b", "v2"): 100, ("v1", "v2"): 30}, ["b", "v1", "v2"])
    vs = [VillageVisit("v1", "V1", "v1"), VillageVisit("v2", "V2", "v2")]
    # 100 + 120 + 30 + 120 + 100 + 60 lunch = 530 min fits 08:30-17:30 (540) ...
    long_day = plan_month([Lawyer("L1", "Li", "b")], vs, DEC, tm, P0)
    assert len(long_day.routes) == 1 and long_day.routes[0].back <= 17 * 60 + 30
    # ... but not 08:30-17:00 (510): the two villages go on separate days
    short = plan_month([Lawyer("L1", "Li", "b", shift_end=17 * 60)], vs, DEC, tm, P0)
    assert len(short.routes) == 2 and not short.unscheduled
    assert_rules_hold(long_day)
    assert_rules_hold(short)


def test_lunch_break_bites():
    # open 11:00-14:00 for a 2 h visit: the visit must cover 12:00-13:00 and no 60-min lunch
    # fits in 11:30-13:30 before or after it
    tm = make_travel({("b", "v1"): 20}, ["b", "v1"])
    v = VillageVisit("v1", "V1", "v1", window=(11 * 60, 14 * 60))
    with_lunch = plan_month([Lawyer("L1", "Li", "b")], [v], DEC, tm, P0)
    assert with_lunch.scheduled_visits == 0 and len(with_lunch.unscheduled) == 1
    assert "11:00–14:00" in with_lunch.unscheduled[0].reason
    no_lunch = plan_month([Lawyer("L1", "Li", "b", lunch_minutes=0)], [v], DEC, tm, P0)
    assert no_lunch.scheduled_visits == 1
    # a window that leaves room: lunch is placed and respected
    ok = plan_month(
        [Lawyer("L1", "Li", "b")],
        [VillageVisit("v1", "V1", "v1", window=(9 * 60, 12 * 60))],
        DEC,
        tm,
        P0,
    )
    assert ok.scheduled_visits == 1
    assert_rules_hold(ok)


def test_spacing_of_repeat_visits_holds_and_bites():
    tm = make_travel({("b", "v1"): 20}, ["b", "v1"])
    v = VillageVisit("v1", "V1", "v1", visits=2)
    law = Lawyer("L1", "Li", "b")
    plan = plan_month([law], [v], DEC, tm, PlanParams(min_gap_days=10, day_time_limit=0.2))
    dates = sorted(r.date for r in plan.routes)
    assert len(dates) == 2 and (dates[1] - dates[0]).days >= 10
    # 30 days between the first and last working day of December: a 31-day gap cannot be met
    tight = plan_month([law], [v], DEC, tm, PlanParams(min_gap_days=31, day_time_limit=0.2))
    assert tight.scheduled_visits == 1 and len(tight.unscheduled) == 1
    assert "at least 31 days" in tight.unscheduled[0].reason


def test_assigned_adviser_holds_and_bites():
    tm = make_travel({("a", "v1"): 10, ("b", "v1"): 90, ("a", "b"): 95}, ["a", "b", "v1"])
    lawyers = [Lawyer("LA", "A", "a"), Lawyer("LB", "B", "b")]
    free = plan_month(lawyers, [VillageVisit("v1", "V1", "v1")], DEC, tm, P0)
    assert [r.lawyer_id for r in free.routes] == ["LA"]  # nearest base
    fixed = plan_month(lawyers, [VillageVisit("v1", "V1", "v1", adviser="LB")], DEC, tm, P0)
    assert [r.lawyer_id for r in fixed.routes] == ["LB"]
    assert_rules_hold(fixed)
    with pytest.raises(InputError, match="not among the lawyers"):
        plan_month(lawyers, [VillageVisit("v1", "V1", "v1", adviser="LZ")], DEC, tm, P0)


def test_unschedulable_village_reported_with_reason():
    tm = make_travel({("b", "near"): 20, ("b", "far"): 138}, ["b", "near", "far"])
    vs = [VillageVisit("near", "Near", "near"), VillageVisit("far", "Far", "far", township="T")]
    # 276 min = 4.6 h round trip: fits a 9 h day and the default 5 h driving limit ...
    assert plan_month([Lawyer("L1", "Li", "b")], vs, DEC, tm, P0).scheduled_visits == 2
    # ... but not a 4 h driving limit, nor a day that ends at 15:00
    limited = plan_month([Lawyer("L1", "Li", "b", max_drive_minutes=240)], vs, DEC, tm, P0)
    (u,) = limited.unscheduled
    assert (
        u.reason
        == "village Far (T) is 4.6 h round trip from base B, over the 4.0 h daily driving limit"
    )
    short = plan_month([Lawyer("L1", "Li", "b", shift_end=15 * 60)], vs, DEC, tm, P0)
    (u,) = short.unscheduled
    assert u.reason == (
        "village Far (T) is 4.6 h round trip from base B; with 2.0 h on site and 1.0 h lunch that "
        "is 7.6 h, longer than the 6.5 h working day (08:30–15:00)"
    )


def test_balanced_workload_across_lawyers():
    keys = ["b"] + [f"v{i}" for i in range(12)]
    tm = make_travel({("b", k): 30 + 5 * i for i, k in enumerate(keys[1:])}, keys)
    vs = [VillageVisit(k, k.upper(), k) for k in keys[1:]]
    lawyers = [Lawyer("L1", "A", "b"), Lawyer("L2", "B", "b"), Lawyer("L3", "C", "b")]
    plan = plan_month(lawyers, vs, DEC, tm, PlanParams(day_time_limit=0.2))
    counts = sorted(s["visits"] for s in plan.lawyer_summary())
    assert sum(counts) == 12 and counts[-1] - counts[0] <= 2
    assert_rules_hold(plan)
    towns = plan.township_summary()
    assert sum(t["visits"] for t in towns) == 12


def test_calendar_2026_holidays():
    assert len(DEC.working_days()) == 23
    octo = MonthCalendar.for_month("2026-10")
    wd = octo.working_days()
    assert len(wd) == 18  # 22 weekdays - 5 holiday weekdays + Saturday 10 Oct (make-up day)
    assert dt.date(2026, 10, 10) in wd and dt.date(2026, 10, 1) not in wd
    assert dt.date(2026, 10, 8) in wd
    may = MonthCalendar.for_month("2026-05").working_days()
    assert dt.date(2026, 5, 9) in may and dt.date(2026, 5, 4) not in may
    assert not MonthCalendar.for_month("2031-01").holidays_known
    with pytest.raises(InputError):
        MonthCalendar.for_month("2026-13")


def test_rebalance_feeds_the_idle_lawyer_cheapest_moves_first():
    from types import SimpleNamespace

    import numpy as np

    from doorstep.analysis.circuits.planner import _rebalance

    # lawyer 0 holds all six villages; lawyer 1 is 10 min farther from villages 0-2, 50 from 3-5
    est = {(v, 0): 100.0 for v in range(6)}
    est.update({(v, 1): 110.0 if v < 3 else 150.0 for v in range(6)})
    owner = dict.fromkeys(range(6), 0)
    load = np.array([600.0, 0.0])
    by_village = {v: [SimpleNamespace(candidates=[0, 1])] for v in range(6)}
    days = np.array([20.0, 20.0])
    moves = _rebalance(owner, load, est, list(range(6)), days, by_village, PlanParams())
    assert moves == 3  # 500/110 (36 %), 400/220 (71 %), 300/330: 95 % >= balance_floor 0.92
    assert sorted(v for v, o in owner.items() if o == 1) == [0, 1, 2]  # the cheap ones moved
    np.testing.assert_allclose(load, [300.0, 330.0])
    # a lower floor stops after the second move (71 % of a fair share); no rounds: no move
    owner, load = dict.fromkeys(range(6), 0), np.array([600.0, 0.0])
    low = PlanParams(balance_floor=0.5)
    assert _rebalance(owner, load, est, list(range(6)), days, by_village, low) == 2
    np.testing.assert_allclose(load, [400.0, 220.0])
    owner, load = dict.fromkeys(range(6), 0), np.array([600.0, 0.0])
    none = PlanParams(rebalance_rounds=0)
    assert _rebalance(owner, load, est, list(range(6)), days, by_village, none) == 0
    # a lawyer who cannot take free villages (candidates) is left alone
    owner = dict.fromkeys(range(6), 0)
    load = np.array([600.0, 0.0])
    only0 = {v: [SimpleNamespace(candidates=[0])] for v in range(6)}
    assert _rebalance(owner, load, est, list(range(6)), days, only0, PlanParams()) == 0


def test_plan_params_defaults_come_from_circuits_toml():
    import tomllib

    from doorstep.geo.settings import project_data_dir

    raw = tomllib.loads((project_data_dir() / "params" / "circuits.toml").read_text())
    p = PlanParams()
    for name, value in raw["planner"].items():
        assert getattr(p, name) == value, name
    lw, v = Lawyer("L", "n", "b"), VillageVisit("v", "n", "v")
    for name, value in raw["lawyer"].items():
        if isinstance(value, str):  # "HH:MM"
            h, m = value.split(":")
            value = int(h) * 60 + int(m)
        assert getattr(lw, name) == (tuple(value) if isinstance(value, list) else value), name
    assert (lw.shift_start, lw.lunch_latest) == (8 * 60 + 30, 13 * 60 + 30)
    for name, value in raw["visit"].items():
        assert getattr(v, name) == value, name
    assert Lawyer("L", "n", "b", max_drive_minutes=200).max_drive_minutes == 200
    assert PlanParams(cap_slack=1.5).cap_slack == 1.5  # a passed value overrides the file
    for bad in (
        {"balance_floor": 1.2},
        {"cap_slack": 0.9},
        {"drive_share": -0.1},
        {"visit_prize": 0},
        {"min_gap_days": 2.5},
        {"use_pyvrp": "yes"},
    ):
        with pytest.raises(InputError, match=next(iter(bad))):
            PlanParams(**bad)
