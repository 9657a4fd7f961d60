"""The audit log: who did what, when, to which record, with before and after."""

from dataclasses import dataclass

from extensions import db

from .models import AuditEntry, User

ACTIONS = {
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.throttled": "Sign-in throttled",
    "auth.password_changed": "Password changed",
    "auth.password_change_failed": "Password change refused (wrong current password)",
    "auth.password_reset_requested": "Password reset link sent",
    "auth.password_reset": "Password reset",
    "auth.second_factor_failed": "Second-factor code refused",
    "auth.two_factor_enabled": "Two-factor sign-in turned on",
    "auth.two_factor_disabled": "Two-factor sign-in turned off",
    "auth.two_factor_reset": "Two-factor sign-in reset by an administrator",
    "auth.recovery_codes_renewed": "Recovery codes renewed",
    "user.invited": "Person invited",
    "invitation.resent": "Invitation resent",
    "invitation.revoked": "Invitation revoked",
    "invitation.accepted": "Invitation accepted",
    "user.blocked": "Person blocked",
    "user.unblocked": "Person unblocked",
    "user.roles_changed": "Roles changed",
    "role.created": "Role created",
    "role.renamed": "Role renamed",
    "role.permissions_changed": "Role permissions changed",
    "role.deleted": "Role deleted",
    "role.two_factor_changed": "Role's two-factor requirement changed",
    "customer.reps_changed": "Sales reps changed",
    "customer.created": "Customer created",
    "customer.changed": "Customer changed",
    "customer.deactivated": "Customer deactivated",
    "customer.reactivated": "Customer reactivated",
    "customer.deleted": "Customer deleted",
    "address.created": "Delivery address added",
    "address.changed": "Delivery address changed",
    "address.default_changed": "Default delivery address changed",
    "address.deleted": "Delivery address deleted",
    "shipping_method.created": "Shipping method created",
    "shipping_method.changed": "Shipping method changed",
    "shipping_method.activated": "Shipping method activated",
    "shipping_method.deactivated": "Shipping method deactivated",
    "shipping_method.deleted": "Shipping method deleted",
    "group.created": "Customer group created",
    "group.changed": "Customer group changed",
    "group.deleted": "Customer group deleted",
    "credit_note.issued": "Credit note issued",
    "stock.adjusted": "Stock adjusted",
    "stock.received": "Goods received (back-orders served first)",
    "import.applied": "CSV import applied",
    "import.rejected": "CSV import rejected",
    "export.downloaded": "CSV export downloaded",
    "product.created": "Product created",
    "product.archived": "Product archived",
    "product.restored": "Product restored",
    "product.updated": "Product changed",
    "product.deleted": "Product deleted",
    "photo.added": "Product photo added",
    "photo.removed": "Product photo removed",
    "photo.moved": "Product photos reordered",
    "price.changed": "Prices changed",
    "promotion.changed": "Promotion changed",
    "promotion.created": "Promotion created",
    "promotion.switched": "Promotion switched on or off",
    "promotion.deleted": "Promotion deleted",
    "settings.changed": "Settings changed",
    "cart.submitted": "Cart submitted for approval",
    "cart.approved": "Cart approved",
    "cart.approved_by_seller": "Cart's second approval given by the seller",
    "cart.rejected": "Cart rejected",
    "order.placed": "Order placed",
    "order.moved": "Order moved",
    "order.cancelled": "Order cancelled",
    "order.throttled": "Ordering throttled (too many orders refused for stock)",
    "carrier.created": "Carrier created",
    "carrier.changed": "Carrier changed",
    "carrier.deactivated": "Carrier deactivated (used by shipments)",
    "carrier.deleted": "Carrier deleted",
    "shipment.created": "Shipment created",
    "shipment.changed": "Shipment's carrier or tracking changed",
    "shipment.shipped": "Shipment shipped",
    "shipment.delivered": "Shipment delivered",
    "shipment.removed": "Prepared shipment removed",
    "quote.requested": "Quote requested",
    "quote.offered": "Quote offered",
    "quote.countered": "Quote countered",
    "quote.approved": "Quote approved (first of two)",
    "quote.accepted": "Quote accepted",
    "quote.approved_by_seller": "Quote's second approval given by the seller",
    "quote.rejected": "Quote rejected",
    "quote.withdrawn": "Quote withdrawn",
    "invoice.issued": "Invoice issued",
    "invoice.voided": "Invoice voided",
    "payment.recorded": "Payment recorded",
    "demo.loaded": "Demo data loaded",
}


def record(
    action: str,
    *,
    actor: User | None,
    summary: str,
    target=None,
    before: dict | None = None,
    after: dict | None = None,
    ip: str = "",
    actor_email: str | None = None,
) -> AuditEntry:
    """Append one entry. Entries are never changed or removed (see AuditEntry)."""
    if action not in ACTIONS:
        raise KeyError(f"unknown audit action {action!r}")
    if target is not None and getattr(target, "id", None) is None:
        db.session.flush()
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_email=actor_email if actor_email is not None else (actor.email if actor else ""),
        action=action,
        target_type=target.__tablename__ if target is not None else "",
        target_id=target.id if target is not None else None,
        summary=summary[:255],
        before=before,
        after=after,
        ip=(ip or "")[:45],
    )
    db.session.add(entry)
    return entry


def differences(before: dict, after: dict) -> tuple[dict, dict]:
    """The keys whose values changed, as they were and as they are: an entry's before and
    after name only what changed. Both sides have the same keys."""
    return (
        {k: v for k, v in before.items() if after[k] != v},
        {k: v for k, v in after.items() if before[k] != v},
    )


# --- reading an entry ----------------------------------------------------------------

_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One key of an entry's before/after, as text; lists on both sides as a difference."""

    key: str
    old: str | None = None
    new: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.key.replace("_", " ")

    @property
    def is_difference(self) -> bool:
        return bool(self.added or self.removed)


def _text(value) -> str:
    if value is _ABSENT or value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """What an entry changed, key by key, for keys present in either side.

    A key on both sides reads "old → new" (lists as what was added and removed); a key
    on one side only (a role created, a role deleted) shows its value alone.
    """
    before, after = before or {}, after or {}
    keys = list(before) + [key for key in after if key not in before]
    result = []
    for key in keys:
        old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
        old_text, new_text = _text(old), _text(new)
        if old_text == new_text == "—":
            continue  # nothing on either side: a line of dashes tells the reader nothing
        if isinstance(old, list) and isinstance(new, list) and old != new:
            added = tuple(_text(item) for item in new if item not in old)
            removed = tuple(_text(item) for item in old if item not in new)
            result.append(Change(key, added=added, removed=removed))
        elif old is _ABSENT:
            result.append(Change(key, new=new_text))
        elif new is _ABSENT:
            result.append(Change(key, old=old_text))
        else:
            result.append(Change(key, old=old_text, new=new_text))
    return result
