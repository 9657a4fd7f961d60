"""Who calls the API: a personal access token, checked before anything else of the request.

The API takes only `Authorization: Bearer <token>`; a session cookie sent with an API
request is never looked at, so a page of the site (or another site the browser is on)
cannot call the API in a person's name. That is why the API blueprint is exempt from
Flask-WTF's CSRF check: there is no ambient credential to forge requests with.

A token acts as its owner, exactly: the person object becomes `current_user` for the
request, so every guard, scope, offer and service reads the owner's permissions, record
scope and customer group as they are now. A read-only token is refused every change.
Each request counts against the token's rate limit (core.tokens.authenticate).
"""

from functools import wraps

from flask import current_app, g, json, request
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.common import client_ip
from blueprints.fragments.shipments import may_see_shipments
from core import access, audit, tokens
from core.models import User
from extensions import db

from .problems import PREFIX, Problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Answered to anyone: the description of the API itself.
PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.reference"})
CHALLENGE = 'Bearer realm="portal-api"'


def _unauthenticated(detail: str, error: str | None = None) -> Problem:
    challenge = CHALLENGE + (f', error="{error}"' if error else "")
    return Problem(401, detail, kind="unauthenticated", headers={"WWW-Authenticate": challenge})


def authenticate():
    """Before every request (registered first): an API request's person is its token's
    owner, or nobody; never the session cookie's."""
    if not request.path.startswith(PREFIX):
        return None
    g._login_user = current_app.login_manager.anonymous_user()
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None  # a route that does not exist is a 404 (or 405) problem for anyone
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise _unauthenticated(
            _("Send a personal access token as `Authorization: Bearer <token>`.")
        )
    config = current_app.config
    admitted = tokens.authenticate(
        raw,
        ip=client_ip(),
        limit=config["API_RATE_LIMIT"],
        window_seconds=config["API_RATE_WINDOW_SECONDS"],
    )
    if admitted is None:
        raise _unauthenticated(
            _(
                "This token is not valid: it is unknown, revoked or expired, or its owner "
                "no longer has access to the portal."
            ),
            "invalid_token",
        )
    if isinstance(admitted, tokens.Throttled):
        raise Problem(
            429,
            _(
                "This token made more than %(limit)s requests in the current window. Wait "
                "%(seconds)s seconds and try again.",
                limit=admitted.limit,
                seconds=admitted.retry_after,
            ),
            kind="rate-limited",
            headers={
                "Retry-After": str(admitted.retry_after),
                "RateLimit-Limit": str(admitted.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(admitted.retry_after),
            },
        )
    person = db.session.get(User, admitted.user_id)
    if person is None or person.status != "active":
        raise _unauthenticated(_("The token's owner no longer has access."), "invalid_token")
    g._login_user = person  # Flask-Login's current_user, for this request only
    g.api_token = admitted
    audit.acting_through(person, admitted.token_id, admitted.name)
    if request.method not in SAFE_METHODS and admitted.read_only:
        raise Problem(
            403,
            _("This token is read-only: create a token that may write to make changes."),
            kind="read-only-token",
        )
    return None


def readable_body():
    """Before each API view: a JSON body that Python cannot read (broken, or a number of
    100,000 digits, which json refuses with a ValueError webargs does not expect) is a 400
    problem, never a 500."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        return None
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        message = _("The body is not valid JSON.")
        raise Problem(
            400,
            message,
            kind="validation",
            errors=[{"in": "json", "field": "", "messages": [message]}],
        ) from None
    return None


def rate_headers(response):
    """After every API request: what is left of the token's limit (IETF RateLimit fields)."""
    admitted = g.get("api_token")
    if admitted is not None:
        response.headers["RateLimit-Limit"] = str(admitted.limit)
        response.headers["RateLimit-Remaining"] = str(admitted.remaining)
        response.headers["RateLimit-Reset"] = str(admitted.reset_seconds)
    return response


def audit_write(response):
    """After a change made through the API: audited with the token's name. Services audit
    what they change themselves (core.audit tags those entries with the token); a change
    that no service audited (a cart line) gets one entry saying what was called."""
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return response
    person = current_user._get_current_object()
    via = audit.token_of(person)
    if via is not None and via.entries == 0:
        audit.record(
            "api.write",
            actor=person,
            summary=f"{request.method} {request.path} answered {response.status_code}",
            after={"method": request.method, "path": request.path[:200]},
            ip=client_ip(),
        )
    return response


def person() -> User:
    """The token's owner (a guard has checked there is one)."""
    return current_user._get_current_object()


def need(permission: str) -> None:
    """A whole module outside the owner's permissions: 403."""
    if not access.can(current_user, permission):
        raise Problem(403, forbidden())


def forbidden() -> str:
    from blueprints.boundary import FORBIDDEN

    return _(FORBIDDEN)


def face(kind: str) -> None:
    """The route is for staff or for customer people only: the other face gets a 403."""
    if not current_user.is_authenticated or current_user.kind != kind:
        raise Problem(403, forbidden())


def customer_route(*permissions: str):
    """A route of the storefront's side: customer people holding one of `permissions`
    (none: every customer person)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            face("customer")
            if permissions and not access.can_any(current_user, permissions):
                raise Problem(403, forbidden())
            return view(*args, **kwargs)

        return wrapped

    return decorator


def staff_route(*permissions: str):
    """A route of the back office's side: staff holding every one of `permissions`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            face("staff")
            for permission in permissions:
                need(permission)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def reader_route(area: str):
    """A route both faces read (orders, quotes, invoices): as core.access.may_read says."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not access.may_read(current_user, area):
                raise Problem(403, forbidden())
            return view(*args, **kwargs)

        return wrapped

    return decorator


def shipment_route(view):
    """Whoever reads shipments: customer people who read orders, staff with shipping.view."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not may_see_shipments(current_user):
            raise Problem(403, forbidden())
        return view(*args, **kwargs)

    return wrapped
