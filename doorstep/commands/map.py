"""``doorstep map``: the static atlas 地图 (a self-contained site that works offline)."""

from __future__ import annotations

import argparse
import os
import sys

from doorstep.geo.params import MODES
from doorstep.webmap.basemaps import NAMES, BasemapChoice

from ._common import (
    add_model_options,
    add_target_options,
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


def add_basemap_options(p: argparse.ArgumentParser) -> None:
    """``--basemap``, ``--basemap-crs``, ``--tianditu-key`` (``doorstep map``, ``run``,
    ``serve``); they override the app config and ``DOORSTEP_BASEMAP``… (see
    :func:`webmap.basemaps.resolve_basemap`)."""
    p.add_argument(
        "--basemap",
        metavar="NAME|URL",
        help=f"background tiles 底图: {', '.join(NAMES)} or a URL template with {{z}}/{{x}}/{{y}} "
        "(default offline: nothing external; amap/gaode are GCJ-02, overlays shifted for "
        "display); else $DOORSTEP_BASEMAP",
    )
    p.add_argument(
        "--basemap-crs",
        metavar="wgs84|gcj02",
        help="CRS of a --basemap URL template's tiles (required with a URL)",
    )
    p.add_argument("--tianditu-key", metavar="TK", help="天地图 token for --basemap tianditu")


def basemap_flags(args: argparse.Namespace) -> BasemapChoice:
    """The basemap values given on the command line (``None`` where not given)."""
    return BasemapChoice(
        getattr(args, "basemap", None),
        getattr(args, "basemap_crs", None),
        getattr(args, "tianditu_key", None),
    )


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
