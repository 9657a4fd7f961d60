"""Forms of the back-office orders module: moving an order to its next state."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length

from core import i18n
from core.models import ORDER_STATUSES


class MoveForm(FlaskForm):
    """The state to move to (core.orders says whether that move is allowed) and a note."""

    to = SelectField(
        _l("Move to"),
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuples and warnings are errors.
        choices=[SelectChoice(s) for s in ORDER_STATUSES],
        invalid_choice_message=_l("Choose one of the order's next states."),
    )
    note = TextAreaField(
        _l("Note"),
        validators=[
            Length(
                max=2000,
                message=_l("A note has at most %(count)s characters.", count=i18n.number(2000)),
            )
        ],
    )


class SecondApprovalForm(FlaskForm):
    """Staff giving a customer's second approval: an optional note for the customer."""

    note = TextAreaField(
        _l("Note"),
        validators=[
            Length(
                max=2000,
                message=_l("A note has at most %(count)s characters.", count=i18n.number(2000)),
            )
        ],
    )
