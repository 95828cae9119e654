"""The lean ``GET /api/nearest`` WSGI path: same bodies, headers and refusals as the Flask view,
and every answer equal to ``od_matrix`` on random points in all three modes."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point
from werkzeug.test import Client

from doorstep.webmap.app.fastpath import NearestFastPath, query_args

pytestmark = pytest.mark.needs_data


def test_query_args_keep_the_first_of_repeats() -> None:
    assert query_args("lon=1&lat=2&lon=3&mode=") == {"lon": "1", "lat": "2", "mode": ""}


def _random_inside(eng: Any, k: int, seed: int) -> list[tuple[float, float]]:
    b = eng.model.county.total_bounds
    rng = np.random.default_rng(seed)
    pts: list[tuple[float, float]] = []
    while len(pts) < k:
        p = (float(rng.uniform(b[0], b[2])), float(rng.uniform(b[1], b[3])))
        if eng.inside(*p):
            pts.append(p)
    return pts


def test_fast_path_equals_flask_view_and_od_matrix(app: Any) -> None:
    from doorstep.geo.routing import od_matrix
    from doorstep.webmap.app.state import get_state

    assert isinstance(app.wsgi_app, NearestFastPath)
    fast = Client(app.wsgi_app)
    slow = Client(app.wsgi_app.wrapped)  # the Flask app without the lean path
    with app.app_context():
        eng = get_state().engine
    pts = _random_inside(eng, 12, 11)
    ids = [r["id"] for r in eng.rows]
    for mode in ("walk", "motorbike", "car"):
        for lon, lat in pts:
            q = f"/api/nearest?lon={lon:.6f}&lat={lat:.6f}&mode={mode}&n=5&route=all"
            a, b = fast.get(q), slow.get(q)
            assert a.status_code == b.status_code == 200
            body = json.loads(a.get_data())
            assert body == json.loads(b.get_data())
            # Flask adds "Vary: Cookie" (a hook read the session); the answer reads no cookie
            skip = ("Content-Length", "Vary")
            assert {k: v for k, v in a.headers if k not in skip} == {
                k: v for k, v in b.headers if k not in skip
            }
            # the same origin as sent (6 decimals) gives od_matrix's minutes and km
            o = gpd.GeoDataFrame(geometry=[Point(float(f"{lon:.6f}"), float(f"{lat:.6f}"))])
            od1 = od_matrix(
                eng.model, o.set_crs("EPSG:4326"), eng.points, mode=mode, with_distance=True
            )
            order = np.argsort(od1.minutes[0], kind="stable")[:5]
            assert [r["id"] for r in body["results"]] == [ids[j] for j in order]
            for r, j in zip(body["results"], order, strict=True):
                assert r["minutes"] == round(float(od1.minutes[0, j]), 1)
                assert r["km"] == pytest.approx(float(od1.km[0, j]), abs=0.0051)


@pytest.mark.parametrize(
    "query", ["lon=abc&lat=28.45", "lon=109.4&lat=28.45&mode=plane", "lon=100&lat=28.45"]
)
def test_refusals_come_from_the_flask_app(app: Any, query: str) -> None:
    a = Client(app.wsgi_app).get(f"/api/nearest?{query}")
    b = Client(app.wsgi_app.wrapped).get(f"/api/nearest?{query}")
    assert a.status_code == b.status_code == 400
    assert a.get_data() == b.get_data()
