"""Benchmark of the travel-time engine against networkx and igraph (not a test).

Usage::

    PYTHONPATH=. python bench/traveltime.py [--adcode DIR] [--nx-sample 300] [--skip-province]

For the Huayuan model graph and a province-scale modelled network over every geocoded Hunan
village (``hunan-adcode/*.csv``, GCJ-02 → WGS84, Delaunay/MST network of
:func:`geo.network.graph_from_points`), it times on the SAME augmented search graph (road graph
plus snapped villages / service points):

* villages × service points (all three run from the smaller side; graph undirected);
* villages × all nodes (sources = villages);
* the province villages × 12 nearest candidate service points (engine only, target < 60 s).

networkx = ``single_source_dijkstra_path_length`` per source, igraph = ``Graph.distances``
(chunks of sources). Graph conversion is excluded from every timing. When ``--nx-sample`` is
smaller than the number of sources, networkx runs on a random sample and its time is scaled
linearly (said in the output). Prints ``NAME ratio: 23.4x`` lines (baseline time / engine time).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.coords import gcj02_to_wgs84, local_metric_crs
from geo.settings import data_dir
from geo.traveltime import od_matrix, prepare

CHUNK = 500


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def to_nx(csr: sp.csr_matrix) -> nx.Graph:
    up = sp.triu(csr, k=1).tocoo()
    g = nx.Graph()
    g.add_nodes_from(range(csr.shape[0]))
    g.add_weighted_edges_from(zip(up.row.tolist(), up.col.tolist(), up.data.tolist(), strict=True))
    return g


def to_igraph(csr: sp.csr_matrix) -> ig.Graph:
    up = sp.triu(csr, k=1).tocoo()
    g = ig.Graph(n=csr.shape[0], edges=list(zip(up.row.tolist(), up.col.tolist(), strict=True)))
    g.es["weight"] = up.data.tolist()
    return g


def engine_rows(csr: sp.csr_matrix, src: np.ndarray, cols: np.ndarray | None) -> None:
    batch = max(1, 20_000_000 // csr.shape[0])
    for s in range(0, src.size, batch):
        d = dijkstra(csr, indices=src[s : s + batch])
        if cols is not None:
            d = d[:, cols]


def nx_rows(g: nx.Graph, src: np.ndarray, cols: np.ndarray | None) -> None:
    for s in src.tolist():
        d = nx.single_source_dijkstra_path_length(g, s, weight="weight")
        if cols is not None:
            [d.get(c, np.inf) for c in cols.tolist()]


def ig_rows(g: ig.Graph, src: np.ndarray, cols: np.ndarray | None) -> None:
    for s in range(0, src.size, CHUNK):
        ids = src[s : s + CHUNK].tolist()
        g.distances(source=ids, target=None if cols is None else cols.tolist(), weights="weight")


def compare(
    label: str,
    csr: sp.csr_matrix,
    src: np.ndarray,
    cols: np.ndarray | None,
    gnx: nx.Graph,
    gig: ig.Graph,
    nx_sample: int,
    rng: np.random.Generator,
) -> None:
    te = timed(lambda: engine_rows(csr, src, cols))
    ti = timed(lambda: ig_rows(gig, src, cols))
    if src.size > nx_sample:
        sub = rng.choice(src, nx_sample, replace=False)
        tn = timed(lambda: nx_rows(gnx, sub, cols)) * src.size / nx_sample
        note = f" (extrapolated from {nx_sample} of {src.size} sources)"
    else:
        tn = timed(lambda: nx_rows(gnx, src, cols))
        note = ""
    print(
        f"  {label}: {src.size} sources x {csr.shape[0] if cols is None else cols.size} "
        f"targets; engine {te:.3f} s, igraph {ti:.3f} s, networkx {tn:.3f} s{note}"
    )
    print(f"{label} networkx ratio: {tn / te:.1f}x")
    print(f"{label} igraph ratio: {ti / te:.1f}x")


def run_graph(
    name: str,
    graph: nx.Graph,
    villages: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    nx_sample: int,
    rng: np.random.Generator,
) -> None:
    print(
        f"== {name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
        f"{len(villages)} villages, {len(points)} service points"
    )
    t = time.perf_counter()
    od = od_matrix(graph, villages, points, "car")
    print(
        f"  engine end-to-end od_matrix (index+snap+search): {time.perf_counter() - t:.3f} s, "
        f"{np.isfinite(od.minutes).mean():.1%} pairs reachable"
    )
    prep = prepare(graph, [villages, points], "car")
    vn, pn = prep.nodes(0), prep.nodes(1)
    csr = prep.aug.csr
    gnx, gig = to_nx(csr), to_igraph(csr)
    src, cols = (pn, vn) if pn.size < vn.size else (vn, pn)
    compare(f"{name} villages x service points", csr, src, cols, gnx, gig, nx_sample, rng)
    compare(f"{name} villages x all nodes", csr, vn, None, gnx, gig, nx_sample, rng)
    # nearest service point: engine one multi-source pass vs networkx multi_source_dijkstra
    te = timed(lambda: dijkstra(csr, indices=pn, min_only=True))
    tn = timed(lambda: nx.multi_source_dijkstra_path_length(gnx, set(pn.tolist())))
    print(f"  nearest point (one pass): engine {te:.4f} s, networkx {tn:.4f} s")
    print(f"{name} nearest-point networkx ratio: {tn / te:.1f}x")
    print(f"  peak RSS so far: {peak_mb():.0f} MB")


def hunan_points(adcode: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = []
    for f in sorted(adcode.glob("*.csv")):
        frames.append(pd.read_csv(f, header=None, dtype=str, usecols=[0, 2, 3, 12, 13]))
    df = pd.concat(frames, ignore_index=True)
    df.columns = ["code", "name", "level", "lon", "lat"]
    df = df.dropna(subset=["lon", "lat"]).drop_duplicates("code")
    df["lon"], df["lat"] = gcj02_to_wgs84(df["lon"].astype(float), df["lat"].astype(float))
    return df[df["level"] == "village"], df[df["level"].isin(["town", "county"])]


def province(adcode: Path, nx_sample: int, rng: np.random.Generator) -> None:
    from geo.network import graph_from_points
    from geo.params import ModelParams

    t0 = time.perf_counter()
    vil, seats = hunan_points(adcode)
    crs = local_metric_crs(float(vil["lon"].mean()), float(vil["lat"].mean()))
    tf = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    allp = pd.concat(
        [
            vil.assign(kind="village"),
            seats.assign(kind=np.where(seats["level"] == "county", "county_seat", "seat")),
        ]
    )
    x, y = tf.transform(allp["lon"].to_numpy(), allp["lat"].to_numpy())
    allp["x"], allp["y"] = np.round(x, 3), np.round(y, 3)
    allp = allp.drop_duplicates(["x", "y"])
    params = ModelParams.from_files()
    g = graph_from_points(
        allp["x"].to_numpy(),
        allp["y"].to_numpy(),
        crs=crs,
        kinds=allp["kind"].to_numpy(),
        names=allp["name"].to_numpy(),
        params=params.network,
        speeds=params.speeds,
    )
    print(f"province network built in {time.perf_counter() - t0:.1f} s")
    v = gpd.GeoDataFrame(vil, geometry=gpd.points_from_xy(vil["lon"], vil["lat"]), crs="EPSG:4326")
    s = gpd.GeoDataFrame(
        seats, geometry=gpd.points_from_xy(seats["lon"], seats["lat"]), crs="EPSG:4326"
    )
    run_graph("Hunan", g, v, s, nx_sample, rng)
    # villages x 12 nearest candidate service points (Euclidean candidates, network times)
    t = time.perf_counter()
    prep = prepare(g, [v, s], "car")
    vn, sn = prep.nodes(0), prep.nodes(1)
    vxy = np.column_stack([prep.sets[0].x, prep.sets[0].y])
    sxy = np.column_stack([prep.sets[1].x, prep.sets[1].y])
    _, cand = cKDTree(sxy).query(vxy, k=12)
    out = np.full(cand.shape, np.inf)
    batch = max(1, 20_000_000 // prep.aug.n_total)
    for b in range(0, sn.size, batch):
        d = dijkstra(prep.aug.csr, indices=sn[b : b + batch])[:, vn]  # (batch, villages)
        for j in range(cand.shape[1]):
            c = cand[:, j]
            m = (c >= b) & (c < b + batch)
            out[m, j] = d[c[m] - b, np.flatnonzero(m)]
    el = time.perf_counter() - t
    print(
        f"  Hunan villages x 12 nearest candidates: {len(v)} x 12 in {el:.1f} s "
        f"(target < 60 s), {np.isfinite(out).mean():.1%} reachable, "
        f"median {np.median(out[np.isfinite(out)]):.1f} min"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adcode", type=Path, default=None, help="hunan-adcode folder")
    ap.add_argument("--nx-sample", type=int, default=300, help="max networkx sources (scaled)")
    ap.add_argument("--skip-province", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    from analysis.coverage import staffed_points  # noqa: F401  (same service points as coverage)
    from geo.model import build_county_model

    m = build_county_model()
    run_graph("Huayuan", m.graph, m.villages, m.service_points, a.nx_sample, rng)
    if not a.skip_province:
        province(a.adcode or data_dir() / "hunan-adcode", a.nx_sample, rng)
    print(f"peak memory (max RSS): {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
