"""``doorstep posters``: one printable A4 PDF per village for the notice board 村务公开栏海报."""

from __future__ import annotations

import argparse
import logging
import sys

from doorstep.geo._errors import InputError

from ._common import check_output_folder

log = logging.getLogger(__name__)

PROGRESS_EVERY = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "posters",
        help="one A4 PDF poster per village: 12348, the 法务室, nearest points, QR to its page 海报",
    )
    p.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help="address of the public web app (http:// or https://); the QR code opens URL/v/<code>",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (<code>.pdf each)")
    p.add_argument(
        "--villages",
        metavar="CODE,...",
        help="only these village codes, comma-separated (default: every village)",
    )
    p.add_argument(
        "--vintage",
        choices=["2016", "2023"],
        default="2023",
        help="village list: NBS 2023 (228 units, default) or 2016 (241)",
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        help="reference data folder (default $DOORSTEP_DATA or ../shared/data)",
    )
    p.set_defaults(func=cmd_posters)


def cmd_posters(args: argparse.Namespace) -> int:
    from doorstep.geo.model import build_county_model
    from doorstep.webmap.posters import check_base_url, write_posters

    base = check_base_url(args.base_url)  # before any work
    check_output_folder(args.out, "--out")
    codes = None
    if args.villages is not None:
        codes = [c.strip() for c in args.villages.split(",") if c.strip()]
        if not codes:
            raise InputError("--villages needs at least one village code (CODE,CODE,...)")
    model = build_county_model(vintage=args.vintage, data=args.data)

    def progress(done: int, total: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            log.info("posters: %d/%d", done, total)

    paths = write_posters(model, base, args.out, codes, progress=progress)
    sys.stdout.write(f"wrote {len(paths)} poster(s) to {args.out}\n")
    return 0
