"""``doorstep user``: add, passwd, disable, enable, remove, list — sessions end on each change."""

from __future__ import annotations

import sqlite3

from doorstep.cli import main


def _state(db):
    con = sqlite3.connect(db)
    try:
        return {
            r[0]: (r[1], r[2])
            for r in con.execute("SELECT username, disabled, session_version FROM user")
        }
    finally:
        con.close()


def test_user_lifecycle(tmp_path, monkeypatch, capsys):
    inst = str(tmp_path / "inst")
    db = tmp_path / "inst" / "doorstep.sqlite"
    monkeypatch.setenv("DS_PW", "first-password")
    assert (
        main(
            ["user", "add", "ana", "--role", "staff", "--password-env", "DS_PW", "--instance", inst]
        )
        == 0
    )
    assert _state(db) == {"ana": (0, 0)}
    monkeypatch.setenv("DS_PW", "second-password")
    assert main(["user", "passwd", "ana", "--password-env", "DS_PW", "--instance", inst]) == 0
    assert main(["user", "disable", "ana", "--instance", inst]) == 0
    assert _state(db) == {"ana": (1, 2)}  # each change ends the sessions (version bumped)
    assert main(["user", "enable", "ana", "--instance", inst]) == 0
    capsys.readouterr()
    assert main(["user", "list", "--instance", inst]) == 0
    assert capsys.readouterr().out.split("\t")[:2] == ["ana", "staff"]
    assert main(["user", "remove", "ana", "--instance", inst]) == 0
    assert _state(db) == {}
    assert main(["user", "disable", "nobody", "--instance", inst]) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err
