"""Back-office quotes module."""

from . import bp  # noqa: F401
