"""Quotes mailed to a contact without a portal account: a signed, expiring link.

Staff who answer a quote (access.may_mail_quote) send the standing offer to a person
they name; the mail, in the language they choose (the company's by default), holds
`/q/<token>`. The token is random (secrets) and only its SHA-256 is kept, so the table
alone opens nothing. The link shows the quote as the company's group sees it, and lets
the contact accept or reject it (core.quotes.accept_by_contact / reject_by_contact:
the same moves as a decision-maker's, audited with the contact's address) or write into
the quote's conversation. A decision uses the link up; viewing and replying do not. It
ends after QUOTE_LINK_DAYS, or when staff revoke it.

The mail's Reply-To is the quote's conversation address (core.conversations), so a
reply by mail lands in the conversation too (core.mail_receiver).
"""

import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from extensions import db

from . import access, audit, conversations, i18n, mail, quotes, settings
from .errors import NotFound, Refused
from .i18n import _
from .models import Quote, QuoteLink, User, utcnow
from .sessions import token_hash

MAX_NAME = 120
MAX_EMAIL = 254
MAX_MESSAGE = 2000
# One address, as a mail system takes it: no spaces, no angle brackets or commas that
# would smuggle a second recipient into the header.
EMAIL = re.compile(r"^[^@\s<>,;\"()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")

STATUS_LABELS = {
    "open": i18n.N_("open"),
    "used": i18n.N_("used"),
    "revoked": i18n.N_("revoked"),
    "expired": i18n.N_("expired"),
}


def days() -> int:
    """How long a new link holds (QUOTE_LINK_DAYS)."""
    return max(1, int(current_app.config.get("QUOTE_LINK_DAYS", 14)))


def company_language(quote: Quote) -> str:
    """The language a quote's mail starts in: the company's country's, when the portal
    speaks it, else the portal's default."""
    country = (quote.company.country or "").lower()
    return country if country in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def may_send(quote: Quote) -> bool:
    """A link can be sent while the quote waits for the customer's decision (offered, or
    countered by the seller) and its prices still hold."""
    return quotes.turn(quote) == quotes.CUSTOMER


def clean_contact(name: str | None, email: str | None) -> tuple[str, str]:
    """The contact's name and address, checked; else Refused saying what is wrong."""
    name = " ".join((name or "").split())
    email = (email or "").strip()
    if not name:
        raise Refused(_("Give the contact's name."))
    if len(name) > MAX_NAME:
        raise Refused(_("A name has at most %(count)s characters.", count=MAX_NAME))
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise Refused(_("Give one valid e-mail address, such as name@example.com."))
    return name, email.lower()


def links_of(quote: Quote) -> list[QuoteLink]:
    """The links sent for a quote, newest first."""
    return list(
        db.session.scalars(
            select(QuoteLink).where(QuoteLink.quote_id == quote.id).order_by(QuoteLink.id.desc())
        )
    )


def load_link(user: User, quote: Quote, link_id: int) -> QuoteLink:
    """One link of a quote this person may mail; any other is NotFound."""
    found = db.session.get(QuoteLink, link_id)
    if found is None or found.quote_id != quote.id or not access.may_mail_quote(user, quote):
        raise NotFound(_("There is no such link."))
    return found


def send(
    quote: Quote,
    *,
    actor: User,
    name: str,
    email: str,
    language: str,
    message: str = "",
    link: Callable[[str], str],
    ip: str = "",
) -> QuoteLink:
    """Mail the standing offer to a contact: a new link, kept hashed, audited `quote.mailed`.

    `link(token)` makes the absolute address of the link page.
    """
    if not access.may_mail_quote(actor, quote):
        raise NotFound(_("There is no such quote among yours."))
    if not may_send(quote):
        raise Refused(
            _(
                "Only a quote that waits for the customer's decision, with prices that still "
                "hold, can be sent by mail."
            )
        )
    name, email = clean_contact(name, email)
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise Refused(_("A message has at most %(count)s characters.", count=MAX_MESSAGE))
    language = language if language in i18n.LANGUAGES else company_language(quote)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    sent = QuoteLink(
        quote_id=quote.id,
        token_hash=token_hash(token),
        recipient_name=name,
        recipient_email=email,
        message=message,
        language=language,
        sent_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=days()),
    )
    db.session.add(sent)
    db.session.flush()
    conversation = conversations.conversation_of(quote)
    with i18n.in_language(language):
        mail.send(
            email,
            str(_("Quote %(number)s from %(seller)s", number=quote.number, seller=_seller())),
            _body(quote, sent, actor, link(token)),
            reply_to=conversations.reply_to_address(conversation),
        )
    audit.record(
        "quote.mailed",
        actor=actor,
        target=quote,
        ip=ip,
        summary=f"Quote {quote.number} mailed to {name} <{email}>",
        after={"contact": f"{name} <{email}>", "link": sent.id, "expires": str(sent.expires_at)},
    )
    return sent


def _seller() -> str:
    """The seller's name as its invoices print it (settings), else "the trade portal"."""
    return settings.seller().get("name") or str(_("the trade portal"))


def _body(quote: Quote, sent: QuoteLink, actor: User, address: str) -> str:
    parts = [
        str(_("Hello %(name)s,", name=sent.recipient_name)),
        str(
            _(
                "%(staff)s sends you quote %(number)s for %(company)s.",
                staff=actor.name,
                number=quote.number,
                company=quote.company.name,
            )
        ),
    ]
    if sent.message:
        parts.append(sent.message)
    parts.append(
        str(
            _(
                "Open it to read the prices, accept or reject them, or write to us. The link "
                "holds until %(day)s and is for you alone: accepting places the order.",
                day=i18n.day(sent.expires_at.date()),
            )
        )
    )
    parts.append(address)
    parts.append(str(_("You can also reply to this mail: your answer reaches us.")))
    return "\n\n".join(parts) + "\n"


def find(token: str) -> tuple[QuoteLink | None, str]:
    """The link behind a token and its state: open, used, revoked, expired or unknown."""
    if not token or len(token) > 100:
        return None, "unknown"
    found = db.session.scalar(select(QuoteLink).where(QuoteLink.token_hash == token_hash(token)))
    if found is None:
        return None, "unknown"
    return found, found.status_at(utcnow())


def viewed(sent: QuoteLink) -> None:
    """Note that the contact opened the link (the first time only)."""
    if sent.viewed_at is None:
        sent.viewed_at = utcnow()


def _use(sent: QuoteLink, decision: str) -> None:
    """Use the link up, atomically: of two decisions sent at once only one passes."""
    now = utcnow()
    used = db.session.execute(
        update(QuoteLink)
        .where(
            QuoteLink.id == sent.id,
            QuoteLink.used_at.is_(None),
            QuoteLink.revoked_at.is_(None),
            QuoteLink.expires_at > now,
        )
        .values(used_at=now, decision=decision)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        raise Refused(_("This link can no longer be used."))
    db.session.refresh(sent)


def accept(sent: QuoteLink, *, seen: int | None, note: str = "", link=None):
    """The contact accepts the quote: the order is placed, the link used up. `link`
    leads the seller's staff told of it to the quote."""
    _use(sent, "accepted")
    return quotes.accept_by_contact(
        sent.quote_id,
        name=sent.recipient_name,
        email=sent.recipient_email,
        seen=seen,
        note=note,
        link=link,
    )


def reject(sent: QuoteLink, *, seen: int | None, note: str = "", link=None):
    """The contact rejects the quote, with their reason: closed, the link used up."""
    _use(sent, "rejected")
    return quotes.reject_by_contact(
        sent.quote_id,
        name=sent.recipient_name,
        email=sent.recipient_email,
        seen=seen,
        note=note,
        link=link,
    )


def reply(sent: QuoteLink, body: str):
    """The contact writes into the quote's conversation, as themselves (via "link")."""
    if sent.status_at(utcnow()) != "open":
        raise Refused(_("This link can no longer be used."))
    conversation = conversations.conversation_of(sent.quote)
    return conversations.post_message(
        conversation,
        author=None,
        body=body,
        via="link",
        sender_name=sent.recipient_name,
        sender_email=sent.recipient_email,
        side="customer",
    )


def revoke(sent: QuoteLink, *, actor: User, ip: str = "") -> None:
    """Staff end a link that is still open; audited `quote.link_revoked`."""
    if sent.status_at(utcnow()) != "open":
        raise Refused(_("This link is no longer open: there is nothing to revoke."))
    sent.revoked_at = utcnow()
    sent.revoked_by_id = actor.id
    audit.record(
        "quote.link_revoked",
        actor=actor,
        target=sent.quote,
        ip=ip,
        summary=f"Link of quote {sent.quote.number} mailed to {sent.recipient_email} revoked",
        after={"link": sent.id, "contact": sent.recipient_email},
    )


def contacts_of(quote_id: int) -> set[str]:
    """The addresses a quote was mailed to, by links staff have not revoked: they may
    reply by mail (an expired or used link still names a person the quote went to)."""
    return {
        email.lower()
        for email in db.session.scalars(
            select(QuoteLink.recipient_email).where(
                QuoteLink.quote_id == quote_id, QuoteLink.revoked_at.is_(None)
            )
        )
    }
