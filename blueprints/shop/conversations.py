"""Storefront conversations on the company's quotes and orders: write to the seller, note
messages read, download their files (blueprints/conversation_pages.py does the work of
both faces). Whoever of the company may see the quote or order reads and writes; a
storefront opened by staff for a person writes nothing (blueprints/acting.py refuses)."""

from blueprints.common import permission_required, reader_required
from blueprints.conversation_pages import ConversationPages, upload_limit

from . import bp

PAGES = ConversationPages("shop")
POSTS = {"shop.quote_message_post", "shop.order_message_post"}


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    upload_limit(endpoint, POSTS)


@bp.route("/quotes/<int:quote_id>/messages", methods=["POST"])
@permission_required("shop.quote")
def quote_message_post(quote_id: int):
    """Write to the seller on one of the company's quotes, with files."""
    return PAGES.post("quote", quote_id)


@bp.route("/orders/<int:order_id>/messages", methods=["POST"])
@reader_required("orders")
def order_message_post(order_id: int):
    """Write to the seller on one of the company's orders, with files."""
    return PAGES.post("order", order_id)


@bp.route("/quotes/<int:quote_id>/messages/read", methods=["POST"])
@permission_required("shop.quote")
def quote_conversation_read(quote_id: int):
    """Note the quote's messages as seen (a page that received one live)."""
    return PAGES.read("quote", quote_id)


@bp.route("/orders/<int:order_id>/messages/read", methods=["POST"])
@reader_required("orders")
def order_conversation_read(order_id: int):
    """Note the order's messages as seen (a page that received one live)."""
    return PAGES.read("order", order_id)


@bp.route("/quotes/<int:quote_id>/attachments/<int:attachment_id>")
@permission_required("shop.quote")
def quote_attachment(quote_id: int, attachment_id: int):
    """A file of one of the company's quotes' conversation, as a download."""
    return PAGES.download("quote", quote_id, attachment_id)


@bp.route("/orders/<int:order_id>/attachments/<int:attachment_id>")
@reader_required("orders")
def order_attachment(order_id: int, attachment_id: int):
    """A file of one of the company's orders' conversation, as a download."""
    return PAGES.download("order", order_id, attachment_id)
