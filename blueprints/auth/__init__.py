"""Signing in and out, passwords, and one's own account."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import account, passwords, quote_links, tokens, views, webhooks  # noqa: E402,F401  (routes register on import)
