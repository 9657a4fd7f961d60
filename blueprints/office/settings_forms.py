"""Forms of the settings page, one per section, each saved on its own.

The rules (lengths, the IBAN check, ranges) live in core.settings; the forms parse what
was typed and put each of core.settings' messages next to the field it is about.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from blueprints.forms import RefusalMixin, WholeField, strip
from core import countries, numbers, settings


def _whole(label, *, required, message) -> WholeField:
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

    name = StringField(_l("Company name"), filters=[strip])
    address = TextAreaField(
        _l("Postal address"), filters=[strip], description=_l("As printed: one line per line.")
    )
    vat_number = StringField(_l("VAT number"), filters=[strip])
    email = EmailField(_l("Email for invoices"), filters=[strip])
    phone = StringField(_l("Phone"), filters=[strip])
    bank_name = StringField(_l("Bank"), filters=[strip])
    iban = StringField(_l("IBAN"), filters=[strip])
    bic = StringField(_l("BIC"), filters=[strip])
    footer = TextAreaField(
        _l("Invoice footer"),
        filters=[strip],
        description=_l("Printed at the foot of every invoice: registration, court, directors."),
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
        _l("“Few” from (units)"),
        required=_l("Enter where “Few” starts, such as 1."),
        message=_l("Enter a whole number of units, such as 1."),
    )
    many_from = _whole(
        _l("“Many” from (units)"),
        required=_l("Enter where “Many” starts, such as 50."),
        message=_l("Enter a whole number of units, such as 50."),
    )


class TermsForm(SectionForm):
    """The days to pay that customer companies created from now on start with."""

    days = _whole(
        _l("Days to pay"),
        required=_l("Enter a number of days, such as 30."),
        message=_l("Enter a whole number of days, such as 30."),
    )


class InvitationsForm(SectionForm):
    """How long invitation links sent from now on stay valid."""

    hours = _whole(
        _l("Valid for (hours)"),
        required=_l("Enter a number of hours, such as 72."),
        message=_l("Enter a whole number of hours, such as 72."),
    )


class VatForm(SectionForm):
    """The seller's country and its VAT rates, which every order from now on takes."""

    country = SelectField(
        _l("Seller's country"),
        validators=[InputRequired(_l("Choose the seller's country."))],
        invalid_choice_message=_l("Choose the seller's country from the list."),
    )
    standard = StringField(
        _l("Standard rate (%)"),
        filters=[strip],
        validators=[InputRequired(_l("Enter the standard rate, such as 19."))],
    )
    reduced = StringField(
        _l("Reduced rate (%)"),
        filters=[strip],
        validators=[InputRequired(_l("Enter the reduced rate, such as 7 (0 if there is none)."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice(code, name) for code, name in countries.choices()]


class TimezoneForm(SectionForm):
    """The seller's time zone: times are shown in it to whoever has not picked their own."""

    timezone = SelectField(
        _l("Time zone"),
        validators=[InputRequired(_l("Choose a time zone."))],
        invalid_choice_message=_l("Choose a time zone from the list."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = settings.timezones()
        saved = settings.timezone()
        if saved not in zones:  # UTC is a zone too, though not among those offered
            zones = [saved, *zones]
        self.timezone.choices = [SelectChoice(zone, zone) for zone in zones]
