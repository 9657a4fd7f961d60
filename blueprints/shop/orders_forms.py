"""Forms of the storefront's cart, checkout and approvals."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from core import carts
from core.orders import MAX_QUANTITY

QUANTITY_MESSAGE = f"Enter a whole number from 1 to {MAX_QUANTITY:,}."
LINE_MESSAGE = f"Enter a whole number from 0 to {MAX_QUANTITY:,} (0 takes the product out)."


class QuantityField(IntegerField):
    """A whole number; text that is not one gets the form's own message, not WTForms'."""

    def __init__(self, *args, message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.parse_message = message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.parse_message) from exc


class AddToCartForm(FlaskForm):
    """A product and how many to add to the cart."""

    product_id = IntegerField(
        "Product", validators=[InputRequired("Choose a product.")], render_kw={"hidden": True}
    )
    quantity = QuantityField(
        "Quantity",
        default=1,
        message=QUANTITY_MESSAGE,
        validators=[
            InputRequired(QUANTITY_MESSAGE),
            NumberRange(min=1, max=MAX_QUANTITY, message=QUANTITY_MESSAGE),
        ],
    )


class QuantityForm(FlaskForm):
    """A cart line's new quantity; 0 takes the product out."""

    quantity = QuantityField(
        "Quantity",
        message=LINE_MESSAGE,
        validators=[
            InputRequired(LINE_MESSAGE),
            NumberRange(
                min=0, max=MAX_QUANTITY, message=f"Enter a whole number from 0 to {MAX_QUANTITY:,}."
            ),
        ],
    )


class NoteForm(FlaskForm):
    """Checkout, submitting or approving: an optional note."""

    note = TextAreaField(
        "Note",
        validators=[
            Length(
                max=carts.NOTE_LENGTH,
                message=f"A note has at most {carts.NOTE_LENGTH:,} characters.",
            )
        ],
    )


class RejectForm(FlaskForm):
    """Rejecting a request: the requester reads why."""

    note = TextAreaField(
        "Why",
        validators=[
            DataRequired("Say why you reject the request: the requester reads it."),
            Length(
                max=carts.NOTE_LENGTH,
                message=f"A note has at most {carts.NOTE_LENGTH:,} characters.",
            ),
        ],
    )
