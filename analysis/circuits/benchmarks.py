"""Readers, solvers and independent checkers for the Solomon VRPTW and CVRPLIB benchmarks.

Both go through the same :func:`analysis.circuits.vrp.solve_routing` layer as the circuits
planner. Solomon instances use unrounded Euclidean distances (travel time = distance); they are
scaled by :data:`SOLOMON_SCALE` to integers for PyVRP — distances rounded, durations rounded *up*
so that every schedule PyVRP finds is also feasible in exact arithmetic — and the reported
distance is recomputed in floating point from the routes. CVRPLIB set A uses rounded EUC_2D.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doorstep.geo._errors import DataFileError

from .vrp import ClientSpec, RoutingProblem, RoutingSolution, VehicleSpec, solve_routing

SOLOMON_SCALE = 10_000
"""Integer units per Solomon distance unit."""


@dataclass
class SolomonInstance:
    """A Solomon VRPTW instance; row 0 is the depot. ``xy``: (n+1, 2); others length n+1."""

    name: str
    vehicles: int
    capacity: int
    xy: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    def distances(self) -> np.ndarray:
        """Unrounded Euclidean distance matrix."""
        d = self.xy[:, None, :] - self.xy[None, :, :]
        return np.sqrt((d**2).sum(axis=2))


def read_solomon(path: str | Path) -> SolomonInstance:
    """Read a Solomon-format VRPTW file (name, VEHICLE NUMBER/CAPACITY, CUSTOMER table)."""
    p = Path(path)
    try:
        lines = [ln.strip() for ln in p.read_text().splitlines()]
    except OSError as exc:
        raise DataFileError(p, f"cannot read: {exc}") from exc
    lines = [ln for ln in lines if ln]
    try:
        vi = next(i for i, ln in enumerate(lines) if ln.upper().startswith("VEHICLE"))
        nveh, cap = (int(x) for x in lines[vi + 2].split()[:2])
        ci = next(i for i, ln in enumerate(lines) if ln.upper().startswith("CUSTOMER"))
        rows = []
        for j, ln in enumerate(lines[ci + 1 :], start=ci + 2):
            if not re.match(r"^\d", ln):
                continue
            vals = ln.split()
            if len(vals) < 7:
                raise DataFileError(p, "customer row needs 7 numbers", row=j)
            rows.append([float(v) for v in vals[:7]])
    except (StopIteration, ValueError, IndexError) as exc:
        raise DataFileError(
            p, f"not a Solomon VRPTW file ({exc})", fix="pass a Solomon .txt file"
        ) from exc
    a = np.array(rows)
    if (a[:, 0] != np.arange(len(a))).any():
        raise DataFileError(p, "customer numbers must run 0..n in order", field="CUST NO.")
    return SolomonInstance(
        name=lines[0],
        vehicles=nveh,
        capacity=cap,
        xy=a[:, 1:3],
        demand=a[:, 3].astype(int),
        ready=a[:, 4],
        due=a[:, 5],
        service=a[:, 6],
    )


def solomon_problem(inst: SolomonInstance, scale: int = SOLOMON_SCALE) -> RoutingProblem:
    """Build the scaled integer :class:`RoutingProblem` (distance objective, plentiful fleet)."""
    d = inst.distances() * scale
    dist = np.rint(d).astype(np.int64)
    dur = np.ceil(d - 1e-9).astype(np.int64)
    clients = [
        ClientSpec(
            location=i,
            demand=int(inst.demand[i]),
            service=round(inst.service[i] * scale),
            tw_early=round(inst.ready[i] * scale),
            tw_late=round(inst.due[i] * scale),
            name=str(i),
        )
        for i in range(1, len(inst.xy))
    ]
    veh = VehicleSpec(
        depot=0,
        count=inst.vehicles,
        capacity=inst.capacity,
        tw_early=round(inst.ready[0] * scale),
        tw_late=round(inst.due[0] * scale),
    )
    return RoutingProblem(dist, dur, clients, [veh], xy=inst.xy)


def solution_routes(sol: RoutingSolution, problem: RoutingProblem) -> list[list[int]]:
    """Routes as lists of location indices (customer numbers for Solomon/CVRP node offsets)."""
    return [[problem.clients[c].location for c in r.clients] for r in sol.routes if r.clients]


def check_solomon(
    inst: SolomonInstance, routes: list[list[int]], tol: float = 1e-6
) -> tuple[bool, float, list[str]]:
    """Independently check a Solomon solution in floating point.

    Returns ``(feasible, distance, problems)``: capacity, time windows (service may start no
    later than the due date; waiting allowed), return to the depot by its due date, every
    customer exactly once.
    """
    d = inst.distances()
    n = len(inst.xy) - 1
    problems: list[str] = []
    seen: dict[int, int] = {}
    total = 0.0
    for k, r in enumerate(routes):
        load = int(inst.demand[r].sum()) if r else 0
        if load > inst.capacity:
            problems.append(f"route {k}: load {load} > capacity {inst.capacity}")
        t, prev = float(inst.ready[0]), 0
        for c in r:
            if not 1 <= c <= n:
                problems.append(f"route {k}: unknown customer {c}")
                continue
            seen[c] = seen.get(c, 0) + 1
            total += d[prev, c]
            t = max(t + d[prev, c], inst.ready[c])
            if t > inst.due[c] + tol:
                problems.append(
                    f"route {k}: customer {c} served at {t:.3f} after due {inst.due[c]}"
                )
            t += inst.service[c]
            prev = c
        total += d[prev, 0]
        t += d[prev, 0]
        if t > inst.due[0] + tol:
            problems.append(f"route {k}: back at depot {t:.3f} after {inst.due[0]}")
    for c in range(1, n + 1):
        if seen.get(c, 0) != 1:
            problems.append(f"customer {c} visited {seen.get(c, 0)} times")
    return (not problems, total, problems)


def solve_solomon(
    inst: SolomonInstance, time_limit: float, seed: int = 0
) -> tuple[list[list[int]], RoutingSolution]:
    """Solve a Solomon instance through :func:`solve_routing`; routes use customer numbers."""
    prob = solomon_problem(inst)
    sol = solve_routing(prob, time_limit=time_limit, seed=seed)
    return solution_routes(sol, prob), sol


def read_bks(path: str | Path) -> dict[str, float]:
    """Distance-oriented best-known distances from ``solomon_bks_type1.csv`` (by instance)."""
    p = Path(path)
    out: dict[str, float] = {}
    with p.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out[row["instance"].upper()] = float(row["distance_oriented_distance"])
            except (KeyError, ValueError) as exc:
                raise DataFileError(p, f"bad BKS row ({exc})", row=i) from exc
    return out


@dataclass
class CVRPInstance:
    """A CVRPLIB instance; ``node_ids`` as in the file, index 0 = depot."""

    name: str
    capacity: int
    node_ids: list[int]
    xy: np.ndarray
    demand: np.ndarray
    optimum: float | None

    def distances(self) -> np.ndarray:
        """Rounded EUC_2D distances (TSPLIB ``nint``)."""
        d = self.xy[:, None, :] - self.xy[None, :, :]
        return np.floor(np.sqrt((d**2).sum(axis=2)) + 0.5)


def read_cvrp(path: str | Path) -> CVRPInstance:
    """Read a TSPLIB/CVRPLIB ``.vrp`` file with EUC_2D coordinates."""
    p = Path(path)
    text = p.read_text().splitlines()
    head: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    dem: dict[int, int] = {}
    depot: list[int] = []
    sec = ""
    for j, ln in enumerate(text, start=1):
        s = ln.strip()
        if not s or s == "EOF":
            continue
        if s.endswith("SECTION"):
            sec = s
            continue
        if ":" in s and not s[0].isdigit() and not s.startswith("-"):
            k, v = s.split(":", 1)
            head[k.strip().upper()] = v.strip()
            continue
        vals = s.split()
        try:
            if sec == "NODE_COORD_SECTION":
                coords[int(vals[0])] = (float(vals[1]), float(vals[2]))
            elif sec == "DEMAND_SECTION":
                dem[int(vals[0])] = int(vals[1])
            elif sec == "DEPOT_SECTION" and int(vals[0]) > 0:
                depot.append(int(vals[0]))
        except (ValueError, IndexError) as exc:
            raise DataFileError(
                p, f"bad line in {sec}", row=j, fix="check the CVRPLIB format"
            ) from exc
    if head.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise DataFileError(p, "only EUC_2D instances are supported", field="EDGE_WEIGHT_TYPE")
    if not coords or "CAPACITY" not in head:
        raise DataFileError(p, "missing NODE_COORD_SECTION or CAPACITY")
    d0 = depot[0] if depot else min(coords)
    ids = [d0] + [i for i in sorted(coords) if i != d0]
    m = re.search(r"Optimal value:\s*(\d+)", head.get("COMMENT", ""))
    return CVRPInstance(
        name=head.get("NAME", p.stem),
        capacity=int(head["CAPACITY"]),
        node_ids=ids,
        xy=np.array([coords[i] for i in ids]),
        demand=np.array([dem.get(i, 0) for i in ids]),
        optimum=float(m.group(1)) if m else None,
    )


def read_cvrp_cost(path: str | Path) -> float | None:
    """The ``Cost`` line of a CVRPLIB ``.sol`` file (None when absent)."""
    p = Path(path)
    if not p.is_file():
        return None
    for ln in p.read_text().splitlines():
        if ln.strip().lower().startswith("cost"):
            return float(ln.split()[1])
    return None


def solve_cvrp(
    inst: CVRPInstance, time_limit: float, seed: int = 0
) -> tuple[list[list[int]], RoutingSolution]:
    """Solve through :func:`solve_routing`; routes are lists of node ids as in the file."""
    d = inst.distances().astype(np.int64)
    clients = [
        ClientSpec(location=i, demand=int(inst.demand[i]), name=str(inst.node_ids[i]))
        for i in range(1, len(inst.node_ids))
    ]
    prob = RoutingProblem(
        d, d, clients, [VehicleSpec(depot=0, count=len(clients), capacity=inst.capacity)]
    )
    sol = solve_routing(prob, time_limit=time_limit, seed=seed)
    return [[inst.node_ids[i] for i in r] for r in solution_routes(sol, prob)], sol


def check_cvrp(inst: CVRPInstance, routes: list[list[int]]) -> tuple[bool, float, list[str]]:
    """Independently check a CVRP solution given by node ids: capacity, each customer once."""
    pos = {nid: i for i, nid in enumerate(inst.node_ids)}
    d = inst.distances()
    problems: list[str] = []
    seen: dict[int, int] = {}
    total = 0.0
    for k, r in enumerate(routes):
        idx = [pos.get(nid, -1) for nid in r]
        if -1 in idx or 0 in idx:
            problems.append(f"route {k}: unknown node or depot inside route")
            continue
        load = int(inst.demand[idx].sum())
        if load > inst.capacity:
            problems.append(f"route {k}: load {load} > capacity {inst.capacity}")
        path = [0, *idx, 0]
        total += float(sum(d[a, b] for a, b in itertools.pairwise(path)))
        for i in idx:
            seen[i] = seen.get(i, 0) + 1
    for i in range(1, len(inst.node_ids)):
        if seen.get(i, 0) != 1:
            problems.append(f"node {inst.node_ids[i]} visited {seen.get(i, 0)} times")
    return (not problems, total, problems)


def gap_percent(value: float, best: float | None) -> float | None:
    """Relative gap in percent, ``100 (value - best) / best`` (None when best unknown)."""
    if best is None or best <= 0 or math.isnan(value):
        return None
    return 100.0 * (value - best) / best
