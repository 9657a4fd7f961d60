"""Orders refused for want of stock, counted per company (core.throttle).

A refusal answers one question, "is there at least this many?", so a group that sees only
levels could find the count by trying quantities at checkout. Every way a customer places
an order (checkout, approving a colleague's cart, accepting a quote) checks the company's
wait first and counts its refusals for stock; beyond the limit it answers 429 with the
wait, whatever the quantity. The refusal itself never carries a number (NotEnoughStock).
"""

from collections.abc import Callable
from typing import TypeVar

from flask import g, make_response, render_template
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests

from blueprints.boundary import keep_changes
from blueprints.common import client_ip, is_htmx
from core import audit, orders, throttle

KIND = "order_stock"
T = TypeVar("T")


def throttled():
    """A 429 answer when the person's company has had too many orders refused for stock
    lately; None when it may order."""
    wait = throttle.company_wait(KIND, current_user.company_id)
    if not wait:
        return None
    message = throttle.wait_message(wait, "orders refused for want of stock at your company")
    audit.record(
        "order.throttled",
        actor=current_user,
        ip=client_ip(),
        summary=f"Ordering refused for {wait} more minute(s): too many orders refused for stock",
    )
    keep_changes()  # the refusal is audited although the answer is an error
    error = TooManyRequests(message)
    template = "errors/_message.html" if is_htmx() else "errors/error.html"
    response = make_response(render_template(template, error=error, description=message), 429)
    response.headers["Retry-After"] = str(wait * 60)
    response.vary.add("HX-Request")
    return response


def count(refusal: Exception | None) -> None:
    """Count a refusal for stock against the person's company (kept although the change
    was undone and the answer is an error)."""
    if isinstance(refusal, orders.NotEnoughStock):
        throttle.note_company(KIND, current_user.company_id, client_ip())
        keep_changes()


def watching(move: Callable[..., T]) -> Callable[..., T]:
    """The move, noting a refusal for stock for `counted()` after it was undone (for views
    whose refusal is answered by shared code that does not hand it back)."""

    def wrapped(*args, **kwargs) -> T:
        try:
            return move(*args, **kwargs)
        except orders.NotEnoughStock as exc:
            g.refused_for_stock = exc
            raise

    return wrapped


def counted() -> None:
    """Count the refusal `watching` noted in this request, if any."""
    count(g.pop("refused_for_stock", None))
