"""``doorstep serve --workers 2``: pre-forked waitress workers on one socket answer residents,
a worker that dies is replaced, and SIGTERM stops them all."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import needs_data

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(x) for x in text.split()}


def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    return r.status, body


def _wait(cond: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


@needs_data
def test_two_workers_answer_restart_and_stop(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "doorstep.cli", "-q", "serve", "--port", str(port)]
    cmd += ["--workers", "2", "--threads", "2", "--instance", str(tmp_path / "inst")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _get(port, "/api/health")[0] == 200, 300)
        kids = _children(proc.pid)
        assert len(kids) == 2
        status, body = _get(port, "/api/nearest?lon=109.40&lat=28.45&mode=walk&n=2")
        assert status == 200 and len(body["results"]) == 2  # type: ignore[arg-type]
        assert _get(port, "/api/nearest?lon=100&lat=28.45")[0] == 400  # outside: 4xx
        gone = min(kids)
        os.kill(gone, signal.SIGKILL)
        _wait(lambda: len(_children(proc.pid) - {gone}) == 2, 30)
        assert _get(port, "/api/health")[0] == 200
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
        assert proc.returncode == 0 and "2 worker(s)" in out and "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
