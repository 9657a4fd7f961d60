"""Every API route, method and persona, called with the persona's own token.

The table is tests/integration/matrix_api.py's `API`. A route of /api/v1 without a row
fails here (and in test_authorization_matrix, which checks what a session cookie gets).
Refused requests (401, 403, 404) write nothing but the token's own bookkeeping (its last
use and its rate-limit count, api_tokens).
"""

import pytest

from tests.conftest import persona_api_token
from tests.integration.matrix_api import API, ids
from tests.matrix_base import ANON, OK, PERSONAS

BOOKKEEPING = {"api_tokens", "login_sessions"}


def test_every_api_route_has_a_row(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - API.keys() == set(), "API routes without a row in matrix_api.API"
    assert API.keys() - routes == set(), "rows for API routes that no longer exist"


@pytest.fixture(scope="module")
def api_ids(app):
    from extensions import db

    with app.app_context():
        found = ids(db.session)
    assert all(found.values()), found
    return found


CASES = [
    pytest.param(endpoint, method, persona, id=f"{endpoint}-{method}-{persona}")
    for (endpoint, method) in API
    for persona in PERSONAS
]


@pytest.mark.parametrize(("endpoint", "method", "persona"), CASES)
def test_api_matrix(app, client, api_ids, endpoint, method, persona):
    template, body, expected_by_persona = API[(endpoint, method)]
    expected = expected_by_persona[persona]
    headers = {}
    if persona != ANON:
        headers["Authorization"] = f"Bearer {persona_api_token(persona)}"
    _, tracker = app.extensions["test_template"]
    before = set(tracker.tables)
    kwargs = {"json": body} if body is not None else {}
    response = client.open(template.format(**api_ids), method=method, headers=headers, **kwargs)
    written = set(tracker.tables) - before - BOOKKEEPING
    status = response.status_code
    kind = response.headers.get("Content-Type", "")
    response.close()
    if expected == OK:
        assert status not in (401, 403, 404, 405) and status < 500, (status, persona)
    else:
        assert status == expected, (status, persona)
    if status >= 400:
        assert kind.startswith("application/problem+json"), kind
    if status in (401, 403, 404):
        assert written == set(), f"a refused request wrote to {written}"
