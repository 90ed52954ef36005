"""Errors services raise; the API maps each to one HTTP status."""


class NotFound(LookupError):
    """The named thing does not exist (404)."""


class Conflict(ValueError):
    """The request clashes with what is stored (409)."""


class TooLarge(ValueError):
    """The request is over a size limit the message names, with the fix (413)."""


class Unprocessable(ValueError):
    """The request is well-formed but cannot be applied (422); the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
