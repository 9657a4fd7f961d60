"""A quote mailed to a contact without an account (core.quote_links): `/q/<token>`.

No sign-in: the link is the key. It shows the quote as the company's group sees it
(the storefront's quote region, without costs or stock) in the language it was sent
in, and lets the contact accept, reject with a reason, or write into the quote's
conversation. An unknown, expired, used or revoked link answers 410 with a page that
says which, never the quote. Unknown tokens are throttled per client, so links cannot
be guessed by trying.
"""

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _

from blueprints.boundary import attempt, keep_changes
from blueprints.common import client_ip, external_url, render
from blueprints.documents import pdf_answer, quote_document
from blueprints.fragments.quotes import quote_terms
from blueprints.quote_links_forms import LinkDecisionForm, LinkReplyForm
from core import attachments, custom_parts, i18n, quote_links, quotes, throttle
from core.errors import NotFound
from core.models import QuoteLink

from . import bp

THROTTLE = "quote_link"


def _open(token: str) -> QuoteLink:
    """The open link behind the token; any other answers 410 (throttled when unknown)."""
    ip = client_ip()
    wait = throttle.client_wait(THROTTLE, ip)
    if wait:
        abort(
            render(
                "auth/quote_link_closed.html",
                code=429,
                state="throttled",
                message=throttle.wait_message(wait, "link attempts"),
            )
        )
    found, state = quote_links.find(token)
    if state == "unknown":
        throttle.note(THROTTLE, "", ip, succeeded=False)
        keep_changes()  # the failure counts although the answer is an error
    if found is None or state != "open":
        abort(render("auth/quote_link_closed.html", code=410, state=state))
    return found


def _context(sent: QuoteLink, **extra) -> dict:
    """The quote as the company's group sees it: the storefront's region, no costs."""
    quote = sent.quote
    latest = quotes.latest_round(quote)
    context = quote_terms(quote, "shop") | {
        "order_link": None,
        "show_costs": False,
        "prices": True,  # the seller sent this quote, with its prices, to this contact
        "pdf_url": url_for("auth.quote_link_pdf", token=extra["token"]),
        # A drawing downloads through the link, not the storefront (which needs a sign-in).
        "drawing_token": extra.pop("token"),
        "link": sent,
        "seen": latest.id if latest else "",
        "may_decide": quotes.turn(quote) == quotes.CUSTOMER,
        "decision_form": LinkDecisionForm(formdata=None),
        "reply_form": LinkReplyForm(formdata=None),
        "notice": _("Your message is sent to the seller.") if request.args.get("sent") else "",
        "error": "",
    }
    return context | extra


def _page(token: str, sent: QuoteLink, *, code: int = 200, **extra):
    with i18n.in_language(sent.language):
        return render("auth/quote_link.html", code=code, **_context(sent, token=token, **extra))


@bp.route("/q/<token>")
def quote_link(token: str):
    """The quote behind a mailed link, with Accept, Reject and Reply."""
    sent = _open(token)
    quote_links.viewed(sent)
    return _page(token, sent)


@bp.route("/q/<token>.pdf")
def quote_link_pdf(token: str):
    """The quote as a PDF, as the link's page shows it."""
    sent = _open(token)
    with i18n.in_language(sent.language):
        return pdf_answer(quote_document(_context(sent, token=token)))


@bp.route("/q/<token>/drawings/<int:attachment_id>")
def quote_link_drawing(token: str, attachment_id: int):
    """A drawing of one of the quote's custom parts, as a download, while the link is open."""
    sent = _open(token)
    try:
        drawing = custom_parts.drawing_of(sent.quote, attachment_id)
    except NotFound:
        abort(404)
    return attachments.download_response(drawing)


def _decide(token: str, move, done_message) -> object:
    sent = _open(token)
    form = LinkDecisionForm()
    if not form.validate_on_submit():
        return _page(token, sent, code=422, decision_form=form, error=_("Check the note."))
    outcome = attempt(
        lambda: move(
            sent,
            seen=form.seen_round(),
            note=form.note.data or "",
            link=lambda quote: external_url("office.quote", quote_id=quote.id),
        ),
        replay=True,
    )
    if outcome.refused:
        return _page(token, sent, code=422, decision_form=form, error=outcome.message)
    with i18n.in_language(sent.language):
        return render(
            "auth/quote_link_closed.html", state="decided", message=done_message(outcome.value)
        )


@bp.route("/q/<token>/accept", methods=["POST"])
def quote_link_accept(token: str):
    """Accept the quote: the order is placed at the quoted prices; the link is used up."""
    return _decide(
        token,
        quote_links.accept,
        lambda order: _(
            "Thank you: you accepted the quote, and order %(number)s is placed at the quoted "
            "prices. The seller confirms it to your company.",
            number=order.number,
        ),
    )


@bp.route("/q/<token>/reject", methods=["POST"])
def quote_link_reject(token: str):
    """Reject the quote (with a reason, if given); the link is used up."""
    return _decide(
        token,
        quote_links.reject,
        lambda _round: _("You rejected the quote; the seller is told. Thank you for your answer."),
    )


@bp.route("/q/<token>/reply", methods=["POST"])
def quote_link_reply(token: str):
    """Write to the seller: the message goes into the quote's conversation, as you."""
    sent = _open(token)
    form = LinkReplyForm()
    if not form.validate_on_submit():
        return _page(token, sent, code=422, reply_form=form, error=_("Write a message."))
    outcome = attempt(lambda: quote_links.reply(sent, form.body.data))
    if outcome.refused:
        return _page(token, sent, code=422, reply_form=form, error=outcome.message)
    return redirect(url_for("auth.quote_link", token=token, sent=1))
