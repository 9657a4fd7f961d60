"""Carriers: the parcel and freight companies shipments go with, and their tracking links.

A carrier's tracking link is a template, an https address with `{tracking}` where the
tracking number goes (URL-quoted, so a number can never change where the link leads).
A carrier without a template (a freight forwarder) ships without a tracking link. A
carrier named by a shipment is never deleted: it is deactivated, and its shipments keep
their carrier and link.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from sqlalchemy import func, select

from extensions import db

from . import audit, events
from .errors import FieldRefused
from .i18n import _
from .models import Carrier, Order, Shipment, User

NAME_LENGTH = 80
URL_LENGTH = 300
PLACEHOLDER = "{tracking}"
LIVE_EVENT_LIMIT = 100
# Printable and without white space: a template is one address.
_URL_CHARS = re.compile(r"[!-~]+")


class CarrierRefused(FieldRefused):
    """A carrier the rules do not allow; `field` names the form field it is about."""


@dataclass(frozen=True)
class CarrierDetails:
    """A carrier as staff typed it."""

    name: str
    tracking_url: str = ""
    is_active: bool = True


def tracking_link(template: str | None, tracking_number: str | None) -> str:
    """The tracking link of a number: the template with the number URL-quoted into it.

    Empty without a template or a number. Every character of the number but unreserved
    ones is quoted, so "../x?y#z" stays inside the template's query or path segment.
    """
    if not template or not tracking_number or PLACEHOLDER not in template:
        return ""
    return template.replace(PLACEHOLDER, quote(tracking_number.strip(), safe=""))


def clean_tracking_url(raw: str | None) -> str:
    """A tracking link template: empty, or https with a host and `{tracking}` after it."""
    text = (raw or "").strip()
    if not text:
        return ""
    if len(text) > URL_LENGTH:
        raise CarrierRefused(
            _("A tracking link has at most %(count)s characters.", count=URL_LENGTH),
            "tracking_url",
        )
    if not _URL_CHARS.fullmatch(text):
        raise CarrierRefused(
            _("A tracking link is one web address, without spaces."), "tracking_url"
        )
    if PLACEHOLDER not in text:
        raise CarrierRefused(
            _(
                "Put %(placeholder)s in the tracking link where the tracking number goes, e.g. "
                "https://www.ups.com/track?tracknum=%(placeholder)s.",
                placeholder=PLACEHOLDER,
            ),
            "tracking_url",
        )
    if not text.lower().startswith("https://"):
        raise CarrierRefused(
            _("A tracking link starts with https:// and the carrier's web address."),
            "tracking_url",
        )
    authority = re.split(r"[/?#]", text[len("https://") :], maxsplit=1)[0]
    if PLACEHOLDER in authority:
        raise CarrierRefused(
            _(
                "%(placeholder)s belongs after the carrier's web address, not in it.",
                placeholder=PLACEHOLDER,
            ),
            "tracking_url",
        )
    try:
        parts = urlsplit(text.replace(PLACEHOLDER, "0"))
        host, __ = parts.hostname, parts.port
    except ValueError:
        host = None
    if not host or "@" in authority:
        raise CarrierRefused(
            _(
                "A tracking link starts with https:// and the carrier's web address, such as "
                "https://www.ups.com/track?tracknum=%(placeholder)s.",
                placeholder=PLACEHOLDER,
            ),
            "tracking_url",
        )
    return text


def _clean(details: CarrierDetails, carrier: Carrier | None) -> dict:
    name = " ".join((details.name or "").split())
    if not name:
        raise CarrierRefused(_("Give the carrier a name."), "name")
    if len(name) > NAME_LENGTH:
        raise CarrierRefused(
            _("A carrier's name has at most %(count)s characters.", count=NAME_LENGTH), "name"
        )
    same = select(Carrier.id).where(func.lower(Carrier.name) == name.lower())
    if carrier is not None:
        same = same.where(Carrier.id != carrier.id)
    if db.session.scalar(same) is not None:
        raise CarrierRefused(_("There is already a carrier named “%(name)s”.", name=name), "name")
    return {
        "name": name,
        "tracking_url": clean_tracking_url(details.tracking_url),
        "is_active": bool(details.is_active),
    }


def _snapshot(carrier: Carrier) -> dict:
    return {
        "name": carrier.name,
        "tracking_url": carrier.tracking_url,
        "active": carrier.is_active,
    }


def _changed(carrier: Carrier) -> None:
    """Shipments on their way show their carrier's name and link: their regions re-render
    (the first LIVE_EVENT_LIMIT of them; delivered ones show the change when next opened)."""
    rows = db.session.execute(
        select(Shipment.id, Shipment.order_id, Order.company_id)
        .join(Order, Order.id == Shipment.order_id)
        .where(Shipment.carrier_id == carrier.id, Shipment.status != "delivered")
        .order_by(Shipment.id.desc())
        .limit(LIVE_EVENT_LIMIT)
    )
    for shipment_id, order_id, company_id in rows:
        events.record(
            db.session, "shipment_changed", shipment_id, order=order_id, company=company_id
        )


def create(details: CarrierDetails, *, actor: User, ip: str = "") -> Carrier:
    """A new carrier."""
    carrier = Carrier(**_clean(details, None))
    db.session.add(carrier)
    db.session.flush()
    audit.record(
        "carrier.created",
        actor=actor,
        target=carrier,
        summary=f"Carrier “{carrier.name}” created",
        after=_snapshot(carrier),
        ip=ip,
    )
    return carrier


def update(carrier: Carrier, details: CarrierDetails, *, actor: User, ip: str = "") -> bool:
    """Save a carrier's changes; False when nothing changed."""
    values = _clean(details, carrier)
    before = _snapshot(carrier)
    for key, value in values.items():
        setattr(carrier, key, value)
    after = _snapshot(carrier)
    if after == before:
        return False
    changed_from, changed_to = audit.differences(before, after)
    audit.record(
        "carrier.changed",
        actor=actor,
        target=carrier,
        summary=f"Carrier “{carrier.name}” changed",
        before=changed_from,
        after=changed_to,
        ip=ip,
    )
    _changed(carrier)
    return True


def shipments_of(carrier: Carrier) -> int:
    """How many shipments went (or go) with this carrier."""
    return db.session.scalar(
        select(func.count(Shipment.id)).where(Shipment.carrier_id == carrier.id)
    )


def delete(carrier: Carrier, *, actor: User, ip: str = "") -> str:
    """Delete a carrier no shipment names; deactivate one that shipments name.

    Returns "deleted" or "deactivated".
    """
    used = shipments_of(carrier)
    if used:
        was_active = carrier.is_active
        carrier.is_active = False
        audit.record(
            "carrier.deactivated",
            actor=actor,
            target=carrier,
            summary=f"Carrier “{carrier.name}” deactivated: {used} shipment(s) name it",
            before={"active": was_active},
            after={"active": False},
            ip=ip,
        )
        return "deactivated"
    audit.record(
        "carrier.deleted",
        actor=actor,
        target=carrier,
        summary=f"Carrier “{carrier.name}” deleted",
        before=_snapshot(carrier),
        ip=ip,
    )
    db.session.delete(carrier)
    return "deleted"


def active_carriers() -> list[Carrier]:
    """Carriers new shipments may go with, by name."""
    return list(
        db.session.scalars(
            select(Carrier).where(Carrier.is_active.is_(True)).order_by(Carrier.name)
        )
    )
