"""Printable A4 posters for the village notice board (one PDF per village).

``write_posters(model, base_url, out_dir)`` writes ``<village code>.pdf`` for every village (or
the ``codes`` given): the village name (Chinese first, English second), the 12348 hotline, the
village's legal-service room (法务室), the nearest point for each service with car and walking
minutes (modelled estimates, :func:`analysis.service_coverage.village_service_times`) and a QR
code to the village's web page ``<base_url>/v/<code>``.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (no font file needed); the QR
code is drawn as vector squares (:mod:`segno`), so it stays sharp at any print size.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doorstep.geo._errors import InputError
from doorstep.geo.atomic import write_bytes

if TYPE_CHECKING:
    from doorstep.geo.model import CountyModel

log = logging.getLogger(__name__)

FONT = "STSong-Light"
_URL_RE = re.compile(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$", re.IGNORECASE)


def check_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, or :class:`InputError` unless it is an http(s) URL
    with a host, no spaces, no query and no fragment."""
    url = (base_url or "").strip()
    if url != base_url or not _URL_RE.match(url):
        raise InputError(
            f"--base-url must be an http:// or https:// address with no spaces, query or "
            f"fragment (e.g. https://legal.example.cn), got {base_url!r}"
        )
    return url.rstrip("/")


def village_url(base_url: str, code: str) -> str:
    """The village's web page, ``<base_url>/v/<code>``."""
    return f"{check_base_url(base_url)}/v/{code}"


def _minutes(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return f"{max(1, round(v))}"


def poster_facts(model: CountyModel, codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per village (in model order, or the order of ``codes``): name, township, room and the
    nearest point per service with its car and walking minutes. Unknown codes raise
    :class:`InputError`."""
    from doorstep.analysis.service_coverage import village_service_times
    from doorstep.geo.services import service_rules

    v = model.villages
    all_codes = [str(c) for c in v["code"]]
    if codes is None:
        wanted = all_codes
    else:
        wanted = [str(c).strip() for c in codes if str(c).strip()]
        unknown = sorted(set(wanted) - set(all_codes))
        if unknown:
            raise InputError(
                f"unknown village code(s): {', '.join(unknown[:10])}"
                + (" ..." if len(unknown) > 10 else "")
                + f" (the model has {len(all_codes)} villages, e.g. {all_codes[0]})"
            )
        wanted = list(dict.fromkeys(wanted))
    rules = service_rules()
    times = village_service_times(model, modes=("car", "walk"))
    times = times[times["code"].astype(str).isin(set(wanted))]
    sp = model.service_points
    points = {str(r["id"]): r for _, r in sp.drop(columns="geometry").iterrows()}
    rooms = {
        str(r["village_code"]): r
        for r in points.values()
        if r["tier"] == "village_room" and str(r["village_code"])
    }
    by_key: dict[tuple[str, str, str], tuple[float, str]] = {}
    for code, mode, minutes, pid, svc in times[
        ["code", "mode", "minutes", "point_id", "service"]
    ].itertuples(index=False):
        by_key[(str(code), str(svc), str(mode))] = (float(minutes), str(pid))
    vrows = {str(r["code"]): r for _, r in v.drop(columns="geometry").iterrows()}
    out = []
    for code in wanted:
        row = vrows[code]
        services = []
        for scode, svc in rules.services.items():
            car_min, car_pid = by_key.get((code, scode, "car"), (math.inf, ""))
            walk_min, walk_pid = by_key.get((code, scode, "walk"), (math.inf, ""))
            pid = car_pid or walk_pid
            p = points.get(pid)
            services.append(
                {
                    "code": scode,
                    "name_zh": svc.name_zh,
                    "name_en": svc.name_en,
                    "point": str(p["name"]) if p is not None else None,
                    "car": _minutes(car_min),
                    "walk": _minutes(walk_min),
                    "walk_elsewhere": bool(walk_pid and car_pid and walk_pid != car_pid),
                }
            )
        room = rooms.get(code)
        out.append(
            {
                "code": code,
                "name": str(row["name"]),
                "town_name": str(row["town_name"]),
                "room": None
                if room is None
                else {
                    "name": str(room["name"]),
                    "address": str(room["address"]),
                    "hours": str(room["opening_hours"]),
                    "phone": str(room["phone"]),
                },
                "services": services,
            }
        )
    return out


def _draw_qr(c: Any, text: str, x: float, y: float, size: float) -> None:
    """Draw a QR code for ``text`` as black squares in the ``size`` square at (x, y) (bottom
    left), with the 4-module quiet zone inside the square."""
    import segno

    qr = segno.make(text, error="m", micro=False)
    matrix = [list(r) for r in qr.matrix]
    n = len(matrix)
    mod = size / (n + 8)
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for i, row in enumerate(matrix):
        top = y + size - (i + 4 + 1) * mod
        j = 0
        while j < n:  # one rectangle per horizontal run of dark modules
            if row[j]:
                k = j
                while k < n and row[k]:
                    k += 1
                c.rect(x + (j + 4) * mod, top, (k - j) * mod, mod, stroke=0, fill=1)
                j = k
            else:
                j += 1


def _fit(c: Any, text: str, size: float, width: float) -> float:
    """The font size (at most ``size``) at which ``text`` fits in ``width``."""
    w = c.stringWidth(text, FONT, size)
    return size if w <= width else max(6.0, size * width / w)


def poster_pdf(facts: dict[str, Any], url: str, hotline: str = "12348", county: str = "") -> bytes:
    """One A4 poster (PDF bytes) for a village's ``facts`` (:func:`poster_facts`)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    W, H = A4
    margin = 18 * mm
    inner = W - 2 * margin
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(f"{facts['name']} 公共法律服务 Public legal services")
    c.setAuthor("Doorstep 家门口法律服务规划")
    c.setSubject(url)

    y = H - margin - 14 * mm
    title = f"{facts['town_name']} {facts['name']}"
    c.setFont(FONT, _fit(c, title, 30, inner))
    c.drawString(margin, y, title)
    y -= 10 * mm
    sub = "家门口法律服务 公共法律服务指南"
    c.setFont(FONT, 16)
    c.drawString(margin, y, sub)
    y -= 7 * mm
    en = f"Public legal services for {facts['name']} ({facts['town_name']}{', ' + county if county else ''})"
    c.setFont(FONT, _fit(c, en, 12, inner))
    c.drawString(margin, y, en)

    # hotline band
    y -= 8 * mm
    band = 30 * mm
    c.setFillColorRGB(0.75, 0.1, 0.1)
    c.rect(margin, y - band, inner, band, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont(FONT, 14)
    c.drawString(margin + 6 * mm, y - 10 * mm, "公共法律服务热线")
    c.setFont(FONT, 11)
    c.drawString(margin + 6 * mm, y - 17 * mm, "Public legal service hotline")
    c.drawString(margin + 6 * mm, y - 24 * mm, "有法律问题，先打电话 Call first")
    c.setFont(FONT, 56)
    c.drawRightString(margin + inner - 6 * mm, y - 22 * mm, hotline)
    c.setFillColorRGB(0, 0, 0)
    y -= band + 10 * mm

    # the village room
    c.setFont(FONT, 15)
    c.drawString(margin, y, "本村法务室 Village legal-service room")
    y -= 7 * mm
    room = facts.get("room")
    lines = (
        [
            room["name"],
            f"地址 Address: {room['address']}",
            f"开放 Open: {room['hours']}",
            f"电话 Phone: {room['phone']}",
            "法律顾问 Legal adviser: 待公布 to be announced",
        ]
        if room
        else ["本村暂无法务室 No room listed for this village: call 12348"]
    )
    for line in lines:
        c.setFont(FONT, _fit(c, line, 11.5, inner))
        c.drawString(margin + 4 * mm, y, line)
        y -= 6 * mm

    # nearest point per service
    y -= 4 * mm
    c.setFont(FONT, 15)
    c.drawString(margin, y, "最近的服务点 Nearest point for each service")
    y -= 7 * mm
    cols = [margin, margin + 52 * mm, margin + inner - 36 * mm, margin + inner - 16 * mm]
    c.setFont(FONT, 9.5)
    c.drawString(cols[0], y, "服务 Service")
    c.drawString(cols[1], y, "服务点 Point")
    c.drawString(cols[2], y, "驾车 car")
    c.drawString(cols[3], y, "步行 walk")
    y -= 2 * mm
    c.line(margin, y, margin + inner, y)
    y -= 5.5 * mm
    for s in facts["services"]:
        c.setFont(FONT, 11)
        c.drawString(cols[0], y, s["name_zh"])
        c.setFont(FONT, 8)
        c.drawString(cols[0], y - 4 * mm, s["name_en"])
        point = s["point"] or "暂无 none"
        c.setFont(FONT, _fit(c, point, 10.5, cols[2] - cols[1] - 3 * mm))
        c.drawString(cols[1], y, point)
        c.setFont(FONT, 11)
        c.drawString(cols[2], y, f"{s['car']} 分钟" if s["car"] != "—" else "—")
        c.drawString(cols[3], y, f"{s['walk']} 分钟" if s["walk"] != "—" else "—")
        y -= 10 * mm
    notes = [
        "时间为模型估算（含步行接驳），仅供参考；实际以路况为准。",
        "Minutes are modelled estimates (access walk + road network), not measured travel times.",
    ]
    if any(s["walk_elsewhere"] for s in facts["services"]):
        notes.append("步行时间可能指向另一更近的服务点 Walking minutes may be to a nearer point.")
    c.setFont(FONT, 8.5)
    for line in notes:
        c.drawString(margin, y, line)
        y -= 4.5 * mm

    # QR code and link
    qr = 42 * mm
    qy = margin + 4 * mm
    _draw_qr(c, url, margin + inner - qr, qy, qr)
    c.setFont(FONT, 14)
    c.drawString(margin, qy + qr - 10 * mm, "扫码查看本村法律服务页面")
    c.setFont(FONT, 11)
    c.drawString(margin, qy + qr - 17 * mm, "Scan for this village's legal-services page")
    c.setFont(FONT, _fit(c, url, 10, inner - qr - 5 * mm))
    c.drawString(margin, qy + qr - 25 * mm, url)
    c.setFont(FONT, 7.5)
    c.drawString(margin, qy, f"村代码 village code {facts['code']} · Doorstep 家门口法律服务规划")
    c.showPage()
    c.save()
    return buf.getvalue()


def write_posters(
    model: CountyModel,
    base_url: str,
    out_dir: str | Path,
    codes: Iterable[str] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``<out_dir>/<village code>.pdf`` for every village (or ``codes``) and return the
    paths. ``progress(done, total)`` is called after each poster."""
    from doorstep.geo.services import service_rules

    base = check_base_url(base_url)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is an existing file; give a folder name")
    facts = poster_facts(model, None if codes is None else list(codes))
    out.mkdir(parents=True, exist_ok=True)
    hotline = str(service_rules().hotline).split()[0] or "12348"
    county = str(getattr(model, "name", "") or "")
    paths = []
    for i, f in enumerate(facts, 1):
        pdf = poster_pdf(f, f"{base}/v/{f['code']}", hotline=hotline, county=county)
        paths.append(write_bytes(out / f"{f['code']}.pdf", pdf))
        if progress is not None:
            progress(i, len(facts))
    log.debug("wrote %d poster(s) to %s", len(paths), out)
    return paths
