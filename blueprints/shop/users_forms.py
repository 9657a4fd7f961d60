"""Forms of the storefront's people page: inviting a colleague and changing a role."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired

from blueprints.forms import PersonForm
from core import numbers


class RoleChoiceForm(FlaskForm):
    """One customer role, chosen by id among those the view offers."""

    # The choice is not checked against the offered list here: the view loads the
    # role and core.people refuses one above the giver's rights with a clear
    # message, instead of WTForms' bare "Not a valid choice".
    role = SelectField(
        _l("Role"),
        coerce=numbers.id_choice,
        validate_choice=False,
        validators=[DataRequired(_l("Choose a role."))],
        invalid_value_message=_l("Choose a role."),
    )


class InviteForm(RoleChoiceForm, PersonForm):
    """A new colleague: the company always comes from the person inviting, never the form."""
