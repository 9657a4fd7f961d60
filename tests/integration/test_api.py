"""The integration API's framework: problems, pagination, ETags, the OpenAPI document,
the reference page, and bearer-only authentication (no cookie, so no CSRF to forge)."""

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tests.conftest import persona_api_token
from tests.hostile import ALONE, EVERY_FIELD, WITH_OTHERS

ACME = "orders@acme.test"
ADMIN = "admin@portal.test"
PROBLEM = "application/problem+json"
HOSTILE_TEXTS = (*WITH_OTHERS, *ALONE, *EVERY_FIELD)
# Whatever JSON may hold, in a field that expects a whole number or a text.
HOSTILE_VALUES = (None, True, 10**30, -(10**30), 1.5, 1e308, [], {}, [1], {"a": 1}, "1")


def bearer(email: str) -> dict:
    return {"Authorization": f"Bearer {persona_api_token(email)}"}


def problem_of(response, status: int) -> dict:
    """The answer is an RFC 9457 problem with this status: its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    return body


# --- problems ----------------------------------------------------------------------------


def test_no_token_is_a_401_problem_with_a_bearer_challenge(client):
    response = client.get("/api/v1/orders")
    body = problem_of(response, 401)
    assert body["type"] == "/api/v1/docs#problem-unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ptk_nothing", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000, "bearer  \t"],
)
def test_malformed_or_unknown_tokens_are_401(client, header):
    problem_of(client.get("/api/v1/orders", headers={"Authorization": header}), 401)


def test_a_session_cookie_never_opens_the_api(as_user):
    """A signed-in browser cannot call the API in the person's name, so no page (of this
    site or another) can make it write: the API needs no CSRF token."""
    browser = as_user(ACME)
    assert browser.get("/shop/cart").status_code == 200  # the session itself is good
    problem_of(browser.get("/api/v1/cart"), 401)
    response = browser.send(
        "POST", "/api/v1/cart/lines", json={"sku": "CAP-1206-10U", "quantity": 10}
    )
    problem_of(response, 401)


def test_unknown_route_and_method_are_problems(client):
    body = problem_of(client.get("/api/v1/no-such-thing", headers=bearer(ACME)), 404)
    assert body["type"] == "about:blank"
    response = client.put("/api/v1/catalog", headers=bearer(ACME))
    problem_of(response, 405)
    assert "GET" in response.headers["Allow"]


def test_forbidden_and_out_of_scope_are_problems(client, app):
    problem_of(client.get("/api/v1/products", headers=bearer(ACME)), 403)
    from extensions import db
    from tests.integration.matrix_api import ids

    with app.app_context():
        found = ids(db.session)
    problem_of(
        client.get(
            f"/api/v1/orders/{found['api_acme_order']}", headers=bearer("orders@baltic.test")
        ),
        404,
    )


def test_validation_problem_lists_each_wrong_field(client):
    response = client.post(
        "/api/v1/cart/lines", headers=bearer(ACME), json={"quantity": "many", "colour": "red"}
    )
    body = problem_of(response, 422)
    assert body["type"] == "/api/v1/docs#problem-validation"
    fields = {(e["in"], e["field"]) for e in body["errors"]}
    assert ("json", "quantity") in fields
    assert ("json", "colour") in fields  # an unknown field is refused, never ignored


def test_a_refusal_of_the_domain_is_a_422_problem_saying_why(client):
    response = client.post(
        "/api/v1/cart/lines", headers=bearer(ACME), json={"sku": "NO-SUCH-SKU", "quantity": 1}
    )
    body = problem_of(response, 422)
    assert "NO-SUCH-SKU" in body["detail"]


def test_the_problem_is_in_the_readers_language(client):
    response = client.get("/api/v1/products", headers={**bearer(ACME), "Accept-Language": "fr"})
    body = problem_of(response, 403)
    assert "rôle" in body["detail"], body
    english = problem_of(client.get("/api/v1/products", headers=bearer(ACME)), 403)
    assert english["detail"] != body["detail"]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_input_never_answers_500(client, text):
    for method, url, kwargs in (
        ("GET", "/api/v1/catalog", {"query_string": {"q": text, "cursor": text, "limit": text}}),
        ("GET", "/api/v1/orders", {"query_string": {"status": text, "cursor": text}}),
        ("POST", "/api/v1/cart/lines", {"json": {"sku": text, "quantity": 1}}),
        ("POST", "/api/v1/cart/lines", {"data": text, "content_type": "application/json"}),
        ("POST", "/api/v1/orders", {"json": {"customer_reference": text, "note": text}}),
        ("POST", "/api/v1/quotes", {"json": {"lines": [{"sku": text, "quantity": 2}]}}),
    ):
        response = client.open(url, method=method, headers=bearer(ACME), **kwargs)
        assert response.status_code < 500, (method, url, response.status_code)
        if response.status_code >= 400:
            assert response.headers["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_any_json_value_in_any_field_is_answered_without_500(client, value):
    for url, body in (
        ("/api/v1/cart/lines", {"product_id": value, "quantity": value}),
        ("/api/v1/cart/lines", {"sku": value, "quantity": 1}),
        ("/api/v1/orders", {"delivery_address_id": value, "requested_date": value}),
        ("/api/v1/quotes", {"lines": value, "note": value}),
        ("/api/v1/quotes", {"lines": [{"product_id": value, "quantity": value}]}),
        ("/api/v1/addresses", {"name": value, "country": value, "street": "x"}),
    ):
        response = client.post(url, headers=bearer(ACME), json=body)
        assert response.status_code < 500, (url, body, response.status_code)
    staff = client.patch(
        "/api/v1/products/1/prices",
        headers=bearer(ADMIN),
        json={"base_price": value, "group_prices": {"1": value}, "breaks": value},
    )
    assert staff.status_code < 500, (value, staff.status_code)


def test_bodies_that_are_not_json_objects_are_problems(client):
    for data in ("", "[]", "null", "{", '{"quantity": 1e999}', "\x00\xff"):
        response = client.post(
            "/api/v1/cart/lines",
            headers=bearer(ACME),
            data=data,
            content_type="application/json",
        )
        assert response.status_code in (400, 422), (data, response.status_code)
        assert response.headers["Content-Type"].startswith(PROBLEM)


# --- pagination --------------------------------------------------------------------------


def test_cursor_pages_walk_the_whole_list_once(client, app):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/orders", headers=bearer(ADMIN), query_string=query)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 3
        seen += [o["id"] for o in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
    from sqlalchemy import func, select

    from core.models import Order
    from extensions import db

    with app.app_context():
        total = db.session.scalar(select(func.count(Order.id)))
    assert pages > 1
    assert len(seen) == len(set(seen)) == total
    assert seen == sorted(seen, reverse=True)  # newest first


def test_the_catalogue_pages_by_cursor_without_repeats(client):
    first = client.get("/api/v1/catalog", headers=bearer(ACME), query_string={"limit": 5})
    second = client.get(
        "/api/v1/catalog",
        headers=bearer(ACME),
        query_string={"limit": 5, "cursor": first.get_json()["next_cursor"]},
    )
    one = [p["sku"] for p in first.get_json()["items"]]
    two = [p["sku"] for p in second.get_json()["items"]]
    assert len(one) == len(two) == 5
    assert not set(one) & set(two)


def test_limit_is_bounded_and_a_foreign_or_forged_cursor_is_refused(client):
    for limit in (0, 101, -1, "ten"):
        body = problem_of(
            client.get("/api/v1/orders", headers=bearer(ADMIN), query_string={"limit": limit}), 422
        )
        assert body["errors"][0]["field"] == "limit"
    invoices = client.get("/api/v1/invoices", headers=bearer(ADMIN), query_string={"limit": 1})
    cursor = invoices.get_json()["next_cursor"]
    assert cursor
    # A cursor is signed for its own list: another list's, or one altered, is refused.
    problem_of(
        client.get("/api/v1/orders", headers=bearer(ADMIN), query_string={"cursor": cursor}), 422
    )
    forged = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    problem_of(
        client.get("/api/v1/invoices", headers=bearer(ADMIN), query_string={"cursor": forged}),
        422,
    )


# --- ETag --------------------------------------------------------------------------------


def test_reads_carry_an_etag_and_answer_304_while_unchanged(client):
    first = client.get("/api/v1/cart", headers=bearer(ACME))
    etag = first.headers["ETag"]
    assert etag
    again = client.get("/api/v1/cart", headers={**bearer(ACME), "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    added = client.post(
        "/api/v1/cart/lines", headers=bearer(ACME), json={"sku": "CAP-1206-10U", "quantity": 10}
    )
    assert added.status_code == 200
    changed = client.get("/api/v1/cart", headers={**bearer(ACME), "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


# --- the description ---------------------------------------------------------------------


def test_the_openapi_document_is_valid_3_1_and_lists_every_route(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    try:
        validate(spec)
    except OpenAPIValidationError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"the document is not valid OpenAPI 3.1: {exc}")
    from flask_smorest.spec.plugins import FlaskPlugin

    listed = {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    routes = {
        (FlaskPlugin.flaskpath2openapi(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == listed
    assert spec["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    place = spec["paths"]["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in place["parameters"])
    read = spec["paths"]["/api/v1/orders/{order_id}"]["get"]
    assert any(p["name"] == "If-None-Match" for p in read["parameters"])
    assert "404" in read["responses"] and "304" in read["responses"]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_the_reference_page_is_rendered_on_the_server(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "POST /api/v1/orders" in html
    assert 'id="problem-rate-limited"' in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
