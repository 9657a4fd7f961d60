"""Customer groups and their policy, and group prices with bulk editing."""

from . import bp  # noqa: F401
