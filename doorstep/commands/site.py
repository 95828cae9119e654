"""``doorstep site``: where new service points cover the most people 新增服务点选址."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from doorstep.geo._errors import InputError
from doorstep.geo.params import MODES, OBJECTIVES

from ._common import (
    add_ensemble_options,
    add_model_options,
    add_target_options,
    check_output_file,
    draws_from_args,
    emit_json,
    model_from_args,
    target_from_args,
)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("site", help="site new service points (MCLP/LSCP/p-median/p-center) 选址")
    s.add_argument("--objective", choices=OBJECTIVES, default="mclp")
    s.add_argument("--add", type=int, default=3, help="number of new sites (mclp/pmedian/pcenter)")
    s.add_argument("--mode", choices=MODES, help="travel mode of the times (car)")
    add_target_options(s, mode=False)
    s.add_argument(
        "--candidates",
        metavar="FILE",
        help="CSV/XLSX of candidate points code,name,lon,lat,crs[,cost]",
    )
    s.add_argument(
        "--budget",
        type=float,
        help="total opening budget (candidate 'cost' column, else 1 per site)",
    )
    s.add_argument(
        "--confirmed-only",
        action="store_true",
        help="exclude candidate villages whose point is imputed (待核实位置 location to be confirmed)",
    )
    s.add_argument(
        "--capacity",
        metavar="FILE|default",
        help="persons each point may serve: a table (CSV in UTF-8/GBK, or XLSX) id,capacity, "
        "or 'default' (1.5x an even share); reports each open point's load",
    )
    s.add_argument("--time-limit", type=float, default=60.0, help="seconds per MILP solve")
    s.add_argument("--no-curve", action="store_true", help="skip the marginal-value curve")
    s.add_argument("--json", action="store_true", help="print the JSON report")
    s.add_argument("--out", metavar="FILE", help="also write the JSON report to FILE")
    add_ensemble_options(s)
    add_model_options(s)
    s.set_defaults(func=cmd_site)


def cmd_site(args: argparse.Namespace) -> int:
    from doorstep.analysis.siting.county import (
        county_problem,
        site_capacities,
        site_report,
        solve_county,
    )
    from doorstep.geo.readers import read_candidates

    target = target_from_args(args)
    if args.add < 0:
        raise InputError("--add must be >= 0")
    draws = draws_from_args(args)
    check_output_file(args.out, "--out")
    model = model_from_args(args)
    cand = read_candidates(args.candidates, crs=args.crs) if args.candidates else None
    cs = county_problem(
        model,
        mode=target.mode,
        candidates=cand,
        budget=args.budget,
        confirmed_only=args.confirmed_only,
    )
    if args.capacity:
        cs = replace(
            cs, problem=replace(cs.problem, capacities=site_capacities(cs, args.capacity, args.add))
        )
    res = solve_county(
        cs,
        args.objective,
        add=args.add,
        target=target,
        time_limit=args.time_limit,
        curve=not args.no_curve,
    )
    doc = site_report(model, cs, res, args.objective, target)
    if draws:
        from doorstep.analysis.uncertainty import siting_ensemble

        doc["uncertainty"] = siting_ensemble(
            model,
            cs,
            res,
            args.objective,
            add=args.add,
            target=target,
            draws=draws,
            seed=args.seed,
            time_limit=args.time_limit,
        )
    if args.out:
        emit_json(doc, args.out)
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(f"{model.name} ({model.code}) 选址 siting — {args.objective}, {doc['threshold']}\n")
    w(
        f"status {res.status}"
        + ("" if res.optimal else f" (gap {res.gap:.2%}, bound {res.lower_bound:g})")
        + "\n"
    )
    if args.objective == "lscp":
        w(
            f"{doc['sites_needed_for_full_coverage']} points put everyone within the target "
            f"({len(doc['sites_opened'])} new + {doc['existing_sites']} existing)\n"
        )
    w(
        f"share meeting the target {doc['coverage_before']:.1%} -> {doc['coverage_after']:.1%}; "
        f"newly covered {doc['population_newly_covered']:,d} 人\n"
    )
    u = doc.get("uncertainty")
    stay = {s["code"]: s["stay_share"] for s in u["sites"]} if u else {}
    for s in doc["sites_opened"]:
        flag = "" if s["location_status"] == "confirmed" else f" [{s['location_status']}]"
        kept = f"  — optimal in {stay[s['code']]:.0%} of draws" if s["code"] in stay else ""
        w(f"  + {s['code']} {s['name']} ({s['township']}){flag}{kept}\n")
    if u:
        c = u["coverage_after"]
        w(
            f"不确定性 uncertainty: plan coverage p05 {c['p05']:.1%}, median {c['p50']:.1%} "
            f"over {u['draws']} draws ({u['note']})\n"
        )
    for row in doc["loads"]:
        cap = "" if row["capacity"] is None else f" / {row['capacity']:,.0f}"
        w(f"  load {row['id']} {row['name']}: {row['load']:,d}{cap} 人\n")
    for row in doc["marginal_curve"]:
        w(f"  k={row['k']}: {row['objective']:,.0f} ({row['status']})\n")
    modelled = doc["quality"].get("modelled_layers", [])
    if modelled:
        w(f"注意 modelled layers (not measured): {', '.join(modelled)}\n")
    return 0
