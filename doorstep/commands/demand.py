"""``doorstep demand``: the county's demand figures against capacity (Erlang C queue at the
county centre, load per point, 2SFCA accessibility); parameters in data/params/demand.toml."""

from __future__ import annotations

import argparse
import sys

from ._common import add_model_options, emit_json, model_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demand", help="demand vs capacity: the centre's queue, load per point 需求与容量"
    )
    p.add_argument("--mode", choices=("walk", "motorbike", "car"), help="travel mode (car)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--top", type=int, default=5, help="points to list by load")
    add_model_options(p)
    p.set_defaults(func=cmd_demand)


def cmd_demand(args: argparse.Namespace) -> int:
    from doorstep.analysis.demand import demand_capacity

    model = model_from_args(args)
    d = demand_capacity(model, mode=args.mode)
    if args.json:
        emit_json(d.to_dict())
        return 0
    w = sys.stdout.write
    q = d.queue
    w(
        f"{model.name} 县公共法律服务中心 county centre: {q.windows} windows, "
        f"{q.service_min:.1f} min per visit, capacity {q.capacity_per_hour:.1f} visits/h\n"
    )
    w("  year  visits/h  utilisation  P(wait)  mean wait\n")
    for y in q.years:
        wait = f"{y.wait_min:8.1f} min" if y.wait_min != float("inf") else "  saturated"
        w(
            f"  {y.year}  {y.arrivals_per_hour:8.2f}  {y.utilisation:11.0%}  {y.p_wait:7.1%} {wait}\n"
        )
    sat = q.saturation_year
    w(f"  窗口饱和 windows saturate: {sat if sat is not None else 'never at this growth'}\n")
    w("负荷 load per point (staff hours needed / staffed, a year):\n")
    for _, r in d.points.head(args.top).iterrows():
        w(
            f"  {r['name']}: {r['hours_needed_per_year']:.0f} / {r['hours_staffed_per_year']:.0f} h"
            f" ({r['utilisation']:.1%})\n"
        )
    a = d.meta["accessibility"]
    w(
        f"2SFCA ({a['mode']}, {a['catchment_min']:g} min, {a['decay']}): mean "
        f"{a['mean_hours_per_1000']:.1f} staffed h/month per 1,000 residents; "
        f"{a['population_share_without_access']:.1%} of the population without access\n"
    )
    for line in d.meta["assumptions"]:
        w(f"  假设 {line}\n")
    return 0
