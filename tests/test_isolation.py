"""The rules of tests/conftest.py hold: tests run away from the checkout and its ./instance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import (
    CHECKOUT,
    checkout_snapshot,
    doorstep_env_restored,
    missing_data,
    snapshot_changes,
)


def test_cwd_and_instance_are_temporary(tmp_path: Path) -> None:
    cwd = Path.cwd().resolve()
    assert not cwd.is_relative_to(CHECKOUT.resolve())
    assert cwd.is_relative_to(tmp_path.parent.parent.resolve())  # the session's basetemp
    inst = Path(os.environ["DOORSTEP_INSTANCE"])
    assert inst.parent == Path.cwd()


def test_web_app_default_instance_is_temporary() -> None:
    from doorstep.webmap.app import instance_folder

    assert Path(instance_folder()) == Path(os.environ["DOORSTEP_INSTANCE"])
    assert not Path(instance_folder()).is_relative_to(CHECKOUT.resolve())


def test_doorstep_env_changes_are_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_VINTAGE", "2023")
    monkeypatch.delenv("DOORSTEP_PRODUCTION", raising=False)
    with doorstep_env_restored():
        os.environ["DOORSTEP_PRODUCTION"] = "true"  # as `doorstep serve` does in-process
        os.environ["DOORSTEP_VINTAGE"] = "2016"
        del os.environ["DOORSTEP_INSTANCE"]
    assert "DOORSTEP_PRODUCTION" not in os.environ
    assert os.environ["DOORSTEP_VINTAGE"] == "2023" and "DOORSTEP_INSTANCE" in os.environ


def test_snapshot_sees_created_and_changed_files(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("a", encoding="utf-8")
    (tmp_path / "gone.txt").write_text("a", encoding="utf-8")
    (tmp_path / "__pycache__").mkdir()
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    before = checkout_snapshot(tmp_path)
    assert set(before) == {"kept.txt", "gone.txt"}

    (tmp_path / "instance" / "exports").mkdir(parents=True)
    (tmp_path / "instance" / "exports" / "ledger.xlsx").write_bytes(b"PK")
    (tmp_path / "kept.txt").write_text("changed", encoding="utf-8")
    (tmp_path / "gone.txt").unlink()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"")
    (venv / "lib.py").write_text("", encoding="utf-8")
    after = checkout_snapshot(tmp_path)
    assert snapshot_changes(before, after) == [
        os.path.join("instance", "exports", "ledger.xlsx"),
        "kept.txt",
    ]
    assert snapshot_changes(after, after) == []


def test_missing_data_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOORSTEP_DATA", str(tmp_path / "nowhere"))
    why = missing_data()
    assert why is not None and "DOORSTEP_DATA=" in why and "nowhere" in why
    monkeypatch.setenv("DOORSTEP_DATA", str(tmp_path))
    why = missing_data("hunan-adcode")
    assert why is not None and "hunan-adcode/" in why
    (tmp_path / "huayuan").mkdir()
    assert missing_data() is None
