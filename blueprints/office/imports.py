"""CSV imports of products, stock levels and group prices, with a line-by-line report."""

from . import bp  # noqa: F401
