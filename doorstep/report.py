"""Renderers of a :class:`doorstep.job.JobResult`: the bilingual ``report.md``, the ``run.json``
manifest and the command line's closing summary. They compute nothing; every figure comes from
the result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .job import JobResult


def run_manifest(result: JobResult) -> dict[str, Any]:
    """The ``run.json`` manifest: county, target, figures with units, files, timings, quality."""
    model, target = result.model, result.target
    return {
        "county": {"code": model.code, "name": model.name, "vintage": model.vintage},
        "generated": result.generated,
        "target": {
            "mode": target.mode,
            "rural_minutes": target.rural_minutes,
            "urban_minutes": target.urban_minutes,
        },
        "figures": result.figures,
        "files": list(result.files),
        "atlas": str(result.atlas),
        "seconds": result.seconds,
        "quality": result.quality,
        "assumptions": list(result.assumptions),
    }


def render_report_md(result: JobResult) -> str:
    """The bilingual Markdown report of a job (``report.md``)."""
    lines = _coverage_section(result) + _gaps_section(result)
    lines += _siting_section(result) + _circuits_section(result)
    lines += [
        "## 假设与数据质量 Assumptions and input quality",
        "",
        *[f"- {a}" for a in result.assumptions],
        "",
        "Layers marked modelled are estimates from the parameters in `data/params/`, not "
        "measurements; replace them with official files (`--townships`, `--population`, "
        "`--roads`, ...) when available.",
        "",
    ]
    return "\n".join(lines)


def _coverage_section(result: JobResult) -> list[str]:
    model, t, f = result.model, result.target, result.figures
    c = f["coverage"]
    return [
        f"# {model.name} 家门口法律服务规划 报告 / Doorstep report",
        "",
        f"County {model.code}, village list {model.vintage}; generated {result.generated} "
        "by `doorstep run`.",
        "",
        "## 覆盖 Coverage",
        "",
        f"目标 Target: rural ≤ {t.rural_minutes:g} min, urban ≤ {t.urban_minutes:g} min "
        f"by {t.mode}.",
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
    ]


def _gaps_section(result: JobResult) -> list[str]:
    t, f = result.target, result.figures
    lines = [
        "## 服务盲区 Underserved",
        "",
        f"{f['underserved_villages']} villages ({f['underserved_population']:,} persons) are "
        f"beyond the target (rural villages over {t.rural_minutes:g} min, urban "
        f"communities over {t.urban_minutes:g} min; list with reasons: "
        "`gaps/gaps_villages.csv`).",
        "",
    ]
    if f["critical_links"]:
        lines += ["Critical road links (persons losing coverage if closed):", ""]
        lines += [f"- {x['name']}: {x['population_losing']:,}" for x in f["critical_links"]]
        lines.append("")
    return lines


def _siting_section(result: JobResult) -> list[str]:
    s = result.figures.get("siting")
    if not s:
        return []
    return [
        "## 选址 Siting (MCLP)",
        "",
        f"New sites: {', '.join(s['sites'])}. Coverage {s['coverage_before']:.1%} → "
        f"{s['coverage_after']:.1%} (+{s['population_newly_covered']:,} persons); "
        f"solver status {s['status']}, gap {s['gap']}.",
        "",
    ]


def _circuits_section(result: JobResult) -> list[str]:
    month, ci = result.month, result.figures["circuits"]
    return [
        f"## 巡回 Lawyer circuits {month}",
        "",
        f"{ci['scheduled']} of {ci['required']} visits scheduled for {ci['lawyers']} lawyers, "
        f"{ci['drive_hours']} h of driving; visits per lawyer {ci['visits_per_lawyer']}.",
        *[f"- unscheduled: {r}" for r in ci["unscheduled"]],
        "",
        f"Ledger 台账: `circuits/ledger-{month}.xlsx`; calendars: `circuits/ics/`; "
        "map: `site/index.html`.",
        "",
    ]


def render_summary_text(result: JobResult) -> str:
    """The few lines ``doorstep run`` prints when the job is done."""
    f, out, month = result.figures, result.out, result.month
    cov = f["coverage"]
    shares = " / ".join(f"{s:.1%}" for s in cov["share_within"])
    bands = " / ".join(f"{b:g}" for b in cov["breaks_minutes"])
    lines = [
        f"{result.model.name} ({result.model.code}) — 全部成果 all outputs in {out}/",
        f"  覆盖 coverage ({cov['mode']}): {shares} of {f['population']:,} people within "
        f"{bands} min",
        f"  盲区 underserved villages beyond target: {f['underserved_villages']}",
    ]
    if f.get("siting"):
        s = f["siting"]
        lines.append(
            f"  选址 +{len(s['sites'])} sites ({', '.join(s['sites'])}): coverage "
            f"{s['coverage_before']:.1%} → {s['coverage_after']:.1%} ({s['status']})"
        )
    c = f["circuits"]
    lines += [
        f"  巡回 circuits {month}: {c['scheduled']}/{c['required']} visits, "
        f"{c['lawyers']} lawyers, {c['drive_hours']} h driving",
        f"  地图 atlas: {result.atlas}   报告 report: {out / 'report.md'}",
        f"  (took {result.seconds['total']} s)",
    ]
    return "\n".join(lines) + "\n"
