"""Browser tests: headless Debian Chromium driven by Playwright (no browser download).

The app runs in a thread (werkzeug server on 127.0.0.1, port 0). Every request that is not
to that server or a ``file://`` URL is blocked and recorded, so a CDN asset or online tile
makes the test fail. Screenshots go to ``$DOORSTEP_TEST_OUTPUT`` if set, else to a
``screenshots`` folder under pytest's temporary directory (never into the checkout).

No test sleeps: each waits for the element, navigation, download or response it needs, with
timeouts generous enough for a loaded 2-core machine running the suite with ``-n 2`` (the
first month plan is computed on demand and can take a minute there) but bounded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_data
from tests.webmap.conftest import PLANNER, STAFF, app_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_MS = 30_000  # a click, a selector, a page load
COMPUTE_MS = 180_000  # a request that plans a month or solves a siting model

pytestmark = [
    pytest.mark.browser,
    needs_data,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian chromium at /usr/bin/chromium "
        "(apt-get install chromium; .ci/run installs it)",
    ),
]


@pytest.fixture(scope="session")
def shots(tmp_path_factory: Any) -> Path:
    """Where screenshots go."""
    env = os.environ.get("DOORSTEP_TEST_OUTPUT")
    if env:
        Path(env).mkdir(parents=True, exist_ok=True)
        return Path(env)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("inst"), WTF_CSRF_ENABLED=True) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A page that blocks (and records) every request outside file:// and the local server."""

    def __init__(self, browser: Any, shots: Path, allowed: str = "", **ctx: Any) -> None:
        self.shots = shots
        self.context = browser.new_context(accept_downloads=True, **ctx)
        self.page = self.context.new_page()
        self.page.set_default_timeout(STEP_MS)
        self.page.set_default_navigation_timeout(STEP_MS)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:")) or (allowed and url.startswith(allowed)):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.context.route("**/*", route)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def close(self) -> None:
        assert not self.blocked, f"requests left the machine: {self.blocked[:5]}"
        assert not self.errors, f"JavaScript errors: {self.errors[:3]}"
        self.context.close()


def login(pg: Any, server: str, who: tuple[str, str]) -> None:
    pg.goto(f"{server}/auth/login")
    pg.fill("#username", who[0])
    pg.fill("#password", who[1])
    with pg.expect_navigation():
        pg.click("#login-submit")
    assert "/auth/login" not in pg.url, "login failed"


def test_resident_finds_nearest_point(browser: Any, server: str, shots: Path) -> None:
    p = Page(
        browser,
        shots,
        server,
        viewport={"width": 412, "height": 915},
        is_mobile=True,
        has_touch=True,
    )
    pg = p.page
    pg.goto(server + "/")
    pg.wait_for_selector("#village-list li")
    pg.fill("#village-search", "龙潭")
    pg.wait_for_selector("#village-list li[data-code]")
    # a village (村), not the seat's community: its answer is a drive, not "you are there"
    first = pg.locator("#village-list li[data-code]", has_text="龙门村").first
    code = first.get_attribute("data-code")
    first.click()
    best = pg.wait_for_selector(".mode[data-mode='car'] .card.best .minutes")
    minutes = float(best.get_attribute("data-minutes") or "nan")
    walk = float(
        pg.locator(".mode[data-mode='walk'] .card.best .minutes").get_attribute("data-minutes")
        or "nan"
    )
    # the page shows what the API answers for that village
    v = pg.evaluate(f"fetch('/api/villages?q={code}').then(r => r.json())")["villages"][0]
    api = pg.evaluate(
        f"fetch('/api/nearest?lon={v['lon']}&lat={v['lat']}&mode=car').then(r => r.json())"
    )
    assert minutes == api["results"][0]["minutes"] > 0
    assert walk > minutes
    assert (
        pg.locator(".mode[data-mode='car'] .card.best .name").inner_text()
        == api["results"][0]["name"]
    )
    assert pg.locator("path.ds-route-car").count() == 1  # routes drawn
    assert pg.locator("path.ds-route-walk").count() == 1
    assert "12348" in pg.inner_text(".online")
    pg.evaluate("window.scrollTo(0, 0)")
    p.shot("resident_nearest_map")
    pg.locator("#results").scroll_into_view_if_needed()
    p.shot("resident_nearest_results")
    p.close()


def test_resident_first_load_is_small(browser: Any, server: str, shots: Path) -> None:
    """A phone on a slow rural connection: the resident page's first load (HTML, CSS, JS, the
    village list, and the offline map's roads and names) stays under 500 KB — both decoded and
    as transferred (gzip where served) — and nothing is fetched from another host."""
    p = Page(browser, shots, server, viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = p.page
    sizes: list[int] = []
    wire: list[int] = []
    urls: list[str] = []

    def done(r: Any) -> None:
        sizes.append(len(r.body()) if r.ok else 0)
        s = r.request.sizes()
        wire.append(s["responseBodySize"] + s["responseHeadersSize"])
        urls.append(r.url)

    pg.on("response", done)
    pg.goto(server + "/")
    pg.wait_for_selector("#village-list li")
    pg.wait_for_selector("path.ds-road-real", state="attached")
    pg.wait_for_load_state("networkidle")
    total, sent = sum(sizes), sum(wire)
    print(f"resident first load: {total / 1024:.0f} KiB decoded, {sent / 1024:.0f} KiB transferred")
    assert any(u.endswith("/api/maplayers/roads") for u in urls)
    assert 10_000 < total < 500_000, total
    assert sent < total and sent < 500_000, sent
    p.close()


def test_resident_call_button_and_large_text_that_sticks(
    browser: Any, server: str, shots: Path
) -> None:
    """12348 is a tap-to-call link at the top of a 390-px phone page; the large-text,
    high-contrast switch survives a reload and a move to another page."""
    p = Page(browser, shots, server, viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = p.page
    pg.goto(server + "/")
    call = pg.locator("#call-12348")
    assert call.get_attribute("href") == "tel:12348"
    box = call.bounding_box()
    assert box is not None and box["y"] < 80 and box["height"] >= 44  # top, thumb-sized
    base = pg.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    pg.click("#display-toggle")
    assert pg.get_attribute("#display-toggle", "aria-pressed") == "true"
    pg.reload()
    pg.wait_for_selector("#display-toggle[aria-pressed='true']")
    large = pg.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= 1.2 * base
    pg.goto(server + "/auth/login")
    assert pg.evaluate("document.documentElement.classList.contains('large')")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    p.shot("resident_large_text")
    pg.click("#display-toggle")  # back to normal, also remembered
    pg.reload()
    assert not pg.evaluate("document.documentElement.classList.contains('large')")
    p.close()


VILLAGE_FILLS = """id => { const out = {};
  window.DS.maps[id].eachLayer(l => { if (l instanceof L.CircleMarker && l.feature) out[l.feature.properties.code] = l.options.fillColor; });
  return out; }"""
SITE_FILLS = """id => { const out = [];
  window.DS.maps[id].eachLayer(l => { if (l instanceof L.CircleMarker && !l.feature) out.push([l.options.fillColor, l.options.radius]); });
  return out; }"""


def village_fills(pg: Any, map_id: str) -> dict[str, str]:
    """Each village marker's fill colour on a planner map, by village code."""
    fills: dict[str, str] = pg.evaluate(VILLAGE_FILLS, map_id)
    return fills


def coverage_fills(fills: dict[str, str], result: dict[str, Any]) -> dict[str, str]:
    """The fill a what-if result gives each village shown: green covered before, blue newly
    covered, red not covered (all three must occur, or the comparison proves little)."""
    from doorstep.webmap.layers import COVERAGE_COLOUR as C

    assert (C["before"], C["newly"], C["none"]) == ("#1a9850", "#2c7fb8", "#d73027")
    before = {str(c) for c in result["villages_covered_before"]}
    after = {str(c) for c in result["villages_covered_after"]}
    assert before and after - before and set(fills) - after, "need all three kinds of village"
    return {
        c: C["before"] if c in before else C["newly"] if c in after else C["none"] for c in fills
    }


MINUTE_KEY = """() => [...document.querySelectorAll('#plan-legend .ds-minute-key')].map(k =>
  [k.dataset.class, getComputedStyle(k.querySelector('i')).backgroundColor, k.textContent.trim()])"""
"""The planner's minutes legend: each row's class, swatch colour and label."""


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def check_minute_colours(pg: Any) -> None:
    """The planner map before any what-if: every village dot is filled with
    ``minute_colour(its car minutes)`` (at least three classes shown), ``DS.minuteColour``
    agrees with Python on and around every class bound, and the legend lists the Python
    classes and the unreachable grey in their colours."""
    from doorstep.webmap.layers import (
        MINUTE_CLASSES,
        UNREACHABLE_COLOUR,
        UNREACHABLE_LABEL,
        minute_colour,
        minute_config,
    )

    assert pg.evaluate("DS.MINUTES") == minute_config()
    vill = pg.evaluate("fetch('/api/layers/villages').then(r => r.json())")["features"]
    minutes = {f["properties"]["code"]: f["properties"]["minutes_car"] for f in vill}
    # the dots are drawn before the dashboard's tables are filled: already there, but guarded
    pg.wait_for_function(
        f"!!(window.DS && DS.maps.map) && Object.keys(({VILLAGE_FILLS})('map')).length"
        f" === {len(vill)}"
    )
    fills = village_fills(pg, "map")
    want = {c: minute_colour(float("nan") if m is None else m) for c, m in minutes.items()}
    assert fills == want
    assert len(set(fills.values())) >= 3, set(fills.values())
    probes = [0.0, 15.0, 15.01, 29.99, 30.0, 44.5, 45.0, 59.9, 60.0, 60.01, 240.0]
    js = pg.evaluate("ms => ms.map(DS.minuteColour)", [*probes, None])
    assert js == [minute_colour(m) for m in probes] + [UNREACHABLE_COLOUR]
    assert pg.evaluate(MINUTE_KEY) == [
        [str(i), rgb(c), lbl] for i, (_u, c, lbl) in enumerate(MINUTE_CLASSES)
    ] + [["unreachable", rgb(UNREACHABLE_COLOUR), UNREACHABLE_LABEL]]


def test_planner_runs_mclp_whatif(browser: Any, server: str, shots: Path, tmp_path: Path) -> None:
    from doorstep.webmap.layers import COVERAGE_COLOUR

    assert COVERAGE_COLOUR["site"] == "#ffd700"
    p = Page(browser, shots, server, viewport={"width": 1400, "height": 1000})
    pg = p.page
    login(pg, server, PLANNER)
    pg.goto(server + "/plan/")
    pg.wait_for_selector("#town-table tbody tr")
    assert pg.locator("#town-table tbody tr").count() == 12
    # the modelled-data notice and the 5–95 % ranges sit next to the figures they qualify
    notice = pg.inner_text("#modelled-notice")
    assert "roads" in notice and "modelled" in notice and "draws" in notice
    api = pg.evaluate("fetch('/api/coverage?mode=car').then(r => r.json())")["county"]
    ranges = pg.locator("#county-summary [data-range]").all_inner_texts()
    lo, hi = api["share_within_30_p05"], api["share_within_30_p95"]
    assert f"{100 * lo:.1f}%–{100 * hi:.1f}%" in ranges and lo <= api["share_within_30"] <= hi
    assert len(ranges) == 5  # every share and the mean time carry a range
    check_minute_colours(pg)
    p.shot("planner_dashboard")
    # the validation table, one per check, filled from /api/validation
    pg.wait_for_selector("#validation table.validation", state="attached", timeout=COMPUTE_MS)
    checks = pg.locator("#validation table.validation")
    assert checks.count() == 6
    assert pg.locator('#validation table[data-check="road_length"] tbody tr').count() >= 1
    pg.click("#validation-box summary")  # folded by default, below the what-if
    pg.locator("#validation").scroll_into_view_if_needed()
    p.shot("planner_validation")
    pg.evaluate("window.scrollTo(0, 0)")
    pg.select_option("#wi-model", "mclp")
    pg.fill("#wi-k", "3")
    pg.fill("#wi-minutes", "30")
    pg.click("#wi-run")
    pg.wait_for_selector("#cov-after", timeout=COMPUTE_MS)

    def num(sel: str) -> int:
        return int(re.sub(r"[^0-9]", "", pg.inner_text(sel)))

    before, after = num("#cov-before"), num("#cov-after")
    assert after > before > 0
    assert num("#cov-delta") == after - before
    pg.fill("#sc-name", "MCLP k=3")
    pg.click("#sc-save")
    pg.wait_for_selector("#scenarios tbody tr")
    assert "MCLP k=3" in pg.inner_text("#scenarios")
    p.shot("planner_mclp_whatif")
    # a second scenario, then both side by side: a map and the saved figures each
    pg.fill("#wi-k", "1")
    with pg.expect_response(lambda r: r.url.endswith("/api/whatif"), timeout=COMPUTE_MS) as wi:
        pg.click("#wi-run")
    pg.wait_for_selector("#cov-after")
    # the what-if map's villages: covered before / newly covered / not, from the answer
    n_villages = pg.evaluate(
        "fetch('/api/layers/villages').then(r => r.json()).then(v => v.features.length)"
    )
    fills = village_fills(pg, "map")
    assert len(fills) == n_villages and fills == coverage_fills(fills, wi.value.json())
    pg.fill("#sc-name", "MCLP k=1")
    pg.click("#sc-save")
    pg.wait_for_selector("#scenarios tbody tr:nth-child(2)")
    for box in pg.locator("#scenarios tbody input").all():
        box.check()
    pg.click("#sc-compare")
    pg.wait_for_selector("#compare-panels[data-ready='1']", timeout=COMPUTE_MS)
    saved = pg.evaluate("fetch('/api/scenarios').then(r => r.json())")["scenarios"]
    shown = pg.locator("#compare-panels .cmp-after").all_inner_texts()
    assert shown == [f"{100 * s['summary']['share_after']:.1f}%" for s in saved]
    assert pg.locator("#compare-panels .cmp-map .leaflet-pane").count() >= 2
    assert saved[0]["summary"]["share_after"] > saved[1]["summary"]["share_after"]  # k=3 > k=1
    # each scenario's map is coloured as the what-if map, from that scenario's saved result
    for i, sid in enumerate(
        pg.eval_on_selector_all(
            "#compare-panels article.cmp", "a => a.map(x => x.dataset.scenario)"
        )
    ):
        doc = pg.evaluate(f"fetch('/api/scenarios/{sid}').then(r => r.json())")
        fills = village_fills(pg, f"cmp-map-{i}")
        assert len(fills) == n_villages and fills == coverage_fills(fills, doc["result"])
        sites = pg.evaluate(SITE_FILLS, f"cmp-map-{i}")
        assert sites == [[COVERAGE_COLOUR["site"], 8]] * len(doc["result"]["new_sites"]) and sites
    pg.locator("#compare-panels").scroll_into_view_if_needed()
    p.shot("planner_scenarios_side_by_side")
    link = pg.get_attribute("a[href$='#from-scenario-h']", "href")  # on to 四个一 projects
    assert link == "/projects/#from-scenario-h"
    # the current map as a PNG, made in the browser from local assets only
    pg.evaluate("window.scrollTo(0, 0)")
    with pg.expect_download(timeout=COMPUTE_MS) as dl:
        pg.click("#map-png")
    png = tmp_path / dl.value.suggested_filename
    dl.value.save_as(png)
    data = png.read_bytes()
    assert png.suffix == ".png" and data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 400 and height >= 300, (width, height)
    p.close()


def staff_circuits(browser: Any, server: str, shots: Path, month: str) -> Page:
    """A staff login on the circuits page of ``month``, once its plan has loaded and the route
    table has rows."""
    p = Page(browser, shots, server, viewport={"width": 1400, "height": 1000})
    pg = p.page
    login(pg, server, STAFF)
    # the month plan is computed on the first request for it: allow for a loaded machine
    with pg.expect_response(
        lambda r: "/api/circuits?" in r.url and r.request.method == "GET", timeout=COMPUTE_MS
    ) as plan:
        pg.goto(f"{server}/circuits/?month={month}")
    assert plan.value.ok, plan.value.text()[:300]
    pg.wait_for_selector("#routes tbody tr")
    return p


def test_staff_downloads_ledger(browser: Any, server: str, tmp_path: Path, shots: Path) -> None:
    month = "2026-12"
    p = staff_circuits(browser, server, shots, month)
    pg = p.page
    assert pg.locator("#routes tbody tr").count() >= 1
    # the download starts once the ledger is written: wait for that event, not for a time
    with pg.expect_download(timeout=COMPUTE_MS) as dl:
        pg.click("#dl-ledger")
    assert dl.value.failure() is None
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name == f"doorstep-ledger-{month}.xlsx" and path.read_bytes()[:2] == b"PK"
    import openpyxl

    names = openpyxl.load_workbook(path).sheetnames
    assert sum(1 for n in names if n.startswith("律师")) == 8  # a sheet per lawyer
    assert pg.locator("#routes tbody tr").count() >= 100  # 8 lawyers x ~20 working days
    box = pg.locator("#routes input.done").first
    box.check()  # opens the ledger's record form
    pg.wait_for_selector("#visit-dialog[open]")
    pg.fill("#v-arrived", "09:30")
    pg.fill("#v-left", "09:00")  # leaves before arriving: refused, naming the field
    pg.fill("#v-persons", "7")
    pg.check("#v-services input[value='法律咨询']")
    with pg.expect_response(lambda r: r.url.endswith("/api/circuits/visits")) as refused:
        pg.click("#visit-save")
    assert refused.value.status == 400
    # the message is written after the response arrives: wait for it, do not race it
    pg.locator("#visit-error").filter(has_text="实际离开").wait_for()
    pg.fill("#v-left", "11:00")
    p.shot("staff_visit_record")
    with pg.expect_response(
        lambda r: r.url.endswith("/api/circuits/visits") and r.request.method == "POST"
    ) as saved:
        pg.click("#visit-save")
    assert saved.value.ok, saved.value.text()[:300]
    pg.wait_for_selector("#visit-dialog:not([open])", state="attached")
    assert box.is_checked()
    done = pg.evaluate(f"fetch('/api/circuits?month={month}').then(r => r.json())")["done"]
    assert len(done) == 1 and done[0]["by"] == STAFF[0]
    rec = done[0]["record"]
    assert (rec["arrived"], rec["left"], rec["persons"], rec["services"]) == (
        "09:30",
        "11:00",
        7,
        ["法律咨询"],
    )
    # the record can be corrected: the form opens filled in
    pg.click("#routes button.edit-record")
    pg.wait_for_selector("#visit-dialog[open]")
    assert pg.input_value("#v-persons") == "7" and pg.input_value("#v-left") == "11:00"
    assert pg.is_checked("#v-services input[value='法律咨询']")
    pg.fill("#v-persons", "9")
    with pg.expect_response(lambda r: r.url.endswith("/api/circuits/visits")) as fixed:
        pg.click("#visit-save")
    assert fixed.value.ok
    done = pg.evaluate(f"fetch('/api/circuits?month={month}').then(r => r.json())")["done"]
    assert [d["record"]["persons"] for d in done] == [9]
    p.shot("staff_circuits")
    p.close()


TICK_PROBE = """() => {
  const map = window.DS.maps.map;
  map.setView([map.getCenter().lat + 0.01, map.getCenter().lng - 0.02], map.getZoom() + 1, {animate: false});
  let marker = null;
  map.eachLayer(l => { if (!marker && l instanceof L.CircleMarker) marker = l; });
  window.tickProbe = {marker: marker, rows: Array.from(document.querySelectorAll("#routes tbody tr"))};
  return marker !== null;
}"""
TICK_STATE = """() => {
  const map = window.DS.maps.map, c = map.getCenter(), probe = window.tickProbe;
  const rows = Array.from(document.querySelectorAll("#routes tbody tr"));
  return {view: [c.lat, c.lng, map.getZoom()], marker_kept: map.hasLayer(probe.marker),
          rows_kept: rows.length === probe.rows.length && rows.every((r, i) => r === probe.rows[i]),
          boxes: Array.from(document.querySelectorAll("#routes input.done")).map(b => b.checked),
          edits: Array.from(document.querySelectorAll("#routes button.edit-record")).map(b => {
            const box = b.previousElementSibling.querySelector("input.done");  // its own tick box
            return [b.dataset.lawyer, b.dataset.date, b.dataset.village,
                    box.dataset.lawyer + "|" + box.dataset.date + "|" + box.dataset.village];
          }),
          summary: document.getElementById("circuit-summary").textContent};
}"""


def test_staff_tick_changes_only_that_visit(browser: Any, server: str, shots: Path) -> None:
    """A tick (and an untick) changes that visit's box and edit button only: the table's rows
    and the map's layers are the same objects afterwards, and the map stays where it was put."""
    month = "2026-12"
    p = staff_circuits(browser, server, shots, month)
    pg = p.page
    assert pg.evaluate(TICK_PROBE), "no stop marker on the map"
    before = pg.evaluate(TICK_STATE)
    # an unticked visit that is not the first box (another test ticks that one)
    i = next(n for n, on in enumerate(before["boxes"]) if n > 0 and not on)
    box = pg.locator("#routes input.done").nth(i)
    key = [box.get_attribute(a) for a in ("data-lawyer", "data-date", "data-village")]
    box.check()
    pg.wait_for_selector("#visit-dialog[open]")
    pg.fill("#v-arrived", "14:00")
    pg.fill("#v-left", "15:30")
    pg.fill("#v-persons", "4")
    with pg.expect_response(
        lambda r: r.url.endswith("/api/circuits/visits") and r.request.method == "POST"
    ) as saved:
        pg.click("#visit-save")
    assert saved.value.ok, saved.value.text()[:300]
    edit = pg.locator(
        f'#routes button.edit-record[data-lawyer="{key[0]}"][data-date="{key[1]}"]'
        f'[data-village="{key[2]}"]'
    )
    edit.wait_for()
    after = pg.evaluate(TICK_STATE)
    assert after["view"] == before["view"]
    assert after["marker_kept"] and after["rows_kept"]  # nothing redrawn
    assert after["boxes"] == [on or n == i for n, on in enumerate(before["boxes"])]
    assert sorted(after["edits"]) == sorted(before["edits"] + [[*key, "|".join(key)]])
    assert after["summary"] == before["summary"]
    assert box.is_checked()
    done = pg.evaluate(f"fetch('/api/circuits?month={month}').then(r => r.json())")["done"]
    mine = [d for d in done if [d["lawyer"], d["date"], d["village"]] == key]
    assert len(mine) == 1 and mine[0]["record"]["persons"] == 4
    # the record opens filled in from the server's answer
    edit.click()
    pg.wait_for_selector("#visit-dialog[open]")
    assert pg.input_value("#v-persons") == "4" and pg.input_value("#v-left") == "15:30"
    pg.click("#visit-cancel")
    assert box.is_checked()  # cancelling a correction keeps the tick
    # unticking: the box and its edit button go, nothing else moves
    with pg.expect_response(
        lambda r: r.url.endswith("/api/circuits/visits") and r.request.method == "POST"
    ) as removed:
        box.uncheck()
    assert removed.value.ok and removed.value.json()["done"] is False
    edit.wait_for(state="detached")
    again = pg.evaluate(TICK_STATE)
    assert again["view"] == before["view"]
    assert again["marker_kept"] and again["rows_kept"]
    assert again["boxes"] == before["boxes"] and sorted(again["edits"]) == sorted(before["edits"])
    done = pg.evaluate(f"fetch('/api/circuits?month={month}').then(r => r.json())")["done"]
    assert key not in [[d["lawyer"], d["date"], d["village"]] for d in done]
    p.close()


def test_atlas_renders_offline(
    browser: Any, tmp_path: Path, huayuan_model: Any, shots: Path
) -> None:
    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.layers import collect_layers

    build_atlas(huayuan_model, collect_layers(huayuan_model, "car"), tmp_path / "site")
    p = Page(browser, shots, "", viewport={"width": 1400, "height": 1000})
    pg = p.page
    pg.goto((tmp_path / "site" / "index.html").as_uri())
    pg.wait_for_selector("#ds-legend")
    pg.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 200")
    legend = pg.inner_text("#ds-legend")
    assert "真实 REAL" in legend and "模拟 MODELLED" in legend
    assert pg.locator("#ds-legend tr[data-layer='county'] [data-status='real']").count() == 1
    assert pg.locator("#ds-legend tr[data-layer='roads']").count() == 0
    assert (
        pg.locator("#ds-legend tr[data-layer='traveltime'] [data-status='modelled']").count() == 1
    )
    assert pg.locator(".leaflet-control-layers-overlays label").count() >= 6
    assert pg.locator("img.leaflet-tile").count() == 0  # no basemap tiles fetched
    p.shot("atlas_offline")
    p.close()


def test_single_file_atlas_opens_alone_on_a_phone(
    browser: Any, tmp_path: Path, huayuan_model: Any, shots: Path
) -> None:
    """``--single-file``: index.html e-mailed without vendor/ still draws the map; on a phone
    the legend starts folded and the map is not covered."""
    import shutil

    from doorstep.webmap.atlas import build_atlas
    from doorstep.webmap.layers import collect_layers

    files = build_atlas(
        huayuan_model, collect_layers(huayuan_model, "car"), tmp_path / "site", single_file=True
    )
    assert [f.name for f in files] == ["index.html"]
    alone = tmp_path / "mail"
    alone.mkdir()
    shutil.copy(tmp_path / "site" / "index.html", alone / "atlas.html")
    assert not (alone / "vendor").exists()
    p = Page(browser, shots, "", viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = p.page
    pg.goto((alone / "atlas.html").as_uri())
    pg.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 200")
    assert pg.evaluate("document.getElementById('ds-legend-box').open") is False
    legend = pg.locator("#ds-legend").bounding_box()
    assert legend is not None and legend["height"] < 0.2 * 844
    pg.click("#ds-legend summary")
    assert pg.evaluate("document.getElementById('ds-legend-box').open") is True
    p.shot("atlas_single_file_phone")
    p.close()


def test_resident_picks_a_service_and_opens_the_village_page(
    browser: Any, server: str, shots: Path
) -> None:
    """我要… legal aid: the answers are points accepting applications, the note says they are
    forwarded; the village page (/v/<code>) shows the room, 12348 and every service."""
    p = Page(browser, shots, server, viewport={"width": 412, "height": 915}, is_mobile=True)
    pg = p.page
    pg.goto(server + "/")
    pg.wait_for_selector("#village-list li")
    pg.select_option("#service", "legal_aid")
    pg.fill("#village-search", "龙潭")
    first = pg.locator("#village-list li[data-code]", has_text="龙门村").first
    code = first.get_attribute("data-code")
    first.click()
    pg.wait_for_selector(".mode[data-mode='car'] .card.best .minutes")
    assert "forwarded" in pg.inner_text("#service-note")
    v = pg.evaluate(f"fetch('/api/villages?q={code}').then(r => r.json())")["villages"][0]
    api = pg.evaluate(
        f"fetch('/api/nearest?lon={v['lon']}&lat={v['lat']}&mode=car&service=legal_aid')"
        ".then(r => r.json())"
    )
    assert {r["tier"] for r in api["results"]} <= {"county_centre", "township_station"}
    names = pg.locator(".mode[data-mode='car'] .card .name").all_inner_texts()
    assert names == [r["name"] for r in api["results"]]
    with pg.expect_navigation():
        pg.click("#village-page")
    assert pg.url.endswith(f"/v/{code}")
    assert pg.locator("#call-12348").get_attribute("href") == "tel:12348"
    assert pg.locator("#services tr[data-service]").count() == 5
    assert "龙门村法务室" in pg.inner_text("#room")
    # its map: the village and each point the table names, all in view, icons on their points
    pg.wait_for_selector("#map[data-ready]")
    data = pg.evaluate("JSON.parse(document.getElementById('village-map-data').textContent)")
    n = int(pg.get_attribute("#map", "data-ready") or 0)
    assert n == len(data["points"]) >= 2
    assert pg.locator("#map .ds-sp").count() == n
    assert pg.locator(f"#map .ds-here span[data-code='{code}']").count() == 1
    off = pg.evaluate(
        """(() => {
        const m = DS.maps.map, box = m.getContainer().getBoundingClientRect();
        const d = JSON.parse(document.getElementById('village-map-data').textContent);
        const at = (el, p) => { const r = el.getBoundingClientRect(),
          c = m.latLngToContainerPoint([p.lat, p.lon]);
          return Math.hypot(r.left + r.width / 2 - box.left - c.x, r.top + r.height / 2 - box.top - c.y); };
        const inView = [d.village, ...d.points].every(p => m.getBounds().contains([p.lat, p.lon]));
        const here = at(document.querySelector('#map .ds-here span'), d.village);
        const icons = [...document.querySelectorAll('#map .ds-sp span')].map((el, i) => at(el, d.points[i]));
        return {inView, here, icons};
      })()"""
    )
    assert off["inView"], off
    assert off["here"] < 2 and max(off["icons"]) < 2, off
    p.shot("resident_village_page")
    pg.locator("#map").scroll_into_view_if_needed()
    p.shot("resident_village_map")
    p.close()
