"""Resilience: which road links, if closed (landslide, flood), cut people off from help.

For each road link ``e`` the population *losing coverage* is the population of villages that
reach a staffed point within their target now but not once ``e`` is removed.

Only links on the current shortest-path forest (from the staffed points to the covered
villages, found in one multi-source Dijkstra pass) can change any covered village's time:
removing any other link leaves every tree path intact. So one extra multi-source pass is run
per tree link (at most one per village-path edge), not per road link. Bridges (links whose
removal disconnects the network) are marked via :func:`networkx.bridges`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from doorstep.geo.routing import graph_of, prepare

from .coverage import CoverageTarget, coverage_points, quality_of

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel
    from doorstep.geo.routing.graph import Augmented

log = logging.getLogger(__name__)


def critical_links(
    model: CountyModel,
    target: CoverageTarget | None = None,
    top: int | None = 20,
) -> pd.DataFrame:
    """Road links ranked by the population that loses coverage if the link fails.

    Returns columns ``edge_id, u, v, name, road_class, length_m, is_bridge, villages_losing,
    population_losing`` (persons) and ``extra_person_minutes`` (added travel of villages that
    stay reachable, person-minutes; ``inf`` where some village is cut off entirely).
    """
    target = target or CoverageTarget()
    mode = target.mode
    v = model.villages
    limit = target.thresholds(v["urban"])
    prep = prepare(model, [v, coverage_points(model)], mode)
    aug, idx = prep.aug, prep.index
    vn, fn = prep.nodes(0), prep.nodes(1)
    pop = v["population"].to_numpy(float)
    dist, pred, _ = dijkstra(aug.csr, indices=fn, min_only=True, return_predecessors=True)
    base = dist[vn]
    covered = base <= limit
    on_tree = _tree_edges(aug, pred, vn[covered])
    bridges = {tuple(sorted(b)) for b in nx.bridges(graph_of(model))}
    rows = []
    for e in sorted(on_tree):
        d = np.asarray(dijkstra(aug.csr_without(np.array([e])), indices=fn, min_only=True))[vn]
        lost = covered & ~(d <= limit)
        delta = d - base
        extra = (
            float((pop * np.where(np.isfinite(base), delta, 0.0)).sum())
            if np.isfinite(d[np.isfinite(base)]).all()
            else float("inf")
        )
        u, w = int(idx.u[e]), int(idx.v[e])
        rows.append(
            {
                "edge_id": int(idx.edge_id[e]),
                "u": u,
                "v": w,
                "name": str(idx.name[e]),
                "road_class": str(idx.road_class[e]),
                "length_m": float(idx.length_m[e]),
                "is_bridge": (min(u, w), max(u, w)) in bridges,
                "villages_losing": int(lost.sum()),
                "population_losing": int(pop[lost].sum()),
                "extra_person_minutes": extra,
            }
        )
    out = _ranked(rows, top)
    out.attrs["units"] = {
        "population_losing": "persons",
        "extra_person_minutes": "person-minutes",
        "length_m": "metres",
    }
    out.attrs["links_tested"] = len(on_tree)
    out.attrs["links_total"] = idx.n_edges
    out.attrs["quality"] = quality_of(model)
    log.info(
        "resilience: %d of %d links on the shortest-path forest tested", len(on_tree), idx.n_edges
    )
    return out


_COLUMNS = [
    "edge_id",
    "u",
    "v",
    "name",
    "road_class",
    "length_m",
    "is_bridge",
    "villages_losing",
    "population_losing",
    "extra_person_minutes",
]


def _tree_edges(aug: Augmented, pred: np.ndarray, villages: np.ndarray) -> set[int]:
    """Road edges on the shortest-path forest (predecessors ``pred``) of the given village
    nodes (snap connectors, edge ``-1``, left out)."""
    on_tree: set[int] = set()
    for node in villages:
        cur = int(node)
        while pred[cur] >= 0:
            e = int(aug.edge[aug.record(int(pred[cur]), cur)])
            if e >= 0:
                on_tree.add(e)
            cur = int(pred[cur])
    return on_tree


def _ranked(rows: list[dict[str, object]], top: int | None) -> pd.DataFrame:
    """Rows as a frame ranked by population losing coverage, then extra person-minutes."""
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out = out.sort_values(
        ["population_losing", "extra_person_minutes"], ascending=False, kind="stable"
    ).reset_index(drop=True)
    return out.head(top) if top is not None else out
