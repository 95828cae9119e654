"""``doorstep province 43``: every county of the province on a Dask distributed cluster."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from doorstep.geo._errors import InputError

from ._common import add_target_options, check_output_folder, target_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "province",
        help="coverage of every county of a province, in parallel (Dask) 全省分县覆盖分析",
        description=(
            "Build and analyse every county of the province as one Dask task. Per-county outputs "
            "go to OUT/counties/<code>/ (GeoParquet + summary.json); a re-run skips finished "
            "counties. Province tables and a map are written to OUT."
        ),
    )
    p.add_argument("province", help="province code (only 43 = Hunan is bundled)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    g.add_argument(
        "--scheduler", metavar="ADDRESS", help="existing Dask scheduler, e.g. tcp://10.0.0.5:8786"
    )
    p.add_argument("--out", default="province-out", metavar="DIR", help="output folder")
    p.add_argument("--counties", metavar="CODE,CODE", help="only these county codes")
    add_target_options(p)
    p.add_argument("--data", metavar="DIR", help="reference data folder (default ../shared/data)")
    p.add_argument("--no-map", action="store_true", help="skip the HTML map")
    p.set_defaults(func=cmd_province)


class _Progress:
    """A one-line counter on stderr: ``[ 37/122] 431322 新化县 ok 3.6 s``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, done: int, total: int, rec: dict[str, Any]) -> None:
        if self.quiet:
            return
        state = "skipped" if rec.get("skipped") else rec["status"]
        width = 30
        fill = int(width * done / max(total, 1))
        line = (
            f"[{'#' * fill}{'.' * (width - fill)}] {done:>4}/{total} counties "
            f"{time.perf_counter() - self.t0:6.0f} s  {rec['code']} {rec.get('name', '')} {state}"
        )
        if rec["status"] != "ok":
            line += f": {rec.get('reason', '')[:160]}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def cmd_province(args: argparse.Namespace) -> int:
    from doorstep.analysis.province import ProvinceParams, run_province
    from doorstep.analysis.province_tables import merge_province, write_province_outputs
    from doorstep.geo.hunan import PROVINCE_CODE, list_hunan_counties

    if str(args.province) not in (PROVINCE_CODE, PROVINCE_CODE + "0000"):
        raise InputError(f"only province 43 (Hunan) is bundled, got {args.province!r}")
    check_output_folder(args.out, "--out")
    if not getattr(args, "verbose", False):
        import distributed  # noqa: F401  (its import sets its own log levels; quieten after)

        logging.getLogger("distributed").setLevel(logging.WARNING)
    params = ProvinceParams(target=target_from_args(args), data=args.data)
    codes, skipped = list_hunan_counties(args.data)
    if args.counties:
        wanted = [c.strip() for c in args.counties.split(",") if c.strip()]
        codes = wanted  # unknown or broken ones are reported per county, not refused up front
    w = sys.stdout.write
    if not args.counties:
        w(
            f"{len(codes)} counties to model; {len(skipped)} code files left out (no townships/outline)\n"
        )
    run = run_province(
        codes,
        args.out,
        params,
        workers=args.workers,
        scheduler=args.scheduler,
        on_result=_Progress(getattr(args, "quiet", False)),
    )
    counties, towns = merge_province(args.out, codes)
    paths = write_province_outputs(args.out, run, counties, towns, params)
    if not args.no_map:
        from doorstep.webmap.province_map import province_map

        failed = [f"{r['code']} {r.get('name', '')}".strip() for r in run.failed]
        paths["map"] = province_map(
            counties,
            Path(args.out) / "province_map.html",
            column="share_meeting_target",
            townships=towns,
            failed=failed,
            title=f"人口覆盖 share of population meeting the {params.target.describe(False)} "
            "to a staffed legal service point",
        )
    ok = len(run.records) - len(run.failed)
    w(
        f"{ok} of {len(run.records)} counties done ({len(run.computed)} computed, "
        f"{ok - len(run.computed)} reused) in {run.wall_s:.1f} s\n"
    )
    if len(counties):
        pop = int(counties["population"].sum())
        for b in params.bands:
            share = counties[f"population_within_{b:g}"].sum() / pop
            w(f"  population within {b:g} min ({params.mode}): {share:.1%} of {pop:,} (MODELLED)\n")
    for r in run.failed:
        w(f"  FAILED {r['code']} {r.get('name', '')}: {r.get('reason', '')}\n")
    for k, pth in paths.items():
        w(f"  {k}: {pth}\n")
    return 0 if not run.failed else 3
