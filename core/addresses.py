"""A company's address book: the delivery addresses its orders go to, one of them the default.

Kept by the company's decision-makers (`shop.addresses`) and by the seller's staff with
`customers.edit` for a company in their scope; the views ask core.access, this module
keeps the rules: every address complete (name, street, postcode, city, a country from the
list), exactly one default while the book is not empty (the first address becomes it;
making another the default moves it; the default is deleted only last), and an address a
request waiting for approval goes to is kept until that request is decided.

Changes to one company's book are serialised by a lock on the company's row, so two
people making different addresses the default at once still leave exactly one. Every
change is audited and records `addresses_changed`: the address book re-renders on the
open pages of both faces.
"""

from dataclasses import dataclass

from sqlalchemy import exists, select, update

from extensions import db

from . import access, audit, countries, events, i18n
from .errors import FieldRefused, Refused
from .i18n import _
from .models import Cart, Company, DeliveryAddress, User

NAME_LENGTH = 160
STREET_LENGTH = 300
POSTCODE_LENGTH = 16
CITY_LENGTH = 100
MAX_ADDRESSES = 100  # per company: an address book, not a customer list


class AddressRefused(FieldRefused):
    """An address the rules do not allow; `field` names the form field it is about."""


@dataclass(frozen=True)
class AddressDetails:
    """A delivery address as a person typed it."""

    name: str
    street: str
    postcode: str
    city: str
    country: str
    is_default: bool = False


def book(company_id: int) -> list[DeliveryAddress]:
    """The company's addresses, the default first, then by name."""
    return list(
        db.session.scalars(
            select(DeliveryAddress)
            .where(DeliveryAddress.company_id == company_id)
            .order_by(DeliveryAddress.is_default.desc(), DeliveryAddress.name, DeliveryAddress.id)
        )
    )


def default_of(company_id: int) -> DeliveryAddress | None:
    """The company's default delivery address, if it has any address."""
    return db.session.scalar(
        select(DeliveryAddress).where(
            DeliveryAddress.company_id == company_id, DeliveryAddress.is_default
        )
    )


def load(user: User | None, company_id: int, address_id: int) -> DeliveryAddress | None:
    """One address of a company this person may see, else None (the caller answers 404)."""
    stmt = select(DeliveryAddress).where(
        DeliveryAddress.id == address_id, DeliveryAddress.company_id == company_id
    )
    return db.session.scalar(access.company_scope(user, stmt, DeliveryAddress.company_id))


def lines(address) -> list[str]:
    """An address as the lines of a label: name, street lines, postcode and city, country.

    Takes a DeliveryAddress, or anything with the same attributes.
    """
    found = [address.name, *(address.street or "").splitlines()]
    found.append(" ".join(part for part in (address.postcode, address.city) if part))
    found.append(countries.name(address.country))
    return [line for line in found if line]


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _street(text: str) -> str:
    """The street lines as typed, each trimmed, empty ones dropped (at most three)."""
    kept = [_one_line(line) for line in (text or "").splitlines()]
    return "\n".join(line for line in kept if line)


def _required(raw: str | None, field: str, length: int, missing: str, too_long: str) -> str:
    """A field of one line that must be given, within its length; else why not."""
    value = _one_line(raw)
    if not value:
        raise AddressRefused(missing, field)
    if len(value) > length:
        raise AddressRefused(too_long, field)
    return value


def _clean(details: AddressDetails) -> dict:
    """The column values of a complete address, or AddressRefused naming the first wrong field."""
    name = _required(
        details.name,
        "name",
        NAME_LENGTH,
        _("Give the address a name, such as the site or the person it is for."),
        _("A name has at most %(count)s characters.", count=NAME_LENGTH),
    )
    street = _street(details.street)
    if not street:
        raise AddressRefused(_("Enter the street and number."), "street")
    if len(street) > STREET_LENGTH:
        raise AddressRefused(
            _("The street has at most %(count)s characters.", count=STREET_LENGTH), "street"
        )
    if street.count("\n") > 2:
        raise AddressRefused(_("The street has at most three lines."), "street")
    postcode = _required(
        details.postcode,
        "postcode",
        POSTCODE_LENGTH,
        _("Enter the postcode."),
        _("A postcode has at most %(count)s characters.", count=POSTCODE_LENGTH),
    )
    city = _required(
        details.city,
        "city",
        CITY_LENGTH,
        _("Enter the city."),
        _("A city has at most %(count)s characters.", count=CITY_LENGTH),
    )
    country = (details.country or "").strip().upper()
    if country not in countries.names():
        raise AddressRefused(_("Choose the country from the list."), "country")
    return {"name": name, "street": street, "postcode": postcode, "city": city, "country": country}


def _lock(company: Company) -> None:
    """Serialise changes to one company's address book (see the module's docstring)."""
    db.session.execute(select(Company.id).where(Company.id == company.id).with_for_update())


def _shown(address: DeliveryAddress) -> dict:
    """An address as the audit log keeps it (the country named in English: stored data)."""
    with i18n.in_language("en"):
        shown = ", ".join(lines(address)[1:])
    return {"name": address.name, "address": shown, "default": address.is_default}


def _changed(company_id: int) -> None:
    events.record(db.session, "addresses_changed", company_id, company=company_id)


def _make_sole_default(address: DeliveryAddress) -> None:
    db.session.execute(
        update(DeliveryAddress)
        .where(DeliveryAddress.company_id == address.company_id, DeliveryAddress.id != address.id)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    address.is_default = True


def add(company: Company, details: AddressDetails, *, actor: User, ip: str = "") -> DeliveryAddress:
    """A new address in the company's book; the first one, or one asked for, is the default."""
    values = _clean(details)
    _lock(company)
    present = book(company.id)
    if len(present) >= MAX_ADDRESSES:
        raise Refused(
            _(
                "An address book holds at most %(count)s addresses: delete one you no longer "
                "use first.",
                count=MAX_ADDRESSES,
            )
        )
    address = DeliveryAddress(company_id=company.id, is_default=False, **values)
    db.session.add(address)
    db.session.flush()
    if details.is_default or not present:
        _make_sole_default(address)
    audit.record(
        "address.created",
        actor=actor,
        target=address,
        ip=ip,
        summary=f"Delivery address {address.name} added for {company.name}",
        after=_shown(address),
    )
    _changed(company.id)
    return address


def edit(address: DeliveryAddress, details: AddressDetails, *, actor: User, ip: str = "") -> bool:
    """Correct an address (orders already placed keep the copy they were placed with).

    Asking for it to be the default makes it so; the default stays the default until
    another address is made the default. False: nothing changed.
    """
    values = _clean(details)
    _lock(address.company)
    before = _shown(address)
    changed = [key for key, value in values.items() if getattr(address, key) != value]
    for key in changed:
        setattr(address, key, values[key])
    default = details.is_default and not address.is_default
    if default:
        _make_sole_default(address)
    if not changed and not default:
        return False
    db.session.flush()
    audit.record(
        "address.changed",
        actor=actor,
        target=address,
        ip=ip,
        summary=f"Delivery address {address.name} of {address.company.name} changed",
        before=before,
        after=_shown(address),
    )
    _changed(address.company_id)
    return True


def make_default(address: DeliveryAddress, *, actor: User, ip: str = "") -> bool:
    """Make this address the company's default (the former default stops being it).
    False: it already was."""
    _lock(address.company)
    db.session.refresh(address)
    if address.is_default:
        return False
    former = default_of(address.company_id)
    _make_sole_default(address)
    audit.record(
        "address.default_changed",
        actor=actor,
        target=address,
        ip=ip,
        summary=f"{address.name} is now the default delivery address of {address.company.name}",
        before={"default": former.name if former else ""},
        after={"default": address.name},
    )
    _changed(address.company_id)
    return True


def awaited_by_a_request(address: DeliveryAddress) -> bool:
    """Does a cart waiting for approval go to this address?"""
    return bool(
        db.session.scalar(
            select(
                exists().where(Cart.delivery_address_id == address.id, Cart.status == "submitted")
            )
        )
    )


def delete(address: DeliveryAddress, *, actor: User, ip: str = "") -> int:
    """Remove an address from the book; returns how many addresses are left.

    The default goes only when it is the last one (make another the default first), and
    an address a request waiting for approval goes to stays until that is decided. Open
    carts that had chosen it lose the choice.
    """
    company = address.company
    _lock(company)
    db.session.refresh(address)
    others = [a for a in book(company.id) if a.id != address.id]
    if address.is_default and others:
        raise Refused(
            _(
                "“%(name)s” is the default delivery address: make another address the "
                "default first, then delete this one.",
                name=address.name,
            )
        )
    if awaited_by_a_request(address):
        raise Refused(
            _(
                "“%(name)s” is the delivery address of a request waiting for approval: it "
                "can be deleted once the request is approved or rejected.",
                name=address.name,
            )
        )
    audit.record(
        "address.deleted",
        actor=actor,
        target=address,
        ip=ip,
        summary=f"Delivery address {address.name} of {company.name} deleted",
        before=_shown(address),
    )
    db.session.execute(
        update(Cart)
        .where(Cart.delivery_address_id == address.id)
        .values(delivery_address_id=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.delete(address)
    db.session.flush()
    _changed(company.id)
    return len(others)
