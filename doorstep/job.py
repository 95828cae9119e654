"""The whole job for one county as one library call 一键生成全部成果.

model → coverage → underserved areas → siting proposal → ensemble (a 5–95 % range on every
figure) → validation against published facts → next month's circuits → atlas → report,
every file written into a hidden staging folder inside ``options.out`` and moved into place only
when the job succeeds: an error or Ctrl-C part-way leaves ``out`` as it was.

>>> from doorstep.job import JobOptions, run_job                       # doctest: +SKIP
>>> result = run_job(JobOptions(out="out", add=2, month="2026-12"))   # doctest: +SKIP
>>> result.figures["coverage"]["share_within"]                         # doctest: +SKIP
[0.516, 0.967, 1.0]

:mod:`doorstep.report` renders a :class:`JobResult` as ``report.md``, ``run.json`` and the
command line's summary, :mod:`webmap.report_html` as the printable ``report.html`` and
``report.pdf`` (figures assembled by :mod:`doorstep.report_charts`); ``doorstep run`` is a thin
layer over :func:`run_job`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from doorstep.analysis.circuits.county import (
    DEFAULT_LAWYERS,
    CountyMonth,
    plan_county_month,
    road_path_function,
)
from doorstep.analysis.circuits.export import routes_geojson, write_ics, write_ledger
from doorstep.analysis.circuits.export import write_json as write_routes
from doorstep.analysis.circuits.model import MonthCalendar
from doorstep.analysis.coverage import CoverageResult, CoverageTarget
from doorstep.analysis.siting.county import (
    CountySiting,
    county_problem,
    site_report,
    solve_county,
)
from doorstep.analysis.siting.result import SitingResult
from doorstep.analysis.uncertainty import DEFAULT_RUN_DRAWS, RunEnsemble, run_ensemble
from doorstep.geo._errors import InputError
from doorstep.geo.atomic import staged_folder, write_bytes, write_text
from doorstep.geo.export import export_geopackage
from doorstep.geo.model import CountyModel, ModelInputs, build_county_model
from doorstep.geo.validation import ValidationReport, validate_against_world, write_validation
from doorstep.webmap.atlas import build_atlas
from doorstep.webmap.basemaps import BasemapChoice, TileSource, resolve_basemap
from doorstep.webmap.charts import tornado_svg
from doorstep.webmap.layers import collect_layers
from doorstep.webmap.printables import PrintablePlan, write_printables
from doorstep.webmap.printing import PdfUnavailable
from doorstep.webmap.results import routes_layer, sites_from_report

from . import jsonio
from .outputs import GapsOutputs, coverage_outputs, gaps_outputs
from .ranges import uncertainty_figures, validation_figures
from .report_charts import chart_figures

log = logging.getLogger(__name__)

STEPS = 10
"""Steps of the job with the ensemble, as counted in :class:`JobProgress` (9 with ``draws=0``)."""
MAX_DRAWS = 10_000
SENSITIVITY_SVG = "sensitivity.svg"
REPORT_HTML, REPORT_PDF = "report.html", "report.pdf"


def next_month(today: dt.date | None = None) -> str:
    """``YYYY-MM`` of the month after ``today`` (default: today)."""
    d = today or dt.date.today()
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return f"{y:04d}-{m:02d}"


@dataclass(frozen=True)
class JobOptions:
    """What :func:`run_job` does; validated on construction (:class:`InputError` names the field).

    Attributes
    ----------
    out
        Output folder; created if missing, files of an earlier run with the same names replaced.
    vintage, data, inputs
        The county model: village list (``"2023"``/``"2016"``), reference data folder (default
        ``$DOORSTEP_DATA`` or ``../shared/data``) and user files replacing default layers.
    target
        The one coverage target (mode, rural and urban minutes, bands, required share; default
        from ``data/params/coverage.toml``): coverage, gaps and siting judge every village
        against its own threshold of it.
    add
        New sites to propose (MCLP, 0 = no siting step).
    lawyers, month
        Circuits: number of lawyers and the month ``YYYY-MM`` (``None``: next month).
    roster
        Adviser roster file (CSV/XLSX, ``doorstep roster make``): the circuits keep every
        village with its roster adviser, as ``doorstep circuits --roster`` (``lawyers`` is then
        not used); ``None``: the planner assigns villages to ``lawyers`` modelled lawyers.
    basemap, basemap_crs, tianditu_key
        Atlas background tiles, as the ``--basemap`` flags (``None``: ``$DOORSTEP_BASEMAP``…,
        else ``offline``, which works with no network; 天地图 needs a key; a URL template
        needs its CRS) — resolved by :func:`webmap.basemaps.resolve_basemap` (:attr:`tiles`).
    time_limit
        Seconds per MILP solve.
    draws, seed
        Ensemble over the modelled inputs (``data/params/uncertainty.toml``): ``draws`` draws
        from ``seed`` put a 5–95 % range on every figure (0 = off); same seed, same numbers.
    """

    out: Path = Path("out")
    vintage: str = "2023"
    data: Path | None = None
    inputs: ModelInputs = field(default_factory=ModelInputs)
    target: CoverageTarget = field(default_factory=CoverageTarget)
    add: int = 3
    lawyers: int = DEFAULT_LAWYERS
    month: str | None = None
    roster: Path | None = None
    basemap: str | None = None
    basemap_crs: str | None = None
    tianditu_key: str | None = None
    time_limit: float = 60.0
    draws: int = DEFAULT_RUN_DRAWS
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        if self.data is not None:
            object.__setattr__(self, "data", Path(self.data))
        if self.roster is not None:
            object.__setattr__(self, "roster", Path(self.roster))
            if not self.roster.is_file():
                raise InputError(
                    f"--roster {self.roster}: no such file; give the roster table (CSV/XLSX, "
                    "e.g. from `doorstep roster make --advisers N --out roster.xlsx`)"
                )
        if self.out.exists() and not self.out.is_dir():
            raise InputError(
                f"--out {self.out} is an existing file; give a folder name (or remove the file)"
            )
        if not isinstance(self.target, CoverageTarget):
            raise InputError(f"target must be a CoverageTarget, got {self.target!r}")
        if not 0 <= self.add <= 50:
            raise InputError("--add must be between 0 and 50")
        if not 1 <= self.lawyers <= 500:
            raise InputError("--lawyers must be between 1 and 500")
        if not self.time_limit > 0:
            raise InputError(f"--time-limit must be > 0 seconds, got {self.time_limit!r}")
        if not 0 <= self.draws <= MAX_DRAWS:
            raise InputError(f"--draws must be between 0 and {MAX_DRAWS}, got {self.draws}")
        if self.seed < 0:
            raise InputError(f"--seed must be >= 0, got {self.seed}")
        self.tiles  # noqa: B018 - an unknown, keyless or CRS-less basemap fails now
        MonthCalendar.for_month(self.circuit_month)  # a bad month fails before any work

    @property
    def tiles(self) -> TileSource:
        """The atlas basemap: these options, else the environment, else ``offline``."""
        flags = BasemapChoice(self.basemap, self.basemap_crs, self.tianditu_key)
        return resolve_basemap(flags, env=os.environ)

    @property
    def circuit_month(self) -> str:
        """The month of the circuits: ``month`` or, if not given, next month."""
        return self.month or next_month()

    @property
    def steps(self) -> int:
        """Steps of this job (:data:`STEPS`, one fewer without the ensemble)."""
        return STEPS if self.draws else STEPS - 1

    @property
    def circuit_mode(self) -> str:
        """Lawyers drive: the target mode if motorised, else by car."""
        mode = self.target.mode
        return mode if mode in ("car", "motorbike") else "car"


@dataclass(frozen=True)
class JobProgress:
    """One progress event: a step starts (``seconds`` is ``None``) or is done."""

    step: int
    total: int
    name: str
    seconds: float | None = None
    detail: str = ""


ProgressFn = Callable[[JobProgress], None]


def log_progress(ev: JobProgress) -> None:
    """Default progress: ``[i/9] step ...`` and ``[i/9] step: done in 1.2 s`` log lines."""
    if ev.seconds is None:
        log.info("[%d/%d] %s ...", ev.step, ev.total, ev.name)
    else:
        log.info("[%d/%d] %s: done in %.1f s %s", ev.step, ev.total, ev.name, ev.seconds, ev.detail)


@dataclass(frozen=True, eq=False)
class JobResult:
    """Everything :func:`run_job` computed and wrote (paths are under ``out``, the final folder)."""

    options: JobOptions
    out: Path
    month: str
    target: CoverageTarget
    model: CountyModel
    summary: dict[str, Any]
    coverage: CoverageResult
    gaps: GapsOutputs
    siting: dict[str, Any] | None
    ensemble: RunEnsemble | None
    validation: ValidationReport | None
    services: ServicesFigures
    uncertainty: dict[str, Any] | None
    checks: dict[str, Any]
    circuits: CountyMonth
    figures: dict[str, Any]
    files: tuple[str, ...]
    atlas: Path
    seconds: dict[str, float]
    quality: dict[str, Any]
    assumptions: tuple[str, ...]
    generated: str
    charts: dict[str, Any] | None = None
    """What the printable report's charts draw (:func:`doorstep.report_charts.chart_figures`)."""
    warnings: tuple[str, ...] = ()
    """What the job could not do but did not fail for (e.g. no PDF without WeasyPrint)."""


class _Steps:
    """Numbers the steps, times them and reports each start and end to ``progress``."""

    def __init__(self, progress: ProgressFn, total: int = STEPS) -> None:
        self.progress = progress
        self.total = total
        self.i = 0
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """``with steps.step(name) as detail: ...; detail.append("(228 villages)")``."""
        self.i += 1
        self.progress(JobProgress(self.i, self.total, name))
        t = time.perf_counter()
        detail: list[str] = []
        yield detail
        s = time.perf_counter() - t
        self.seconds[name] = round(s, 2)
        self.progress(JobProgress(self.i, self.total, name, s, " ".join(detail)))


def run_job(options: JobOptions, progress: ProgressFn | None = log_progress) -> JobResult:
    """Run the whole job described by ``options`` and return what it computed and wrote.

    ``progress`` is called at the start and end of each of the ``options.steps`` steps
    (``None``: silent); an exception it raises (e.g. ``KeyboardInterrupt``) stops the job with
    nothing kept.
    """
    t0 = time.perf_counter()
    steps = _Steps(progress or (lambda _ev: None), options.steps)
    month, target = options.circuit_month, options.target
    with staged_folder(options.out) as stage:
        with steps.step("county model 县域模型") as detail:
            model, summary = _model_step(options, stage)
            detail.append(f"({len(model.villages)} villages)")
        with steps.step("coverage 服务圈覆盖"):
            (stage / "coverage").mkdir()
            cov = coverage_outputs(model, target, stage / "coverage")
        with steps.step("underserved areas 服务盲区") as detail:
            (stage / "gaps").mkdir()
            gaps = gaps_outputs(model, target, stage / "gaps")
            detail.append(f"({len(gaps.villages)} villages beyond target)")
        with steps.step("siting proposal 新增服务点选址 (MCLP)"):
            siting = _siting_step(options, model, stage)
        site_doc = siting.doc if siting else None
        ens, ranges = None, None
        if options.draws:
            with steps.step("ensemble 不确定性") as detail:
                ens = _ensemble_step(options, model, cov.result, siting, stage)
                ranges = uncertainty_figures(ens, cov.result, site_doc)
                detail.append(f"({options.draws} draws, seed {options.seed})")
        with steps.step("validation 模型检验") as detail:
            validation, why = _validation_step(options, model, stage)
            checks = validation_figures(validation, why)
            detail.append(f"({checks.get('checks_ok', 0)} checks ok)")
        with steps.step("services and demand 分项服务与需求") as detail:
            services = services_step(model, target, stage / "services")
            detail.append(f"({len(services.county)} services)")
        with steps.step(f"circuits {month} 律师巡回") as detail:
            cm, routes, print_s = _circuits_step(options, month, model, stage / "circuits")
            detail.append(
                f"({cm.plan.scheduled_visits}/{cm.plan.required_visits} visits; "
                f"printables {print_s:.1f} s)"
            )
        with steps.step("atlas 地图"):
            atlas = _atlas_step(options, model, site_doc, routes, stage, ranges, validation)
        with steps.step("report 报告"):
            result = JobResult(
                options=options,
                out=options.out,
                month=month,
                target=target,
                model=model,
                summary=summary,
                coverage=cov.result,
                gaps=gaps,
                siting=site_doc,
                ensemble=ens,
                validation=validation,
                services=services,
                uncertainty=ranges,
                checks=checks,
                circuits=cm,
                figures=job_figures(model, cov.result, target, gaps, site_doc, cm),
                files=(),  # filled in below, once report.html/pdf are written
                atlas=options.out / atlas.relative_to(stage),
                seconds={},
                quality=model.quality(),
                assumptions=tuple(job_assumptions(model, target, cm)),
                generated=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            )
            result = replace(result, charts=chart_figures(result))
            printed = _printable_step(result, stage)
            total = round(time.perf_counter() - t0, 1)
            result = replace(
                result,
                files=_files(stage),
                warnings=printed.warnings,
                seconds={**steps.seconds, **printed.seconds, "total": total},
            )
            _report_step(result, stage)
    return result


class ServicesFigures(NamedTuple):
    """Coverage per service (county rows; townships in ``services/service_coverage.csv``) and
    the demand/capacity figures (``services/demand.json``)."""

    county: list[dict[str, Any]]
    demand: dict[str, Any]


def services_step(model: CountyModel, target: CoverageTarget, folder: Path) -> ServicesFigures:
    """Coverage for each service (county and townships) and demand against capacity: the county
    centre's windows as an M/M/c queue, the saturation year, 2SFCA (:mod:`analysis.demand`)."""
    from doorstep.analysis.demand import demand_capacity
    from doorstep.analysis.service_coverage import service_coverage_table
    from doorstep.geo.export import write_csv

    folder.mkdir()
    table = service_coverage_table(model, target)
    write_csv(table, folder / "service_coverage.csv")
    demand = demand_capacity(model, mode=target.mode).to_dict()
    demand.pop("points", None)  # per-point load: in the web API (/api/demand)
    demand["meta"].pop("quality", None)  # the job's quality block already says it
    jsonio.write_json(demand, folder / "demand.json")
    county = table[table["scope"] == "county"].to_dict(orient="records")
    return ServicesFigures(county, demand)


def _model_step(options: JobOptions, stage: Path) -> tuple[CountyModel, dict[str, Any]]:
    model = build_county_model(vintage=options.vintage, data=options.data, inputs=options.inputs)
    summary = model.summary()
    export_geopackage(model, stage / "model.gpkg")
    jsonio.write_json(summary, stage / "summary.json")
    return model, summary


class _Siting(NamedTuple):
    """The siting step's problem, solution and report (the ensemble re-solves the problem)."""

    problem: CountySiting
    result: SitingResult
    doc: dict[str, Any]


def _siting_step(options: JobOptions, model: CountyModel, stage: Path) -> _Siting | None:
    if not options.add:
        return None
    target = options.target
    cs = county_problem(model, mode=target.mode)
    res = solve_county(cs, "mclp", add=options.add, target=target, time_limit=options.time_limit)
    doc = site_report(model, cs, res, "mclp", target)
    jsonio.write_json(doc, stage / "siting.json")
    return _Siting(cs, res, doc)


def _ensemble_step(
    options: JobOptions,
    model: CountyModel,
    cov: CoverageResult,
    siting: _Siting | None,
    stage: Path,
) -> RunEnsemble:
    """One ensemble for coverage, gaps and the siting plan; ranges written beside ``cov``'s
    figures (in place) and the whole ensemble into ``uncertainty.json``."""
    spec = None
    if siting is not None:
        spec = (siting.problem, siting.result, "mclp", options.add, options.target)
    ens = run_ensemble(
        model,
        options.target,
        draws=options.draws,
        seed=options.seed,
        result=cov,
        siting=spec,
        time_limit=options.time_limit,
    )
    doc = {
        **ens.to_dict(),
        "nominal_outside_range": cov.meta["uncertainty"]["nominal_outside_range"],
    }
    jsonio.write_json(doc, stage / "uncertainty.json")
    return ens


def _validation_step(
    options: JobOptions, model: CountyModel, stage: Path
) -> tuple[ValidationReport | None, str]:
    """The model against published facts, written into ``validation/``; never fails the job
    (a check that cannot run says why; if the whole validation fails, the reason is returned)."""
    try:
        rep = validate_against_world(model, options.data)
        write_validation(rep, stage / "validation")
    except Exception as exc:  # a failed validation is reported, never fatal to the job
        log.warning("validation not run: %s: %s", type(exc).__name__, exc)
        return None, f"{type(exc).__name__}: {exc}"
    return rep, ""


def _circuits_step(
    options: JobOptions, month: str, model: CountyModel, cdir: Path
) -> tuple[CountyMonth, Any, float]:
    """Plan the month (with the roster if given); write ledger, calendars, routes, plan and the
    printables (排班表, route sheets); return the plan, the route layer and the seconds the
    printables took."""
    cm = plan_county_month(
        model,
        month,
        n_lawyers=options.lawyers,
        mode=options.circuit_mode,
        roster=options.roster,
    )
    cdir.mkdir()
    write_ledger(cm.plan, cdir / f"ledger-{month}.xlsx")
    write_ics(cm.plan, cdir / "ics")
    road = road_path_function(model, cm.travel, cm.plan)
    lines = routes_geojson(cm.plan, cm.travel.coords, road)
    write_routes(lines, cdir / f"routes-{month}.geojson")
    jsonio.write_json(cm.plan.to_dict(), cdir / f"plan-{month}.json")
    t = time.perf_counter()
    pp = PrintablePlan.from_county_month(cm, model, lines)
    try:
        write_printables(pp, cdir)
    except PdfUnavailable as exc:  # the HTML prints from any browser; the job goes on
        log.warning("printables written as HTML only: %s", exc)
        write_printables(pp, cdir, pdf=False)
    return cm, routes_layer(lines), time.perf_counter() - t


def _atlas_step(
    options: JobOptions,
    model: CountyModel,
    site_doc: dict[str, Any] | None,
    routes: Any,
    stage: Path,
    ranges: dict[str, Any] | None,
    validation: ValidationReport | None,
) -> Path:
    """The atlas, with the tornado chart (also written as ``sensitivity.svg``) and the
    validation table in its evidence panel."""
    proposed = None
    if site_doc:
        label = f"MCLP k={options.add}, ≤{options.target.rural_minutes:g} min"
        proposed = sites_from_report(site_doc, label, site_doc["status"])
    layers = collect_layers(model, options.target.mode, proposed=proposed, routes=routes)
    svg = None
    if ranges is not None:
        sens = ranges["sensitivity"]
        svg = tornado_svg(sens["rows"], mode=sens["mode"])
        write_text(stage / SENSITIVITY_SVG, svg)
    pages = build_atlas(
        model,
        layers,
        stage / "site",
        basemap=options.tiles,
        sensitivity_svg=svg,
        validation=None if validation is None else validation.as_dict(),
    )
    return pages[0]


class _Printed(NamedTuple):
    """What the printable step could not do (warnings) and its seconds per file."""

    warnings: tuple[str, ...]
    seconds: dict[str, float]


def _printable_step(result: JobResult, stage: Path) -> _Printed:
    """``report.html`` and, when WeasyPrint is usable, ``report.pdf`` (the same document laid
    out on A4); without WeasyPrint the HTML is still written and the reason is a warning."""
    from doorstep.webmap import printing
    from doorstep.webmap.report_html import report_html

    from .report import run_manifest
    from .report_charts import report_map

    t = time.perf_counter()
    valid = None if result.validation is None else result.validation.as_dict()
    html = report_html(run_manifest(result), report_map=report_map(result), validation=valid)
    write_text(stage / REPORT_HTML, html)
    seconds = {REPORT_HTML: round(time.perf_counter() - t, 2)}
    t = time.perf_counter()
    try:
        pdf = printing.html_to_pdf(html, base_url=stage)
    except printing.PdfUnavailable as exc:
        log.warning("%s not written: %s", REPORT_PDF, exc)
        return _Printed((f"{REPORT_PDF} not written 未生成 PDF: {exc}",), seconds)
    write_bytes(stage / REPORT_PDF, pdf)
    return _Printed((), {**seconds, REPORT_PDF: round(time.perf_counter() - t, 2)})


def _files(stage: Path) -> tuple[str, ...]:
    """Files of the job relative to its folder, with the report and manifest written last."""
    written = {str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file()}
    return tuple(sorted(written | {"report.md", "run.json"}))


def _report_step(result: JobResult, stage: Path) -> None:
    from .report import render_report_md, run_manifest

    write_text(stage / "report.md", render_report_md(result))
    jsonio.write_json(run_manifest(result), stage / "run.json")


def job_figures(
    model: CountyModel,
    cov: CoverageResult,
    target: CoverageTarget,
    gaps: GapsOutputs,
    site_doc: dict[str, Any] | None,
    cm: CountyMonth,
) -> dict[str, Any]:
    """The headline figures of a job (population, coverage, gaps, siting, circuits) with units."""
    row = cov.county[cov.county["mode"] == target.mode].iloc[0]
    t = cov.townships[cov.townships["mode"] == target.mode]
    vill = gaps.villages
    crit = gaps.links[gaps.links["population_losing"] > 0].head(5)
    out: dict[str, Any] = {
        "population": int(model.villages["population"].sum()),
        "villages": len(model.villages),
        "coverage": {
            "mode": target.mode,
            "breaks_minutes": list(target.breaks),
            "share_within": [float(row[f"share_within_{b:g}"]) for b in target.breaks],
            "mean_minutes": round(float(row["mean_min"]), 1),
            "p90_minutes": round(float(row["p90_min"]), 1),
            "townships_complying": int(t["complies"].sum()),
            "townships": len(t),
        },
        "underserved_villages": len(vill),
        "underserved_population": int(vill["population"].sum()) if len(vill) else 0,
        "gini_travel_time": gaps.equity["modes"][target.mode]["gini_travel_time"],
        "critical_links": [
            {
                "name": str(r["name"] or r["road_class"]),
                "population_losing": int(r["population_losing"]),
            }
            for _, r in crit.iterrows()
        ],
        "circuits": _circuit_figures(cm),
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


def _circuit_figures(cm: CountyMonth) -> dict[str, Any]:
    summ = cm.plan.lawyer_summary()
    return {
        "month": cm.plan.month,
        "lawyers": len(cm.lawyers),
        "plan_source": cm.plan_source,
        "required": cm.plan.required_visits,
        "scheduled": cm.plan.scheduled_visits,
        "unscheduled": [u.reason for u in cm.plan.unscheduled],
        "drive_hours": round(sum(r["drive_hours"] for r in summ), 1),
        "visits_per_lawyer": [r["visits"] for r in summ],
    }


def job_assumptions(model: CountyModel, target: CoverageTarget, cm: CountyMonth) -> list[str]:
    """What the figures rest on: modelled layers, location quality, the target, circuit rules."""
    q: dict[str, Any] = model.quality()
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
