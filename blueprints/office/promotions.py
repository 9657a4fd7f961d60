"""Promotions: time window, products or categories, a discount and visibility per group."""

from . import bp  # noqa: F401
