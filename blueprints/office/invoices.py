"""Back-office invoices module."""

from . import bp  # noqa: F401
