"""Shipping methods, kept by staff: name, price, free above an order value, lead time in
working days, whether active, and which customer groups may use each.

Checkout offers a company the active methods its group may use, each at its price, or
free once the cart's goods (net) reach the method's `free_above`. A method named by an
order is never deleted (the order keeps its name and price anyway): deleting it
deactivates it instead, so it leaves checkout and stays in the orders' history.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, exists, func, select

from extensions import db

from . import audit, events, numbers
from .errors import FieldRefused
from .i18n import _
from .models import CustomerGroup, Order, ShippingMethod, User, shipping_method_groups

NAME_LENGTH = 80
MAX_PRICE = Decimal("100000")  # a shipping price, or an order value it is free above
MAX_LEAD_DAYS = 60  # working days: twelve weeks


class MethodRefused(FieldRefused):
    """A shipping method the rules do not allow; `field` names the form field it is about."""


@dataclass(frozen=True)
class MethodDetails:
    """A shipping method as staff typed it: numbers as text, read by core.numbers here."""

    name: str
    price: str
    free_above: str = ""
    lead_days: str = "1"
    is_active: bool = True
    group_ids: tuple[int, ...] = field(default_factory=tuple)


def listing() -> Select:
    """Every shipping method, active ones first, by name."""
    return select(ShippingMethod).order_by(ShippingMethod.is_active.desc(), ShippingMethod.name)


def load(method_id: int) -> ShippingMethod | None:
    """One method (methods are not scoped: whoever sees the module sees them all)."""
    return db.session.get(ShippingMethod, method_id)


def allowed_for(group_id: int) -> list[ShippingMethod]:
    """The active methods a customer group may use, cheapest first."""
    return list(
        db.session.scalars(
            select(ShippingMethod)
            .join(shipping_method_groups, shipping_method_groups.c.method_id == ShippingMethod.id)
            .where(shipping_method_groups.c.group_id == group_id, ShippingMethod.is_active)
            .order_by(ShippingMethod.price, ShippingMethod.lead_days, ShippingMethod.name)
        )
    )


def price_for(method: ShippingMethod, goods_total: Decimal) -> Decimal:
    """What the method costs an order whose goods come to `goods_total` (net): its price,
    or nothing once the goods reach its `free_above`."""
    if method.free_above is not None and goods_total >= method.free_above:
        return Decimal("0.00")
    return method.price


def used_by_orders(method: ShippingMethod) -> bool:
    return bool(db.session.scalar(select(exists().where(Order.shipping_method_id == method.id))))


def _money(raw, label, field_name: str) -> Decimal:
    return numbers.decimal(
        raw,
        label=label,
        places=2,
        maximum=MAX_PRICE,
        example="6.90",
        field=field_name,
    )


def _clean(details: MethodDetails, method: ShippingMethod | None) -> dict:
    """The column values of a valid method, or MethodRefused naming the first wrong field."""
    name = " ".join((details.name or "").split())
    if not name:
        raise MethodRefused(_("Give the shipping method a name, such as “Parcel”."), "name")
    if len(name) > NAME_LENGTH:
        raise MethodRefused(
            _("A name has at most %(count)s characters.", count=NAME_LENGTH), "name"
        )
    same = select(ShippingMethod.id).where(func.lower(ShippingMethod.name) == name.lower())
    if method is not None:
        same = same.where(ShippingMethod.id != method.id)
    if db.session.scalar(same) is not None:
        raise MethodRefused(
            _("There is already a shipping method named “%(name)s”.", name=name), "name"
        )
    if not str(details.price or "").strip():
        raise MethodRefused(_("Enter the price, such as 6.90 (0 for free shipping)."), "price")
    price = _money(details.price, _("The price"), "price")
    free_above = None
    if str(details.free_above or "").strip():
        free_above = _money(details.free_above, _("“Free above”"), "free_above")
    if not str(details.lead_days or "").strip():
        raise MethodRefused(_("Enter the lead time in working days, such as 2."), "lead_days")
    lead_days = numbers.whole(
        details.lead_days,
        minimum=0,
        maximum=MAX_LEAD_DAYS,
        message=_(
            "The lead time is a whole number of working days from 0 to %(maximum)s.",
            maximum=MAX_LEAD_DAYS,
        ),
        field="lead_days",
    )
    ids = sorted(set(details.group_ids))
    groups = list(db.session.scalars(select(CustomerGroup).where(CustomerGroup.id.in_(ids))))
    if len(groups) != len(ids):
        raise MethodRefused(_("Choose customer groups from the list."), "groups")
    return {
        "name": name,
        "price": price,
        "free_above": free_above,
        "lead_days": lead_days,
        "is_active": bool(details.is_active),
        "groups": sorted(groups, key=lambda g: g.name),
    }


def _shown(values: dict) -> dict:
    """A method's values as the audit log keeps them: plain text and names."""
    shown = {}
    for key, value in values.items():
        if key == "groups":
            shown[key] = [g.name for g in value]
        elif isinstance(value, Decimal):
            shown[key] = f"{value:.2f}"
        else:
            shown[key] = value
    return shown


def _changed(method: ShippingMethod) -> None:
    """Open checkouts and the methods list show the change."""
    events.record(db.session, "shipping_method_changed", method.id)


def create(details: MethodDetails, *, actor: User, ip: str = "") -> ShippingMethod:
    """A new shipping method, offered at once to the groups chosen if active."""
    values = _clean(details, None)
    method = ShippingMethod(**values)
    db.session.add(method)
    db.session.flush()
    audit.record(
        "shipping_method.created",
        actor=actor,
        target=method,
        ip=ip,
        summary=f"Shipping method {method.name} created",
        after=_shown(values),
    )
    _changed(method)
    return method


def edit(method: ShippingMethod, details: MethodDetails, *, actor: User, ip: str = "") -> bool:
    """Change a method; orders already placed keep the name and price they were placed with.
    False: nothing changed."""
    values = _clean(details, method)
    before_all = _shown({key: getattr(method, key) for key in values})
    before_all["groups"] = sorted(before_all["groups"])
    after_all = _shown(values)
    changed = [key for key in values if after_all[key] != before_all[key]]
    if not changed:
        return False
    before = {key: before_all[key] for key in changed}
    for key in changed:
        setattr(method, key, values[key])
    audit.record(
        "shipping_method.changed",
        actor=actor,
        target=method,
        ip=ip,
        summary=f"Shipping method {method.name} changed",
        before=before,
        after={key: after_all[key] for key in changed},
    )
    _changed(method)
    return True


def set_active(method: ShippingMethod, active: bool, *, actor: User, ip: str = "") -> bool:
    """Offer a method at checkout again, or stop offering it. False: it already was so."""
    if method.is_active == active:
        return False
    method.is_active = active
    audit.record(
        "shipping_method.activated" if active else "shipping_method.deactivated",
        actor=actor,
        target=method,
        ip=ip,
        summary=f"Shipping method {method.name} {'activated' if active else 'deactivated'}",
        before={"is_active": not active},
        after={"is_active": active},
    )
    _changed(method)
    return True


def delete(method: ShippingMethod, *, actor: User, ip: str = "") -> bool:
    """Delete a method no order names; one that orders name is deactivated instead.

    Returns True when it was deleted, False when it was deactivated (or already was).
    Carts that had chosen it lose the choice (their people choose again at checkout).
    """
    if used_by_orders(method):
        set_active(method, False, actor=actor, ip=ip)
        return False
    name = method.name
    audit.record(
        "shipping_method.deleted",
        actor=actor,
        target=method,
        ip=ip,
        summary=f"Shipping method {name} deleted",
        before=_shown(
            {
                "name": name,
                "price": method.price,
                "free_above": method.free_above,
                "lead_days": method.lead_days,
                "groups": list(method.groups),
            }
        ),
    )
    _changed(method)
    db.session.delete(method)
    db.session.flush()
    return True
