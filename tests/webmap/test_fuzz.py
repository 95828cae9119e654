"""API fuzzing with schemathesis against ``/api/openapi.json``: no request may cause a 5xx.

Every operation is fuzzed anonymously (protected operations must answer 401, never 5xx), and the
planner/staff operations again with a logged-in session and its CSRF token. Examples are bounded
(``max_examples`` per operation) so the suite stays fast; the WSGI app is called in-process.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from ..conftest import needs_shared
from ._secapp import PLANNER, STAFF, login, make_app

pytestmark = [needs_shared, pytest.mark.slow]

MAX_EXAMPLES = 25
# operations whose valid requests run an optimisation or a month of routing: fewer examples
EXPENSIVE = {
    "POST /api/whatif",
    "POST /api/scenarios",
    "GET /api/circuits",
    "GET /api/circuits/ledger.xlsx",
    "GET /api/circuits/calendar.ics",
    "POST /api/circuits/visits",
}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    # months of circuits planned with insertion routes only (seconds, not minutes, per month)
    return make_app(tmp_path_factory.mktemp("fuzz"), CIRCUIT_USE_PYVRP=False)


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def sessions(fuzz_app):
    """Cookie and CSRF header of a logged-in planner and staff member."""
    out = {}
    for role, user in (("planner", PLANNER), ("staff", STAFF)):
        c = fuzz_app.test_client()
        token = login(c, user)
        cookie = c.get_cookie("session")
        assert cookie is not None
        out[role] = ({"session": cookie.value}, {"X-CSRFToken": token})
    return out


def _check(case, response) -> None:
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.query} {case.body!r} -> "
        f"{response.status_code} {response.text[:300]}"
    )
    case.validate_response(response, checks=[not_a_server_error])


def _fuzz(schema, call, only_protected: bool = False) -> list[str]:
    """Run every operation's positive and negative strategies; return the failures.

    Per operation: ``MAX_EXAMPLES`` cases (60 % valid, 40 % invalid); operations that run an
    optimiser on valid input get 3 + 5 when logged in.
    """
    failures: list[str] = []
    ops = 0
    calls = [0]
    for result in schema.get_all_operations():
        op = result.ok()
        name = f"{op.method.upper()} {op.path}"
        protected = bool(op.definition.raw.get("security"))
        if only_protected and not protected:
            continue
        ops += 1
        cheap = not (name in EXPENSIVE and only_protected)
        budget = {
            GenerationMode.POSITIVE: MAX_EXAMPLES * 3 // 5 if cheap else 3,
            GenerationMode.NEGATIVE: MAX_EXAMPLES * 2 // 5 if cheap else 5,
        }
        for mode, n in budget.items():

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=n,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case) -> None:
                calls[0] += 1
                call(
                    case, case.operation.label, bool(case.operation.definition.raw.get("security"))
                )

            try:
                run()
            except Unsatisfiable:  # no parameters to make invalid (negative mode)
                continue
            except Exception as exc:
                failures.append(f"{name} ({mode.value}): {type(exc).__name__}: {str(exc)[:600]}")
    assert ops > 0 and calls[0] >= 5 * ops, (ops, calls[0])  # the fuzzer really ran
    return failures


def test_api_fuzz_anonymous(api_schema):
    def call(case, name, protected) -> None:
        response = case.call()
        _check(case, response)
        if protected:  # never reaches the view: login first
            assert response.status_code in (400, 401, 404, 405, 413), (name, response.status_code)

    failures = _fuzz(api_schema, call)
    assert not failures, "\n".join(failures)


def test_api_fuzz_logged_in(api_schema, sessions):
    def call(case, name, protected) -> None:
        for role in ("planner", "staff"):
            cookies, headers = sessions[role]
            response = case.call(cookies=cookies, headers=headers)
            _check(case, response)
            if name in EXPENSIVE:
                break  # one role is enough to reach the validation and the optimiser

    failures = _fuzz(api_schema, call, only_protected=True)
    assert not failures, "\n".join(failures)
