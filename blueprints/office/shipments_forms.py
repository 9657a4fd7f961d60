"""Forms of shipments and carriers: core.shipments and core.carriers check every rule."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, URLField
from wtforms.validators import Length

from blueprints.forms import RefusalMixin, strip
from core import carriers, numbers, shipments
from core.models import Carrier


def _choice_id(value):
    # "" is "no carrier"; anything not a record's number becomes -1, which no choice has,
    # so the field's own message refuses it.
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    found = numbers.record_id(value)
    return -1 if found is None else found


def carrier_choices(active: list[Carrier], current: Carrier | None = None) -> list[SelectChoice]:
    """No carrier, the active carriers, and the shipment's own carrier if it was deactivated."""
    listed = list(active)
    if current is not None and current not in listed:
        listed.append(current)
    return [SelectChoice("", _("No carrier (collected, own delivery)"))] + [
        SelectChoice(c.id, c.name if c.is_active else _("%(name)s (inactive)", name=c.name))
        for c in listed
    ]


def _tracking_field():
    return StringField(
        _l("Tracking number"),
        filters=[strip],
        validators=[
            Length(
                max=shipments.TRACKING_LENGTH,
                message=_l(
                    "A tracking number has at most %(count)s characters.",
                    count=shipments.TRACKING_LENGTH,
                ),
            )
        ],
    )


class TrackingForm(RefusalMixin, FlaskForm):
    """A shipment's carrier and tracking number (at creation, or corrected later)."""

    carrier = SelectField(
        _l("Carrier"),
        coerce=_choice_id,
        invalid_choice_message=_l("Choose one of the active carriers."),
    )
    tracking_number = _tracking_field()

    def __init__(self, *args, choices: list[SelectChoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.carrier.choices = choices


class ShipForm(FlaskForm):
    """Marking a shipment shipped, with its tracking number if it has none yet."""

    tracking_number = _tracking_field()


class CarrierForm(RefusalMixin, FlaskForm):
    """A carrier: its name, its tracking link template, and whether new shipments use it."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            Length(
                max=carriers.NAME_LENGTH,
                message=_l(
                    "A carrier's name has at most %(count)s characters.",
                    count=carriers.NAME_LENGTH,
                ),
            )
        ],
    )
    tracking_url = URLField(
        _l("Tracking link"),
        filters=[strip],
        validators=[
            Length(
                max=carriers.URL_LENGTH,
                message=_l(
                    "A tracking link has at most %(count)s characters.", count=carriers.URL_LENGTH
                ),
            )
        ],
        description=_l(
            "An https address with {tracking} where the tracking number goes, e.g. "
            "https://www.ups.com/track?tracknum={tracking}. Leave it empty for a carrier "
            "without tracking (a freight forwarder)."
        ),
    )
    is_active = BooleanField(_l("Active: new shipments may use it"), default=True)

    def details(self) -> carriers.CarrierDetails:
        return carriers.CarrierDetails(
            name=self.name.data or "",
            tracking_url=self.tracking_url.data or "",
            is_active=bool(self.is_active.data),
        )
