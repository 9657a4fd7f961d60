"""The delivery address form of both faces (core.addresses checks every rule again)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from blueprints.forms import RefusalMixin, strip
from core import addresses, countries
from core.addresses import AddressDetails


def _text(label: str, length: int, missing: str, **kwargs) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            InputRequired(missing),
            Length(max=length, message=f"{label} has at most {length} characters."),
        ],
        **kwargs,
    )


class AddressForm(RefusalMixin, FlaskForm):
    """One delivery address: who or which site it is for, street, postcode, city, country."""

    name = _text(
        "Name",
        addresses.NAME_LENGTH,
        "Give the address a name, such as the site or the person it is for.",
        description="What your colleagues choose at checkout, e.g. “Main warehouse”.",
    )
    street = TextAreaField(
        "Street and number",
        filters=[strip],
        validators=[
            InputRequired("Enter the street and number."),
            Length(
                max=addresses.STREET_LENGTH,
                message=f"The street has at most {addresses.STREET_LENGTH} characters.",
            ),
        ],
        description="Up to three lines: building, floor, loading dock.",
    )
    postcode = _text("Postcode", addresses.POSTCODE_LENGTH, "Enter the postcode.")
    city = _text("City", addresses.CITY_LENGTH, "Enter the city.")
    country = SelectField(
        "Country",
        validators=[InputRequired("Choose the country from the list.")],
        invalid_choice_message="Choose the country from the list.",
    )
    is_default = BooleanField("The default delivery address", default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", "Choose a country…")] + [
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
