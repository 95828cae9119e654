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

import pandas as pd
import pytest

from doorstep.cli import main
from doorstep.job import next_month

from ..conftest import needs_data

OPTS = ["--add", "2", "--lawyers", "4", "--month", "2026-12"]
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
        f"L{i}.ics" for i in range(1, 5)
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
