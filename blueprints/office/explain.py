"""The price explainer: how a customer's price and stock form for a product were built."""

from . import bp  # noqa: F401
