"""Security headers on every response."""

from flask import Response, current_app, request
from flask_login import current_user

# No inline script and no eval anywhere: htmx runs with allowEval off and the
# CSRF token travels in hx-headers (an attribute, not a script).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# No page uses these browser features; a page that is subverted cannot either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)
HSTS = "max-age=31536000; includeSubDomains"  # production only: it is served over HTTPS
# Sign-out: the browser drops what it cached of signed-in pages, its cookies for the site
# and what scripts stored (the sign-in page then says so from its query string).
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def apply_security_headers(response: Response) -> Response:
    """OWASP's secure headers on every answer (HSTS only where it is served over HTTPS)."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Same-origin referers stay whole: Flask-WTF checks them on HTTPS.
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if current_app.config["PORTAL_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" and current_user and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response
