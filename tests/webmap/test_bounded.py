"""Bounded work: results keyed by request parameters are an LRU, expensive builds are capped."""

from __future__ import annotations

import threading
import time

import pytest

from doorstep.webmap.app.cache import Busy, ResultCache


def test_lru_keeps_at_most_maxsize_results():
    cache = ResultCache(maxsize=3)
    for i in range(500):
        assert cache.get(f"minutes:{i}", lambda i=i: i * 2) == i * 2
    assert len(cache) == 3
    built = []
    assert cache.get("minutes:499", lambda: built.append(1)) == 998 and not built  # still cached


def test_one_build_per_key_and_other_keys_do_not_wait():
    cache = ResultCache(maxsize=8)
    calls, release = [], threading.Event()

    def slow():
        calls.append("slow")
        release.wait(5)
        return "plan"

    t1 = threading.Thread(target=lambda: cache.get("2027-01", slow))
    t2 = threading.Thread(target=lambda: cache.get("2027-01", slow))
    t1.start()
    time.sleep(0.05)
    t2.start()
    t0 = time.perf_counter()
    assert cache.get("other", lambda: "quick") == "quick"  # not held up by the slow build
    assert time.perf_counter() - t0 < 0.5
    release.set()
    t1.join(5)
    t2.join(5)
    assert calls == ["slow"]  # the second request waited for the first build, did not rebuild


def test_expensive_builds_beyond_the_limit_are_refused():
    cache = ResultCache(maxsize=8, max_builds=1)
    started, release = threading.Event(), threading.Event()

    def plan():
        started.set()
        release.wait(5)
        return 1

    t = threading.Thread(target=lambda: cache.get("2027-01", plan, expensive=True))
    t.start()
    assert started.wait(5)
    with pytest.raises(Busy):
        cache.get("2027-02", lambda: 2, expensive=True)
    release.set()
    t.join(5)
    assert cache.get("2027-02", lambda: 2, expensive=True) == 2  # a slot is free again


@pytest.mark.usefixtures("huayuan_model")
def test_distinct_minutes_stay_within_the_cache_bound(tmp_path):
    from tests.webmap.conftest import make_app

    app = make_app(tmp_path, RESULT_CACHE_SIZE=16)
    c = app.test_client()
    from doorstep.webmap.app.state import get_state

    st = get_state(app)
    st._results.maxsize = 16  # the process-wide cache of this model may predate this app
    for i in range(60):
        r = c.get(f"/api/underserved?minutes={20 + i * 0.5}")
        assert r.status_code == 200
    assert len(st._results) <= 16
