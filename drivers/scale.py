"""Serial scales: one generic driver, each scale model a protocol record; only stable weights are taken, in Decimal kg.

Protocols implemented:

* Toledo 8217 (Mettler Toledo "8217 mode", also spoken by many POS scales): 9600 baud, 7 data bits, even parity,
  1 stop bit. The till sends ``W``; a stable weight comes back as ``STX 01.250 CR`` (kg, leading zeros, a unit
  suffix such as ``KG`` tolerated). When the scale cannot give a weight it answers ``STX ? <status> CR``; the status
  byte's bits (bit 7 is the parity bit, masked off) are::

      bit 0  1 = scale in motion                      -> "moving"      (ScaleUnstable once the time is up)
      bit 1  1 = over capacity                        -> "overload"    (ScaleOverload at once)
      bit 2  1 = under zero                           -> "under_zero"  (ScaleUnderZero once the time is up)
      bit 3  1 = outside zero capture range (zero error) -> "zero_error" (ScaleUnderZero once the time is up)
      bit 4  1 = at centre of zero     bit 5  1 = net weight     bit 6  always 1

  e.g. ``?A`` (0x41) moving, ``?B`` (0x42) over capacity, ``?D`` (0x44) under zero. A status answer with none of
  bits 0-3 set is "error". Weights in pounds are refused (the scale must be set to kg).

* CAS-style continuous output (CAS PD/ER/SW and the many scales that copy it): the scale sends, without being
  asked, lines like ``ST,GS,+  1.250kg CR LF``: ST stable / US unstable / OL overload, then GS gross / NT net
  (TR tare also read), an optional device number field, the signed weight and the unit (kg or g). 9600 8N1.

Reading: `SerialScale(port, protocol).read_stable(timeout=3.0)` keeps asking (or listening) until a stable weight
comes, and returns it as Decimal with three places. The port is opened on first use and reopened after a fault
(unplug and replug needs no restart); a port that cannot be opened raises ScaleOffline.
"""

from __future__ import annotations

import logging
import re
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import serial

from drivers.errors import (
    N_,
    DeviceError,
    ScaleError,
    ScaleOffline,
    ScaleOverload,
    ScaleTimeout,
    ScaleUnderZero,
    ScaleUnstable,
)

__all__ = [
    "CAS_CONTINUOUS",
    "PROTOCOLS",
    "TOLEDO_8217",
    "DeviceError",
    "Reading",
    "ScaleError",
    "ScaleOffline",
    "ScaleOverload",
    "ScaleProtocol",
    "ScaleTimeout",
    "ScaleUnderZero",
    "ScaleUnstable",
    "SerialScale",
    "parse_cas",
    "parse_toledo",
]

log = logging.getLogger(__name__)

STX = 0x02
KG = Decimal("0.001")
MAX_FRAME = 64
MAX_WEIGHT = Decimal("100000")

STABLE = "stable"
MOVING = "moving"
OVERLOAD = "overload"
UNDER_ZERO = "under_zero"
ZERO_ERROR = "zero_error"
ERROR = "error"


@dataclass(frozen=True)
class Reading:
    """One frame from the scale. `weight` is kg with 3 places, None when the scale sent only a status."""

    weight: Decimal | None
    stable: bool
    status: str
    net: bool = False


@dataclass(frozen=True)
class ScaleProtocol:
    name: str
    baudrate: int
    bytesize: int
    parity: str
    stopbits: float
    request: bytes | None  # sent before each reading; None: the scale talks continuously
    parse: Callable[[bytes], Reading]  # one frame without its CR/LF; ValueError for a frame it cannot read
    answer_timeout: float = 0.5  # how long to wait for the answer to one request


def _kilograms(number: str, unit: str) -> Decimal:
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not a weight: {number!r}") from None
    unit = unit.lower()
    if unit == "g":
        value = value / 1000
    elif unit not in ("", "kg"):
        raise ScaleError(N_("The scale weighs in %(unit)s; set it to kg."), unit=unit)
    if not value.is_finite() or abs(value) > MAX_WEIGHT:
        raise ValueError(f"not a weight: {number!r}")
    return value.quantize(KG)


_TOLEDO_WEIGHT = re.compile(r"^\s*([0-9]{0,6}\.?[0-9]{1,6})\s*([A-Za-z]{0,2})\s*$")
_TOLEDO_BITS = ((0x02, OVERLOAD), (0x04, UNDER_ZERO), (0x01, MOVING), (0x08, ZERO_ERROR))


def parse_toledo(frame: bytes) -> Reading:
    """One Toledo 8217 answer (without the CR): STX + weight, or STX + '?' + status byte."""
    body = frame.lstrip(b"\r\n")
    if body[:1] == bytes([STX]):
        body = body[1:]
    if body[:1] == b"?":
        if len(body) < 2:
            raise ValueError("Toledo status answer without its status byte")
        status_byte = body[1] & 0x7F  # bit 7 is even parity on an 8-bit line
        status = next((name for bit, name in _TOLEDO_BITS if status_byte & bit), ERROR)
        return Reading(weight=None, stable=False, status=status, net=bool(status_byte & 0x20))
    match = _TOLEDO_WEIGHT.match(body.decode("ascii", errors="replace"))
    if not match:
        raise ValueError(f"not a Toledo answer: {frame!r}")
    # the 8217 answers a weight only when it is stable and within range
    return Reading(weight=_kilograms(match.group(1), match.group(2)), stable=True, status=STABLE)


_CAS_LINE = re.compile(
    r"^\s*(?P<state>ST|US|OL)\s*,\s*(?P<kind>GS|NT|TR)\s*,(?:\s*\d{1,3}\s*,)?"
    r"\s*(?P<sign>[+-]?)\s*(?P<number>[0-9]{0,7}\.?[0-9]{0,6})\s*(?P<unit>kg|g|lb)?\s*$",
    re.IGNORECASE,
)


def parse_cas(frame: bytes) -> Reading:
    """One CAS-style line (without CR/LF): 'ST,GS,+  1.250kg'."""
    match = _CAS_LINE.match(frame.decode("ascii", errors="replace"))
    if not match:
        raise ValueError(f"not a CAS line: {frame!r}")
    state = match.group("state").upper()
    net = match.group("kind").upper() == "NT"
    if state == "OL":
        return Reading(weight=None, stable=False, status=OVERLOAD, net=net)
    number = match.group("number")
    if not any(ch.isdigit() for ch in number):
        raise ValueError(f"CAS line without a weight: {frame!r}")
    weight = _kilograms(number, match.group("unit") or "kg")
    if match.group("sign") == "-":
        weight = -weight
    if state == "US":
        return Reading(weight=weight, stable=False, status=MOVING, net=net)
    if weight < 0:
        return Reading(weight=weight, stable=False, status=UNDER_ZERO, net=net)
    return Reading(weight=weight, stable=True, status=STABLE, net=net)


TOLEDO_8217 = ScaleProtocol(name="toledo_8217", baudrate=9600, bytesize=7, parity="E", stopbits=1, request=b"W",
                            parse=parse_toledo)
CAS_CONTINUOUS = ScaleProtocol(name="cas", baudrate=9600, bytesize=8, parity="N", stopbits=1, request=None,
                               parse=parse_cas)
PROTOCOLS = {p.name: p for p in (TOLEDO_8217, CAS_CONTINUOUS)}


class SerialScale:
    """A scale on a serial port. `port` is a device path or a factory returning an open pyserial-like object."""

    def __init__(self, port: str | Callable[[], Any], protocol: ScaleProtocol | str,
                 on_state: Callable[[str], None] | None = None) -> None:
        if isinstance(protocol, str):
            if protocol not in PROTOCOLS:
                raise ValueError(f"unknown scale protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
            protocol = PROTOCOLS[protocol]
        self.port = port
        self.protocol = protocol
        self.on_state = on_state
        self.state = "disconnected"
        self.last_error = ""
        self._serial: Any = None
        self._buffer = bytearray()
        self._lock = threading.Lock()

    # -- port ---------------------------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self._serial is None:
            p = self.protocol
            if callable(self.port):
                self._serial = self.port()
            else:
                self._serial = serial.Serial(self.port, p.baudrate, bytesize=p.bytesize, parity=p.parity,
                                             stopbits=p.stopbits, timeout=0.05, write_timeout=1.0, exclusive=True)
            self._buffer.clear()
            self.last_error = ""
            self._set_state("connected")
        return self._serial

    def _drop(self, exc: BaseException) -> None:
        self.last_error = str(exc)[:200]
        ser, self._serial = self._serial, None
        self._buffer.clear()
        if ser is not None:
            try:
                ser.close()
            except Exception:  # noqa: BLE001 - the port is gone already
                log.debug("closing scale port failed", exc_info=True)
        self._set_state("disconnected")

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("scale %s %s", self.port if isinstance(self.port, str) else self.protocol.name, state)
            if self.on_state is not None:
                try:
                    self.on_state(state)
                except Exception:  # noqa: BLE001
                    log.exception("scale on_state failed")

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                self._drop(RuntimeError("closed"))

    def __enter__(self) -> SerialScale:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- frames -------------------------------------------------------------------------------------------------
    def _frame(self, ser: Any, deadline: float) -> bytes | None:
        """The next CR/LF-ended frame before `deadline`, else None. Overlong garbage is dropped."""
        while True:
            for index, byte in enumerate(self._buffer):
                if byte in (0x0D, 0x0A):
                    frame = bytes(self._buffer[:index])
                    del self._buffer[: index + 1]
                    if frame:
                        return frame
                    break
            else:
                if len(self._buffer) > MAX_FRAME:
                    self._buffer.clear()
                if time.monotonic() >= deadline:
                    return None
                chunk = ser.read(max(1, min(getattr(ser, "in_waiting", 0) or 1, 256)))
                if chunk:
                    self._buffer.extend(chunk)
                continue

    def read(self, timeout: float = 1.0) -> Reading:
        """The next reading whatever its status (for a live weight on the till); ScaleTimeout when none comes."""
        with self._lock:
            reading = self._next(time.monotonic() + timeout, fresh=True)
        if reading is None:
            raise ScaleTimeout(N_("The scale sent no weight within %(seconds)s seconds."), seconds=f"{timeout:g}")
        return reading

    def _next(self, deadline: float, fresh: bool) -> Reading | None:
        """One reading before `deadline`; port faults close the port and are retried within the time."""
        p = self.protocol
        while time.monotonic() < deadline:
            try:
                ser = self._open()
            except Exception as exc:  # noqa: BLE001 - unplugged, wrong path, busy: tell the cashier now
                self._drop(exc)
                raise ScaleOffline(N_("The scale cannot be reached: %(reason)s."), reason=self.last_error) from exc
            try:
                if p.request is not None:
                    ser.reset_input_buffer()
                    self._buffer.clear()
                    ser.write(p.request)
                    frame = self._frame(ser, min(deadline, time.monotonic() + p.answer_timeout))
                else:
                    if fresh:  # continuous scales fill the buffer with old frames between readings
                        ser.reset_input_buffer()
                        self._buffer.clear()
                        fresh = False
                    frame = self._frame(ser, deadline)
            except (serial.SerialException, OSError, termios.error) as exc:  # unplugged mid-read: reopen in time
                self._drop(exc)
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
                continue
            if frame is None:
                continue
            try:
                return p.parse(frame)
            except ValueError as exc:
                self.last_error = str(exc)[:200]
                log.debug("scale frame skipped: %s", exc)
        return None

    def read_stable(self, timeout: float = 3.0) -> Decimal:
        """A stable weight in kg (Decimal, 3 places). Raises ScaleOverload at once; ScaleUnstable / ScaleUnderZero /
        ScaleTimeout when no stable weight came within `timeout`; ScaleOffline when the port cannot be opened."""
        deadline = time.monotonic() + timeout
        last: Reading | None = None
        with self._lock:
            fresh = True
            while time.monotonic() < deadline:
                reading = self._next(deadline, fresh)
                fresh = False
                if reading is None:
                    break
                last = reading
                if reading.status == OVERLOAD:
                    raise ScaleOverload(N_("The load is over the scale's capacity."))
                if reading.stable and reading.weight is not None:
                    return reading.weight
        seconds = f"{timeout:g}"
        if last is None:
            raise ScaleTimeout(N_("The scale sent no weight within %(seconds)s seconds."), seconds=seconds)
        if last.status in (UNDER_ZERO, ZERO_ERROR):
            raise ScaleUnderZero(N_("The scale reads below zero; empty it and set it to zero."))
        if last.status == MOVING:
            raise ScaleUnstable(N_("The weight did not settle within %(seconds)s seconds."), seconds=seconds)
        raise ScaleError(N_("The scale reports an error (%(status)s)."), status=last.status)
