"""Routing on the road network: snapping, the augmented graph, OD / nearest / paths, isochrones.

Modules, in the order they build on each other:

* :mod:`~geo.routing.index` — :class:`RoadIndex`, the array form of a road graph (the graph
  contract is in :mod:`geo.network`), per-mode passable edges, spatial trees and CSR;
  :meth:`RoadIndex.with_edge_minutes` re-times a mode without rebuilding or re-snapping;
* :mod:`~geo.routing.snap` — nearest-edge snapping (:func:`snap_points`), access legs
  (:class:`geo.params.AccessParams`) and where a snap joins the road nodes (:class:`Ends`);
* :mod:`~geo.routing.graph` — the augmented search graph (:func:`augment`) and prepared point
  sets (:func:`prepare`);
* :mod:`~geo.routing.od` — :func:`od_matrix`, :func:`nearest_facility`, :func:`node_times`, and
  for the uncertainty ensemble :func:`nearest_minutes_batch` (B re-timings in one search) and
  :func:`od_minutes_prepared` (on :meth:`Prepared.with_edge_minutes`);
* :mod:`~geo.routing.paths` — :func:`route`, :func:`routes` and the one path walk;
* :mod:`~geo.routing.isochrones` — :func:`service_areas`, :func:`service_lines`;
* :mod:`~geo.routing.nearest` — :class:`NearestEngine`, the resident nearest-service-point
  engine of the web app.

Times are minutes, access walk + network + access walk; every function accepts a county model,
a road graph or a :class:`RoadIndex`.
"""

from doorstep.geo.params import AccessParams

from .graph import Augmented, Prepared, augment, prepare, prepared_points
from .index import RoadIndex, check_mode, graph_of, road_index
from .isochrones import (
    DEFAULT_BREAKS,
    count_within,
    reachable_pieces,
    service_areas,
    service_lines,
)
from .nearest import BORDER_M, NearestEngine, NearestPoint
from .od import (
    NearestResult,
    ODMatrix,
    nearest_facility,
    nearest_minutes_batch,
    node_times,
    od_matrix,
    od_minutes_prepared,
)
from .paths import Route, route, routes
from .snap import Ends, PointSet, Snaps, point_ends, point_xy, snap_points

__all__ = [
    "BORDER_M",
    "DEFAULT_BREAKS",
    "AccessParams",
    "Augmented",
    "Ends",
    "NearestEngine",
    "NearestPoint",
    "NearestResult",
    "ODMatrix",
    "PointSet",
    "Prepared",
    "RoadIndex",
    "Route",
    "Snaps",
    "augment",
    "check_mode",
    "count_within",
    "graph_of",
    "nearest_facility",
    "nearest_minutes_batch",
    "node_times",
    "od_matrix",
    "od_minutes_prepared",
    "point_ends",
    "point_xy",
    "prepare",
    "prepared_points",
    "reachable_pieces",
    "road_index",
    "route",
    "routes",
    "service_areas",
    "service_lines",
    "snap_points",
]
