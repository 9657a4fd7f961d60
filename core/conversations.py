"""Conversations on quotes and orders between the customer's people and the seller's staff.

Each quote and each order has at most one conversation, made when its first message is
posted. Who reads and who writes is core.access's to say (`may_read_conversation`,
`may_post`): whoever may see the record reads it; staff who may change the record, and the
company's own people (never a storefront opened by staff for them), write. A message
reaches others three ways, all after the change commits: the live region of the record's
page (`quote-conversation-<id>`, `order-conversation-<id>`), a mail to the people of the
other side concerned (answering to the conversation's Reply-To address), and the unread
markers of the lists. Nobody who may not see the record hears of it.
"""

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from extensions import db

from . import access, audit, events, i18n, mail
from .attachments import CheckedFile, max_bytes
from .attachments import store as store_file
from .errors import Refused
from .i18n import _
from .models import (
    STAFF,
    Attachment,
    Conversation,
    ConversationRead,
    Message,
    Order,
    Quote,
    QuoteLink,
    User,
    utcnow,
)
from .photos import size_label

MAX_BODY = 10_000
SIDES = ("customer", "staff")
VIAS = ("portal", "mail", "link")
TOPIC = "conversation_changed"


class ConversationError(Refused):
    """A message that cannot be posted as it is (empty, too long, too many files)."""


def max_files() -> int:
    """How many files one message may carry (ATTACHMENT_MAX_FILES)."""
    return int(current_app.config.get("ATTACHMENT_MAX_FILES") or 5)


def max_size_label() -> str:
    """The largest file accepted, as people say it (20 MB)."""
    return size_label(max_bytes())


# --- finding ---------------------------------------------------------------------------


def _column_of(record):
    if isinstance(record, Quote):
        return Conversation.quote_id
    if isinstance(record, Order):
        return Conversation.order_id
    raise TypeError(f"a conversation is on a quote or an order, not {type(record).__name__}")


def find(record) -> Conversation | None:
    """The record's conversation if it has one yet (reading never makes one)."""
    return db.session.scalar(select(Conversation).where(_column_of(record) == record.id))


def _insert_unless_there(model, **values) -> None:
    """Insert a row unless one with the same unique key is there already (two requests at
    once): no savepoint, which pysqlite would turn into a commit of its own."""
    if db.session.get_bind().dialect.name == "sqlite":
        stmt = sqlite_insert(model).values(**values).on_conflict_do_nothing()
    else:
        stmt = mysql_insert(model).values(**values)
        stmt = stmt.on_duplicate_key_update(id=model.__table__.c.id)
    db.session.execute(stmt)


def conversation_of(record) -> Conversation:
    """The conversation of a quote or an order, made on first use."""
    found = find(record)
    if found is not None:
        return found
    column = _column_of(record)
    _insert_unless_there(
        Conversation,
        company_id=record.company_id,
        quote_id=record.id if column is Conversation.quote_id else None,
        order_id=record.id if column is Conversation.order_id else None,
        reply_token=secrets.token_hex(16),
        created_at=utcnow(),
    )
    # A locking read sees the row another request may have made first (MariaDB's
    # repeatable read would otherwise show this transaction's older snapshot).
    return db.session.scalar(
        select(Conversation)
        .where(column == record.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def conversation_by_reply_token(token: str) -> Conversation | None:
    """The conversation a reply+<token>@ address names, or None."""
    token = (token or "").strip().lower()
    if not token or len(token) > 40:
        return None
    return db.session.scalar(select(Conversation).where(Conversation.reply_token == token))


def reply_domain() -> str:
    """MAIL_REPLY_DOMAIN, or PORTAL_URL's host."""
    configured = current_app.config.get("MAIL_REPLY_DOMAIN")
    if configured:
        return configured
    return urlsplit(current_app.config.get("PORTAL_URL") or "").hostname or "localhost"


def reply_to_address(conversation: Conversation) -> str:
    """Where a mail about this conversation answers: reply+<token>@<MAIL_REPLY_DOMAIN>."""
    return f"reply+{conversation.reply_token}@{reply_domain()}"


def messages(conversation: Conversation | None) -> list[Message]:
    """The conversation's messages, oldest first, with their files."""
    if conversation is None:
        return []
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .options(selectinload(Message.attachments))
            .order_by(Message.id)
        )
    )


def load_attachment(user: User | None, record, attachment_id: int) -> Attachment | None:
    """An attachment of a message in this record's conversation, if this person may read it
    (the caller has loaded the record through the person's scope); else None (404)."""
    conversation = find(record)
    if conversation is None or not access.may_read_conversation(user, conversation):
        return None
    return db.session.scalar(
        select(Attachment)
        .join(Message, Attachment.message_id == Message.id)
        .where(Attachment.id == attachment_id, Message.conversation_id == conversation.id)
    )


# --- posting ---------------------------------------------------------------------------


def side_of(user: User | None) -> str:
    return "staff" if user is not None and user.kind == STAFF else "customer"


def post_message(
    conversation: Conversation,
    *,
    author: User | None,
    body: str,
    attachments: Iterable = (),
    via: str = "portal",
    sender_name: str | None = None,
    sender_email: str | None = None,
    side: str | None = None,
) -> Message:
    """Post a message (text, files or both) and tell the others: live, by mail, unread.

    `attachments`: checked files (core.attachments.check_upload) or attachments already
    stored for this company and on no message yet. `author` None: a contact without an
    account (a mail reply, a signed link), named by `sender_name` / `sender_email`, whose
    `side` must be given. Whether the author may post is the caller's check (may_post).
    """
    body = (body or "").replace("\r\n", "\n").strip()
    files = list(attachments)
    if not body and not files:
        raise ConversationError(_("Write a message or attach a file."))
    if len(body) > MAX_BODY:
        raise ConversationError(
            _("A message holds at most %(count)s characters.", count=i18n.number(MAX_BODY))
        )
    most = max_files()
    if len(files) > most:
        raise ConversationError(_("Attach at most %(count)s files to a message.", count=most))
    if via not in VIAS:
        raise ValueError(f"unknown way in {via!r}")
    side = side or (side_of(author) if author is not None else None)
    if side not in SIDES:
        raise ValueError("a message without an author needs its side")
    message = Message(
        conversation_id=conversation.id,
        author_id=author.id if author is not None else None,
        author_name=((author.name if author is not None else sender_name) or "")[:200],
        author_email=((author.email if author is not None else sender_email) or "")[:254],
        side=side,
        via=via,
        body=body,
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    for item in files:
        if isinstance(item, CheckedFile):
            item = store_file(item, company_id=conversation.company_id, uploaded_by=author)
        elif item.message_id is not None or item.company_id != conversation.company_id:
            raise ValueError("an attachment belongs to one message of its own company")
        item.message_id = message.id
    db.session.flush()
    db.session.expire(message, ["attachments"])
    if author is not None:
        mark_read(author, conversation, upto=message.id)
    record = conversation.record
    audit.record(
        "message.posted",
        actor=author,
        actor_email=None if author is not None else (sender_email or "")[:254],
        target=record,
        summary=f"Message on {record.number} ({side}, {via}, {len(files)} file(s))",
        after={"message": message.id, "via": via, "files": len(files)},
    )
    events.record(
        db.session,
        TOPIC,
        conversation.id,
        quote=conversation.quote_id,
        order=conversation.order_id,
        company=conversation.company_id,
    )
    _notify(conversation, message)
    return message


# --- who hears of it -------------------------------------------------------------------


def _posted_before(conversation: Conversation, side: str) -> list[User]:
    """The people of one side who have written in this conversation."""
    return list(
        db.session.scalars(
            select(User)
            .join(Message, Message.author_id == User.id)
            .where(Message.conversation_id == conversation.id, Message.side == side)
            .distinct()
        )
    )


def concerned(conversation: Conversation, side: str) -> list[User]:
    """Who of `side` is told of a message from the other: those who have written in it,
    and for the seller the company's reps who may answer (else the staff who serve every
    customer and may change the record), for the customer the record's requester or placer and its
    decision-makers. Only active people who may read the conversation."""
    area = access.conversation_area(conversation)
    record = conversation.record
    found = _posted_before(conversation, side)
    if side == "staff":
        reps = [rep for rep in record.company.reps if rep.status == "active"]
        # those who can answer: a partner who only reads the customer's records is not asked
        found += [rep for rep in reps if access.may_post(rep, conversation)]
        if not any(p.kind == STAFF for p in found):
            staff = db.session.scalars(
                select(User).where(User.kind == STAFF, User.status == "active")
            )
            found += [
                p for p in staff if access.can(p, "customers.all") and access.can(p, f"{area}.edit")
            ]
    else:
        first = record.requested_by if area == "quotes" else record.placed_by
        found.append(first)
        members = db.session.scalars(
            select(User).where(User.company_id == conversation.company_id, User.status == "active")
        )
        found += [p for p in members if access.can(p, "shop.approve")]
    wanted = "staff" if side == "staff" else "customer"
    seen: set[int] = set()
    told = []
    for person in found:
        if person is None or person.id in seen or person.status != "active":
            continue
        seen.add(person.id)
        if side_of(person) == wanted and access.may_read_conversation(person, conversation):
            told.append(person)
    return told


def link_of(conversation: Conversation, person: User) -> str:
    """The record's page in the person's face, absolute (PORTAL_URL)."""
    face = "office" if person.kind == STAFF else "shop"
    area = access.conversation_area(conversation)
    record_id = conversation.quote_id if area == "quotes" else conversation.order_id
    return f"{current_app.config['PORTAL_URL']}/{face}/{area}/{record_id}#conversation"


def _notify(conversation: Conversation, message: Message) -> None:
    """Mail the other side's people concerned, each in their language, answering to the
    conversation's Reply-To address."""
    other = "staff" if message.side == "customer" else "customer"
    record = conversation.record
    area = access.conversation_area(conversation)
    names = [a.filename for a in message.attachments]
    for person in concerned(conversation, other):
        if person.id == message.author_id or not person.email:
            continue
        with i18n.in_language(person.language):
            if area == "quotes":
                subject = _("New message on quote %(number)s", number=record.number)
            else:
                subject = _("New message on order %(number)s", number=record.number)
            if other == "staff":
                subject = f"{subject} ({record.company.name})"
            parts = [
                str(_("%(name)s wrote:", name=message.author_name or message.author_email)),
                message.body,
            ]
            if names:
                parts.append(str(_("Attached: %(names)s", names=", ".join(names))))
            parts.append(
                str(
                    _(
                        "Read and answer the conversation at %(link)s, or reply to this mail.",
                        link=link_of(conversation, person),
                    )
                )
            )
            text = str(_("Hello %(name)s,", name=person.name)) + "\n\n"
            text += "\n\n".join(p for p in parts if p) + "\n"
            mail.send(
                person.email,
                str(subject),
                text,
                reader=person,
                reply_to=reply_to_address(conversation),
            )
    if other == "customer" and area == "quotes":
        _notify_contacts(conversation, message, names)


def _link_contacts(quote_id: int) -> dict[str, QuoteLink]:
    """The people without an account this quote was mailed to (core.quote_links), by
    address, through links staff have not revoked: the latest link names each."""
    links = db.session.scalars(
        select(QuoteLink)
        .where(QuoteLink.quote_id == quote_id, QuoteLink.revoked_at.is_(None))
        .order_by(QuoteLink.id)
    )
    return {link.recipient_email.lower(): link for link in links}


def _notify_contacts(conversation: Conversation, message: Message, names: list[str]) -> None:
    """A staff message on a quote also reaches the contacts it was mailed to: they have no
    page to read it on, so the mail carries it whole and they answer by replying."""
    accounts = {
        email.lower()
        for email in db.session.scalars(
            select(User.email).where(User.company_id == conversation.company_id)
        )
    }
    record = conversation.record
    for email, link in _link_contacts(conversation.quote_id).items():
        if email in accounts or email == (message.author_email or "").lower():
            continue  # a person with an account reads it in the portal
        with i18n.in_language(link.language or None):
            subject = _("New message on quote %(number)s", number=record.number)
            parts = [
                str(_("%(name)s wrote:", name=message.author_name or message.author_email)),
                message.body,
            ]
            if names:
                parts.append(str(_("Attached: %(names)s", names=", ".join(names))))
            parts.append(str(_("Reply to this mail to answer.")))
            text = str(_("Hello %(name)s,", name=link.recipient_name)) + "\n\n"
            text += "\n\n".join(p for p in parts if p) + "\n"
            mail.send(email, str(subject), text, reply_to=reply_to_address(conversation))


# --- unread markers --------------------------------------------------------------------


def read_position(user: User, conversation: Conversation) -> int:
    """The last message id this person has seen of the conversation (0: none)."""
    return (
        db.session.scalar(
            select(ConversationRead.last_message_id).where(
                ConversationRead.conversation_id == conversation.id,
                ConversationRead.user_id == user.id,
            )
        )
        or 0
    )


def mark_read(user: User, conversation: Conversation, *, upto: int | None = None) -> None:
    """Note that this person has seen the conversation up to a message (default: the last).
    A storefront opened by staff for a person marks nothing of theirs."""
    if user is None or access.assumption(user) is not None or conversation is None:
        return
    if upto is None:
        upto = db.session.scalar(
            select(func.max(Message.id)).where(Message.conversation_id == conversation.id)
        )
    if not upto or read_position(user, conversation) >= upto:
        return
    _insert_unless_there(
        ConversationRead,
        conversation_id=conversation.id,
        user_id=user.id,
        last_message_id=0,
        read_at=utcnow(),
    )
    db.session.execute(
        update(ConversationRead)
        .where(
            ConversationRead.conversation_id == conversation.id,
            ConversationRead.user_id == user.id,
            ConversationRead.last_message_id < upto,
        )
        .values(last_message_id=upto, read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _unread_query(user: User, column):
    """(record id, unread count) of the conversations on `column`'s records: messages from
    the other side after this person's read position."""
    read = ConversationRead
    return (
        select(column, func.count(Message.id))
        .join(Message, Message.conversation_id == Conversation.id)
        .outerjoin(read, and_(read.conversation_id == Conversation.id, read.user_id == user.id))
        .where(
            column.is_not(None),
            Message.side != side_of(user),
            Message.id > func.coalesce(read.last_message_id, 0),
        )
        .group_by(column)
    )


def unread_counts(user: User | None, records) -> dict[int, int]:
    """Unread messages from the other side, by record id, for these quotes or orders (all
    of one kind, already scoped to what the person sees)."""
    records = list(records)
    if user is None or not records or access.assumption(user) is not None:
        return {}
    column = _column_of(records[0])
    stmt = _unread_query(user, column).where(column.in_([r.id for r in records]))
    return {record_id: count for record_id, count in db.session.execute(stmt)}


def unread_total(user: User | None) -> int:
    """Unread messages from the other side across every quote and order this person may
    read (their scope, their areas)."""
    if user is None or access.assumption(user) is not None:
        return 0
    total = 0
    for area, column in (("quotes", Conversation.quote_id), ("orders", Conversation.order_id)):
        if not access.may_read(user, area):
            continue
        stmt = access.company_scope(user, _unread_query(user, column), Conversation.company_id)
        total += sum(count for __, count in db.session.execute(stmt))
    return total
