"""What a user sees when the command line is misused: one message, exit code 2, no traceback;
and ``doorstep --help`` stays light (no analysis stack imported)."""

from __future__ import annotations

import io
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doorstep.cli import main


def _clean(err: str) -> str:
    assert "Traceback" not in err
    assert err.startswith("doorstep: 错误 error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_cli_import_and_parser_do_not_load_the_analysis_stack() -> None:
    code = (
        "import sys, doorstep.cli as c; c.build_parser(); "
        "print(','.join(m for m in ('geopandas', 'flask', 'networkx', 'numpy', 'pandas', "
        "'waitress', 'folium') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_help_lists_every_command(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for cmd in ("run", "coverage", "gaps", "site", "circuits", "map", "serve", "user", "province"):
        assert f"    {cmd} " in text or f"    {cmd}\n" in text, cmd


def test_serve_refuses_a_busy_port_before_loading(
    tmp_path: Path, busy_port: int, capsys: Any
) -> None:
    inst = tmp_path / "instance"
    assert main(["-q", "serve", "--port", str(busy_port), "--instance", str(inst)]) == 2
    cap = capsys.readouterr()
    assert f"127.0.0.1:{busy_port}" in _clean(cap.err) and "--port" in cap.err
    assert "serving" not in cap.out and not inst.exists()


def test_serve_port_taken_after_the_check_is_a_message(
    tmp_path: Path, busy_port: int, capsys: Any, monkeypatch: Any
) -> None:
    """The port is taken between the early check and listening: still no "serving" line."""
    from types import SimpleNamespace

    import doorstep.webmap.app as webapp
    import doorstep.webmap.app.state as state
    from doorstep.commands import serve

    monkeypatch.setenv("DOORSTEP_PRODUCTION", "false")  # cmd_serve sets it; restored after
    monkeypatch.setattr(serve, "check_port_free", lambda *a, **k: None)
    monkeypatch.setattr(webapp, "create_app", lambda **kw: _FakeApp())
    fake_state = SimpleNamespace(
        engine=None, coverage=lambda: None, model=SimpleNamespace(name="X")
    )
    monkeypatch.setattr(state, "get_state", lambda app: fake_state)
    inst = tmp_path / "instance"
    assert main(["-q", "serve", "--port", str(busy_port), "--instance", str(inst)]) == 2
    cap = capsys.readouterr()
    assert f"127.0.0.1:{busy_port}" in _clean(cap.err) and "serving" not in cap.out


class _FakeApp:
    def __init__(self) -> None:
        self.config = {"MAX_CONTENT_LENGTH": 256 * 1024}  # serve reads the body-size limit

    def app_context(self) -> Any:
        import contextlib

        return contextlib.nullcontext()

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:  # pragma: no cover
        start_response("200 OK", [])
        return [b""]


def test_run_out_naming_a_file(tmp_path: Path, capsys: Any) -> None:
    f = tmp_path / "out.txt"
    f.write_text("mine", encoding="utf-8")
    assert main(["-q", "run", "--out", str(f), "--no-serve"]) == 2
    assert str(f) in _clean(capsys.readouterr().err) and f.read_text(encoding="utf-8") == "mine"


def test_coverage_out_naming_a_file(tmp_path: Path, capsys: Any) -> None:
    f = tmp_path / "out.txt"
    f.write_text("mine", encoding="utf-8")
    assert main(["-q", "gaps", "--out", str(f)]) == 2
    assert "--out" in _clean(capsys.readouterr().err) and f.read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("flag", ["--xlsx", "--geojson", "--out"])
def test_circuits_file_option_naming_a_folder(tmp_path: Path, capsys: Any, flag: str) -> None:
    args = ["-q", "circuits", "--lawyers", "2", "--month", "2026-12", flag, str(tmp_path)]
    assert main(args) == 2
    err = _clean(capsys.readouterr().err)
    assert flag in err and "is a folder" in err and list(tmp_path.iterdir()) == []


def test_circuits_ics_naming_a_file(tmp_path: Path, capsys: Any) -> None:
    f = tmp_path / "cal.ics"
    f.write_text("x", encoding="utf-8")
    assert main(["-q", "circuits", "--lawyers", "2", "--month", "2026-12", "--ics", str(f)]) == 2
    assert "--ics" in _clean(capsys.readouterr().err)


def test_ledger_writer_refuses_a_folder(tmp_path: Path) -> None:
    """The library writer used by circuits says which path is wrong (no IsADirectoryError)."""
    from doorstep.analysis.circuits.export import atomic_write_bytes
    from doorstep.geo._errors import DataFileError

    with pytest.raises(DataFileError, match="is a folder"):
        atomic_write_bytes(tmp_path, b"x")
    assert list(tmp_path.iterdir()) == []
    p = atomic_write_bytes(tmp_path / "new" / "a.bin", b"x")
    assert p.read_bytes() == b"x" and (p.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    import os

    m = os.umask(0)
    os.umask(m)
    return m


def _user_add(tmp_path: Path, *extra: str) -> int:
    return main(["-q", "user", "add", "li", "--role", "staff", "--instance", str(tmp_path), *extra])


def test_user_add_without_a_terminal_says_how(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a tty, as under cron or a pipe
    assert _user_add(tmp_path) == 2
    err = _clean(capsys.readouterr().err)
    assert "--password-env" in err and "--password-stdin" in err
    assert not (tmp_path / "doorstep.sqlite").exists()


def test_user_add_password_from_stdin(tmp_path: Path, monkeypatch: Any) -> None:
    from werkzeug.security import check_password_hash

    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\nignored\n"))
    assert _user_add(tmp_path, "--password-stdin") == 0
    conn = sqlite3.connect(tmp_path / "doorstep.sqlite")
    try:
        (pw,) = conn.execute("SELECT password FROM user WHERE username = 'li'").fetchone()
    finally:
        conn.close()
    assert check_password_hash(pw, "a-long-password")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert _user_add(tmp_path, "--password-stdin") == 2  # empty: too short, a message


def test_file_system_refusal_is_a_message(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    from doorstep.commands import summary

    def refuse(args: Any) -> int:
        raise PermissionError(13, "Permission denied", str(tmp_path / "x.gpkg"))

    monkeypatch.setattr(summary, "cmd_export", refuse)
    assert main(["-q", "export", str(tmp_path / "x.gpkg")]) == 2
    err = _clean(capsys.readouterr().err)
    assert "Permission denied" in err and "x.gpkg" in err


def test_run_honours_instance(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    """``run --instance DIR`` serves the web app from DIR (it was dropped before)."""
    import doorstep.job as job
    import doorstep.report as report
    from doorstep.commands import serve

    seen: dict[str, Any] = {}
    monkeypatch.setattr(job, "run_job", lambda options: seen.setdefault("options", options))
    monkeypatch.setattr(report, "render_summary_text", lambda result: "done\n")
    monkeypatch.setattr(serve, "cmd_serve", lambda ns: seen.setdefault("serve", ns) and 0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inst = tmp_path / "inst"
    out = tmp_path / "out"
    args = ["-q", "run", "--out", str(out), "--port", str(port), "--instance", str(inst)]
    assert main([*args, "--add", "2", "--month", "2026-12"]) == 0
    assert seen["serve"].instance == str(inst) and seen["serve"].port == port
    o = seen["options"]
    assert (o.out, o.add, o.month, o.circuit_month) == (out, 2, "2026-12", "2026-12")
    assert capsys.readouterr().out.startswith("done\n")
