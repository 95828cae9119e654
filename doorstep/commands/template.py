"""``doorstep template service-points --out sp.xlsx``: a fillable table pre-filled from the model."""

from __future__ import annotations

import argparse
import sys

from ._common import add_model_options, model_from_args

KINDS = ("service-points",)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "template",
        help="write a fillable template pre-filled from the model 模板 (service-points)",
    )
    p.add_argument("kind", choices=KINDS, help="which template: service-points (服务点)")
    p.add_argument("--out", required=True, metavar="FILE", help="output .xlsx or .csv")
    add_model_options(p)
    p.set_defaults(func=cmd_template)


def cmd_template(args: argparse.Namespace) -> int:
    from doorstep.geo.service_points import write_service_points_template

    model = model_from_args(args)
    path = write_service_points_template(model.service_points, args.out)
    sys.stdout.write(
        f"wrote {path} ({len(model.service_points)} service points); edit cells and pass it back "
        "with --service-points (an unchanged row changes nothing)\n"
    )
    return 0
