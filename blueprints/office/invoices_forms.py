"""Forms of the invoices module: recording a payment."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from blueprints.forms import RefusalMixin, strip
from core import billing


class PaymentForm(RefusalMixin, FlaskForm):
    """Money received: the amount is parsed here, every rule is checked by core.billing."""

    amount = StringField(
        _l("Amount received (EUR)"),
        filters=[strip],
        validators=[
            InputRequired(_l("Enter the amount received.")),
            Length(max=30, message=_l("Enter the amount as a number, such as 120.50.")),
        ],
    )
    received_on = DateField(
        _l("Received on"),
        validators=[InputRequired(_l("Enter the day the money was received."))],
        invalid_value_message=_l("Enter the day as a date, such as 2026-03-31."),
    )
    method = SelectField(
        _l("Method"),
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuples and warnings are errors.
        choices=[SelectChoice(key, label) for key, label in billing.PAYMENT_METHODS.items()],
        default="transfer",
        invalid_choice_message=_l("Choose how the money was paid."),
    )
    reference = StringField(
        _l("Reference"),
        filters=[strip],
        validators=[
            Length(
                max=billing.REFERENCE_LENGTH,
                message=_l(
                    "A reference has at most %(count)s characters.",
                    count=billing.REFERENCE_LENGTH,
                ),
            )
        ],
        description=_l("The bank's reference or the cheque number, to find it again."),
    )

    value: object = None  # the parsed amount, once validated

    def validate_amount(self, field):
        try:
            self.value = billing.parse_amount(field.data)
        except billing.PaymentRefused as exc:
            raise ValidationError(str(exc)) from exc
