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


def test_user_commands_use_the_database_the_app_serves(tmp_path, monkeypatch, capsys):
    """With ``DATABASE`` set in the instance's config.py (or ``$DOORSTEP_DATABASE``), ``doorstep
    user`` writes where ``doorstep serve``'s app reads, not ``<instance>/doorstep.sqlite``."""
    from doorstep.webmap.app import create_app, database_path

    inst = tmp_path / "inst"
    inst.mkdir()
    other = tmp_path / "elsewhere" / "users.sqlite"
    (inst / "config.py").write_text(f"DATABASE = {str(other)!r}\n", encoding="utf-8")
    monkeypatch.delenv("DOORSTEP_DATABASE", raising=False)
    monkeypatch.setenv("DS_PW", "first-password")
    args = ["--password-env", "DS_PW", "--instance", str(inst)]
    assert main(["user", "add", "ana", "--role", "planner", *args]) == 0
    assert str(other) in capsys.readouterr().out
    assert create_app(instance_path=str(inst)).config["DATABASE"] == str(other)
    assert database_path(str(inst)) == str(other)
    assert _state(other) == {"ana": (0, 0)}
    assert not (inst / "doorstep.sqlite").exists()
    env_db = tmp_path / "env.sqlite"
    monkeypatch.setenv("DOORSTEP_DATABASE", str(env_db))  # the environment wins, as in the app
    assert main(["user", "add", "bo", "--role", "staff", *args]) == 0
    assert create_app(instance_path=str(inst)).config["DATABASE"] == str(env_db)
    assert _state(env_db) == {"bo": (0, 0)} and _state(other) == {"ana": (0, 0)}
    capsys.readouterr()
    assert main(["user", "list", "--instance", str(inst)]) == 0
    assert capsys.readouterr().out.split("\t")[:2] == ["bo", "staff"]


def test_user_with_a_broken_config_py_says_which_file(tmp_path, monkeypatch, capsys):
    """A config.py that does not run gives one line naming it, not a traceback."""
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text("DATABASE = \n", encoding="utf-8")
    assert main(["user", "list", "--instance", str(inst)]) == 2
    err = capsys.readouterr().err
    assert str(inst / "config.py") in err and "SyntaxError" in err and "correct it" in err
    assert "Traceback" not in err
