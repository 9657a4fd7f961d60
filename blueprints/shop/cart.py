"""Storefront cart."""

from . import bp  # noqa: F401
