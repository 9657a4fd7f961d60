"""Forms of the storefront's people page: inviting a colleague and changing a role."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class RoleChoiceForm(FlaskForm):
    """One customer role, chosen by id among those the view offers."""

    # The choice is not checked against the offered list here: the view loads the
    # role and core.people refuses one above the giver's rights with a clear
    # message, instead of WTForms' bare "Not a valid choice".
    role = SelectField(
        "Role", coerce=int, validate_choice=False, validators=[DataRequired("Choose a role.")]
    )


class InviteForm(RoleChoiceForm):
    """A new colleague: the company always comes from the person inviting, never the form."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the person's name."),
            Length(max=120, message="A name has at most 120 characters."),
        ],
    )
    # The address is checked (and normalised) by core.people, one rule for every face.
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter the person's email address."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
    )
