"""Back-office users module."""

from . import bp  # noqa: F401
