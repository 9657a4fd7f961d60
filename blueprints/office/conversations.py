"""Back-office conversations on quotes and orders: write to the customer, note messages
read, download their files (blueprints/conversation_pages.py does the work of both faces).

Reading follows the record (quotes.view / orders.view, in one's customer scope); writing
takes quotes.edit / orders.edit. The unread counts of the lists are a template global."""

from flask_login import current_user

from blueprints.common import permission_required
from blueprints.conversation_pages import ConversationPages, upload_limit
from core import conversations

from . import bp

PAGES = ConversationPages("office")
POSTS = {"office.quote_message_post", "office.order_message_post"}


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    upload_limit(endpoint, POSTS)


@bp.app_template_global("unread_counts")
def unread_counts(records) -> dict[int, int]:
    """Unread messages from the other side on these quotes or orders, by id (both faces)."""
    return conversations.unread_counts(current_user, records)


@bp.route("/quotes/<int:quote_id>/messages", methods=["POST"])
@permission_required("quotes.edit")
def quote_message_post(quote_id: int):
    """Write to the customer on a quote, with files."""
    return PAGES.post("quote", quote_id)


@bp.route("/orders/<int:order_id>/messages", methods=["POST"])
@permission_required("orders.edit")
def order_message_post(order_id: int):
    """Write to the customer on an order, with files."""
    return PAGES.post("order", order_id)


@bp.route("/quotes/<int:quote_id>/messages/read", methods=["POST"])
@permission_required("quotes.view")
def quote_conversation_read(quote_id: int):
    """Note the quote's messages as seen (a page that received one live)."""
    return PAGES.read("quote", quote_id)


@bp.route("/orders/<int:order_id>/messages/read", methods=["POST"])
@permission_required("orders.view")
def order_conversation_read(order_id: int):
    """Note the order's messages as seen (a page that received one live)."""
    return PAGES.read("order", order_id)


@bp.route("/quotes/<int:quote_id>/attachments/<int:attachment_id>")
@permission_required("quotes.view")
def quote_attachment(quote_id: int, attachment_id: int):
    """A file of the quote's conversation, as a download."""
    return PAGES.download("quote", quote_id, attachment_id)


@bp.route("/orders/<int:order_id>/attachments/<int:attachment_id>")
@permission_required("orders.view")
def order_attachment(order_id: int, attachment_id: int):
    """A file of the order's conversation, as a download."""
    return PAGES.download("order", order_id, attachment_id)
