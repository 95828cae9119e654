"""``doorstep run``: the whole job for one county, in one folder 一键生成全部成果, then the web app.

A thin layer over :func:`doorstep.job.run_job`: parse the options, run the job, print the
summary (:func:`doorstep.report.render_summary_text`) and serve.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from doorstep.geo._errors import InputError

from ._common import (
    add_basemap_options,
    add_ensemble_options,
    add_model_options,
    add_serve_options,
    add_target_options,
    check_port_free,
    draws_from_args,
    model_inputs_from_args,
    target_from_args,
)

log = logging.getLogger(__name__)

RUN_DRAWS = 200
"""``--draws`` default: :data:`analysis.uncertainty.DEFAULT_RUN_DRAWS`, repeated here so that
``--help`` stays fast (a test checks that the two agree)."""


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "run",
        help="the whole job: model, coverage, gaps, siting, circuits, atlas 一键运行",
    )
    r.add_argument("--out", default="out", help="output folder (default: out/)")
    add_target_options(r)
    r.add_argument("--add", type=int, default=3, help="new sites to propose (MCLP, default 3)")
    r.add_argument(
        "--lawyers",
        type=int,
        help="modelled lawyers for the circuits (default 8; not with --roster)",
    )
    r.add_argument("--month", help="month of circuits, YYYY-MM (default: next month)")
    r.add_argument(
        "--roster",
        metavar="FILE",
        help="adviser roster (CSV/XLSX, doorstep roster make): the circuits keep every village "
        "with its adviser (not with --lawyers)",
    )
    add_basemap_options(r)  # the atlas and the web app it serves
    r.add_argument("--time-limit", type=float, default=60.0, help="seconds per MILP solve")
    r.add_argument(
        "--no-serve",
        dest="serve",
        action="store_false",
        help="stop after writing the outputs (default: then serve the web app)",
    )
    add_ensemble_options(r, default_draws=RUN_DRAWS)
    add_serve_options(r)
    add_model_options(r)
    r.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from doorstep.job import JobOptions, run_job
    from doorstep.report import render_summary_text

    options = JobOptions(
        out=Path(args.out),
        vintage=args.vintage,
        data=Path(args.data) if args.data else None,
        inputs=model_inputs_from_args(args),
        target=target_from_args(args),
        add=args.add,
        lawyers=_lawyers(args),
        month=args.month,
        roster=Path(args.roster) if args.roster else None,
        basemap=args.basemap,
        basemap_crs=args.basemap_crs,
        tianditu_key=args.tianditu_key,
        time_limit=args.time_limit,
        draws=draws_from_args(args),
        seed=args.seed,
    )
    if args.serve:
        check_port_free(args.host, args.port, "or --no-serve")
    result = run_job(options)
    sys.stdout.write(render_summary_text(result))
    if not args.serve:
        sys.stdout.write("  web app: doorstep serve\n")
        return 0
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from .serve import cmd_serve

    replaced = [
        o
        for o in ("boundary", "townships", "villages", "population", "service_points", "roads")
        if getattr(args, o, None)
    ]
    if replaced:
        log.warning(
            "the web app uses the default layers (vintage/data only); %s files are not loaded "
            "into it",
            ", ".join(replaced),
        )
    ns = argparse.Namespace(
        host=args.host,
        port=args.port,
        threads=8,
        instance=args.instance,
        vintage=args.vintage,
        data=args.data,
        https=False,
        behind_proxy=False,
        session_hours=None,
        basemap=args.basemap,
        basemap_crs=args.basemap_crs,
        tianditu_key=args.tianditu_key,
    )
    return cmd_serve(ns)


def _lawyers(args: argparse.Namespace) -> int:
    """``--lawyers`` (default ``DEFAULT_LAWYERS``, 8); refused beside ``--roster``, whose advisers are the lawyers."""
    if args.lawyers is not None and args.roster:
        raise InputError(
            "give either --lawyers N or --roster FILE, not both: the roster names the advisers"
        )
    from doorstep.analysis.circuits.county import DEFAULT_LAWYERS

    return DEFAULT_LAWYERS if args.lawyers is None else int(args.lawyers)
