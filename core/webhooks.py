"""Webhooks: events sent to the HTTPS endpoints people register, signed, after commit.

Staff with `webhooks.manage`, and customer people with `shop.webhooks` (decision-makers)
for their own company, register an endpoint for some event types. A service that makes
such an event calls `emit` inside its transaction: one delivery row per endpoint that may
learn of it, and one background job each (core.jobs), handed to the queue only once the
transaction commits, so a rolled-back order never reaches anyone.

Who learns what is the owner's affair, as for a live push: an order's, shipment's,
invoice's or payment's events only reach endpoints whose owner may see that company's
records (staff in scope, the company's own people); stock and price events only for
products the owner's group may see, and a group that sees stock as levels hears of a
stock change only when its level moves (never a count, not even by the rhythm of
events). The payload is rendered at the first try with the owner's rights of that moment
(the renderers the API registers, the same JSON as its answers), in their language.

Each message follows Standard Webhooks: headers `webhook-id` (the delivery's, the same
on every try), `webhook-timestamp` and `webhook-signature` (`v1,` HMAC-SHA256 of
"id.timestamp.body" with the endpoint's `whsec_` secret). A try that fails waits with the
job queue's exponential backoff; a delivery out of tries is failed, and an endpoint with
WEBHOOK_DISABLE_AFTER failed deliveries in a row is switched off and its owner mailed.
Deliveries are at least once: a receiver tells a repeat by its `webhook-id`.
"""

import base64
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from flask import current_app
from sqlalchemy import Select, select
from standardwebhooks import Webhook

from extensions import db

from . import access, audit, events, i18n, jobs, notify, sealed, visibility
from .errors import FieldRefused, Refused
from .i18n import N_, _
from .models import Product, User, WebhookDelivery, WebhookEndpoint, utcnow
from .offer import GroupPolicy, stock_view

log = logging.getLogger("portal.webhooks")

DELIVER = "webhook.deliver"
CHANGED = "webhook_changed"  # event: an endpoint or one of its deliveries changed
PURPOSE = "webhook secrets"  # core.sealed's key for the signing secrets
URL_LENGTH = 500
DESCRIPTION_LENGTH = 200
RESPONSE_KEPT = 500  # characters of a receiver's answer kept on the delivery
USER_AGENT = "TradePortal-Webhooks/1"
ATTEMPTS = 8  # with the queue's backoff (30 s doubling to an hour): about two hours
TEST = "webhook.test"


@dataclass(frozen=True)
class EventType:
    """A kind of event an endpoint may subscribe to, and who may receive it.

    `staff`: the permission a staff owner needs; `customer`: a customer owner's (None:
    anyone of a company); `company`: the event belongs to one customer company's records.
    """

    key: str
    label: object
    staff: str
    customer: str | None
    company: bool


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("order.placed", N_("Order placed"), "orders.view", "shop.order", True),
    EventType(
        "order.status_changed", N_("Order status changed"), "orders.view", "shop.order", True
    ),
    EventType("shipment.created", N_("Shipment created"), "shipping.view", "shop.order", True),
    EventType("invoice.issued", N_("Invoice issued"), "invoices.view", "shop.invoices", True),
    EventType("payment.received", N_("Payment received"), "invoices.view", "shop.invoices", True),
    EventType("stock.changed", N_("Stock changed"), "stock.view", None, False),
    EventType("price.changed", N_("Price changed"), "products.view", "shop.prices", False),
)
TYPES = {t.key: t for t in EVENT_TYPES}
STATES = {
    "pending": N_("Sending"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
    "skipped": N_("Not sent"),
}

# event type -> fn(owner, delivery) -> the payload's `data`, or None when the owner may
# not see the record (any more). Registered by the layer that shapes records as JSON
# (blueprints/api/webhooks.py: the API's own representations).
Renderer = Callable[[User, WebhookDelivery], dict | None]
RENDERERS: dict[str, Renderer] = {}


def renders(*types: str):
    """Decorator: `fn(owner, delivery)` renders these event types' payloads."""

    def register(fn: Renderer) -> Renderer:
        for key in types:
            RENDERERS[key] = fn
        return fn

    return register


# --- who ------------------------------------------------------------------------------


def may_manage(user: User | None) -> bool:
    """May this person keep webhooks (staff: their own; customers: their company's)?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff:
        return access.can(user, "webhooks.manage")
    return user.company_id is not None and access.can(user, "shop.webhooks")


def may_receive(owner: User | None, event_type: str) -> bool:
    """May an endpoint of this person hear of events of this type at all?"""
    kind = TYPES.get(event_type)
    if owner is None or kind is None or owner.status != "active" or not may_manage(owner):
        return False
    if owner.is_staff:
        return access.can(owner, kind.staff)
    return kind.customer is None or access.can(owner, kind.customer)


def types_for(user: User) -> list[EventType]:
    """The event types this person may subscribe an endpoint to."""
    return [t for t in EVENT_TYPES if may_receive(user, t.key)]


def visible_endpoints(user: User) -> Select:
    """Staff keep their own endpoints; a company's people who may, the company's."""
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if not may_manage(user):
        return stmt.where(WebhookEndpoint.id.is_(None))
    if user.is_staff:
        return stmt.where(WebhookEndpoint.owner_id == user.id)
    return stmt.where(WebhookEndpoint.company_id == user.company_id)


def load_visible(user: User, endpoint_id: int) -> WebhookEndpoint | None:
    return db.session.scalar(visible_endpoints(user).where(WebhookEndpoint.id == endpoint_id))


def deliveries_of(endpoint: WebhookEndpoint) -> Select:
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
    )


def load_delivery(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery | None:
    return db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )


# --- checking what people type ----------------------------------------------------------


def _private(address: str) -> bool:
    found = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        found = found.ipv4_mapped
    return not found.is_global


def check_host(host: str, port: int | None) -> None:
    """Refuse a host that is, or resolves to, an address on this host or a private network
    (unless WEBHOOK_ALLOW_PRIVATE): an endpoint must not reach inside the portal's own
    network. Raises Refused, with the reason, also when the name does not resolve."""
    try:
        found = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FieldRefused(
            _("The address %(host)s cannot be found: check its spelling.", host=host), "url"
        ) from exc
    if current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        return
    if any(_private(info[4][0]) for info in found):
        raise FieldRefused(
            _(
                "%(host)s is on a private network or this host: webhooks go only to public "
                "addresses.",
                host=host,
            ),
            "url",
        )


def clean_url(raw: str | None) -> str:
    url = (raw or "").strip()
    if not url:
        raise FieldRefused(_("Give the address the events are sent to."), "url")
    if len(url) > URL_LENGTH:
        raise FieldRefused(
            _("An address has at most %(count)s characters.", count=URL_LENGTH), "url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FieldRefused(_("This is not a web address."), "url") from exc
    if parts.scheme.lower() != "https":
        raise FieldRefused(
            _("The address must start with https://: events are sent only encrypted."), "url"
        )
    if not parts.hostname:
        raise FieldRefused(_("This is not a web address."), "url")
    if parts.username or parts.password:
        raise FieldRefused(
            _("Leave sign-in details out of the address: the signature proves the sender."),
            "url",
        )
    if parts.fragment:
        raise FieldRefused(_("An address sent to has no “#” part."), "url")
    check_host(parts.hostname, port)
    return url


def clean_types(owner: User, chosen) -> list[str]:
    wanted = [t for t in dict.fromkeys(chosen or ()) if t]
    if not wanted:
        raise FieldRefused(_("Choose at least one event to send."), "event_types")
    allowed = {t.key for t in types_for(owner)}
    unknown = [t for t in wanted if t not in allowed]
    if unknown:
        raise FieldRefused(
            _("You may not receive these events: %(types)s.", types=", ".join(unknown)),
            "event_types",
        )
    return [t.key for t in EVENT_TYPES if t.key in wanted]


def clean_description(raw: str | None) -> str:
    text = " ".join((raw or "").split())
    if len(text) > DESCRIPTION_LENGTH:
        raise FieldRefused(
            _("A description has at most %(count)s characters.", count=DESCRIPTION_LENGTH),
            "description",
        )
    return text


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(endpoint: WebhookEndpoint) -> str | None:
    return sealed.unseal(endpoint.secret_sealed, PURPOSE)


# --- keeping endpoints ------------------------------------------------------------------


def _refuse_unless_manager(actor: User) -> None:
    if not may_manage(actor):
        raise Refused(_("You may not keep webhooks."))


def _changed(endpoint: WebhookEndpoint) -> None:
    events.record(db.session, CHANGED, endpoint.id, company=endpoint.company_id)


def _shown(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": list(endpoint.event_types or []),
        "enabled": bool(endpoint.enabled),
    }


def create(
    owner: User, url: str, event_types, *, description: str = "", ip: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret (shown once)."""
    _refuse_unless_manager(owner)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        owner_id=owner.id,
        company_id=None if owner.is_staff else owner.company_id,
        url=clean_url(url),
        description=clean_description(description),
        event_types=clean_types(owner, event_types),
        secret_sealed=sealed.seal(secret, PURPOSE),
        enabled=True,
        disabled_reason="",
        failures=0,
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        "webhook.created",
        actor=owner,
        target=endpoint,
        summary=f"Webhook endpoint {endpoint.url} registered",
        after=_shown(endpoint),
        ip=ip,
    )
    _changed(endpoint)
    return endpoint, secret


def update(
    endpoint: WebhookEndpoint,
    *,
    actor: User,
    url: str,
    event_types,
    description: str = "",
    ip: str = "",
) -> None:
    _refuse_unless_manager(actor)
    before = _shown(endpoint)
    endpoint.url = clean_url(url)
    endpoint.description = clean_description(description)
    endpoint.event_types = clean_types(endpoint.owner, event_types)
    endpoint.updated_at = utcnow()
    audit.record(
        "webhook.changed",
        actor=actor,
        target=endpoint,
        summary=f"Webhook endpoint {endpoint.url} changed",
        before=before,
        after=_shown(endpoint),
        ip=ip,
    )
    _changed(endpoint)


def switch(endpoint: WebhookEndpoint, on: bool, *, actor: User, ip: str = "") -> None:
    """Switch an endpoint on (its failures forgotten) or off by hand."""
    _refuse_unless_manager(actor)
    if on and endpoint.owner.status != "active":
        raise Refused(
            _(
                "Its owner, %(name)s, can no longer sign in: register a new endpoint instead.",
                name=endpoint.owner.name,
            )
        )
    if bool(endpoint.enabled) == on:
        return
    endpoint.enabled = on
    endpoint.failures = 0
    endpoint.disabled_reason = "" if on else "switched off by hand"
    endpoint.disabled_at = None if on else utcnow()
    endpoint.updated_at = utcnow()
    audit.record(
        "webhook.enabled" if on else "webhook.disabled",
        actor=actor,
        target=endpoint,
        summary=f"Webhook endpoint {endpoint.url} switched {'on' if on else 'off'}",
        ip=ip,
    )
    _changed(endpoint)


def rotate(endpoint: WebhookEndpoint, *, actor: User, ip: str = "") -> str:
    """A new signing secret; the old one signs nothing more. Returns it (shown once)."""
    _refuse_unless_manager(actor)
    secret = new_secret()
    endpoint.secret_sealed = sealed.seal(secret, PURPOSE)
    endpoint.updated_at = utcnow()
    audit.record(
        "webhook.secret_rotated",
        actor=actor,
        target=endpoint,
        summary=f"Webhook endpoint {endpoint.url}: new signing secret",
        ip=ip,
    )
    _changed(endpoint)
    return secret


def remove(endpoint: WebhookEndpoint, *, actor: User, ip: str = "") -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    _refuse_unless_manager(actor)
    audit.record(
        "webhook.removed",
        actor=actor,
        target=endpoint,
        summary=f"Webhook endpoint {endpoint.url} removed",
        before=_shown(endpoint),
        ip=ip,
    )
    _changed(endpoint)
    db.session.delete(endpoint)


def send_test(endpoint: WebhookEndpoint, *, actor: User, ip: str = "") -> WebhookDelivery:
    """Send a `webhook.test` event now, to check the receiver and its signature check."""
    _refuse_unless_manager(actor)
    if not endpoint.enabled:
        raise Refused(_("Switch the endpoint on first."))
    delivery = _deliver_to(endpoint, TEST, endpoint.id, {}, utcnow())
    audit.record(
        "webhook.tested",
        actor=actor,
        target=endpoint,
        summary=f"Test event sent to {endpoint.url}",
        ip=ip,
    )
    return delivery


def resend(delivery: WebhookDelivery, *, actor: User, ip: str = "") -> None:
    """Send a delivery again, with its payload and `webhook-id` (a receiver that kept it
    sees a repeat)."""
    _refuse_unless_manager(actor)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        raise Refused(_("Switch the endpoint on first."))
    if delivery.state == "pending":
        raise Refused(_("This event is being sent already."))
    delivery.state = "pending"
    delivery.last_error = ""
    delivery.job_id = jobs.enqueue(DELIVER, delivery.id).id
    audit.record(
        "webhook.resent",
        actor=actor,
        target=endpoint,
        summary=f"{delivery.event_type} {delivery.message_id} sent again to {endpoint.url}",
        ip=ip,
    )
    _changed(endpoint)


# --- emitting ---------------------------------------------------------------------------

_MEMO = "portal_webhook_endpoints"


@dataclass(frozen=True)
class _Listening:
    id: int
    owner_id: int
    company_id: int | None
    types: frozenset[str]


def _listening() -> list[_Listening]:
    """The endpoints switched on, read once per transaction (most transactions that emit
    find none, and pay one small statement)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is not None and memo[0] is transaction:
        return memo[1]
    rows = db.session.execute(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.owner_id,
            WebhookEndpoint.company_id,
            WebhookEndpoint.event_types,
        ).where(WebhookEndpoint.enabled.is_(True))
    ).all()
    found = [_Listening(r[0], r[1], r[2], frozenset(r[3] or ())) for r in rows]
    session.info[_MEMO] = (transaction, found)
    return found


def _sees_company(owner: User, company_id: int | None) -> bool:
    if company_id is None:
        return False
    if not owner.is_staff:
        return owner.company_id == company_id
    return access.load_company(owner, company_id) is not None


def _sees_product(owner: User, product, data: dict) -> bool:
    if owner.is_staff:
        # A group's own price is shown to staff who see group prices.
        return data.get("group_id") is None or access.can(owner, "groups.view")
    company = owner.company
    if company is None or company.group is None:
        return False
    group = company.group
    if data.get("group_id") is not None and data["group_id"] != group.id:
        return False
    return visibility.available(product, group.id)


def _level_moved(owner: User, data: dict) -> bool:
    """Does a stock change show to this owner at all? Staff see counts; a group shown
    levels only sees a level move."""
    if owner.is_staff or "before" not in data:
        return True
    policy = GroupPolicy.of(owner.company.group)
    if policy.sees_counts:
        return True
    return stock_view(policy, data["before"]).level != stock_view(policy, data["after"]).level


def emit(
    event_type: str,
    subject_id: int,
    *,
    company_id: int | None = None,
    product=None,
    **data,
) -> None:
    """An event of `event_type` about record `subject_id`, inside the transaction that
    made it: a delivery and a job for each endpoint whose owner may learn of it."""
    kind = TYPES[event_type]
    listening = [e for e in _listening() if event_type in e.types]
    if not listening:
        return
    now = utcnow()
    for found in listening:
        owner = db.session.get(User, found.owner_id)
        if not may_receive(owner, event_type):
            continue
        if kind.company:
            if not _sees_company(owner, company_id):
                continue
        else:
            product = product if product is not None else db.session.get(Product, subject_id)
            if not _sees_product(owner, product, data):
                continue
        if event_type == "stock.changed" and not _level_moved(owner, data):
            continue
        endpoint = db.session.get(WebhookEndpoint, found.id)
        _deliver_to(endpoint, event_type, subject_id, data, now)


def emit_stock(product_id: int, before: int, after: int, *, product=None) -> None:
    """A product's stock moved from `before` to `after` (levels groups hear of a level
    move only)."""
    if before != after:
        emit("stock.changed", product_id, product=product, before=before, after=after)


def emit_price(product_id: int, *, group_id: int | None = None, product=None) -> None:
    """A product's price changed: its base price or list (`group_id` None: every group's
    offer may move) or one group's own price or breaks."""
    emit("price.changed", product_id, product=product, group_id=group_id)


def _deliver_to(endpoint, event_type: str, subject_id: int, data: dict, now) -> WebhookDelivery:
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type=event_type,
        subject_id=subject_id,
        data={k: v for k, v in data.items() if v is not None},
        message_id=f"msg_{secrets.token_urlsafe(18)}",
        occurred_at=now,
        state="pending",
        attempts=0,
        last_error="",
        last_response="",
    )
    db.session.add(delivery)
    db.session.flush()
    delivery.job_id = jobs.enqueue(DELIVER, delivery.id).id
    _changed(endpoint)
    return delivery


# --- sending ----------------------------------------------------------------------------


def _stamp(at: datetime) -> str:
    return at.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _render(owner: User, delivery: WebhookDelivery) -> str | None:
    """The message body: Standard Webhooks' {type, timestamp, data}, or None when the
    owner may not see the record any more."""
    if delivery.event_type == TEST:
        data = {"endpoint_id": delivery.endpoint_id, "message": "This is a test event."}
    else:
        renderer = RENDERERS.get(delivery.event_type)
        if renderer is None:
            raise RuntimeError(f"no renderer for {delivery.event_type}")
        with i18n.in_language(owner.language):
            data = renderer(owner, delivery)
        if data is None:
            return None
    body = {"type": delivery.event_type, "timestamp": _stamp(delivery.occurred_at), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def _why_not(delivery: WebhookDelivery) -> str:
    endpoint = delivery.endpoint
    owner = endpoint.owner
    if not endpoint.enabled:
        return "The endpoint is switched off."
    if owner is None or owner.status != "active":
        return "The endpoint's owner can no longer sign in."
    if delivery.event_type != TEST and not may_receive(owner, delivery.event_type):
        return "The endpoint's owner may no longer receive this event."
    return ""


def _skip(delivery: WebhookDelivery, why: str) -> None:
    delivery.state = "skipped"
    delivery.last_error = why
    _changed(delivery.endpoint)
    db.session.commit()


def _post(url: str, body: bytes, headers: dict) -> httpx.Response:
    config = current_app.config
    seconds = config["WEBHOOK_TIMEOUT_SECONDS"]
    ca_file = config["WEBHOOK_CA_FILE"]
    verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
    with httpx.Client(
        timeout=httpx.Timeout(seconds), verify=verify, follow_redirects=False, trust_env=False
    ) as client:
        return client.post(url, content=body, headers=headers)


def _record(delivery: WebhookDelivery, status: int | None, answer: str, error: str, ms: int):
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_response = answer[:RESPONSE_KEPT]
    delivery.last_error = error[:500]
    delivery.last_duration_ms = ms
    delivery.last_attempt_at = utcnow()


@jobs.task(DELIVER, label=N_("Webhook delivery"), attempts=ATTEMPTS, time_limit=120)
def deliver(delivery_id: int) -> None:
    """One try at a delivery: render it (first try), sign it, post it, note the answer.

    A 2xx answer delivers it; anything else (another status, a refused connection, a
    timeout, a certificate that does not check) is a failed try the queue retries."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return
    endpoint = delivery.endpoint
    if why := _why_not(delivery):
        _skip(delivery, why)
        return
    if delivery.payload is None:
        payload = _render(endpoint.owner, delivery)
        if payload is None:
            _skip(delivery, "The record is not visible to the endpoint's owner.")
            return
        delivery.payload = payload
        db.session.commit()
    secret = secret_of(endpoint)
    if secret is None:
        raise jobs.Failed("The signing secret cannot be read (SECRET_KEY changed): rotate it.")
    parts = urlsplit(endpoint.url)
    at = datetime.now(UTC)
    body = delivery.payload.encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.message_id, at, body),
    }
    started = time.monotonic()
    try:
        check_host(parts.hostname or "", parts.port)  # again: a name may resolve anew
        answer = _post(endpoint.url, body, headers)
    except (Refused, httpx.HTTPError, OSError) as exc:
        ms = int((time.monotonic() - started) * 1000)
        _record(delivery, None, "", str(exc) or type(exc).__name__, ms)
        _changed(endpoint)
        db.session.commit()
        raise RuntimeError(f"webhook {delivery.message_id}: {exc}") from exc
    ms = int((time.monotonic() - started) * 1000)
    text = answer.text if answer.content else ""
    if 200 <= answer.status_code < 300:
        _record(delivery, answer.status_code, text, "", ms)
        delivery.state = "delivered"
        delivery.delivered_at = utcnow()
        endpoint.failures = 0
        _changed(endpoint)
        db.session.commit()
        return
    error = f"The endpoint answered {answer.status_code}."
    _record(delivery, answer.status_code, text, error, ms)
    _changed(endpoint)
    db.session.commit()
    raise RuntimeError(f"webhook {delivery.message_id}: {error}")


@deliver.describer
def _describe(delivery_id: int) -> str:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return f"webhook delivery {delivery_id} (removed)"
    host = urlsplit(delivery.endpoint.url).hostname or ""
    return f"{delivery.event_type} → {host}"


@deliver.failure_handler
def _out_of_tries(delivery_id: int, *, error: str) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return
    delivery.state = "failed"
    delivery.last_error = (delivery.last_error or error)[:500]
    endpoint = delivery.endpoint
    endpoint.failures += 1
    _changed(endpoint)
    limit = current_app.config["WEBHOOK_DISABLE_AFTER"]
    if endpoint.enabled and endpoint.failures >= limit:
        _disable_failing(endpoint, limit)


@deliver.retry_handler
def _retried(delivery_id: int) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise Refused(_("This webhook delivery no longer exists."))
    if not delivery.endpoint.enabled:
        raise Refused(_("Switch the endpoint on first."))
    delivery.state = "pending"
    _changed(delivery.endpoint)


def _disable_failing(endpoint: WebhookEndpoint, limit: int) -> None:
    """Off after `limit` failed deliveries in a row; the owner is told by mail."""
    endpoint.enabled = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = f"{limit} deliveries in a row failed"
    audit.record(
        "webhook.disabled",
        actor=None,
        target=endpoint,
        summary=f"Webhook endpoint {endpoint.url} switched off: {limit} deliveries failed",
    )
    # Each reader's copy in their own language (core.notify renders the lazy texts).
    notify.people(
        [endpoint.owner],
        _("A webhook endpoint was switched off"),
        _(
            "Events could not be delivered to %(url)s: %(count)s deliveries in a row "
            "failed, each after several tries, so it is switched off and nothing more "
            "is sent to it. Its delivery log says what the endpoint answered; switch "
            "it on again on its page once it works.",
            url=endpoint.url,
            count=limit,
        ),
    )


def pretty(payload: str | None) -> str:
    """A payload as sent, indented for reading ("" before its first try)."""
    if not payload:
        return ""
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        return payload


def state_label(state: str) -> str:
    return str(STATES.get(state, state))


def type_label(event_type: str) -> str:
    if event_type == TEST:
        return str(_("Test event"))
    kind = TYPES.get(event_type)
    return str(kind.label) if kind is not None else event_type
