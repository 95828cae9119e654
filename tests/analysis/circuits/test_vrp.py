"""The generic routing layer: hand-solved instances, shift limits, breaks, restrictions."""

from __future__ import annotations

import numpy as np
import pytest

from doorstep.analysis.circuits.vrp import (
    Break,
    ClientSpec,
    RoutingProblem,
    VehicleSpec,
    solve_routing,
)
from doorstep.geo._errors import InputError


def line(points: list[int]) -> np.ndarray:
    p = np.array(points)
    return np.abs(p[:, None] - p[None, :]).astype(np.int64)


def test_tiny_cvrp_optimum_known_by_hand():
    # depot at 0, customers at -2, -1, 1, 2 on a line, capacity 2: optimum = two out-and-back
    # routes {-1, -2} and {1, 2}, each of length 4 -> total 8.
    d = line([0, -2, -1, 1, 2])
    clients = [ClientSpec(location=i, demand=1) for i in range(1, 5)]
    sol = solve_routing(
        RoutingProblem(d, d, clients, [VehicleSpec(depot=0, count=4, capacity=2)]), time_limit=0.3
    )
    assert sol.feasible
    assert sum(r.distance for r in sol.routes) == 8
    assert sorted(sorted(r.clients) for r in sol.routes) == [[0, 1], [2, 3]]


def test_shift_duration_holds_and_bites():
    # customers at 5 and 6 with 4 units of service each
    d = line([0, 5, 6])
    clients = [ClientSpec(location=1, service=4), ClientSpec(location=2, service=4)]
    free = solve_routing(
        RoutingProblem(d, d, clients, [VehicleSpec(depot=0, count=2)]), time_limit=0.2
    )
    assert len([r for r in free.routes if r.clients]) == 1  # 0-5-6-0: 12 travel + 8 service = 20
    assert sum(r.distance for r in free.routes) == 12
    capped = solve_routing(
        RoutingProblem(d, d, clients, [VehicleSpec(depot=0, count=2, max_duration=18)]),
        time_limit=0.2,
    )
    assert capped.feasible
    routes = [r for r in capped.routes if r.clients]
    assert len(routes) == 2 and sum(r.distance for r in routes) == 22  # 10 + 12
    assert all(r.duration <= 18 for r in routes)


def test_break_is_taken_at_a_real_place_inside_its_window():
    # one client at 5 (service 2, window [0, 100]); break of 3 must start in [6, 8]
    d = line([0, 5])
    clients = [ClientSpec(location=1, service=2)]
    veh = VehicleSpec(depot=0, tw_early=0, tw_late=100, brk=Break(3, 6, 8))
    sol = solve_routing(RoutingProblem(d, d, clients, [veh]), time_limit=0.2)
    assert sol.feasible
    (r,) = sol.routes
    brk = [s for s in r.stops if s.is_break]
    visit = [s for s in r.stops if not s.is_break]
    assert len(brk) == 1 and len(visit) == 1
    b, v = brk[0], visit[0]
    assert 6 <= b.start <= 8 and b.end - b.start == 3
    assert b.location in (0, 1)  # at the base or at the client, never "in between"
    assert b.end <= v.start or v.end <= b.start  # no overlap with the visit
    # the break bites: without it the route is 0 -> 5 -> 0 in 12 units; with it 15
    assert r.duration == 15


def test_client_restricted_to_a_far_vehicle_and_multi_depot():
    # depots at 0 and 100; client at 10 is nearer depot 0 but only vehicle 1 may serve it
    d = line([0, 100, 10, 95])
    clients = [ClientSpec(location=2, vehicles=(1,)), ClientSpec(location=3)]
    vehicles = [VehicleSpec(depot=0, name="A"), VehicleSpec(depot=1, name="B")]
    sol = solve_routing(RoutingProblem(d, d, clients, vehicles), time_limit=0.3)
    assert sol.feasible
    served = {c: r.vehicle for r in sol.routes for c in r.clients}
    assert served == {0: 1, 1: 1}
    free = solve_routing(
        RoutingProblem(d, d, [ClientSpec(location=2), ClientSpec(location=3)], vehicles),
        time_limit=0.3,
    )
    assert {c: r.vehicle for r in free.routes for c in r.clients} == {0: 0, 1: 1}
    assert sum(r.distance for r in free.routes) == 20 + 10


def test_bad_input_is_refused():
    d = line([0, 1])
    with pytest.raises(InputError, match="integer"):
        RoutingProblem(d.astype(float), d, [ClientSpec(location=1)], [VehicleSpec(depot=0)])
    with pytest.raises(InputError, match="count 1"):
        VehicleSpec(depot=0, count=2, brk=Break(1, 0, 1))
    with pytest.raises(InputError, match="outside"):
        RoutingProblem(d, d, [ClientSpec(location=5)], [VehicleSpec(depot=0)])
