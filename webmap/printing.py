"""Print-ready HTML to PDF, one way for every printable (report, 排班表, route sheets).

Printables are written as self-contained HTML (inline CSS and SVG, no external request) with an
``@page`` rule for A4; :func:`html_to_pdf` lays the same HTML out with WeasyPrint, so the PDF and
the page a browser prints are one document, not two renderings of the same content. Chinese text
needs a CJK font on the machine (Debian: ``fonts-noto-cjk``); :data:`CJK_FONT_STACK` names the
usual ones for the stylesheets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from doorstep.geo._errors import DoorstepError
from doorstep.geo.atomic import write_bytes, write_text

log = logging.getLogger(__name__)

CJK_FONT_STACK = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", '
    '"PingFang SC", "WenQuanYi Micro Hei", sans-serif'
)


def page_css(orientation: str = "portrait", *, footer: str = "") -> str:
    """The ``@page`` CSS for an A4 printable: 12 mm margins, ``footer`` and page x / y below.

    ``orientation`` is ``portrait`` or ``landscape``.
    """
    if orientation not in ("portrait", "landscape"):
        raise ValueError(f"orientation must be 'portrait' or 'landscape', not {orientation!r}")
    note = footer.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f"@page {{ size: A4 {orientation}; margin: 12mm 12mm 14mm 12mm;"
        f' @bottom-left {{ content: "{note}"; font-size: 8pt; color: #555; }}'
        ' @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }'
    )


class PdfUnavailable(DoorstepError, RuntimeError):
    """WeasyPrint (or the system libraries it needs) is missing, so no PDF can be written."""


def html_to_pdf(html: str, *, base_url: str | Path | None = None) -> bytes:
    """Lay out ``html`` (a full document) as PDF bytes with WeasyPrint.

    Raises :class:`PdfUnavailable` with the fix when WeasyPrint or Pango cannot be loaded.
    """
    try:
        import weasyprint  # heavy: pango, cairo-free since v53
    except (ImportError, OSError) as exc:  # OSError: libpango missing
        raise PdfUnavailable(
            f"cannot write PDF: WeasyPrint is not usable ({exc}); install it with "
            "`pip install weasyprint` and the Pango library (Debian: apt-get install libpango-1.0-0 "
            "fonts-noto-cjk), or use the HTML file and print it from a browser"
        ) from exc
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)  # font-subsetting chatter
    doc = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
    pdf: bytes = doc.write_pdf()
    return pdf


def write_html_and_pdf(
    html: str, html_path: str | Path, pdf_path: str | Path | None = None
) -> Sequence[Path]:
    """Write ``html`` atomically to ``html_path`` and, when ``pdf_path`` is given, its PDF.

    Both files are 0644 under umask 022 (see :mod:`geo.atomic`). The PDF is laid out before
    anything is written, so a failure leaves neither file half-written.
    """
    pdf = html_to_pdf(html, base_url=Path(html_path).parent) if pdf_path is not None else None
    written = [write_text(html_path, html)]
    if pdf is not None and pdf_path is not None:
        written.append(write_bytes(pdf_path, pdf))
    return written
