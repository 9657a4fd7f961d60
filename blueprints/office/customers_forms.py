"""Forms of the customers module: a company's details, and credit notes."""

from decimal import Decimal

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
from core import billing, countries, credit_notes, customers, numbers
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
        "Company name",
        filters=[strip],
        validators=[
            InputRequired("Give the company a name."),
            Length(
                max=customers.NAME_LENGTH,
                message=f"A name has at most {customers.NAME_LENGTH} characters.",
            ),
        ],
    )
    group_id = SelectField(
        "Customer group",
        coerce=_choice_id,
        validators=[InputRequired("Choose the company's customer group.")],
        invalid_choice_message="Choose one of the listed groups.",
        description="Decides prices, promotions, quotes and how stock shows.",
    )
    email = StringField(
        "Email",
        filters=[strip],
        validators=[Length(max=254, message="An email address has at most 254 characters.")],
        description="The company's general address (invoices go to its decision-makers).",
    )
    phone = StringField(
        "Phone",
        filters=[strip],
        validators=[
            Length(
                max=customers.PHONE_LENGTH,
                message=f"A phone number has at most {customers.PHONE_LENGTH} characters.",
            )
        ],
    )
    vat_number = StringField(
        "VAT ID",
        filters=[strip],
        description="Checked offline: format and check digits (such as DE811907980).",
        validators=[
            Length(
                max=customers.VAT_LENGTH,
                message=f"A VAT number has at most {customers.VAT_LENGTH} characters.",
            )
        ],
    )
    address = TextAreaField(
        "Billing address",
        validators=[
            Length(
                max=customers.ADDRESS_LENGTH,
                message=f"An address has at most {customers.ADDRESS_LENGTH} characters.",
            )
        ],
        description="As printed on invoices, one line per line.",
    )
    payment_terms_days = WholeField(
        "Payment terms (days)",
        minimum=0,
        maximum=customers.MAX_TERMS_DAYS,
        message="Payment terms are a whole number of days from 0 to "
        f"{customers.MAX_TERMS_DAYS}, such as 30.",
        validators=[InputRequired("Enter the payment terms in days.")],
    )
    postcode = StringField(
        "Postcode",
        filters=[strip],
        validators=[
            Length(
                max=customers.POSTCODE_LENGTH,
                message=f"A postcode has at most {customers.POSTCODE_LENGTH} characters.",
            )
        ],
    )
    city = StringField(
        "City",
        filters=[strip],
        validators=[
            Length(
                max=customers.CITY_LENGTH,
                message=f"A city has at most {customers.CITY_LENGTH} characters.",
            )
        ],
    )
    country = SelectField(
        "Country",
        validators=[InputRequired("Choose the company's country: it decides the VAT rule.")],
        invalid_choice_message="Choose one of the listed countries.",
        description="With the VAT ID, it decides the VAT: same country as the seller, "
        "another EU country with or without a valid VAT ID, or outside the EU.",
    )
    reference_required = BooleanField(
        "Its orders need the customer's own reference (purchase-order number)",
        default=False,
    )
    approval_limit = StringField(
        "Approval limit (EUR)",
        filters=[strip],
        validators=[Optional(), Length(max=30, message="Enter the limit as an amount.")],
        description="Orders above it need a second decision-maker. Empty: never.",
    )
    manages_own_users = BooleanField(
        "Its decision-makers manage their colleagues' access",
        default=True,
    )

    limit: Decimal | None = None  # the parsed approval limit, once validated

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.group_id.choices = [SelectChoice("", "Choose a group…")] + [
            SelectChoice(g.id, g.name) for g in groups
        ]
        self.country.choices = [SelectChoice("", "Choose a country…")] + [
            SelectChoice(code, name) for code, name in countries.choices()
        ]

    def validate_approval_limit(self, field):
        self.limit = None
        if not field.data:
            return
        try:
            self.limit = billing.parse_amount(field.data)
        except billing.PaymentRefused as exc:
            raise ValidationError("Enter the limit as an amount, such as 5000.") from exc

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
        "Amount (EUR)",
        filters=[strip],
        validators=[
            InputRequired("Enter the amount to credit."),
            Length(max=30, message="Enter the amount as a number, such as 120.50."),
        ],
    )
    reason = TextAreaField(
        "Reason",
        filters=[strip],
        validators=[
            InputRequired("Say why the company is credited."),
            Length(
                max=credit_notes.REASON_LENGTH,
                message=f"A reason has at most {credit_notes.REASON_LENGTH} characters.",
            ),
        ],
        description="Printed on the credit note: a return, a price correction, a goodwill gesture.",
    )
    invoice = SelectField(
        "Against invoice",
        coerce=_choice_id,
        invalid_choice_message="Choose one of this company's open invoices.",
    )

    value: Decimal | None = None  # the parsed amount, once validated

    def __init__(self, *args, invoices=(), fixed_invoice=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_invoice is not None:
            self.invoice.choices = [SelectChoice(fixed_invoice.id, fixed_invoice.display_number)]
            self.invoice.data = fixed_invoice.id
        else:
            self.invoice.choices = [SelectChoice("", "None: credit the company's account")] + [
                SelectChoice(i.id, f"{i.display_number} · {i.balance:,.2f} {i.currency} open")
                for i in invoices
            ]

    def validate_amount(self, field):
        try:
            self.value = billing.parse_amount(field.data)
        except billing.PaymentRefused as exc:
            raise ValidationError(str(exc)) from exc
