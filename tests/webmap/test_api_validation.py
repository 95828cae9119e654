"""``/api/validation`` serves the same report as ``doorstep validate``; underserved rows carry
``point_imputed``."""

from __future__ import annotations

from typing import Any

from doorstep.geo.validation import validate_against_world
from tests.conftest import needs_shared

pytestmark = needs_shared


def test_validation_route_matches_library(app: Any, client: Any, huayuan_model: Any) -> None:
    doc = client.get("/api/validation").get_json()
    want = validate_against_world(huayuan_model).as_dict()
    assert doc == want
    assert doc["checks_ok"] == 6
    assert "/api/validation" in client.get("/api/openapi.json").get_json()["paths"]


def test_underserved_rows_say_if_the_point_is_imputed(client: Any, huayuan_model: Any) -> None:
    doc = client.get("/api/underserved?mode=car").get_json()
    v = huayuan_model.villages.set_index("code")["location_quality"]
    assert doc["villages"]
    assert all(r["point_imputed"] == (v[r["code"]] == "imputed") for r in doc["villages"])
