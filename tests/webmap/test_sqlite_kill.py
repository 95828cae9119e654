"""kill -9 in the middle of a scenario save leaves the SQLite database with the previous data."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

from doorstep.geo.settings import PROJECT_ROOT

CHILD = r"""
import sys
from flask import Flask
from doorstep.webmap.app import db

app = Flask("kill-test")
app.config["DATABASE"] = sys.argv[1]
with app.app_context():
    big = {"summary": {"share_after": 0.99}, "pad": "x" * (150 * 1024 * 1024)}
    print("START", flush=True)
    db.save_scenario("baseline", "planner1", {"k": 30}, big, overwrite=True)  # replaces it
    db.get_db().execute(
        "INSERT INTO visit_done VALUES ('2030-01','A','2030-01-02','V','staff1','now')"
    )
    print("DONE", flush=True)
"""


def _saved(path: Path) -> tuple[str, list[str]]:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = con.execute("SELECT name, params, result FROM scenario").fetchall()
        visits = [r[0] for r in con.execute("SELECT village FROM visit_done").fetchall()]
    finally:
        con.close()
    assert [r[0] for r in rows] == ["baseline"]
    return rows[0][1] + rows[0][2], visits


@pytest.mark.slow
def test_kill_9_during_scenario_save_keeps_previous_state(tmp_path):
    from doorstep.webmap.app import db

    path = tmp_path / "doorstep.sqlite"
    db.init_db(str(path))
    app = Flask("setup")
    app.config["DATABASE"] = str(path)
    with app.app_context():
        db.save_scenario("baseline", "planner1", {"k": 3}, {"summary": {"share_after": 0.81}})
        db.close_db()
    before, visits = _saved(path)
    assert json.loads(before[: before.index("}") + 1]) == {"k": 3} and visits == []
    wal = Path(str(path) + "-wal")

    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "START"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if wal.exists() and wal.stat().st_size > 8 * 1024 * 1024:  # mid-transaction
                break
            time.sleep(0.001)
        assert proc.poll() is None, "the save finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert wal.exists() and wal.stat().st_size > 8 * 1024 * 1024  # the torn write is there...
    after, visits = _saved(path)  # ...but the database opens, is intact and has the old data
    assert after == before and visits == []
    # and it is writable again
    with app.app_context():
        db.save_scenario("baseline", "planner1", {"k": 4}, {"summary": {}}, overwrite=True)
        db.close_db()
    assert '"k": 4' in _saved(path)[0]
