"""Forms of the storefront's cart, checkout and approvals."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from blueprints.forms import WholeField
from core import carts, numbers
from core.orders import MAX_QUANTITY

QUANTITY_MESSAGE = f"Enter a whole number from 1 to {MAX_QUANTITY:,}."
LINE_MESSAGE = f"Enter a whole number from 0 to {MAX_QUANTITY:,} (0 takes the product out)."


class AddToCartForm(FlaskForm):
    """A product and how many to add to the cart."""

    product_id = WholeField(
        "Product",
        minimum=1,
        maximum=numbers.MAX_ID,
        message="Choose a product.",
        validators=[InputRequired("Choose a product.")],
        render_kw={"hidden": True},
    )
    quantity = WholeField(
        "Quantity",
        default=1,
        minimum=1,
        maximum=MAX_QUANTITY,
        message=QUANTITY_MESSAGE,
        validators=[InputRequired(QUANTITY_MESSAGE)],
    )


class QuantityForm(FlaskForm):
    """A cart line's new quantity; 0 takes the product out."""

    quantity = WholeField(
        "Quantity",
        minimum=0,
        maximum=MAX_QUANTITY,
        message=LINE_MESSAGE,
        validators=[InputRequired(LINE_MESSAGE)],
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
