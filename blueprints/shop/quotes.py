"""Storefront quotes: ask for prices, negotiate in rounds, and accept an offer into an order."""

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from blueprints.common import choice_arg, is_htmx, page_arg, permission_required, render, search_arg
from blueprints.filters import money
from blueprints.quotes_forms import (
    STALE_FORM,
    CounterForm,
    DecisionForm,
    RequestForm,
    price_form,
)
from core import access, orders, quotes
from core.errors import NotFound, Refused
from core.models import Order, Quote
from core.offer import offers_for
from core.pagination import paginate
from extensions import db

from . import bp

PER_PAGE = 25
FILTERS = {
    "": "Any status",
    "customer": "Waiting for you",
    "seller": "Waiting for the seller",
    "requested": "Requested",
    "offered": "Offered",
    "countered": "Countered",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "expired": "Expired",
}
MORE_LINES = 5


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg("status", FILTERS, "Unknown status filter: choose one from the list.")


def scoped_quote(quote_id: int) -> Quote:
    """One of the company's own quotes; any other is a 404."""
    try:
        return quotes.load(current_user, quote_id)
    except NotFound:
        abort(404, description="Your company has no quote with this number.")


def seller_link(quote: Quote) -> str:
    """Where the seller's staff open the quote (for their notification mail)."""
    return url_for("office.quote", quote_id=quote.id, _external=True)


def order_url(order_id: int | None) -> str | None:
    """The order\'s page, for a quote or invoice that has one."""
    return url_for("shop.order", order_id=order_id) if order_id is not None else None


def region_context(quote: Quote) -> dict:
    """What the live region shows: status, terms and timeline, the same for the whole company."""
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
    }


def actions_context(quote: Quote, *, counter_form=None, notice: str = "", error: str = ""):
    """What the signed-in person may do now, with the forms to do it."""
    turn = quotes.turn(quote)
    latest = quotes.latest_round(quote)
    seen = latest.id if latest else 0
    if counter_form is None:
        standing = {line.id: line.unit_price for line in quote.lines}
        counter_form = price_form(CounterForm, quote, standing, seen=seen)
    return {
        "quote": quote,
        "turn": turn,
        "seen": seen,
        "total": quotes.total(quote),
        "status": quotes.shown_status(quote),
        "may_decide": turn == quotes.CUSTOMER and access.can(current_user, "shop.order"),
        "needs_two": quotes.needs_two_approvals(quote),
        "approval": quotes.first_approval(quote),
        "may_withdraw": turn is not None and quotes.may_withdraw(quote, current_user),
        "counter_form": counter_form,
        "rows": list(zip(quote.lines, counter_form.lines, strict=False)),
        "order_link": order_url(quote.order_id),
        "notice": notice,
        "error": error,
    }


def answer(quote_id: int, *, notice: str = "", error: str = "", counter_form=None):
    """After a move: htmx gets the actions and (out of band) the region; a plain form a page.

    A refusal answers 422 with the reason and the quote as it is now, so nothing is acted
    on blindly; a form with mistakes keeps what was typed.
    """
    db.session.expire_all()
    quote = scoped_quote(quote_id)
    status = 422 if error or counter_form is not None else 200
    if is_htmx():
        html = render_template(
            "shop/quotes/_actions.html",
            **actions_context(quote, counter_form=counter_form, notice=notice, error=error),
        ) + render_template("shop/quotes/_quote.html", oob=True, **region_context(quote))
        response = make_response(html, status)
        response.vary.add("HX-Request")
        return response
    if counter_form is not None:
        page = render_template(
            "shop/quotes/show.html",
            **(
                region_context(quote)
                | actions_context(quote, counter_form=counter_form, error=error)
            ),
        )
        return page, status
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("shop.quote", quote_id=quote_id))


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
        abort(404, description="Your company has no quote with this number.")
    return answer(quote_id, notice=notice(result) if callable(notice) else notice)


def decision() -> DecisionForm | None:
    """The bare form of accept, reject and withdraw; None when it was not sent properly."""
    form = DecisionForm()
    return form if form.validate_on_submit() else None


@bp.route("/quotes", endpoint="quotes")
@permission_required("shop.quote")
def quote_list():
    """The company's quotes, newest first, filtered by status and searched by number."""
    status, q, page = status_arg(), search_arg(), page_arg()
    listing = paginate(quotes.listing(current_user, status=status, q=q), page, PER_PAGE)
    return render(
        "shop/quotes/index.html",
        "shop/quotes/_list.html",
        listing=listing,
        q=q,
        status=status,
        filters=FILTERS,
        turn=quotes.turn,
        shown_status=quotes.shown_status,
        total=quotes.total,
        labels=quotes.STATUS_LABELS,
    )


def _prefill() -> list[dict]:
    """Lines to start a request with: a copy of an earlier quote (`from`) or SKUs (`sku`)."""
    source = request.args.get("from", "")
    if source:
        if not source.isdigit() or len(source) > 12:
            abort(400, description="Unknown quote to copy.")
        earlier = scoped_quote(int(source))
        return [{"sku": ln.product.sku, "quantity": str(ln.quantity)} for ln in earlier.lines]
    skus = [s.strip()[:64] for s in request.args.getlist("sku") if s.strip()]
    return [{"sku": sku, "quantity": ""} for sku in skus[: quotes.MAX_LINES]]


def new_page(form: RequestForm, offers: dict) -> str:
    return render_template(
        "shop/quotes/new.html", form=form, offers=offers, max_lines=quotes.MAX_LINES
    )


@bp.route("/quotes/new", methods=["GET", "POST"])
@permission_required("shop.quote")
def quote_new():
    """Ask for a quote: several lines by SKU and quantity, checked against the catalogue."""
    if request.method == "GET":
        form = RequestForm(formdata=None, data={"lines": _prefill()})
        return new_page(form, {})
    form = RequestForm()
    action = request.form.get("action", "send")
    if action == "more":
        for _ in range(MORE_LINES):
            if len(form.lines) < quotes.MAX_LINES:
                form.lines.append_entry()
        return new_page(form, {})
    valid = form.validate_on_submit()
    asks = form.resolve()
    if action == "send" and not form.ok and not form.form_errors:
        form.form_errors.append("Nothing was sent: correct the lines marked below.")
    if valid and form.ok and action == "send":
        try:
            quote = orders.retrying(
                lambda: quotes.request(
                    current_user.company,
                    asks,
                    actor=current_user,
                    note=form.note.data,
                    link=seller_link,
                )
            )
        except Refused as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(f"Your request {quote.number} is with the seller; you will hear back.", "info")
            return redirect(url_for("shop.quote", quote_id=quote.id))
    resolved = [e.form.product for e in form.lines if e.form.product is not None]
    offers = offers_for(current_user.company.group, resolved) if resolved else {}
    return new_page(form, offers), 200 if form.ok else 422


@bp.route("/quotes/<int:quote_id>")
@permission_required("shop.quote")
def quote(quote_id: int):
    """One quote: status, terms, timeline, and what the person may do now.

    For htmx (the actions panel refreshing itself after a live signal) only the actions,
    or 204 when the round it was drawn for (`shown`) is still the latest.
    """
    found = scoped_quote(quote_id)
    context = actions_context(found)
    if is_htmx() and request.args.get("shown") == str(context["seen"]):
        response = make_response("", 204)
        response.vary.add("HX-Request")
        return response
    return render(
        "shop/quotes/show.html", "shop/quotes/_actions.html", **(region_context(found) | context)
    )


@bp.route("/quotes/<int:quote_id>/counter", methods=["POST"])
@permission_required("shop.quote")
def quote_counter(quote_id: int):
    """Propose other prices; it becomes the seller's turn."""
    found = scoped_quote(quote_id)
    form = CounterForm()
    valid = form.validate_on_submit()
    if not form.matches(found) or form.seen.errors:
        return answer(quote_id, error=STALE_FORM)
    if not valid:
        return answer(quote_id, error="Check the prices marked below.", counter_form=form)
    return run(
        quote_id,
        lambda: quotes.counter(
            quote_id,
            form.prices(),
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=seller_link,
        ),
        "Your counter-offer is with the seller.",
    )


def accepted(result) -> str:
    """What accepting did: an order, or (above the approval limit) the first approval."""
    if isinstance(result, Order):
        return (
            f"Order {result.number} is placed at the quoted prices, {money(result.total)} in all."
        )
    return (
        "Your approval is recorded. The quote is above your company's approval limit: the "
        "order is placed when a second decision-maker accepts it."
    )


def decide(quote_id: int, move, notice):
    """Accept, reject or withdraw: the same bare form, then the move through run()."""
    scoped_quote(quote_id)
    form = decision()
    if form is None:
        return answer(quote_id, error=STALE_FORM)
    return run(
        quote_id,
        lambda: move(
            quote_id,
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=seller_link,
        ),
        notice,
    )


@bp.route("/quotes/<int:quote_id>/accept", methods=["POST"])
@permission_required("shop.quote")
@permission_required("shop.order")
def quote_accept(quote_id: int):
    """Accept the standing offer: the order is placed at exactly the quoted prices."""
    return decide(quote_id, quotes.accept, accepted)


@bp.route("/quotes/<int:quote_id>/reject", methods=["POST"])
@permission_required("shop.quote")
@permission_required("shop.order")
def quote_reject(quote_id: int):
    """Turn the seller's offer down; the quote is closed."""
    return decide(quote_id, quotes.reject, "You rejected the offer; the seller has been told.")


@bp.route("/quotes/<int:quote_id>/withdraw", methods=["POST"])
@permission_required("shop.quote")
def quote_withdraw(quote_id: int):
    """Take the request back (its requester or a decision-maker); the quote is closed."""
    return decide(quote_id, quotes.withdraw, "The request is withdrawn; the seller has been told.")
