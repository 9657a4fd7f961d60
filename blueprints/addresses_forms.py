"""The delivery address form of both faces (core.addresses checks every rule again)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from blueprints.forms import RefusalMixin, strip
from core import addresses, countries
from core.addresses import AddressDetails


def _text(label: str, length: int, missing: str, too_long: str, **kwargs) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[InputRequired(missing), Length(max=length, message=too_long)],
        **kwargs,
    )


class AddressForm(RefusalMixin, FlaskForm):
    """One delivery address: who or which site it is for, street, postcode, city, country."""

    name = _text(
        _l("Name"),
        addresses.NAME_LENGTH,
        _l("Give the address a name, such as the site or the person it is for."),
        _l("Name has at most %(count)s characters.", count=addresses.NAME_LENGTH),
        description=_l("What your colleagues choose at checkout, e.g. “Main warehouse”."),
    )
    street = TextAreaField(
        _l("Street and number"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the street and number.")),
            Length(
                max=addresses.STREET_LENGTH,
                message=_l(
                    "The street has at most %(count)s characters.",
                    count=addresses.STREET_LENGTH,
                ),
            ),
        ],
        description=_l("Up to three lines: building, floor, loading dock."),
    )
    postcode = _text(
        _l("Postcode"),
        addresses.POSTCODE_LENGTH,
        _l("Enter the postcode."),
        _l("Postcode has at most %(count)s characters.", count=addresses.POSTCODE_LENGTH),
    )
    city = _text(
        _l("City"),
        addresses.CITY_LENGTH,
        _l("Enter the city."),
        _l("City has at most %(count)s characters.", count=addresses.CITY_LENGTH),
    )
    country = SelectField(
        _l("Country"),
        validators=[InputRequired(_l("Choose the country from the list."))],
        invalid_choice_message=_l("Choose the country from the list."),
    )
    is_default = BooleanField(_l("The default delivery address"), default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _("Choose a country…"))] + [
            SelectChoice(code, name) for code, name in countries.choices()
        ]

    def details(self) -> AddressDetails:
        return AddressDetails(
            name=self.name.data or "",
            street=self.street.data or "",
            postcode=self.postcode.data or "",
            city=self.city.data or "",
            country=self.country.data or "",
            is_default=bool(self.is_default.data),
        )
