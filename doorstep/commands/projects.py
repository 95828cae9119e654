"""``doorstep projects``: the 四个一 project ledger of the web app from the command line.

``list`` prints one line per project and the per-township totals
(:func:`analysis.projects.township_totals`); ``export --xlsx`` writes the workbook that
``/projects/export.xlsx`` serves (:func:`analysis.projects_export.write_projects_xlsx` with the
projects and history of :mod:`webmap.app.project_store`). The database is the one
``doorstep serve`` uses (``--instance``/``$DOORSTEP_INSTANCE``/``./instance``, its
``config.py`` and ``$DOORSTEP_DATABASE``), or ``--db FILE``; it is opened read-only, so a
running server is not disturbed (e.g. a monthly cron job on the county server).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doorstep.geo._errors import InputError

from ._common import check_output_file, emit_json

TABLES = ("project", "milestone", "project_history")
"""Tables the web app keeps projects in (:data:`webmap.app.db.SCHEMA`)."""
_WHERE = (
    "give the web app's database with --db FILE or --instance DIR "
    "(the folder `doorstep serve --instance` uses)"
)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "projects", help="四个一 project ledger of the web app: list, export (read-only)"
    )
    act = s.add_subparsers(dest="projects_action", required=True)
    ls = act.add_parser(
        "list",
        help="one line per project (status, milestones done/total, overdue, budget 元) and "
        "the per-township totals",
    )
    _db_options(ls)
    ls.add_argument("--json", action="store_true", help="print the list as JSON")
    ls.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="the day milestones are judged overdue against (default: today)",
    )
    ls.set_defaults(func=cmd_projects_list)
    ex = act.add_parser(
        "export", help="the workbook of /projects/export.xlsx: projects, milestones, history"
    )
    ex.add_argument("--xlsx", metavar="OUT", required=True, help="workbook to write (.xlsx)")
    _db_options(ex)
    ex.set_defaults(func=cmd_projects_export)


def _db_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--db", metavar="PATH", help="the web app's SQLite database file")
    g.add_argument(
        "--instance",
        metavar="DIR",
        help="web app instance folder (default $DOORSTEP_INSTANCE or ./instance, as for "
        "`doorstep serve`); its config.py and $DOORSTEP_DATABASE are honoured as the app does",
    )


def database_path(db: str | None, instance: str | None) -> Path:
    """The database file: ``db``, else the one the web app of ``instance`` uses — its
    ``DATABASE`` setting (default ``<instance>/doorstep.sqlite``, then the instance's
    ``config.py``, then ``$DOORSTEP_DATABASE``, in the order :func:`webmap.app.create_app`
    reads them)."""
    if db:
        return Path(db)
    from doorstep.webmap.app import database_path as app_database

    return Path(app_database(instance))


@contextlib.contextmanager
def project_database(args: argparse.Namespace) -> Iterator[Path]:
    """The database of ``args`` open read-only for :mod:`webmap.app.project_store`
    (:func:`webmap.app.db.reading`)."""
    from doorstep.webmap.app.db import reading

    path = database_path(args.db, args.instance)
    with reading(path, TABLES, where=_WHERE):
        yield path


def _today(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--today {value[:20]!r} is not a date; give it as YYYY-MM-DD (e.g. 2026-07-01)"
        ) from None


def ledger(args: argparse.Namespace, today: dt.date) -> dict[str, Any]:
    """The list as a document: one entry per project (as ``/projects`` lists them) and
    :func:`analysis.projects.township_totals` judged on ``today``."""
    from doorstep.analysis.projects import ledger_line, township_totals
    from doorstep.webmap.app import project_store as store

    with project_database(args) as path:
        docs = store.list_projects()
    items = store.project_items(docs)
    lines = [ledger_line([item], today) for item in items]
    rows = [
        {
            "id": d["id"],
            "title": d["title"],
            "township": d["township"],
            "village": d["village"],
            "leader_name": d["leader_name"],
            "unit": d["unit"],
            "status": d["status"],
            "status_en": d["status_en"],
            "missing": d["missing"],
            "milestones": line["milestones"],
            "milestones_done": line["milestones_done"],
            "overdue": line["overdue"],
            "budget_planned": d["budget_planned"],
            "budget_spent": d["budget_spent"],
        }
        for d, line in zip(docs, lines, strict=True)
    ]
    return {
        "database": str(path),
        "today": today.isoformat(),
        "projects": rows,
        "totals": township_totals(items, today),
        "units": {"budget_planned": "元 (CNY)", "budget_spent": "元 (CNY)"},
    }


def _yuan(x: float) -> str:
    return f"{x:.2f}"


def _cell(text: str) -> str:
    """Text on one tab-separated line (a title may hold a tab or line break)."""
    return " ".join(text.split()) or "—"


def cmd_projects_list(args: argparse.Namespace) -> int:
    from doorstep.analysis.projects import STATUS_EN, STATUSES

    doc = ledger(args, _today(args.today))
    if args.json:
        emit_json(doc)
        return 0
    w = sys.stdout.write
    w(
        f"四个一项目台账 project ledger: {len(doc['projects'])} 个项目 projects, "
        f"截至 as of {doc['today']} ({doc['database']})\n"
    )
    w(
        "编号 id\t重点项目 project\t乡镇 township\t状态 status\t里程碑 done/total\t逾期 overdue\t"
        "计划预算 planned 元\t已支出 spent 元\n"
    )
    for p in doc["projects"]:
        w(
            f"{p['id']}\t{_cell(p['title'])}\t{_cell(p['township'])}\t{p['status']} {p['status_en']}\t"
            f"{p['milestones_done']}/{p['milestones']}\t{p['overdue']}\t"
            f"{_yuan(p['budget_planned'])}\t{_yuan(p['budget_spent'])}\n"
        )
    w("乡镇合计 township totals\n")
    w(
        "乡镇 township\t项目 projects\t"
        + "\t".join(f"{s} {STATUS_EN[s]}" for s in STATUSES)
        + "\t里程碑 done/total\t逾期 overdue\t计划预算 planned 元\t已支出 spent 元\t"
        "待核实位置 to confirm\n"
    )
    t = doc["totals"]
    for r in [*t["townships"], {"township": "合计 total", **t["total"]}]:
        w(
            f"{_cell(r['township'])}\t{r['projects']}\t"
            + "\t".join(str(r["status"][s]) for s in STATUSES)
            + f"\t{r['milestones_done']}/{r['milestones']}\t{r['overdue']}\t"
            f"{_yuan(r['budget_planned'])}\t{_yuan(r['budget_spent'])}\t{r['to_confirm']}\n"
        )
    return 0


def cmd_projects_export(args: argparse.Namespace) -> int:
    from doorstep.analysis.projects_export import write_projects_xlsx
    from doorstep.webmap.app import project_store as store

    check_output_file(args.xlsx, "--xlsx")
    with project_database(args) as path:
        projects, history = store.list_projects(), store.history()
    out = write_projects_xlsx(args.xlsx, projects, history)
    n_ms = sum(len(p["milestones"]) for p in projects)
    sys.stdout.write(
        f"写出 wrote {out}: {len(projects)} 个项目 projects, {n_ms} 个里程碑 milestones, "
        f"{len(history)} 条历史 history rows (from {path})\n"
    )
    return 0
