"""Security headers on every response."""

from flask import Response, request
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


def apply_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Same-origin referers stay whole: Flask-WTF checks them on HTTPS.
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.endpoint != "static" and current_user and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response
