"""Storefront: the company's address book, kept by its decision-makers (`shop.addresses`)."""

from flask import request, url_for
from flask_login import current_user

from blueprints import address_pages
from blueprints.common import or_404, permission_required, render
from blueprints.fragments.delivery import book_context
from core import addresses
from core.models import DeliveryAddress

from . import bp


def own_address(address_id: int) -> DeliveryAddress:
    """An address of the person's own company; another company's (or none) is a 404."""
    return or_404(addresses.load(current_user, current_user.company_id, address_id))


def book_page(form, status: int = 200):
    """The address book with the billing address and the form to add an address."""
    company = current_user.company
    return render(
        "shop/addresses/index.html",
        code=status,
        form=form,
        **book_context(company, current_user),
    )


def edit_page(address: DeliveryAddress, form, status: int = 200):
    return render("shop/addresses/edit.html", code=status, address=address, form=form)


@bp.route("/addresses", endpoint="addresses")
@permission_required("shop.addresses")
def address_book():
    """The company's delivery addresses (live), its billing address, and a new address."""
    return book_page(address_pages.new_form(current_user.company))


@bp.route("/addresses", methods=["POST"])
@permission_required("shop.addresses")
def address_create():
    """Add a delivery address (the first one, or one marked so, becomes the default)."""
    return address_pages.create(current_user.company, book_page, url_for("shop.addresses"))


@bp.route("/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@permission_required("shop.addresses")
def address_edit(address_id: int):
    """Correct a delivery address; orders placed before keep the address they went to."""
    address = own_address(address_id)
    if request.method == "GET":
        return edit_page(address, address_pages.edit_form(address))
    return address_pages.update(
        address,
        lambda form, status: edit_page(address, form, status),
        url_for("shop.addresses"),
    )


@bp.route("/addresses/<int:address_id>/default", methods=["POST"])
@permission_required("shop.addresses")
def address_default(address_id: int):
    """Make an address the default delivery address."""
    return address_pages.make_default(own_address(address_id), url_for("shop.addresses"))


@bp.route("/addresses/<int:address_id>/delete", methods=["POST"])
@permission_required("shop.addresses")
def address_delete(address_id: int):
    """Delete a delivery address (the default only when it is the last one)."""
    return address_pages.delete(own_address(address_id), url_for("shop.addresses"))
