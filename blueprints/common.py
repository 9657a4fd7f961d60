"""What every view shares: page-or-fragment rendering, face guards, template globals."""

from functools import wraps

from flask import abort, current_app, make_response, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from blueprints.forms import EmptyForm
from core import access, catalog, settings
from extensions import login_manager


def is_htmx() -> bool:
    """A request made by htmx (and not a boosted full navigation)."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )


def render(page: str, fragment: str | None = None, **context):
    """Render the full page, or only its fragment for an htmx request.

    The page includes the fragment, so its markup exists once. `Vary: HX-Request`
    keeps caches from serving one in place of the other.
    """
    template = fragment if fragment and is_htmx() else page
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


def go(url: str, htmx_status: int = 200):
    """Navigate: a redirect for a plain form, HX-Redirect for htmx (a whole new page)."""
    if is_htmx():
        response = make_response("", htmx_status)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def checked_csrf() -> None:
    """A bare POST's token (CSRFProtect checks it first; this keeps the views explicit)."""
    if not EmptyForm().validate_on_submit():
        abort(400, description="The form has expired. Reload the page and try again.")


def client_ip() -> str:
    """The address of the person making the request (the proxy sets remote_addr)."""
    return (request.remote_addr or "")[:45]


def page_arg() -> int:
    """The `page` query parameter of a list; malformed is a clear 400."""
    try:
        return catalog.parse_page(request.args.get("page"))
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def choice_arg(name: str, allowed, message: str, default: str = "") -> str:
    """A query parameter that must be one of `allowed` (empty means "any"); else a 400.

    `message` may name the value as {value}; it is cut short, never echoed whole.
    """
    value = request.args.get(name, "") or default
    if value and value not in allowed:
        abort(400, description=message.format(value=value[:40]))
    return value


def search_arg() -> str:
    """The `q` query parameter of a list; too long is a clear 400."""
    try:
        return catalog.parse_query(request.args.get("q"), current_app.config["MAX_QUERY_LENGTH"])
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def listing_args() -> tuple[str, str, int]:
    """(q, sort, page) of a list page; a malformed value is a clear 400, never a 500."""
    try:
        return catalog.parse_listing(request.args, current_app.config["MAX_QUERY_LENGTH"])
    except catalog.BadQuery as exc:
        abort(400, description=str(exc))


def require_face(kind: str):
    """A blueprint guard: signed in, and of the face's kind (staff or customer), else 403."""

    def guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.kind != kind:
            abort(403, description="This part of the portal is not for your account.")
        return None

    return guard


def permission_required(permission: str):
    """Route guard: a whole module outside one's permissions is a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not access.can(current_user, permission):
                abort(403, description="Your role does not include this part of the portal.")
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


# Storefront navigation: (endpoint, label, permission needed or None for everyone).
SHOP_NAV = (
    ("shop.catalog", "Catalogue", None),
    ("shop.cart", "Cart", "shop.cart"),
    ("shop.approvals", "Approvals", "shop.approve"),
    ("shop.orders", "Orders", "shop.cart"),
    ("shop.quotes", "Quotes", "shop.quote"),
    ("shop.invoices", "Invoices", "shop.invoices"),
    ("shop.users", "People", "shop.users"),
)


def nav_items(face: str) -> list[tuple[str, str]]:
    """(endpoint, label) of the modules this person may open and that exist."""
    endpoints = current_app.view_functions
    if face == "office":
        items = [("office.dashboard", "Overview")]
        items += [
            (f"office.{m.key}", m.label)
            for m in access.nav_modules(current_user)
            if f"office.{m.key}" in endpoints
        ]
        return items
    return [
        (endpoint, label)
        for endpoint, label, permission in SHOP_NAV
        if endpoint in endpoints and (permission is None or access.can(current_user, permission))
    ]


def template_globals() -> dict:
    """`can(...)` for the signed-in person, navigation, the CSRF token for htmx, and
    settings that pages quote (read only when a template calls them)."""

    def can(permission: str) -> bool:
        return access.can(current_user, permission)

    return {
        "can": can,
        "csrf_token": generate_csrf,
        "nav_items": nav_items,
        "invitation_hours": settings.invitation_hours,
    }
