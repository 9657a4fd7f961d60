"""Outgoing mail: every message is kept in the outbox; SMTP delivers it after commit.

Without MAIL_SERVER the outbox is where development reads its mail
(`flask --app app outbox`). Reads the portal's configuration from current_app.
Attachments (a document's PDF) are kept with their mail in the outbox and sent with it.
"""

import logging
import smtplib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import update

from extensions import db

from . import events
from .models import OutboxAttachment, OutboxMail, utcnow

log = logging.getLogger("portal.mail")


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
    background: bool = False,
    attachments: Sequence[Attachment] = (),
) -> OutboxMail:
    """Queue a message; when SMTP is configured it is delivered once the change commits.

    `background`: delivered on a thread of its own, so that the request's answer takes
    no longer for it (a password reset must not tell by its timing that an account exists).
    A lazy subject or body (core.i18n) is rendered here, in the language of the moment:
    core.notify sends each recipient's copy inside their own.
    """
    subject, body = str(subject), str(body)
    attachments = tuple(attachments)
    mail = OutboxMail(to_addr=to, subject=subject[:200], body=body)
    mail.attachments = [
        OutboxAttachment(filename=a.filename[:200], mime_type=a.mime_type, content=a.content)
        for a in attachments
    ]
    db.session.add(mail)
    db.session.flush()
    config = current_app.config
    if config.get("MAIL_SERVER"):
        settings = (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_FROM"])
        app = current_app._get_current_object()
        mail_id = mail.id

        def deliver_after_commit():
            with app.app_context():
                deliver(mail_id, to, subject, body, *settings, attachments=attachments)

        if background:
            events.after_commit(
                db.session,
                lambda: threading.Thread(
                    target=deliver_after_commit, name="mail", daemon=True
                ).start(),
            )
        else:
            events.after_commit(db.session, deliver_after_commit)
    return mail


def deliver(
    mail_id: int,
    to: str,
    subject: str,
    body: str,
    server: str,
    port: int,
    sender: str,
    *,
    attachments: Sequence[Attachment] = (),
):
    """Hand one message to the SMTP server and note the outcome on its outbox row."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    try:
        with smtplib.SMTP(server, port, timeout=10) as smtp:
            smtp.send_message(message)
        values = {"sent_at": utcnow(), "error": ""}
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail %s to %s not delivered: %s", mail_id, to, exc)
        values = {"error": str(exc)[:1000]}
    with db.engine.begin() as conn:
        conn.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(**values))
