"""The form of a follow-up task (core.tasks checks every part of it again)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blueprints.forms import RefusalMixin, strip
from core import tasks

from .promotions_forms import WHEN_FORMATS, WHEN_INVALID, ViewerZone, ZonedDateTimeField


def _id_or_none(value):
    """A select's or hidden field's record number; empty is None."""
    if value in (None, "", "None"):
        return None
    return int(value)


class TaskForm(RefusalMixin, FlaskForm):
    """What to do, by when, for whom, and about which customer, quote or order."""

    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the task a title.")),
            Length(
                max=tasks.TITLE_LENGTH,
                message=_l("A title is at most %(count)s characters.", count=200),
            ),
        ],
    )
    notes = TextAreaField(
        _l("Notes"),
        filters=[strip],
        validators=[
            Length(
                max=tasks.NOTES_LENGTH,
                message=_l("Notes are at most %(count)s characters.", count=5000),
            )
        ],
    )
    due_at = ZonedDateTimeField(
        _l("Due"),
        format=WHEN_FORMATS,
        invalid_value_message=WHEN_INVALID,
        validators=[InputRequired(_l("Say when the task is due."))],
        description=_l("In your time zone (%(zone)s).", zone=ViewerZone()),
    )
    remind_at = ZonedDateTimeField(
        _l("Remind by mail at"),
        format=WHEN_FORMATS,
        invalid_value_message=WHEN_INVALID,
        validators=[Optional()],
        description=_l("Optional: the colleague gets a mail then, once."),
    )
    assignee = SelectField(
        _l("For"),
        coerce=_id_or_none,
        validate_choice=False,  # core.tasks says why a colleague cannot have it
    )
    company = SelectField(_l("Customer"), coerce=_id_or_none, validate_choice=False)
    quote = HiddenField()
    order = HiddenField()

    def __init__(self, *args, colleagues=(), companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee.choices = [(p.id, p.name) for p in colleagues]
        self.company.choices = [("", _l("No customer")), *((c.id, c.name) for c in companies)]

    def record_id(self, name: str) -> int | None:
        """The quote or order number the form carries; malformed is a refusal on it."""
        raw = (getattr(self, name).data or "").strip()
        if not raw:
            return None
        if not raw.isascii() or not raw.isdigit():
            getattr(self, name).errors = [str(_l("This link is not a record number."))]
            raise ValueError(raw)
        return int(raw)
