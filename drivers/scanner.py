"""Serial (RS-232 / USB CDC / Bluetooth SPP) barcode scanners: one reader thread per port that survives unplug/replug.

The thread opens the port, turns bytes into scans (lines ended by CR, LF or CRLF, or the configured terminator),
and calls `on_scan(code)`. When the port fails or disappears it reports "disconnected", retries opening it with a
bounded backoff, reports "connected" again and carries on: no process restart, no lost state beyond the line that
was being typed when the cable came out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

log = logging.getLogger(__name__)

CONNECTED = "connected"
DISCONNECTED = "disconnected"
STOPPED = "stopped"
GS = "\x1d"  # FNC1 as scanners send it between variable-length GS1 fields: part of the code, kept
MAX_SCAN_LENGTH = 200  # the same limit inventory.barcodes puts on a scan
READ_TIMEOUT = 0.1  # how long one read may block: bounds stop() and the idle flush


def decode_scan(raw: bytes, max_length: int = MAX_SCAN_LENGTH) -> str | None:
    """Bytes of one line to the code: latin-1 (never fails), control characters dropped except GS, spaces stripped.

    None when nothing is left or the line is longer than `max_length` (noise, or a scanner without a terminator).
    """
    if len(raw) > max_length:
        return None
    text = raw.decode("latin-1")
    text = "".join(ch for ch in text if ch == GS or (ch >= " " and ch != "\x7f" and not "\x80" <= ch <= "\x9f"))
    text = text.strip(" ")  # not str.strip(): Python counts GS as whitespace
    return text or None


PortFactory = Callable[[], Any]


class LineSplitter:
    """Collects bytes into lines; CR, LF, CRLF and an extra terminator byte all end a line; overlong lines dropped."""

    def __init__(self, terminator: bytes = b"\r", max_length: int = MAX_SCAN_LENGTH) -> None:
        if not isinstance(terminator, bytes) or not 1 <= len(terminator) <= 2:
            raise ValueError("the terminator is one or two bytes, e.g. b'\\r' or b'\\r\\n'")
        self.ends = frozenset(b"\r\n") | frozenset(terminator)
        self.max_length = max_length
        self._buffer = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[bytes]:
        lines = []
        for byte in data:
            if byte in self.ends:
                if self._overflow:
                    log.warning("scanner line longer than %d bytes dropped", self.max_length)
                elif self._buffer:
                    lines.append(bytes(self._buffer))
                self._buffer.clear()
                self._overflow = False
            elif not self._overflow:
                self._buffer.append(byte)
                if len(self._buffer) > self.max_length:
                    self._buffer.clear()
                    self._overflow = True
        return lines

    def flush(self) -> bytes | None:
        """The unterminated rest (for scanners set up without a suffix), if any."""
        rest = None if self._overflow or not self._buffer else bytes(self._buffer)
        self.reset()
        return rest

    def reset(self) -> None:
        self._buffer.clear()
        self._overflow = False

    @property
    def pending(self) -> bool:
        return bool(self._buffer)


class SerialScanner:
    """Read scans from a serial port on a thread; reconnect forever (with backoff) until stop().

    `port` is a device path (better a stable one: /dev/serial/by-id/..., a udev symlink, /dev/rfcomm0) or a factory
    returning an open pyserial-like object. `idle_flush` (seconds) emits a line that stopped arriving without a
    terminator, for scanners configured with no suffix; off by default.
    """

    def __init__(
        self,
        port: str | PortFactory,
        baudrate: int = 9600,
        on_scan: Callable[[str], None] | None = None,
        on_state: Callable[[str], None] | None = None,
        terminator: bytes = b"\r",
        *,
        retry_interval: float = 1.0,
        max_retry_interval: float = 10.0,
        max_length: int = MAX_SCAN_LENGTH,
        idle_flush: float | None = None,
        name: str | None = None,
    ) -> None:
        if on_scan is None:
            raise TypeError("on_scan is required")
        if not 0 < retry_interval <= max_retry_interval:
            raise ValueError("retry_interval must be above 0 and at most max_retry_interval")
        self.port = port
        self.baudrate = baudrate
        self.on_scan = on_scan
        self.on_state = on_state
        self.splitter = LineSplitter(terminator, max_length)
        self.max_length = max_length
        self.retry_interval = retry_interval
        self.max_retry_interval = max_retry_interval
        self.idle_flush = idle_flush
        self.name = name or (port if isinstance(port, str) else getattr(port, "__name__", "scanner"))
        self.state = STOPPED
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial: Any = None
        self._serial_lock = threading.Lock()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop reading and close the port; True when the thread ended within `timeout` seconds."""
        self._stop.set()
        with self._serial_lock:
            ser = self._serial
        if ser is not None and hasattr(ser, "cancel_read"):
            try:
                ser.cancel_read()
            except Exception:  # noqa: BLE001 - the read will time out on its own
                log.debug("cancel_read failed", exc_info=True)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("scanner %s did not stop within %.1f s", self.name, timeout)
                return False
        self._thread = None
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _open(self) -> Any:
        if callable(self.port):
            return self.port()
        return serial.Serial(self.port, self.baudrate, timeout=READ_TIMEOUT, exclusive=True)

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        log.info("scanner %s %s%s", self.name, state, f" ({self.last_error})" if self.last_error else "")
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:  # noqa: BLE001 - a broken listener must not stop the reader
                log.exception("scanner %s: on_state failed", self.name)

    def _emit(self, raw: bytes) -> None:
        code = decode_scan(raw, self.max_length)
        if code is None:
            return
        try:
            self.on_scan(code)
        except Exception:  # noqa: BLE001 - a failing handler loses this scan only, never the reader
            log.exception("scanner %s: on_scan failed for a scan of %d characters", self.name, len(code))

    def _run(self) -> None:
        delay = self.retry_interval
        try:
            while not self._stop.is_set():
                try:
                    ser = self._open()
                except Exception as exc:  # noqa: BLE001 - missing device, permission, busy port: retry later
                    self.last_error = str(exc)[:200]
                    self._set_state(DISCONNECTED)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.max_retry_interval)
                    continue
                delay = self.retry_interval
                self.last_error = ""
                with self._serial_lock:
                    self._serial = ser
                self._set_state(CONNECTED)
                try:
                    self._read(ser)
                except Exception as exc:  # noqa: BLE001 - unplugged (EIO), vanished, or any driver fault
                    self.last_error = str(exc)[:200]
                    if not self._stop.is_set():
                        self._set_state(DISCONNECTED)
                        self._stop.wait(self.retry_interval)
                finally:
                    with self._serial_lock:
                        self._serial = None
                    self.splitter.reset()  # half a code from before the unplug is not a scan
                    try:
                        ser.close()
                    except Exception:  # noqa: BLE001
                        log.debug("closing scanner port failed", exc_info=True)
        finally:
            self.last_error = ""
            self._set_state(STOPPED)

    def _read(self, ser: Any) -> None:
        last_byte = time.monotonic()
        while not self._stop.is_set():
            waiting = getattr(ser, "in_waiting", 0) or 1
            data = ser.read(min(waiting, 4096))
            if data:
                last_byte = time.monotonic()
                for line in self.splitter.feed(data):
                    self._emit(line)
            elif self.idle_flush is not None and self.splitter.pending and \
                    time.monotonic() - last_byte >= self.idle_flush:
                rest = self.splitter.flush()
                if rest:
                    self._emit(rest)
