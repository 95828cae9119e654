"""Renderers of a :class:`doorstep.job.JobResult`: the bilingual ``report.md``, the ``run.json``
manifest and the command line's closing summary (the printable ``report.html``/``report.pdf``:
:mod:`doorstep.report_charts` and :mod:`webmap.report_html`). They compute nothing; every figure comes from
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
        "uncertainty": result.uncertainty,
        "validation": result.checks,
        "services": {
            "coverage_county": result.services.county,
            "demand": result.services.demand,
        },
        "files": list(result.files),
        "atlas": str(result.atlas),
        "seconds": result.seconds,
        "ensemble": {"draws": result.options.draws, "seed": result.options.seed},
        "quality": result.quality,
        "assumptions": list(result.assumptions),
        "charts": result.charts,
        "warnings": list(result.warnings),
    }


def render_report_md(result: JobResult) -> str:
    """The bilingual Markdown report of a job (``report.md``)."""
    lines = _coverage_section(result) + _outside_lines(result)
    lines += _township_section(result) + _gaps_section(result)
    lines += _siting_section(result) + _sensitivity_section(result)
    lines += _services_section(result)
    lines += _validation_section(result) + _circuits_section(result)
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


def _pct_range(r: dict[str, Any] | None) -> str:
    """``"91.2–97.0 %"`` of a ``{value, p05, p95}`` share figure (``—`` without a range)."""
    if not r or r.get("p05") is None or r.get("p95") is None:
        return "—"
    return f"{100 * r['p05']:.1f}–{100 * r['p95']:.1f} %"


def _min_range(r: dict[str, Any] | None) -> str:
    """``"12.1–15.3 min"`` of a ``{value, p05, p95}`` time figure (``—`` without a range)."""
    if not r or r.get("p05") is None or r.get("p95") is None:
        return "—"
    return f"{r['p05']:.1f}–{r['p95']:.1f} min"


def county_ranges(result: JobResult) -> dict[str, Any]:
    """The county row of the target mode in ``run.json``'s uncertainty block (``{}``: none)."""
    u = result.uncertainty
    if not u:
        return {}
    rows = [r for r in u["county"] if r["mode"] == result.target.mode]
    return rows[0] if rows else {}


def township_ranges(result: JobResult) -> dict[str, dict[str, Any]]:
    """The township rows of the target mode in ``run.json``'s uncertainty block, by town code
    (``{}``: no ensemble)."""
    mode = result.target.mode
    return {
        str(r["town_code"]): r
        for r in (result.uncertainty or {}).get("townships", [])
        if r["mode"] == mode
    }


def _coverage_section(result: JobResult) -> list[str]:
    model, t, f = result.model, result.target, result.figures
    c = f["coverage"]
    rng = county_ranges(result)
    u = result.uncertainty
    note = (
        f"范围 Range: 5–95 % of {u['draws']} draws of the modelled inputs (seed {u['seed']}; "
        "模拟 modelled, see `uncertainty.json`)."
        if u
        else "No ranges: the ensemble was off (`--draws 0`)."
    )
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
        "| 时间圈 band (min) | 人口比例 population share | 范围 range (5–95 %) |",
        "|---|---|---|",
        *[
            f"| ≤ {b:g} | {s:.1%} | {_pct_range(rng.get(f'share_within_{b:g}'))} |"
            for b, s in zip(c["breaks_minutes"], c["share_within"], strict=True)
        ],
        f"| 达标 meeting the target | {_value(rng.get('share_meeting_target'))} "
        f"| {_pct_range(rng.get('share_meeting_target'))} |",
        "",
        note,
        "",
        f"Mean travel time {c['mean_minutes']} min (range "
        f"{_min_range(rng.get('mean_min'))}), 90th percentile {c['p90_minutes']} min; "
        f"{c['townships_complying']} of {c['townships']} townships meet the target. "
        f"Gini of travel time {f['gini_travel_time']:.3f}.",
        "",
    ]


def _outside_lines(result: JobResult) -> list[str]:
    """Figures whose nominal value lies outside its range (a best or worst case, said so)."""
    rows = (result.uncertainty or {}).get("nominal_outside_range", [])
    if not rows:
        return []

    def fmt(x: float, figure: str) -> str:
        return f"{x:.1f} min" if figure.endswith("_min") else f"{x:.1%}"

    lines = [
        "名义值在范围之外 Nominal value outside its 5–95 % range (the nominal inputs are a best "
        "or worst case there, e.g. a village imputed on top of its service point):",
        "",
    ]
    lines += [
        f"- {x['mode']}, {x['where']}, {x['figure']}: {fmt(x['nominal'], x['figure'])} "
        f"{x['nominal_is']} {fmt(x['p05'], x['figure'])}–{fmt(x['p95'], x['figure'])}"
        for x in rows
    ]
    return [*lines, ""]


def _value(r: dict[str, Any] | None) -> str:
    return "—" if not r or r.get("value") is None else f"{r['value']:.1%}"


def _township_section(result: JobResult) -> list[str]:
    """Per township: population, share meeting the target and mean minutes, with ranges."""
    mode = result.target.mode
    tt = result.coverage.townships
    tt = tt[tt["mode"] == mode]
    ranges = township_ranges(result)
    lines = [
        f"### 各乡镇 By township ({mode})",
        "",
        "| 乡镇 township | 人口 population | 达标比例 share meeting target | 范围 range "
        "| 平均时间 mean (min) | 范围 range | 达标 complies |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    for row in tt.to_dict(orient="records"):
        r = ranges.get(str(row["town_code"]), {})
        lines.append(
            f"| {row['town_name']} | {int(row['population']):,} "
            f"| {float(row['share_meeting_target']):.1%} "
            f"| {_pct_range(r.get('share_meeting_target'))} | {float(row['mean_min']):.1f} "
            f"| {_min_range(r.get('mean_min'))} | {'是 yes' if row['complies'] else '否 no'} |"
        )
    return [*lines, ""]


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
    lines += _gap_class_lines(result)
    if f["critical_links"]:
        lines += ["Critical road links (persons losing coverage if closed):", ""]
        lines += [f"- {x['name']}: {x['population_losing']:,}" for x in f["critical_links"]]
        lines.append("")
    return lines


GAP_CLASS_ZH = {"robust gap": "稳定盲区 robust gap", "uncertain": "不确定 uncertain"}


def _gap_class_lines(result: JobResult) -> list[str]:
    """Villages that are a robust gap or uncertain across the draws, imputed points flagged."""
    u = result.uncertainty
    if not u:
        return []
    counts = u["gap_class_counts"]
    lines = [
        "### 盲区稳健性 How sure: gap class per village",
        "",
        f"Across {u['draws']} draws: {counts.get('robust gap', 0)} villages are a robust gap "
        f"(miss the target in ≥ 90 % of draws), {counts.get('uncertain', 0)} uncertain "
        f"(10–90 %), {counts.get('served', 0)} served. 待核实位置 = the village point is "
        "imputed (location to be confirmed).",
        "",
    ]
    if not u["gap_villages"]:
        return lines
    lines += [
        "| 村 village | 乡镇 township | 人口 population | 时间 minutes | 范围 range (min) "
        "| 目标 target (min) | 未达标概率 P(miss) | 类别 class | 位置 location |",
        "|---|---|---:|---:|---|---:|---:|---|---|",
    ]
    for v in u["gap_villages"]:
        rng = _min_range({"p05": v["minutes_p05"], "p95": v["minutes_p95"]})
        minutes = "—" if v["minutes"] is None else f"{v['minutes']:.1f}"
        loc = "待核实位置 imputed point" if v["imputed_point"] else "已定位 located"
        lines.append(
            f"| {v['name']} | {v['township']} | {v['population']:,} | {minutes} | {rng} "
            f"| {v['target_minutes']:g} | {v['p_miss']:.0%} "
            f"| {GAP_CLASS_ZH.get(v['gap_class'], v['gap_class'])} | {loc} |"
        )
    return [*lines, ""]


def _siting_section(result: JobResult) -> list[str]:
    s, doc = result.figures.get("siting"), result.siting
    if not s or not doc:
        return []
    ranges = (result.uncertainty or {}).get("siting") or {}
    stay = {x["code"]: x["stay_share"] for x in ranges.get("sites", [])}
    lines = [
        "## 选址 Siting (MCLP)",
        "",
        f"New sites: {', '.join(s['sites'])}. Coverage {s['coverage_before']:.1%} → "
        f"{s['coverage_after']:.1%} (+{s['population_newly_covered']:,} persons); "
        f"solver status {s['status']}, gap {s['gap']}.",
        "",
        "| 新增点 site | 乡镇 township | 保留比例 stay share | 位置状态 location_status |",
        "|---|---|---:|---|",
    ]
    for x in doc["sites_opened"]:
        st = stay.get(str(x["code"]))
        lines.append(
            f"| {x['name']} | {x['township']} | {'—' if st is None else f'{st:.0%}'} "
            f"| {x['location_status']} |"
        )
    lines.append("")
    if ranges:
        ca = ranges["coverage_after"]
        lines += [
            f"Stay share = share of {ranges['draws']} draws in which the site is again in the "
            f"optimal set (模拟 modelled). The plan's coverage across draws: 5th percentile "
            f"{ca['p05']:.1%} (median {ca['p50']:.1%}, 95th {ca['p95']:.1%}).",
            "",
        ]
    return lines


def _sensitivity_section(result: JobResult) -> list[str]:
    """The one-at-a-time sensitivity as a table and the tornado chart (``sensitivity.svg``)."""
    u = result.uncertainty
    if not u:
        return []
    sens = u["sensitivity"]
    lines = [
        "## 敏感性 Sensitivity (one at a time)",
        "",
        f"County share meeting the target ({sens['mode']}) with each modelled parameter at the "
        "low / high end of its range, the others nominal (模拟 modelled; largest swing first).",
        "",
        "![敏感性龙卷风图 Sensitivity tornado chart](sensitivity.svg)",
        "",
        "| 参数 parameter | 低 low | 名义 nominal | 高 high | 低端比例 share at low "
        "| 高端比例 share at high | 摆幅 swing (pp) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sens["rows"]:
        lines.append(
            f"| {r['parameter']} | {r['low']:g} | {r['nominal']:g} | {r['high']:g} "
            f"| {r['share_at_low']:.1%} | {r['share_at_high']:.1%} | {100 * r['swing']:.1f} |"
        )
    return [*lines, ""]


def _services_section(result: JobResult) -> list[str]:
    """分项服务: coverage per service (county), and the county centre's queue over the years."""
    t = result.target
    bands = [f"{b:g}" for b in t.breaks]
    lines = [
        "## 分项服务覆盖 Coverage per service",
        "",
        f"Population share within each time by {t.mode}, to the nearest point *offering* the "
        "service (townships: `services/service_coverage.csv`).",
        "",
        "| 服务 service | points | " + " | ".join(f"≤ {b} min" for b in bands) + " | mean min |",
        "|---|---:|" + "---:|" * len(bands) + "---:|",
    ]
    notes = []
    for r in result.services.county:
        shares = " | ".join(f"{r[f'share_within_{b}']:.1%}" for b in bands)
        lines.append(
            f"| {r['name_zh']} {r['name_en']} | {r['points']} | {shares} | {r['mean_min']:.1f} |"
        )
        if r.get("note"):
            notes.append(f"- {r['name_zh']}: {r['note']}")
    q = result.services.demand["county_centre_queue"]
    sat = q["saturation_year"]
    lines += ["", *notes, "", "### 需求与承载 Demand and capacity (county centre)", ""]
    lines += [
        f"{q['windows']} windows as an M/M/c queue (Erlang C), {q['service_min']:.1f} min per "
        f"visit; the windows saturate in **{sat if sat else 'no year within the horizon'}** "
        "if consultations keep growing as in the county report.",
        "",
        "| year | arrivals / h | utilisation | P(wait) | mean wait (min) |",
        "|---|---:|---:|---:|---:|",
    ]
    for y in q["years"]:
        wait = "saturated" if y.get("wait_min") is None else f"{y['wait_min']:.1f}"
        pw = "—" if y.get("p_wait") is None else f"{y['p_wait']:.1%}"
        lines.append(
            f"| {y['year']} | {y['arrivals_per_hour']:.2f} | {y['utilisation']:.0%} | {pw} | {wait} |"
        )
    lines += ["", *[f"- {a}" for a in result.services.demand["meta"]["assumptions"]], ""]
    return lines


def _validation_section(result: JobResult) -> list[str]:
    """模型检验: the validation tables (:func:`geo.validation.format_markdown`, its own title
    replaced by this section's)."""
    lines = ["## 模型检验 Validation against published facts", ""]
    if result.validation is None:
        return [*lines, f"Not run: {result.checks.get('why', '')}", ""]
    from doorstep.geo.validation import format_markdown

    md = format_markdown(result.validation).splitlines()
    full = "Full table: `validation/validation.csv`, `validation/validation.json`."
    return [*lines, result.validation.county, *md[1:], full, ""]


def _circuits_section(result: JobResult) -> list[str]:
    month, ci = result.month, result.figures["circuits"]
    return [
        f"## 巡回 Lawyer circuits {month}",
        "",
        f"{ci['scheduled']} of {ci['required']} visits scheduled for {ci['lawyers']} lawyers, "
        f"{ci['drive_hours']} h of driving; visits per lawyer {ci['visits_per_lawyer']}.",
        *[f"- unscheduled: {r}" for r in ci["unscheduled"]],
        "",
        *([f"排班来源 Plan source: {ci['plan_source']}.", ""] if ci.get("plan_source") else []),
        f"Ledger 台账: `circuits/ledger-{month}.xlsx`; calendars: `circuits/ics/`; "
        f"排班表 schedule: `circuits/schedule-{month}.pdf`; route sheets 路线单: "
        f"`circuits/routes-{month}/`; map: `site/index.html`.",
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
    u = result.uncertainty
    if u:
        cr = county_ranges(result).get("share_meeting_target")
        counts = u["gap_class_counts"]
        lines.append(
            f"  范围 range ({u['draws']} draws, seed {u['seed']}): meeting target "
            f"{_pct_range(cr)}; robust gaps {counts.get('robust gap', 0)}, uncertain "
            f"{counts.get('uncertain', 0)}"
        )
    v = result.checks
    lines.append(
        f"  检验 validation: {v.get('checks_ok', 0)} checks ok, {v.get('checks_not_run', 0)} not run"
        if "checks_ok" in v
        else f"  检验 validation: not run ({v.get('why', '')})"
    )
    c = f["circuits"]
    lines += [
        f"  巡回 circuits {month}: {c['scheduled']}/{c['required']} visits, "
        f"{c['lawyers']} lawyers, {c['drive_hours']} h driving",
        f"  地图 atlas: {result.atlas}   报告 report: {out / 'report.md'}",
        "  可打印报告 printable report: "
        + ", ".join(str(out / n) for n in ("report.html", "report.pdf") if n in result.files),
        *[f"  警告 warning: {w}" for w in result.warnings],
        f"  (took {result.seconds['total']} s: "
        + ", ".join(f"{k.split(' ')[0]} {v:.1f}" for k, v in result.seconds.items() if k != "total")
        + ")",
    ]
    return "\n".join(lines) + "\n"
