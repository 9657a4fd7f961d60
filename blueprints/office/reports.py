"""Financial reports: sales by period, customer, product and rep; margins; receivables ageing."""

from . import bp  # noqa: F401
