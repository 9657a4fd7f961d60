"""Outgoing mail: every message is kept in the outbox; a background job delivers it.

`send` keeps the message and, once the change commits, asks the job queue (core.jobs)
to deliver it: the request never waits for SMTP, and no mail leaves for a change that
rolls back. The job draws the document a notification carries (core.notify) if it
waits for one, then hands the mail to MAIL_SERVER and notes it sent; a second run of
the job finds it sent. A refused try is retried later (its error kept on the mail);
without MAIL_SERVER the outbox is where development reads its mail
(`flask --app app outbox`). Reads the portal's configuration from current_app.
"""

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from extensions import db

from . import jobs
from .i18n import N_
from .models import OutboxAttachment, OutboxMail, User, utcnow

log = logging.getLogger("portal.mail")

DELIVER = "mail.deliver"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail: its name, MIME type (`application/pdf`) and bytes."""

    filename: str
    mime_type: str
    content: bytes


def send(
    to: str,
    subject: str,
    body: str,
    *,
    attachments: Sequence[Attachment] = (),
    reader: User | None = None,
    document: tuple[str, int] | None = None,
    reply_to: str = "",
) -> OutboxMail:
    """Keep a message in the outbox; it is delivered by a job once the change commits.

    `reply_to`: where an answer goes (a conversation's reply+<token>@ address).
    `reader`: the person it is written to. `document`: (kind, id) of a document to draw
    for them and attach (core.notify), by the job, in the language of the moment.
    A lazy subject or body (core.i18n) is rendered here, in the language of the moment:
    core.notify sends each recipient's copy inside their own.
    """
    subject, body = str(subject), str(body)
    mail = OutboxMail(
        to_addr=to,
        subject=subject[:200],
        body=body,
        user_id=reader.id if reader is not None else None,
        reply_to=reply_to,
    )
    if document is not None:
        mail.document_kind, mail.document_id = document
    mail.attachments = [
        OutboxAttachment(filename=a.filename[:200], mime_type=a.mime_type, content=a.content)
        for a in attachments
    ]
    db.session.add(mail)
    db.session.flush()
    if mail.document_kind or current_app.config.get("MAIL_SERVER"):
        jobs.enqueue(DELIVER, mail.id)
    return mail


@jobs.task(DELIVER, label=N_("Mail delivery"), attempts=5, time_limit=300)
def deliver(mail_id: int) -> None:
    """Draw the mail's document if it waits for one, then hand the mail to the SMTP server
    (when one is configured) and note that it went."""
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.sent_at is not None:
        return  # removed, or sent by an earlier run
    if mail.document_kind:
        _attach_document(mail)
        db.session.commit()
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return  # kept in the outbox: development reads it there
    message = _message(mail, config["MAIL_FROM"])
    db.session.commit()  # no transaction held open while the SMTP server answers
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail %s to %s not delivered: %s", mail_id, message["To"], exc)
        _note(mail_id, error=str(exc)[:1000])
        if _refused_for_good(exc):
            raise jobs.Failed(str(exc)) from exc
        raise
    _note(mail_id, sent_at=utcnow(), error="")


def _note(mail_id: int, **values) -> None:
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _refused_for_good(exc: Exception) -> bool:
    """The server refused the mail with a permanent (5xx) answer: trying again is useless."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, __ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _message(mail: OutboxMail, sender: str) -> EmailMessage:
    """The mail as sent. Its Message-ID is the outbox row's, the same on every try, so a
    mail system that got a copy before a worker died can tell the second one for what it is."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_addr
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "localhost"
    stamp = f"{mail.created_at:%Y%m%d%H%M%S}" if mail.created_at else "0"
    message["Message-ID"] = f"<outbox-{mail.id}.{stamp}@{domain}>"
    message.set_content(mail.body)
    for attachment in mail.attachments:
        maintype, __, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def _attach_document(mail: OutboxMail) -> None:
    """Draw the document the mail carries for its reader and attach it; a document that
    cannot be drawn leaves the mail without it (its reader's page still shows it)."""
    from . import notify  # notify sends through this module

    try:
        drawn = notify.draw(mail.document_kind, mail.document_id, mail.user_id)
    except SQLAlchemyError:
        raise  # the database's trouble: the job tries again
    except Exception:
        log.exception("%s %s not drawn for mail %s", mail.document_kind, mail.document_id, mail.id)
        drawn = None
    if drawn is not None:
        mail.attachments.append(
            OutboxAttachment(
                filename=drawn.filename[:200], mime_type=drawn.mime_type, content=drawn.content
            )
        )
    mail.document_kind, mail.document_id = None, None


@deliver.describer
def _describe(mail_id: int) -> str:
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None:
        return f"#{mail_id}"
    return f"{mail.to_addr}: {mail.subject}"
