"""``doorstep ledger``: read a filled visit ledger 台账 back (``report``: the month's figures)."""

from __future__ import annotations

import argparse
import sys

from ._common import add_model_options, check_output_file, emit_json, model_from_args


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("ledger", help="visit ledger 台账: monthly report from a filled ledger")
    act = s.add_subparsers(dest="ledger_action", required=True)
    r = act.add_parser(
        "report", help="per township and adviser: visits, persons served, disputes, services"
    )
    r.add_argument("ledger", metavar="DONE.xlsx", help="ledger filled in by staff (.xlsx)")
    r.add_argument("--xlsx", metavar="OUT", help="write the report workbook (.xlsx)")
    r.add_argument("--out", metavar="FILE", help="write the report as JSON")
    r.add_argument("--json", action="store_true", help="print the JSON report")
    add_model_options(r)
    r.set_defaults(func=cmd_ledger_report)


def cmd_ledger_report(args: argparse.Namespace) -> int:
    from doorstep.analysis.circuits.ledger import check_filled, read_ledger
    from doorstep.analysis.circuits.ledger_report import ledger_report, write_ledger_report

    check_output_file(args.xlsx, "--xlsx")
    check_output_file(args.out, "--out")
    model = model_from_args(args)
    entries = read_ledger(args.ledger, {str(c) for c in model.villages["code"]})
    check_filled(entries, args.ledger)
    report = ledger_report(entries)
    write_ledger_report(report, args.xlsx, args.out)
    if args.json:
        emit_json(report)
        return 0
    t = report["totals"]
    w = sys.stdout.write
    w(
        f"{model.name} {', '.join(report['months'])}: {t['visited']} of {t['planned']} visits made, "
        f"{t['missed']} missed, {t['blank']} not filled in; {t['persons']} persons served, "
        f"{t['resolved']} of {t['mediated']} disputes resolved\n"
    )
    for r in report["by_township"]:
        w(f"  {r['township']}: {r['visited']}/{r['planned']} visits, {r['persons']} persons\n")
    return 0
