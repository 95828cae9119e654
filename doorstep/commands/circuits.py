"""``doorstep circuits``: monthly lawyer circuits (routes, schedule, ledger) 律师巡回走访计划."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doorstep.geo._errors import InputError

from ._common import (
    add_model_options,
    check_output_file,
    check_output_folder,
    emit_json,
    model_from_args,
)

if TYPE_CHECKING:
    from doorstep.analysis.circuits.county import CountyMonth
    from doorstep.geo.model import CountyModel


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("circuits", help="plan a month of lawyer village visits 律师巡回走访")
    s.add_argument("--lawyers", type=int, help="number of lawyers (L1..LN); not with --roster")
    s.add_argument(
        "--roster",
        metavar="FILE",
        help="adviser roster (CSV/XLSX, doorstep roster make): every village keeps its adviser",
    )
    s.add_argument("--month", required=True, help="month to plan, YYYY-MM")
    s.add_argument(
        "--assignments",
        metavar="FILE",
        help="CSV/XLSX per village: village_code[,lawyer,visits,service_minutes,weekdays,window] "
        "(e.g. weekdays 周二,周四; window 09:00-12:00)",
    )
    s.add_argument("--xlsx", metavar="OUT", help="write the visit ledger 台账 (.xlsx)")
    s.add_argument("--ics", metavar="DIR", help="write one iCalendar file per lawyer")
    s.add_argument("--geojson", metavar="OUT", help="write the routes as GeoJSON")
    s.add_argument(
        "--print",
        metavar="DIR",
        dest="print_dir",
        help="write the printable plans: 排班表 schedule-YYYY-MM.html/.pdf (one A4 page) and "
        "route sheets routes-YYYY-MM/<adviser>.html/.pdf (a page per adviser-day)",
    )
    s.add_argument(
        "--ledger",
        metavar="DONE.xlsx",
        help="completed ledger of last month: missed visits carried over",
    )
    s.add_argument(
        "--straight",
        action="store_true",
        help="GeoJSON legs as straight lines between stops (default: along the roads)",
    )
    s.add_argument("--mode", choices=["car", "motorbike"], default="car")
    s.add_argument("--visits", type=int, default=1, help="required visits per village per month")
    s.add_argument("--onsite", type=int, default=120, help="minutes on site per visit")
    s.add_argument("--min-gap", type=int, default=7, help="days between repeat visits to a village")
    s.add_argument("--max-drive", type=float, default=300.0, help="daily driving limit (minutes)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print the JSON report")
    s.add_argument("--out", metavar="FILE", help="also write the JSON report to FILE")
    add_model_options(s)
    s.set_defaults(func=cmd_circuits)


def cmd_circuits(args: argparse.Namespace) -> int:
    from doorstep.analysis.circuits.county import plan_county_month, read_assignments

    _check_args(args)
    model = model_from_args(args)
    assignments = read_assignments(args.assignments) if args.assignments else None
    cm = plan_county_month(
        model,
        args.month,
        n_lawyers=args.lawyers or 1,
        roster=args.roster,
        mode=args.mode,
        assignments=assignments,
        visits_per_month=args.visits,
        service_minutes=args.onsite,
        max_drive_minutes=args.max_drive,
        min_gap_days=args.min_gap,
        ledger=args.ledger,
        seed=args.seed,
    )
    files = _write_files(args, model, cm)
    doc = _report(args, model, cm, files)
    if args.out:
        emit_json(doc, args.out)
    if args.json:
        emit_json(doc)
        return 0
    _print_plan(args, model, cm, files)
    return 0


def _check_args(args: argparse.Namespace) -> None:
    """Refuse bad numbers, a bad month and misnamed outputs before the model is built."""
    from doorstep.analysis.circuits.model import MonthCalendar

    if (args.lawyers is None) == (args.roster is None):
        raise InputError("give either --lawyers N or --roster FILE (one of the two)")
    if args.lawyers is not None and not 1 <= args.lawyers <= 500:
        raise InputError("--lawyers must be between 1 and 500")
    if args.visits < 0 or args.onsite <= 0 or args.min_gap < 0 or not args.max_drive > 0:
        raise InputError(
            "--visits >= 0, --onsite > 0, --min-gap >= 0 and --max-drive > 0 are required"
        )
    MonthCalendar.for_month(args.month)
    for flag, value in (("--xlsx", args.xlsx), ("--geojson", args.geojson), ("--out", args.out)):
        check_output_file(value, flag)
    check_output_folder(args.ics, "--ics")
    check_output_folder(args.print_dir, "--print")


def _write_files(args: argparse.Namespace, model: CountyModel, cm: CountyMonth) -> dict[str, Any]:
    from doorstep.analysis.circuits.county import road_path_function
    from doorstep.analysis.circuits.export import (
        routes_geojson,
        write_ics,
        write_ledger,
        write_routes_geojson,
    )

    plan, travel = cm.plan, cm.travel
    files: dict[str, Any] = {}
    if args.xlsx:
        files["xlsx"] = str(write_ledger(plan, args.xlsx))
    if args.ics:
        files["ics"] = [str(p) for p in write_ics(plan, Path(args.ics))]
    if not (args.geojson or args.print_dir):
        return files
    # The route lines (road geometry of every day route) are built once, for both outputs.
    road = None if args.straight else road_path_function(model, travel, plan)
    lines = routes_geojson(plan, travel.coords, road_path=road)
    if args.geojson:
        files["geojson"] = str(write_routes_geojson(lines, args.geojson))
    if args.print_dir:
        files["print"] = [str(p) for p in _write_printables(model, cm, lines, args.print_dir)]
    return files


def _write_printables(
    model: CountyModel, cm: CountyMonth, lines: dict[str, Any], folder: str
) -> list[Path]:
    """排班表 and route sheets into ``folder`` from the route ``lines``
    (:func:`analysis.circuits.export.routes_geojson`), all or nothing (a staging folder moved
    into place at the end, so Ctrl-C part-way keeps nothing)."""
    from doorstep.geo.atomic import staged_folder
    from doorstep.webmap.printables import PrintablePlan, write_printables

    pp = PrintablePlan.from_county_month(cm, model, lines)
    with staged_folder(folder) as stage:
        written = write_printables(pp, stage)
    return [Path(folder) / p.relative_to(stage) for p in written]


def _report(
    args: argparse.Namespace, model: CountyModel, cm: CountyMonth, files: dict[str, Any]
) -> dict[str, Any]:
    from doorstep.analysis.circuits.model import hhmm

    doc: dict[str, Any] = cm.plan.to_dict()
    doc["county"] = {"code": model.code, "name": model.name, "vintage": model.vintage}
    doc["lawyers"] = [
        {
            "id": lw.id,
            "name": lw.name,
            "base": lw.base,
            "mode": lw.mode,
            "shift": f"{hhmm(lw.shift_start)}–{hhmm(lw.shift_end)}",
            "lunch": f"{lw.lunch_minutes} min within {hhmm(lw.lunch_earliest)}–{hhmm(lw.lunch_latest)}",
            "max_drive_minutes": lw.max_drive_minutes,
        }
        for lw in cm.lawyers
    ]
    if cm.roster is not None:
        people = {a.name: a for a in cm.roster.advisers}
        for d in doc["lawyers"]:
            a = people[d["id"]]
            d.update(phone=a.phone, firm=a.firm, villages=list(a.villages))
        doc["roster"] = {"file": args.roster, "modelled": cm.roster.modelled}
    doc["carried_over"] = {"ledger": args.ledger, "notes": cm.notes} if args.ledger else None
    doc["files"] = files
    doc["quality"] = model.quality()
    return doc


def _print_plan(
    args: argparse.Namespace, model: CountyModel, cm: CountyMonth, files: dict[str, Any]
) -> None:
    plan = cm.plan
    w = sys.stdout.write
    w(
        f"{model.name} {plan.month}: {plan.scheduled_visits} of {plan.required_visits} visits scheduled "
        f"with {len(cm.lawyers)} lawyers ({args.mode})\n"
    )
    for r in plan.lawyer_summary():
        w(
            f"  {r['lawyer_id']} {r['lawyer']}: {r['visits']} visits on {r['days_out']} of {r['working_days']} days, "
            f"{r['drive_hours']} h driving, {r['km']} km\n"
        )
    for u in plan.unscheduled:
        w(f"  unscheduled: {u.reason}\n")
    for k, v in files.items():
        w(f"  wrote {k}: {v if isinstance(v, str) else f'{len(v)} files'}\n")
