"""Checkout's delivery choices: where the goods go, how, under which reference, and when.

A person choosing at checkout (or submitting a cart for approval) picks one of the
company's delivery addresses, one of the shipping methods its group may use, gives the
company's own reference (a purchase-order number; required when the company says so)
and may ask for a delivery date: no earlier than today plus the method's lead time in
working days (Monday to Friday), and itself a working day. Empty means as soon as
possible.

The choices are kept on the cart as they are made (so a reload or a live refresh keeps
them, and an approval request carries them); `check` reads them against the rules at the
moment of ordering and gives a `Delivery`, which `core.orders.place` copies onto the
order: the address as it was, the method's name, and its price (nothing once the goods
reach its `free_above`).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from extensions import db

from . import addresses, countries, i18n, shipping_methods
from .errors import FieldRefused
from .i18n import _, ngettext
from .models import Cart, Company, DeliveryAddress, Order, ShippingMethod, utcnow

REFERENCE_LENGTH = 60
MAX_DAYS_AHEAD = 366  # a requested date within a year from today
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DeliveryRefused(FieldRefused):
    """A delivery choice the rules do not allow; `field` names the choice it is about."""


@dataclass(frozen=True)
class Choices:
    """Checkout's choices as a person made them, not yet checked."""

    address_id: int | None = None
    method_id: int | None = None
    reference: str = ""
    requested_date: date | None = None


@dataclass(frozen=True)
class Delivery:
    """Where and how an order goes, checked: what `orders.place` copies onto it."""

    name: str
    street: str
    postcode: str
    city: str
    country: str
    method_id: int | None
    method_name: str
    price: Decimal
    free_above: Decimal | None = None
    reference: str = ""
    requested_date: date | None = None

    def shipping_price(self, goods_total: Decimal) -> Decimal:
        """The method's price, or nothing once the goods (net) reach its free_above."""
        if self.free_above is not None and goods_total >= self.free_above:
            return Decimal("0.00")
        return self.price


def now() -> datetime:
    """The moment checkout counts from (naive UTC, as the portal keeps time): the web layer
    reads it in the person's time zone, whose day a requested date is."""
    return utcnow()


def today() -> date:
    """The day checkout counts from when no person's own day is given (UTC)."""
    return now().date()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days (Monday to Friday) after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def earliest(method: ShippingMethod, on: date | None = None) -> date:
    """The first day a method can deliver: its lead time in working days from `on`, moved
    to a working day."""
    day = add_working_days(on or today(), method.lead_days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def spoken(day: date) -> str:
    """A date as a message says it: Tue 8 Dec 2026 (mar. 8 déc. 2026 in French)."""
    return i18n.format_pattern(day, "EEE d MMM yyyy")


class _Spoken:
    """spoken(day) when shown: for a message whose reader is not known yet."""

    def __init__(self, day: date):
        self.day = day

    def __str__(self) -> str:
        return spoken(self.day)


def parse_date(raw) -> date | None:
    """A requested date as a date input sends it (YYYY-MM-DD); empty is None."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if len(text) != 10 or not _ISO_DATE.fullmatch(text):
        raise DeliveryRefused(
            _(
                "Enter the requested date as year-month-day, such as 2026-12-10, or leave it "
                "empty for as soon as possible."
            ),
            "requested_date",
        )
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DeliveryRefused(
            _("There is no day %(text)s: choose a date from the calendar.", text=text),
            "requested_date",
        ) from None


def _address(company: Company, address_id: int | None) -> DeliveryAddress:
    if address_id is None:
        if addresses.default_of(company.id) is None:
            raise DeliveryRefused(
                _(
                    "%(company)s has no delivery address yet: add one to the address book "
                    "(Addresses), then order.",
                    company=company.name,
                ),
                "delivery_address",
            )
        raise DeliveryRefused(_("Choose the delivery address."), "delivery_address")
    found = db.session.scalar(
        select(DeliveryAddress).where(
            DeliveryAddress.id == address_id, DeliveryAddress.company_id == company.id
        )
    )
    if found is None:
        raise DeliveryRefused(
            _(
                "That delivery address is no longer in your company's address book: choose "
                "another one."
            ),
            "delivery_address",
        )
    return found


def _method(company: Company, method_id: int | None) -> ShippingMethod:
    allowed = {m.id: m for m in shipping_methods.allowed_for(company.group_id)}
    if not allowed:
        raise DeliveryRefused(
            _(
                "No shipping method is offered to your company at the moment: "
                "please ask the seller."
            ),
            "shipping_method",
        )
    if method_id is None:
        raise DeliveryRefused(_("Choose how the goods are shipped."), "shipping_method")
    if method_id not in allowed:
        raise DeliveryRefused(
            _("That shipping method is not offered to your company any more: choose another one."),
            "shipping_method",
        )
    return allowed[method_id]


def clean_reference(company: Company, raw, *, required: bool = True) -> str:
    reference = " ".join((raw or "").split()) if isinstance(raw, str) else ""
    if len(reference) > REFERENCE_LENGTH:
        raise DeliveryRefused(
            _("Your reference has at most %(count)s characters.", count=REFERENCE_LENGTH),
            "customer_reference",
        )
    if not reference and required and company.reference_required:
        raise DeliveryRefused(
            _(
                "Enter your reference (purchase-order number): %(company)s gives one on "
                "every order.",
                company=company.name,
            ),
            "customer_reference",
        )
    return reference


def check_date(method: ShippingMethod, requested: date | None, on: date | None = None) -> None:
    """A requested date is a working day, no earlier than the method can deliver."""
    if requested is None:
        return
    on = on or today()
    first = earliest(method, on)
    if requested < first:
        raise DeliveryRefused(
            ngettext(
                "%(method)s delivers in %(num)d working day: the earliest date is %(day)s. "
                "Choose that day or a later one, or leave the date empty for as soon as "
                "possible.",
                "%(method)s delivers in %(num)d working days: the earliest date is %(day)s. "
                "Choose that day or a later one, or leave the date empty for as soon as "
                "possible.",
                method.lead_days,
                method=method.name,
                day=_Spoken(first),
            ),
            "requested_date",
        )
    if not is_working_day(requested):
        raise DeliveryRefused(
            _(
                "%(day)s is not a working day: deliveries arrive Monday to Friday.",
                day=_Spoken(requested),
            ),
            "requested_date",
        )
    if requested > on + timedelta(days=MAX_DAYS_AHEAD):
        raise DeliveryRefused(
            _("Choose a delivery date within a year from today."), "requested_date"
        )


def check(
    company: Company, choices: Choices, *, on: date | None = None, checkout: bool = True
) -> Delivery:
    """The choices read against the rules of this moment, or DeliveryRefused naming the
    first wrong one. `checkout`: a person chose them (a reference the company requires
    is asked for only then)."""
    address = _address(company, choices.address_id)
    method = _method(company, choices.method_id)
    reference = clean_reference(company, choices.reference, required=checkout)
    check_date(method, choices.requested_date, on)
    return Delivery(
        name=address.name,
        street=address.street,
        postcode=address.postcode,
        city=address.city,
        country=address.country,
        method_id=method.id,
        method_name=method.name,
        price=method.price,
        free_above=method.free_above,
        reference=reference,
        requested_date=choices.requested_date,
    )


def of_cart(cart: Cart) -> Choices:
    """The choices a cart keeps."""
    return Choices(
        address_id=cart.delivery_address_id,
        method_id=cart.shipping_method_id,
        reference=cart.customer_reference or "",
        requested_date=cart.requested_date,
    )


def keep(cart: Cart, choices: Choices) -> None:
    """Keep the choices on the cart as they are made (checked when the cart is ordered or
    submitted). Only an address of the cart's company, and a method that exists, are kept."""
    address_id = choices.address_id
    if address_id is not None and not db.session.scalar(
        select(DeliveryAddress.id).where(
            DeliveryAddress.id == address_id, DeliveryAddress.company_id == cart.company_id
        )
    ):
        address_id = None
    method_id = choices.method_id
    if method_id is not None and db.session.get(ShippingMethod, method_id) is None:
        method_id = None
    cart.delivery_address_id = address_id
    cart.shipping_method_id = method_id
    cart.customer_reference = " ".join((choices.reference or "").split())[:REFERENCE_LENGTH]
    cart.requested_date = choices.requested_date


def standard(company: Company, *, reference: str = "") -> Choices:
    """The company's default address and the cheapest method its group may use, as soon
    as possible (either is None when there is none)."""
    default = addresses.default_of(company.id)
    allowed = shipping_methods.allowed_for(company.group_id)
    return Choices(
        address_id=default.id if default else None,
        method_id=allowed[0].id if allowed else None,
        reference=reference,
    )


def suggested(cart: Cart) -> Choices:
    """What a checkout form starts with: the cart's choices, else the company's default
    address and the cheapest method its group may use."""
    kept = of_cart(cart)
    if kept.address_id is not None and kept.method_id is not None:
        return kept
    start = standard(cart.company)
    return Choices(
        kept.address_id if kept.address_id is not None else start.address_id,
        kept.method_id if kept.method_id is not None else start.method_id,
        kept.reference,
        kept.requested_date,
    )


def defaults_for(company: Company, *, reference: str = "") -> Delivery:
    """The delivery of an order placed without a checkout (an accepted quote): the
    company's default address and the cheapest method its group may use, as soon as
    possible. Nobody was asked for a reference, so none is required."""
    return check(company, standard(company, reference=reference), checkout=False)


def apply(order: Order, delivery: Delivery) -> None:
    """Copy a checked delivery onto a new order; the shipping price follows its goods."""
    order.delivery_name = delivery.name
    order.delivery_street = delivery.street
    order.delivery_postcode = delivery.postcode
    order.delivery_city = delivery.city
    order.delivery_country = delivery.country
    order.shipping_method_id = delivery.method_id
    order.shipping_name = delivery.method_name
    order.shipping_price = delivery.shipping_price(order.total)
    order.customer_reference = delivery.reference
    order.requested_date = delivery.requested_date


def order_address(order: Order) -> list[str]:
    """The delivery address an order was placed with, as label lines (none before there
    were addresses)."""
    if not order.delivery_name and not order.delivery_street:
        return []
    found = [order.delivery_name, *(order.delivery_street or "").splitlines()]
    found.append(" ".join(p for p in (order.delivery_postcode, order.delivery_city) if p))
    found.append(countries.name(order.delivery_country))
    return [line for line in found if line]


def _requested(requested: date | None):
    if requested is None:
        return _("Requested delivery date: as soon as possible")
    return _("Requested delivery date: %(day)s", day=_Spoken(requested))


def summary(order: Order):
    """The delivery of an order, in the words of a mail (in its reader's language)."""
    parts = []
    address = order_address(order)
    if address:
        parts.append(_("Delivery to:\n  %(address)s", address="\n  ".join(address)))
    if order.shipping_name:
        if not order.shipping_price:
            parts.append(_("Shipping: %(method)s, free", method=order.shipping_name))
        else:
            price = i18n.money(order.shipping_price, order.currency)
            parts.append(
                _("Shipping: %(method)s, %(price)s", method=order.shipping_name, price=price)
            )
    if order.customer_reference:
        parts.append(_("Your reference: %(reference)s", reference=order.customer_reference))
    parts.append(_requested(order.requested_date))
    return i18n.join(*parts, sep="\n")


def described(chosen: Delivery) -> dict:
    """A checked delivery as the audit log keeps it."""
    return {
        "deliver_to": ", ".join(addresses.lines(chosen)),
        "shipping": chosen.method_name,
        "reference": chosen.reference,
        "requested_date": chosen.requested_date.isoformat()
        if chosen.requested_date
        else "as soon as possible",
    }


def told(chosen: Delivery, goods_total: Decimal):
    """A checked delivery in the words of a mail, before the order exists (in its
    reader's language)."""
    price = chosen.shipping_price(goods_total)
    lines = [_("Delivery to: %(address)s", address=", ".join(addresses.lines(chosen)))]
    if price:
        amount = i18n.money(price)
        lines.append(_("Shipping: %(method)s, %(price)s", method=chosen.method_name, price=amount))
    else:
        lines.append(_("Shipping: %(method)s, free", method=chosen.method_name))
    if chosen.reference:
        lines.append(_("Reference: %(reference)s", reference=chosen.reference))
    lines.append(_requested(chosen.requested_date))
    return i18n.join(*lines, sep="\n")
