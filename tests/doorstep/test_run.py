"""``doorstep run``: the whole job on the Huayuan default, in one folder, then the web app.

The job runs once for this module, as the README's main command (job, then serve) in a
subprocess: ``python -m doorstep run --out OUT`` with the web app on a free loopback port and its
instance folder under tmp. The tests below read that one output and talk to that one server.
With ``-n 2`` the module stays on one worker (``--dist loadfile`` in pyproject), so the job runs
once, not once per worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from doorstep.cli import main
from doorstep.job import next_month

from ..conftest import needs_data
from ..webmap.test_browser import CHROMIUM, Page
from ..webmap.test_browser import browser as browser  # the browser tests' fixtures, shared
from ..webmap.test_browser import shots as shots

DRAWS, SEED = 40, 3  # fewer than the default 200: the ranges are tested, not their precision
OPTS = ["--add", "2", "--lawyers", "4", "--month", "2026-12", "--draws", str(DRAWS)]
OPTS += ["--seed", str(SEED)]
STARTUP_S = 600  # the job and the app's first load on a loaded 2-core machine, bounded


@dataclasses.dataclass
class Job:
    out: Path
    instance: Path
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def printed(self) -> str:
        return (self.log / "stdout").read_text(encoding="utf-8")

    def stderr_tail(self) -> str:
        return (self.log / "stderr").read_text(encoding="utf-8", errors="replace")[-3000:]

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=60) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory, reference_data: Path) -> Iterator[Job]:
    """The README's main command, run once: the outputs in ``out/`` and the app answering."""
    base = tmp_path_factory.mktemp("doorstep-run")
    out, instance = base / "out", base / "app-instance"
    port = _free_port()
    env = {**os.environ, "DOORSTEP_INSTANCE": str(instance), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "doorstep", "-q", "run", "--out", str(out), *OPTS]
    with open(base / "stdout", "wb") as so, open(base / "stderr", "wb") as se:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)], cwd=base, env=env, stdout=so, stderr=se
        )
    j = Job(out=out, instance=instance, url=f"http://127.0.0.1:{port}", proc=proc, log=base)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"doorstep run exited with {proc.returncode}:\n{j.stderr_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the web app did not answer within {STARTUP_S} s:\n{j.stderr_tail()}")
            try:
                j.get("/api/health")
                break
            except OSError:  # not listening yet (the job is still running), or still loading
                time.sleep(0.5)
        yield j
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_next_month():
    assert next_month(dt.date(2026, 11, 26)) == "2026-12"
    assert next_month(dt.date(2026, 12, 31)) == "2027-01"


@needs_data
def test_run_writes_everything_consistently(job: Job) -> None:
    out = job.out
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    f = run["figures"]
    # coverage figures equal the county table written next to them
    county = pd.read_csv(out / "coverage" / "coverage_county.csv")
    car = county[county["mode"] == "car"].iloc[0]
    assert f["coverage"]["share_within"] == pytest.approx(
        [car["share_within_15"], car["share_within_30"], car["share_within_60"]]
    )
    assert f["population"] == 249_238 and f["villages"] == 228
    gaps = pd.read_csv(out / "gaps" / "gaps_villages.csv")
    assert f["underserved_villages"] == len(gaps) > 0
    siting = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    assert len(siting["sites_opened"]) == 2 and siting["status"] == "optimal"
    assert siting["coverage_after"] > siting["coverage_before"]
    c = f["circuits"]
    assert (c["lawyers"], c["required"], c["scheduled"]) == (4, 228, 228)
    assert sum(c["visits_per_lawyer"]) == 228
    assert sorted(p.name for p in (out / "circuits" / "ics").iterdir()) == [
        *(f"L{i}.ics" for i in range(1, 5)),
        "all-advisers.ics",
    ]
    routes = json.loads((out / "circuits" / "routes-2026-12.geojson").read_text("utf-8"))
    assert routes["features"] and all(
        x["properties"]["geometry_source"] == "roads" for x in routes["features"]
    )
    html = (out / "site" / "index.html").read_text(encoding="utf-8")
    assert "律师巡回路线" in html and "modelled" in html.lower()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "花垣县" in report and "modelled" in report
    assert f"| ≤ 30 | {f['coverage']['share_within'][1]:.1%} |" in report
    assert set(run["files"]) >= {
        "model.gpkg",
        "summary.json",
        "coverage/coverage.gpkg",
        "gaps/gaps.gpkg",
        "circuits/ledger-2026-12.xlsx",
        "site/index.html",
        "report.md",
    }
    assert not list(out.rglob("*.tmp*"))  # nothing half-written left behind
    printed = job.printed()
    share30 = f"{f['coverage']['share_within'][1]:.1%}"  # the printed summary matches run.json
    assert "228/228 visits" in printed and share30 in printed


def test_run_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["-q", "run", "--out", str(out), "--minutes", "-5"]) == 2
    assert main(["-q", "run", "--out", str(out), "--month", "2026-13"]) == 2
    err = capsys.readouterr().err
    assert "--minutes" in err and "month 13" in err and "Traceback" not in err
    assert not out.exists()


def test_run_refuses_a_busy_port_before_working(tmp_path, capsys):
    out = tmp_path / "never"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["-q", "run", "--out", str(out), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in capsys.readouterr().err and not out.exists()


@needs_data
def test_run_then_serves_the_app(job: Job) -> None:
    """After the job, the same command serves the web app with the instance it was given."""
    body = job.get("/api/nearest?lon=109.48&lat=28.57&mode=car")
    assert body["results"][0]["minutes"] > 0
    assert job.proc.poll() is None, job.stderr_tail()
    assert (job.out / "report.md").is_file() and (job.out / "site" / "index.html").is_file()
    assert (job.instance / "secret_key").is_file()  # DOORSTEP_INSTANCE, not ./instance
    assert not (job.log / "instance").exists()


def _run_json(job: Job) -> dict:
    return json.loads((job.out / "run.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _outside(run: dict) -> set[tuple[str, str, str]]:
    """(mode, where, figure) of every figure in run.json whose value lies outside its range."""
    u, out = run["uncertainty"], set()
    for rows, where in ((u["county"], None), (u["townships"], "town_name")):
        for row in rows:
            for name, fig in row.items():
                if isinstance(fig, dict) and fig["value"] is not None:
                    assert fig["p05"] <= fig["p95"], (row["mode"], name)
                    if not fig["p05"] - 1e-12 <= fig["value"] <= fig["p95"] + 1e-12:
                        out.add((row["mode"], row[where] if where else "county", name))
    return out


@needs_data
def test_run_json_puts_a_range_on_every_figure(job: Job) -> None:
    run = _run_json(job)
    u = run["uncertainty"]
    assert (u["draws"], u["seed"]) == (DRAWS, SEED) == tuple(run["ensemble"].values())
    county = {r["mode"]: r for r in u["county"]}
    assert set(county) == {"car", "motorbike", "walk"} and len(u["townships"]) == 3 * 12
    for row in [*u["county"], *u["townships"]]:
        assert {"share_within_15", "share_within_30", "share_within_60"} <= set(row)
        assert {"share_meeting_target", "mean_min"} <= set(row)
    car = county["car"]  # the nominal value is the one of the headline figures
    assert car["share_within_30"]["value"] == pytest.approx(
        run["figures"]["coverage"]["share_within"][1]
    )
    assert car["share_within_30"]["p05"] < car["share_within_30"]["p95"]  # draws do move it
    named = {(x["mode"], x["where"], x["figure"]) for x in u["nominal_outside_range"]}
    assert named == _outside(run)
    sides = {x["nominal_is"] for x in u["nominal_outside_range"]}
    assert sides <= {"below the range", "above the range"}


@needs_data
def test_run_json_classes_villages_and_sites(job: Job) -> None:
    u = _run_json(job)["uncertainty"]
    assert sum(u["gap_class_counts"].values()) == 228
    gv = u["gap_villages"]
    assert len(gv) == u["gap_class_counts"].get("robust gap", 0) + u["gap_class_counts"].get(
        "uncertain", 0
    )
    for v in gv:
        assert (v["gap_class"] == "robust gap") == (v["p_miss"] >= 0.9)
        assert v["gap_class"] == "robust gap" or 0.1 <= v["p_miss"] < 0.9
    villages = pd.read_csv(job.out / "coverage" / "coverage_villages.csv", dtype={"code": str})
    imputed = set(villages.loc[villages["location_quality"] == "imputed", "code"])
    assert {v["code"] for v in gv if v["imputed_point"]} == {v["code"] for v in gv} & imputed
    s = u["siting"]
    siting = json.loads((job.out / "siting.json").read_text(encoding="utf-8"))
    assert [x["code"] for x in s["sites"]] == [x["code"] for x in siting["sites_opened"]]
    assert all(0 <= x["stay_share"] <= 1 and x["location_status"] for x in s["sites"])
    after = s["coverage_after"]
    assert s["plan_coverage_p05"] == after["p05"] <= after["p50"] <= after["p95"] <= 1
    rows = u["sensitivity"]["rows"]
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0


@needs_data
def test_run_report_has_ranges_sensitivity_and_validation(job: Job) -> None:
    import xml.etree.ElementTree as ET

    run = _run_json(job)
    u, report = run["uncertainty"], (job.out / "report.md").read_text(encoding="utf-8")
    (car,) = [r for r in u["county"] if r["mode"] == "car"]
    rng = car["share_within_30"]
    assert f"| {100 * rng['p05']:.1f}–{100 * rng['p95']:.1f} % |" in report
    assert "## 模型检验 Validation against published facts" in report
    assert "published 距县城 distances vs network distance — ok" in report
    assert "## 敏感性 Sensitivity (one at a time)" in report and "](sensitivity.svg)" in report
    for r in u["sensitivity"]["rows"]:
        assert f"| {r['parameter']} | {r['low']:g} | {r['nominal']:g} | {r['high']:g} |" in report
    svg = ET.parse(job.out / "sensitivity.svg").getroot()
    bars = [b for b in svg.iter("{http://www.w3.org/2000/svg}rect") if b.get("class") == "bar"]
    assert [b.get("data-parameter") for b in bars] == [
        r["parameter"] for r in u["sensitivity"]["rows"]
    ]
    atlas = (job.out / "site" / "index.html").read_text(encoding="utf-8")
    assert atlas.count('<rect class="bar"') == len(bars) and 'id="ds-evidence"' in atlas
    assert 'data-check="road_length"' in atlas
    assert run["validation"]["checks_ok"] + run["validation"]["checks_not_run"] == 6
    assert {"validation/validation.json", "uncertainty.json", "sensitivity.svg"} <= set(
        run["files"]
    )
    assert {"ensemble 不确定性", "validation 模型检验"} <= set(run["seconds"])
    assert "ensemble" in job.printed() and "检验 validation" in job.printed()


@needs_data
def test_run_uncertainty_is_reproducible(job: Job) -> None:
    """The same seed gives the same block: recomputed here from the same model and seed."""
    from doorstep import jsonio
    from doorstep.analysis.coverage import CoverageTarget, coverage
    from doorstep.analysis.siting.county import county_problem, site_report, solve_county
    from doorstep.analysis.uncertainty import run_ensemble
    from doorstep.geo.model import build_county_model
    from doorstep.ranges import uncertainty_figures

    model, target = build_county_model(), CoverageTarget()
    cs = county_problem(model, mode=target.mode)
    res = solve_county(cs, "mclp", add=2, target=target, time_limit=60)
    cov = coverage(model, target)
    ens = run_ensemble(
        model, target, draws=DRAWS, seed=SEED, result=cov, siting=(cs, res, "mclp", 2, target)
    )
    block = uncertainty_figures(ens, cov, site_report(model, cs, res, "mclp", target))
    assert json.loads(jsonio.json_text(block)) == _run_json(job)["uncertainty"]


def test_run_reports_coverage_per_service_and_the_centre_queue(job: Job) -> None:
    import csv

    run = _run_json(job)
    report = (job.out / "report.md").read_text(encoding="utf-8")
    county = {r["service"]: r for r in run["services"]["coverage_county"]}
    assert {"consultation", "legal_aid", "mediation"} <= set(county)
    # consultation = any counting point: the same share as the job's own coverage figure
    share30 = run["figures"]["coverage"]["share_within"][1]
    assert county["consultation"]["share_within_30"] == pytest.approx(share30, abs=1e-9)
    with open(job.out / "services" / "service_coverage.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(county) * (1 + len(job_townships(run)))
    q = run["services"]["demand"]["county_centre_queue"]
    assert q["windows"] == 6 and "## 分项服务覆盖 Coverage per service" in report
    sat = q["saturation_year"]
    assert f"saturate in **{sat}**" in report
    assert all(y["utilisation"] >= 0 for y in q["years"])


def job_townships(run: dict) -> list[str]:
    return sorted({r["town_code"] for r in run["uncertainty"]["townships"]})


# --- the printable report: report.html and report.pdf agree with run.json -------------------


def _report_svgs(job: Job) -> dict[str, Any]:
    """The root ``<svg>`` element of each chart of ``report.html`` by figure key."""
    import re
    import xml.etree.ElementTree as ET

    html = (job.out / "report.html").read_text(encoding="utf-8")
    figs = re.findall(r'<figure class="chart" id="fig-([a-z_]+)">.*?(<svg.*?</svg>)', html, re.S)
    return {k: ET.fromstring(svg) for k, svg in figs}


def _marks(root: Any, tag: str, cls: str) -> list[Any]:
    return [e for e in root.iter(SVG + tag) if cls in (e.get("class") or "").split()]


SVG = "{http://www.w3.org/2000/svg}"


@needs_data
def test_run_report_html_charts_are_the_run_json_figures(job: Job) -> None:
    run = _run_json(job)
    f, u, charts = run["figures"], run["uncertainty"], run["charts"]
    svgs = _report_svgs(job)
    assert list(svgs) == [
        "townships", "histogram", "map", "marginal_curve", "sensitivity", "advisers",
    ]  # fmt: skip
    # township bars: the share meeting the target and its 5–95 % range of every township
    towns = {
        r["town_name"]: r["share_meeting_target"] for r in u["townships"] if r["mode"] == "car"
    }
    bars = _marks(svgs["townships"], "rect", "bar")
    assert len(bars) == 12 == len(towns)
    for b, w in zip(bars, _marks(svgs["townships"], "path", "whisker"), strict=True):
        fig = towns[b.get("data-name")]
        assert float(b.get("data-share")) == pytest.approx(fig["value"], abs=1e-6)
        assert float(b.get("width")) == pytest.approx(460 * fig["value"], abs=0.01)
        assert float(w.get("data-p05")) == pytest.approx(fig["p05"], abs=1e-6)
        assert float(w.get("data-p95")) == pytest.approx(fig["p95"], abs=1e-6)
    # histogram: every person once per mode; the bins up to 30 min are the 30-minute share
    for panel in _marks(svgs["histogram"], "g", "panel"):
        persons = [int(b.get("data-persons")) for b in _marks(panel, "rect", "bin")]
        assert sum(persons) == pytest.approx(f["population"], abs=len(persons))
        if panel.get("data-mode") == "car":
            within = sum(
                p for b, p in zip(_marks(panel, "rect", "bin"), persons, strict=True)
                if float(b.get("data-to")) <= 30
            )  # fmt: skip
            assert within / f["population"] == pytest.approx(
                f["coverage"]["share_within"][1], abs=1e-3
            )
    # map: one ring per underserved village, every village coloured
    assert (
        len(list(_marks(svgs["map"], "g", "gap")[0].iter(SVG + "circle")))
        == f["underserved_villages"]
    )
    assert (
        sum(len(list(g.iter(SVG + "circle"))) for g in _marks(svgs["map"], "g", "village-band"))
        == 228
    )
    # marginal curve: k = 0 is today's coverage, k = --add the proposal's
    pts = _marks(svgs["marginal_curve"], "circle", "point")
    assert [int(p.get("data-k")) for p in pts] == [0, 1, 2]
    assert float(pts[0].get("data-share")) == pytest.approx(
        f["siting"]["coverage_before"], abs=1e-6
    )
    assert float(pts[-1].get("data-share")) == pytest.approx(
        f["siting"]["coverage_after"], abs=1e-6
    )
    # tornado: one bar per sensitivity row
    tb = _marks(svgs["sensitivity"], "rect", "bar")
    assert [b.get("data-parameter") for b in tb] == [
        r["parameter"] for r in u["sensitivity"]["rows"]
    ]
    # advisers: the visits add up to the month's, the hours to its driving
    adv = _marks(svgs["advisers"], "rect", "bar")
    visits = [float(b.get("data-value")) for b in adv if b.get("data-metric") == "visits"]
    drive = [float(b.get("data-value")) for b in adv if b.get("data-metric") == "drive_hours"]
    assert sum(visits) == f["circuits"]["scheduled"] == 228 and len(visits) == 4
    assert sum(drive) == pytest.approx(f["circuits"]["drive_hours"], abs=0.1)
    assert [r["visits"] for r in charts["advisers"]] == f["circuits"]["visits_per_lawyer"]


@needs_data
def test_run_report_pdf_has_the_expected_a4_pages(job: Job) -> None:
    import os
    import stat

    pdfium = pytest.importorskip("pypdfium2")
    from doorstep.geo.atomic import file_mode
    from doorstep.webmap.report_html import CAPTIONS

    run = _run_json(job)
    assert {"report.html", "report.pdf"} <= set(run["files"]) and run["warnings"] == []
    for name in ("report.html", "report.pdf"):
        mode = stat.S_IMODE((job.out / name).stat().st_mode)
        assert mode == file_mode(), (name, oct(mode))  # 0644 under umask 022
    doc = pdfium.PdfDocument(str(job.out / "report.pdf"))
    texts = [doc[i].get_textpage().get_text_range().replace("\r\n", " ") for i in range(len(doc))]
    assert all(tuple(round(x) for x in doc[i].get_size()) == (595, 842) for i in range(len(doc)))
    assert "花垣县 家门口法律服务规划报告" in texts[0] and "Modelled data notice" in texts[0]
    flat = [t.replace(" ", "") for t in texts]
    pages = [
        next(i for i, t in enumerate(flat) if c.replace(" ", "") in t) for c in CAPTIONS.values()
    ]
    assert pages == sorted(pages) and len(set(pages)) == 6  # one chart a page, in order
    assert len(doc) == pages[-1] + 2  # then the assumptions
    sec = run["seconds"]
    print(f"report.html {sec['report.html']} s, report.pdf {sec['report.pdf']} s, {len(doc)} pages")
    assert os.path.getsize(job.out / "report.pdf") > 50_000


@needs_data
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_run_report_html_in_chromium_is_drawn_and_offline(
    job: Job,
    browser: Any,
    shots: Path,
) -> None:
    """report.html opened from disk in headless Chromium: six charts drawn at a readable size,
    a screenshot that is not blank, and no request leaving the machine."""
    page = Page(browser, shots, viewport={"width": 900, "height": 1200})
    page.page.goto((job.out / "report.html").as_uri())
    page.page.wait_for_load_state("load")
    widths = page.page.eval_on_selector_all(
        "figure.chart svg", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert len(widths) == 6 and min(widths) > 500, widths
    page.page.locator("#fig-map").scroll_into_view_if_needed()
    shot = page.shot("report_html_map")
    page.page.evaluate("window.scrollTo(0, 0)")
    first = page.shot("report_html_first_page")
    page.close()  # fails if any request left the machine or a script failed
    # a blank page compresses to a few KB; the map and the headline table do not
    assert shot.stat().st_size > 40_000 and first.stat().st_size > 40_000
