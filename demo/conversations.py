"""A short conversation on one of Acme Robotics' quotes and one of its orders, between its
people and their sales rep, Anna; the quote's carries a drawing (a small PDF, stored under
UPLOAD_DIR like any attachment). Rows are written as they stand, as the rest of the demo's
history is: no mail goes out and nothing is audited for them."""

import secrets
from datetime import datetime, timedelta

from fpdf import FPDF
from sqlalchemy import select

from core import attachments
from core.models import Company, Conversation, Message, Order, Quote, User
from extensions import db


def _drawing() -> bytes:
    """A one-page PDF with a panel's outline and its name: a real file a viewer opens."""
    pdf = FPDF(orientation="landscape", unit="mm", format=(148, 210))
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Panel drawing - 120 x 80 mm, 4 x M3")
    pdf.rect(40, 40, 120, 80)
    for x, y in ((46, 46), (154, 46), (46, 114), (154, 114)):
        pdf.circle(x=x, y=y, radius=1.6)
    return bytes(pdf.output())


def _conversation(record, token: str, created: datetime) -> Conversation:
    conversation = Conversation(
        company_id=record.company_id,
        quote_id=record.id if isinstance(record, Quote) else None,
        order_id=record.id if isinstance(record, Order) else None,
        reply_token=token,
        created_at=created,
    )
    db.session.add(conversation)
    db.session.flush()
    return conversation


def _message(conversation, author: User, side: str, body: str, at: datetime) -> Message:
    message = Message(
        conversation_id=conversation.id,
        author_id=author.id,
        author_name=author.name,
        author_email=author.email,
        side=side,
        via="portal",
        body=body,
        created_at=at,
    )
    db.session.add(message)
    db.session.flush()
    return message


def build_conversations(now: datetime, companies: dict[str, Company], people: dict[str, User]):
    acme = companies["acme"]
    db.session.flush()
    quote = db.session.scalar(
        select(Quote).where(Quote.company_id == acme.id).order_by(Quote.id.desc())
    )
    order = db.session.scalar(
        select(Order).where(Order.company_id == acme.id).order_by(Order.id.desc())
    )
    requester, buyer = people["request@acme.test"], people["orders@acme.test"]
    anna = people["anna.sales@portal.test"]
    if quote is not None:
        start = now - timedelta(days=2)
        talk = _conversation(quote, secrets.token_hex(16), start)
        asked = _message(
            talk,
            requester,
            "customer",
            "Could you also price 2,000 pieces, delivered in two batches? "
            "The drawing of the panel they go on is attached.",
            start,
        )
        checked = attachments.CheckedFile("panel-drawing.pdf", attachments.PDF, _drawing())
        drawing = attachments.store(checked, company_id=acme.id, uploaded_by=requester)
        drawing.message_id = asked.id
        drawing.created_at = start
        _message(
            talk,
            anna,
            "staff",
            "Thank you, we can: I will add a second offer for 2,000 pieces in two batches "
            "by tomorrow.",
            start + timedelta(hours=3),
        )
    if order is not None:
        start = now - timedelta(days=1)
        talk = _conversation(order, secrets.token_hex(16), start)
        _message(
            talk,
            buyer,
            "customer",
            "Please deliver to gate 3: our loading dock closes at 16:00.",
            start,
        )
        _message(
            talk,
            anna,
            "staff",
            "Noted: the carrier has the instruction.",
            start + timedelta(hours=1),
        )
