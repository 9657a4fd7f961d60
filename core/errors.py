"""Errors a service raises for the person to read: the message says what to do."""


class Refused(ValueError):
    """A request the rules do not allow; nothing was changed."""


class FieldRefused(Refused):
    """A refusal about one form field: `field` names it, so the form shows the message there."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(LookupError):
    """The record does not exist, or the person may not see it (both answer 404)."""
