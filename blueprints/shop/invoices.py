"""Storefront invoices and balance."""

from . import bp  # noqa: F401
