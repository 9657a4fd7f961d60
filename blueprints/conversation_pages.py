"""What the conversation of a quote or an order does alike in both faces: post a message,
note it read, and hand out its files.

Every route loads the record through the person's own scope first (another company's or
an unassigned customer's record is a 404, its files too), then asks the policy
(core.access.may_post / may_read_conversation). A message is written with htmx: the form
sends text and files, a refusal comes back into the form's message slot (422) while what
was typed and chosen stays in place; a success swaps in an empty form and, out of band,
the messages. Without JavaScript, a success goes back to the page and a refusal answers
a small page holding the form with the text as typed.
"""

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import TextAreaField
from wtforms.validators import Length

from blueprints.boundary import attempt
from blueprints.common import is_htmx, or_404
from blueprints.forms import strip
from blueprints.fragments.conversations import FORM, MESSAGES, panel_context, probe
from core import access, attachments, conversations, orders, quotes
from core.attachments import AttachmentRefused
from core.models import Quote

FORM_OVERHEAD = 256 * 1024  # the text, the token and the multipart boundaries


class MessageForm(FlaskForm):
    """A message: its text (files come as `files`, checked by core.attachments)."""

    body = TextAreaField(
        _l("Message"),
        filters=[strip],
        validators=[
            Length(
                max=conversations.MAX_BODY,
                message=_l("A message holds at most %(count)s characters.", count="10,000"),
            )
        ],
    )


def upload_limit(endpoint: str, post_endpoints: set[str]) -> None:
    """A message may carry larger files than the portal's other forms: allow them, and
    refuse a larger request with a clear message before the CSRF check reads the body."""
    if endpoint not in post_endpoints:
        return
    config = current_app.config
    allowed = config["ATTACHMENT_MAX_BYTES"] * conversations.max_files() + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > allowed:
        error = RequestEntityTooLarge(
            _(
                "The files are too large together: each may be at most %(size)s, and a "
                "message carries at most %(count)s. Nothing was sent.",
                size=conversations.max_size_label(),
                count=conversations.max_files(),
            )
        )
        error.keeps_description = True
        raise error
    request.max_content_length = allowed


class ConversationPages:
    """The conversation routes of one face ("office" or "shop")."""

    def __init__(self, face: str):
        self.face = face

    def load(self, kind: str, record_id: int):
        """The quote or order if this person may see it; any other is a 404."""
        if kind == "quote":
            return quotes.load(current_user, record_id)
        return or_404(orders.load_visible(current_user, record_id))

    def page_url(self, record) -> str:
        kind = "quote" if isinstance(record, Quote) else "order"
        return url_for(f"{self.face}.{kind}", **{f"{kind}_id": record.id}) + "#conversation"

    def post(self, kind: str, record_id: int):
        """Post a message with its files; a refusal keeps what was typed."""
        record = self.load(kind, record_id)
        if not access.may_post(current_user, probe(record)):
            abort(403)
        form = MessageForm()
        body = form.body.data or ""
        if not form.validate_on_submit():
            errors = [e for field_errors in form.errors.values() for e in field_errors]
            return self.refused(record, body, str(errors[0]) if errors else "")
        uploads = [f for f in request.files.getlist("files") if f and f.filename]
        if len(uploads) > conversations.max_files():
            return self.refused(
                record,
                body,
                _("Attach at most %(count)s files to a message.", count=conversations.max_files()),
            )
        try:
            checked = [attachments.check_upload(upload) for upload in uploads]
        except AttachmentRefused as exc:
            return self.refused(record, body, str(exc))
        outcome = attempt(
            lambda: conversations.post_message(
                conversations.conversation_of(record),
                author=current_user,
                body=body,
                attachments=checked,
            )
        )
        if outcome.refused:
            return self.refused(record, body, outcome.message)
        if not is_htmx():
            return redirect(self.page_url(record))
        context = panel_context(record, current_user, mark=False)
        html = render_template(FORM, oob=True, **context)
        html += render_template(MESSAGES, oob=True, **context)
        return html

    def refused(self, record, body: str, error: str):
        """The reason, where the form shows it (htmx), or a page with the form as typed."""
        if is_htmx():
            return render_template("conversations/_error.html", error=error), 422
        context = panel_context(record, current_user, body=body, error=error, mark=False)
        page = render_template("conversations/refused.html", back=self.page_url(record), **context)
        return page, 422

    def read(self, kind: str, record_id: int):
        """Note that the person has seen the messages shown (a page that got one live)."""
        record = self.load(kind, record_id)
        conversation = conversations.find(record)
        if conversation is not None and access.may_read_conversation(current_user, conversation):
            conversations.mark_read(current_user, conversation)
        return "", 204

    def download(self, kind: str, record_id: int, attachment_id: int):
        """A file of the conversation, as a download; a 404 to whoever may not see it."""
        record = self.load(kind, record_id)
        found = or_404(conversations.load_attachment(current_user, record, attachment_id))
        return attachments.download_response(found)
