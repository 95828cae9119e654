"""Options and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from doorstep.geo.atomic import write_text
from doorstep.geo.model import CountyModel, ModelInputs, build_county_model


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
    from doorstep.geo.params import MODES

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


def model_from_args(args: argparse.Namespace) -> CountyModel:
    """Build the county model the options describe."""

    def _p(v: str | None) -> Path | None:
        return Path(v) if v else None

    inputs = ModelInputs(
        boundary=_p(args.boundary),
        townships=_p(args.townships),
        villages=_p(args.villages),
        population=_p(args.population),
        service_points=_p(args.service_points),
        roads=_p(args.roads),
        crs=args.crs,
    )
    return build_county_model(vintage=args.vintage, data=args.data, inputs=inputs)


def emit_json(obj: Any, out: str | None = None) -> None:
    """Print JSON to stdout, or write it atomically to ``out``."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=_default)
    if out is None:
        sys.stdout.write(text + "\n")
        return
    write_text_atomic(Path(out), text + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename (see :mod:`geo.atomic`)."""
    write_text(path, text)


def _default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        v = float(o)
        return None if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)


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
