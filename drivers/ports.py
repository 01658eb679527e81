"""The serial ports this computer has, for the devices page: USB serial/CDC, Bluetooth rfcomm, stable by-id links."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass

from serial.tools import list_ports

# Bluetooth SPP ports (bound with `rfcomm bind`) and udev's stable names are not always reported by comports().
EXTRA_PATTERNS = ("/dev/rfcomm*", "/dev/serial/by-id/*")


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
