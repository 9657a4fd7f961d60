"""Live regions of conversations: the messages on a quote's or an order's page, both faces.

- `quote-conversation-<quote id>` and `order-conversation-<order id>`: the messages with
  their files, rendered once per audience (core.access: whoever may see the record). The
  renderer loads the records through the viewer's own scope and asks the policy, so a
  record outside it renders as nothing. Keyed by the record, not the conversation: a page
  watches it before the first message makes the conversation.

The form to write stays outside the region: it holds one person's CSRF token and typing.
A new message also signals the lists of both faces, whose unread badges change.
"""

import re

from flask import render_template, url_for
from flask_babel import gettext as _

from core import access, conversations, orders, quotes
from core.events import Event
from core.models import Conversation, Order, Quote
from core.photos import size_label
from extensions import db

from .orders import face_of
from .registry import RegionKind, affects, register, rendering_as

MESSAGES = "conversations/_messages.html"
PANEL = "conversations/_panel.html"
FORM = "conversations/_form.html"
ACCEPT = ".pdf,.dxf,.step,.stp,.png,.jpg,.jpeg,.zip"


def kind_of(record) -> str:
    """ "quote" or "order": the record's kind, as its endpoints and region ids name it."""
    if isinstance(record, Quote):
        return "quote"
    if isinstance(record, Order):
        return "order"
    raise TypeError(type(record).__name__)


def region_id(record) -> str:
    return f"{kind_of(record)}-conversation-{record.id}"


def probe(record) -> Conversation:
    """The record's conversation, or an unsaved stand-in to ask the policy about (reading a
    page never makes one)."""
    found = conversations.find(record)
    if found is not None:
        return found
    kind = kind_of(record)
    return Conversation(
        company_id=record.company_id,
        quote_id=record.id if kind == "quote" else None,
        order_id=record.id if kind == "order" else None,
    )


def messages_context(record, user, *, pushed: bool = False, unread_after: int | None = None):
    """What the messages region shows: the same for a whole audience (unless `unread_after`,
    the page's own first render, marks what is new to its reader)."""
    face = face_of(user)
    kind = kind_of(record)
    keys = {f"{kind}_id": record.id}

    def attachment_url(attachment) -> str:
        return url_for(f"{face}.{kind}_attachment", attachment_id=attachment.id, **keys)

    return {
        "talk": {
            "face": face,
            "kind": kind,
            "record": record,
            "region": region_id(record),
            "messages": conversations.messages(conversations.find(record)),
            "attachment_url": attachment_url,
            "read_url": url_for(f"{face}.{kind}_conversation_read", **keys),
            "pushed": pushed,
            "unread_after": unread_after,
            "own_side": conversations.side_of(user),
            "side_label": side_label,
            "size_label": size_label,
        }
    }


def panel_context(record, user, *, body: str = "", error: str = "", mark: bool = True) -> dict:
    """The page's conversation panel: the messages region and, for who may write, the form.

    With `mark`, the page notes what its reader has now seen (the unread markers)."""
    conversation = probe(record)
    unread_after = None
    if mark and conversation.id is not None and access.assumption(user) is None:
        unread_after = conversations.read_position(user, conversation)
        conversations.mark_read(user, conversation)
    context = messages_context(record, user, unread_after=unread_after)
    kind = kind_of(record)
    context["talk"] |= {
        "may_post": access.may_post(user, conversation),
        "post_url": url_for(f"{face_of(user)}.{kind}_message_post", **{f"{kind}_id": record.id}),
        "body": body,
        "error": error,
        "accept": ACCEPT,
        "max_files": conversations.max_files(),
        "max_size": conversations.max_size_label(),
    }
    return context


def _render(kind: str):
    def render(connection, record_ids: list[int]) -> dict:
        with rendering_as(connection) as user:
            area = f"{kind}s"
            if user is None or not access.may_read(user, area):
                return {}
            if kind == "quote":
                found = quotes.load_many(user, record_ids)
            else:
                found = db.session.scalars(
                    orders.visible_orders(user).where(Order.id.in_(record_ids))
                )
            rendered = {}
            for record in found:
                if access.may_read_conversation(user, probe(record)):
                    rendered[record.id] = render_template(
                        MESSAGES, **messages_context(record, user, pushed=True)
                    )
            return rendered

    return render


for _kind in ("quote", "order"):
    register(
        RegionKind(
            f"{_kind}-conversation", re.compile(rf"{_kind}-conversation-(\d+)"), _render(_kind)
        )
    )


@affects(conversations.TOPIC)
def _conversation_regions(event: Event) -> set[str]:
    data = dict(event.data)
    if data.get("quote"):
        return {f"quote-conversation-{data['quote']}", "quotes-table", "shop-quotes"}
    if data.get("order"):
        return {
            f"order-conversation-{data['order']}",
            "orders-table",
            f"shop-orders-{data['company']}",
        }
    return set()


def side_label(message, face: str) -> str:
    """Who a message is from, as the reader's face says it."""
    if message.side == "staff":
        return _("Seller") if face == "shop" else _("Staff")
    return _("Customer")
