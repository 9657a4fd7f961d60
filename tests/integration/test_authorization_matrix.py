"""Every route, method and persona, with the expected answer, from one table.

The table is written from DESIGN.md's personas (who may use what), not derived
from core.access, so it checks the policy rather than repeating it. The test walks
the application's URL map: a new route without a row here fails.

Expected values: an int is the exact status; OK means "allowed" (any answer that
is not 401/403/404/405 and not a server error: a form with errors, a redirect).
Denied requests must also write nothing to the database.
"""

import importlib
import pkgutil

import pytest
from sqlalchemy import select

import tests.integration
from core.models import Company, Role, User
from extensions import db
from tests.matrix_base import (  # noqa: F401  (the vocabulary the rows below use)
    ACME_VIEWERS,
    ADMIN,
    ALL_STAFF,
    ANNA,
    ANON,
    CUSTOMER_VIEWERS,
    DECISION_MAKERS,
    FINANCE,
    MANAGER,
    MARCO,
    OK,
    OTHER_DECISION_MAKERS,
    PERSONAS,
    PORTAL_GRANTERS_FOR_ACME,
    VIEWER,
    WAREHOUSE,
    everyone,
    office,
    shop,
)

# (endpoint, method) -> (URL template, {persona: expected})
MATRIX = {
    ("auth.index", "GET"): ("/", everyone(302)),
    ("auth.login", "GET"): ("/login", everyone(302, anon=200)),
    ("auth.login", "POST"): ("/login", everyone(200)),
    ("auth.logout", "POST"): ("/logout", everyone(302)),
    ("auth.change_password", "GET"): ("/account/password", everyone(200, anon=302)),
    ("auth.change_password", "POST"): ("/account/password", everyone(422, anon=302)),
    ("auth.accept_invitation", "GET"): ("/invitations/not-a-token", everyone(404)),
    ("auth.accept_invitation", "POST"): ("/invitations/not-a-token", everyone(404)),
    ("static", "GET"): ("/static/css/portal.css", everyone(200)),
    # A handshake from a foreign page: refused before the upgrade (401 without a session).
    ("live.socket", "GET"): ("/ws", everyone(403, anon=401)),
    ("office.dashboard", "GET"): ("/office/", office(ALL_STAFF, ok=200)),
    ("office.products", "GET"): ("/office/products", office(ALL_STAFF, ok=200)),
    ("office.stock", "GET"): (
        "/office/stock",
        office((ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, VIEWER), ok=200),
    ),
    ("office.stock_adjust", "POST"): (
        "/office/stock/{product}",
        office((ADMIN, MANAGER, WAREHOUSE)),
    ),
    ("office.audit", "GET"): ("/office/audit", office((ADMIN,), ok=200)),
    ("office.roles", "GET"): ("/office/roles", office((ADMIN,), ok=200)),
    ("office.role", "GET"): ("/office/roles/{role}", office((ADMIN,), ok=200)),
    ("office.role_create", "POST"): ("/office/roles", office((ADMIN,))),
    ("office.role_rename", "POST"): ("/office/roles/{role}/name", office((ADMIN,))),
    ("office.role_permissions", "POST"): ("/office/roles/{role}/permissions", office((ADMIN,))),
    ("office.role_delete", "POST"): ("/office/roles/{role}/delete", office((ADMIN,))),
    ("office.users", "GET"): ("/office/users", office((ADMIN,), ok=200)),
    ("office.user", "GET"): ("/office/users/{staff}", office((ADMIN,), ok=200)),
    ("office.user_invite", "GET"): ("/office/users/invite", office((ADMIN,), ok=200)),
    ("office.user_invite", "POST"): ("/office/users/invite", office((ADMIN,))),
    ("office.user_roles", "POST"): ("/office/users/{staff}/roles", office((ADMIN,))),
    ("office.user_customers", "POST"): ("/office/users/{staff}/customers", office((ADMIN,))),
    ("office.user_block", "POST"): ("/office/users/{staff}/block", office((ADMIN,))),
    ("office.user_unblock", "POST"): ("/office/users/{staff}/unblock", office((ADMIN,))),
    ("office.user_resend", "POST"): ("/office/users/{staff}/invitation/resend", office((ADMIN,))),
    ("office.user_revoke", "POST"): ("/office/users/{staff}/invitation/revoke", office((ADMIN,))),
    ("office.customers", "GET"): ("/office/customers", office(CUSTOMER_VIEWERS, ok=200)),
    ("office.customer", "GET"): (
        "/office/customers/{acme}",
        office(ACME_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.customer_reps", "POST"): ("/office/customers/{acme}/reps", office((ADMIN,))),
    ("office.customer_invite", "GET"): (
        "/office/customers/{acme}/people/invite",
        office(PORTAL_GRANTERS_FOR_ACME, not_found=(MARCO,), ok=200),
    ),
    ("office.customer_invite", "POST"): (
        "/office/customers/{acme}/people/invite",
        office(PORTAL_GRANTERS_FOR_ACME, not_found=(MARCO,)),
    ),
    **{
        (f"office.customer_person_{action}", "POST"): (
            f"/office/customers/{{acme}}/people/{{acme_person}}/{path}",
            office(PORTAL_GRANTERS_FOR_ACME, not_found=(MARCO,)),
        )
        for action, path in (
            ("roles", "roles"),
            ("block", "block"),
            ("unblock", "unblock"),
            ("resend", "invitation/resend"),
            ("revoke", "invitation/revoke"),
        )
    },
    ("shop.catalog", "GET"): ("/shop/", shop(ok=200)),
    ("shop.product", "GET"): ("/shop/products/{product}", shop(ok=200)),
    ("shop.photo", "GET"): ("/shop/photos/none.jpg", shop(ok=404)),
    ("shop.users", "GET"): ("/shop/users", shop(DECISION_MAKERS, ok=200)),
    ("shop.user_invite", "GET"): ("/shop/users/invite", shop(DECISION_MAKERS, ok=200)),
    ("shop.user_invite", "POST"): ("/shop/users/invite", shop(DECISION_MAKERS)),
    **{
        (f"shop.user_{action}", "POST"): (
            f"/shop/users/{{acme_person}}/{path}",
            shop(("orders@acme.test",), not_found=OTHER_DECISION_MAKERS),
        )
        for action, path in (
            ("roles", "roles"),
            ("block", "block"),
            ("unblock", "unblock"),
            ("resend", "invitation/resend"),
            ("revoke", "invitation/revoke"),
        )
    },
}


AREAS = [
    importlib.import_module(f"tests.integration.{m.name}")
    for m in pkgutil.iter_modules(tests.integration.__path__)
    if m.name.startswith("matrix_")
]
for area in AREAS:
    overlap = MATRIX.keys() & area.ROWS.keys()
    assert not overlap, f"{area.__name__} repeats rows: {overlap}"
    MATRIX.update(area.ROWS)


def test_every_route_has_a_row(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - MATRIX.keys() == set(), "routes without a row in the matrix"
    assert MATRIX.keys() - routes == set(), "rows for routes that no longer exist"


def route_ids(app) -> dict:
    """The values of every placeholder in the matrix's URL templates."""
    with app.app_context():
        one = db.session.scalar

        def user_id(email):
            return one(select(User.id).where(User.email == email))

        found = {
            "acme": one(select(Company.id).where(Company.slug == "acme")),
            "acme_person": user_id("request@acme.test"),
            "staff": user_id("viewer@portal.test"),
            "role": one(select(Role.id).where(Role.preset == "readonly")),
            "product": 1,
        }
        for area in AREAS:
            if hasattr(area, "ids"):
                found.update(area.ids(db.session))
        return found


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


CASES = [
    pytest.param(endpoint, method, persona, id=f"{endpoint}-{method}-{persona}")
    for (endpoint, method) in MATRIX
    for persona in PERSONAS
]


@pytest.mark.parametrize(("endpoint", "method", "persona"), CASES)
def test_matrix(app, client, as_user, ids, endpoint, method, persona):
    template, expected_by_persona = MATRIX[(endpoint, method)]
    expected = expected_by_persona[persona]
    url = template.format(**ids)
    c = client if persona == ANON else as_user(persona)
    headers = {}
    if endpoint == "live.socket":
        headers = {"Origin": "http://evil.example", "Upgrade": "websocket", "Connection": "Upgrade"}
    if method == "POST":
        c.csrf_token()  # fetch the token before counting writes
    _, tracker = app.extensions["test_template"]
    before = set(tracker.tables)
    response = c.send(method, url, headers=headers, csrf=method == "POST")
    written = set(tracker.tables) - before - {"login_sessions"}
    status = response.status_code
    response.close()
    if expected == OK:
        assert status not in (401, 403, 404, 405) and status < 500, (status, persona)
    else:
        assert status == expected, (status, persona)
        if status in (401, 403, 404):
            assert written == set(), f"a refused request wrote to {written}"
    if status == 302 and persona == ANON and url.startswith(("/office", "/shop")):
        assert response.headers["Location"].startswith("/login")


def _first_allowed(table):
    """A persona that may use the route, so a refusal can only come from CSRF."""
    for persona in (ADMIN, "orders@acme.test", ANON):
        if table[persona] not in (401, 403, 404) and table[persona] != 302:
            return persona
    return ADMIN


# The API takes bearer tokens only, never the session cookie, so a cookie without a CSRF
# token gets its 401 there (tests/integration/test_api_matrix.py checks the tokens).
POSTS = [
    pytest.param(endpoint, id=endpoint)
    for (endpoint, method) in MATRIX
    if method == "POST" and not endpoint.startswith("api.")
]


@pytest.mark.parametrize("endpoint", POSTS)
def test_state_changes_without_csrf_token_fail_and_change_nothing(
    app, client, as_user, ids, endpoint
):
    template, table = MATRIX[(endpoint, "POST")]
    persona = _first_allowed(table)
    c = client if persona == ANON else as_user(persona)
    _, tracker = app.extensions["test_template"]
    before = set(tracker.tables)
    response = c.send("POST", template.format(**ids), csrf=False, htmx=True)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert set(tracker.tables) - before - {"login_sessions"} == set()


@pytest.mark.parametrize("endpoint", POSTS)
def test_state_changes_with_the_htmx_csrf_header_pass_the_check(
    app, client, as_user, ids, endpoint
):
    template, table = MATRIX[(endpoint, "POST")]
    persona = _first_allowed(table)
    c = client if persona == ANON else as_user(persona)
    response = c.send("POST", template.format(**ids), csrf=True, htmx=True)
    assert "The CSRF token is missing" not in response.get_data(as_text=True)
    assert response.status_code != 400 or "CSRF" not in response.get_data(as_text=True)
