"""Storefront quotes: ask for prices, negotiate in rounds, and accept an offer into an order."""

from itertools import zip_longest

from flask import (
    abort,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import (
    choice_arg,
    external_url,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.filters import money
from blueprints.fragments.quotes import FILTERS, list_context
from blueprints.quote_pages import QuotePages
from blueprints.quotes_forms import (
    STALE_FORM,
    CounterForm,
    DecisionForm,
    RequestForm,
    price_form,
)
from core import access, custom_parts, numbers, quotes
from core.models import Order, Quote
from core.offer import offers_for

from . import bp, stock_refusals

MORE_LINES = 5


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg(
        "status", FILTERS["shop"], _("Unknown status filter: choose one from the list.")
    )


def seller_link(quote: Quote) -> str:
    """Where the seller's staff open the quote (for their notification mail)."""
    return external_url("office.quote", quote_id=quote.id)


def order_url(order_id: int | None) -> str | None:
    """The order\'s page, for a quote or invoice that has one."""
    return url_for("shop.order", order_id=order_id) if order_id is not None else None


def alone(quote: Quote, may_decide: bool) -> str:
    """Whether the company lacks a decision-maker for an acceptance this quote needs: "you"
    when the signed-in person gives (or gave) the first approval, "yes" when someone else
    does, "" when nothing is missing."""
    if quotes.turn(quote) != quotes.CUSTOMER:
        return ""
    first = quotes.first_approval(quote)
    mine = first is not None and first.author_id == current_user.id
    deciding = may_decide and first is None
    me = current_user._get_current_object() if deciding else None
    if not quotes.short_of_approvers(quote, deciding=me):
        return ""
    return "you" if deciding or mine else "yes"


def actions_context(quote: Quote, *, form=None, notice: str = "", error: str = ""):
    """What the signed-in person may do now, with the forms to do it."""
    turn = quotes.turn(quote)
    latest = quotes.latest_round(quote)
    seen = latest.id if latest else 0
    counter_form = form
    if counter_form is None:
        standing = {line.id: line.unit_price for line in quote.lines}
        counter_form = price_form(CounterForm, quote, standing, seen=seen)
    may_decide = turn == quotes.CUSTOMER and access.can(current_user, "shop.order")
    return {
        "quote": quote,
        "turn": turn,
        "seen": seen,
        "total": quotes.total(quote),
        "status": quotes.shown_status(quote),
        "may_decide": may_decide,
        "alone": alone(quote, may_decide),
        "needs_two": quotes.needs_two_approvals(quote),
        "approval": quotes.first_approval(quote),
        "may_withdraw": turn is not None and access.may_withdraw_quote(current_user, quote),
        "may_counter": access.sees_prices(current_user),
        "counter_form": counter_form,
        "rows": list(zip(quote.lines, counter_form.lines, strict=False)),
        "order_link": order_url(quote.order_id),
        "notice": notice,
        "error": error,
    }


PAGES = QuotePages("shop", actions_context)


def decision() -> DecisionForm | None:
    """The bare form of accept, reject and withdraw; None when it was not sent properly."""
    form = DecisionForm()
    return form if form.validate_on_submit() else None


@bp.route("/quotes", endpoint="quotes")
@permission_required("shop.quote")
def quote_list():
    """The company's quotes, newest first, filtered by status and searched by number."""
    context = list_context(current_user, status=status_arg(), q=search_arg(), page=page_arg())
    return render("shop/quotes/index.html", "quotes/_table.html", **context)


def _prefill() -> list[dict]:
    """Lines to start a request with: a copy of an earlier quote (`from`) or SKUs (`sku`),
    each with the quantity of the `qty` at its place if one is given (the cart's "ask for a
    quote" link); the form checks both again when sent."""
    source = request.args.get("from", "")
    if source:
        quote_id = numbers.record_id(source)
        if quote_id is None:
            abort(400, description=_("Unknown quote to copy."))
        earlier = PAGES.load(quote_id)
        # A custom part is asked for again with its drawings: it is no catalogue line.
        return [
            {"sku": ln.product.sku, "quantity": str(ln.quantity)}
            for ln in earlier.lines
            if not ln.is_custom
        ]
    pairs = zip_longest(request.args.getlist("sku"), request.args.getlist("qty"), fillvalue="")
    lines = [
        {"sku": sku.strip()[:64], "quantity": qty if qty.isascii() and qty.isdigit() else ""}
        for sku, qty in pairs
        if sku.strip()
    ]
    return [{**ln, "quantity": ln["quantity"][:9]} for ln in lines[: quotes.MAX_LINES]]


def new_page(form: RequestForm, offers: dict, status: int = 200):
    """The request form, as typed, with the offers of the products it names and the
    materials custom parts may be made of."""
    return render(
        "shop/quotes/new.html",
        form=form,
        offers=offers,
        max_lines=quotes.MAX_LINES,
        materials=custom_parts.materials(active_only=True),
        max_drawings=custom_parts.MAX_DRAWINGS,
        code=status,
    )


def kept_ids(prefix: str) -> list[int]:
    """The drawings a custom line kept from an earlier post (`<prefix>kept`, ticked)."""
    found = (numbers.record_id(raw) for raw in request.form.getlist(f"{prefix}kept")[:50])
    return [i for i in found if i is not None]


@bp.route("/quotes/new", methods=["GET", "POST"])
@permission_required("shop.quote")
def quote_new():
    """Ask for a quote: several lines by SKU and quantity, checked against the catalogue."""
    if request.method == "GET":
        form = RequestForm(formdata=None, data={"lines": _prefill()})
        return new_page(form, {})
    form = RequestForm()
    action = request.form.get("action", "send")
    if action in ("more", "more_custom"):
        # Drawings sent along are stored all the same, so adding lines loses none.
        form.validate_on_submit()
        form.resolve_custom(current_user, kept_ids, judge=False)
        lines = form.lines if action == "more" else form.custom
        for _more in range(MORE_LINES if action == "more" else 1):
            if len(lines) < quotes.MAX_LINES:
                lines.append_entry()
        return new_page(form, {})
    valid = form.validate_on_submit()
    asks = form.resolve(current_user.company.group_id)
    # The CSRF token was checked before the view (CSRFProtect): a form that is not valid
    # has mistakes of the person's own, and keeps its drawings all the same.
    custom, stored = form.resolve_custom(current_user, kept_ids)
    form.check_used()
    if action == "send" and not form.ok and not form.form_errors:
        form.form_errors.append(_("Nothing was sent: correct the lines marked below."))
    if valid and form.ok and action == "send":
        sent = attempt(
            lambda: quotes.request(
                current_user.company,
                asks,
                actor=current_user,
                note=form.note.data,
                link=seller_link,
                custom=custom,
            ),
            # A replay would start without the drawings this request stored: none then.
            replay=not stored,
        )
        if not sent.refused:
            # No flash: the quote page says where the request is for as long as it is
            # there (its actions panel, live), and stops saying it once the seller answers.
            return redirect(url_for("shop.quote", quote_id=sent.value.id))
        form.form_errors.append(sent.message)
        if stored:  # the drawings sent with this post went with the refusal
            for entry in form.custom:
                earlier = custom_parts.pending_drawings(current_user, kept_ids(entry.form._prefix))
                entry.form.kept = list(earlier.values())
            form.form_errors.append(_("Add the drawings you had just chosen again."))
            stored = False
    resolved = [e.form.product for e in form.lines if e.form.product is not None]
    offers = offers_for(current_user.company.group, resolved) if resolved else {}
    # Drawings stored by this post are kept only by a successful answer (the boundary
    # commits below 400): the form shows them kept, so nobody uploads them twice.
    return new_page(form, offers, 200 if form.ok or stored else 422)


@bp.route("/quotes/<int:quote_id>")
@permission_required("shop.quote")
def quote(quote_id: int):
    """One quote: status, terms, timeline, and what the person may do now."""
    return PAGES.show(quote_id)


@bp.route("/quotes/<int:quote_id>.pdf")
@permission_required("shop.quote")
def quote_pdf(quote_id: int):
    """The quote as a PDF: the page's terms, to the page's readers."""
    return PAGES.pdf(quote_id)


@bp.route("/quotes/<int:quote_id>/drawings/<int:attachment_id>")
@permission_required("shop.quote")
def quote_drawing(quote_id: int, attachment_id: int):
    """A drawing of a custom part on the quote, as a download, to the quote's readers."""
    return PAGES.drawing(quote_id, attachment_id)


@bp.route("/quotes/<int:quote_id>/counter", methods=["POST"])
@permission_required("shop.quote")
def quote_counter(quote_id: int):
    """Propose other prices; it becomes the seller's turn."""
    found = PAGES.load(quote_id)
    form = CounterForm()
    valid = form.validate_on_submit()
    if not form.matches(found) or form.seen.errors:
        return PAGES.answer(quote_id, error=STALE_FORM)
    if not valid:
        return PAGES.answer(quote_id, error=_("Check the prices marked below."), form=form)
    return PAGES.run(
        quote_id,
        lambda: quotes.counter(
            quote_id,
            form.prices(),
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=seller_link,
        ),
        "",  # the panel says it, for as long as it is so (_actions.html)
    )


def accepted(result) -> str:
    """What accepting did: an order, or (above the approval limit) the first approval."""
    if isinstance(result, Order):
        return _(
            "Order %(number)s is placed at the quoted prices, %(total)s in all.",
            number=result.number,
            total=money(result.total),
        )
    if quotes.short_of_approvers(result.quote):
        return _(
            "Your approval is recorded. The quote is above your company's approval limit and "
            "nobody else at your company can accept it: the seller's staff have been asked to "
            "give the second approval, and the order is placed when they do."
        )
    return _(
        "Your approval is recorded. The quote is above your company's approval limit: the "
        "order is placed when a second decision-maker accepts it."
    )


def decide(quote_id: int, move, notice):
    """Accept, reject or withdraw: the same bare form, then the move through run()."""
    PAGES.load(quote_id)
    form = decision()
    if form is None:
        return PAGES.answer(quote_id, error=STALE_FORM)
    return PAGES.run(
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
    """Accept the standing offer: the order is placed at exactly the quoted prices.

    Like checkout, refusals for stock count against the company (stock_refusals)."""
    PAGES.load(quote_id)
    too_many = stock_refusals.throttled()
    if too_many is not None:
        return too_many
    answer = decide(quote_id, stock_refusals.watching(quotes.accept), accepted)
    stock_refusals.counted()
    return answer


@bp.route("/quotes/<int:quote_id>/reject", methods=["POST"])
@permission_required("shop.quote")
@permission_required("shop.order")
def quote_reject(quote_id: int):
    """Turn the seller's offer down; the quote is closed."""
    return decide(quote_id, quotes.reject, _("You rejected the offer; the seller has been told."))


@bp.route("/quotes/<int:quote_id>/withdraw", methods=["POST"])
@permission_required("shop.quote")
def quote_withdraw(quote_id: int):
    """Take the request back (its requester or a decision-maker); the quote is closed."""
    return decide(
        quote_id, quotes.withdraw, _("The request is withdrawn; the seller has been told.")
    )
