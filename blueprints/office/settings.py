"""Portal settings: seller details on invoices, default thresholds and terms, invitations."""

from . import bp  # noqa: F401
