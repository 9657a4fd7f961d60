"""Webhooks: the HTTPS endpoints people register for events, and each delivery to one."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

from .api import LongText
from .base import Json, utcnow


class WebhookEndpoint(db.Model):
    """An HTTPS address that is sent the events it subscribes to (core.webhooks).

    Owned by one person: every payload is rendered with the owner's rights, so an endpoint
    never learns more than its owner could read. A customer's endpoint belongs to the
    owner's company too (`company_id`): its decision-makers keep it together. The signing
    secret is sealed at rest (core.sealed); `failures` counts deliveries in a row that ran
    out of attempts, and at WEBHOOK_DISABLE_AFTER the endpoint is switched off.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list] = mapped_column(Json, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    disabled_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner = relationship("User")
    company = relationship("Company")


class WebhookDelivery(db.Model):
    """One event sent to one endpoint: what, to whom, and how each try went.

    `message_id` is the Standard Webhooks `webhook-id`: the same for every try and for a
    "send again", so a receiver can tell a repeat. `payload` is rendered once, at the first
    try, with the owner's rights then; `data` holds what the event itself said (an order's
    previous status, a stock level before and after).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    data: Mapped[dict] = mapped_column(Json, default=dict)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    payload: Mapped[str | None] = mapped_column(LongText)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_response: Mapped[str] = mapped_column(String(500), default="")
    last_duration_ms: Mapped[int | None]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )

    endpoint = relationship("WebhookEndpoint")
