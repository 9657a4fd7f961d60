"""Matrix rows of quotes: both faces, every route, with an Acme quote as the record.

Quotes belong to groups that allow them: Carpathia (Standard) people get 403 on every
storefront quote route, like browse-only people. Other companies' people get 404 on an
Acme quote; so does Marco, who does not serve Acme.
"""

from sqlalchemy import select

from core.models import Company, Quote
from tests.matrix_base import ADMIN, ANNA, MANAGER, MARCO, VIEWER, office, shop

QUOTERS = tuple(
    f"{local}@{slug}.test"
    for slug in ("acme", "baltic", "delft", "etna")
    for local in ("orders", "request")
)
ACME_QUOTERS = ("orders@acme.test", "request@acme.test")
OTHER_QUOTERS = tuple(e for e in QUOTERS if e not in ACME_QUOTERS)
DECIDERS = tuple(e for e in QUOTERS if e.startswith("orders@"))
OTHER_DECIDERS = tuple(e for e in DECIDERS if e != "orders@acme.test")
QUOTE_VIEWERS = (ADMIN, MANAGER, ANNA, MARCO, VIEWER)
ACME_QUOTE_VIEWERS = (ADMIN, MANAGER, ANNA, VIEWER)
ACME_QUOTE_EDITORS = (ADMIN, MANAGER, ANNA)


def ids(session) -> dict:
    """An Acme quote awaiting the customer, and a Delft one (Marco's customer, not Anna's)."""

    def quote_of(slug: str) -> int:
        return session.scalar(
            select(Quote.id)
            .join(Company, Company.id == Quote.company_id)
            .where(Company.slug == slug, Quote.status == "offered")
        )

    return {"acme_quote": quote_of("acme"), "delft_quote": quote_of("delft")}


ROWS = {
    ("shop.quotes", "GET"): ("/shop/quotes", shop(QUOTERS, ok=200)),
    ("shop.quote_new", "GET"): ("/shop/quotes/new", shop(QUOTERS, ok=200)),
    ("shop.quote_new", "POST"): ("/shop/quotes/new", shop(QUOTERS)),
    ("shop.quote", "GET"): (
        "/shop/quotes/{acme_quote}",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS, ok=200),
    ),
    # A document's PDF has exactly its page's rules.
    ("shop.quote_pdf", "GET"): (
        "/shop/quotes/{acme_quote}.pdf",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS, ok=200),
    ),
    ("shop.quote_counter", "POST"): (
        "/shop/quotes/{acme_quote}/counter",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS),
    ),
    ("shop.quote_accept", "POST"): (
        "/shop/quotes/{acme_quote}/accept",
        shop(("orders@acme.test",), not_found=OTHER_DECIDERS),
    ),
    ("shop.quote_reject", "POST"): (
        "/shop/quotes/{acme_quote}/reject",
        shop(("orders@acme.test",), not_found=OTHER_DECIDERS),
    ),
    ("shop.quote_withdraw", "POST"): (
        "/shop/quotes/{acme_quote}/withdraw",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS),
    ),
    ("office.quotes", "GET"): ("/office/quotes", office(QUOTE_VIEWERS, ok=200)),
    ("office.quote", "GET"): (
        "/office/quotes/{acme_quote}",
        office(ACME_QUOTE_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.quote_pdf", "GET"): (
        "/office/quotes/{acme_quote}.pdf",
        office(ACME_QUOTE_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.quote_offer", "POST"): (
        "/office/quotes/{acme_quote}/offer",
        office(ACME_QUOTE_EDITORS, not_found=(MARCO,)),
    ),
    ("office.quote_reject", "POST"): (
        "/office/quotes/{acme_quote}/reject",
        office(ACME_QUOTE_EDITORS, not_found=(MARCO,)),
    ),
    # A customer's second approval needs orders.edit and quotes.view (the warehouse moves
    # orders but sees no quotes: 403); the demo quote waits for none, which it is told.
    ("office.quote_second_approval", "POST"): (
        "/office/quotes/{acme_quote}/second-approval",
        office(ACME_QUOTE_EDITORS, not_found=(MARCO,)),
    ),
}
