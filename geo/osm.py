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


def graph_from_osm(
    path: str | Path,
    *,
    crs: str | None = None,
    speeds: SpeedParams | None = None,
    largest_component: bool = True,
) -> nx.Graph:
    """Read an OpenStreetMap extract into a road graph.

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

    Raises
    ------
    DataFileError
        If the file cannot be read or holds no routable road.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFileError(p, "file not found", fix="check the path to the .osm.pbf extract")
    speeds = speeds or SpeedParams.from_file()
    ways, coords = _read_ways(p)
    G = _split_ways(
        ways, coords, crs, f"OpenStreetMap extract {p.name} (© OpenStreetMap contributors, ODbL)"
    )
    if largest_component and G.number_of_nodes():
        G = _largest_component(G, p.name)
    add_travel_times(G, speeds)
    for k, (_, _, d) in enumerate(G.edges(data=True)):
        d["edge_id"] = k
    log.info(
        "OSM graph from %s: %d nodes, %d edges", p.name, G.number_of_nodes(), G.number_of_edges()
    )
    return G


_Way = tuple[list[int], str, str]  # node refs, road class, name


def _read_ways(p: Path) -> tuple[list[_Way], dict[int, tuple[float, float]]]:
    """Routable ``highway`` ways (node refs with a location, class, name) and the WGS84
    lon/lat of every node they use."""
    import osmium

    ways: list[_Way] = []
    coords: dict[int, tuple[float, float]] = {}
    try:
        fp = (
            osmium.FileProcessor(str(p))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in fp:
            if not isinstance(obj, osmium.osm.Way):
                continue
            hw = obj.tags.get("highway", "") or ""
            if hw.removesuffix("_link") not in ROUTABLE and hw not in ROUTABLE:
                continue
            refs = []
            for nd in obj.nodes:
                if nd.location.valid():
                    coords[nd.ref] = (nd.location.lon, nd.location.lat)
                    refs.append(nd.ref)
            if len(refs) >= 2:
                name = obj.tags.get("name", "") or obj.tags.get("ref", "") or ""
                ways.append((refs, _road_class(hw), name))
    except (RuntimeError, ValueError, OSError) as exc:
        raise DataFileError(
            p,
            f"cannot read as OpenStreetMap data ({exc})",
            fix="export the extract again as .osm.pbf",
        ) from None
    if not ways:
        raise DataFileError(
            p, "no routable highway ways found", fix="check the extract covers the area"
        )
    return ways, coords


def _split_ways(
    ways: list[_Way], coords: dict[int, tuple[float, float]], crs: str | None, source: str
) -> nx.Graph:
    """Graph of the ways split at junctions (nodes used twice, and way ends), coordinates in
    ``crs`` (default: transverse Mercator centred on the nodes); of parallel segments between
    two junctions the shortest is kept."""
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
    G = nx.Graph(crs=crs, modelled=False, source=source)
    node_of: dict[int, int] = {}

    def _node(ref: int) -> int:
        if ref not in node_of:
            k = len(node_of)
            node_of[ref] = k
            lo, la = coords[ref]
            G.add_node(k, x=xy[ref][0], y=xy[ref][1], lon=lo, lat=la, osmid=ref)
        return node_of[ref]

    eid = 0
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
                    G.add_edge(
                        u, v, length_m=length, road_class=cls, name=name, geometry=line, edge_id=eid
                    )
                    eid += 1
                start = i
    return G


def _largest_component(G: nx.Graph, name: str) -> nx.Graph:
    """``G`` reduced to its largest connected component (nodes relabelled 0..n-1)."""
    comps = sorted(nx.connected_components(G), key=len, reverse=True)
    if len(comps) > 1:
        dropped = sum(len(c) for c in comps[1:])
        log.warning(
            "%s: keeping the largest of %d road components (%d nodes dropped)",
            name,
            len(comps),
            dropped,
        )
        G = nx.convert_node_labels_to_integers(G.subgraph(comps[0]).copy())
    return G
