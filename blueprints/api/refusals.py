"""Orders refused for want of stock, counted per company as the storefront counts them
(blueprints/shop/stock_refusals.py): a refusal answers "is there at least this many?", so a
group shown only levels could find the count by trying quantities through the API. Every
way the API places an order (checkout, accepting a quote) checks the company's wait first
(429 with Retry-After beyond the limit) and counts its refusals for stock."""

from blueprints.boundary import keep_changes
from blueprints.common import client_ip
from core import audit, orders, throttle

from .problems import Problem

KIND = "order_stock"  # core.throttle's kind, shared with the storefront


def check_wait(user) -> None:
    """A 429 problem (audited) while the person's company has had too many orders refused
    for stock lately."""
    wait = throttle.company_wait(KIND, user.company_id)
    if not wait:
        return
    audit.record(
        "order.throttled",
        actor=user,
        ip=client_ip(),
        summary=f"Ordering refused for {wait} more minute(s): too many orders refused for stock",
    )
    keep_changes()  # the refusal is audited although the answer is an error
    raise Problem(
        429,
        throttle.wait_message(wait, "orders refused for want of stock at your company"),
        kind="rate-limited",
        headers={"Retry-After": str(wait * 60)},
    )


def count(user, refusal) -> None:
    """Count a refusal for stock against the person's company (kept although the change
    was undone and the answer is an error)."""
    if isinstance(refusal, orders.NotEnoughStock):
        throttle.note_company(KIND, user.company_id, client_ip())
        keep_changes()
