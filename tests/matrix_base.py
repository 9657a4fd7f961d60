"""Shared vocabulary of the authorization matrix: personas and row builders.

Each area adds its rows in tests/integration/matrix_<area>.py as `ROWS` (and, if its
URLs need record ids, an `ids(session) -> dict` function); test_authorization_matrix
merges them.
"""

from tests.conftest import CUSTOMER_EMAILS, STAFF_EMAILS

OK = "ok"
ANON = "anonymous"
PERSONAS = (ANON, *STAFF_EMAILS, *CUSTOMER_EMAILS)

ADMIN = "admin@portal.test"
MANAGER = "manager@portal.test"
ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
WAREHOUSE = "warehouse@portal.test"
FINANCE = "finance@portal.test"
VIEWER = "viewer@portal.test"
DECISION_MAKERS = tuple(e for e in CUSTOMER_EMAILS if e.startswith("orders@"))
REQUESTERS = tuple(e for e in CUSTOMER_EMAILS if e.startswith("request@"))
CART_HOLDERS = DECISION_MAKERS + REQUESTERS


def office(allowed=(), *, not_found=(), anon=302, ok=OK):
    """A back-office route: listed staff are served, `not_found` staff get 404 (record
    outside their scope), other staff 403; customers 403; anonymous to sign-in."""
    table = {ANON: anon}
    for email in STAFF_EMAILS:
        table[email] = ok if email in allowed else 404 if email in not_found else 403
    for email in CUSTOMER_EMAILS:
        table[email] = 403
    return table


ALL_STAFF = STAFF_EMAILS


def shop(allowed=CUSTOMER_EMAILS, *, not_found=(), ok=OK):
    """A storefront route: listed customers served, `not_found` get 404, other customers
    403; staff 403; anonymous to sign-in."""
    table = {ANON: 302}
    for email in STAFF_EMAILS:
        table[email] = 403
    for email in CUSTOMER_EMAILS:
        table[email] = ok if email in allowed else 404 if email in not_found else 403
    return table


def everyone(status, anon=None):
    table = dict.fromkeys(PERSONAS, status)
    table[ANON] = status if anon is None else anon
    return table


CUSTOMER_VIEWERS = (ADMIN, MANAGER, ANNA, MARCO, FINANCE, VIEWER)
ACME_VIEWERS = (ADMIN, MANAGER, ANNA, FINANCE, VIEWER)
PORTAL_GRANTERS_FOR_ACME = (ADMIN, MANAGER, ANNA)
OTHER_DECISION_MAKERS = tuple(e for e in DECISION_MAKERS if e != "orders@acme.test")
