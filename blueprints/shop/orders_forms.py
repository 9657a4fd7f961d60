"""Forms of the storefront's cart, checkout and approvals."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length

from blueprints.forms import WholeField, strip
from core import carts, delivery, i18n, numbers
from core.orders import MAX_QUANTITY

QUANTITY_MESSAGE = _l(
    "Enter a whole number from 1 to %(maximum)s.", maximum=i18n.number(MAX_QUANTITY)
)
LINE_MESSAGE = _l(
    "Enter a whole number from 0 to %(maximum)s (0 takes the product out).",
    maximum=i18n.number(MAX_QUANTITY),
)
NOTE_MESSAGE = _l(
    "A note has at most %(maximum)s characters.", maximum=i18n.number(carts.NOTE_LENGTH)
)


class AddToCartForm(FlaskForm):
    """A product and how many to add to the cart."""

    product_id = WholeField(
        _l("Product"),
        minimum=1,
        maximum=numbers.MAX_ID,
        message=_l("Choose a product."),
        validators=[InputRequired(_l("Choose a product."))],
        render_kw={"hidden": True},
    )
    quantity = WholeField(
        _l("Quantity"),
        default=1,
        minimum=1,
        maximum=MAX_QUANTITY,
        message=QUANTITY_MESSAGE,
        validators=[InputRequired(QUANTITY_MESSAGE)],
    )


class QuantityForm(FlaskForm):
    """A cart line's new quantity; 0 takes the product out."""

    quantity = WholeField(
        _l("Quantity"),
        minimum=0,
        maximum=MAX_QUANTITY,
        message=LINE_MESSAGE,
        validators=[InputRequired(LINE_MESSAGE)],
    )


class NoteForm(FlaskForm):
    """Checkout, submitting or approving: an optional note."""

    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=carts.NOTE_LENGTH, message=NOTE_MESSAGE)],
    )


class RejectForm(FlaskForm):
    """Rejecting a request: the requester reads why."""

    note = TextAreaField(
        _l("Why"),
        validators=[
            DataRequired(_l("Say why you reject the request: the requester reads it.")),
            Length(max=carts.NOTE_LENGTH, message=NOTE_MESSAGE),
        ],
    )


CHOICE_FIELDS = ("delivery_address", "shipping_method", "customer_reference", "requested_date")


def _listed_id(message):
    """A choice from a list sent as a record id: empty is None, anything else not an id is
    `message` (core.delivery checks that the record is one of the list)."""

    def check(form, field):
        raw = field.data or ""
        if raw and numbers.record_id(raw) is None:
            raise ValidationError(message)

    return check


class CheckoutForm(NoteForm):
    """Checkout, submitting or approving a cart: the note and the delivery choices.

    The choices are checked against the company's address book, its group's shipping
    methods and the lead time by core.delivery; here only their form is read.
    """

    delivery_address = StringField(
        _l("Deliver to"),
        filters=[strip],
        validators=[_listed_id(_l("Choose the delivery address from the list."))],
    )
    shipping_method = StringField(
        _l("Shipping"),
        filters=[strip],
        validators=[_listed_id(_l("Choose how the goods are shipped from the list."))],
    )
    customer_reference = StringField(
        _l("Your reference"),
        filters=[strip],
        validators=[
            Length(
                max=delivery.REFERENCE_LENGTH,
                message=_l(
                    "Your reference has at most %(maximum)s characters.",
                    maximum=delivery.REFERENCE_LENGTH,
                ),
            )
        ],
    )
    requested_date = StringField(_l("Requested delivery date"), filters=[strip])

    def validate_requested_date(self, field):
        try:
            delivery.parse_date(field.data)
        except delivery.DeliveryRefused as exc:
            raise ValidationError(str(exc)) from None

    def sent_choices(self) -> bool:
        """Did the form carry the delivery choices at all (an older page may not)?"""
        return any(name in request.form for name in CHOICE_FIELDS)

    def choices(self) -> delivery.Choices:
        """The choices as sent (call after validation)."""
        return delivery.Choices(
            address_id=numbers.record_id(self.delivery_address.data or ""),
            method_id=numbers.record_id(self.shipping_method.data or ""),
            reference=self.customer_reference.data or "",
            requested_date=delivery.parse_date(self.requested_date.data),
        )

    def typed(self) -> dict[str, str]:
        """The choices as typed, to show them again when something was refused."""
        return {
            name: str(request.form.get(name, ""))[:200]
            for name in CHOICE_FIELDS
            if name in request.form
        }
