"""Storefront quotes."""

from . import bp  # noqa: F401
