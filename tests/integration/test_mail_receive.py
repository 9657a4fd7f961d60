"""Replies by mail, end to end: a real SMTP client talks to the receiver
(`flask --app app mail-receive`'s aiosmtpd server, core.mail_receiver) on a free port.

The reply address is taken from a notification mail the portal sent (its Reply-To), the
reply lands in the quote's conversation and is pushed live to a page that shows it; the
quoted history is cut away. Unknown senders and unknown tokens get 550 and nothing is
stored; a contact the quote was mailed to may reply; refused files are noted, not kept.
"""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import conversations, mail_receiver
from core.models import (
    Attachment,
    AuditEntry,
    Company,
    Message,
    OutboxMail,
    Quote,
    User,
)
from core.transaction import committed
from extensions import db
from tests.sockets import drain, received_text, watch

ROOT = Path(__file__).resolve().parents[2]
ACME_DM = "orders@acme.test"
ANNA = "anna.sales@portal.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def receiver(app):
    """The receiver on a free local port, as `flask --app app mail-receive` runs it."""
    port = free_port()
    server = mail_receiver.controller(app, "127.0.0.1", port)
    server.start()
    yield port
    server.stop()


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def acme_quote() -> Quote:
    return db.session.scalar(
        select(Quote)
        .join(Company, Company.id == Quote.company_id)
        .where(Company.slug == "acme", Quote.status == "offered")
        .order_by(Quote.id)
    )


def staff_writes(quote: Quote) -> str:
    """Anna writes on the quote; the Reply-To of the mail Acme's decision-maker gets."""
    committed(
        lambda: conversations.post_message(
            conversations.conversation_of(quote), author=user(ANNA), body="Can you confirm?"
        )
    )
    mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == ACME_DM).order_by(OutboxMail.id.desc())
    )
    assert mail is not None and mail.reply_to.startswith("reply+"), "notification without Reply-To"
    return mail.reply_to


def reply(port: int, to: str, body: str, *, sender="Olivia Grant <orders@acme.test>", files=()):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: New message on quote"
    message.set_content(body)
    for name, maintype, subtype, data in files:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


REPLY = """We take all 500, delivery in May.

On Tue, 2 Feb 2027 at 10:12, Anna Sales <anna.sales@portal.test> wrote:
> Can you confirm?
"""


def count_messages() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Message.id)))


def test_a_reply_appears_live_in_the_open_conversation(ctx, receiver, connect):
    quote = acme_quote()
    address = staff_writes(quote)
    ws = connect(ACME_DM)
    watch(ws, {f"quote-conversation-{quote.id}"}, mode="load")
    drain(ws, 1.0)  # the region as the page loaded it
    reply(receiver, address, REPLY)
    pushed = received_text(ws, 3.0)
    assert f'id="quote-conversation-{quote.id}"' in pushed
    assert "We take all 500, delivery in May." in pushed
    assert "Can you confirm?" in pushed  # Anna's message, still in the region
    db.session.rollback()
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert message.body == "We take all 500, delivery in May."
    assert (message.via, message.side, message.author_id) == ("mail", "customer", user(ACME_DM).id)


def test_an_unknown_sender_is_refused_and_nothing_is_stored(ctx, receiver):
    quote = acme_quote()
    address = staff_writes(quote)
    before = count_messages()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        reply(receiver, address, "Let me in", sender="Mallory <mallory@evil.test>")
    assert refused.value.smtp_code == 550
    assert count_messages() == before
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail.reply_refused"))
    assert entry is not None and entry.actor_email == "mallory@evil.test"


def test_a_person_of_another_company_is_refused(ctx, receiver):
    address = staff_writes(acme_quote())
    before = count_messages()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        reply(receiver, address, "Hello", sender="orders@baltic.test")
    assert refused.value.smtp_code == 550
    assert count_messages() == before


def test_a_bad_token_is_refused_at_the_recipient(ctx, receiver):
    staff_writes(acme_quote())
    before = count_messages()
    for address in ("reply+00000000000000000000000000000000@127.0.0.1", "sales@127.0.0.1"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            reply(receiver, address, "Hello")
        assert [code for code, _ in refused.value.recipients.values()] == [550]
    assert count_messages() == before


def test_a_contact_the_quote_was_mailed_to_may_reply(ctx, receiver, as_user):
    quote = acme_quote()
    response = as_user(ANNA).send(
        "POST",
        f"/office/quotes/{quote.id}/mail",
        data={"name": "Jane Buyer", "email": "jane@acme-robotics.example", "language": "en"},
        htmx=True,
    )
    assert response.status_code == 200
    mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == "jane@acme-robotics.example")
    )
    assert mail.reply_to.startswith("reply+")  # the quote's mail answers to its conversation
    reply(
        receiver,
        mail.reply_to,
        "Thanks, we will decide on Monday.",
        sender="jane@acme-robotics.example",
    )
    db.session.rollback()
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert message.body == "Thanks, we will decide on Monday."
    assert (message.author_id, message.author_name, message.via) == (None, "Jane Buyer", "mail")


def test_files_are_kept_when_accepted_and_noted_when_refused(ctx, receiver):
    address = staff_writes(acme_quote())
    reply(
        receiver,
        address,
        "Drawing attached.",
        files=[
            ("part.pdf", "application", "pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"),
            ("tool.exe", "application", "octet-stream", b"MZ\x90\x00 not a drawing"),
        ],
    )
    db.session.rollback()
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert message.body.startswith("Drawing attached.")
    assert "tool.exe" in message.body  # the refused file is named in the message
    kept = db.session.scalars(select(Attachment).where(Attachment.message_id == message.id)).all()
    assert [a.filename for a in kept] == ["part.pdf"]


def test_a_reply_with_nothing_new_is_refused(ctx, receiver):
    address = staff_writes(acme_quote())
    before = count_messages()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        reply(receiver, address, "> only the quoted text\n")
    assert refused.value.smtp_code == 550
    assert count_messages() == before


def test_the_command_receives_a_reply_and_stops_on_sigterm(app, ctx):
    """`flask --app app mail-receive --port N` as an operator runs it, in its own process."""
    address = staff_writes(acme_quote())
    template, tracker = app.extensions["test_template"]
    tracker.tables.update(template.tables)  # the other process writes where we cannot see
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key",
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "flask", "--app", "app", "mail-receive", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # until the server answers
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.2)
        reply(port, address, "Sent through the command.")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"Receiving replies by mail on 127.0.0.1:{port}" in output and "Stopped." in output
    db.session.rollback()
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert (message.body, message.via) == ("Sent through the command.", "mail")
