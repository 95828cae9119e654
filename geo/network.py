"""Road graphs: the modelled settlement network and per-mode travel times.

The graph contract (shared by every part of Doorstep): an undirected :class:`networkx.Graph` with
integer nodes carrying ``x``, ``y`` (metres in the county CRS) and ``lon``, ``lat`` (WGS84); edges
carrying ``length_m``, ``road_class``, ``status`` (``"real"`` — a road from a real source such
as OpenStreetMap — or ``"modelled"``; the ensemble samples only modelled edges),
``time_walk``/``time_motorbike``/``time_car`` (minutes; ``inf`` where a mode may not use the
road), ``edge_id`` and optionally ``geometry`` (LineString, metric) and ``name``. ``G.graph``
holds ``crs``, ``modelled`` (True when any edge is modelled) and ``source``.

Modelled graphs: :func:`graph_from_points` (settlement network); :func:`join_backbone` joins it
to real roads (:func:`backbone_from_file` or :func:`geo.osm.graph_from_osm`). :func:`road_km`
sums real and modelled kilometres.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree

from ._errors import InputError
from .params import MODES, BackboneParams, NetworkParams, SpeedParams

log = logging.getLogger(__name__)

REAL, MODELLED = "real", "modelled"
"""The two values of an edge's ``status``."""


def add_travel_times(G: nx.Graph, speeds: SpeedParams) -> nx.Graph:
    """Set ``time_<mode>`` (minutes) on every edge from its length and road class. In place; returns G."""
    for _, _, d in G.edges(data=True):
        for mode in MODES:
            kmh = speeds.speed(d.get("road_class", "unclassified"), mode)
            d[f"time_{mode}"] = (d["length_m"] / 1000.0) / kmh * 60.0 if kmh > 0 else float("inf")
    G.graph["speeds_source"] = speeds.source
    return G


def _settlement_pairs(
    xy: np.ndarray, params: NetworkParams, within: shapely.Geometry | None
) -> set[tuple[int, int]]:
    """Delaunay pairs up to ``max_edge_km`` (mostly inside ``within``) plus the Euclidean MST."""
    n = len(xy)
    pairs: set[tuple[int, int]] = set()
    if n >= 3:
        try:
            tri = Delaunay(xy)
            for s in tri.simplices:
                for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
                    pairs.add((min(a, b), max(a, b)))
        except Exception:  # collinear points: fall back to the MST alone
            log.warning(
                "Delaunay triangulation failed (points collinear?); using the spanning tree only"
            )
    else:
        pairs.add((0, 1))
    dist = {p: float(np.hypot(*(xy[p[0]] - xy[p[1]]))) for p in pairs}
    keep = {p for p, d in dist.items() if d <= params.max_edge_km * 1000.0}
    if within is not None and keep:
        area = within.buffer(500.0)
        order = sorted(keep)
        segs = shapely.linestrings([[xy[i], xy[j]] for i, j in order])
        inside = shapely.length(shapely.intersection(segs, area)) / np.maximum(
            shapely.length(segs), 1e-9
        )
        keep = {p for p, f in zip(order, inside, strict=True) if f >= 0.9}
    # Euclidean MST over the candidate (Delaunay) edges guarantees connectivity.
    if pairs:
        a = np.array([p[0] for p in pairs])
        b = np.array([p[1] for p in pairs])
        w = np.array([dist[p] for p in pairs]) + 1e-9
        mst = minimum_spanning_tree(coo_matrix((w, (a, b)), shape=(n, n))).tocoo()
        keep |= {(min(i, j), max(i, j)) for i, j in zip(mst.row, mst.col, strict=True)}
    return keep


def graph_from_points(
    x: np.ndarray,
    y: np.ndarray,
    *,
    crs: str,
    kinds: np.ndarray,
    names: np.ndarray | None = None,
    params: NetworkParams,
    speeds: SpeedParams,
    within: shapely.Geometry | None = None,
) -> nx.Graph:
    """Model a road network over settlement points (metric coordinates).

    Edges: Delaunay triangulation edges no longer than ``max_edge_km``, plus the Euclidean minimum
    spanning tree (so the graph is connected), as village roads with length = distance ×
    ``circuity_village``; plus links from every seat (``kinds`` = "seat" or "county_seat") to its
    ``trunk_neighbours`` nearest seats as trunk roads with ``circuity_trunk`` (the class
    ``county_trunk_class`` where the county seat is an end). Deterministic for given inputs.
    With ``within`` (the county outline, metric), triangulation edges that run mostly outside it
    (across a concave bend of the border) are dropped unless the spanning tree needs them.

    Parameters
    ----------
    kinds
        Per point: "village", "seat" or "county_seat".
    """
    n = len(x)
    if n < 2:
        raise InputError("a road network needs at least two settlement points")
    xy = np.column_stack([x, y]).astype(float)
    if len(np.unique(xy.round(3), axis=0)) != n:
        raise InputError("settlement points for the modelled network must be distinct")
    keep = _settlement_pairs(xy, params, within)
    G = nx.Graph(
        crs=crs,
        modelled=True,
        source="modelled: Delaunay/MST settlement network with trunk links (data/params/model.toml)",
    )
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = inv.transform(x, y)
    for i in range(n):
        G.add_node(
            i,
            x=float(x[i]),
            y=float(y[i]),
            lon=float(lon[i]),
            lat=float(lat[i]),
            kind=str(kinds[i]),
            name=str(names[i]) if names is not None else "",
        )
    eid = 0

    def _add(i: int, j: int, cls: str, circuity: float, name: str) -> None:
        nonlocal eid
        length = float(np.hypot(*(xy[i] - xy[j]))) * circuity
        if G.has_edge(i, j):
            if G.edges[i, j]["road_class"] == params.village_class and cls != params.village_class:
                G.edges[i, j].update(road_class=cls, length_m=length, name=name)
            return
        G.add_edge(
            i,
            j,
            length_m=max(length, 1.0),
            road_class=cls,
            status=MODELLED,
            edge_id=eid,
            name=name,
            geometry=shapely.LineString([xy[i], xy[j]]),
        )
        eid += 1

    for si, sj, cls in _trunk_pairs(xy, kinds, params, within):
        _add(si, sj, cls, params.circuity_trunk, _road_name(names, si, sj, "公路"))
    for i, j in sorted(keep):
        _add(
            int(i),
            int(j),
            params.village_class,
            params.circuity_village,
            _road_name(names, i, j, "村道"),
        )
    add_travel_times(G, speeds)
    log.info("modelled network: %d nodes, %d edges", G.number_of_nodes(), G.number_of_edges())
    return G


def _trunk_pairs(
    xy: np.ndarray, kinds: np.ndarray, params: NetworkParams, within: shapely.Geometry | None
) -> list[tuple[int, int, str]]:
    """Each seat to its ``trunk_neighbours`` nearest seats, unless the link leaves the county."""
    out: list[tuple[int, int, str]] = []
    seats = np.flatnonzero(np.isin(kinds, ["seat", "county_seat"]))
    if len(seats) < 2:
        return out
    tree = cKDTree(xy[seats])
    k = min(params.trunk_neighbours + 1, len(seats))
    _, nn = tree.query(xy[seats], k=k)
    for si, row in zip(seats, nn, strict=True):
        for j in np.atleast_1d(row)[1:]:
            sj = seats[j]
            county = kinds[si] == "county_seat" or kinds[sj] == "county_seat"
            cls = params.county_trunk_class if county else params.trunk_class
            if within is not None:
                seg = shapely.LineString([xy[si], xy[sj]])
                if shapely.intersection(seg, within.buffer(500.0)).length < 0.9 * seg.length:
                    continue  # would run outside the county
            out.append((int(si), int(sj), cls))
    return out


def _road_name(names: np.ndarray | None, i: int, j: int, kind: str) -> str:
    """A modelled road is named by the settlements it joins, e.g. "龙门村—土地村村道"."""
    if names is None:
        return f"modelled {kind}"
    a, b = str(names[i]), str(names[j])
    return f"{a}—{b}{kind}"


def check_graph(G: nx.Graph) -> list[str]:
    """Return a list of problems with a road graph (empty when it satisfies the contract)."""
    problems = []
    if G.number_of_nodes() == 0:
        return ["graph has no nodes"]
    if not nx.is_connected(G):
        comps = nx.number_connected_components(G)
        problems.append(f"graph has {comps} disconnected components")
    for u, v, d in G.edges(data=True):
        if not d.get("length_m", 0) > 0:
            problems.append(f"edge {u}-{v} has non-positive length")
            break
        if any(not d.get(f"time_{m}", 0) > 0 for m in MODES):
            problems.append(f"edge {u}-{v} has a non-positive travel time")
            break
    return problems


# ------------------------------------------------------------------------ real backbone + local roads


def backbone_from_file(
    path: str | Path,
    *,
    crs: str,
    keep_within: shapely.Geometry,
    road_class: str,
    source: str,
) -> nx.Graph:
    """Real roads from a line file (GeoJSON/GeoPackage, any CRS) as a graph of ``status = "real"`` edges.

    Lines meeting ``keep_within`` (metric; the outline plus the margin) are kept whole; their
    ends become nodes (ends within 1 m are one node). ``length_m`` is the file's ``length_km``
    × 1000 where it has that column (the source's own figure), else the geometry length.
    """
    import geopandas as gpd

    from ._errors import DataFileError

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # any reader failure is a bad file for the user
        raise DataFileError(path, f"cannot read as a line layer ({exc})") from None
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    gdf = gdf.explode(index_parts=False).to_crs(crs)
    gdf = gdf[(gdf.geom_type == "LineString") & gdf.intersects(keep_within)]
    has_km = "length_km" in gdf.columns
    lengths = gdf["length_km"].to_numpy(float) * 1000.0 if has_km else gdf.length.to_numpy()
    G = nx.Graph(crs=crs, modelled=False, source=source)
    key: dict[tuple[int, int], int] = {}

    def _node(pt: tuple[float, ...]) -> int:
        k = (round(pt[0]), round(pt[1]))
        if k not in key:
            key[k] = len(key)
            G.add_node(key[k], x=float(pt[0]), y=float(pt[1]), kind="road", name="")
        return key[k]

    for line, length in zip(gdf.geometry, lengths, strict=True):
        cs = line.coords
        a, b = _node(cs[0]), _node(cs[-1])
        if a != b and (not G.has_edge(a, b) or G.edges[a, b]["length_m"] > length):
            G.add_edge(a, b, length_m=max(float(length), 1.0), road_class=road_class, geometry=line)
    for _, _, d in G.edges(data=True):
        d.update(status=REAL, name=d.get("name") or "")
    return G


def join_backbone(
    local: nx.Graph,
    real: nx.Graph,
    *,
    params: NetworkParams,
    backbone: BackboneParams,
    speeds: SpeedParams,
    outline: shapely.Geometry,
) -> nx.Graph:
    """Join a modelled settlement network (``local``) to a real road graph (``real``).

    1. Modelled links that duplicate a real corridor — at least ``corridor_share`` of the link
       within ``corridor_m`` of a real road — are dropped.
    2. A settlement whose nearest real road is within ``join_km`` gets a modelled access road
       (``village_class``, length = distance × ``circuity_village``) to the nearest point on it;
       the real road is split there (its parts keep the real length in proportion).
    3. Real components with no settlement joined and not touching the county are dropped; the
       rest is made connected by the shortest modelled links between components.

    Every edge carries ``status`` ("real"/"modelled"); ``edge_id`` is renumbered 0..m-1.
    """
    G = nx.Graph(**local.graph)
    G.add_nodes_from(local.nodes(data=True))
    G.add_edges_from((u, v, {**d, "status": MODELLED}) for u, v, d in local.edges(data=True))
    off = max(G.nodes) + 1 if G.number_of_nodes() else 0
    G.add_nodes_from((off + n, d) for n, d in real.nodes(data=True))
    G.add_edges_from((off + u, off + v, dict(d)) for u, v, d in real.edges(data=True))
    real_edges = [(u, v) for u, v, d in G.edges(data=True) if d.get("status") == REAL]
    if not real_edges:
        return local
    lines = [G.edges[e]["geometry"] for e in real_edges]
    dropped = _drop_corridor_duplicates(G, shapely.union_all(lines), backbone)
    settlements = [n for n in local.nodes if n < off]
    _join_settlements(G, settlements, real_edges, params, backbone)
    _prune_and_connect(G, settlements, outline, params)
    G = nx.convert_node_labels_to_integers(G, ordering="sorted")
    _lonlat(G)
    add_travel_times(G, speeds)
    for k, (_, _, d) in enumerate(G.edges(data=True)):
        d["edge_id"] = k
    km = road_km(G)
    G.graph.update(
        corridor_links_dropped=dropped,
        modelled=km[MODELLED] > 0,
        source=f"{real.graph.get('source', 'real roads')} ({km[REAL]:.1f} km, status real) joined by "
        f"modelled local roads ({km[MODELLED]:.1f} km): {local.graph.get('source', '')}",
    )
    log.info("road graph: %.1f km real + %.1f km modelled", km[REAL], km[MODELLED])
    return G


def edge_geometry(G: nx.Graph, u: int, v: int, d: dict[str, object]) -> shapely.Geometry:
    """An edge's line in the graph's CRS: its ``geometry``, else the straight ``u``–``v`` segment."""
    geom = d.get("geometry")
    if isinstance(geom, shapely.Geometry) and not geom.is_empty:
        return geom
    return shapely.LineString([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in (u, v)])


def road_km(G: nx.Graph, within: shapely.Geometry | None = None) -> dict[str, float]:
    """Road length (km) per ``status``; with ``within`` (metric polygon), only the parts inside it.

    Inside length of an edge = ``length_m`` × (geometry length inside / geometry length).
    """
    out = {REAL: 0.0, MODELLED: 0.0}
    for u, v, d in G.edges(data=True):
        status = d.get("status", MODELLED if G.graph.get("modelled") else REAL)
        f = 1.0
        if within is not None:
            geom = edge_geometry(G, u, v, d)
            f = shapely.intersection(geom, within).length / max(geom.length, 1e-9)
        out[status] = out.get(status, 0.0) + d["length_m"] * f / 1000.0
    return out


def _drop_corridor_duplicates(
    G: nx.Graph, real_lines: shapely.Geometry, backbone: BackboneParams
) -> int:
    """Remove modelled links running along a real road; return how many were removed."""
    corridor = real_lines.buffer(backbone.corridor_m)
    cand = [(u, v) for u, v, d in G.edges(data=True) if d["status"] == MODELLED]
    if not cand:
        return 0
    segs = [G.edges[e]["geometry"] for e in cand]
    share = shapely.length(shapely.intersection(segs, corridor)) / np.maximum(
        shapely.length(segs), 1e-9
    )
    drop = [e for e, s in zip(cand, share, strict=True) if s >= backbone.corridor_share]
    G.remove_edges_from(drop)
    log.info("%d modelled links dropped: they duplicate a real road corridor", len(drop))
    return len(drop)


def _modelled_link(G: nx.Graph, a: int, b: int, params: NetworkParams, name: str) -> None:
    pa = (G.nodes[a]["x"], G.nodes[a]["y"])
    pb = (G.nodes[b]["x"], G.nodes[b]["y"])
    line = shapely.LineString([pa, pb])
    G.add_edge(
        a,
        b,
        length_m=max(line.length * params.circuity_village, 1.0),
        road_class=params.village_class,
        status=MODELLED,
        name=name,
        geometry=line,
    )


def _join_settlements(
    G: nx.Graph,
    settlements: list[int],
    real_edges: list[tuple[int, int]],
    params: NetworkParams,
    backbone: BackboneParams,
) -> None:
    """Access roads from settlements within ``join_km`` to the nearest point of a real road."""
    lines = [G.edges[e]["geometry"] for e in real_edges]
    pts = shapely.points([(G.nodes[s]["x"], G.nodes[s]["y"]) for s in settlements])
    pi, li = shapely.STRtree(lines).query_nearest(
        pts, max_distance=backbone.join_km * 1000.0, all_matches=False
    )
    at: dict[int, list[int]] = {}
    for p, e in zip(pi, li, strict=True):
        at.setdefault(int(e), []).append(int(p))
    for e, ps in at.items():
        junctions = _split_real_edge(G, real_edges[e], [pts[p] for p in ps])
        for p, j in zip(ps, junctions, strict=True):
            s = settlements[p]
            name = f"{G.nodes[s].get('name', '')}接主干道 (modelled access road)"
            _modelled_link(G, s, j, params, name)


def _split_real_edge(G: nx.Graph, edge: tuple[int, int], points: list[shapely.Point]) -> list[int]:
    """Split a real edge at the points nearest to ``points``; return the node for each point.

    Each part keeps ``status``/``road_class``/``name`` and the share of the source length equal
    to its share of the geometry: :math:`L_i = L · ℓ_i / ℓ`. A point projecting within 1 m of
    an end uses that end node; points projecting to the same spot (0.1 m) share one node.
    """
    from shapely.ops import substring

    a, b = edge
    d = dict(G.edges[a, b])
    line = d["geometry"]
    start = shapely.Point(line.coords[0])
    pa = shapely.Point(G.nodes[a]["x"], G.nodes[a]["y"])
    pb = shapely.Point(G.nodes[b]["x"], G.nodes[b]["y"])
    if start.distance(pa) > start.distance(pb):
        line = shapely.reverse(line)
    total = max(line.length, 1e-9)
    pos = [round(float(line.project(p)), 1) for p in points]
    node_at: dict[float, int] = {}
    cuts = [(0.0, a)]
    for q in sorted(set(pos)):
        if q <= 1.0 or q >= total - 1.0:
            node_at[q] = a if q <= 1.0 else b
            continue
        n = max(G.nodes) + 1
        p = line.interpolate(q)
        G.add_node(n, x=float(p.x), y=float(p.y), kind="junction", name="")
        node_at[q] = n
        cuts.append((q, n))
    cuts.append((total, b))
    if len(cuts) > 2:
        G.remove_edge(a, b)
        for (p0, n0), (p1, n1) in itertools.pairwise(cuts):
            part = {**d, "geometry": substring(line, p0, p1)}
            part["length_m"] = max(d["length_m"] * (p1 - p0) / total, 1.0)
            G.add_edge(n0, n1, **part)
    return [node_at[q] for q in pos]


def _prune_and_connect(
    G: nx.Graph, settlements: list[int], outline: shapely.Geometry, params: NetworkParams
) -> None:
    """Drop stray real pieces, then join components by their closest node pairs (modelled links)."""
    keep_set = set(settlements)
    for comp in list(nx.connected_components(G)):
        if comp & keep_set:
            continue
        sub = G.subgraph(comp)
        if not any(d["geometry"].intersects(outline) for *_, d in sub.edges(data=True)):
            G.remove_nodes_from(comp)
    while nx.number_connected_components(G) > 1:
        comp = min(nx.connected_components(G), key=len)
        inside = sorted(comp)
        outside = sorted(set(G.nodes) - comp)
        xy_in = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in inside])
        xy_out = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in outside])
        dist, j = cKDTree(xy_out).query(xy_in)
        i = int(np.argmin(dist))
        a, b = inside[i], outside[int(j[i])]
        _modelled_link(G, a, b, params, "modelled connecting road")


def _lonlat(G: nx.Graph) -> None:
    inv = Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True)
    for _, d in G.nodes(data=True):
        if "lon" not in d:
            d["lon"], d["lat"] = (float(c) for c in inv.transform(d["x"], d["y"]))
