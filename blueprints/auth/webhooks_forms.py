"""The form of a webhook endpoint (core.webhooks checks every part of it again)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from blueprints.forms import RefusalMixin, strip
from core import webhooks

TYPES_MESSAGE = _l("Choose events from the list.")


class EndpointForm(RefusalMixin, FlaskForm):
    """Where to send (an https:// address), what for (a note), and which events."""

    url = StringField(
        _l("Address (URL)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the address the events are sent to.")),
            Length(
                max=webhooks.URL_LENGTH,
                message=_l("An address has at most %(count)s characters.", count=500),
            ),
        ],
        description=_l("An https:// address of your system that accepts POST requests."),
    )
    description = StringField(
        _l("Description"),
        filters=[strip],
        validators=[
            Length(
                max=webhooks.DESCRIPTION_LENGTH,
                message=_l("A description has at most %(count)s characters.", count=200),
            )
        ],
        description=_l("Which system receives them, such as “ERP order intake”."),
    )
    event_types = SelectMultipleField(
        _l("Events to send"),
        invalid_choice_message=TYPES_MESSAGE,
        validators=[DataRequired(_l("Choose at least one event to send."))],
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.event_types.choices = [
            SelectChoice(t.key, str(t.label)) for t in webhooks.types_for(owner)
        ]
