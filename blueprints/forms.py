"""Forms shared by every blueprint."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, StringField
from wtforms.validators import DataRequired, Length

from core import numbers
from core.errors import Refused


def strip(value):
    """A field filter: the text without surrounding white space (None stays None)."""
    return value.strip() if isinstance(value, str) else value


class WholeField(IntegerField):
    """A whole number in ASCII digits within bounds, read by core.numbers; else `message`.

    WTForms' IntegerField takes whatever int() does ("١٢٣", "1_000", 4,000 digits) and
    says "Not a valid integer value."; this says what to type. Empty is left to the
    field's InputRequired or Optional.
    """

    def __init__(
        self, label=None, validators=None, *, minimum: int, maximum: int, message: str, **kwargs
    ):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def process_formdata(self, valuelist):
        if not valuelist:
            return  # not sent: the default stays, as with IntegerField
        if str(valuelist[0]).strip() == "":
            self.data = None
            return
        try:
            self.data = numbers.whole(
                valuelist[0], minimum=self.minimum, maximum=self.maximum, message=self.message
            )
        except numbers.NumberRefused as exc:
            self.data = None
            raise ValueError(str(exc)) from None


class RefusalMixin:
    """Show a service refusal next to the field it is about, or above the form."""

    def refuse(self, exc: Refused) -> None:
        name = getattr(exc, "field", None)
        field = self._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, str(exc)]
        else:
            self.form_errors.append(str(exc))


class EmptyForm(FlaskForm):
    """A bare POST button (block, revoke, delete): only its CSRF token."""


class PersonForm(FlaskForm):
    """A person to invite: name and email (core.people checks the address precisely)."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter the person's name.")),
            Length(max=120, message=_l("A name has at most %(count)s characters.", count=120)),
        ],
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter the person's email address.")),
            Length(
                max=254,
                message=_l("An email address has at most %(count)s characters.", count=254),
            ),
        ],
    )
