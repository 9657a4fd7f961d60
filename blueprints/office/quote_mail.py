"""The back office's "Send by e-mail" panel of a quote (office/quotes/_mail.html): its
context, shared by the quote's page (office/quotes.py) and the panel's own moves
(office/quote_links.py)."""

from flask_login import current_user

from blueprints.forms import EmptyForm
from blueprints.quote_links_forms import QuoteMailForm
from core import access, quote_links
from core.models import Quote
from core.models.base import utcnow


def mail_context(quote: Quote, *, form=None, notice: str = "", error: str = "") -> dict:
    """The panel: the form (while the quote waits for the customer) and the links sent."""
    may = access.may_mail_quote(current_user, quote)
    if form is None:
        form = QuoteMailForm(formdata=None, language=quote_links.company_language(quote))
    now = utcnow()
    return {
        "quote": quote,
        "may_mail": may,
        "can_send": may and quote_links.may_send(quote),
        "mail_form": form,
        "mail_button_form": EmptyForm(formdata=None),
        "mail_links": [(link, link.status_at(now)) for link in quote_links.links_of(quote)]
        if may
        else [],
        "link_labels": quote_links.STATUS_LABELS,
        "link_days": quote_links.days(),
        "mail_notice": notice,
        "mail_error": error,
    }
