"""四个一 projects as one XLSX workbook: projects, their work ledgers (milestones) and history.

Chinese headers first, English second (:data:`.projects.PROJECT_FIELDS`,
:data:`.projects.MILESTONE_FIELDS`); text cells neutralised against formula injection
(:func:`geo.export.spreadsheet_safe`); written atomically (:func:`geo.atomic.atomic_path`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from doorstep.geo.atomic import atomic_path
from doorstep.geo.export import spreadsheet_safe

from .projects import MILESTONE_FIELDS, PROJECT_FIELDS

SHEETS = ("项目 projects", "台账 milestones", "历史 history")
ID = "项目编号 project id"
MILESTONE_ID = "里程碑编号 milestone id"
PROJECT_EXTRA: tuple[tuple[str, str], ...] = (
    ("status", "状态 status"),
    ("budget_planned", "计划预算合计 budget planned (元)"),
    ("budget_spent", "已支出合计 budget spent (元)"),
    ("missing", "待明确 not yet named"),
    ("created_by", "创建人 created by"),
    ("created_at", "创建时间 created at (UTC)"),
)
HISTORY_FIELDS: tuple[tuple[str, str], ...] = (
    ("at", "时间 when (UTC)"),
    ("who", "操作人 who"),
    ("project_id", ID),
    ("milestone_id", MILESTONE_ID),
    ("action", "操作 action"),
    ("field", "字段 field"),
    ("old", "原值 old"),
    ("new", "新值 new"),
)
_DATES = {"start", "due", "done"}


def _value(key: str, v: Any) -> Any:
    if key in _DATES and isinstance(v, str) and v:
        return dt.date.fromisoformat(v)
    if isinstance(v, list):
        return "、".join(str(x) for x in v)
    return v


def _frame(rows: Sequence[Mapping[str, Any]], fields: Sequence[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [[_value(k, r.get(k)) for k, _ in fields] for r in rows],
        columns=[h for _, h in fields],
        dtype=object,
    )


def projects_tables(
    projects: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]]
) -> dict[str, pd.DataFrame]:
    """The three sheets as tables (``projects``: :func:`.projects.project_doc` documents)."""
    p_fields = [("id", ID), *PROJECT_FIELDS, *PROJECT_EXTRA]
    m_fields = [("project_id", ID), ("project", PROJECT_FIELDS[0][1]), ("id", MILESTONE_ID)]
    m_rows = [
        {"project_id": p["id"], "project": p["title"], **m}
        for p in projects
        for m in p["milestones"]
    ]
    return {
        SHEETS[0]: _frame(projects, p_fields),
        SHEETS[1]: _frame(m_rows, [*m_fields, *MILESTONE_FIELDS]),
        SHEETS[2]: _frame(history, HISTORY_FIELDS),
    }


def write_projects_xlsx(
    target: str | Path,
    projects: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]],
) -> Path:
    """Write the projects workbook to ``target`` atomically (sheets :data:`SHEETS`)."""
    final = Path(target)
    with atomic_path(final) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        for name, table in projects_tables(projects, history).items():
            spreadsheet_safe(table).to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"
            for col in ws.columns:
                ws.column_dimensions[col[0].column_letter].width = 18
    return final
