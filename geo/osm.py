"""Real road networks from OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``) via pyosmium.

:func:`graph_from_osm` keeps ways tagged ``highway`` of the classes Doorstep routes on, splits them
at shared nodes (intersections) and returns a graph satisfying the contract in :mod:`geo.network`,
with the real geometry of every edge. OSM coordinates are WGS84 by definition. One-way tags are
not applied: rural mountain roads are two-way, and the travel-time engine works on undirected
graphs. Way references to nodes missing from a clipped extract are dropped.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer

from ._errors import DataFileError
from .coords import local_metric_crs
from .network import add_travel_times
from .params import SpeedParams

log = logging.getLogger(__name__)

ROUTABLE = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "track",
    "road",
    "path",
    "footway",
    "bridleway",
    "steps",
    "pedestrian",
}
_CLASS = {
    "living_street": "residential",
    "road": "unclassified",
    "footway": "path",
    "bridleway": "path",
    "steps": "path",
    "pedestrian": "path",
}


def _road_class(highway: str) -> str:
    base = highway.removesuffix("_link")
    return _CLASS.get(base, base)


def _nodes_within(p: Path, clip: shapely.Geometry | None) -> dict[int, tuple[float, float]]:
    """Pass 1: locations of the nodes inside ``clip`` (WGS84), streamed; all nodes without a clip.

    Only nodes inside the clip's bounding box are held (then tested against the polygon), so
    memory grows with the area's nodes, not with the file.
    """
    import osmium

    minx, miny, maxx, maxy = clip.bounds if clip is not None else (-180.0, -90.0, 180.0, 90.0)
    coords: dict[int, tuple[float, float]] = {}
    for n in osmium.FileProcessor(str(p), osmium.osm.NODE):
        if not isinstance(n, osmium.osm.Node):
            continue
        loc = n.location
        if loc.valid() and minx <= loc.lon <= maxx and miny <= loc.lat <= maxy:
            coords[n.id] = (loc.lon, loc.lat)
    if clip is not None and coords:
        ids = np.fromiter(coords, dtype=np.int64, count=len(coords))
        ll = np.array([coords[i] for i in ids])
        out = ~shapely.contains_xy(clip, ll[:, 0], ll[:, 1])
        for i in ids[out]:
            del coords[int(i)]
    return coords


def _ways_within(
    p: Path, coords: dict[int, tuple[float, float]]
) -> list[tuple[list[int], str, str]]:
    """Pass 2: routable highway ways, cut to their runs of nodes held in ``coords``."""
    import osmium

    ways: list[tuple[list[int], str, str]] = []
    fp = osmium.FileProcessor(str(p), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for w in fp:
        if not isinstance(w, osmium.osm.Way):
            continue
        hw = w.tags.get("highway", "") or ""
        if hw.removesuffix("_link") not in ROUTABLE and hw not in ROUTABLE:
            continue
        name = w.tags.get("name", "") or w.tags.get("ref", "") or ""
        run: list[int] = []
        for ref in [*(nd.ref for nd in w.nodes), None]:
            if ref is not None and ref in coords:
                run.append(ref)
                continue
            if len(run) >= 2:
                ways.append((run, _road_class(hw), name))
            run = []
    return ways


def _graph_from_ways(
    ways: list[tuple[list[int], str, str]],
    coords: dict[int, tuple[float, float]],
    crs: str | None,
) -> nx.Graph:
    """Split ways at shared nodes and ends into edges with their real geometry (metric ``crs``)."""
    used = {r for refs, _, _ in ways for r in refs}
    coords = {r: c for r, c in coords.items() if r in used}
    use = Counter(r for refs, _, _ in ways for r in refs)
    ends = {refs[0] for refs, _, _ in ways} | {refs[-1] for refs, _, _ in ways}
    junction = {r for r, c in use.items() if c > 1} | ends
    ids = np.array(sorted(coords))
    lonlat = np.array([coords[i] for i in ids])
    if crs is None:
        crs = local_metric_crs(float(lonlat[:, 0].mean()), float(lonlat[:, 1].mean()))
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = fwd.transform(lonlat[:, 0], lonlat[:, 1])
    xy = {int(i): (float(a), float(b)) for i, a, b in zip(ids, xs, ys, strict=True)}
    G = nx.Graph(crs=crs, modelled=False)
    node_of: dict[int, int] = {}

    def _node(ref: int) -> int:
        if ref not in node_of:
            k = len(node_of)
            node_of[ref] = k
            lo, la = coords[ref]
            G.add_node(k, x=xy[ref][0], y=xy[ref][1], lon=lo, lat=la, osmid=ref, kind="road")
        return node_of[ref]

    for refs, cls, name in ways:
        start = 0
        for i in range(1, len(refs)):
            if refs[i] in junction or i == len(refs) - 1:
                seg = refs[start : i + 1]
                u, v = _node(seg[0]), _node(seg[-1])
                line = shapely.LineString([xy[r] for r in seg])
                length = float(line.length)
                better = not G.has_edge(u, v) or G.edges[u, v]["length_m"] > length
                if u != v and length > 0 and better:
                    attrs = {"road_class": cls, "status": "real", "name": name}
                    G.add_edge(u, v, length_m=length, geometry=line, **attrs)
                start = i
    return G


def graph_from_osm(
    path: str | Path,
    *,
    crs: str | None = None,
    speeds: SpeedParams | None = None,
    largest_component: bool = True,
    clip: shapely.Geometry | None = None,
) -> nx.Graph:
    """Read an OpenStreetMap extract into a road graph (every edge ``status = "real"``).

    The file is streamed twice (nodes, then highway ways), so a province or all-China
    ``.osm.pbf`` can be read for one county: with ``clip`` only nodes inside it are held and
    ways are cut where they leave it; memory is bounded by the roads of the clipped area.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    crs
        Metric CRS for ``x``/``y`` and geometries; default: a transverse Mercator centred on the data.
    speeds
        Speeds per class and mode (default ``data/params/speeds.toml``).
    largest_component
        Keep only the largest connected component (isolated fragments of a clipped extract cannot
        be reached anyway); the number dropped is logged.
    clip
        Polygon in WGS84 lon/lat (e.g. the county outline plus a margin); ways outside are dropped.

    Raises
    ------
    DataFileError
        If the file cannot be read or holds no routable road (inside ``clip``).
    """
    p = Path(path)
    if not p.is_file():
        raise DataFileError(p, "file not found", fix="check the path to the .osm.pbf extract")
    speeds = speeds or SpeedParams.from_file()
    try:
        coords = _nodes_within(p, clip)
        ways = _ways_within(p, coords)
    except (RuntimeError, ValueError, OSError) as exc:
        raise DataFileError(
            p,
            f"cannot read as OpenStreetMap data ({exc})",
            fix="export the extract again as .osm.pbf",
        ) from None
    if not ways:
        where = " inside the county outline plus margin" if clip is not None else ""
        raise DataFileError(
            p, f"no routable highway ways found{where}", fix="check the extract covers the area"
        )
    G = _graph_from_ways(ways, coords, crs)
    G.graph["source"] = f"OpenStreetMap extract {p.name} (© OpenStreetMap contributors, ODbL)"
    if largest_component and G.number_of_nodes():
        comps = sorted(nx.connected_components(G), key=len, reverse=True)
        if len(comps) > 1:
            dropped = sum(len(c) for c in comps[1:])
            log.warning(
                "%s: keeping the largest of %d road components (%d nodes dropped)",
                p.name,
                len(comps),
                dropped,
            )
            G = nx.convert_node_labels_to_integers(G.subgraph(comps[0]).copy())
    add_travel_times(G, speeds)
    for k, (_, _, d) in enumerate(G.edges(data=True)):
        d["edge_id"] = k
    log.info(
        "OSM graph from %s: %d nodes, %d edges", p.name, G.number_of_nodes(), G.number_of_edges()
    )
    return G
