"""Storefront orders."""

from . import bp  # noqa: F401
