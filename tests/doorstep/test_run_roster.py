"""``doorstep run --roster FILE``: the job plans the month with the staff roster and prints it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from doorstep.cli import main
from doorstep.geo._errors import InputError
from doorstep.job import JobOptions, _circuit_figures, _circuits_step
from tests.analysis.fakecounty import line_county


def _roster(folder: Any) -> Any:
    f = folder / "roster.csv"
    f.write_text(
        "姓名,电话,驻点,服务村\n李律师,139001,县中心,城关社区、四社区\n张律师,139002,S,一村、三村\n",
        encoding="utf-8",
    )
    return f


def test_run_passes_the_roster_to_the_job(tmp_path, monkeypatch) -> None:
    seen: list[JobOptions] = []

    class Stop(Exception):
        pass

    def fake_run_job(options: JobOptions, *a: Any, **k: Any) -> None:
        seen.append(options)
        raise Stop

    monkeypatch.setattr("doorstep.job.run_job", fake_run_job)
    f = _roster(tmp_path)
    with pytest.raises(Stop):
        main(["run", "--out", str(tmp_path / "o"), "--roster", str(f), "--no-serve"])
    assert seen[0].roster == f


def test_lawyers_beside_a_roster_is_refused(tmp_path, capsys) -> None:
    f = _roster(tmp_path)
    code = main(["run", "--out", str(tmp_path / "o"), "--roster", str(f), "--lawyers", "3"])
    assert code == 2 and "not both" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_missing_roster_is_refused_before_any_work(tmp_path) -> None:
    with pytest.raises(InputError, match=r"--roster .*nope\.csv: no such file"):
        JobOptions(out=tmp_path / "o", roster=tmp_path / "nope.csv")
    assert not (tmp_path / "o").exists()


def test_circuits_step_plans_with_the_roster_and_writes_the_printables(tmp_path) -> None:
    opts = JobOptions(out=tmp_path / "o", roster=_roster(tmp_path), draws=0, add=0)
    cdir = tmp_path / "circuits"
    cm, _, seconds = _circuits_step(opts, "2026-12", line_county(), cdir)
    owner = {s.village: r.lawyer_id for r in cm.plan.routes for s in r.stops}
    assert owner == {"城关社区": "李律师", "四社区": "李律师", "一村": "张律师", "三村": "张律师"}
    fig = _circuit_figures(cm)
    assert fig["plan_source"] == "工作人员名册 staff roster roster.csv" and fig["lawyers"] == 2
    assert seconds > 0
    written = {str(p.relative_to(cdir)) for p in cdir.rglob("*") if p.is_file()}
    assert {
        "schedule-2026-12.html",
        "schedule-2026-12.pdf",
        "routes-2026-12/李律师.pdf",
        "routes-2026-12/张律师.html",
        "ics/张律师.ics",
    } <= written
    plan = json.loads((cdir / "plan-2026-12.json").read_text(encoding="utf-8"))
    assert plan["county"] == "999999"
    assert "139002" in (cdir / "routes-2026-12" / "张律师.html").read_text(encoding="utf-8")


def test_without_weasyprint_the_job_prints_html_only(tmp_path, monkeypatch, caplog) -> None:
    from doorstep.webmap import printing

    def no_pdf(*a: Any, **k: Any) -> bytes:
        raise printing.PdfUnavailable("cannot write PDF: WeasyPrint is not usable (test)")

    monkeypatch.setattr(printing, "html_to_pdf", no_pdf)
    opts = JobOptions(out=tmp_path / "o", draws=0, add=0, lawyers=2)
    cdir = tmp_path / "circuits"
    _circuits_step(opts, "2026-12", line_county(), cdir)
    assert (cdir / "schedule-2026-12.html").is_file()
    assert not list(cdir.rglob("*.pdf"))
    assert "printables written as HTML only" in caplog.text


def test_the_report_says_which_roster_planned_the_month() -> None:
    from doorstep.report import render_report_md
    from tests.doorstep.test_job import _fake_result

    result = _fake_result(siting=False)
    assert "排班来源" not in render_report_md(result)
    result.figures["circuits"]["plan_source"] = "工作人员名册 staff roster roster.csv"
    md = render_report_md(result)
    assert "排班来源 Plan source: 工作人员名册 staff roster roster.csv." in md
    assert "`circuits/schedule-" in md and "route sheets 路线单" in md
