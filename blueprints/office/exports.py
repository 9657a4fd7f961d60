"""CSV exports of products, orders and invoices, within the viewer's field and record rights."""

from . import bp  # noqa: F401
