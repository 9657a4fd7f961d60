"""Matrix rows of the integration API (/api/v1).

Two tables. `ROWS` (merged by test_authorization_matrix) is what a *session cookie* gets:
the API takes only bearer tokens, so every signed-in persona gets 401, like anonymous
(only the API's own description is public). `API` is what each persona's *token* gets,
walked by tests/integration/test_api_matrix.py: written from DESIGN.md's personas, like
the rest of the matrix, not derived from core.access.

Each API row is (URL template, JSON body or None, {persona: expected}); a body is given
where the route takes one, valid enough to reach the record's scope (an out-of-scope
record is a 404 only after the permission and the body have been checked).
"""

from sqlalchemy import select

from core.models import Company, DeliveryAddress, Invoice, Order, Product, Quote, Shipment
from tests.conftest import CUSTOMER_EMAILS, STAFF_EMAILS
from tests.matrix_base import (
    ADMIN,
    ANNA,
    ANON,
    CART_HOLDERS,
    DECISION_MAKERS,
    FINANCE,
    MANAGER,
    MARCO,
    OK,
    REQUESTERS,
    VIEWER,
    WAREHOUSE,
    everyone,
)

ACME = ("orders@acme.test", "request@acme.test")
# Groups whose terms include quotations (Wholesale, Partner): Carpathia (Standard) has none.
QUOTING = tuple(e for e in CART_HOLDERS if "carpathia" not in e)
ORDER_READERS = STAFF_EMAILS  # every preset holds orders.view
QUOTE_STAFF = (ADMIN, MANAGER, ANNA, MARCO, VIEWER)
INVOICE_STAFF = (ADMIN, MANAGER, ANNA, MARCO, FINANCE, VIEWER)
CUSTOMER_STAFF = (ADMIN, MANAGER, ANNA, MARCO, FINANCE, VIEWER)  # customers.view
PRODUCT_EDITORS = (ADMIN, MANAGER, WAREHOUSE)
STOCK_EDITORS = (ADMIN, MANAGER, WAREHOUSE)
PAYMENT_RECORDERS = (ADMIN, MANAGER, FINANCE)
MOVERS = (ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE)  # orders.edit


def table(*, staff=(), customers=(), not_found=(), ok=OK) -> dict:
    """Token answers: listed personas served, `not_found` get 404 (a record out of their
    scope), everyone else 403; no token at all, 401."""
    found = {ANON: 401}
    for email in (*STAFF_EMAILS, *CUSTOMER_EMAILS):
        if email in staff or email in customers:
            found[email] = ok
        elif email in not_found:
            found[email] = 404
        else:
            found[email] = 403
    return found


def others(readers, pool) -> tuple:
    return tuple(e for e in pool if e not in readers)


ALL_CUSTOMERS = CUSTOMER_EMAILS

API = {
    ("api.openapi", "GET"): ("/api/v1/openapi.json", None, everyone(200)),
    ("api.reference", "GET"): ("/api/v1/docs", None, everyone(200)),
    # the catalogue, as the person's group sees it
    ("api.catalog_list", "GET"): ("/api/v1/catalog", None, table(customers=ALL_CUSTOMERS, ok=200)),
    ("api.catalog_product", "GET"): (
        "/api/v1/catalog/{api_product}",
        None,
        table(customers=ALL_CUSTOMERS, ok=200),
    ),
    # the person's own cart
    ("api.cart", "GET"): ("/api/v1/cart", None, table(customers=CART_HOLDERS, ok=200)),
    ("api.cart_add", "POST"): (
        "/api/v1/cart/lines",
        {"sku": "CAP-1206-10U", "quantity": 10},
        table(customers=CART_HOLDERS),
    ),
    ("api.cart_line", "PATCH"): (
        "/api/v1/cart/lines/999999",
        {"quantity": 2},
        table(not_found=CART_HOLDERS),
    ),
    ("api.cart_remove", "DELETE"): (
        "/api/v1/cart/lines/999999",
        None,
        table(not_found=CART_HOLDERS),
    ),
    # orders
    ("api.orders_list", "GET"): (
        "/api/v1/orders",
        None,
        table(staff=ORDER_READERS, customers=CART_HOLDERS, ok=200),
    ),
    ("api.order", "GET"): (
        "/api/v1/orders/{api_acme_order}",
        None,
        table(
            staff=others((MARCO,), STAFF_EMAILS),
            customers=ACME,
            not_found=(MARCO, *others(ACME, CART_HOLDERS)),
            ok=200,
        ),
    ),
    ("api.order_place", "POST"): ("/api/v1/orders", {}, table(customers=DECISION_MAKERS)),
    ("api.order_move", "POST"): (
        "/api/v1/orders/{api_acme_order}/moves",
        {"to": "cancelled"},
        table(staff=others((MARCO,), MOVERS), not_found=(MARCO,)),
    ),
    # shipments and addresses
    ("api.shipments_list", "GET"): (
        "/api/v1/shipments",
        None,
        table(staff=STAFF_EMAILS, customers=CART_HOLDERS, ok=200),
    ),
    ("api.shipment", "GET"): (
        "/api/v1/shipments/{api_acme_shipment}",
        None,
        table(
            staff=others((MARCO,), STAFF_EMAILS),
            customers=ACME,
            not_found=(MARCO, *others(ACME, CART_HOLDERS)),
            ok=200,
        ),
    ),
    ("api.addresses_list", "GET"): (
        "/api/v1/addresses",
        None,
        table(customers=CART_HOLDERS, ok=200),
    ),
    ("api.address_create", "POST"): ("/api/v1/addresses", {}, table(customers=DECISION_MAKERS)),
    ("api.address_delete", "DELETE"): (
        "/api/v1/addresses/{api_acme_address}",
        None,
        table(customers=("orders@acme.test",), not_found=others(ACME, DECISION_MAKERS)),
    ),
    # quotes
    ("api.quotes_list", "GET"): (
        "/api/v1/quotes",
        None,
        table(staff=QUOTE_STAFF, customers=QUOTING, ok=200),
    ),
    ("api.quote", "GET"): (
        "/api/v1/quotes/{api_acme_quote}",
        None,
        table(
            staff=others((MARCO,), QUOTE_STAFF),
            customers=ACME,
            not_found=(MARCO, *others(ACME, QUOTING)),
            ok=200,
        ),
    ),
    ("api.quote_request", "POST"): ("/api/v1/quotes", {}, table(customers=QUOTING)),
    ("api.quote_accept", "POST"): (
        "/api/v1/quotes/{api_acme_quote}/accept",
        {},
        table(
            customers=("orders@acme.test",),
            not_found=others(("orders@acme.test",), others(REQUESTERS, QUOTING)),
        ),
    ),
    # invoices, payments, credit notes
    ("api.invoices_list", "GET"): (
        "/api/v1/invoices",
        None,
        table(staff=INVOICE_STAFF, customers=DECISION_MAKERS, ok=200),
    ),
    **{
        ("api." + endpoint, "GET"): (
            "/api/v1/invoices/{api_acme_invoice}" + suffix,
            None,
            table(
                staff=others((MARCO,), INVOICE_STAFF),
                customers=("orders@acme.test",),
                not_found=(MARCO, *others(("orders@acme.test",), DECISION_MAKERS)),
                ok=200,
            ),
        )
        for endpoint, suffix in (("invoice", ""), ("invoice_pdf", ".pdf"))
    },
    ("api.payment_record", "POST"): (
        "/api/v1/invoices/{api_acme_invoice}/payments",
        {},
        table(staff=PAYMENT_RECORDERS),
    ),
    ("api.credit_notes_list", "GET"): (
        "/api/v1/credit-notes",
        None,
        table(staff=INVOICE_STAFF, ok=200),
    ),
    ("api.credit_note_issue", "POST"): (
        "/api/v1/invoices/{api_acme_invoice}/credit-notes",
        {},
        table(staff=PAYMENT_RECORDERS),
    ),
    # the back office: products, stock, customers
    ("api.products_list", "GET"): ("/api/v1/products", None, table(staff=STAFF_EMAILS, ok=200)),
    ("api.product", "GET"): (
        "/api/v1/products/{api_product}",
        None,
        table(staff=STAFF_EMAILS, ok=200),
    ),
    ("api.product_create", "POST"): ("/api/v1/products", {}, table(staff=PRODUCT_EDITORS)),
    ("api.product_update", "PATCH"): (
        "/api/v1/products/{api_product}",
        {},
        table(staff=PRODUCT_EDITORS, ok=200),
    ),
    ("api.product_prices", "PATCH"): (
        "/api/v1/products/{api_product}/prices",
        {},
        table(staff=PRODUCT_EDITORS, ok=200),
    ),
    ("api.stock_adjust", "POST"): (
        "/api/v1/stock/{api_product}/adjustments",
        {},
        table(staff=STOCK_EDITORS),
    ),
    ("api.stock_receive", "POST"): (
        "/api/v1/stock/{api_product}/receipts",
        {},
        table(staff=STOCK_EDITORS),
    ),
    ("api.customers_list", "GET"): (
        "/api/v1/customers",
        None,
        table(staff=CUSTOMER_STAFF, ok=200),
    ),
    **{
        ("api." + endpoint, "GET"): (
            "/api/v1/customers/{api_acme}" + suffix,
            None,
            table(staff=others((MARCO,), CUSTOMER_STAFF), not_found=(MARCO,), ok=200),
        )
        for endpoint, suffix in (("customer", ""), ("customer_people", "/people"))
    },
}

PUBLIC = {("api.openapi", "GET"), ("api.reference", "GET")}
# A session cookie never opens the API: 401 for every signed-in persona as for anonymous.
ROWS = {key: (url, everyone(200 if key in PUBLIC else 401)) for key, (url, __, ___) in API.items()}
# One's own tokens, on the account pages: every signed-in person; a token that is not
# one's own (or none) is a 404; an empty form is refused (422).
ROWS.update(
    {
        ("auth.tokens_list", "GET"): ("/account/tokens", everyone(200, anon=302)),
        ("auth.token_create", "POST"): ("/account/tokens", everyone(422, anon=302)),
        ("auth.token_revoke", "POST"): (
            "/account/tokens/999999/revoke",
            everyone(404, anon=302),
        ),
    }
)


def ids(session) -> dict:
    """Demo records the API rows' URLs need (an Acme order still placed, its shipment, an
    invoice and a quote of Acme's, Acme's default address, and the contract product)."""
    acme = session.scalar(select(Company.id).where(Company.slug == "acme"))
    shipment = session.scalar(
        select(Shipment.id)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.company_id == acme)
        .order_by(Shipment.id)
    )
    return {
        "api_acme": acme,
        "api_product": session.scalar(select(Product.id).where(Product.sku == "MCU-STM32F401")),
        "api_acme_order": session.scalar(
            select(Order.id)
            .where(Order.company_id == acme, Order.status == "placed")
            .order_by(Order.id)
        ),
        "api_acme_shipment": shipment,
        "api_acme_invoice": session.scalar(
            select(Invoice.id).where(Invoice.company_id == acme).order_by(Invoice.id)
        ),
        "api_acme_quote": session.scalar(
            select(Quote.id).where(Quote.company_id == acme).order_by(Quote.id)
        ),
        "api_acme_address": session.scalar(
            select(DeliveryAddress.id)
            .where(DeliveryAddress.company_id == acme)
            .order_by(DeliveryAddress.id)
        ),
    }
