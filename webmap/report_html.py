"""The printable report ``report.html`` (A4, Chinese first, English second; inline CSS and SVG,
no external request), laid out as ``report.pdf`` by :mod:`webmap.printing`.

It renders the ``run.json`` manifest of a job (figures with their 5–95 % ranges, the modelled-
data notice, validation, and the ``charts`` block assembled by :mod:`doorstep.report_charts`)
and the map layers (:class:`webmap.report_map.ReportMap`); it computes nothing. Each chart is
one ``<figure>`` with a bilingual caption, units on its axes and its real/modelled source line.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from .atlas import validation_table_html
from .charts import (
    adviser_bars_svg,
    coverage_bars_svg,
    histogram_svg,
    marginal_curve_svg,
    tornado_svg,
)
from .printing import CJK_FONT_STACK, page_css
from .report_map import ReportMap, coverage_map_svg

CAPTIONS = {
    "townships": "图1 各乡镇达标人口比例 Figure 1 — Share of population meeting the target by township",
    "histogram": "图2 出行时间分布 Figure 2 — Distribution of travel times (population-weighted)",
    "map": "图3 覆盖与盲区地图 Figure 3 — Map of coverage and underserved villages",
    "marginal_curve": "图4 选址边际曲线 Figure 4 — Siting marginal curve: coverage gained per new point",
    "sensitivity": "图5 敏感性龙卷风图 Figure 5 — Sensitivity tornado (one parameter at a time)",
    "advisers": "图6 法律顾问月度工作量 Figure 6 — Each adviser's month: km, hours, visits",
}
"""The caption of each chart (also what the PDF test looks for)."""

CSS = f"""
html {{ font-family: {CJK_FONT_STACK}; }}
body {{ font-size: 10pt; color: #111; margin: 0 auto;
  max-width: 190mm; line-height: 1.4; }}
h1 {{ font-size: 17pt; margin: 0 0 2mm; }} h2 {{ font-size: 13pt; margin: 4mm 0 2mm; }}
.page {{ break-before: page; }}
.notice {{ border: 1.5px solid #b35806; background: #fff7ec; padding: 2mm 3mm; margin: 3mm 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; margin: 2mm 0; }}
th, td {{ border: 0.5px solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }}
td.num {{ text-align: right; white-space: nowrap; }}
figure {{ margin: 3mm 0; break-inside: avoid; }}
figure svg {{ width: 100%; height: auto; display: block; }}
figcaption {{ font-weight: bold; margin: 1mm 0; }}
.source {{ font-size: 8.5pt; color: #444; margin: 1mm 0 0; }}
.muted {{ color: #555; font-size: 9pt; }}
"""


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _range(r: Mapping[str, Any] | None, unit: str = "%") -> str:
    """``p05–p95`` of a ``{value, p05, p95}`` figure (``—`` without a range)."""
    if not r or r.get("p05") is None or r.get("p95") is None:
        return "—"
    if unit == "%":
        return f"{100 * r['p05']:.1f}–{100 * r['p95']:.1f} %"
    return f"{r['p05']:.1f}–{r['p95']:.1f} {unit}"


def _county_row(m: Mapping[str, Any]) -> Mapping[str, Any]:
    mode = m["target"]["mode"]
    rows = [r for r in (m.get("uncertainty") or {}).get("county", []) if r["mode"] == mode]
    return rows[0] if rows else {}


def _headline(m: Mapping[str, Any]) -> str:
    """主要指标: every headline figure with its unit, 5–95 % range and real/modelled label."""
    f, rng, cov = m["figures"], _county_row(m), m["figures"]["coverage"]
    rows: list[tuple[str, str, str, str]] = [
        ("人口 population (persons)", f"{f['population']:,}", "—", "真实 real (2020 census)"),
    ]
    for b, s in zip(cov["breaks_minutes"], cov["share_within"], strict=True):
        r = rng.get(f"share_within_{b:g}")
        rows.append((f"≤ {b:g} 分钟 min 人口比例 share (%)", _pct(s), _range(r), "模拟 modelled"))
    ch = m["charts"]["county_share_meeting_target"]
    rows.append(
        (
            "达标人口比例 share meeting the target (%)",
            _pct(ch["value"]),
            _range(ch),
            "模拟 modelled",
        )
    )
    rows.append(
        (
            "平均出行时间 mean travel time (min)",
            f"{cov['mean_minutes']:.1f}",
            _range(rng.get("mean_min"), "min"),
            "模拟 modelled",
        )
    )
    rows.append(
        (
            "达标乡镇 townships meeting the target (count)",
            f"{cov['townships_complying']} / {cov['townships']}",
            "—",
            "模拟 modelled",
        )
    )
    rows.append(
        (
            "盲区村 underserved villages (count / persons)",
            f"{f['underserved_villages']} / {f['underserved_population']:,}",
            "—",
            "模拟 modelled",
        )
    )
    s = f.get("siting")
    if s:
        plan = ((m.get("uncertainty") or {}).get("siting") or {}).get("coverage_after")
        rows.append(
            (
                f"选址后覆盖 coverage with +{len(s['sites'])} points (%)",
                f"{_pct(s['coverage_before'])} → {_pct(s['coverage_after'])}",
                _range(plan),
                "模拟 modelled",
            )
        )
    c = f["circuits"]
    rows.append(
        (
            f"巡回 circuits {c['month']}: visits (count), driving (h)",
            f"{c['scheduled']} / {c['required']}, {c['drive_hours']} h",
            "—",
            "模拟 modelled plan",
        )
    )
    body = "".join(
        f"<tr><td>{escape(a)}</td><td class='num'>{escape(b)}</td><td class='num'>{escape(r)}</td>"
        f"<td>{escape(src)}</td></tr>"
        for a, b, r, src in rows
    )
    return (
        '<table class="headline"><thead><tr><th>指标 figure (unit)</th><th>数值 value</th>'
        "<th>范围 range 5–95 %</th><th>来源 source</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _notice(m: Mapping[str, Any]) -> str:
    """模拟数据说明: which layers are modelled (with their source) and what ranges mean."""
    q = m["quality"]
    items = "".join(
        f"<li><b>{escape(k)}</b>: {escape(str(q['layers'].get(k, {}).get('source', '')))}</li>"
        for k in q.get("modelled_layers", [])
    )
    u = m.get("uncertainty")
    rng = (
        f"范围 Ranges: 5–95 % of {u['draws']} draws of the modelled inputs (seed {u['seed']}); "
        "they measure the modelling assumptions, not measurement error."
        if u
        else "No ranges: the ensemble was off (--draws 0)."
    )
    return (
        '<div class="notice" id="modelled-notice"><b>模拟数据说明 Modelled data notice.</b> '
        "These layers are modelled estimates, not measurements; replace them with official "
        f"files when available:<ul>{items}</ul>{escape(rng)}</div>"
    )


def _short(source: str) -> str:
    """The first clause of a source line, short enough for the chart itself (the whole line is
    printed under the chart)."""
    return source.split("; ")[0]


def _figure(key: str, svg: str, source: str, note: str = "") -> str:
    extra = f'<p class="muted">{escape(note)}</p>' if note else ""
    return (
        f'<section class="page"><figure class="chart" id="fig-{key}">'
        f"<figcaption>{escape(CAPTIONS[key])}</figcaption>{svg}"
        f'<p class="source">{escape(source)}</p>{extra}</figure></section>'
    )


def _validation(validation: Mapping[str, Any] | None, m: Mapping[str, Any]) -> str:
    head = '<section class="page"><h2>模型检验 Validation against published facts</h2>'
    if validation is None:
        why = m.get("validation", {}).get("why", "")
        return f"{head}<p>未运行 Not run: {escape(str(why))}</p></section>"
    return f"{head}{validation_table_html(dict(validation))}</section>"


def _adviser_table(rows: list[Mapping[str, Any]]) -> str:
    body = "".join(
        f"<tr><td>{escape(str(r['lawyer']))}</td><td class='num'>{r['km']:g}</td>"
        f"<td class='num'>{r['drive_hours']:g}</td><td class='num'>{r['onsite_hours']:g}</td>"
        f"<td class='num'>{r['visits']}</td><td class='num'>{r['villages']}</td></tr>"
        for r in rows
    )
    return (
        '<table class="advisers"><thead><tr><th>顾问 adviser</th><th>里程 km</th>'
        "<th>驾车 driving (h)</th><th>驻村 on site (h)</th><th>走访 visits (count)</th>"
        f"<th>村 villages (count)</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _charts(m: Mapping[str, Any], report_map: ReportMap) -> list[str]:
    """The figure pages, in caption order; a chart whose figures were not computed is left out."""
    ch, src, mode = m["charts"], m["charts"]["sources"], m["target"]["mode"]
    tgt = m["target"]
    axis = "达标人口比例 share of population meeting the target (%)"
    out = [
        _figure(
            "townships",
            coverage_bars_svg(
                ch["townships"],
                title=f"各乡镇达标比例 Share meeting the target ({mode}; rural ≤ "
                f"{tgt['rural_minutes']:g} min, urban ≤ {tgt['urban_minutes']:g} min)",
                axis=axis,
                source=_short(src["townships"]),
                county_share=ch["county_share_meeting_target"]["value"],
            ),
            src["townships"],
            "条 = 名义值 bar = nominal share; 须 = 5–95 % whisker (range).",
        ),
        _figure(
            "histogram",
            histogram_svg(
                ch["travel_time_histograms"],
                title="出行时间分布 Travel time to the nearest staffed point, persons per bin",
                source=_short(src["histogram"]),
            ),
            src["histogram"],
        ),
        _figure(
            "map",
            coverage_map_svg(
                report_map, title=f"覆盖与盲区 Coverage and gaps ({mode})", source=src["map"]
            ),
            src["map"],
        ),
    ]
    if ch.get("marginal_curve"):
        svg = marginal_curve_svg(
            ch["marginal_curve"]["points"],
            title=f"选址边际曲线 Coverage against new points (MCLP, {mode})",
            source=_short(src["marginal_curve"]),
        )
        out.append(_figure("marginal_curve", svg, src["marginal_curve"]))
    u = m.get("uncertainty")
    if u:
        sens = u["sensitivity"]
        svg = tornado_svg(sens["rows"], mode=sens["mode"])
        out.append(_figure("sensitivity", svg, src["sensitivity"]))
    svg = adviser_bars_svg(
        ch["advisers"],
        title=f"法律顾问月度工作量 Each adviser's month ({m['figures']['circuits']['month']})",
        source=_short(src["advisers"]),
    )
    out.append(_figure("advisers", svg + _adviser_table(ch["advisers"]), src["advisers"]))
    return out


def report_html(
    manifest: Mapping[str, Any],
    *,
    report_map: ReportMap,
    validation: Mapping[str, Any] | None = None,
) -> str:
    """The whole report as one self-contained HTML document (A4 print stylesheet)."""
    m, county = manifest, manifest["county"]
    title = f"{county['name']} 家门口法律服务规划报告 Doorstep report"
    foot = f"{county['name']} ({county['code']}) · Doorstep · {m['generated']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{page_css(footer=foot)}{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">县 County {escape(county["code"])}, 村名录 village list '
        f"{escape(str(county['vintage']))}; 生成 generated {escape(m['generated'])} by "
        "<code>doorstep run</code>.</p>",
        _notice(m),
        "<h2>主要指标 Headline figures</h2>",
        _headline(m),
        _validation(validation, m),
        *_charts(m, report_map),
        '<section class="page"><h2>假设 Assumptions</h2><ul>',
        *[f"<li>{escape(a)}</li>" for a in m.get("assumptions", [])],
        "</ul></section></body></html>",
    ]
    return "\n".join(parts) + "\n"
