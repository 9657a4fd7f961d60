"""Authorization matrix rows of the webhook pages (merged by test_authorization_matrix).

Staff with `webhooks.manage` (admin, manager) keep their own endpoints; a company's
decision-makers (`shop.webhooks`) keep the company's. The demo's one endpoint is Acme's:
its decision-maker is served, everyone else who keeps webhooks gets a 404 (not theirs),
everyone else a 403. The demo holds no delivery, so a delivery URL is a 404 even for Acme.
"""

from sqlalchemy import select

from core.models import WebhookEndpoint
from tests.conftest import CUSTOMER_EMAILS, STAFF_EMAILS
from tests.matrix_base import ADMIN, ANON, DECISION_MAKERS, MANAGER, OK

ACME_DM = "orders@acme.test"
KEEPERS = (ADMIN, MANAGER, *DECISION_MAKERS)


def ids(session) -> dict:
    return {"acme_webhook": session.scalar(select(WebhookEndpoint.id).order_by(WebhookEndpoint.id))}


def keepers(ok=OK, *, only=None, missing=404):
    """Those who keep webhooks get `ok` (or, with `only`, just that persona does and the
    other keepers `missing`); everyone else 403; anonymous to sign-in."""
    table = {ANON: 302}
    for email in (*STAFF_EMAILS, *CUSTOMER_EMAILS):
        if email not in KEEPERS:
            table[email] = 403
        elif only is None or email == only:
            table[email] = ok
        else:
            table[email] = missing
    return table


ENDPOINT = "/account/webhooks/{acme_webhook}"
DELIVERY = ENDPOINT + "/deliveries/999999"

ROWS = {
    ("auth.webhooks_list", "GET"): ("/account/webhooks", keepers(200)),
    ("auth.webhook_create", "POST"): ("/account/webhooks", keepers(422)),
    ("auth.webhook_page", "GET"): (ENDPOINT, keepers(200, only=ACME_DM)),
    ("auth.webhook_update", "POST"): (ENDPOINT, keepers(422, only=ACME_DM)),
    ("auth.webhook_switch", "POST"): (ENDPOINT + "/switch", keepers(only=ACME_DM)),
    ("auth.webhook_test", "POST"): (ENDPOINT + "/test", keepers(only=ACME_DM)),
    ("auth.webhook_rotate", "POST"): (ENDPOINT + "/rotate", keepers(200, only=ACME_DM)),
    ("auth.webhook_remove", "POST"): (ENDPOINT + "/remove", keepers(only=ACME_DM)),
    ("auth.webhook_delivery", "GET"): (DELIVERY, keepers(404)),
    ("auth.webhook_resend", "POST"): (DELIVERY + "/resend", keepers(404)),
}
