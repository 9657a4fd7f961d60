"""Forms of the back-office orders module: moving an order to its next state."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length

from core.models import ORDER_STATUSES


class MoveForm(FlaskForm):
    """The state to move to (core.orders says whether that move is allowed) and a note."""

    to = SelectField(
        "Move to",
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuples and warnings are errors.
        choices=[SelectChoice(s) for s in ORDER_STATUSES],
        invalid_choice_message="Choose one of the order's next states.",
    )
    note = TextAreaField(
        "Note", validators=[Length(max=2000, message="A note has at most 2,000 characters.")]
    )


class SecondApprovalForm(FlaskForm):
    """Staff giving a customer's second approval: an optional note for the customer."""

    note = TextAreaField(
        "Note", validators=[Length(max=2000, message="A note has at most 2,000 characters.")]
    )
