"""No input a person can type or put in a URL answers 500.

Every route of the URL map, with the authorization matrix's URL (a route without a row
there fails here too), is walked by tests/hostile.py as each of three personas that its
guards let in: anonymous, a staff person and a customer person who may use it (by the
matrix). Each parameter the
view reads gets every hostile value (huge, negative, non-numeric, exponent, NaN, unicode,
100 KB strings), twice, or not at all; the URL's placeholders get huge ids and odd names.
Any answer of 500 or more fails, with the list of what caused it.
"""

import pytest

from tests.conftest import CUSTOMER_EMAILS, STAFF_EMAILS
from tests.hostile import RecordingRequest, Walk, Walker
from tests.integration.test_authorization_matrix import MATRIX, route_ids
from tests.matrix_base import ADMIN, ANON, OK

# Views that read rows by iterating over the form: the names a real page sends them.
QUOTE_PRICES = ("lines-0-line", "lines-0-unit_price", "lines-1-line", "lines-1-unit_price")
ITERATED: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("shop.quote_new", "POST"): {"form": ("lines-0-sku", "lines-0-quantity", "lines-1-sku")},
    # The catalogue's filters: spec.<name>=<value>, any number of names and values.
    ("shop.catalog", "GET"): {"args": ("spec.Package", "spec.", "spec.Core", "in_stock", "view")},
    ("shop.quote_counter", "POST"): {"form": QUOTE_PRICES},
    ("office.quote_offer", "POST"): {"form": QUOTE_PRICES},
    # A row per product: price-<id>, and the price shown when the page was loaded.
    ("office.group_prices_save", "POST"): {
        "form": ("price-1", "was-1", "price-999999999999", "price-²", "price-١٢٣")
    },
}

CUSTOMER = "orders@acme.test"


def allowed(table: dict, people: tuple[str, ...], first: str) -> str:
    """The person the matrix lets use the route (preferring `first`), else `first`."""
    for persona in (first, *people):
        if table[persona] == OK or table[persona] == 200:
            return persona
    return first


def personas(table: dict) -> list[str]:
    """Of anonymous, a staff person and a customer person, those the route's guards let in
    (by the matrix): a 401, a 403 or the sign-in redirect comes before any input is read,
    and the authorization matrix checks those answers."""
    three = (ANON, allowed(table, STAFF_EMAILS, ADMIN), allowed(table, CUSTOMER_EMAILS, CUSTOMER))
    let_in = [p for p in three if table[p] not in (401, 403) and (p, table[p]) != (ANON, 302)]
    return let_in or [three[1]]


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


@pytest.fixture
def recording(app):
    """The application's requests remember which parameters a view reads."""
    original = app.request_class
    app.request_class = RecordingRequest
    yield
    app.request_class = original


def walk(app, client, as_user, ids, endpoint: str, method: str) -> Walk:
    template, table = MATRIX[(endpoint, method)]
    walker = Walker(app, endpoint, method, template.format(**ids), ITERATED)
    for persona in personas(table):
        walker.run(client if persona == ANON else as_user(persona), persona)
    return walker.walk


def test_every_route_is_walked(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - MATRIX.keys() == set(), "routes the walker has no URL for (add matrix rows)"
    assert ITERATED.keys() - routes == set(), "ITERATED rows for routes that no longer exist"


ROUTES = [
    pytest.param(endpoint, method, id=f"{endpoint}-{method}") for (endpoint, method) in MATRIX
]


@pytest.mark.parametrize(("endpoint", "method"), ROUTES)
def test_no_server_error_for_hostile_input(app, client, as_user, ids, recording, endpoint, method):
    walked = walk(app, client, as_user, ids, endpoint, method)
    print(f"walked {endpoint} {method}: {walked.requests} requests, {len(walked.failures)} 5xx")
    failures = "\n".join(str(f) for f in walked.failures[:40])
    assert walked.failures == [], (
        f"{len(walked.failures)} of {walked.requests} requests answered 500:\n{failures}"
    )
