"""Matrix rows of conversations on quotes and orders, both faces (merged by
test_authorization_matrix).

The records are the demo's: an Acme quote whose conversation carries a drawing, and an
Acme order with a conversation of its own (Anna's customer, not Marco's). Other
companies' people and Marco get 404 on every route of them; whoever may not read the
area at all gets 403. Writing takes quotes.edit / orders.edit for staff (an empty message
is a 422: allowed, refused for its content). The drawing asked for through the order is a
404 even to the order's readers: a file is reached only through its own record.
"""

from sqlalchemy import select

from core.models import Attachment, Conversation, Message
from tests.integration.matrix_orders import (
    ACME_READERS,
    ORDER_MOVERS_FOR_ACME,
    ORDER_VIEWERS_FOR_ACME,
)
from tests.integration.matrix_quotes import (
    ACME_QUOTE_EDITORS,
    ACME_QUOTE_VIEWERS,
    ACME_QUOTERS,
    OTHER_QUOTERS,
)
from tests.matrix_base import CART_HOLDERS, MARCO, office, shop

NOT_ACME = tuple(e for e in CART_HOLDERS if e not in ACME_READERS)


def ids(session) -> dict:
    """The demo's conversations (Acme's quote and order) and the quote's drawing."""
    quote_talk = session.scalar(
        select(Conversation).where(Conversation.quote_id.is_not(None)).order_by(Conversation.id)
    )
    order_talk = session.scalar(
        select(Conversation).where(Conversation.order_id.is_not(None)).order_by(Conversation.id)
    )
    drawing = session.scalar(
        select(Attachment.id)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.conversation_id == quote_talk.id)
    )
    return {
        "talk_quote": quote_talk.quote_id,
        "talk_order": order_talk.order_id,
        "talk_file": drawing,
    }


QUOTE = "/{face}/quotes/{{talk_quote}}"
ORDER = "/{face}/orders/{{talk_order}}"

ROWS = {
    # the back office
    ("office.quote_message_post", "POST"): (
        QUOTE.format(face="office") + "/messages",
        office(ACME_QUOTE_EDITORS, not_found=(MARCO,), ok=422),
    ),
    ("office.quote_conversation_read", "POST"): (
        QUOTE.format(face="office") + "/messages/read",
        office(ACME_QUOTE_VIEWERS, not_found=(MARCO,), ok=204),
    ),
    ("office.quote_attachment", "GET"): (
        QUOTE.format(face="office") + "/attachments/{talk_file}",
        office(ACME_QUOTE_VIEWERS, not_found=(MARCO,), ok=200),
    ),
    ("office.order_message_post", "POST"): (
        ORDER.format(face="office") + "/messages",
        office(ORDER_MOVERS_FOR_ACME, not_found=(MARCO,), ok=422),
    ),
    ("office.order_conversation_read", "POST"): (
        ORDER.format(face="office") + "/messages/read",
        office(ORDER_VIEWERS_FOR_ACME, not_found=(MARCO,), ok=204),
    ),
    ("office.order_attachment", "GET"): (
        ORDER.format(face="office") + "/attachments/{talk_file}",
        office(ORDER_VIEWERS_FOR_ACME, not_found=(MARCO,), ok=404),
    ),
    # the storefront
    ("shop.quote_message_post", "POST"): (
        QUOTE.format(face="shop") + "/messages",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS, ok=422),
    ),
    ("shop.quote_conversation_read", "POST"): (
        QUOTE.format(face="shop") + "/messages/read",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS, ok=204),
    ),
    ("shop.quote_attachment", "GET"): (
        QUOTE.format(face="shop") + "/attachments/{talk_file}",
        shop(ACME_QUOTERS, not_found=OTHER_QUOTERS, ok=200),
    ),
    ("shop.order_message_post", "POST"): (
        ORDER.format(face="shop") + "/messages",
        shop(ACME_READERS, not_found=NOT_ACME, ok=422),
    ),
    ("shop.order_conversation_read", "POST"): (
        ORDER.format(face="shop") + "/messages/read",
        shop(ACME_READERS, not_found=NOT_ACME, ok=204),
    ),
    ("shop.order_attachment", "GET"): (
        ORDER.format(face="shop") + "/attachments/{talk_file}",
        shop(ACME_READERS, not_found=NOT_ACME, ok=404),
    ),
}
