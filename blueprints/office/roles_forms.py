"""Forms of the roles module: create, rename, delete (permissions come as a list of codes)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from core import numbers

# SelectChoice, not tuples: WTForms 3.3 deprecates tuple choices and warnings are errors.
SCOPES = [
    SelectChoice("staff", _l("Staff (back office)")),
    SelectChoice("customer", _l("Customer people (storefront)")),
]


def _name_field(label) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(_l("Give the role a name.")),
            Length(max=80, message=_l("A role name has at most 80 characters.")),
        ],
    )


class RoleCreateForm(FlaskForm):
    """A new, empty role: its permissions are chosen on its own page."""

    name = _name_field(_l("Name"))
    scope = SelectField(
        _l("For"),
        choices=SCOPES,
        default="staff",
        invalid_choice_message=_l("Choose staff or customer people."),
    )


class RoleRenameForm(FlaskForm):
    """A role's new name (unique among roles of its kind, checked by core.roles)."""

    name = _name_field(_l("New name"))


def _role_id(value):
    # "" is the "nobody" choice: the role may then only be deleted while nobody holds it.
    if value in (None, ""):
        return None
    return numbers.id_choice(value)


class RoleDeleteForm(FlaskForm):
    """Delete a role, optionally giving its holders another role of the same kind."""

    reassign_to = SelectField(
        _l("Give its holders this role instead"),
        coerce=_role_id,
        invalid_value_message=_l("Choose one of the listed roles."),
        invalid_choice_message=_l("Choose one of the listed roles."),
    )

    def offer(self, roles, *, held: bool) -> "RoleDeleteForm":
        """Offer the other roles of the same kind as the holders' new role."""
        nobody = _l("Choose a role…") if held else _l("Nobody holds it: no role needed")
        self.reassign_to.choices = [SelectChoice("", nobody)] + [
            SelectChoice(str(r.id), r.name) for r in roles
        ]
        return self
