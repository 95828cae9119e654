"""``doorstep roster``: the adviser roster 一村一法律顾问名册 (propose one with ``make``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import add_model_options, check_output_file, emit_json, model_from_args


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("roster", help="adviser roster 一村一顾问名册")
    act = s.add_subparsers(dest="roster_action", required=True)
    m = act.add_parser(
        "make",
        help="propose a roster: villages grouped by travel time from each base, balanced by workload",
    )
    m.add_argument("--advisers", type=int, required=True, help="number of advisers")
    m.add_argument(
        "--out", required=True, metavar="roster.xlsx", help="roster file (.xlsx or .csv)"
    )
    m.add_argument("--mode", choices=["car", "motorbike"], default="car")
    m.add_argument("--json", action="store_true", help="print a JSON summary")
    add_model_options(m)
    m.set_defaults(func=cmd_roster_make)


def cmd_roster_make(args: argparse.Namespace) -> int:
    from doorstep.analysis.circuits.roster import (
        MODELLED_LABEL,
        make_roster,
        roster_summary,
        write_roster,
    )
    from doorstep.geo._errors import InputError

    if not 1 <= args.advisers <= 500:
        raise InputError("--advisers must be between 1 and 500")
    check_output_file(args.out, "--out")
    if not args.out.lower().endswith((".xlsx", ".csv")):
        raise InputError(f"--out {args.out}: write the roster as .xlsx or .csv")
    model = model_from_args(args)
    roster, travel = make_roster(model, args.advisers, mode=args.mode)
    path = write_roster(roster, travel, args.out)
    rows = roster_summary(roster, travel)
    doc: dict[str, Any] = {"file": str(path), "status": MODELLED_LABEL, "advisers": rows}
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(f"{model.name}: {len(rows)} advisers, roster written to {path}\n  {MODELLED_LABEL}\n")
    for r in rows:
        w(
            f"  {r['name']} @ {r['base_name']}: {r['villages']} villages, "
            f"workload {r['workload_hours']} h/month, farthest {r['max_one_way_minutes']} min, "
            f"largest detour {r['max_detour_minutes']} min\n"
        )
    return 0
