"""Replies by mail, received over SMTP and posted into the record's conversation.

`flask --app app mail-receive` runs an aiosmtpd server (MAIL_RECEIVE_HOST and
MAIL_RECEIVE_PORT) behind the mail server that receives for MAIL_REPLY_DOMAIN. Every
notification about a conversation, and every quote mailed to a contact
(core.quote_links), answers to reply+<token>@<MAIL_REPLY_DOMAIN>; the server:

- accepts a recipient only when it is such an address with a known token (else 550,
  so nothing else is ever taken in and nothing is relayed);
- reads the message (core.inbound_mail): the sender (From), the new text without the
  quoted history or signature, the attached files;
- posts it as the sender, when the sender is someone who may write in that
  conversation (the company's people, the staff who answer the record, by their
  account's address) or a contact the quote was mailed to; anyone else gets 550 and an
  audit entry (`mail.reply_refused`), and nothing is stored;
- keeps the files core.attachments accepts, and notes in the message those it refused.

The post commits in the receiver's process: its live push and mails go out from there,
so with several processes REDIS_URL must be set for open pages elsewhere to hear of it.
"""

import asyncio
import io
import logging

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from extensions import db

from . import access, attachments, audit, conversations, inbound_mail, quote_links
from .i18n import _
from .models import Conversation, QuoteLink, User

log = logging.getLogger("portal.mail_receive")

OK = "250 OK"
NO_SUCH_ADDRESS = "550 5.1.1 No such conversation at this address"
UNKNOWN_SENDER = "550 5.7.1 Your address may not write in this conversation"
NOTHING_NEW = "550 5.6.0 The reply holds no new text and no file"


def conversation_for(address: str) -> Conversation | None:
    """The conversation a recipient address names (reply+<token>@MAIL_REPLY_DOMAIN)."""
    token = inbound_mail.reply_token(address, conversations.reply_domain())
    return conversations.conversation_by_reply_token(token) if token else None


def sender_in(conversation: Conversation, email: str) -> tuple[bool, User | None, str]:
    """Whether `email` may write in this conversation by mail: (allowed, the account if it
    is a person's, the name of a contact without one)."""
    email = (email or "").strip().lower()
    if not email:
        return False, None, ""
    people = db.session.scalars(
        select(User).where(func.lower(User.email) == email, User.status == "active")
    )
    for person in people:
        if access.may_post(person, conversation):
            return True, person, person.name
    if conversation.quote_id is not None and email in quote_links.contacts_of(
        conversation.quote_id
    ):
        name = db.session.scalar(
            select(QuoteLink.recipient_name)
            .where(
                QuoteLink.quote_id == conversation.quote_id,
                func.lower(QuoteLink.recipient_email) == email,
            )
            .order_by(QuoteLink.id.desc())
            .limit(1)
        )
        return True, None, name or email
    return False, None, ""


def _checked_files(parts: list[inbound_mail.Part]) -> tuple[list, list[str]]:
    """The files core.attachments accepts, and a sentence for each one it refused."""
    kept, notes = [], []
    most = conversations.max_files()
    for part in parts:
        if len(kept) >= most:
            notes.append(
                str(_("“%(name)s” was not kept: too many files in one mail.", name=part.filename))
            )
            continue
        upload = FileStorage(
            stream=io.BytesIO(part.data), filename=part.filename, content_type=part.content_type
        )
        try:
            kept.append(attachments.check_upload(upload))
        except attachments.AttachmentRefused as exc:
            notes.append(str(exc))
    return kept, notes


def receive(raw: bytes, recipients: list[str]) -> str:
    """Post one received mail into the conversations its recipients name; the SMTP answer.

    Runs inside an application context and commits; a refusal stores nothing but its
    audit entry.
    """
    inbound = inbound_mail.parse(raw)
    targets = []
    for address in recipients:
        conversation = conversation_for(address)
        if conversation is None:
            log.warning("reply to %s refused: no such conversation", address)
            return NO_SUCH_ADDRESS
        if conversation not in targets:
            targets.append(conversation)
    for conversation in targets:
        allowed, author, name = sender_in(conversation, inbound.sender)
        if not allowed:
            record = conversation.record
            log.warning(
                "reply from %r to the conversation of %s refused: unknown sender",
                inbound.sender,
                record.number,
            )
            db.session.rollback()
            audit.record(
                "mail.reply_refused",
                actor=None,
                actor_email=inbound.sender[:254],
                target=record,
                summary=f"Reply by mail to {record.number} refused: {inbound.sender[:120]} "
                "may not write in its conversation",
            )
            db.session.commit()
            return UNKNOWN_SENDER
        files, notes = _checked_files(inbound.files)
        body = inbound.text
        if notes:
            body = "\n\n".join([body, *notes]).strip()
        if not inbound.text and not files:
            db.session.rollback()
            return NOTHING_NEW
        conversations.post_message(
            conversation,
            author=author,
            body=body,
            attachments=files,
            via="mail",
            sender_name=name if author is None else None,
            sender_email=inbound.sender if author is None else None,
            side=None if author is not None else "customer",
        )
    db.session.commit()
    return OK


class ReplyHandler:
    """aiosmtpd's handler: recipients checked at RCPT, the mail posted at DATA. The
    database work runs in a worker thread, each call in its own application context."""

    def __init__(self, app: Flask):
        self.app = app

    def _in_app(self, fn, *args):
        with self.app.app_context():
            try:
                return fn(*args)
            except Exception:
                log.exception("reply by mail not taken in")
                db.session.rollback()
                return "451 4.3.0 Not taken in now; try again later"
            finally:
                db.session.remove()

    def _known(self, address: str) -> bool:
        return conversation_for(address) is not None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        loop = asyncio.get_running_loop()
        known = await loop.run_in_executor(None, self._in_app, self._known, address)
        if isinstance(known, str):  # the database failed: a temporary refusal
            return known
        if not known:
            log.warning("recipient %r refused: no such conversation", address)
            return NO_SUCH_ADDRESS
        envelope.rcpt_tos.append(address)
        return OK

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._in_app, receive, raw, list(envelope.rcpt_tos))


def controller(app: Flask, host: str, port: int):
    """An aiosmtpd Controller serving replies on host:port (start() and stop() it)."""
    from aiosmtpd.controller import Controller

    limit = max(attachments.max_bytes() * 2, 10 * 1024 * 1024)
    return Controller(
        ReplyHandler(app),
        hostname=host,
        port=port,
        data_size_limit=limit,
        server_hostname=conversations_domain(app),
    )


def conversations_domain(app: Flask) -> str:
    """The name the server greets with: the reply domain."""
    with app.app_context():
        return conversations.reply_domain()
