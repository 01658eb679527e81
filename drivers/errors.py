"""The DeviceError family: one base for every hardware fault, so a caller can catch them all and keep the sale."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (the web layer translates, as for PosError)."""
    return message


class DeviceError(Exception):
    """Base of every driver error. Like PosError: `message` is an English msgid, `params` fill its placeholders.

    drivers/ does not import pos/, so this is not a PosError; the web layer can still show it translated with
    `gettext(exc.message, **exc.params)`.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class InvalidSetting(ValueError):
    """A device setting is refused: a printer connection string, a serial port path, a host or port the shop does
    not allow. A ValueError (what callers of `parse()` always caught) that also carries an English msgid and its
    params, like DeviceError, so the web layer shows it translated: `gettext(exc.message, **exc.params)`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class PrinterError(DeviceError):
    """The printer refused or lost a job; the caller retries the whole job later."""


class PrinterOffline(PrinterError):
    """The printer cannot be reached (off, unplugged, no network, stopped taking data)."""


class ScaleError(DeviceError):
    """The scale gave no usable weight."""


class ScaleOffline(ScaleError):
    """The scale's port cannot be opened (unplugged, wrong port, in use)."""


class ScaleTimeout(ScaleError):
    """The scale sent nothing usable within the time allowed."""


class ScaleUnstable(ScaleError):
    """The weight did not settle (the scale reports motion) within the time allowed."""


class ScaleOverload(ScaleError):
    """The load is above the scale's capacity."""


class ScaleUnderZero(ScaleError):
    """The scale reads below zero (tare or zero needs setting) or reports a zero error."""


class DisplayError(DeviceError):
    """The pole display cannot be written."""
