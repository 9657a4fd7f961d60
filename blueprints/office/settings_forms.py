"""Forms of the settings page, one per section, each saved on its own.

The rules (lengths, the IBAN check, ranges) live in core.settings; the forms parse what
was typed and put each of core.settings' messages next to the field it is about.
"""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from blueprints.forms import RefusalMixin, WholeField, strip
from core import countries, numbers, settings


def _whole(label: str, *, required: str, message: str) -> WholeField:
    """A whole number; how large it may be is core.settings' rule, with its own message."""
    return WholeField(
        label,
        minimum=-numbers.MAX_ID,
        maximum=numbers.MAX_ID,
        message=message,
        validators=[InputRequired(required)],
    )


class SectionForm(RefusalMixin, FlaskForm):
    """A settings section: a service refusal is shown next to its field."""


class SellerForm(SectionForm):
    """The seller's details printed on every invoice."""

    name = StringField("Company name", filters=[strip])
    address = TextAreaField(
        "Postal address", filters=[strip], description="As printed: one line per line."
    )
    vat_number = StringField("VAT number", filters=[strip])
    email = EmailField("Email for invoices", filters=[strip])
    phone = StringField("Phone", filters=[strip])
    bank_name = StringField("Bank", filters=[strip])
    iban = StringField("IBAN", filters=[strip])
    bic = StringField("BIC", filters=[strip])
    footer = TextAreaField(
        "Invoice footer",
        filters=[strip],
        description="Printed at the foot of every invoice: registration, court, directors.",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        problems = settings.seller_problems({key: self[key].data for key in settings.SELLER_FIELDS})
        for key, message in problems.items():
            self[key].errors = [*self[key].errors, message]
        return valid and not problems

    def values(self) -> dict:
        return {key: self[key].data or "" for key in settings.SELLER_FIELDS}


class ThresholdsForm(SectionForm):
    """Where "Few" and "Many" start for customer groups created from now on."""

    few_from = _whole(
        "“Few” from (units)",
        required="Enter where “Few” starts, such as 1.",
        message="Enter a whole number of units, such as 1.",
    )
    many_from = _whole(
        "“Many” from (units)",
        required="Enter where “Many” starts, such as 50.",
        message="Enter a whole number of units, such as 50.",
    )


class TermsForm(SectionForm):
    """The days to pay that customer companies created from now on start with."""

    days = _whole(
        "Days to pay",
        required="Enter a number of days, such as 30.",
        message="Enter a whole number of days, such as 30.",
    )


class InvitationsForm(SectionForm):
    """How long invitation links sent from now on stay valid."""

    hours = _whole(
        "Valid for (hours)",
        required="Enter a number of hours, such as 72.",
        message="Enter a whole number of hours, such as 72.",
    )


class VatForm(SectionForm):
    """The seller's country and its VAT rates, which every order from now on takes."""

    country = SelectField(
        "Seller's country",
        validators=[InputRequired("Choose the seller's country.")],
        invalid_choice_message="Choose the seller's country from the list.",
    )
    standard = StringField(
        "Standard rate (%)",
        filters=[strip],
        validators=[InputRequired("Enter the standard rate, such as 19.")],
    )
    reduced = StringField(
        "Reduced rate (%)",
        filters=[strip],
        validators=[InputRequired("Enter the reduced rate, such as 7 (0 if there is none).")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice(code, name) for code, name in countries.choices()]
