"""The audit log: who did what, when, to which record, with before and after."""

from extensions import db

from .models import AuditEntry, User

ACTIONS = {
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.throttled": "Sign-in throttled",
    "auth.password_changed": "Password changed",
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
    "customer.reps_changed": "Sales reps changed",
    "customer.created": "Customer created",
    "customer.changed": "Customer changed",
    "customer.deactivated": "Customer deactivated",
    "customer.reactivated": "Customer reactivated",
    "customer.deleted": "Customer deleted",
    "group.created": "Customer group created",
    "group.changed": "Customer group changed",
    "group.deleted": "Customer group deleted",
    "credit_note.issued": "Credit note issued",
    "stock.adjusted": "Stock adjusted",
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
    "cart.rejected": "Cart rejected",
    "order.placed": "Order placed",
    "order.moved": "Order moved",
    "order.cancelled": "Order cancelled",
    "quote.requested": "Quote requested",
    "quote.offered": "Quote offered",
    "quote.countered": "Quote countered",
    "quote.approved": "Quote approved (first of two)",
    "quote.accepted": "Quote accepted",
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
