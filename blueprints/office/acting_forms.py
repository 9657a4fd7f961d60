"""Forms of acting for a customer: whom the storefront opens as, and where it begins."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from core import numbers

# Where acting begins (core.acting.STARTS), as the form offers it.
STARTS = (
    SelectChoice("catalog", _l("Catalogue")),
    SelectChoice("cart", _l("Cart")),
    SelectChoice("quick_order", _l("Quick order")),
    SelectChoice("quote", _l("Request for quotation")),
)
NOT_AMONG = _l("Choose one of the company's people from the list.")


class ViewAsForm(FlaskForm):
    """View the storefront as one of the company's people (those the view offers)."""

    person = SelectField(
        _l("Person"),
        coerce=numbers.id_choice,
        validators=[InputRequired(message=NOT_AMONG)],
        invalid_value_message=NOT_AMONG,
        invalid_choice_message=NOT_AMONG,
    )

    def __init__(self, people=(), **kwargs):
        super().__init__(**kwargs)
        self.person.choices = [SelectChoice(p.id, f"{p.name} ({p.email})") for p in people]


class ActForm(ViewAsForm):
    """Act for one of the company's people, starting on one storefront page."""

    start = SelectField(
        _l("Start with"),
        choices=list(STARTS),
        default="catalog",
        invalid_choice_message=_l("Choose where the storefront opens from the list."),
    )
