"""A webhook endpoint of Acme Robotics, switched off: its ERP's order intake, kept by its
decision-maker (the receiver is not on the network here, so nothing is ever sent to it)."""

from datetime import datetime, timedelta

from core import sealed, webhooks
from core.models import Company, User, WebhookEndpoint
from extensions import db

URL = "https://erp.acme-robotics.example/hooks/portal"


def build_webhooks(now: datetime, companies: dict[str, Company], people: dict[str, User]):
    owner = people["orders@acme.test"]
    endpoint = WebhookEndpoint(
        owner=owner,
        company=companies["acme"],
        url=URL,
        description="ERP order intake (test system)",
        event_types=["order.placed", "order.status_changed", "shipment.created"],
        secret_sealed=sealed.seal(webhooks.new_secret(), webhooks.PURPOSE),
        enabled=False,
        disabled_reason="switched off by hand",
        disabled_at=now - timedelta(days=3),
        failures=0,
        created_at=now - timedelta(days=20),
        updated_at=now - timedelta(days=3),
    )
    db.session.add(endpoint)
    return endpoint
