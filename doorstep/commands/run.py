"""``doorstep run``: the whole job for one county, in one folder 一键生成全部成果.

model → coverage → underserved areas → siting proposal → next month's circuits → atlas, each
step's files written atomically under ``--out``, then a bilingual report (``report.md``) and a
manifest (``run.json``) that carry the figures with their units, assumptions and input quality.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path
from typing import Any

from doorstep.analysis.coverage import CoverageTarget
from doorstep.geo._errors import InputError
from doorstep.geo.params import MODES, check_minutes

from ._common import add_model_options, emit_json, model_from_args, write_text_atomic

log = logging.getLogger(__name__)

STEPS = 7


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "run",
        help="the whole job: model, coverage, gaps, siting, circuits, atlas 一键运行",
    )
    r.add_argument("--out", default="out", help="output folder (default: out/)")
    r.add_argument("--mode", choices=MODES, default="car", help="travel mode of the targets")
    r.add_argument("--minutes", type=float, default=30.0, help="rural target (minutes)")
    r.add_argument("--urban-minutes", type=float, default=15.0, help="urban target (minutes)")
    r.add_argument("--add", type=int, default=3, help="new sites to propose (MCLP, default 3)")
    r.add_argument("--lawyers", type=int, default=8, help="lawyers for the circuits (default 8)")
    r.add_argument("--month", help="month of circuits, YYYY-MM (default: next month)")
    r.add_argument(
        "--basemap",
        choices=["none", "osm", "tianditu", "amap"],
        default="none",
        help="atlas background tiles (default none: works offline)",
    )
    r.add_argument("--time-limit", type=float, default=60.0, help="seconds per MILP solve")
    r.add_argument(
        "--no-serve",
        dest="serve",
        action="store_false",
        help="stop after writing the outputs (default: then serve the web app)",
    )
    r.add_argument("--host", default="127.0.0.1", help="web app interface (default 127.0.0.1)")
    r.add_argument("--port", type=int, default=8080, help="web app port (default 8080)")
    r.add_argument("--instance", metavar="DIR", help="web app instance folder (default ./instance)")
    add_model_options(r)
    r.set_defaults(func=cmd_run)


def next_month(today: dt.date | None = None) -> str:
    """``YYYY-MM`` of the month after ``today``."""
    d = today or dt.date.today()
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return f"{y:04d}-{m:02d}"


class _Progress:
    """``[i/7] step ... 1.2 s`` lines on stderr (the log), one per step."""

    def __init__(self) -> None:
        self.i = 0
        self.t = time.perf_counter()
        self.times: dict[str, float] = {}

    def step(self, what: str) -> None:
        self.i += 1
        self.t = time.perf_counter()
        self.name = what
        log.info("[%d/%d] %s ...", self.i, STEPS, what)

    def done(self, detail: str = "") -> None:
        s = time.perf_counter() - self.t
        self.times[self.name] = round(s, 2)
        log.info("[%d/%d] %s: done in %.1f s %s", self.i, STEPS, self.name, s, detail)


def cmd_run(args: argparse.Namespace) -> int:
    from doorstep.analysis.circuits.county import plan_county_month, road_path_function
    from doorstep.analysis.circuits.export import (
        routes_geojson,
        write_ics,
        write_json,
        write_ledger,
    )
    from doorstep.analysis.circuits.model import MonthCalendar
    from doorstep.analysis.siting.county import county_problem, site_report, solve_county
    from doorstep.geo.export import export_geopackage
    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.layers import collect_layers
    from doorstep.webmap.results import routes_layer, sites_from_report

    from .coverage import coverage_outputs, gaps_outputs

    check_minutes(args.minutes, "--minutes")
    check_minutes(args.urban_minutes, "--urban-minutes")
    if not 0 <= args.add <= 50:
        raise InputError("--add must be between 0 and 50")
    if not 1 <= args.lawyers <= 500:
        raise InputError("--lawyers must be between 1 and 500")
    if args.serve:
        check_port_free(args.host, args.port)
    month = args.month or next_month()
    MonthCalendar.for_month(month)  # a bad month fails before any work
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pr = _Progress()

    pr.step("county model 县域模型")
    model = model_from_args(args)
    summary = model.summary()
    export_geopackage(model, out / "model.gpkg")
    emit_json(summary, str(out / "summary.json"))
    pr.done(f"({len(model.villages)} villages)")

    target = CoverageTarget(
        mode=args.mode, rural_minutes=args.minutes, urban_minutes=args.urban_minutes
    )
    pr.step("coverage 服务圈覆盖")
    (out / "coverage").mkdir(exist_ok=True)
    cov, _cov_doc = coverage_outputs(model, target, out / "coverage")
    pr.done()

    pr.step("underserved areas 服务盲区")
    (out / "gaps").mkdir(exist_ok=True)
    vill, _cells, links, eq, _gdoc = gaps_outputs(model, target, out / "gaps")
    pr.done(f"({len(vill)} villages beyond target)")

    pr.step("siting proposal 新增服务点选址 (MCLP)")
    site_doc: dict[str, Any] | None = None
    if args.add:
        cs = county_problem(model, mode=args.mode)
        res = solve_county(
            cs, "mclp", add=args.add, minutes=args.minutes, time_limit=args.time_limit
        )
        site_doc = site_report(model, cs, res, "mclp", args.minutes)
        emit_json(site_doc, str(out / "siting.json"))
    pr.done()

    pr.step(f"circuits {month} 律师巡回")
    cm = plan_county_month(model, month, n_lawyers=args.lawyers, mode=_circuit_mode(args.mode))
    cdir = out / "circuits"
    cdir.mkdir(exist_ok=True)
    write_ledger(cm.plan, cdir / f"ledger-{month}.xlsx")
    write_ics(cm.plan, cdir / "ics")
    road = road_path_function(model, cm.travel, cm.plan)
    lines = routes_geojson(cm.plan, cm.travel.coords, road)
    write_json(lines, cdir / f"routes-{month}.geojson")
    routes = routes_layer(lines)
    circ_doc = cm.plan.to_dict()
    emit_json(circ_doc, str(cdir / f"plan-{month}.json"))
    pr.done(f"({cm.plan.scheduled_visits}/{cm.plan.required_visits} visits)")

    pr.step("atlas 地图")
    proposed = (
        sites_from_report(site_doc, f"MCLP k={args.add}, ≤{args.minutes:g} min", site_doc["status"])
        if site_doc
        else None
    )
    layers = collect_layers(model, args.mode, proposed=proposed, routes=routes)
    pages = build_atlas(model, layers, out / "site", basemap=args.basemap)
    pr.done()

    pr.step("report 报告")
    figures = _figures(model, cov, target, vill, links, eq, site_doc, cm)
    seconds = {**pr.times, "total": round(time.perf_counter() - t0, 1)}
    manifest: dict[str, Any] = {
        "county": {"code": model.code, "name": model.name, "vintage": model.vintage},
        "generated": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "target": {
            "mode": args.mode,
            "rural_minutes": args.minutes,
            "urban_minutes": args.urban_minutes,
        },
        "figures": figures,
        "files": sorted(
            {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
            | {"report.md", "run.json"}
        ),
        "atlas": str(pages[0]),
        "seconds": seconds,
        "quality": model.quality(),
        "assumptions": _assumptions(model, target, cm),
    }
    write_text_atomic(out / "report.md", _report_md(model, manifest, month))
    emit_json(manifest, str(out / "run.json"))
    pr.done()

    w = sys.stdout.write
    f = figures
    w(f"{model.name} ({model.code}) — 全部成果 all outputs in {out}/\n")
    w(
        f"  覆盖 coverage ({args.mode}): {f['coverage']['share_within'][0]:.1%} / "
        f"{f['coverage']['share_within'][1]:.1%} / {f['coverage']['share_within'][2]:.1%} "
        f"of {f['population']:,} people within 15 / 30 / 60 min\n"
    )
    w(f"  盲区 underserved villages beyond target: {f['underserved_villages']}\n")
    if f.get("siting"):
        s = f["siting"]
        w(
            f"  选址 +{len(s['sites'])} sites ({', '.join(s['sites'])}): coverage "
            f"{s['coverage_before']:.1%} → {s['coverage_after']:.1%} ({s['status']})\n"
        )
    c = f["circuits"]
    w(
        f"  巡回 circuits {month}: {c['scheduled']}/{c['required']} visits, "
        f"{c['lawyers']} lawyers, {c['drive_hours']} h driving\n"
    )
    w(f"  地图 atlas: {pages[0]}   报告 report: {out / 'report.md'}\n")
    w(f"  (took {seconds['total']} s)\n")
    if not args.serve:
        w("  web app: doorstep serve\n")
        return 0
    return _serve(args)


def check_port_free(host: str, port: int) -> None:
    """Fail before any work if the web app could not listen on ``host:port``."""
    import socket

    if not 1 <= port <= 65535:
        raise InputError(f"--port must be 1..65535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"cannot serve on {host}:{port} ({exc.strerror}); pass --port with a free port "
                "or --no-serve"
            ) from exc


def _serve(args: argparse.Namespace) -> int:
    from .serve import cmd_serve

    replaced = [
        o
        for o in ("boundary", "townships", "villages", "population", "service_points", "roads")
        if getattr(args, o, None)
    ]
    if replaced:
        log.warning(
            "the web app uses the default layers (vintage/data only); %s files are not loaded "
            "into it",
            ", ".join(replaced),
        )
    ns = argparse.Namespace(
        host=args.host,
        port=args.port,
        threads=8,
        instance=None,
        vintage=args.vintage,
        data=args.data,
    )
    return cmd_serve(ns)


def _circuit_mode(mode: str) -> str:
    return mode if mode in ("car", "motorbike") else "car"


def _figures(
    model: Any,
    cov: Any,
    target: CoverageTarget,
    vill: Any,
    links: Any,
    eq: dict[str, Any],
    site_doc: dict[str, Any] | None,
    cm: Any,
) -> dict[str, Any]:
    row = cov.county[cov.county["mode"] == target.mode].iloc[0]
    shares = [float(row[f"share_within_{b:g}"]) for b in target.breaks]
    t = cov.townships[cov.townships["mode"] == target.mode]
    crit = links[links["population_losing"] > 0].head(5)
    summ = cm.plan.lawyer_summary()
    out: dict[str, Any] = {
        "population": int(model.villages["population"].sum()),
        "villages": len(model.villages),
        "coverage": {
            "mode": target.mode,
            "breaks_minutes": list(target.breaks),
            "share_within": shares,
            "mean_minutes": round(float(row["mean_min"]), 1),
            "p90_minutes": round(float(row["p90_min"]), 1),
            "townships_complying": int(t["complies"].sum()),
            "townships": len(t),
        },
        "underserved_villages": len(vill),
        "underserved_population": int(vill["population"].sum()) if len(vill) else 0,
        "gini_travel_time": eq["modes"][target.mode]["gini_travel_time"],
        "critical_links": [
            {
                "name": str(r["name"] or r["road_class"]),
                "population_losing": int(r["population_losing"]),
            }
            for _, r in crit.iterrows()
        ],
        "circuits": {
            "month": cm.plan.month,
            "lawyers": len(cm.lawyers),
            "required": cm.plan.required_visits,
            "scheduled": cm.plan.scheduled_visits,
            "unscheduled": [u.reason for u in cm.plan.unscheduled],
            "drive_hours": round(sum(r["drive_hours"] for r in summ), 1),
            "visits_per_lawyer": [r["visits"] for r in summ],
        },
        "units": {"population": "persons", "time": "minutes", "share": "fraction 0–1"},
    }
    if site_doc:
        out["siting"] = {
            "objective": "mclp",
            "status": site_doc["status"],
            "gap": site_doc["gap"],
            "sites": [s["name"] for s in site_doc["sites_opened"]],
            "population_newly_covered": site_doc["population_newly_covered"],
            "coverage_before": site_doc["coverage_before"],
            "coverage_after": site_doc["coverage_after"],
        }
    return out


def _assumptions(model: Any, target: CoverageTarget, cm: Any) -> list[str]:
    q = model.quality()
    modelled = q.get("modelled_layers", [])
    return [
        f"modelled layers (not measured): {', '.join(modelled) if modelled else 'none'}",
        "village points by location quality: "
        + ", ".join(f"{k} {v}" for k, v in q.get("village_location_quality", {}).items()),
        *[f"warning: {x}" for x in q.get("warnings", [])],
        f"target: rural ≤ {target.rural_minutes:g} min, urban ≤ {target.urban_minutes:g} min "
        f"by {target.mode} to the nearest staffed point",
        "travel times on the road network with access legs (snap to the nearest edge, walked)",
        *[f"circuits: {k}: {v}" for k, v in cm.plan.assumptions.items()],
    ]


def _report_md(model: Any, m: dict[str, Any], month: str) -> str:
    f = m["figures"]
    c = f["coverage"]
    lines = [
        f"# {model.name} 家门口法律服务规划 报告 / Doorstep report",
        "",
        f"County {model.code}, village list {model.vintage}; generated {m['generated']} "
        "by `doorstep run`.",
        "",
        "## 覆盖 Coverage",
        "",
        f"目标 Target: rural ≤ {m['target']['rural_minutes']:g} min, urban ≤ "
        f"{m['target']['urban_minutes']:g} min by {m['target']['mode']}.",
        "",
        "| 时间圈 band (min) | 人口比例 population share |",
        "|---|---|",
        *[
            f"| ≤ {b:g} | {s:.1%} |"
            for b, s in zip(c["breaks_minutes"], c["share_within"], strict=True)
        ],
        "",
        f"Mean travel time {c['mean_minutes']} min, 90th percentile {c['p90_minutes']} min; "
        f"{c['townships_complying']} of {c['townships']} townships meet the target. "
        f"Gini of travel time {f['gini_travel_time']:.3f}.",
        "",
        "## 服务盲区 Underserved",
        "",
        f"{f['underserved_villages']} villages ({f['underserved_population']:,} persons) are "
        f"beyond the target (rural villages over {m['target']['rural_minutes']:g} min, urban "
        f"communities over {m['target']['urban_minutes']:g} min; list with reasons: "
        "`gaps/gaps_villages.csv`).",
        "",
    ]
    if f["critical_links"]:
        lines += ["Critical road links (persons losing coverage if closed):", ""]
        lines += [f"- {x['name']}: {x['population_losing']:,}" for x in f["critical_links"]]
        lines.append("")
    if f.get("siting"):
        s = f["siting"]
        lines += [
            "## 选址 Siting (MCLP)",
            "",
            f"New sites: {', '.join(s['sites'])}. Coverage {s['coverage_before']:.1%} → "
            f"{s['coverage_after']:.1%} (+{s['population_newly_covered']:,} persons); "
            f"solver status {s['status']}, gap {s['gap']}.",
            "",
        ]
    ci = f["circuits"]
    lines += [
        f"## 巡回 Lawyer circuits {month}",
        "",
        f"{ci['scheduled']} of {ci['required']} visits scheduled for {ci['lawyers']} lawyers, "
        f"{ci['drive_hours']} h of driving; visits per lawyer {ci['visits_per_lawyer']}.",
        *[f"- unscheduled: {r}" for r in ci["unscheduled"]],
        "",
        f"Ledger 台账: `circuits/ledger-{month}.xlsx`; calendars: `circuits/ics/`; "
        "map: `site/index.html`.",
        "",
        "## 假设与数据质量 Assumptions and input quality",
        "",
        *[f"- {a}" for a in m["assumptions"]],
        "",
        "Layers marked modelled are estimates from the parameters in `data/params/`, not "
        "measurements; replace them with official files (`--townships`, `--population`, "
        "`--roads`, ...) when available.",
        "",
    ]
    return "\n".join(lines)
