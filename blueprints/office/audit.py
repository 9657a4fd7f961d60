"""Back-office audit module."""

from . import bp  # noqa: F401
