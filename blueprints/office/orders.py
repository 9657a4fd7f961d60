"""Back-office orders module."""

from . import bp  # noqa: F401
