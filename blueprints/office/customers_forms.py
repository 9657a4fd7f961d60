"""Forms of the customers module: a company's details, and credit notes."""

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import RefusalMixin, WholeField, strip
from core import billing, countries, credit_notes, customers, i18n, numbers
from core.customers import CompanyDetails


def _choice_id(value):
    # "" is the prompt ("choose a group", "no invoice"); anything not a record's number
    # becomes -1, which no choice has, so the field's own message refuses it.
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    found = numbers.record_id(value)
    return -1 if found is None else found


class CompanyForm(RefusalMixin, FlaskForm):
    """A customer company's details; core.customers checks every rule again."""

    name = StringField(
        _l("Company name"),
        filters=[strip],
        validators=[
            InputRequired(_l("Give the company a name.")),
            Length(
                max=customers.NAME_LENGTH,
                message=_l(
                    "A name has at most %(maximum)s characters.", maximum=customers.NAME_LENGTH
                ),
            ),
        ],
    )
    group_id = SelectField(
        _l("Customer group"),
        coerce=_choice_id,
        validators=[InputRequired(_l("Choose the company's customer group."))],
        invalid_choice_message=_l("Choose one of the listed groups."),
        description=_l("Decides prices, promotions, quotes and how stock shows."),
    )
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[Length(max=254, message=_l("An email address has at most 254 characters."))],
        description=_l("The company's general address (invoices go to its decision-makers)."),
    )
    phone = StringField(
        _l("Phone"),
        filters=[strip],
        validators=[
            Length(
                max=customers.PHONE_LENGTH,
                message=_l(
                    "A phone number has at most %(maximum)s characters.",
                    maximum=customers.PHONE_LENGTH,
                ),
            )
        ],
    )
    vat_number = StringField(
        _l("VAT ID"),
        filters=[strip],
        description=_l("Checked offline: format and check digits (such as DE811907980)."),
        validators=[
            Length(
                max=customers.VAT_LENGTH,
                message=_l(
                    "A VAT number has at most %(maximum)s characters.",
                    maximum=customers.VAT_LENGTH,
                ),
            )
        ],
    )
    address = TextAreaField(
        _l("Billing address"),
        validators=[
            Length(
                max=customers.ADDRESS_LENGTH,
                message=_l(
                    "An address has at most %(maximum)s characters.",
                    maximum=customers.ADDRESS_LENGTH,
                ),
            )
        ],
        description=_l("As printed on invoices, one line per line."),
    )
    payment_terms_days = WholeField(
        _l("Payment terms (days)"),
        minimum=0,
        maximum=customers.MAX_TERMS_DAYS,
        message=_l(
            "Payment terms are a whole number of days from 0 to %(maximum)s, such as 30.",
            maximum=customers.MAX_TERMS_DAYS,
        ),
        validators=[InputRequired(_l("Enter the payment terms in days."))],
    )
    postcode = StringField(
        _l("Postcode"),
        filters=[strip],
        validators=[
            Length(
                max=customers.POSTCODE_LENGTH,
                message=_l(
                    "A postcode has at most %(maximum)s characters.",
                    maximum=customers.POSTCODE_LENGTH,
                ),
            )
        ],
    )
    city = StringField(
        _l("City"),
        filters=[strip],
        validators=[
            Length(
                max=customers.CITY_LENGTH,
                message=_l(
                    "A city has at most %(maximum)s characters.", maximum=customers.CITY_LENGTH
                ),
            )
        ],
    )
    country = SelectField(
        _l("Country"),
        validators=[InputRequired(_l("Choose the company's country: it decides the VAT rule."))],
        invalid_choice_message=_l("Choose one of the listed countries."),
        description=_l(
            "With the VAT ID, it decides the VAT: same country as the seller, "
            "another EU country with or without a valid VAT ID, or outside the EU."
        ),
    )
    reference_required = BooleanField(
        _l("Its orders need the customer's own reference (purchase-order number)"),
        default=False,
    )
    approval_limit = StringField(
        _l("Approval limit (EUR)"),
        filters=[strip],
        validators=[Optional(), Length(max=30, message=_l("Enter the limit as an amount."))],
        description=_l("Orders above it need a second decision-maker. Empty: never."),
    )
    manages_own_users = BooleanField(
        _l("Its decision-makers manage their colleagues' access"),
        default=True,
    )

    limit: Decimal | None = None  # the parsed approval limit, once validated

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.group_id.choices = [SelectChoice("", _("Choose a group…"))] + [
            SelectChoice(g.id, g.name) for g in groups
        ]
        self.country.choices = [SelectChoice("", _("Choose a country…"))] + [
            SelectChoice(code, name) for code, name in countries.choices()
        ]

    def validate_approval_limit(self, field):
        self.limit = None
        if not field.data:
            return
        try:
            self.limit = billing.parse_amount(field.data)
        except billing.PaymentRefused as exc:
            raise ValidationError(_("Enter the limit as an amount, such as 5000.")) from exc

    def details(self) -> CompanyDetails:
        """The typed details, for core.customers to check and apply."""
        return CompanyDetails(
            name=self.name.data or "",
            group_id=self.group_id.data if self.group_id.data not in (None, -1) else None,
            email=self.email.data or "",
            phone=self.phone.data or "",
            vat_number=self.vat_number.data or "",
            address=self.address.data or "",
            payment_terms_days=self.payment_terms_days.data,
            approval_limit=self.limit,
            manages_own_users=bool(self.manages_own_users.data),
            postcode=self.postcode.data or "",
            city=self.city.data or "",
            country=self.country.data or "",
            reference_required=bool(self.reference_required.data),
        )


class CreditNoteForm(RefusalMixin, FlaskForm):
    """A credit note: the amount is parsed here, every rule is checked by core.credit_notes."""

    amount = StringField(
        _l("Amount (EUR)"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the amount to credit.")),
            Length(max=30, message=_l("Enter the amount as a number, such as 120.50.")),
        ],
    )
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[
            InputRequired(_l("Say why the company is credited.")),
            Length(
                max=credit_notes.REASON_LENGTH,
                message=_l(
                    "A reason has at most %(maximum)s characters.",
                    maximum=credit_notes.REASON_LENGTH,
                ),
            ),
        ],
        description=_l(
            "Printed on the credit note: a return, a price correction, a goodwill gesture."
        ),
    )
    invoice = SelectField(
        _l("Against invoice"),
        coerce=_choice_id,
        invalid_choice_message=_l("Choose one of this company's open invoices."),
    )

    value: Decimal | None = None  # the parsed amount, once validated

    def __init__(self, *args, invoices=(), fixed_invoice=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_invoice is not None:
            self.invoice.choices = [SelectChoice(fixed_invoice.id, fixed_invoice.display_number)]
            self.invoice.data = fixed_invoice.id
        else:
            self.invoice.choices = [SelectChoice("", _("None: credit the company's account"))] + [
                SelectChoice(
                    i.id,
                    _(
                        "%(number)s · %(balance)s %(currency)s open",
                        number=i.display_number,
                        balance=i18n.format_number(i.balance, 2),
                        currency=i.currency,
                    ),
                )
                for i in invoices
            ]

    def validate_amount(self, field):
        try:
            self.value = billing.parse_amount(field.data)
        except billing.PaymentRefused as exc:
            raise ValidationError(str(exc)) from exc
