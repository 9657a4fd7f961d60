"""Forms of quotes mailed to a contact: staff send and revoke; the contact decides or writes.

core.quote_links checks the contact's name and address again; the forms keep what was
typed when something is wrong.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from blueprints.forms import RefusalMixin, strip
from core import i18n, quote_links, quotes


class QuoteMailForm(RefusalMixin, FlaskForm):
    """Who receives the quote (a person without an account), in which language, and a note."""

    name = StringField(
        _l("Contact's name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the contact's name.")),
            Length(
                max=quote_links.MAX_NAME,
                message=_l("A name has at most %(count)s characters.", count=quote_links.MAX_NAME),
            ),
        ],
    )
    email = EmailField(
        _l("Contact's e-mail address"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give one valid e-mail address, such as name@example.com.")),
            Length(
                max=quote_links.MAX_EMAIL,
                message=_l("Give one valid e-mail address, such as name@example.com."),
            ),
        ],
    )
    language = SelectField(
        _l("Language of the mail and the page"),
        choices=[SelectChoice(code, name) for code, name in i18n.LANGUAGES.items()],
        validate_choice=True,
    )
    message = TextAreaField(
        _l("Message (optional)"),
        filters=[strip],
        validators=[
            Length(
                max=quote_links.MAX_MESSAGE,
                message=_l(
                    "A message has at most %(count)s characters.", count=quote_links.MAX_MESSAGE
                ),
            )
        ],
    )


class LinkDecisionForm(FlaskForm):
    """Accept or reject through the link: the round the contact read, and a note (a
    rejection's reason)."""

    seen = HiddenField()
    note = TextAreaField(
        _l("Reason or note (optional)"),
        filters=[strip],
        validators=[
            Length(
                max=quotes.MAX_NOTE,
                message=_l("A note has at most %(count)s characters.", count=quotes.MAX_NOTE),
            )
        ],
    )

    def seen_round(self) -> int | None:
        raw = (self.seen.data or "").strip()
        return int(raw) if raw.isdigit() and len(raw) < 12 else None


class LinkReplyForm(FlaskForm):
    """A message from the contact into the quote's conversation."""

    body = TextAreaField(
        _l("Your message"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write a message.")),
            Length(
                max=10000, message=_l("A message has at most %(count)s characters.", count=10000)
            ),
        ],
    )
