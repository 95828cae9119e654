"""Options and helpers shared by the sub-commands.

Light on purpose: this module and every command module import only the standard library and
small Doorstep modules at the top, so ``doorstep --help`` does not load geopandas, networkx or
Flask; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doorstep.geo._errors import InputError
from doorstep.geo.atomic import staged_folder
from doorstep.geo.params import MODES
from doorstep.jsonio import json_text, write_json
from doorstep.webmap.basemaps import NAMES, BasemapChoice

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel, ModelInputs


def add_model_options(p: argparse.ArgumentParser) -> None:
    """Options that choose the county model (shared by every analysis command)."""
    g = p.add_argument_group("county model")
    g.add_argument(
        "--vintage",
        choices=["2016", "2023"],
        default="2023",
        help="village list: NBS 2023 (228 units, default) or 2016 (241, the 2017 法务室 network)",
    )
    g.add_argument(
        "--data",
        metavar="DIR",
        help="reference data folder (default $DOORSTEP_DATA or ../shared/data)",
    )
    g.add_argument(
        "--boundary", metavar="FILE", help="county outline (GeoPackage/GeoJSON/Shapefile)"
    )
    g.add_argument(
        "--townships", metavar="FILE", help="official township polygons with a 'code' column"
    )
    g.add_argument(
        "--villages",
        metavar="FILE",
        help="surveyed village points CSV/XLSX (code,name,lon,lat,crs)",
    )
    g.add_argument(
        "--population", metavar="FILE", help="population CSV/XLSX by village or township code"
    )
    g.add_argument(
        "--service-points", metavar="FILE", help="CSV/XLSX editing or adding service points"
    )
    g.add_argument(
        "--roads",
        metavar="FILE",
        help="OpenStreetMap extract (.osm.pbf/.osm; a province or all-China file is fine: it is "
        "streamed and clipped to the county outline plus [backbone] margin_km); its roads become "
        "the real backbone, modelled local roads join villages to it",
    )
    g.add_argument(
        "--crs", choices=["WGS84", "GCJ02"], help="coordinate system of tables without a crs column"
    )


def add_target_options(p: argparse.ArgumentParser, *, mode: bool = True) -> None:
    """``--mode``, ``--minutes`` (rural) and ``--urban-minutes``: the one coverage target
    (defaults from data/params/coverage.toml)."""

    if mode:
        p.add_argument("--mode", choices=MODES, help="mode the target is judged by (car)")
    p.add_argument("--minutes", type=float, help="target for rural villages, minutes (default 30)")
    p.add_argument(
        "--urban-minutes", type=float, help="target for urban villages, minutes (default 15)"
    )


def target_from_args(args: argparse.Namespace) -> Any:
    """The :class:`analysis.coverage.CoverageTarget` the options describe."""
    from doorstep.analysis.coverage import CoverageTarget
    from doorstep.geo.params import check_minutes

    def _m(v: float | None, name: str) -> float | None:
        return None if v is None else check_minutes(v, name)

    return CoverageTarget().with_minutes(
        rural=_m(args.minutes, "--minutes"),
        urban=_m(args.urban_minutes, "--urban-minutes"),
        mode=getattr(args, "mode", None),
    )


def model_inputs_from_args(args: argparse.Namespace) -> ModelInputs:
    """The user files (``--boundary`` ... ``--crs``) that replace layers of the default model."""
    from doorstep.geo.model import ModelInputs

    def _p(v: str | None) -> Path | None:
        return Path(v) if v else None

    return ModelInputs(
        boundary=_p(args.boundary),
        townships=_p(args.townships),
        villages=_p(args.villages),
        population=_p(args.population),
        service_points=_p(args.service_points),
        roads=_p(args.roads),
        crs=args.crs,
    )


def model_from_args(args: argparse.Namespace) -> CountyModel:
    """Build the county model the options describe."""
    from doorstep.geo.model import build_county_model

    inputs = model_inputs_from_args(args)
    return build_county_model(vintage=args.vintage, data=args.data, inputs=inputs)


def add_serve_options(p: argparse.ArgumentParser) -> None:
    """``--host``, ``--port`` and ``--instance`` of the web app (``serve`` and ``run``)."""
    p.add_argument(
        "--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 for the LAN)"
    )
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument(
        "--instance",
        metavar="DIR",
        help="web app instance folder: database, secret key, config.py "
        "(default $DOORSTEP_INSTANCE or ./instance)",
    )


def check_port_free(host: str, port: int, alternative: str = "") -> None:
    """Fail before any work if the web app could not listen on ``host:port``.

    ``alternative`` is added to the advice (e.g. ``"or --no-serve"``).
    """
    import socket

    if not 1 <= port <= 65535:
        raise InputError(f"--port must be 1..65535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        try:
            s.bind((host, port))
        except OSError as exc:
            raise port_error(host, port, exc, alternative) from exc


def port_error(host: str, port: int, exc: OSError, alternative: str = "") -> InputError:
    """The message for a web app that cannot listen on ``host:port``."""
    return InputError(
        f"cannot serve on {host}:{port} ({exc.strerror or exc}); pass --port with a free port"
        " (and --host with an address of this machine)" + (f" {alternative}" if alternative else "")
    )


def check_output_file(value: str | None, flag: str) -> None:
    """Refuse, before any work, an output file option (``--xlsx`` ...) that names a folder."""
    if value and Path(value).is_dir():
        raise InputError(f"{flag} {value} is a folder; give a file name (in it or elsewhere)")


def check_output_folder(value: str | None, flag: str) -> None:
    """Refuse, before any work, an output folder option (``--ics``, ``--out``) naming a file."""
    if value and Path(value).exists() and not Path(value).is_dir():
        raise InputError(f"{flag} {value} is an existing file; give a folder name")


@contextlib.contextmanager
def staged_output(value: str | None) -> Iterator[Path | None]:
    """``--out DIR`` as a staging folder moved into place when the block succeeds
    (:func:`geo.atomic.staged_folder`): Ctrl-C part-way keeps nothing. ``None`` without ``--out``.
    """
    if not value:
        yield None
        return
    with staged_folder(value) as stage:
        yield stage


def emit_json(obj: Any, out: str | None = None) -> None:
    """Print JSON to stdout, or write it atomically to ``out``."""
    if out is None:
        sys.stdout.write(json_text(obj))
        return
    write_json(obj, out)


MAX_DRAWS = 10_000


def add_ensemble_options(p: argparse.ArgumentParser, default_draws: int = 0) -> None:
    """``--draws N --seed S``: a range on every figure (ensemble over the modelled inputs)."""
    g = p.add_argument_group("uncertainty (data/params/uncertainty.toml)")
    g.add_argument(
        "--draws",
        type=int,
        default=default_draws,
        help=f"draws of the modelled inputs (0 = off; default {default_draws})",
    )
    g.add_argument("--seed", type=int, default=0, help="random seed: same seed, same numbers")


def draws_from_args(args: argparse.Namespace) -> int:
    """The validated number of draws (0 = no ensemble)."""
    from doorstep.geo._errors import InputError

    if not 0 <= args.draws <= MAX_DRAWS:
        raise InputError(f"--draws must be 0..{MAX_DRAWS}, got {args.draws}")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    return int(args.draws)


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
