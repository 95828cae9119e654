"""``doorstep posters``: one printable A4 PDF per village for the notice board 村务公开栏海报."""

from __future__ import annotations

import argparse
import logging
import sys

from doorstep.geo._errors import InputError

from ._common import add_model_options, check_output_folder, model_from_args

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
        "--codes",
        metavar="CODE,...",
        help="only these village codes, comma-separated (default: every village)",
    )
    add_model_options(p)  # the posters show the same model as every other command
    p.set_defaults(func=cmd_posters)


def cmd_posters(args: argparse.Namespace) -> int:
    from doorstep.webmap.posters import check_base_url, write_posters

    base = check_base_url(args.base_url)  # before any work
    check_output_folder(args.out, "--out")
    codes = None
    if args.codes is not None:
        codes = [c.strip() for c in args.codes.split(",") if c.strip()]
        if not codes:
            raise InputError("--codes needs at least one village code (CODE,CODE,...)")
    model = model_from_args(args)

    def progress(done: int, total: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            log.info("posters: %d/%d", done, total)

    paths = write_posters(model, base, args.out, codes, progress=progress)
    sys.stdout.write(f"wrote {len(paths)} poster(s) to {args.out}\n")
    return 0
