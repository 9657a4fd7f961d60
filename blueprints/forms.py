"""Forms shared by every blueprint."""

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length


class EmptyForm(FlaskForm):
    """A bare POST button (block, revoke, delete): only its CSRF token."""


class PersonForm(FlaskForm):
    """A person to invite: name and email (core.people checks the address precisely)."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the person's name."),
            Length(max=120, message="A name has at most 120 characters."),
        ],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter the person's email address."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
    )
