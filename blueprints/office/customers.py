"""Back-office customers module."""

from . import bp  # noqa: F401
