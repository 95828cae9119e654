"""``doorstep map``: the static atlas 地图 (a self-contained site that works offline)."""

from __future__ import annotations

import argparse
import os
import sys

from doorstep.geo.params import MODES

from ._common import (
    add_basemap_options,
    add_model_options,
    add_target_options,
    basemap_flags,
    check_output_folder,
    model_from_args,
    target_from_args,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="write the static atlas site 生成离线地图网站 (folium, no CDN)")
    p.add_argument("--out", default="site", help="output folder (default: site/)")
    p.add_argument(
        "--mode",
        choices=MODES,
        default="car",
        help="travel mode for village colours and bands (default car)",
    )
    add_basemap_options(p)
    p.add_argument("--no-isochrones", action="store_true", help="skip isochrone bands")
    p.add_argument(
        "--single-file",
        action="store_true",
        help="write Leaflet/jQuery into index.html (one file to e-mail; no vendor/ folder)",
    )
    p.add_argument(
        "--siting-k",
        type=int,
        metavar="K",
        help="add K proposed sites (MCLP over candidate villages, analysis.siting)",
    )
    add_target_options(p, mode=False)
    p.add_argument(
        "--circuits-month",
        metavar="YYYY-MM",
        help="add a month of lawyer circuit routes (analysis.circuits)",
    )
    add_model_options(p)
    p.set_defaults(func=cmd_map)


def cmd_map(args: argparse.Namespace) -> int:
    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.basemaps import resolve_basemap
    from doorstep.webmap.layers import collect_layers
    from doorstep.webmap.results import circuit_routes, proposed_sites

    check_output_folder(args.out, "--out")
    tiles = resolve_basemap(basemap_flags(args), env=os.environ)  # a bad setting fails first
    model = model_from_args(args)
    target = target_from_args(args)
    proposed = proposed_sites(model, args.siting_k, target) if args.siting_k else None
    routes = circuit_routes(model, args.circuits_month) if args.circuits_month else None
    layers = collect_layers(
        model, args.mode, isochrones=not args.no_isochrones, proposed=proposed, routes=routes
    )
    files = build_atlas(
        model,
        layers,
        args.out,
        basemap=tiles,
        single_file=args.single_file,
    )
    for note in layers.notes:
        sys.stderr.write(f"note: {note}\n")
    where = "works offline" if tiles.offline else f"tiles from {tiles.origin()}, {tiles.crs}"
    sys.stdout.write(f"wrote {files[0]} (open it in a browser; {where})\n")
    return 0
