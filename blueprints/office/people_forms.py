"""Forms of the staff users and customers modules: inviting people, roles, assignments."""

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField

from blueprints.forms import PersonForm
from core import numbers


class CheckboxesField(SelectMultipleField):
    """A set of ids chosen with checkboxes; ids outside the offered choices are refused."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", numbers.id_choice)
        kwargs.setdefault("default", ())  # nothing checked, even when nothing was posted
        kwargs.setdefault("invalid_value_message", _l("Choose from the list."))
        kwargs.setdefault("invalid_choice_message", _l("Choose from the list."))
        super().__init__(label, validators, **kwargs)


class InviteForm(PersonForm):
    """Invite a person: name, email and roles (the service checks the rest)."""

    roles = CheckboxesField(_l("Roles"))


class RolesForm(FlaskForm):
    """Exactly the roles a person should hold."""

    roles = CheckboxesField(_l("Roles"))


class AssignmentsForm(FlaskForm):
    """Exactly the customer companies a staff person serves."""

    companies = CheckboxesField(_l("Assigned customers"))


class RepsForm(FlaskForm):
    """Exactly the staff people who serve a customer company."""

    reps = CheckboxesField(_l("Sales reps"))


def field_for(form: InviteForm, refusal: Exception):
    """The invite form's field a service refusal is about, so it shows next to it.

    Told by the words of its English text, whatever language the person reads it in."""
    with force_locale("en"):
        lowered = str(refusal).lower()
    if "email" in lowered or "account" in lowered:
        return form.email
    if "role" in lowered:
        return form.roles
    if "name" in lowered:
        return form.name
    return None
