"""What the address book pages of both faces do alike: add and edit an address, make one
the default, delete one.

Each face loads the company and the address through its own scope (a storefront keeper:
their own company; staff: the companies they may see) and says which page shows the
form and where to go afterwards; this module runs the change and answers. The address
book itself is the shared live region (fragments/addresses.py): a bare button answers
htmx with it, and a plain form with a redirect.
"""

from collections.abc import Callable

from flask import flash, redirect
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import checked_csrf, client_ip, is_htmx, render
from blueprints.fragments.delivery import BOOK, book_context
from core import addresses
from core.models import Company, DeliveryAddress

from .addresses_forms import AddressForm

FormPage = Callable[[AddressForm, int], object]


def new_form(company: Company) -> AddressForm:
    """An empty address form, in the company's own country."""
    return AddressForm(formdata=None, country=company.country)


def edit_form(address: DeliveryAddress) -> AddressForm:
    return AddressForm(formdata=None, obj=address)


def create(company: Company, page: FormPage, done: str):
    """Add the posted address to the company's book; the form again with why if not."""
    return _saved(
        page,
        done,
        lambda details: addresses.add(company, details, actor=current_user, ip=client_ip()),
        lambda address: (
            _("“%(name)s” is added and is the default delivery address.", name=address.name)
            if address.is_default
            else _("“%(name)s” is added.", name=address.name)
        ),
    )


def update(address: DeliveryAddress, page: FormPage, done: str):
    """Save the posted corrections of an address; the form again with why if not."""
    return _saved(
        page,
        done,
        lambda details: addresses.edit(address, details, actor=current_user, ip=client_ip()),
        lambda changed: (
            _("“%(name)s” is saved.", name=address.name) if changed else _("Nothing to change.")
        ),
    )


def _saved(page: FormPage, done: str, change, said):
    """The posted address form through `change`: the form again with why if it is refused,
    else `said` of the outcome as a message and a redirect to `done`."""
    form = AddressForm()
    if not form.validate_on_submit():
        return page(form, 422)
    saved = attempt(lambda: change(form.details()))
    if saved.refused:
        form.refuse(saved.refusal)
        return page(form, 422)
    flash(said(saved.value), "info")
    return redirect(done)


def book_answer(company: Company, done: str, *, notice: str = "", error: str = ""):
    """After a button on the book: htmx gets the book back, a plain form a redirect."""
    if is_htmx():
        return render(
            BOOK,
            code=422 if error else 200,
            **book_context(company, current_user, notice=notice, error=error),
        )
    flash(str(error or notice), "error" if error else "info")
    return redirect(done)


def make_default(address: DeliveryAddress, done: str):
    """Make the address the company's default delivery address."""
    checked_csrf()
    company, name = address.company, address.name
    made = attempt(lambda: addresses.make_default(address, actor=current_user, ip=client_ip()))
    if made.refused:
        return book_answer(company, done, error=made.message)
    notice = (
        _("“%(name)s” is now the default delivery address.", name=name)
        if made.value
        else _("“%(name)s” already is the default delivery address.", name=name)
    )
    return book_answer(company, done, notice=notice)


def delete(address: DeliveryAddress, done: str):
    """Delete the address (the default only when it is the last one)."""
    checked_csrf()
    company, name = address.company, address.name
    deleted = attempt(lambda: addresses.delete(address, actor=current_user, ip=client_ip()))
    if deleted.refused:
        return book_answer(company, done, error=deleted.message)
    notice = _("“%(name)s” is deleted.", name=name)
    if deleted.value == 0:
        notice += " " + _(
            "%(company)s has no delivery address now: orders need one, so add one before the "
            "next order.",
            company=company.name,
        )
    return book_answer(company, done, notice=notice)
