"""Back-office quotes: the quotes of one's customers, answered with prices and a validity date."""

from datetime import timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from blueprints.common import choice_arg, is_htmx, page_arg, permission_required, render, search_arg
from blueprints.quotes_forms import STALE_FORM, AnswerForm, DecisionForm, price_form
from core import access, orders, quotes
from core.errors import NotFound, Refused
from core.models import Quote
from core.offer import offers_for
from core.pagination import paginate
from extensions import db

from . import bp

PER_PAGE = 25
FILTERS = {
    "": "Any status",
    "seller": "Waiting for us",
    "customer": "Waiting for the customer",
    "requested": "Requested",
    "offered": "Offered",
    "countered": "Countered",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "expired": "Expired",
}
DEFAULT_VALIDITY_DAYS = 14


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", FILTERS, "Unknown status filter: choose one from the list.")


def scoped_quote(quote_id: int) -> Quote:
    """A quote of one of this person's customers; any other is a 404."""
    try:
        return quotes.load(current_user, quote_id)
    except NotFound:
        abort(404, description="There is no quote with this number among your customers'.")


def customer_link(quote: Quote) -> str:
    """Where the customer's people open the quote (for their notification mail)."""
    return url_for("shop.quote", quote_id=quote.id, _external=True)


def order_url(order_id: int | None) -> str | None:
    """The order\'s page, for a quote or invoice that has one."""
    return url_for("office.order", order_id=order_id) if order_id is not None else None


def region_context(quote: Quote, *, show_costs: bool) -> dict:
    """What the live region shows to staff of one audience: costs only with `finance.costs`."""
    offers = offers_for(quote.company.group, [line.product for line in quote.lines])
    return {
        "quote": quote,
        "status": quotes.shown_status(quote),
        "turn": quotes.turn(quote),
        "steps": quotes.timeline(quote),
        "asked": quotes.asked_prices(quote),
        "offers": offers,
        "total": quotes.total(quote),
        "line_total": quotes.line_total,
        "order_link": order_url(quote.order_id),
        "labels": quotes.STATUS_LABELS,
        "show_costs": show_costs,
    }


def default_validity(quote: Quote):
    """The validity the form starts with: the current one if still ahead, else two weeks."""
    today = quotes.today()
    if quote.valid_until and quote.valid_until > today:
        return quote.valid_until
    return today + timedelta(days=DEFAULT_VALIDITY_DAYS)


def actions_context(quote: Quote, *, form=None, notice: str = "", error: str = "") -> dict:
    """The answer form when it is our turn (prices start from our last offer, or the catalogue)."""
    turn = quotes.turn(quote)
    latest = quotes.latest_round(quote)
    seen = latest.id if latest else 0
    offers = offers_for(quote.company.group, [line.product for line in quote.lines])
    if form is None:
        start = {
            line.id: line.unit_price
            if line.unit_price is not None
            else offers[line.product_id].price
            for line in quote.lines
        }
        form = price_form(AnswerForm, quote, start, seen=seen, valid_until=default_validity(quote))
    today = quotes.today()
    return {
        "quote": quote,
        "turn": turn,
        "seen": seen,
        "status": quotes.shown_status(quote),
        "may_answer": turn == quotes.SELLER and access.can(current_user, "quotes.edit"),
        "form": form,
        "rows": list(zip(quote.lines, form.lines, strict=False)),
        "offers": offers,
        "asked": quotes.asked_prices(quote),
        "show_costs": access.can(current_user, "finance.costs"),
        "show_stock": access.can(current_user, "stock.view"),
        "earliest": today + timedelta(days=1),
        "latest": today + timedelta(days=quotes.MAX_VALIDITY_DAYS),
        "order_link": order_url(quote.order_id),
        "notice": notice,
        "error": error,
    }


def answer(quote_id: int, *, notice: str = "", error: str = "", form=None):
    """After a move: htmx gets the actions and (out of band) the region; a plain form a page."""
    db.session.expire_all()
    quote = scoped_quote(quote_id)
    status = 422 if error or form is not None else 200
    costs = access.can(current_user, "finance.costs")
    if is_htmx():
        html = render_template(
            "office/quotes/_actions.html",
            **actions_context(quote, form=form, notice=notice, error=error),
        ) + render_template(
            "office/quotes/_quote.html", oob=True, **region_context(quote, show_costs=costs)
        )
        response = make_response(html, status)
        response.vary.add("HX-Request")
        return response
    if form is not None:
        page = render_template(
            "office/quotes/show.html",
            **(
                region_context(quote, show_costs=costs)
                | actions_context(quote, form=form, error=error)
            ),
        )
        return page, status
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("office.quote", quote_id=quote_id))


def run(quote_id: int, change, notice):
    """One move, committed once by core.orders.retrying (which replays it on a deadlock).

    A refusal rolls back and says why; `notice` may be a function of what the move returned.
    """
    try:
        result = orders.retrying(change)
    except Refused as exc:
        db.session.rollback()
        return answer(quote_id, error=str(exc))
    except NotFound:
        db.session.rollback()
        abort(404, description="There is no quote with this number among your customers'.")
    return answer(quote_id, notice=notice(result) if callable(notice) else notice)


@bp.route("/quotes", endpoint="quotes")
@permission_required("quotes.view")
def quote_list():
    """Quotes of the customers in one's scope, filtered by status, searched by number or company."""
    status, q, page = status_arg(), search_arg(), page_arg()
    listing = paginate(quotes.listing(current_user, status=status, q=q), page, PER_PAGE)
    return render(
        "office/quotes/index.html",
        "office/quotes/_table.html",
        listing=listing,
        q=q,
        status=status,
        filters=FILTERS,
        turn=quotes.turn,
        shown_status=quotes.shown_status,
        total=quotes.total,
        labels=quotes.STATUS_LABELS,
        waiting=_waiting_for_us(),
    )


def _waiting_for_us() -> int:
    """How many quotes in scope wait for the seller's answer (a count for the list's head)."""
    stmt = access.company_scope(
        current_user,
        select(func.count(Quote.id)).where(quotes.FILTERS["seller"](quotes.today())),
        Quote.company_id,
    )
    return db.session.scalar(stmt) or 0


@bp.route("/quotes/<int:quote_id>")
@permission_required("quotes.view")
def quote(quote_id: int):
    """One quote with its terms and timeline, and the answer form when it is our turn.

    For htmx (the actions panel refreshing itself after a live signal) only the actions,
    or 204 when the round it was drawn for (`shown`) is still the latest.
    """
    found = scoped_quote(quote_id)
    context = actions_context(found)
    if is_htmx() and request.args.get("shown") == str(context["seen"]):
        response = make_response("", 204)
        response.vary.add("HX-Request")
        return response
    region = region_context(found, show_costs=context["show_costs"])
    return render("office/quotes/show.html", "office/quotes/_actions.html", **(region | context))


@bp.route("/quotes/<int:quote_id>/offer", methods=["POST"])
@permission_required("quotes.edit")
def quote_offer(quote_id: int):
    """Answer with unit prices and a validity date: an offer, or a counter to a counter-offer."""
    found = scoped_quote(quote_id)
    form = AnswerForm()
    valid = form.validate_on_submit()
    if not form.matches(found) or form.seen.errors:
        return answer(quote_id, error=STALE_FORM)
    if not valid:
        return answer(quote_id, error="Check the fields marked below.", form=form)
    return run(
        quote_id,
        lambda: quotes.answer(
            quote_id,
            form.prices(),
            form.valid_until.data,
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=customer_link,
        ),
        "Your prices are with the customer.",
    )


@bp.route("/quotes/<int:quote_id>/reject", methods=["POST"])
@permission_required("quotes.edit")
def quote_reject(quote_id: int):
    """Decline to quote (on our turn); the quote is closed and the customer is told."""
    scoped_quote(quote_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return answer(quote_id, error=STALE_FORM)
    return run(
        quote_id,
        lambda: quotes.reject(
            quote_id,
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=customer_link,
        ),
        "The quote is declined; the customer has been told.",
    )
