"""Quotes through the API: a customer's system asks for prices, follows the negotiation and
accepts the standing offer into an order, through core.quotes as the storefront does; staff
read the quotes of their customers. Accepting an offer is refused for stock like checkout
(counted per company) and above the approval limit waits for a second decision-maker.
"""

from flask import url_for
from flask_babel import gettext as _

from blueprints.boundary import attempt
from blueprints.common import external_url
from core import access, quotes
from core.models import Order, Quote

from . import bp, refusals
from .guard import customer_route, forbidden, person, reader_route
from .idempotency import idempotent
from .lookup import product_id_for
from .paging import PageArgs, after_id, listed, page_schema
from .present import order as order_of
from .present import quote as present_quote
from .present import quote_summary
from .problems import Problem, not_found, refused
from .schemas import (
    QuoteAccept,
    QuoteAccepted,
    QuoteListArgs,
    QuoteRequest,
    QuoteSchema,
    QuoteSummarySchema,
)

QuotePage = page_schema(QuoteSummarySchema, "QuotePage")


def seller_link(quote: Quote) -> str:
    """Where the seller's staff open the quote (for their notification mail)."""
    return external_url("office.quote", quote_id=quote.id)


class QuoteQuery(QuoteListArgs, PageArgs):
    pass


def quote_of(found: Quote) -> dict:
    """The quote as the caller sees it: without shop.prices, no price or total."""
    return present_quote(found, access.sees_prices(person()))


def load_quote(quote_id: int) -> Quote:
    found = quotes.load_many(person(), [quote_id])
    if not found:
        raise not_found()
    return found[0]


@bp.route("/quotes")
@reader_route("quotes")
@bp.arguments(QuoteQuery, location="query")
@bp.response(200, QuotePage)
@bp.doc(tags=["Quotes"])
def quotes_list(args):
    """The quotes you may see, newest first, by whose turn it is or by status."""
    stmt = quotes.listing(person(), status=args["status"])
    found, cursor = after_id(stmt, Quote.id, args)
    priced = access.sees_prices(person())
    return listed([quote_summary(q, priced) for q in found], cursor)


@bp.route("/quotes/<int:quote_id>")
@reader_route("quotes")
@bp.response(200, QuoteSchema)
@bp.doc(tags=["Quotes"])
def quote(quote_id: int):
    """One quote: its lines at the prices offered so far, and every round of it."""
    return quote_of(load_quote(quote_id))


@bp.route("/quotes", methods=["POST"])
@customer_route("shop.quote")
@bp.arguments(QuoteRequest)
@bp.response(201, QuoteSchema)
@bp.doc(tags=["Quotes"])
def quote_request(body):
    """Ask the seller for prices: lines by `product_id` or `sku` with quantities, and a note."""
    user = person()
    asks = [(product_id_for(user, line), line["quantity"]) for line in body["lines"]]
    sent = attempt(
        lambda: quotes.request(user.company, asks, actor=user, note=body["note"], link=seller_link),
        replay=True,
    )
    if sent.refused:
        raise refused(sent.refusal)
    found = sent.value
    return quote_of(found), 201, {"Location": url_for("api.quote", quote_id=found.id)}


@bp.route("/quotes/<int:quote_id>/accept", methods=["POST"])
@customer_route("shop.order")
@idempotent
@bp.arguments(QuoteAccept)
@bp.response(200, QuoteAccepted)
@bp.doc(tags=["Quotes"])
def quote_accept(body, quote_id: int):
    """Accept the standing offer: an order at exactly the quoted prices, or, above your
    company's approval limit, your approval waiting for a second decision-maker."""
    user = person()
    if not access.can(user, "shop.quote"):  # the storefront's rule: both permissions
        raise Problem(403, forbidden())
    load_quote(quote_id)
    refusals.check_wait(user)
    accepted = attempt(
        lambda: quotes.accept(
            quote_id,
            actor=user,
            seen=body["latest_round_id"],
            note=body["note"],
            link=seller_link,
        ),
        replay=True,
    )
    if accepted.refused:
        refusals.count(user, accepted.refusal)
        raise refused(accepted.refusal)
    result = accepted.value
    quote_now = load_quote(quote_id)
    if isinstance(result, Order):
        return {"status": "ordered", "order": order_of(result, user), "quote": quote_of(quote_now)}
    return {
        "status": "awaiting_approval",
        "order": None,
        "quote": quote_of(quote_now),
        "detail": _("Your approval is recorded: a second decision-maker must accept."),
    }
