"""Acting for a customer from the back office: opening the storefront as one of a
company's people (to build a cart, order or ask for a quote in their name, or to view it
as they see it), leaving it, and what one placed for customers (core.acting)."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from blueprints.boundary import apply, attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    go,
    or_404,
    page_arg,
    permission_required,
    render,
)
from core import access, acting, carts, orders, quotes
from core.models import Company, User
from core.pagination import paginate

from . import bp
from .acting_forms import ActForm, ViewAsForm

PER_PAGE = 25
# Where acting begins, with what the person needs for that page (None: nothing more).
START_PAGES = {
    "catalog": ("shop.catalog", None),
    "cart": ("shop.cart", "shop.cart"),
    "quick_order": ("shop.quick_order", "shop.cart"),
    "quote": ("shop.quote_new", "shop.quote"),
}
SHOWS = {"orders": _l("Orders"), "quotes": _l("Quotes"), "carts": _l("Carts")}
CART_LABELS = {
    "open": _l("Being built"),
    "submitted": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


def company_or_404(company_id: int) -> Company:
    """A company the signed-in person may see; any other is a 404."""
    return or_404(access.load_company(current_user, company_id))


def first_error(form) -> str:
    """The first validation message of a form, for a one-line answer."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("The form was not sent correctly. Reload the page and try again.")


def begin(company: Company, form: ViewAsForm, people: list[User], mode: str) -> str | User:
    """Open the storefront as the chosen person: that person, or why not (a message)."""
    if not form.validate_on_submit():
        return first_error(form)
    person = next(p for p in people if p.id == form.person.data)
    started = attempt(
        lambda: acting.start(current_user, current_user.session_token, person, mode, ip=client_ip())
    )
    return started.message if started.refused else person


def refused(company: Company, error: str):
    """A refused start: the company's page again, saying why."""
    flash(error, "error")
    return redirect(url_for("office.customer", company_id=company.id) + "#storefront")


@bp.route("/customers/<int:company_id>/act", methods=["POST"])
@permission_required("customers.act")
def customer_act(company_id: int):
    """Act for one of the company's people: the storefront opens as them where chosen, and
    what is placed there is placed in their name and recorded as placed by the staff member."""
    company = company_or_404(company_id)
    people = acting.candidates(current_user, company, access.ACTING)
    form = ActForm(people=people, prefix="act")
    person = begin(company, form, people, access.ACTING)
    if not isinstance(person, User):
        return refused(company, person)
    endpoint, needs = START_PAGES[form.start.data]
    if needs is not None and needs not in access.assumed_permissions(
        current_user, person, access.ACTING
    ):
        flash(
            _(
                "%(name)s may not use that page: the storefront opens on the catalogue.",
                name=person.name,
            ),
            "warning",
        )
        endpoint = "shop.catalog"
    return go(url_for(endpoint))


@bp.route("/customers/<int:company_id>/view-as", methods=["POST"])
@permission_required("customers.act")
def customer_view_as(company_id: int):
    """View the storefront as one of the company's people sees it, read-only."""
    company = company_or_404(company_id)
    people = acting.candidates(current_user, company, access.VIEWING)
    form = ViewAsForm(people=people, prefix="view")
    person = begin(company, form, people, access.VIEWING)
    if not isinstance(person, User):
        return refused(company, person)
    return go(url_for("shop.catalog"))


@bp.route("/acting/end", methods=["POST"])
def acting_end():
    """Leave the storefront opened as a customer person: back to their company's page."""
    checked_csrf()
    person = apply(
        lambda: acting.stop(current_user, current_user.session_token, acting.EXITED, ip=client_ip())
    )
    if person is None:
        return go(url_for("office.dashboard"))
    flash(_("You left the storefront of %(name)s.", name=person.name), "info")
    if access.can(current_user, "customers.view") and access.load_company(
        current_user, person.company_id
    ):
        return go(url_for("office.customer", company_id=person.company_id))
    return go(url_for("office.dashboard"))


@bp.route("/acting")
@permission_required("customers.act")
def acting_records():
    """The orders, quotes and carts this staff member placed for customers, newest first."""
    show = choice_arg(
        "show", SHOWS, _("Show orders, quotes or carts placed for customers."), "orders"
    )
    listing = paginate(acting.placed_by_staff(current_user, show), page_arg(), PER_PAGE)
    return render(
        "office/acting/index.html",
        listing=listing,
        show=show,
        shows=SHOWS,
        totals=carts.totals_of(listing.items) if show == "carts" else {},
        order_labels=orders.STATUS_LABELS,
        quote_labels=quotes.STATUS_LABELS,
        quote_status=quotes.shown_status,
        cart_labels=CART_LABELS,
    )
