"""Forms of the groups module: a group's policy and the bulk actions on its price list."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    StringField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length

from blueprints.forms import RefusalMixin, WholeField, strip
from core import groups, i18n
from core.groups import GroupDetails
from core.models import LEVELS

from .products_forms import BreaksField


def _threshold(label, required: str) -> WholeField:
    return WholeField(
        label,
        minimum=0,
        maximum=groups.MAX_THRESHOLD,
        message=_l(
            "A threshold is a whole number from 0 to %(maximum)s.",
            maximum=i18n.number(groups.MAX_THRESHOLD),
        ),
        validators=[InputRequired(required)],
    )


class GroupForm(RefusalMixin, FlaskForm):
    """A customer group's policy; core.groups checks every rule again."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the group a name.")),
            Length(
                max=groups.NAME_LENGTH,
                message=_l(
                    "A group name has at most %(count)s characters.", count=groups.NAME_LENGTH
                ),
            ),
        ],
    )
    description = StringField(
        _l("Description"),
        filters=[strip],
        validators=[
            Length(
                max=groups.DESCRIPTION_LENGTH,
                message=_l(
                    "A description has at most %(count)s characters.",
                    count=groups.DESCRIPTION_LENGTH,
                ),
            )
        ],
    )
    stock_display = RadioField(
        _l("Stock shown to its customers"),
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuples and warnings are errors.
        choices=[SelectChoice(key, label) for key, label in groups.STOCK_DISPLAYS.items()],
        default=LEVELS,
        invalid_choice_message=_l("Choose how the group sees stock."),
    )
    few_from = _threshold(_l("Few from"), _l("Enter where “Few” starts."))
    many_from = _threshold(_l("Many from"), _l("Enter where “Many” starts."))
    shows_promotions = BooleanField(_l("Sees promotions, with their discount"))
    quotes_allowed = BooleanField(_l("May request quotations and negotiate"))
    backorders_allowed = BooleanField(
        _l("Accepts back-orders: what is ordered beyond stock waits for goods in")
    )

    def validate_many_from(self, field):
        few = self.few_from.data
        if isinstance(few, int) and isinstance(field.data, int) and field.data <= few:
            raise ValidationError(
                _("“Many” must start above “Few” (which starts at %(few)s).", few=few)
            )

    def details(self) -> GroupDetails:
        return GroupDetails(
            name=self.name.data or "",
            description=self.description.data or "",
            stock_display=self.stock_display.data or "",
            few_from=self.few_from.data,
            many_from=self.many_from.data,
            quotes_allowed=bool(self.quotes_allowed.data),
            shows_promotions=bool(self.shows_promotions.data),
            backorders_allowed=bool(self.backorders_allowed.data),
        )


class DiscountForm(RefusalMixin, FlaskForm):
    """Bulk: group price = base price less a percentage, for every product of the filter."""

    percent = StringField(
        _l("Base price less (%)"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the discount in percent.")),
            Length(max=10, message=_l("Enter the discount as a number, such as 12.5.")),
        ],
    )

    value = None

    def validate_percent(self, field):
        try:
            self.value = groups.parse_percent(field.data)
        except groups.GroupRefused as exc:
            raise ValidationError(str(exc)) from exc


class BreaksForm(RefusalMixin, FlaskForm):
    """A group's quantity breaks of one product (core.groups.set_breaks checks them again)."""

    breaks = BreaksField(
        _l("Quantity breaks"),
        description=_l(
            "The group's unit price from a quantity on, such as 10 at 5.00: they replace "
            "the base list's breaks for this group, its promotions applied on top."
        ),
    )


class HideProductForm(RefusalMixin, FlaskForm):
    """A product to hide from a group, by SKU (core.visibility checks that it exists)."""

    sku = StringField(
        _l("SKU"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the SKU of the product to hide.")),
            Length(max=64, message=_l("A SKU has at most %(count)s characters.", count=64)),
        ],
    )
