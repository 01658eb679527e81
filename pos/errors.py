"""The PosError family: domain errors carry an untranslated message id; the web layer translates them."""

from __future__ import annotations

import re


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (the web layer translates)."""
    return message


class PosError(Exception):
    """Base of every domain error. `message` is a msgid with %(name)s placeholders filled from `params`;
    `field` names the input it is about ("lines[2].qty"), so a form or the till can show it there."""

    status = 400

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.field: str | None = None

    @property
    def code(self) -> str:
        """The error's machine name for JSON answers: InsufficientStock -> insufficient_stock."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def at(self, field: str) -> PosError:
        """The same error, about `field` (the innermost caller's name wins)."""
        if self.field is None:
            self.field = field
        return self


class InvalidInput(PosError):
    status = 400


class NotFound(PosError):
    status = 404


class PermissionDenied(PosError):
    status = 403


class Conflict(PosError):
    status = 409


class AuthenticationFailed(PosError):
    status = 401


class Busy(PosError):
    """The database stayed locked by other work longer than the wait allows: try again in a moment."""

    status = 503
