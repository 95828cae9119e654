"""``doorstep validate``: the model against published facts and independent sources 外部核验."""

from __future__ import annotations

import argparse
import sys

from ._common import add_model_options, check_output_folder, emit_json, model_from_args


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "validate",
        help="compare the model with published distances, road length, populations, "
        "the Tianditu outline and the second seat source 外部核验",
    )
    s.add_argument("--json", action="store_true", help="print the JSON report")
    s.add_argument("--out", metavar="DIR", help="write validation.json and validation.csv into DIR")
    s.add_argument(
        "--step-m",
        type=float,
        default=100.0,
        help="spacing of the boundary sample points (metres, default 100)",
    )
    add_model_options(s)
    s.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    from doorstep.geo.validation import format_report, validate_against_world, write_validation

    check_output_folder(args.out, "--out")
    model = model_from_args(args)
    report = validate_against_world(model, args.data, step_m=args.step_m)
    if args.out:
        for p in write_validation(report, args.out):
            sys.stderr.write(f"wrote {p}\n")
    if args.json:
        emit_json(report.as_dict())
        return 0
    sys.stdout.write("\n".join(format_report(report)) + "\n")
    return 0
