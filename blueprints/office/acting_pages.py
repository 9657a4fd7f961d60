"""What a customer company's page shows of acting for its people (core.acting)."""

from flask_login import current_user

from core import access, acting
from core.models import Company

from .acting_forms import ActForm, ViewAsForm


def acting_context(company: Company) -> dict:
    """The company page's storefront panel: whom the staff member may act for or view as."""
    if not access.can(current_user, "customers.act"):
        return {}
    act_people = acting.candidates(current_user, company, access.ACTING)
    view_people = acting.candidates(current_user, company, access.VIEWING)
    return {
        "act_form": ActForm(people=act_people, formdata=None, prefix="act"),
        "view_form": ViewAsForm(people=view_people, formdata=None, prefix="view"),
        "act_people": act_people,
        "view_people": view_people,
    }
