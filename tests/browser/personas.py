"""Browser contexts signed in as demo personas, and the pages the matrix serves each one.

A context carries the session cookie of the persona's standing session (conftest's
`persona_token`, kept in the template database), so it stays signed in across the
database restores between tests and pays for no password hash.
"""

from tests.conftest import persona_token
from tests.integration import test_authorization_matrix as matrix
from tests.matrix_base import ANON, OK


def signed_in_context(browser, app, live_server: str, email: str | None, **options):
    """A new browser context at `live_server`, signed in as `email` (None: anonymous)."""
    context = browser.new_context(base_url=live_server, **options)
    if email is not None:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = persona_token(email)
            session["_fresh"] = True
        cookie = client.get_cookie("session")
        context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    return context


def _client(app, persona: str):
    client = app.test_client()
    if persona != ANON:
        with client.session_transaction() as session:
            session["_user_id"] = persona_token(persona)
            session["_fresh"] = True
    return client


def _served(expected) -> bool:
    return expected in (200, OK)


def _whole_pages(app, ids: dict) -> set[str]:
    """The GET endpoints of the matrix that answer with a whole HTML page (not a fragment,
    a download or a redirect), asked once each, of the first persona they serve."""
    if "whole_pages" not in app.extensions:
        found = set()
        for (endpoint, method), (template, expected) in sorted(matrix.MATRIX.items()):
            served = [persona for persona, status in expected.items() if _served(status)]
            if method != "GET" or not served:
                continue
            response = _client(app, served[0]).get(template.format(**ids))
            whole = response.mimetype == "text/html" and b"<html" in response.data[:400]
            if response.status_code == 200 and whole:
                found.add(endpoint)
            response.close()
        app.extensions["whole_pages"] = found
    return app.extensions["whole_pages"]


def full_pages(app, persona: str, ids: dict) -> list[tuple[str, str]]:
    """(endpoint, URL) of the GET pages of the matrix that answer this persona 200."""
    pages = _whole_pages(app, ids)
    return [
        (endpoint, template.format(**ids))
        for (endpoint, method), (template, expected) in sorted(matrix.MATRIX.items())
        if method == "GET" and endpoint in pages and _served(expected[persona])
    ]


def route_ids(app) -> dict:
    """The record ids the matrix's URL templates name."""
    return matrix.route_ids(app)


def wait_settled(page) -> None:
    """Until htmx has no request in flight (pages that load parts after the first paint)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request')", timeout=5_000, polling=50
    )
