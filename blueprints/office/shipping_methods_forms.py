"""The shipping method form (core.shipping_methods reads the numbers and checks every rule)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

from blueprints.forms import RefusalMixin, strip
from core import numbers, shipping_methods
from core.models import CustomerGroup
from core.shipping_methods import MethodDetails

NUMBER_LENGTH = 40  # no number we accept is longer (core.numbers.MAX_CHARS)
GROUPS_MESSAGE = _l("Choose customer groups from the list.")


class MethodForm(RefusalMixin, FlaskForm):
    """A shipping method: name, price, free above, lead time, active, groups."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the shipping method a name, such as “Parcel”.")),
            Length(
                max=shipping_methods.NAME_LENGTH,
                message=_l(
                    "A name has at most %(count)s characters.", count=shipping_methods.NAME_LENGTH
                ),
            ),
        ],
    )
    price = StringField(
        _l("Price (EUR, net)"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the price, such as 6.90 (0 for free shipping).")),
            Length(max=NUMBER_LENGTH, message=_l("Enter the price as a number, such as 6.90.")),
        ],
    )
    free_above = StringField(
        _l("Free from an order value of (EUR, net)"),
        filters=[strip],
        validators=[
            Length(max=NUMBER_LENGTH, message=_l("Enter the value as a number, such as 250."))
        ],
        description=_l("Orders whose goods reach this value ship free. Empty: never free."),
    )
    lead_days = StringField(
        _l("Lead time (working days)"),
        filters=[strip],
        default="1",
        validators=[
            InputRequired(_l("Enter the lead time in working days, such as 2.")),
            Length(max=NUMBER_LENGTH, message=_l("Enter the lead time as a whole number.")),
        ],
        description=_l(
            "Monday to Friday. A customer may ask for delivery no earlier than "
            "today plus this many working days."
        ),
    )
    is_active = BooleanField(_l("Offered at checkout"), default=True)
    groups = SelectMultipleField(
        _l("Customer groups that may use it"),
        coerce=numbers.id_choice,
        invalid_value_message=GROUPS_MESSAGE,
        invalid_choice_message=GROUPS_MESSAGE,
    )

    def __init__(self, *args, groups: list[CustomerGroup], **kwargs):
        super().__init__(*args, **kwargs)
        self.groups.choices = [SelectChoice(g.id, g.name) for g in groups]

    def details(self) -> MethodDetails:
        return MethodDetails(
            name=self.name.data or "",
            price=self.price.data or "",
            free_above=self.free_above.data or "",
            lead_days=self.lead_days.data or "",
            is_active=bool(self.is_active.data),
            group_ids=tuple(self.groups.data or ()),
        )
