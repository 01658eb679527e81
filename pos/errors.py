"""The PosError family: domain errors carry an untranslated message id; the web layer translates them."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (the web layer translates)."""
    return message


class PosError(Exception):
    """Base of every domain error. `message` is a msgid with %(name)s placeholders filled from `params`."""

    status = 400

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


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
