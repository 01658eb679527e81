"""The serial ports this computer has, for the devices page: USB serial/CDC, Bluetooth rfcomm, stable by-id links;
and the form a configured port must have (a scanner, scale or pole display port is a serial device, never a file)."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from serial.tools import list_ports

from drivers.errors import N_, InvalidSetting

# Bluetooth SPP ports (bound with `rfcomm bind`) and udev's stable names are not always reported by comports().
EXTRA_PATTERNS = ("/dev/rfcomm*", "/dev/serial/by-id/*")


MAX_PORT_LENGTH = 200
# The forms a serial port may take, as written (never resolved: what is checked is what is opened). Each matches the
# whole path, so ".." or another folder cannot slip in: /dev/tty<name> (ttyUSB0, ttyACM0, ttyS0, ttyAMA0; not the
# bare /dev/tty nor the virtual consoles /dev/tty1..63), /dev/rfcomm<N> (Bluetooth SPP), udev's stable links in
# /dev/serial/by-id/ and /dev/serial/by-path/, ptys /dev/pts/<N> (socat's virtual ports, the tests' emulated
# devices), macOS /dev/tty.* and /dev/cu.* names, and COM<N> on Windows.
SERIAL_PORT_FORMS = (
    re.compile(r"/dev/tty[A-Za-z][A-Za-z0-9_]{0,40}"),
    re.compile(r"/dev/rfcomm[0-9]{1,3}"),
    re.compile(r"/dev/serial/by-(?:id|path)/(?!\.{1,2}$)[A-Za-z0-9_.:+@,=-]{1,150}"),
    re.compile(r"/dev/pts/[0-9]{1,6}"),
    re.compile(r"/dev/(?:tty|cu)\.[A-Za-z0-9_-][A-Za-z0-9_.-]{0,80}"),
)
_WINDOWS_PORT = re.compile(r"COM[1-9][0-9]{0,2}", re.IGNORECASE)
PORT_EXAMPLES = "/dev/ttyUSB0, /dev/ttyACM0, /dev/rfcomm0, /dev/serial/by-id/…, COM3"


def check_serial_port(value: str) -> str:
    """The port to store for a scanner, scale or pole display ("" for none), or InvalidSetting: only the forms of
    SERIAL_PORT_FORMS and COMn are serial ports; a file (/etc/passwd, instance/secret_key), a URL (socket://...,
    rfc2217://...) or a path with .. never is."""
    if not isinstance(value, str):
        raise InvalidSetting(N_("A port is a device path such as %(examples)s."), examples=PORT_EXAMPLES)
    text = value.strip()
    if not text:
        return ""
    if len(text) > MAX_PORT_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidSetting(N_("A port is a device path such as %(examples)s."), examples=PORT_EXAMPLES)
    if _WINDOWS_PORT.fullmatch(text):
        return text.upper()
    if not any(form.fullmatch(text) for form in SERIAL_PORT_FORMS):  # whole-path matches: no "..", no "//"
        raise InvalidSetting(N_("'%(port)s' is not a serial port: use a device path such as %(examples)s."),
                             port=text, examples=PORT_EXAMPLES)
    return text


@dataclass(frozen=True)
class SerialPortInfo:
    device: str  # the path to configure (a by-id link survives replugging into another USB socket)
    description: str = ""
    hwid: str = ""
    vid: int | None = None
    pid: int | None = None
    serial_number: str = ""
    target: str = ""  # where a link points (/dev/ttyACM0), "" when the device is not a link

    @property
    def is_link(self) -> bool:
        return bool(self.target)


def list_serial_ports(extra_patterns: Iterable[str] = EXTRA_PATTERNS) -> list[SerialPortInfo]:
    """Every serial port found, sorted by path; never raises for a port that vanishes while it is listed."""
    found: dict[str, SerialPortInfo] = {}
    for port in list_ports.comports(include_links=True):
        found[port.device] = SerialPortInfo(
            device=port.device,
            description=port.description if port.description and port.description != "n/a" else "",
            hwid=port.hwid if port.hwid and port.hwid != "n/a" else "",
            vid=port.vid,
            pid=port.pid,
            serial_number=port.serial_number or "",
            target=_target(port.device),
        )
    for pattern in extra_patterns:
        for path in glob.glob(pattern):
            if path not in found:
                found[path] = SerialPortInfo(device=path, target=_target(path))
    return sorted(found.values(), key=lambda info: info.device)


def _target(path: str) -> str:
    try:
        return os.path.realpath(path) if os.path.islink(path) else ""
    except OSError:
        return ""
