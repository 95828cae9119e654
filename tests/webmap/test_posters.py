"""``doorstep posters``: one A4 PDF per village whose QR code opens the village's page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from doorstep.geo._errors import InputError
from doorstep.geo.atomic import file_mode

pytestmark = pytest.mark.needs_data

BASE = "https://legal.example.cn/doorstep"


def _read(path: Path) -> tuple[str, str, tuple[float, float]]:
    """(decoded QR text, page text, page size in points) of a one-page PDF."""
    cv2 = pytest.importorskip("cv2")
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(str(path))
    try:
        assert len(doc) == 1
        page = doc[0]
        size = page.get_size()
        text = page.get_textpage().get_text_range()
        img = page.render(scale=2).to_numpy()
    finally:
        doc.close()
    decoded, _points, _ = cv2.QRCodeDetector().detectAndDecode(img)
    return decoded, text, size


def test_posters_for_a_few_villages(huayuan_model: Any, tmp_path: Path) -> None:
    from doorstep.webmap.posters import write_posters

    v = huayuan_model.villages
    picks = [str(c) for c in v["code"].iloc[[0, 57, 130, len(v) - 1]]]
    names = dict(zip(v["code"].astype(str), v["name"].astype(str), strict=True))
    paths = write_posters(huayuan_model, BASE + "/", tmp_path / "out", picks)
    assert [p.name for p in paths] == [f"{c}.pdf" for c in picks]
    for code, path in zip(picks, paths, strict=True):
        assert path.stat().st_mode & 0o777 == file_mode()
        decoded, text, (w, h) = _read(path)
        assert decoded == f"{BASE}/v/{code}"
        assert names[code] in text and "12348" in text
        assert "法务室" in text and "modelled estimates" in text
        assert (round(w), round(h)) == (595, 842)  # A4 in points


def test_all_villages_cli(huayuan_model: Any, tmp_path: Path, caplog: Any) -> None:
    import logging

    from doorstep.cli import main

    out = tmp_path / "all"
    t0 = time.perf_counter()
    with caplog.at_level(logging.INFO):
        assert main(["posters", "--base-url", BASE, "--out", str(out)]) == 0
    took = time.perf_counter() - t0
    codes = sorted(str(c) for c in huayuan_model.villages["code"])
    assert len(codes) == 228
    assert sorted(p.stem for p in out.glob("*.pdf")) == codes
    assert took < 30, f"228 posters took {took:.1f} s"
    assert any("posters: 20/228" in r.getMessage() for r in caplog.records)
    decoded, text, _ = _read(out / f"{codes[-1]}.pdf")
    assert decoded == f"{BASE}/v/{codes[-1]}" and "12348" in text


def test_villages_option_selects(huayuan_model: Any, tmp_path: Path) -> None:
    from doorstep.cli import main

    codes = [str(c) for c in huayuan_model.villages["code"].iloc[:2]]
    out = tmp_path / "two"
    assert main(["posters", "--base-url", BASE, "--out", str(out), "--codes", ",".join(codes)]) == 0
    assert sorted(p.stem for p in out.glob("*.pdf")) == sorted(codes)


@pytest.mark.parametrize(
    "url",
    [
        "legal.example.cn",
        "ftp://legal.example.cn",
        "https://legal example.cn",
        "https://",
        " https://a.cn",
        "https://a.cn/?q=1",
    ],
)
def test_bad_base_url_exits_2(url: str, tmp_path: Path, capsys: Any) -> None:
    from doorstep.cli import main

    assert main(["posters", "--base-url", url, "--out", str(tmp_path / "o")]) == 2
    assert "--base-url" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unknown_village_code(huayuan_model: Any, tmp_path: Path) -> None:
    from doorstep.webmap.posters import write_posters

    with pytest.raises(InputError, match="unknown village"):
        write_posters(huayuan_model, BASE, tmp_path / "x", ["999999999999"])
    assert not (tmp_path / "x").exists()
