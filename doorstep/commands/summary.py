"""``doorstep summary``, ``doorstep check`` and ``doorstep export``: the county model itself."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import add_model_options, check_output_file, emit_json, model_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="build the county model and print its summary 模型概况")
    add_model_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_summary)

    c = sub.add_parser(
        "check",
        help="data-quality report 数据质量检查 (suspect geocodes, imputed points, modelled layers)",
    )
    add_model_options(c)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("export", help="write every layer to one GeoPackage 导出")
    e.add_argument("out", help="output .gpkg file")
    add_model_options(e)
    e.set_defaults(func=cmd_export)


def cmd_summary(args: argparse.Namespace) -> int:
    model = model_from_args(args)
    s: dict[str, Any] = model.summary()
    if args.json:
        emit_json(s)
        return 0
    w = sys.stdout.write
    w(
        f"{s['county']['name']} ({s['county']['code']}) — 县域模型概况 county model summary, vintage {s['vintage']}\n"
    )
    w(f"  乡镇 townships: {s['townships']}   村/社区 villages: {s['villages']}\n")
    w(f"  人口 population: {s['population']:,} (2020 census residents)\n")
    w(f"  面积 area: {s['area_km2']:,} km²   metric CRS: {s['crs']['metric']}\n")
    w(f"  服务点 service points: {s['service_points']}\n")
    r = s["roads"]
    w(
        f"  道路 roads: {r['nodes']} nodes, {r['edges']} edges, {r['km']} km = "
        f"真实 real {r['real_km']} km + 模拟 modelled {r['modelled_km']} km "
        f"(inside the county: real {r['inside_county_km']['real']} km, "
        f"modelled {r['inside_county_km']['modelled']} km)\n"
    )
    w("  乡镇驻地 township seats (source; distance to the second source):\n")
    for t in s["seats"]:
        d = t["distance_between_sources_km"]
        other = f"{d:.2f} km from the second source" if d is not None else "no second source"
        w(f"    {t['name']:6s} {t['source']}; {other}\n")
    w("  乡镇人口 township population (source):\n")
    for t in s["township_population"]:
        w(f"    {t['name']:6s} {t['population']:>7,}  {t['population_source']}\n")
    w("  图层 layers (real 真实 / modelled 模拟):\n")
    for name, info in s["quality"]["layers"].items():
        tag = "模拟 MODELLED" if info["modelled"] else "真实 real"
        w(f"    {name:15s} {tag:14s} {info['source']}\n")
    w(f"  村点位质量 village location quality: {s['quality']['village_location_quality']}\n")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from doorstep.geo.validate import quality_report

    model = model_from_args(args)
    rows = quality_report(model)
    if args.json:
        emit_json(
            {"county": model.code, "vintage": model.vintage, "issues": rows, "count": len(rows)}
        )
        return 0
    for r in rows:
        sys.stdout.write(f"{r['level']:7s} {r['layer']:14s} {r['item']:24s} {r['message']}\n")
    sys.stdout.write(
        f"{len(rows)} item(s); the model is valid (errors would have stopped the build)\n"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from doorstep.geo.export import export_geopackage

    check_output_file(args.out, "export OUT")
    model = model_from_args(args)
    path = export_geopackage(model, args.out)
    sys.stdout.write(f"wrote {path}\n")
    return 0
