"""Accessibility: axe-core (served from a local copy, nothing fetched) finds no serious or
critical violation on the resident page, the login page, the planner, the staff and the
projects pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_browser import PLANNER, STAFF, Page, browser, login, pytestmark, server, shots  # noqa: F401

axe = pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")
AXE_JS = (Path(axe.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def _violations(pg: Any) -> list[dict[str, Any]]:
    pg.evaluate(AXE_JS)  # evaluated through the devtools protocol: no request, no CSP change
    res = pg.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, n: v.nodes.length})))"
    )
    return [v for v in res if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(
    ("path", "who", "ready"),
    [
        ("/", None, "#village-list li"),
        ("/auth/login", None, "#username"),
        ("/v/433124102201", None, "#services"),
        ("/v?q=龙潭", None, "#village-links"),
        ("/plan/", PLANNER, "main"),
        ("/circuits/", STAFF, "main"),
        ("/projects/", PLANNER, "#new-project-form"),
    ],
)
def test_no_serious_axe_violations(browser, server, shots, path, who, ready) -> None:  # noqa: F811
    p = Page(browser, shots, server, viewport={"width": 390, "height": 844})
    pg = p.page
    if who:
        login(pg, server, who)
    pg.goto(server + path)
    pg.wait_for_selector(ready)
    if path == "/plan/":  # the validation tables too, unfolded
        pg.wait_for_selector("#validation table.validation", state="attached", timeout=180_000)
        pg.click("#validation-box summary")
    bad = _violations(pg)
    assert not bad, bad
    p.close()
