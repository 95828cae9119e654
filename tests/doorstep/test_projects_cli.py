"""``doorstep projects list|export``: the 四个一 ledger of a database written by the web app,
read-only; the workbook equals ``/projects/export.xlsx``; misuse is one message, no traceback."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from doorstep.cli import main
from tests.webmap.conftest import PLANNER, Auth, _users_db

TODAY = "2024-07-15"
LONGMEN = {
    "title": "龙门村法务室升级",
    "township": "龙潭镇",
    "village_code": "433124102201",
    "village": "龙门村",
    "leader_name": "张三",
    "unit": "龙潭镇司法所",
    "start": "2024-03-01",
    "milestones": [
        {"title": "选址核实", "due": "2024-04-01", "budget_planned": 5000},
        # in progress and past due on TODAY: the one overdue milestone
        {"title": "场所改造", "due": "2024-06-30", "status": "进行中", "budget_planned": 20000},
        {"title": "挂牌", "due": "2024-09-30", "budget_planned": 3000},
    ],
}
BIANCHENG = {
    "title": "边城镇服务点",
    "township": "边城镇",
    "start": "2024-05-01",
    "milestones": [{"title": "人员到岗", "due": "2024-08-01", "budget_planned": 800.25}],
}


def _clean(err: str) -> str:
    assert "Traceback" not in err
    assert err.startswith("doorstep: 错误 error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: Any) -> None:
    monkeypatch.delenv("DOORSTEP_INSTANCE", raising=False)
    monkeypatch.delenv("DOORSTEP_DATABASE", raising=False)


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Any]:
    """An instance folder whose database (``doorstep.sqlite``, as ``doorstep serve`` names it)
    holds two projects in two townships, made through the web API by a planner."""
    from doorstep.webmap.app import create_app

    inst = tmp_path / "instance"
    inst.mkdir()
    db = inst / "doorstep.sqlite"
    db.write_bytes(_users_db())
    cfg = {"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(db), "WTF_CSRF_ENABLED": False}
    app = create_app(cfg, instance_path=str(inst))
    client = app.test_client()
    Auth(client).login(PLANNER)
    ids = []
    for body in (LONGMEN, BIANCHENG):
        r = client.post("/api/projects", json=body)
        assert r.status_code == 201, r.get_data(as_text=True)
        ids.append(r.get_json()["id"])
    m1 = client.get(f"/api/projects/{ids[0]}").get_json()["milestones"][0]["id"]
    r = client.patch(
        f"/api/projects/{ids[0]}/milestones/{m1}",
        json={"status": "已完成", "done": "2024-03-20", "budget_spent": 4800.5},
    )
    assert r.status_code == 200
    m2 = client.get(f"/api/projects/{ids[0]}").get_json()["milestones"][1]["id"]
    r = client.patch(f"/api/projects/{ids[0]}/milestones/{m2}", json={"budget_spent": 1000})
    assert r.status_code == 200
    return {"inst": inst, "db": db, "client": client, "ids": ids}


def _list(capsys: Any, *args: str) -> dict[str, Any]:
    assert main(["-q", "projects", "list", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_list_json_is_what_was_entered(site: dict[str, Any], capsys: Any) -> None:
    doc = _list(capsys, "--instance", str(site["inst"]), "--today", TODAY)
    assert doc["database"] == str(site["db"]) and doc["today"] == TODAY
    lm, bc = site["ids"]
    # listed by township then id, as /projects lists them: 边城镇 before 龙潭镇
    got = [
        (
            p["id"],
            p["title"],
            p["township"],
            p["status"],
            p["milestones_done"],
            p["milestones"],
            p["overdue"],
            p["budget_planned"],
            p["budget_spent"],
        )
        for p in doc["projects"]
    ]
    assert got == [
        (bc, "边城镇服务点", "边城镇", "未开始", 0, 1, 0, 800.25, 0.0),
        (lm, "龙门村法务室升级", "龙潭镇", "进行中", 1, 3, 1, 28000.0, 5800.5),
    ]
    assert doc["projects"][1]["leader_name"] == "张三" and doc["projects"][0]["missing"] == [
        "责任领导 responsible leader",
        "责任单位 responsible unit",
    ]
    t = doc["totals"]
    by = {r["township"]: r for r in t["townships"]}
    assert [r["township"] for r in t["townships"]] == ["边城镇", "龙潭镇"]
    assert by["龙潭镇"]["status"] == {"未开始": 0, "进行中": 1, "已完成": 0, "延期": 0}
    assert (by["龙潭镇"]["overdue"], by["边城镇"]["overdue"]) == (1, 0)
    assert by["边城镇"]["budget_planned"] == 800.25 and by["边城镇"]["milestones"] == 1
    assert t["total"] == {
        "projects": 2,
        "status": {"未开始": 1, "进行中": 1, "已完成": 0, "延期": 0},
        "milestones": 4,
        "milestones_done": 1,
        "overdue": 1,
        "budget_planned": 28800.25,
        "budget_spent": 5800.5,
        "to_confirm": 0,
    }
    assert t["today"] == TODAY and doc["units"]["budget_planned"] == "元 (CNY)"

    # later, the open milestones past due: 挂牌 and 人员到岗 too
    later = _list(capsys, "--db", str(site["db"]), "--today", "2024-10-01")
    assert [p["overdue"] for p in later["projects"]] == [1, 2]
    assert later["totals"]["total"]["overdue"] == 3


def test_list_text_chinese_first(site: dict[str, Any], capsys: Any) -> None:
    assert main(["-q", "projects", "list", "--db", str(site["db"]), "--today", TODAY]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("四个一项目台账 project ledger: 2 个项目 projects, 截至 as of 2024")
    assert lines[1].startswith("编号 id\t重点项目 project\t乡镇 township")
    lm = site["ids"][0]
    assert lines[3] == (
        f"{lm}\t龙门村法务室升级\t龙潭镇\t进行中 in progress\t1/3\t1\t28000.00\t5800.50"
    )
    assert lines[4] == "乡镇合计 township totals"
    assert lines[-1] == "合计 total\t2\t1\t1\t0\t0\t1/4\t1\t28800.25\t5800.50\t0"
    # a title typed with a tab and a line break stays on its project's line
    bc = site["ids"][1]
    r = site["client"].patch(f"/api/projects/{bc}", json={"title": "边城镇\t服务点\n二期"})
    assert r.status_code == 200
    assert main(["-q", "projects", "list", "--db", str(site["db"]), "--today", TODAY]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == f"{bc}\t边城镇 服务点 二期\t边城镇\t未开始 not started\t0/1\t0\t800.25\t0.00"
    assert len(lines) == 9  # 2 header lines, 2 projects, 5 lines of totals


def test_default_database_is_the_one_serve_uses(
    site: dict[str, Any], tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    """No option: ./instance (as `doorstep serve`), $DOORSTEP_INSTANCE, then the instance's
    config.py DATABASE and $DOORSTEP_DATABASE, in the web app's order."""
    monkeypatch.chdir(tmp_path)  # ./instance is the site's folder
    assert [p["title"] for p in _list(capsys)["projects"]] == ["边城镇服务点", "龙门村法务室升级"]
    elsewhere = tmp_path / "elsewhere"
    site["inst"].rename(elsewhere)
    monkeypatch.setenv("DOORSTEP_INSTANCE", str(elsewhere))
    assert _list(capsys)["database"] == str(elsewhere / "doorstep.sqlite")
    moved = tmp_path / "moved.sqlite"
    for side in ("", "-wal", "-shm"):
        if (elsewhere / f"doorstep.sqlite{side}").exists():
            (elsewhere / f"doorstep.sqlite{side}").rename(f"{moved}{side}")
    (elsewhere / "config.py").write_text(f"DATABASE = {str(moved)!r}\n", encoding="utf-8")
    assert len(_list(capsys)["projects"]) == 2
    monkeypatch.setenv("DOORSTEP_DATABASE", str(tmp_path / "nowhere.sqlite"))
    assert main(["-q", "projects", "list"]) == 2
    assert "nowhere.sqlite: no such database" in _clean(capsys.readouterr().err)


def test_read_only_beside_a_writing_server(site: dict[str, Any], capsys: Any) -> None:
    """A write the server has not committed yet neither blocks the list nor shows in it, and
    the command's own connection refuses to write."""
    from doorstep.commands.projects import TABLES
    from doorstep.webmap.app.db import connect_read_only

    server = sqlite3.connect(site["db"], timeout=0)
    try:
        server.execute("BEGIN IMMEDIATE")
        server.execute(
            "INSERT INTO project (title, start_date, created_by, created_at) "
            "VALUES ('x', '2024-01-01', 'plan1', 'now')"
        )
        assert len(_list(capsys, "--db", str(site["db"]))["projects"]) == 2
        server.commit()
    finally:
        server.close()
    assert len(_list(capsys, "--db", str(site["db"]))["projects"]) == 3
    conn = connect_read_only(site["db"], TABLES, where="--db")
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly database"):
            conn.execute("DELETE FROM project")
    finally:
        conn.close()
    assert len(_list(capsys, "--db", str(site["db"]))["projects"]) == 3


def test_export_equals_the_web_route(
    site: dict[str, Any], tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    r = site["client"].get("/projects/export.xlsx")
    assert r.status_code == 200
    web = pd.read_excel(io.BytesIO(r.data), sheet_name=None)
    out = tmp_path / "reports" / "projects.xlsx"
    out.parent.mkdir()
    old = os.umask(0o022)
    try:
        code = main(
            ["-q", "projects", "export", "--xlsx", str(out), "--instance", str(site["inst"])]
        )
    finally:
        os.umask(old)
    assert code == 0
    assert capsys.readouterr().out.startswith(f"写出 wrote {out}: 2 个项目 projects, 4 个里程碑")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["projects.xlsx"]  # no temporary left
    cli = pd.read_excel(out, sheet_name=None)
    assert list(cli) == list(web) == ["项目 projects", "台账 milestones", "历史 history"]
    for name in web:
        pd.testing.assert_frame_equal(cli[name], web[name])
    # and they hold the ledger, not two empty sheets that agree
    assert len(cli["项目 projects"]) == 2 and len(cli["台账 milestones"]) == 4
    spent = cli["台账 milestones"]["已支出 budget spent (元)"].tolist()
    assert sorted(spent) == [0, 0, 1000, 4800.5]
    hist = cli["历史 history"]
    assert ((hist["操作 action"] == "edit") & (hist["字段 field"] == "budget_spent")).sum() == 2


def test_missing_database(tmp_path: Path, capsys: Any) -> None:
    assert main(["-q", "projects", "list", "--instance", str(tmp_path / "none")]) == 2
    err = _clean(capsys.readouterr().err)
    assert str(tmp_path / "none" / "doorstep.sqlite") in err and "no such database" in err
    assert "--db FILE or --instance DIR" in err and not (tmp_path / "none").exists()
    out = tmp_path / "p.xlsx"
    assert main(["-q", "projects", "export", "--xlsx", str(out), "--db", str(tmp_path)]) == 2
    assert f"{tmp_path}: is a folder" in _clean(capsys.readouterr().err) and not out.exists()


def test_not_a_doorstep_database(tmp_path: Path, capsys: Any) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all " * 100, encoding="utf-8")
    assert main(["-q", "projects", "list", "--db", str(text)]) == 2
    err = _clean(capsys.readouterr().err)
    assert f"file {text}: is not a Doorstep database" in err and "--db FILE" in err
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE user (id INTEGER)")
    con.close()
    out = tmp_path / "p.xlsx"
    assert main(["-q", "projects", "export", "--xlsx", str(out), "--db", str(other)]) == 2
    err = _clean(capsys.readouterr().err)
    assert f"file {other}: is not a Doorstep web app database with projects" in err
    assert "no project table" in err and not out.exists()


def test_bad_today(site: dict[str, Any], capsys: Any) -> None:
    for bad in ("2024-02-30", "15.07.2024", "tomorrow"):
        assert main(["-q", "projects", "list", "--db", str(site["db"]), "--today", bad]) == 2
        err = _clean(capsys.readouterr().err)
        assert f"--today {bad!r} is not a date" in err and "YYYY-MM-DD" in err


def test_export_refuses_a_folder(site: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    assert main(["-q", "projects", "export", "--xlsx", str(tmp_path), "--db", str(site["db"])]) == 2
    assert "--xlsx" in _clean(capsys.readouterr().err)
