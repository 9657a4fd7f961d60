"""Storefront: a company's own people, managed by its decision-makers."""

from . import bp  # noqa: F401
