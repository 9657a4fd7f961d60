"""The audit log: who did what, when, to which record, with before and after."""

from dataclasses import dataclass

from extensions import db

from . import access, events
from .i18n import N_, _
from .models import AuditEntry, User

# What each action reads as: marked for the catalogue, translated where the log shows it.
ACTIONS = {
    "auth.sign_in": N_("Signed in"),
    "auth.sign_in_failed": N_("Sign-in failed"),
    "auth.throttled": N_("Sign-in throttled"),
    "auth.password_changed": N_("Password changed"),
    "auth.password_change_failed": N_("Password change refused (wrong current password)"),
    "auth.password_reset_requested": N_("Password reset link sent"),
    "auth.password_reset": N_("Password reset"),
    "auth.second_factor_failed": N_("Second-factor code refused"),
    "auth.two_factor_enabled": N_("Two-factor sign-in turned on"),
    "auth.two_factor_disabled": N_("Two-factor sign-in turned off"),
    "auth.two_factor_reset": N_("Two-factor sign-in reset by an administrator"),
    "auth.recovery_codes_renewed": N_("Recovery codes renewed"),
    "token.created": N_("API token created"),
    "token.revoked": N_("API token revoked"),
    "webhook.created": N_("Webhook endpoint registered"),
    "webhook.changed": N_("Webhook endpoint changed"),
    "webhook.enabled": N_("Webhook endpoint switched on"),
    "webhook.disabled": N_("Webhook endpoint switched off"),
    "webhook.secret_rotated": N_("Webhook signing secret renewed"),
    "webhook.removed": N_("Webhook endpoint removed"),
    "webhook.tested": N_("Webhook test event sent"),
    "webhook.resent": N_("Webhook event sent again"),
    "material.created": N_("Material for custom parts added"),
    "material.changed": N_("Material for custom parts changed"),
    "material.removed": N_("Material for custom parts removed"),
    "task.created": N_("Task created"),
    "task.updated": N_("Task changed"),
    "task.done": N_("Task done"),
    "task.reopened": N_("Task reopened"),
    "task.deleted": N_("Task removed"),
    "api.write": N_("Change made through the API"),
    "user.invited": N_("Person invited"),
    "invitation.resent": N_("Invitation resent"),
    "invitation.revoked": N_("Invitation revoked"),
    "invitation.accepted": N_("Invitation accepted"),
    "user.blocked": N_("Person blocked"),
    "user.unblocked": N_("Person unblocked"),
    "user.roles_changed": N_("Roles changed"),
    "role.created": N_("Role created"),
    "role.renamed": N_("Role renamed"),
    "role.permissions_changed": N_("Role permissions changed"),
    "role.deleted": N_("Role deleted"),
    "role.two_factor_changed": N_("Role's two-factor requirement changed"),
    "customer.reps_changed": N_("Sales reps changed"),
    "customer.created": N_("Customer created"),
    "customer.changed": N_("Customer changed"),
    "customer.deactivated": N_("Customer deactivated"),
    "customer.reactivated": N_("Customer reactivated"),
    "customer.deleted": N_("Customer deleted"),
    "customer.acting_started": N_("Started acting for a customer person"),
    "customer.acting_ended": N_("Stopped acting for a customer person"),
    "customer.view_as_started": N_("Started viewing the storefront as a customer person"),
    "customer.view_as_ended": N_("Stopped viewing the storefront as a customer person"),
    "address.created": N_("Delivery address added"),
    "address.changed": N_("Delivery address changed"),
    "address.default_changed": N_("Default delivery address changed"),
    "address.deleted": N_("Delivery address deleted"),
    "shipping_method.created": N_("Shipping method created"),
    "shipping_method.changed": N_("Shipping method changed"),
    "shipping_method.activated": N_("Shipping method activated"),
    "shipping_method.deactivated": N_("Shipping method deactivated"),
    "shipping_method.deleted": N_("Shipping method deleted"),
    "group.created": N_("Customer group created"),
    "group.changed": N_("Customer group changed"),
    "group.deleted": N_("Customer group deleted"),
    "group.visibility_changed": N_("What a customer group sees changed"),
    "credit_note.issued": N_("Credit note issued"),
    "stock.adjusted": N_("Stock adjusted"),
    "stock.received": N_("Goods received (back-orders served first)"),
    "import.applied": N_("CSV import applied"),
    "import.rejected": N_("CSV import rejected"),
    "export.downloaded": N_("CSV export downloaded"),
    "product.created": N_("Product created"),
    "product.archived": N_("Product archived"),
    "product.restored": N_("Product restored"),
    "product.updated": N_("Product changed"),
    "product.deleted": N_("Product deleted"),
    "photo.added": N_("Product photo added"),
    "photo.removed": N_("Product photo removed"),
    "photo.moved": N_("Product photos reordered"),
    "price.changed": N_("Prices changed"),
    "promotion.changed": N_("Promotion changed"),
    "promotion.created": N_("Promotion created"),
    "promotion.switched": N_("Promotion switched on or off"),
    "promotion.deleted": N_("Promotion deleted"),
    "settings.changed": N_("Settings changed"),
    "list.created": N_("Shared list created"),
    "list.deleted": N_("Shared list deleted"),
    "list.imported": N_("CSV imported into a shared list"),
    "cart.submitted": N_("Cart submitted for approval"),
    "cart.approved": N_("Cart approved"),
    "cart.approved_by_seller": N_("Cart's second approval given by the seller"),
    "cart.rejected": N_("Cart rejected"),
    "order.placed": N_("Order placed"),
    "order.moved": N_("Order moved"),
    "order.cancelled": N_("Order cancelled"),
    "order.throttled": N_("Ordering throttled (too many orders refused for stock)"),
    "message.posted": N_("Message posted in a conversation"),
    "carrier.created": N_("Carrier created"),
    "carrier.changed": N_("Carrier changed"),
    "carrier.deactivated": N_("Carrier deactivated (used by shipments)"),
    "carrier.deleted": N_("Carrier deleted"),
    "shipment.created": N_("Shipment created"),
    "shipment.changed": N_("Shipment's carrier or tracking changed"),
    "shipment.shipped": N_("Shipment shipped"),
    "shipment.delivered": N_("Shipment delivered"),
    "shipment.removed": N_("Prepared shipment removed"),
    "quote.requested": N_("Quote requested"),
    "quote.offered": N_("Quote offered"),
    "quote.countered": N_("Quote countered"),
    "quote.approved": N_("Quote approved (first of two)"),
    "quote.accepted": N_("Quote accepted"),
    "quote.approved_by_seller": N_("Quote's second approval given by the seller"),
    "quote.rejected": N_("Quote rejected"),
    "quote.withdrawn": N_("Quote withdrawn"),
    "quote.mailed": N_("Quote sent by mail to a contact"),
    "quote.link_revoked": N_("Quote's mailed link revoked"),
    "quote.accepted_by_link": N_("Quote accepted through a mailed link"),
    "quote.rejected_by_link": N_("Quote rejected through a mailed link"),
    "mail.reply_refused": N_("Reply by mail refused (unknown sender)"),
    "invoice.issued": N_("Invoice issued"),
    "invoice.voided": N_("Invoice voided"),
    "payment.recorded": N_("Payment recorded"),
    "job.retried": N_("Background job retried"),
    "demo.loaded": N_("Demo data loaded"),
}


@dataclass
class Via:
    """The API token a person object acts through in this request (set by the API layer);
    `entries` counts what the request has audited so far."""

    token_id: int
    name: str
    entries: int = 0


def acting_through(person: User, token_id: int, name: str) -> Via:
    """From now on whatever this person object does is audited with the token's name. The
    object is the request's own: nothing is stored."""
    via = Via(token_id, name)
    person.__dict__["_api_token"] = via
    return via


def token_of(person) -> Via | None:
    """The API token this person object acts through, if any."""
    return getattr(person, "__dict__", {}).get("_api_token") if person is not None else None


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
    """Append one entry. Entries are never changed or removed (see AuditEntry).

    An actor who is a customer person acted for by staff (core.access.acting_staff) is
    recorded as that staff member, with whom they acted for: who acted, for whom, what.
    An actor acting through an API token (`acting_through`) is recorded with its name.
    """
    if action not in ACTIONS:
        raise KeyError(f"unknown audit action {action!r}")
    staff = access.acting_staff(actor)
    if staff is not None:
        company = actor.company.name if actor.company is not None else ""
        summary = f"{summary[:150]} (by {staff.name} for {actor.name}, {company})"
        after = {**(after or {}), "on_behalf_of": f"{actor.name} <{actor.email}>, {company}"}
        actor, actor_email = staff, None
    via = token_of(actor)
    if via is not None:
        # A change made through the integration API names the token it came with.
        summary = f"{summary[:150]} (API token “{via.name}”)"
        after = {**(after or {}), "api_token": via.name}
        via.entries += 1
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
    # One per transaction, however many entries it writes: open audit logs re-fetch.
    events.record(db.session, "audit_logged")
    return entry


translate = _  # a stored text, looked up in the catalogue (not itself a message to extract)


def action_label(action: str) -> str:
    """An action as it reads in the viewer's language (its key, if it is not known)."""
    label = ACTIONS.get(action)
    return str(translate(label)) if label else action


def summary_text(summary: str | None) -> str:
    """An entry's summary as shown: a constant one (marked N_ where it is written) in the
    viewer's language; one with values stays as it was stored."""
    return str(translate(summary)) if summary else ""


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
        return str(_("yes") if value else _("no"))
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
