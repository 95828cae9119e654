"""``doorstep coverage`` and ``doorstep gaps``: travel-time coverage and underserved areas."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ._common import (
    add_ensemble_options,
    add_model_options,
    add_target_options,
    check_output_folder,
    draws_from_args,
    emit_json,
    model_from_args,
    staged_output,
    target_from_args,
)

if TYPE_CHECKING:
    import pandas as pd


def _add_target_options(p: argparse.ArgumentParser) -> None:
    add_target_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--out", metavar="DIR", help="also write GeoPackage/CSV/JSON files here")
    add_ensemble_options(p)
    add_model_options(p)


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "coverage", help="who reaches a staffed service point in 15/30/60 min 服务圈覆盖"
    )
    _add_target_options(c)
    c.add_argument(
        "--service",
        metavar="CODE",
        help="times to the nearest point open for this service (codes in "
        "data/params/services.toml: consultation, legal_aid, mediation, correction, publicity); "
        "default: any point counting for coverage",
    )
    c.set_defaults(func=cmd_coverage)
    g = sub.add_parser(
        "gaps", help="underserved villages and grid cells, equity, critical roads 服务盲区"
    )
    _add_target_options(g)
    g.add_argument("--cell", type=float, default=500.0, help="grid cell size (m)")
    g.add_argument("--top", type=int, default=20, help="rows of the ranked lists to print")
    g.set_defaults(func=cmd_gaps)


def cmd_coverage(args: argparse.Namespace) -> int:
    from doorstep.analysis.gaps import MODE_ZH
    from doorstep.geo.services import service_rules
    from doorstep.outputs import coverage_outputs

    target, draws = target_from_args(args), draws_from_args(args)
    if args.service is not None:
        service_rules().service(args.service)  # an unknown code fails before the model is built
    check_output_folder(args.out, "--out")
    model = model_from_args(args)
    with staged_output(args.out) as out:
        res, doc = coverage_outputs(model, target, out, draws, args.seed, args.service)
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(f"{model.name} ({model.code}) 公共法律服务圈覆盖 coverage — vintage {model.vintage}\n")
    svc = res.meta["service"]
    if svc["code"]:
        w(f"服务 service: {svc['name_zh']} {svc['name_en']} ({svc['points']} points)\n")
        if svc["note"]:
            w(f"  注意 {svc['note']}\n")
    w(f"目标 {target.describe()} ({MODE_ZH[target.mode]})\n")
    w("人口比例 population share within 15 / 30 / 60 min:\n")
    for _, r in res.county.iterrows():
        w(
            f"  {r['mode']:10s} {r['share_within_15']:6.1%} {r['share_within_30']:6.1%} "
            f"{r['share_within_60']:6.1%}   mean {r['mean_min']:.1f} min, p90 {r['p90_min']:.1f}\n"
        )
        if draws:
            w(f"  {'':10s} 5–95 %: {_ranges(r)}\n")
    w(f"乡镇 townships ({target.mode}):\n")
    t = res.townships[res.townships["mode"] == target.mode]
    for _, r in t.iterrows():
        flag = "达标 OK " if r["complies"] else "未达标 NO"
        w(
            f"  {r['town_name']:8s} {r['population']:7,d} 人  ≤15 {r['share_within_15']:6.1%}  "
            f"≤30 {r['share_within_30']:6.1%}  ≤60 {r['share_within_60']:6.1%}  "
            f"p90 {r['p90_min']:5.1f} min  {flag}\n"
        )
        if draws:
            w(f"  {'':8s} 5–95 %: {_ranges(r)}\n")
    if draws:
        _write_uncertainty(w, res.meta["uncertainty"])
    modelled = res.meta["quality"].get("modelled_layers", [])
    if modelled:
        w(f"注意 modelled layers (not measured): {', '.join(modelled)}\n")
    return 0


def _ranges(r: pd.Series) -> str:
    keys = [c[: -len("_p05")] for c in r.index if c.startswith("share_") and c.endswith("_p05")]
    parts = [f"{k.removeprefix('share_')} {r[k + '_p05']:.1%}–{r[k + '_p95']:.1%}" for k in keys]
    return ", ".join(parts) + f"; mean {r['mean_min_p05']:.1f}–{r['mean_min_p95']:.1f} min"


def _write_uncertainty(w: Any, u: dict[str, Any]) -> None:
    w(f"不确定性 uncertainty: {u['draws']} draws, seed {u['seed']} ({u['params_source']})\n")
    w("  敏感性 one-at-a-time sensitivity (county share meeting the target):\n")
    for r in u["sensitivity"][:6]:
        w(
            f"    {r['parameter']:32s} {r['share_at_low']:6.1%} .. {r['share_at_high']:6.1%}"
            f"  (swing {r['swing']:.1%})\n"
        )
    for o in u.get("nominal_outside_range", []):
        w(
            f"  注意 nominal {o['figure']} ({o['mode']}, {o['where']}) = {o['nominal']:.3g} is "
            f"{o['nominal_is']} {o['p05']:.3g}–{o['p95']:.3g} (a best/worst case, not typical)\n"
        )


def cmd_gaps(args: argparse.Namespace) -> int:
    from doorstep.geo.villages import TO_CONFIRM
    from doorstep.outputs import gaps_outputs

    target, draws = target_from_args(args), draws_from_args(args)
    check_output_folder(args.out, "--out")
    model = model_from_args(args)
    with staged_output(args.out) as out:
        vill, cells, links, eq, doc = gaps_outputs(
            model, target, out, args.cell, args.top, draws, args.seed
        )
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(
        f"{model.name} 服务盲区 underserved villages beyond {target.rural_minutes:g} min (rural) / "
        f"{target.urban_minutes:g} min (urban) by {target.mode}: {len(vill)}\n"
    )
    for _, r in vill.head(args.top).iterrows():
        tag = f" [{TO_CONFIRM}]" if r.get("point_imputed", False) else ""
        w(
            f"  {r['rank']:3d}. {r['name']}{tag} ({r['population']:,} 人): {r['reason_zh']}\n"
            f"       {r['reason_en']}\n"
        )
        if draws:
            w(f"       P(miss) {r['p_miss']:.0%} — {r['gap_class']}\n")
    if draws:
        u = doc["uncertainty"]
        w(f"不确定性 uncertainty ({u['draws']} draws, seed {u['seed']}): {u['class_counts']}\n")
    w(
        f"网格 grid cells ({args.cell:g} m) beyond the target: {len(cells)} "
        f"(≈{cells.attrs.get('population_share_underserved', 0):.1%} of the population, modelled)\n"
    )
    m = eq["modes"][target.mode]
    w(
        f"公平 equity: Gini of travel time {m['gini_travel_time']:.3f}; 65+ beyond target ≈ "
        f"{m['persons65_beyond_target']} persons\n"
    )
    w("关键路段 critical road links (population losing coverage if closed):\n")
    for _, r in links.head(10).iterrows():
        if r["population_losing"] <= 0:
            break
        w(
            f"  edge {r['edge_id']} ({r['name'] or r['road_class']}, {r['length_m'] / 1000:.1f} km"
            f"{', bridge' if r['is_bridge'] else ''}): {r['population_losing']:,} persons\n"
        )
    return 0
