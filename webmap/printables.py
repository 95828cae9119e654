"""Printable plans of a month of circuits: the 排班表 and the route sheets, as HTML and PDF.

``write_printables(PrintablePlan.from_county_month(cm, model, routes), folder)`` writes::

    folder/schedule-YYYY-MM.html, .pdf       排班表: one A4 landscape page, dates × advisers
    folder/routes-YYYY-MM/<adviser>.html, .pdf   route sheets: one A4 page per adviser-day

Every file is self-contained (inline CSS and SVG, no external request) and written atomically;
the PDF is the same HTML laid out by WeasyPrint (:func:`webmap.printing.write_html_and_pdf`).
One PDF per adviser, not per day: WeasyPrint's start-up and font loading are paid once per
document.
"""

from __future__ import annotations

import logging
from pathlib import Path

from doorstep.analysis.circuits.export import file_stem

from .printables_data import PrintablePlan as PrintablePlan
from .printables_routes import route_sheets_html as route_sheets_html
from .printables_schedule import schedule_html as schedule_html
from .printing import write_html_and_pdf

log = logging.getLogger(__name__)


def schedule_name(month: str) -> str:
    """File stem of the month's 排班表: ``schedule-YYYY-MM``."""
    return f"schedule-{month}"


def routes_folder_name(month: str) -> str:
    """Folder of the month's route sheets: ``routes-YYYY-MM``."""
    return f"routes-{month}"


def write_printables(pp: PrintablePlan, folder: str | Path, *, pdf: bool = True) -> list[Path]:
    """Write the 排班表 and one route-sheet document per adviser into ``folder`` (HTML, and PDF
    unless ``pdf`` is False); returns the paths written."""
    out = Path(folder)
    month = pp.plan.month
    out.mkdir(parents=True, exist_ok=True)
    stem = out / schedule_name(month)
    written = list(
        write_html_and_pdf(
            schedule_html(pp), stem.with_suffix(".html"), stem.with_suffix(".pdf") if pdf else None
        )
    )
    rdir = out / routes_folder_name(month)
    rdir.mkdir(exist_ok=True)
    for lw in pp.plan.lawyers:
        base = rdir / file_stem(lw.id)
        html = route_sheets_html(pp, lw.id)
        written += write_html_and_pdf(
            html, base.with_suffix(".html"), base.with_suffix(".pdf") if pdf else None
        )
    log.info("printables for %s: %d files", month, len(written))
    return written


__all__ = [
    "PrintablePlan",
    "route_sheets_html",
    "routes_folder_name",
    "schedule_html",
    "schedule_name",
    "write_printables",
]
