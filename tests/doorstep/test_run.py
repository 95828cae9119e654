"""``doorstep run``: the whole job on the Huayuan default, in one folder."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from doorstep.cli import main
from doorstep.job import next_month

from ..conftest import needs_shared


def test_next_month():
    assert next_month(dt.date(2026, 11, 26)) == "2026-12"
    assert next_month(dt.date(2026, 12, 31)) == "2027-01"


@needs_shared
def test_run_writes_everything_consistently(tmp_path, capsys):
    out = tmp_path / "out"
    opts = ["--add", "2", "--lawyers", "4", "--month", "2026-12", "--no-serve"]
    rc = main(["-q", "run", "--out", str(out), *opts])
    assert rc == 0
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
    printed = capsys.readouterr().out
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
    import socket

    out = tmp_path / "never"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["-q", "run", "--out", str(out), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in capsys.readouterr().err and not out.exists()


@needs_shared
def test_run_then_serves_the_app(tmp_path):
    """The README's main command: the job, then the web app answering on loopback."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DOORSTEP_INSTANCE": str(tmp_path / "instance")}
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "doorstep.cli", "-q", "run", "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--add", "1", "--lawyers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 240
        body = None
        while time.time() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/nearest?lon=109.48&lat=28.57&mode=car"
                with urllib.request.urlopen(url, timeout=5) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                time.sleep(1)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert body is not None and body["results"][0]["minutes"] > 0
        assert (out / "report.md").is_file() and (out / "site" / "index.html").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
