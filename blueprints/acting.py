"""The storefront as staff open it for a customer person (core.acting), request by request.

A staff session may open the storefront as one customer person: acting for them
(building carts, ordering, asking for quotes in their name) or viewing as them
(read-only). Before every request of such a session:

- the person is read again and the staff member's access checked again
  (core.acting.resume): losing `customers.act`, the customer's assignment or the
  person's access ends it at once, audited, and a storefront page goes to the office;
- on a storefront page (the `shop` blueprint) the person becomes `current_user`, with
  their rights narrowed as core.access.assume says, so that every storefront view,
  service, offer and template works for them unchanged; every other page (the office,
  the account, sign-out) stays the staff member's own, with their own CSRF token,
  language and session: signing out or being blocked ends the view with the session;
- a change the mode does not allow is refused before any view runs: every one while
  viewing (403), anything but building carts, ordering and asking for quotes while
  acting; and a viewing request's transaction is rolled back whatever it did.

The person is never kept between requests (core.sessions keeps only the staff session,
which carries whom it opens the storefront as: starting or ending writes login_sessions,
so kept sessions are forgotten in every process at once).
"""

from flask import Flask, flash, g, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from blueprints.common import client_ip, go
from blueprints.i18n import person_locale
from core import access, acting, i18n, settings, transaction
from core.i18n import N_

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The storefront's changes staff acting for a person may make: their cart (lines, delivery
# choices, submitting it for approval, checking out), what fills it (the quick order, a
# reorder, a shared list), and asking for a quote. Anything else is the person's own.
ACTING_CHANGES = frozenset(
    {
        "shop.cart_add",
        "shop.cart_line",
        "shop.cart_remove",
        "shop.cart_choices",
        "shop.cart_submit",
        "shop.checkout",
        "shop.quick_order_check",
        "shop.quick_order_add",
        "shop.order_reorder",
        "shop.list_to_cart",
        "shop.quote_new",
    }
)

READ_ONLY = N_(
    "You are viewing the storefront as a customer sees it: nothing can be changed here. "
    "Exit the view to work in your own name."
)
NOT_WHILE_ACTING = N_(
    "While acting for a customer you build their cart, place their order and ask for "
    "quotes; this change is theirs to make."
)


class Refusal(Forbidden):
    """A 403 that says why (the error page keeps its words: see app.register_errorhandlers)."""

    keeps_description = True


def open_as_customer():
    """Before each request: the storefront person of a staff session, checked again."""
    if request.endpoint in (None, "static") or request.blueprint == "live":
        return None
    staff = current_user._get_current_object()
    if not staff.is_authenticated or not staff.is_staff or staff.session_assumed is None:
        return None
    if request.endpoint == "auth.logout":
        acting.stop(staff, staff.session_token, acting.SIGNED_OUT, ip=client_ip())
        return None
    person = acting.resume(staff)
    if person is None:
        ended = acting.stop(staff, staff.session_token, acting.ACCESS_LOST, ip=client_ip())
        staff.session_assumed = None
        if ended is not None:
            flash(
                _(
                    "The storefront for %(name)s has closed: your access to this customer "
                    "has changed.",
                    name=ended.name,
                ),
                "warning",
            )
        return go(url_for("office.dashboard")) if request.blueprint == "shop" else None
    g.assumed, g.assumed_by = person, staff
    if request.blueprint != "shop":
        return None  # the office, the account and sign-out stay the staff member's own
    g.in_storefront = True
    g._login_user = person  # Flask-Login's current_user, for this request only
    # The pages read in the staff member's language and time zone: they are its reader.
    g.i18n_locale = person_locale(staff) or (
        request.accept_languages.best_match(list(i18n.LANGUAGES)) or i18n.DEFAULT_LANGUAGE
    )
    g.i18n_zone = staff.timezone or settings.timezone()
    refresh()
    if request.method not in SAFE_METHODS:
        if access.is_read_only(person):
            raise Refusal(_(READ_ONLY))
        if request.endpoint not in ACTING_CHANGES:
            raise Refusal(_(NOT_WHILE_ACTING))
    return None


def keep_nothing_viewed(response):
    """A request of the storefront viewed as a customer writes nothing, whatever it did."""
    if g.get("in_storefront") and access.is_read_only(g.get("assumed")):
        transaction.rollback_quietly()
    return response


def banner_context() -> dict:
    """What base.html's banner and socket need: whom the session opens the storefront as."""
    person = g.get("assumed")
    if person is None:
        return {"live_socket_args": {}}
    found = access.assumption(person)
    in_storefront = bool(g.get("in_storefront"))
    return {
        "assumed": person,
        "assumed_mode": found.mode if found else "",
        "assumed_by": g.get("assumed_by"),
        "in_storefront": in_storefront,
        "read_only": in_storefront and access.is_read_only(person),
        # The storefront's socket renders for the person, within the staff member's reach.
        "live_socket_args": {"as": person.id} if in_storefront else {},
    }


def init_acting(app: Flask) -> None:
    """After the request boundary is in place: its commit must come after the rollback of a
    viewing request (after_request functions run last registered first)."""
    app.before_request(open_as_customer)
    app.after_request(keep_nothing_viewed)
    app.context_processor(banner_context)
    app.jinja_env.globals["by_whom"] = acting.by_whom
