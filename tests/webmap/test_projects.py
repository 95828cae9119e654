"""四个一 projects in the web app: create, edit, delete with field history, roles, CSRF, bad
input, the XLSX export cell by cell, scenario → projects, the pages."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import needs_data
from tests.webmap.conftest import PLANNER, STAFF
from tests.webmap.test_browser import Page, browser, login, server, shots  # noqa: F401

NEW = {
    "title": "龙门村法务室升级",
    "what": "升级为常驻服务点",
    "township": "龙潭镇",
    "village_code": "433124102201",
    "village": "龙门村",
    "lon": 109.41,
    "lat": 28.52,
    "leader_name": "张三",
    "leader_post": "副镇长",
    "unit": "龙潭镇司法所",
    "start": "2026-06-01",
    "milestones": [
        {"title": "选址核实", "due": "2026-07-01", "budget_planned": 5000},
        {"title": "挂牌", "due": "2026-09-30", "budget_planned": 20000, "note": "含标识"},
    ],
}


def _create(client: Any, **over: Any) -> dict[str, Any]:
    r = client.post("/api/projects", json={**NEW, **over})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()  # type: ignore[no-any-return]


def _hist(client: Any, pid: int) -> list[tuple[Any, ...]]:
    h = client.get(f"/api/projects/{pid}").get_json()["history"]
    return [(x["who"], x["action"], x["milestone_id"], x["field"], x["old"], x["new"]) for x in h]


def test_create_edit_delete_keep_history(client: Any, auth: Any) -> None:
    """Every create, edit and delete is recorded: who, which field, old → new."""
    auth.login(PLANNER)
    doc = _create(client)
    pid, (m1, m2) = doc["id"], [m["id"] for m in doc["milestones"]]
    assert doc["status"] == "未开始" and doc["budget_planned"] == 25000.0
    assert doc["units"]["budget_planned"] == "元 (CNY)" and doc["missing"] == []
    created = _hist(client, pid)
    assert ("plan1", "create", None, "title", None, "龙门村法务室升级") in created
    assert ("plan1", "create", None, "lon", None, "109.41") in created
    assert ("plan1", "create", m2, "note", None, "含标识") in created
    n0 = len(created)

    r = client.patch(
        f"/api/projects/{pid}", json={"leader_name": "李四", "title": "龙门村法务室升级"}
    )
    assert r.status_code == 200 and r.get_json()["leader_name"] == "李四"
    r = client.patch(
        f"/api/projects/{pid}/milestones/{m1}",
        json={"status": "已完成", "done": "2026-06-20", "budget_spent": 4800.5},
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "进行中" and body["budget_spent"] == 4800.5
    assert _hist(client, pid)[n0:] == [
        ("plan1", "edit", None, "leader_name", "张三", "李四"),  # the unchanged title: no row
        ("plan1", "edit", m1, "done", None, "2026-06-20"),
        ("plan1", "edit", m1, "status", "未开始", "已完成"),
        ("plan1", "edit", m1, "budget_spent", "0", "4800.5"),
    ]
    # an edit that changes nothing records nothing
    client.patch(f"/api/projects/{pid}/milestones/{m1}", json={"budget_spent": "4800.50"})
    assert len(_hist(client, pid)) == n0 + 4

    r = client.delete(f"/api/projects/{pid}/milestones/{m2}")
    assert [m["id"] for m in r.get_json()["milestones"]] == [m1]
    assert ("plan1", "delete", m2, "title", "挂牌", None) in _hist(client, pid)

    assert client.delete(f"/api/projects/{pid}").get_json() == {"deleted": pid}
    assert client.get(f"/api/projects/{pid}").status_code == 404
    assert client.get("/api/projects").get_json()["projects"] == []
    assert client.delete(f"/api/projects/{pid}").status_code == 404
    assert client.get(f"/api/projects/{2**63}").status_code == 404


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        ("/api/projects", "post", {"title": "", "start": "2026-06-01"}, "title"),
        ("/api/projects", "post", {"title": "x", "start": "2026-13-01"}, "start"),
        ("/api/projects", "post", {"title": "x", "start": "2026-06-01", "lon": 109}, "lat"),
        ("/api/projects", "post", {"title": "x", "start": "2026-06-01", "colour": 1}, "colour"),
        (
            "/api/projects",
            "post",
            {
                "title": "x",
                "start": "2026-06-01",
                "milestones": [{"title": "m", "due": "2026-05-01"}],
            },
            "due",
        ),
        ("/api/projects/{pid}", "patch", {"start": "2026-08-01"}, "due"),  # after a milestone
        ("/api/projects/{pid}", "patch", {"lat": 95}, "lat"),
        ("/api/projects/{pid}/milestones", "post", {"title": "m"}, "due"),
        (
            "/api/projects/{pid}/milestones/{mid}",
            "patch",
            {"budget_planned": -5},
            "budget_planned",
        ),
        ("/api/projects/{pid}/milestones/{mid}", "patch", {"status": "done"}, "status"),
        ("/api/projects/{pid}/milestones/{mid}", "patch", {"status": "已完成"}, "done"),
        ("/api/projects/{pid}/milestones/{mid}", "patch", {"done": "2026-05-01"}, "done"),
        ("/api/projects/{pid}/milestones/{mid}", "patch", {"title": None, "x": 1}, "x"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    client: Any, auth: Any, path: str, method: str, body: dict[str, Any], field: str
) -> None:
    """Nothing is written when a value is refused."""
    auth.login(PLANNER)
    doc = _create(client)
    pid, mid = doc["id"], doc["milestones"][0]["id"]
    before = client.get(f"/api/projects/{pid}").get_json()
    r = getattr(client, method)(path.format(pid=pid, mid=mid), json=body)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"]["field"] == field
    after = client.get(f"/api/projects/{pid}").get_json()
    assert after == before
    assert len(client.get("/api/projects").get_json()["projects"]) == 1


def test_staff_reads_but_every_write_is_403(client: Any, auth: Any) -> None:
    auth.login(PLANNER)
    doc = _create(client)
    pid, mid = doc["id"], doc["milestones"][0]["id"]
    client.post("/auth/logout")
    auth.login(STAFF)
    assert client.get("/api/projects").status_code == 200
    assert client.get(f"/api/projects/{pid}").get_json()["title"] == NEW["title"]
    assert client.get("/projects/export.xlsx").status_code == 200
    writes = [
        ("post", "/api/projects", {**NEW}),
        ("post", "/api/projects/from-scenario", {"scenario_id": 1}),
        ("patch", f"/api/projects/{pid}", {"title": "y"}),
        ("delete", f"/api/projects/{pid}", None),
        ("post", f"/api/projects/{pid}/milestones", {"title": "m", "due": "2026-07-01"}),
        ("patch", f"/api/projects/{pid}/milestones/{mid}", {"title": "y"}),
        ("delete", f"/api/projects/{pid}/milestones/{mid}", None),
    ]
    for method, url, body in writes:
        r = getattr(client, method)(url, json=body)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden", url
    for url in (
        "/projects/",
        "/projects/from-scenario",
        f"/projects/{pid}",
        f"/projects/{pid}/delete",
        f"/projects/{pid}/milestones",
        f"/projects/{pid}/milestones/{mid}",
        f"/projects/{pid}/milestones/{mid}/delete",
    ):
        assert client.post(url, data={"title": "y"}).status_code == 403, url
    assert client.get(f"/api/projects/{pid}").get_json()["history"][-1]["action"] == "create"


def test_anonymous_logs_in_first(client: Any) -> None:
    assert client.get("/api/projects").status_code == 401
    assert client.post("/api/projects", json=NEW).status_code == 401
    for url in ("/projects/", "/projects/1", "/projects/export.xlsx"):
        r = client.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login"), url


def test_writes_without_csrf_token_are_refused(tmp_path: Any) -> None:
    """With CSRF on (as served): the API needs X-CSRFToken, forms need csrf_token."""
    from tests.webmap._secapp import PLANNER as P2
    from tests.webmap._secapp import login, make_app

    c = make_app(tmp_path).test_client()
    token = login(c, P2)
    r = c.post("/api/projects", json=NEW)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"
    assert c.get("/api/projects").get_json()["projects"] == []
    r = c.post("/api/projects", json=NEW, headers={"X-CSRFToken": token})
    assert r.status_code == 201
    pid = r.get_json()["id"]
    assert c.patch(f"/api/projects/{pid}", json={"title": "y"}).status_code == 400
    assert c.delete(f"/api/projects/{pid}").status_code == 400
    form = {"title": "z", "start": "2026-06-01"}
    assert c.post(f"/projects/{pid}", data=form).status_code == 400
    assert c.post(f"/projects/{pid}/delete").status_code == 400
    r = c.post(f"/projects/{pid}", data={**form, "csrf_token": token})
    assert r.status_code == 302
    assert c.get(f"/api/projects/{pid}").get_json()["title"] == "z"


def test_export_xlsx_cell_by_cell(client: Any, auth: Any) -> None:
    auth.login(PLANNER)
    doc = _create(client)
    pid, m1 = doc["id"], doc["milestones"][0]["id"]
    client.patch(
        f"/api/projects/{pid}/milestones/{m1}",
        json={"status": "已完成", "done": "2026-06-20", "budget_spent": 4800.5},
    )
    _create(client, title="=cmd|' /C calc'!A0", township="边城镇", milestones=[])
    r = client.get("/projects/export.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    assert "doorstep-projects-" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["项目 projects", "台账 milestones", "历史 history"]
    ws = wb["项目 projects"]
    head = [c.value for c in ws[1]]
    assert head[:3] == ["项目编号 project id", "重点项目 project", "建设内容 what"]
    # listed by township then id: 边城镇 (the second project) before 龙潭镇
    row = dict(zip(head, [c.value for c in ws[3]], strict=True))
    assert row["项目编号 project id"] == pid and row["重点项目 project"] == NEW["title"]
    assert row["乡镇 township"] == "龙潭镇" and row["村代码 village code"] == "433124102201"
    assert row["经度 lon (WGS84)"] == 109.41 and row["纬度 lat (WGS84)"] == 28.52
    assert (
        row["责任领导 responsible leader"] == "张三" and row["领导职务 leader's post"] == "副镇长"
    )
    assert row["责任单位 responsible unit"] == "龙潭镇司法所"
    assert row["开始日期 start date"] == dt.datetime(2026, 6, 1)
    assert row["状态 status"] == "进行中"
    assert row["计划预算合计 budget planned (元)"] == 25000
    assert row["已支出合计 budget spent (元)"] == 4800.5
    assert row["创建人 created by"] == "plan1" and row["待明确 not yet named"] is None
    # a formula typed as a title stays text in the workbook
    assert ws.cell(2, 2).value == "'=cmd|' /C calc'!A0" and ws.cell(2, 1).value == pid + 1
    assert ws.max_row == 3

    ms = wb["台账 milestones"]
    assert [c.value for c in ms[1]] == [
        "项目编号 project id",
        "重点项目 project",
        "里程碑编号 milestone id",
        "里程碑 milestone",
        "计划完成 due date",
        "实际完成 done date",
        "状态 status",
        "计划预算 budget planned (元)",
        "已支出 budget spent (元)",
        "备注 note",
    ]
    assert [c.value for c in ms[2]] == [
        pid,
        NEW["title"],
        m1,
        "选址核实",
        dt.datetime(2026, 7, 1),
        dt.datetime(2026, 6, 20),
        "已完成",
        5000,
        4800.5,
        None,
    ]
    assert [c.value for c in ms[3]][3:7] == ["挂牌", dt.datetime(2026, 9, 30), None, "未开始"]
    assert ms.max_row == 3

    hs = wb["历史 history"]
    assert [c.value for c in hs[1]] == [
        "时间 when (UTC)",
        "操作人 who",
        "项目编号 project id",
        "里程碑编号 milestone id",
        "操作 action",
        "字段 field",
        "原值 old",
        "新值 new",
    ]
    rows = [[c.value for c in r] for r in hs.iter_rows(min_row=2)]
    edits = [r[1:] for r in rows if r[4] == "edit"]
    assert edits == [
        ["plan1", pid, m1, "edit", "done", None, "2026-06-20"],
        ["plan1", pid, m1, "edit", "status", "未开始", "已完成"],
        ["plan1", pid, m1, "edit", "budget_spent", "0", "4800.5"],
    ]
    api = client.get(f"/api/projects/{pid}").get_json()["history"]
    assert len([r for r in rows if r[2] == pid]) == len(api)


def test_json_totals_per_township(client: Any, auth: Any) -> None:
    auth.login(PLANNER)
    _create(client)
    _create(
        client,
        township="边城镇",
        milestones=[{"title": "m", "due": "2026-07-01", "budget_planned": 800}],
    )
    t = client.get("/api/projects").get_json()["totals"]
    by = {r["township"]: r for r in t["townships"]}
    assert by["龙潭镇"]["budget_planned"] == 25000 and by["边城镇"]["budget_planned"] == 800
    assert t["total"]["projects"] == 2 and t["total"]["budget_planned"] == 25800
    assert t["total"]["status"]["未开始"] == 2


def _save_scenario(app: Any, codes: list[str], model: Any, name: str = "MCLP k=2") -> int:
    from doorstep.webmap.app.db import save_scenario

    v = model.villages.to_crs("EPSG:4326").set_index("code")
    sites = [
        {
            "code": c,
            "name": str(v.loc[c, "name"]),
            "lon": round(float(v.loc[c].geometry.x), 6),
            "lat": round(float(v.loc[c].geometry.y), 6),
        }
        for c in codes
    ]
    with app.app_context():
        return save_scenario(
            name,
            PLANNER[0],
            {"model": "mclp", "k": 2},
            {"summary": {"new_sites": 2}, "new_sites": sites},
        )


@needs_data
def test_scenario_to_projects(app: Any, client: Any, auth: Any, huayuan_model: Any) -> None:
    """One prefilled project per new site: township, its 司法所, the point's status."""
    v = huayuan_model.villages
    imputed = str(v[v["location_quality"] == "imputed"]["code"].iloc[0])
    located = str(v[v["location_quality"] != "imputed"]["code"].iloc[0])
    sid = _save_scenario(app, [located, imputed], huayuan_model)
    auth.login(PLANNER)
    r = client.post("/api/projects/from-scenario", json={"scenario_id": sid, "start": "2026-06-01"})
    assert r.status_code == 201, r.get_data(as_text=True)
    docs = r.get_json()["projects"]
    assert [d["village_code"] for d in docs] == [located, imputed]
    town = {str(c): str(t) for c, t in zip(v["code"], v["town_name"], strict=True)}
    for d in docs:
        assert d["township"] == town[d["village_code"]]
        assert d["unit"].startswith(town[d["village_code"]] + "司法所")
        assert d["leader_name"] == "" and d["missing"] == ["责任领导 responsible leader"]
        assert len(d["milestones"]) == 3 and d["milestones"][0]["due"] == "2026-07-01"
        assert f"#{sid}" in d["source"]
    assert docs[0]["location_status"] == "confirmed"
    assert docs[1]["location_status"].startswith("待核实位置")
    bad = client.post("/api/projects/from-scenario", json={"scenario_id": sid + 1})
    assert bad.status_code == 404 and bad.get_json()["error"]["field"] == "scenario_id"
    bad = client.post("/api/projects/from-scenario", json={"scenario_id": sid, "start": "x"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "start"
    # once per scenario: a second time is a conflict, nothing added
    again = client.post("/api/projects/from-scenario", json={"scenario_id": sid})
    assert again.status_code == 409 and again.get_json()["error"]["field"] == "scenario_id"
    assert len(client.get("/api/projects").get_json()["projects"]) == 2
    # the form on /projects does the same
    sid2 = _save_scenario(app, [located], huayuan_model, name="one site")
    r = client.post("/projects/from-scenario", data={"scenario_id": sid2, "start": "2026-06-01"})
    assert r.status_code == 302
    assert len(client.get("/api/projects").get_json()["projects"]) == 3


@needs_data
def test_pages_for_planner_and_staff(client: Any, auth: Any) -> None:
    auth.login(PLANNER)
    doc = _create(client)
    pid, m1 = doc["id"], doc["milestones"][0]["id"]
    page = client.get("/projects/").get_data(as_text=True)
    assert f'href="/projects/{pid}"' in page and 'id="new-project-form"' in page
    assert re.search(r'<tr data-township="龙潭镇"><th scope="row">龙潭镇</th><td>1</td>', page)
    assert "25,000.00" in page and 'href="/projects/"' in client.get("/plan/").get_data(True)
    # edit a milestone through the page's form
    form = {**doc["milestones"][0], "status": "进行中", "budget_spent": "1200"}
    form = {k: ("" if v is None else str(v)) for k, v in form.items() if k != "id"}
    r = client.post(f"/projects/{pid}/milestones/{m1}", data=form)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/projects/{pid}#history")
    detail = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'id="project-form"' in detail and f'id="m{m1}-save"' in detail
    assert re.search(
        rf'data-action="edit" data-field="budget_spent" data-milestone="{m1}">.*?'
        r'<td class="old">0</td><td class="new">1200</td>',
        detail,
        re.S,
    )
    bad = client.post(f"/projects/{pid}/milestones/{m1}", data={**form, "budget_spent": "-3"})
    assert bad.status_code == 400 and "已支出 budget spent (元)" in bad.get_data(as_text=True)
    client.post("/auth/logout")
    auth.login(STAFF)
    ro = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'id="read-only"' in ro and "project-save" not in ro and "m-save" not in ro
    assert "new-project-form" not in client.get("/projects/").get_data(as_text=True)


@needs_data
@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_browser_planner_edits_a_milestone(browser: Any, server: str, shots: Any) -> None:  # noqa: F811
    """In Chromium: a planner creates a project and a milestone on the pages, edits the
    milestone on /projects/<id>, and the history table shows the change (CSRF on)."""
    p = Page(browser, shots, server, viewport={"width": 1280, "height": 1000})
    pg = p.page
    login(pg, server, PLANNER)
    pg.goto(server + "/projects/")
    pg.wait_for_selector("#new-project-form")
    pg.fill("#new-title", "排碧乡法务室改造")
    pg.fill("#new-township", "排碧乡")
    pg.fill("#new-start", "2026-05-04")
    with pg.expect_navigation():
        pg.click("#new-submit")
    assert re.search(r"/projects/\d+$", pg.url), pg.url
    pg.wait_for_selector("#add-title")  # the project page after the redirect
    pg.fill("#add-title", "场所改造")
    pg.fill("#add-due", "2026-08-31")
    pg.fill("#add-budget_planned", "30000")
    with pg.expect_navigation():
        pg.click("#add-save")
    form = pg.locator("form.milestone[data-id]").first
    mid = form.get_attribute("data-id")
    pg.select_option(f"#m{mid}-status", "已完成")
    pg.fill(f"#m{mid}-done", "2026-08-20")
    pg.fill(f"#m{mid}-budget_spent", "28500.5")
    with pg.expect_navigation():
        pg.click(f"#m{mid}-save")
    edits = f'#history-table tr[data-action="edit"][data-milestone="{mid}"]'
    row = pg.locator(edits + '[data-field="budget_spent"]')
    assert row.locator("td.old").inner_text() == "0"
    assert row.locator("td.new").inner_text() == "28500.5"
    assert row.locator("td").nth(1).inner_text() == PLANNER[0]
    status = pg.locator(edits + '[data-field="status"]')
    assert status.locator("td.new").inner_text() == "已完成"
    assert "已完成" in pg.inner_text("#project-status")
    pg.locator("#history").scroll_into_view_if_needed()
    p.shot("projects_milestone_history")
    from tests.webmap.test_a11y import _violations

    assert not _violations(pg)  # the edit form, the ledger and the history table
    pg.goto(server + "/projects/")
    assert "28,500.50" in pg.inner_text("#totals-county")
    p.shot("projects_list")
    p.close()
