"""Generic vehicle-routing layer over PyVRP (used by the circuits planner *and* the benchmarks).

The model is a vehicle routing problem with time windows (VRPTW) on integer matrices:

.. math::

    \\min \\sum_{k} \\sum_{(i,j) \\in r_k} c_{ij} \\; - \\sum_{i \\in \\text{visited}} p_i

subject to: each required client visited exactly once, optional clients at most once (prize
:math:`p_i`); on every route the start of service :math:`S_i \\in [e_i, l_i]`,
:math:`S_j \\ge S_i + s_i + t_{ij}`; route load :math:`\\le Q_k`; route duration
:math:`\\le D_k`; route distance (cost units) :math:`\\le L_k`; start and end inside the vehicle's
shift window; client ``i`` only on vehicles in its allowed set.

A **break** (lunch) of length :math:`b` starting in :math:`[a, z]` is modelled soundly, without
teleporting: every vehicle with a break gets a private routing profile and, for each location it
may visit (its depot and every client location), a private copy of that location carrying one
optional "break" client of service time :math:`b` and time window :math:`[a, z]`; the copies form
a *required mutually exclusive group*, so exactly one break is taken, at a real place on the
route (the travel times into and out of a copy are those of the original location). Vehicles
with a break must therefore have ``count == 1``.

Units are whatever the caller uses (the circuits planner uses seconds, the Solomon bench uses
1/10000 of a distance unit); all inputs must be non-negative integers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from pyvrp import Location, Model, Solution
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from doorstep.geo._errors import InputError, SolverError

log = logging.getLogger(__name__)

BIG = 10**9
"""Stand-in for an unbounded time window or limit, and the value of missing edges (integer
units). Kept far below int64 so PyVRP's penalised costs cannot overflow."""


@dataclass(frozen=True)
class Break:
    """A mandatory break: ``duration`` units starting between ``earliest`` and ``latest``."""

    duration: int
    earliest: int
    latest: int

    def __post_init__(self) -> None:
        if self.duration <= 0 or self.earliest < 0 or self.latest < self.earliest:
            raise InputError(f"break needs duration > 0 and 0 <= earliest <= latest (got {self})")


@dataclass(frozen=True)
class VehicleSpec:
    """A vehicle type.

    Parameters
    ----------
    depot, end_depot
        Location indices where routes start and end (``end_depot`` defaults to ``depot``).
    count
        How many identical vehicles are available (must be 1 when ``brk`` is given).
    capacity
        Load limit; ``None`` means uncapacitated.
    tw_early, tw_late
        Shift window: routes leave no earlier than ``tw_early`` and return by ``tw_late``.
    max_duration, max_distance
        Limits on route duration (time units) and route distance (matrix ``distance`` units).
    brk
        Optional mandatory :class:`Break`.
    """

    depot: int
    end_depot: int | None = None
    count: int = 1
    capacity: int | None = None
    tw_early: int = 0
    tw_late: int = BIG
    max_duration: int | None = None
    max_distance: int | None = None
    brk: Break | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InputError(f"vehicle {self.name!r}: count must be >= 1")
        if self.brk is not None and self.count != 1:
            raise InputError(f"vehicle {self.name!r}: a vehicle with a break must have count 1")
        if self.tw_late < self.tw_early:
            raise InputError(f"vehicle {self.name!r}: shift ends before it starts")


@dataclass(frozen=True)
class ClientSpec:
    """A client (stop) at matrix location ``location``.

    ``vehicles`` restricts which :class:`VehicleSpec` indices may serve it (``None`` = any).
    Optional clients (``required=False``) earn ``prize`` when visited.
    """

    location: int
    demand: int = 0
    service: int = 0
    tw_early: int = 0
    tw_late: int = BIG
    required: bool = True
    prize: int = 0
    vehicles: tuple[int, ...] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.service < 0 or self.demand < 0 or self.prize < 0:
            raise InputError(f"client {self.name!r}: service, demand and prize must be >= 0")
        if self.tw_late < self.tw_early:
            raise InputError(f"client {self.name!r}: time window closes before it opens")


@dataclass
class RoutingProblem:
    """Matrices (``distance`` = objective and distance-limit units, ``duration`` = time units)
    plus clients and vehicles, and optional planar coordinates ``xy`` (only used to guide the
    search). Matrix entries must be non-negative integers; unreachable pairs may
    be given as any value >= :data:`BIG`."""

    distance: np.ndarray
    duration: np.ndarray
    clients: list[ClientSpec]
    vehicles: list[VehicleSpec]
    xy: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.xy is not None:
            self.xy = np.asarray(self.xy, dtype=float)
            if self.xy.shape != (len(self.distance), 2):
                raise InputError("xy must hold one (x, y) pair per matrix location")
        self.distance = np.asarray(self.distance)
        self.duration = np.asarray(self.duration)
        n = self.distance.shape[0]
        if self.distance.shape != (n, n) or self.duration.shape != (n, n):
            raise InputError("distance and duration matrices must be square and of equal shape")
        for name, m in (("distance", self.distance), ("duration", self.duration)):
            if not np.issubdtype(m.dtype, np.integer):
                raise InputError(f"{name} matrix must be integer (scale and round it first)")
            if (m < 0).any():
                raise InputError(f"{name} matrix has negative entries")
        if not self.vehicles:
            raise InputError("at least one vehicle is needed")
        for c in self.clients:
            if not 0 <= c.location < n:
                raise InputError(f"client {c.name!r}: location {c.location} outside the matrix")
            for vk in c.vehicles or ():
                if not 0 <= vk < len(self.vehicles):
                    raise InputError(f"client {c.name!r}: unknown vehicle index {vk}")
        for v in self.vehicles:
            for d in (v.depot, v.end_depot):
                if d is not None and not 0 <= d < n:
                    raise InputError(f"vehicle {v.name!r}: depot {d} outside the matrix")


@dataclass(frozen=True)
class Stop:
    """One stop of a solved route: ``client`` index (or -1 for the break), where and when."""

    client: int
    location: int
    is_break: bool
    arrival: int
    start: int
    end: int


@dataclass
class VehicleRoute:
    """A solved route of vehicle spec ``vehicle`` (``copy`` numbers identical vehicles)."""

    vehicle: int
    copy: int
    stops: list[Stop]
    start_time: int
    end_time: int
    distance: int
    duration: int

    @property
    def clients(self) -> list[int]:
        """Client indices in visiting order (breaks left out)."""
        return [s.client for s in self.stops if not s.is_break]


@dataclass
class RoutingSolution:
    """Result of :func:`solve_routing`; ``feasible`` is PyVRP's verdict on the whole solution."""

    routes: list[VehicleRoute]
    unvisited: list[int]
    cost: float
    feasible: bool
    runtime: float
    iterations: int
    notes: list[str] = field(default_factory=list)


def _stop(time_limit: float, max_iterations: int | None) -> StoppingCriterion:
    crit: list[StoppingCriterion] = [MaxRuntime(time_limit)]
    if max_iterations is not None:
        crit.append(MaxIterations(max_iterations))
    return MultipleCriteria(crit) if len(crit) > 1 else crit[0]


def solve_routing(
    problem: RoutingProblem,
    *,
    time_limit: float = 1.0,
    seed: int = 0,
    max_iterations: int | None = None,
) -> RoutingSolution:
    """Solve a :class:`RoutingProblem` with PyVRP's iterated local search.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds.
    seed
        Random seed (results are reproducible for a given seed and iteration count).
    max_iterations
        Optional iteration cap (stops earlier on small instances).

    Returns
    -------
    RoutingSolution
        Routes with schedules; ``unvisited`` lists optional clients left out (and required
        ones when PyVRP found no feasible solution — then ``feasible`` is False).
    """
    b = _Build(problem)
    b.add_clients()
    b.add_breaks()
    b.add_private_edges()
    b.add_vehicle_types()
    try:
        res = b.m.solve(
            _stop(time_limit, max_iterations),
            seed=seed,
            display=False,
            collect_stats=False,
            missing_value=BIG,
        )
    except (ValueError, RuntimeError) as exc:  # pragma: no cover - PyVRP internal failure
        raise SolverError(f"PyVRP failed: {exc}") from exc
    routes, visited = _read_routes(res.best, problem, b.client_map)
    unvisited = [i for i in range(len(problem.clients)) if i not in visited]
    log.debug("PyVRP: cost %s feasible %s in %.2f s", res.cost(), res.is_feasible(), res.runtime)
    return RoutingSolution(
        routes=routes,
        unvisited=unvisited,
        cost=float(res.cost()) if res.is_feasible() else float("inf"),
        feasible=bool(res.is_feasible()),
        runtime=float(res.runtime),
        iterations=int(res.num_iterations),
    )


class _Build:
    """A PyVRP :class:`~pyvrp.Model` of a :class:`RoutingProblem`, built step by step.

    The constructor adds one location per matrix row, the depots, one routing profile per
    vehicle (only when a vehicle has a break or a client is restricted to some vehicles) and
    the shared edges; the methods then add, in this order, the clients, the break copies, the
    private edges of each profile and the vehicle types. Private locations are recorded in
    ``private[vehicle]`` as ``(location, matrix index it copies)``; ``client_map`` maps each
    PyVRP client to ``(client index, -1)`` or, for a break copy, ``(-1, matrix index)``.
    """

    def __init__(self, problem: RoutingProblem) -> None:
        self.p = problem
        dist, dur = problem.distance, problem.duration
        self.n = n = dist.shape[0]
        self.need_profiles = any(v.brk is not None for v in problem.vehicles) or any(
            c.vehicles is not None for c in problem.clients
        )
        self.m = m = Model()
        self.xy = problem.xy if problem.xy is not None else np.zeros((n, 2))
        # coordinates only steer PyVRP's SWAP* neighbourhood (polar sectors); costs come from
        # the matrices
        self.base_locs = [
            m.add_location(x=float(self.xy[i, 0]), y=float(self.xy[i, 1]), name=str(i))
            for i in range(n)
        ]
        self.depot_of: dict[int, object] = {}
        for v in problem.vehicles:
            for d in (v.depot, v.end_depot if v.end_depot is not None else v.depot):
                if d not in self.depot_of:
                    self.depot_of[d] = m.add_depot(self.base_locs[d], name=f"depot{d}")
        self.profiles = (
            [m.add_profile(name=f"v{k}") for k in range(len(problem.vehicles))]
            if self.need_profiles
            else []
        )
        self.n_dims = 1 if any(v.capacity is not None for v in problem.vehicles) else 0
        for i in range(n):  # base edges (shared by every profile)
            di, ui = dist[i], dur[i]
            li = self.base_locs[i]
            for j in range(n):
                if i != j:
                    m.add_edge(
                        li,
                        self.base_locs[j],
                        distance=int(min(di[j], BIG)),
                        duration=int(min(ui[j], BIG)),
                    )
        self.private: dict[int, list[tuple[Location, int]]] = {
            k: [] for k in range(len(problem.vehicles))
        }
        self.client_map: list[tuple[int, int]] = []

    def add_clients(self) -> None:
        """One PyVRP client per :class:`ClientSpec`; restricted ones at a private location."""
        m, xy = self.m, self.xy
        for ci, c in enumerate(self.p.clients):
            load = [c.demand] if self.n_dims else []
            if c.vehicles is None:
                loc = self.base_locs[c.location]
            else:
                loc = m.add_location(
                    x=float(xy[c.location, 0]), y=float(xy[c.location, 1]), name=f"c{ci}"
                )
                for k in c.vehicles:
                    self.private[k].append((loc, c.location))
            m.add_client(
                loc,
                delivery=load,
                service_duration=c.service,
                tw_early=c.tw_early,
                tw_late=c.tw_late,
                required=c.required,
                prize=c.prize,
                name=c.name or f"c{ci}",
            )
            self.client_map.append((ci, -1))

    def add_breaks(self) -> None:
        """For each vehicle with a break, a required group of optional break clients: one copy
        at its depot and at every client location it may serve."""
        m, xy = self.m, self.xy
        for k, v in enumerate(self.p.vehicles):
            if v.brk is None:
                continue
            group = m.add_client_group(required=True, name=f"break{k}")
            places = sorted(
                {v.depot}
                | {c.location for c in self.p.clients if c.vehicles is None or k in c.vehicles}
            )
            for p in places:
                loc = m.add_location(x=float(xy[p, 0]), y=float(xy[p, 1]), name=f"b{k}@{p}")
                self.private[k].append((loc, p))
                m.add_client(
                    loc,
                    delivery=[0] * self.n_dims,
                    service_duration=v.brk.duration,
                    tw_early=v.brk.earliest,
                    tw_late=v.brk.latest,
                    required=False,
                    group=group,
                    name=f"break{k}@{p}",
                )
                self.client_map.append((-1, p))

    def add_private_edges(self) -> None:
        """Edges of each profile between its private locations and every matrix location
        (travel as from/to the location copied)."""
        if not self.need_profiles:
            return
        dist, dur, m = self.p.distance, self.p.duration, self.m

        def edge(a: Location, b: Location, i: int, j: int, prof: object) -> None:
            m.add_edge(
                a,
                b,
                distance=int(min(dist[i, j], BIG)),
                duration=int(min(dur[i, j], BIG)),
                profile=prof,  # type: ignore[arg-type]
            )

        for k, priv in self.private.items():
            prof = self.profiles[k]
            for loc, o in priv:
                for j in range(self.n):
                    edge(loc, self.base_locs[j], o, j, prof)
                    edge(self.base_locs[j], loc, j, o, prof)
                for loc2, o2 in priv:
                    if loc2 is not loc:
                        edge(loc, loc2, o, o2, prof)

    def add_vehicle_types(self) -> None:
        """One PyVRP vehicle type per :class:`VehicleSpec` (unset limits become :data:`BIG`)."""
        for k, v in enumerate(self.p.vehicles):
            end = v.end_depot if v.end_depot is not None else v.depot
            self.m.add_vehicle_type(
                num_available=v.count,
                capacity=[v.capacity if v.capacity is not None else BIG] * self.n_dims,
                start_depot=self.depot_of[v.depot],  # type: ignore[arg-type]
                end_depot=self.depot_of[end],  # type: ignore[arg-type]
                tw_early=v.tw_early,
                tw_late=v.tw_late,
                shift_duration=v.max_duration if v.max_duration is not None else BIG,
                max_distance=v.max_distance if v.max_distance is not None else BIG,
                profile=self.profiles[k] if self.need_profiles else None,
                name=v.name or f"v{k}",
            )


def _read_routes(
    sol: Solution, problem: RoutingProblem, client_map: list[tuple[int, int]]
) -> tuple[list[VehicleRoute], set[int]]:
    """The solved routes (stops with arrival, start, end) and the set of clients visited."""
    routes: list[VehicleRoute] = []
    copies: dict[int, int] = {}
    visited: set[int] = set()
    for r in sol.routes():
        k = r.vehicle_type()
        stops: list[Stop] = []
        for act in r.schedule():
            if not act.is_client():
                continue
            ref, place = client_map[act.idx]
            arrival = act.start_time - act.wait_duration
            if ref >= 0:
                visited.add(ref)
                loc = problem.clients[ref].location
                stops.append(Stop(ref, loc, False, arrival, act.start_time, act.end_time))
            else:
                stops.append(Stop(-1, place, True, arrival, act.start_time, act.end_time))
        cp = copies.get(k, 0)
        copies[k] = cp + 1
        routes.append(
            VehicleRoute(
                k,
                cp,
                stops,
                int(r.start_time()),
                int(r.end_time()),
                int(r.distance()),
                int(r.duration()),
            )
        )
    return routes, visited
