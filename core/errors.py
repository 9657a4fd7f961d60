"""Errors a service raises for the person to read: the message says what to do."""


class Refused(ValueError):
    """A request the rules do not allow; nothing was changed."""


class NotFound(LookupError):
    """The record does not exist, or the person may not see it (both answer 404)."""
