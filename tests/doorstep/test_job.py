"""The job as a library call: options validated up front, output moved into place only when the
whole job succeeds (an interruption keeps nothing), the report rendered from the result."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from doorstep.analysis.coverage import CoverageTarget
from doorstep.geo._errors import DataFileError, InputError
from doorstep.geo.atomic import STAGE_MARK, staged_folder
from doorstep.job import STEPS, JobOptions, JobProgress, next_month, run_job
from doorstep.report import render_report_md, render_summary_text, run_manifest

from ..conftest import needs_shared


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- staging folder -------------------------------------------------------------------------


def test_staged_folder_moves_everything_in_and_keeps_other_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    (out / "sub" / "old.txt").write_text("old", encoding="utf-8")
    with staged_folder(out) as stage:
        assert stage.parent == out and stage.name.startswith(STAGE_MARK)
        (stage / "sub").mkdir()
        (stage / "sub" / "old.txt").write_text("new", encoding="utf-8")
        (stage / "fresh").mkdir()
        (stage / "fresh" / "a.txt").write_text("a", encoding="utf-8")
        assert not (out / "fresh").exists()  # nothing visible before the end
    assert _tree(out) == {"mine.txt": b"keep", "sub/old.txt": b"new", "fresh/a.txt": b"a"}
    assert (out / "fresh").stat().st_mode & 0o777 != 0o700  # not the private staging mode


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_staged_folder_keeps_nothing_when_interrupted(tmp_path: Path, exc: type) -> None:
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(exc), staged_folder(out) as stage:
        (stage / "half.txt").write_text("x", encoding="utf-8")
        raise exc()
    assert list(tmp_path.iterdir()) == []  # the folders it created are gone too
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(exc), staged_folder(existing) as stage:
        (stage / "mine.txt").write_text("overwritten?", encoding="utf-8")
        raise exc()
    assert _tree(existing) == {"mine.txt": b"keep"}
    assert [p.name for p in existing.iterdir()] == ["mine.txt"]


def test_staged_folder_refuses_a_file(tmp_path: Path) -> None:
    f = tmp_path / "out"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(DataFileError, match="existing file"), staged_folder(f):
        pass


# --- options --------------------------------------------------------------------------------


def test_options_defaults_and_derived_values(tmp_path: Path) -> None:
    walk = CoverageTarget(mode="walk")
    o = JobOptions(out=str(tmp_path / "o"), target=walk, month="2026-12")  # type: ignore[arg-type]
    assert o.out == tmp_path / "o" and o.circuit_month == "2026-12"
    assert o.circuit_mode == "car"  # lawyers drive even when the target is on foot
    assert o.target is walk
    assert JobOptions(target=CoverageTarget(mode="motorbike")).circuit_mode == "motorbike"
    assert JobOptions().circuit_month == next_month()
    assert JobOptions().target == CoverageTarget()  # the one default target (coverage.toml)


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"target": "car"}, "CoverageTarget"),
        ({"add": 51}, "--add"),
        ({"lawyers": 0}, "--lawyers"),
        ({"month": "2026-13"}, "month 13"),
        ({"basemap": "google"}, "basemap"),
        ({"basemap": "tianditu"}, "key"),
        ({"time_limit": 0}, "--time-limit"),
        ({"draws": -1}, "--draws"),
        ({"draws": 10_001}, "--draws"),
        ({"seed": -2}, "--seed"),
    ],
)
def test_options_refuse_bad_values(tmp_path: Path, kw: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError, match=words):
        JobOptions(out=tmp_path / "never", **kw)
    assert not (tmp_path / "never").exists()


def test_options_refuse_an_out_file(tmp_path: Path) -> None:
    f = tmp_path / "report.txt"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="existing file"):
        JobOptions(out=f)


def test_options_draws_default_and_steps() -> None:
    from doorstep.analysis.uncertainty import DEFAULT_RUN_DRAWS
    from doorstep.commands.run import RUN_DRAWS

    assert JobOptions().draws == DEFAULT_RUN_DRAWS == RUN_DRAWS == 200
    assert JobOptions().steps == STEPS == 10 and JobOptions(draws=0).steps == 9


def test_options_accept_tianditu_with_a_key() -> None:
    assert JobOptions(basemap="tianditu", tianditu_key="abc").tianditu_key == "abc"


# --- renderers ------------------------------------------------------------------------------


def _fake_uncertainty() -> dict[str, Any]:
    """A ``run.json`` uncertainty block as :func:`doorstep.ranges.uncertainty_figures` gives."""

    def fig(v: float, lo: float, hi: float) -> dict[str, float]:
        return {"value": v, "p05": lo, "p95": hi}

    county = {
        "mode": "car",
        "population": 1234,
        "share_within_15": fig(0.25, 0.2, 0.3),
        "share_within_30": fig(0.875, 0.8, 0.9),
        "share_within_60": fig(1.0, 1.0, 1.0),
        "share_meeting_target": fig(0.75, 0.625, 0.8125),
        "mean_min": fig(21.5, 19.0, 26.25),
    }
    town = {**county, "town_code": "T1", "town_name": "乙乡", "mean_min": fig(22.0, 20.5, 30.0)}
    return {
        "draws": 50,
        "seed": 7,
        "county": [county],
        "townships": [town],
        "gap_class_counts": {"robust gap": 1, "uncertain": 1, "served": 1},
        "gap_villages": [
            {
                "code": "V2",
                "name": "丙村",
                "township": "乙乡",
                "population": 150,
                "minutes": 41.0,
                "minutes_p05": 35.5,
                "minutes_p95": 52.0,
                "target_minutes": 30.0,
                "p_miss": 0.96,
                "gap_class": "robust gap",
                "imputed_point": True,
            }
        ],
        "siting": {
            "draws": 50,
            "sites": [{"code": "V1", "name": "甲村", "stay_share": 0.8}],
            "coverage_after": {"p05": 0.9125, "p50": 0.95, "p95": 0.99},
            "plan_coverage_p05": 0.9125,
        },
        "sensitivity": {
            "mode": "car",
            "rows": [
                {
                    "parameter": "speed village (car)",
                    "low": 0.75,
                    "nominal": 1.0,
                    "high": 1.25,
                    "share_at_low": 0.7,
                    "share_at_high": 0.8,
                    "share_nominal": 0.75,
                    "swing": 0.1,
                }
            ],
        },
        "nominal_outside_range": [
            {
                "mode": "walk",
                "where": "乙乡",
                "figure": "share_within_15",
                "nominal": 0.125,
                "p05": 0.0,
                "p95": 0.0625,
                "nominal_is": "above the range",
            }
        ],
    }


def _fake_result(siting: bool, uncertainty: bool = False) -> Any:
    figures: dict[str, Any] = {
        "population": 1234,
        "villages": 3,
        "coverage": {
            "mode": "car",
            "breaks_minutes": [15.0, 30.0, 60.0],
            "share_within": [0.25, 0.875, 1.0],
            "mean_minutes": 21.5,
            "p90_minutes": 40.0,
            "townships_complying": 1,
            "townships": 2,
        },
        "underserved_villages": 1,
        "underserved_population": 150,
        "gini_travel_time": 0.1234,
        "critical_links": [{"name": "S229", "population_losing": 1500}],
        "circuits": {
            "month": "2026-12",
            "lawyers": 2,
            "required": 3,
            "scheduled": 2,
            "unscheduled": ["V3: no day left"],
            "drive_hours": 7.5,
            "visits_per_lawyer": [1, 1],
        },
    }
    if siting:
        figures["siting"] = {
            "status": "optimal",
            "gap": 0.0,
            "sites": ["甲村"],
            "population_newly_covered": 150,
            "coverage_before": 0.875,
            "coverage_after": 1.0,
        }
    towns = pd.DataFrame(
        [
            {
                "mode": "car",
                "town_code": "T1",
                "town_name": "乙乡",
                "population": 1234,
                "share_meeting_target": 0.75,
                "mean_min": 22.0,
                "complies": False,
            }
        ]
    )
    site_doc = {
        "sites_opened": [
            {"code": "V1", "name": "甲村", "township": "乙乡", "location_status": "confirmed"}
        ]
    }
    return SimpleNamespace(
        options=SimpleNamespace(draws=50 if uncertainty else 0, seed=7),
        coverage=SimpleNamespace(townships=towns),
        siting=site_doc if siting else None,
        uncertainty=_fake_uncertainty() if uncertainty else None,
        validation=None,
        checks={"status": "not run", "why": "no reference data"},
        model=SimpleNamespace(name="测试县", code="999999", vintage="2023"),
        target=SimpleNamespace(
            mode="car", rural_minutes=30.0, urban_minutes=15.0, breaks=(15.0, 30.0, 60.0)
        ),
        services=_fake_services(),
        figures=figures,
        month="2026-12",
        out=Path("o"),
        atlas=Path("o/site/index.html"),
        files=("report.md", "run.json"),
        seconds={"total": 1.0},
        quality={"modelled_layers": ["roads"]},
        assumptions=("modelled layers (not measured): roads",),
        generated="2026-12-01T00:00:00+00:00",
        charts=None,
        warnings=(),
    )


def _fake_services() -> Any:
    row = {
        "service": "consultation",
        "name_zh": "法律咨询",
        "name_en": "Legal consultation",
        "points": 2,
        "share_within_15": 0.25,
        "share_within_30": 0.875,
        "share_within_60": 1.0,
        "mean_min": 21.5,
        "note": "",
    }
    queue = {
        "windows": 6,
        "service_min": 29.4,
        "saturation_year": 2025,
        "years": [
            {
                "year": 2018,
                "arrivals_per_hour": 1.5,
                "utilisation": 0.12,
                "p_wait": 0.001,
                "wait_min": 0.01,
            },
            {
                "year": 2025,
                "arrivals_per_hour": 17.0,
                "utilisation": 1.4,
                "p_wait": None,
                "wait_min": None,
            },
        ],
    }
    demand = {"county_centre_queue": queue, "meta": {"assumptions": ["demand modelled"]}}
    return SimpleNamespace(county=[row], demand=demand)


def test_report_is_rendered_from_the_result() -> None:
    md = render_report_md(_fake_result(siting=True))
    assert "| 法律咨询 Legal consultation | 2 | 25.0% | 87.5% | 100.0% | 21.5 |" in md
    assert "saturate in **2025**" in md and "| 2025 | 17.00 | 140% | — | saturated |" in md
    assert md.startswith("# 测试县 家门口法律服务规划 报告")
    assert "| ≤ 15 | 25.0% | — |\n| ≤ 30 | 87.5% | — |\n| ≤ 60 | 100.0% | — |" in md
    assert "1 of 2 townships meet the target. Gini of travel time 0.123." in md
    assert "1 villages (150 persons)" in md and "- S229: 1,500" in md
    assert "New sites: 甲村. Coverage 87.5% → 100.0% (+150 persons)" in md
    assert "2 of 3 visits scheduled for 2 lawyers, 7.5 h" in md and "- unscheduled: V3" in md
    assert "- modelled layers (not measured): roads" in md
    assert "Siting" not in render_report_md(_fake_result(siting=False))
    # --draws 0: no range anywhere, the validation says why it did not run
    assert "| 乙乡 | 1,234 | 75.0% | — | 22.0 | — | 否 no |" in md
    assert "--draws 0" in md and "Sensitivity" not in md and "sensitivity.svg" not in md
    assert "## 模型检验 Validation against published facts" in md
    assert "Not run: no reference data" in md
    assert "| 甲村 | 乙乡 | — | confirmed |" in md


def test_report_puts_a_range_on_every_figure() -> None:
    md = render_report_md(_fake_result(siting=True, uncertainty=True))
    assert "| ≤ 15 | 25.0% | 20.0–30.0 % |" in md and "| ≤ 30 | 87.5% | 80.0–90.0 % |" in md
    assert "| 达标 meeting the target | 75.0% | 62.5–81.2 % |" in md
    assert "Mean travel time 21.5 min (range 19.0–26.2 min)" in md
    assert "| 乙乡 | 1,234 | 75.0% | 62.5–81.2 % | 22.0 | 20.5–30.0 min | 否 no |" in md
    row = "| 丙村 | 乙乡 | 150 | 41.0 | 35.5–52.0 min | 30 | 96% | 稳定盲区 robust gap "
    assert row + "| 待核实位置 imputed point |" in md
    assert "| 甲村 | 乙乡 | 80% | confirmed |" in md and "5th percentile 91.2%" in md
    assert "![敏感性龙卷风图 Sensitivity tornado chart](sensitivity.svg)" in md
    assert "| speed village (car) | 0.75 | 1 | 1.25 | 70.0% | 80.0% | 10.0 |" in md
    assert "- walk, 乙乡, share_within_15: 12.5% above the range 0.0%–6.2%" in md
    text = render_summary_text(_fake_result(siting=True, uncertainty=True))
    assert "范围 range (50 draws, seed 7): meeting target 62.5–81.2 %" in text
    assert "robust gaps 1, uncertain 1" in text


def test_manifest_and_summary_are_rendered_from_the_result() -> None:
    r = _fake_result(siting=True)
    m = run_manifest(r)
    assert m["figures"] is r.figures and m["files"] == ["report.md", "run.json"]
    assert m["target"] == {"mode": "car", "rural_minutes": 30.0, "urban_minutes": 15.0}
    assert m["atlas"] == str(Path("o/site/index.html"))
    assert m["uncertainty"] is None and m["ensemble"] == {"draws": 0, "seed": 7}
    assert m["validation"] == {"status": "not run", "why": "no reference data"}
    text = render_summary_text(r)
    assert "25.0% / 87.5% / 100.0% of 1,234 people within 15 / 30 / 60 min" in text
    assert "选址 +1 sites (甲村): coverage 87.5% → 100.0% (optimal)" in text
    assert "2/3 visits, 2 lawyers, 7.5 h driving" in text


@needs_shared
def test_a_failing_validation_does_not_fail_the_job(
    tmp_path: Path, monkeypatch: Any, huayuan_model: Any
) -> None:
    import doorstep.job as job

    def boom(*args: Any, **kw: Any) -> None:
        raise RuntimeError("reference folder unreadable")

    monkeypatch.setattr(job, "validate_against_world", boom)
    rep, why = job._validation_step(JobOptions(out=tmp_path / "o"), huayuan_model, tmp_path)
    assert rep is None and why == "RuntimeError: reference folder unreadable"
    assert not (tmp_path / "validation").exists()
    from doorstep.ranges import validation_figures

    assert validation_figures(rep, why) == {"status": "not run", "why": why}


# --- the job, interrupted -------------------------------------------------------------------


class _StopAt:
    """A progress callback that presses Ctrl-C when step ``n`` starts, recording the events."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.events: list[JobProgress] = []

    def __call__(self, ev: JobProgress) -> None:
        self.events.append(ev)
        if ev.step == self.n and ev.seconds is None:
            raise KeyboardInterrupt


@needs_shared
def test_interrupted_job_keeps_no_partial_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stop = _StopAt(5)  # after the model, coverage, gaps and (no) siting files were written
    with pytest.raises(KeyboardInterrupt):
        run_job(JobOptions(out=out, add=0, lawyers=2, month="2026-12", draws=0), progress=stop)
    assert [(e.step, e.seconds is None) for e in stop.events] == [
        (i, start) for i in range(1, 5) for start in (True, False)
    ] + [(5, True)]
    assert "228 villages" in stop.events[1].detail and stop.events[1].total == STEPS - 1
    assert stop.events[-1].name.startswith("validation")  # --draws 0: no ensemble step
    assert not out.exists()


@needs_shared
def test_interrupted_run_leaves_an_earlier_output_as_it_was(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    """Ctrl-C during ``doorstep run`` (here in the atlas step): the message is now true."""
    import doorstep.job as job
    from doorstep.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("last month's report", encoding="utf-8")
    before = _tree(out)

    def ctrl_c(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "_atlas_step", ctrl_c)
    args = ["-q", "run", "--out", str(out), "--no-serve", "--add", "1", "--lawyers", "2"]
    args += ["--draws", "0"]
    assert main([*args, "--month", "2026-12"]) == 130
    assert "no partial output was kept" in capsys.readouterr().err
    assert _tree(out) == before and [p.name for p in out.iterdir()] == ["report.md"]


@needs_shared
def test_interrupted_gaps_out_keeps_nothing(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    """``gaps --out DIR`` is staged too: Ctrl-C after gaps.json and the CSVs keeps none of them."""
    import doorstep.outputs as outputs
    from doorstep.cli import main

    written: list[str] = []

    def ctrl_c(layers: Any, path: Path) -> None:
        written.extend(sorted(p.name for p in path.parent.iterdir()))
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "write_gpkg", ctrl_c)
    out = tmp_path / "gaps"
    assert main(["-q", "gaps", "--out", str(out)]) == 130
    assert written == ["critical_links.csv", "gaps.json", "gaps_villages.csv"]
    assert not out.exists() and "no partial output was kept" in capsys.readouterr().err


@needs_shared
def test_run_without_weasyprint_writes_the_html_and_says_why(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    """No usable WeasyPrint: ``doorstep run`` still writes ``report.html``, no ``report.pdf``,
    and the reason is a warning in ``run.json`` and in the printed summary."""
    import json

    from doorstep.cli import main
    from doorstep.webmap import printing

    def no_pdf(html: str, **kw: Any) -> bytes:
        raise printing.PdfUnavailable("cannot write PDF: WeasyPrint is not usable (test)")

    monkeypatch.setattr(printing, "html_to_pdf", no_pdf)
    out = tmp_path / "out"
    args = ["-q", "run", "--out", str(out), "--no-serve", "--add", "0", "--lawyers", "2"]
    assert main([*args, "--draws", "0", "--month", "2026-12"]) == 0
    printed = capsys.readouterr().out
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (out / "report.html").stat().st_size > 10_000 and not (out / "report.pdf").exists()
    assert "report.html" in run["files"] and "report.pdf" not in run["files"]
    (warning,) = run["warnings"]
    assert warning.startswith("report.pdf not written") and "WeasyPrint is not usable" in warning
    assert f"警告 warning: {warning}" in printed
    assert "printable report: " + str(out / "report.html") + "\n" in printed
    assert "report.html" in run["seconds"] and "report.pdf" not in run["seconds"]
