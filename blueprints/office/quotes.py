"""Back-office quotes: the quotes of one's customers, answered with prices and a validity date;
a customer's second approval, given in its stead by staff who may move orders; and an
offered quote sent by mail to a contact without an account (its "Send by e-mail" panel,
`quote-mail-<id>`, answers each of its moves)."""

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import (
    choice_arg,
    client_ip,
    company_arg,
    external_url,
    is_htmx,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.forms import EmptyForm
from blueprints.fragments.quotes import FILTERS, list_context, quote_context
from blueprints.quote_links_forms import QuoteMailForm
from blueprints.quote_pages import QuotePages
from blueprints.quotes_forms import STALE_FORM, AnswerForm, DecisionForm, price_form
from core import access, quote_links, quotes
from core.models import Quote
from core.offer import offers_for

from . import bp
from .approvals_pages import list_answer
from .quote_mail import mail_context

DEFAULT_VALIDITY_DAYS = 14


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg(
        "status", FILTERS["office"], _("Unknown status filter: choose one from the list.")
    )


def customer_link(quote: Quote) -> str:
    """Where the customer's people open the quote (for their notification mail)."""
    return external_url("shop.quote", quote_id=quote.id)


def order_url(order_id: int | None) -> str | None:
    """The order\'s page, for a quote or invoice that has one."""
    return url_for("office.order", order_id=order_id) if order_id is not None else None


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
    offers = offers_for(
        quote.company.group, [line.product for line in quote.lines if not line.is_custom]
    )
    if form is None:
        # A custom part has no catalogue price: staff give one.
        start = {
            line.id: line.unit_price
            if line.unit_price is not None or line.is_custom
            else offers[line.product_id].at(line.quantity).price
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
        "waits_for_second": quotes.waits_for_second(quote),
        "first": quotes.first_approval(quote),
        "total": quotes.total(quote),
        "stuck": quotes.short_of_approvers(quote),
        "may_give_second": access.may_give_second_approval(current_user, quote.company_id),
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
    } | mail_context(quote)


PAGES = QuotePages("office", actions_context)


@bp.route("/quotes", endpoint="quotes")
@permission_required("quotes.view")
def quote_list():
    """Quotes of the customers in one's scope, filtered by status, searched by number or company."""
    context = list_context(current_user, status=status_arg(), q=search_arg(), page=page_arg())
    return render("office/quotes/index.html", "quotes/_table.html", **context)


@bp.route("/quotes/<int:quote_id>")
@permission_required("quotes.view")
def quote(quote_id: int):
    """One quote with its terms and timeline, and the answer form when it is our turn."""
    return PAGES.show(quote_id)


@bp.route("/quotes/<int:quote_id>.pdf")
@permission_required("quotes.view")
def quote_pdf(quote_id: int):
    """The quote as a PDF: the page's terms, to the page's readers."""
    return PAGES.pdf(quote_id)


@bp.route("/quotes/<int:quote_id>/drawings/<int:attachment_id>")
@permission_required("quotes.view")
def quote_drawing(quote_id: int, attachment_id: int):
    """A drawing of a custom part on the quote, as a download, to the quote's readers."""
    return PAGES.drawing(quote_id, attachment_id)


@bp.route("/quotes/<int:quote_id>/offer", methods=["POST"])
@permission_required("quotes.edit")
def quote_offer(quote_id: int):
    """Answer with unit prices and a validity date: an offer, or a counter to a counter-offer."""
    found = PAGES.load(quote_id)
    form = AnswerForm()
    valid = form.validate_on_submit()
    if not form.matches(found) or form.seen.errors:
        return PAGES.answer(quote_id, error=STALE_FORM)
    if not valid:
        return PAGES.answer(quote_id, error=_("Check the fields marked below."), form=form)
    return PAGES.run(
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
        _("Your prices are with the customer."),
    )


@bp.route("/quotes/<int:quote_id>/reject", methods=["POST"])
@permission_required("quotes.edit")
def quote_reject(quote_id: int):
    """Decline to quote (on our turn); the quote is closed and the customer is told."""
    PAGES.load(quote_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return PAGES.answer(quote_id, error=STALE_FORM)
    return PAGES.run(
        quote_id,
        lambda: quotes.reject(
            quote_id,
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=customer_link,
        ),
        _("The quote is declined; the customer has been told."),
    )


@bp.route("/quotes/<int:quote_id>/second-approval", methods=["POST"])
@permission_required("orders.edit")
@permission_required("quotes.view")
def quote_second_approval(quote_id: int):
    """Give a customer's second approval of a quote in its stead: the order is placed at
    the quoted prices, as a second decision-maker's acceptance places it. From the list
    "Waiting for a second approval" (`list`), the list answers; else the quote's page."""
    PAGES.load(quote_id)
    from_list = request.args.get("list") == "1"
    company = company_arg() if from_list else None
    form = DecisionForm()
    if not form.validate_on_submit():
        if from_list:
            return list_answer(company, error=STALE_FORM)
        return PAGES.answer(quote_id, error=STALE_FORM)

    def give():
        return quotes.approve_for_seller(
            quote_id,
            actor=current_user,
            seen=form.seen.data,
            note=form.note.data,
            link=customer_link,
        )

    if from_list:
        given = attempt(give, replay=True)
        if given.refused:
            return list_answer(company, error=given.message)
        return list_answer(company, placed=given.value)
    return PAGES.run(
        quote_id,
        give,
        lambda order: _(
            "Second approval given: order %(number)s is placed at the quoted prices.",
            number=order.number,
        ),
    )


# --- sending the quote by mail to a contact (core.quote_links) ---------------------------


def _mail_panel(quote_id: int, *, code: int = 200, notice: str = "", error: str = "", form=None):
    """htmx: the panel; otherwise back to the quote's page with the outcome flashed."""
    quote = quotes.load(current_user, quote_id)
    if is_htmx() or form is not None:
        context = mail_context(quote, form=form, notice=notice, error=error)
        return render(
            "office/quotes/show.html",
            "office/quotes/_mail.html",
            code=code,
            **(quote_context(quote, current_user) | actions_context(quote) | context),
        )
    if error or notice:
        flash(str(error or notice), "error" if error else "info")
    return redirect(url_for("office.quote", quote_id=quote_id))


def _mailable(quote_id: int) -> Quote:
    """A quote in scope (else 404) that this person may mail (else 403)."""
    quote = quotes.load(current_user, quote_id)
    if not access.may_mail_quote(current_user, quote):
        abort(403)
    return quote


@bp.route("/quotes/<int:quote_id>/mail", methods=["POST"])
@permission_required("quotes.edit")
def quote_mail(quote_id: int):
    """Send the standing offer to a contact by mail, with a link to accept, reject or write."""
    quote = _mailable(quote_id)
    form = QuoteMailForm()
    if not form.validate_on_submit():
        return _mail_panel(quote_id, code=422, form=form)
    sent = attempt(
        lambda: quote_links.send(
            quote,
            actor=current_user,
            name=form.name.data,
            email=form.email.data,
            language=form.language.data,
            message=form.message.data,
            link=lambda token: external_url("auth.quote_link", token=token),
            ip=client_ip(),
        )
    )
    if sent.refused:
        form.refuse(sent.refusal)
        return _mail_panel(quote_id, code=422, form=form)
    return _mail_panel(
        quote_id,
        notice=_(
            "Quote %(number)s is sent to %(email)s.",
            number=quote.number,
            email=sent.value.recipient_email,
        ),
    )


@bp.route("/quotes/<int:quote_id>/links/<int:link_id>/revoke", methods=["POST"])
@permission_required("quotes.edit")
def quote_link_revoke(quote_id: int, link_id: int):
    """End a mailed link that is still open: it opens nothing from now on."""
    quote = _mailable(quote_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    found = quote_links.load_link(current_user, quote, link_id)
    done = attempt(lambda: quote_links.revoke(found, actor=current_user, ip=client_ip()))
    if done.refused:
        return _mail_panel(quote_id, code=422, error=done.message)
    return _mail_panel(
        quote_id, notice=_("The link sent to %(email)s is revoked.", email=found.recipient_email)
    )
