"""Forms of the staff users and customers modules: inviting people, roles, assignments."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField

from blueprints.forms import PersonForm
from core import numbers


class CheckboxesField(SelectMultipleField):
    """A set of ids chosen with checkboxes; ids outside the offered choices are refused."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", numbers.id_choice)
        kwargs.setdefault("default", ())  # nothing checked, even when nothing was posted
        kwargs.setdefault("invalid_value_message", "Choose from the list.")
        kwargs.setdefault("invalid_choice_message", "Choose from the list.")
        super().__init__(label, validators, **kwargs)


class InviteForm(PersonForm):
    """Invite a person: name, email and roles (the service checks the rest)."""

    roles = CheckboxesField("Roles")


class RolesForm(FlaskForm):
    """Exactly the roles a person should hold."""

    roles = CheckboxesField("Roles")


class AssignmentsForm(FlaskForm):
    """Exactly the customer companies a staff person serves."""

    companies = CheckboxesField("Assigned customers")


class RepsForm(FlaskForm):
    """Exactly the staff people who serve a customer company."""

    reps = CheckboxesField("Sales reps")


def field_for(form: InviteForm, message: str):
    """The invite form's field a service refusal is about, so it shows next to it."""
    lowered = message.lower()
    if "email" in lowered or "account" in lowered:
        return form.email
    if "role" in lowered:
        return form.roles
    if "name" in lowered:
        return form.name
    return None
