"""2x20 VFD pole displays: Epson (ESC/POS customer display) and CD5220 command sets; item, total and change screens.

Every screen is rendered whole (init, clear, both lines padded to 20 columns), so a display that missed a byte or
was power-cycled is right again at the next screen. Text is made ASCII: accents are dropped (é -> e), other
characters become '?', control characters become spaces so a product name can never smuggle a command in.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.errors import N_, DisplayError
from pos.money import format_rupiah

__all__ = ["CD5220", "COMMAND_SETS", "EPSON", "WIDTH", "DisplayCommandSet", "PoleDisplay", "change_lines",
           "item_lines", "render", "to_ascii", "total_lines"]

log = logging.getLogger(__name__)

WIDTH = 20
ESC, US, CLR, CR = b"\x1b", b"\x1f", b"\x0c", b"\r"


@dataclass(frozen=True)
class DisplayCommandSet:
    name: str
    prefix: bytes  # initialise, mode, clear
    line1: Callable[[bytes], bytes]
    line2: Callable[[bytes], bytes]


def _epson_line(row: int) -> Callable[[bytes], bytes]:
    return lambda text: US + b"$" + bytes([1, row]) + text  # US $ x y: cursor to column x, row y (1-based)


# Epson ESC/POS for customer displays (DM-D series): ESC @ initialise, US MD1 (1F 01) overwrite mode so writing the
# 40th character does not scroll, CLR (0C) clear, US $ x y cursor moves.
EPSON = DisplayCommandSet("epson", ESC + b"@" + US + b"\x01" + CLR, _epson_line(1), _epson_line(2))
# CD5220: ESC @ initialise, CLR clear, ESC Q A <text> CR upper line, ESC Q B <text> CR lower line.
CD5220 = DisplayCommandSet("cd5220", ESC + b"@" + CLR, lambda text: ESC + b"QA" + text + CR,
                           lambda text: ESC + b"QB" + text + CR)
COMMAND_SETS = {c.name: c for c in (EPSON, CD5220)}

_REPLACEMENTS = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00d7": "x",
    "\u2026": "...", "\u00a0": " ", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u00f8": "o", "\u00d8": "O",
})


def to_ascii(text: object) -> str:
    """Printable ASCII only: accents dropped, control characters as spaces, anything else '?'."""
    text = unicodedata.normalize("NFKD", str(text).translate(_REPLACEMENTS))
    out = []
    for ch in text:
        if unicodedata.combining(ch):
            continue
        if ch < " " or "\x7f" <= ch <= "\x9f":
            out.append(" ")
        elif ch < "\x7f":
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _line(text: str) -> bytes:
    return to_ascii(text)[:WIDTH].ljust(WIDTH).encode("ascii")


def _command_set(command_set: DisplayCommandSet | str) -> DisplayCommandSet:
    if isinstance(command_set, DisplayCommandSet):
        return command_set
    try:
        return COMMAND_SETS[str(command_set).lower()]
    except KeyError:
        raise ValueError(f"unknown display command set {command_set!r}; use one of {', '.join(COMMAND_SETS)}") from None


def render(command_set: DisplayCommandSet | str, line1: str = "", line2: str = "") -> bytes:
    """The bytes for one whole screen: two lines of exactly 20 ASCII columns."""
    cs = _command_set(command_set)
    return cs.prefix + cs.line1(_line(line1)) + cs.line2(_line(line2))


def _amount(amount: int) -> str:
    text = format_rupiah(amount)
    if len(text) > WIDTH:
        text = text.replace("Rp ", "")
    return text if len(text) <= WIDTH else "*" * WIDTH  # never a cut-off number


def _two_sided(label: str, amount: int) -> str:
    right = _amount(amount)
    label = to_ascii(label).strip()
    if label and len(label) + 1 + len(right) <= WIDTH:
        return label + right.rjust(WIDTH - len(label))
    return right.rjust(WIDTH)  # not enough room: the amount matters, the label goes


def item_lines(name: str, price: int) -> tuple[str, str]:
    """A scanned item: its name on top, the price right-aligned below ("Rp 12.500")."""
    return to_ascii(name).strip()[:WIDTH], _amount(price).rjust(WIDTH)


def total_lines(total: int, label: str = "TOTAL") -> tuple[str, str]:
    return to_ascii(label).strip()[:WIDTH], _amount(total).rjust(WIDTH)


def change_lines(paid: int, change: int, paid_label: str = "BAYAR", change_label: str = "KEMBALI") -> tuple[str, str]:
    """After payment: what was paid and the change, labels left, amounts right (labels are the caller's language)."""
    return _two_sided(paid_label, paid), _two_sided(change_label, change)


class PoleDisplay:
    """A pole display on a serial port (path, opened lazily and reopened after a fault) or any object with write()."""

    def __init__(self, port_or_writer: str | Any, command_set: DisplayCommandSet | str = EPSON,
                 baudrate: int = 9600, write_timeout: float = 1.0) -> None:
        self.command_set = _command_set(command_set)
        self.port = port_or_writer if isinstance(port_or_writer, str) else None
        if self.port is None and not callable(getattr(port_or_writer, "write", None)):
            raise TypeError("a pole display needs a serial port path or an object with write(bytes)")
        self._writer: Any = None if self.port is not None else port_or_writer
        self.baudrate = baudrate
        self.write_timeout = write_timeout
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._writer is None:
            import serial

            self._writer = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=self.write_timeout,
                                         exclusive=True)
        return self._writer

    def show(self, line1: str = "", line2: str = "") -> None:
        """Show two lines; raises DisplayError (a DeviceError) when the display cannot be written."""
        data = render(self.command_set, line1, line2)
        with self._lock:
            try:
                writer = self._open()
                writer.write(data)
                flush = getattr(writer, "flush", None)
                if self.port is None and callable(flush):
                    flush()
            except Exception as exc:  # noqa: BLE001 - serial, OS or writer faults all mean "display not written"
                if self.port is not None:
                    self._close_port()
                raise DisplayError(N_("The pole display cannot be written: %(reason)s."),
                                   reason=str(exc)[:200] or type(exc).__name__) from exc

    def show_item(self, name: str, price: int) -> None:
        self.show(*item_lines(name, price))

    def show_total(self, total: int, label: str = "TOTAL") -> None:
        self.show(*total_lines(total, label))

    def show_change(self, paid: int, change: int, paid_label: str = "BAYAR", change_label: str = "KEMBALI") -> None:
        self.show(*change_lines(paid, change, paid_label, change_label))

    def clear(self) -> None:
        self.show("", "")

    def _close_port(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                log.debug("closing pole display failed", exc_info=True)

    def close(self) -> None:
        with self._lock:
            if self.port is not None:
                self._close_port()
