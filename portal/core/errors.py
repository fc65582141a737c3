"""The one application error: services raise it, the API and pages show its message."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refused action, with a stable code and a message a person can act on."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def as_dict(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body
