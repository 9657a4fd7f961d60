"""Back-office roles module."""

from . import bp  # noqa: F401
