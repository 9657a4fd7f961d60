"""Back office: a customer's address book, kept by staff with `customers.edit` for the
companies in their scope (any other company is a 404). The book itself shows on the
customer's page (fragments/addresses.py)."""

from flask import request, url_for
from flask_login import current_user

from blueprints import address_pages
from blueprints.common import or_404, permission_required, render
from core import access, addresses
from core.models import Company, DeliveryAddress

from . import bp


def scoped_company(company_id: int) -> Company:
    """A company the signed-in person may see; any other is a 404."""
    return or_404(access.load_company(current_user, company_id))


def scoped_address(company_id: int, address_id: int) -> DeliveryAddress:
    """An address of a company the person may see; any other (or none) is a 404."""
    return or_404(addresses.load(current_user, company_id, address_id))


def customer_url(company_id: int) -> str:
    return url_for("office.customer", company_id=company_id)


def form_page(company: Company, address: DeliveryAddress | None, form, status: int = 200):
    """The page of a new address or of one to edit, with the form as typed."""
    return render(
        "office/customers/address.html", code=status, company=company, address=address, form=form
    )


@bp.route("/customers/<int:company_id>/addresses/new", methods=["GET", "POST"])
@permission_required("customers.edit")
def customer_address_new(company_id: int):
    """Add a delivery address to a customer's book."""
    company = scoped_company(company_id)
    if request.method == "GET":
        return form_page(company, None, address_pages.new_form(company))
    return address_pages.create(
        company,
        lambda form, status: form_page(company, None, form, status),
        customer_url(company.id),
    )


@bp.route("/customers/<int:company_id>/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@permission_required("customers.edit")
def customer_address_edit(company_id: int, address_id: int):
    """Correct one of a customer's delivery addresses."""
    address = scoped_address(company_id, address_id)
    company = address.company
    if request.method == "GET":
        return form_page(company, address, address_pages.edit_form(address))
    return address_pages.update(
        address,
        lambda form, status: form_page(company, address, form, status),
        customer_url(company.id),
    )


@bp.route("/customers/<int:company_id>/addresses/<int:address_id>/default", methods=["POST"])
@permission_required("customers.edit")
def customer_address_default(company_id: int, address_id: int):
    """Make one of a customer's addresses its default delivery address."""
    address = scoped_address(company_id, address_id)
    return address_pages.make_default(address, customer_url(company_id))


@bp.route("/customers/<int:company_id>/addresses/<int:address_id>/delete", methods=["POST"])
@permission_required("customers.edit")
def customer_address_delete(company_id: int, address_id: int):
    """Delete one of a customer's delivery addresses (the default only when it is the last)."""
    address = scoped_address(company_id, address_id)
    return address_pages.delete(address, customer_url(company_id))
