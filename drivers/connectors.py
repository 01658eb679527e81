"""Printer connections: parse `usb:`/`serial:`/`network:`/`file:`/`folder:` strings, send whole jobs, ask for status.

Every job opens its own connection, writes the bytes once, waits until the printer has taken them, and closes: a
failed job raises (PrinterOffline / PrinterError) and leaves nothing half-buffered to be replayed, so the caller's
retry of the whole job is the only retry there is. Every step is bounded: connecting (3 s by default), taking data
(5 s without progress by default) and status answers (1 s); a printer that is off fails fast and never hangs a till.
"""

from __future__ import annotations

import abc
import fcntl
import ipaddress
import logging
import os
import re
import select
import socket
import struct
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from drivers.errors import N_, DeviceError, InvalidSetting, PrinterError, PrinterOffline

__all__ = [
    "Connection",
    "DeviceError",
    "FolderPrinter",
    "PrinterError",
    "PrinterOffline",
    "PrinterPort",
    "PrinterStatus",
    "StreamPrinter",
    "check_job_id",
    "check_network_printer",
    "interpret_status",
    "open_printer",
    "parse",
]

log = logging.getLogger(__name__)

KINDS = ("usb", "serial", "network", "file", "folder")
MAX_SPEC_LENGTH = 500
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_WRITE_TIMEOUT = 5.0
DEFAULT_STATUS_TIMEOUT = 1.0
MAX_TIMEOUT = 120.0
DEFAULT_NETWORK_PORT = 9100
SERIAL_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
SERIAL_FLOWS = ("none", "rtscts", "dsrdtr", "xonxoff")
# Job ids become file names in the folder printer: no path separators, no control characters, no leading dot.
JOB_ID = re.compile(r"^[^\x00-\x1f\x7f/\\.][^\x00-\x1f\x7f/\\]{0,199}$")

# ESC/POS real-time status (DLE EOT n): the printer answers one byte even while its input buffer is busy.
DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_PAPER = b"\x10\x04\x04"
_STATUS_FIXED_MASK, _STATUS_FIXED_BITS = 0x93, 0x12  # bits 0 and 7 clear, bits 1 and 4 set in every answer
_PRINTER_OFFLINE_BIT = 0x08
_PAPER_END_BITS = 0x60  # n=4, bits 5-6: roll paper end sensor

_OPTIONS: dict[str, tuple[str, ...]] = {
    "usb": ("in_ep", "connect_timeout", "write_timeout", "status_timeout"),
    "serial": ("baudrate", "bytesize", "parity", "stopbits", "flow", "connect_timeout", "write_timeout",
               "status_timeout"),
    "network": ("connect_timeout", "write_timeout", "status_timeout"),
    "file": ("write_timeout",),
    "folder": (),
}
_EXAMPLES = "usb:04b8:0202, serial:/dev/ttyUSB0?baudrate=9600, network:192.168.1.50:9100, file:/dev/usb/lp0, " \
    "folder:/var/lib/kasir/printer-out"
_HEX16 = re.compile(r"^(?:0[xX])?[0-9a-fA-F]{1,4}$")
_HEX8 = re.compile(r"^(?:0[xX])?[0-9a-fA-F]{1,2}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_COM_PORT = re.compile(r"^COM[1-9][0-9]{0,2}$")
_PARITIES = {"n": "N", "none": "N", "e": "E", "even": "E", "o": "O", "odd": "O", "m": "M", "mark": "M", "s": "S",
             "space": "S"}


class PrinterStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Connection:
    """A parsed printer connection. Build it with `parse()`; direct construction is validated the same way."""

    kind: str
    path: str = ""  # serial device, device file or folder
    host: str = ""
    port: int = DEFAULT_NETWORK_PORT
    vendor_id: int = 0
    product_id: int = 0
    out_ep: int = 0x01
    in_ep: int = 0x82
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    flow: str = "none"
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    write_timeout: float = DEFAULT_WRITE_TIMEOUT
    status_timeout: float = DEFAULT_STATUS_TIMEOUT

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidSetting(N_("unknown printer kind '%(kind)s'; use one of %(kinds)s"), kind=self.kind,
                                 kinds=", ".join(KINDS))
        for name in ("connect_timeout", "write_timeout", "status_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TIMEOUT:
                raise InvalidSetting(N_("%(name)s must be a number of seconds above 0 and at most %(max)s"), name=name,
                                     max=f"{MAX_TIMEOUT:g}")
        getattr(self, f"_check_{self.kind}")()

    def _check_usb(self) -> None:
        if not 0 < self.vendor_id <= 0xFFFF or not 0 < self.product_id <= 0xFFFF:
            raise InvalidSetting(N_("a USB printer needs a vendor and a product id between 0001 and ffff (hex)"))
        if not 0x01 <= self.out_ep <= 0x0F:
            raise InvalidSetting(N_("the USB out endpoint must be between 01 and 0f (hex)"))
        if not 0x81 <= self.in_ep <= 0x8F:
            raise InvalidSetting(N_("the USB in endpoint must be between 81 and 8f (hex)"))

    def _check_serial(self) -> None:
        if not (self.path.startswith("/") or _COM_PORT.match(self.path)):
            raise InvalidSetting(
                N_("serial port '%(path)s' must be a device path such as /dev/ttyUSB0 or /dev/rfcomm0"), path=self.path)
        if self.baudrate not in SERIAL_BAUDRATES:
            raise InvalidSetting(N_("baudrate %(baudrate)s is not one of %(allowed)s"), baudrate=self.baudrate,
                                 allowed=", ".join(map(str, SERIAL_BAUDRATES)))
        if self.bytesize not in (5, 6, 7, 8):
            raise InvalidSetting(N_("bytesize must be 5, 6, 7 or 8"))
        if self.parity not in ("N", "E", "O", "M", "S"):
            raise InvalidSetting(N_("parity must be N, E, O, M or S"))
        if self.stopbits not in (1, 1.5, 2):
            raise InvalidSetting(N_("stopbits must be 1, 1.5 or 2"))
        if self.flow not in SERIAL_FLOWS:
            raise InvalidSetting(N_("flow must be one of %(allowed)s"), allowed=", ".join(SERIAL_FLOWS))

    def _check_network(self) -> None:
        if not _valid_host(self.host):
            raise InvalidSetting(N_("'%(host)s' is not a host name or IP address"), host=self.host)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port <= 65535:
            raise InvalidSetting(N_("the network port must be between 1 and 65535"))

    def _check_file(self) -> None:
        if not self.path.startswith("/"):
            raise InvalidSetting(N_("device file '%(path)s' must be an absolute path such as /dev/usb/lp0"),
                                 path=self.path)

    def _check_folder(self) -> None:
        if not self.path.strip():
            raise InvalidSetting(N_("the folder printer needs a folder, e.g. folder:/var/lib/kasir/printer-out"))

    @property
    def spec(self) -> str:
        """The canonical connection string (what `parse` reads back to an equal Connection)."""
        if self.kind == "usb":
            body = f"{self.vendor_id:04x}:{self.product_id:04x}"
            if self.out_ep != 0x01:
                body += f":{self.out_ep:02x}"
        elif self.kind == "network":
            host = f"[{self.host}]" if ":" in self.host else self.host
            body = f"{host}:{self.port}"
        else:
            body = self.path
        defaults = Connection.__dataclass_fields__
        options = []
        for name in _OPTIONS[self.kind]:
            value = getattr(self, name)
            if value != defaults[name].default:
                shown = f"{value:02x}" if name == "in_ep" else f"{value:g}" if isinstance(value, float) else value
                options.append(f"{name}={shown}")
        return f"{self.kind}:{body}" + ("?" + "&".join(options) if options else "")

    def __str__(self) -> str:
        return self.spec


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _valid_host(host: str) -> bool:
    return _is_ip(host) or bool(_HOSTNAME.match(host))


# Where a network printer may be (the config's printer_networks / printer_ports; these are its defaults): the
# shop's own network (RFC 1918, loopback, link-local; IPv6 loopback, unique-local, link-local) and raw printing
# ports (9100, and 9101/9102 of multi-port print servers). LPD (515) and IPP (631) are not raw ports: the bytes
# this module sends would not print there, so they are left out unless the config adds them.
DEFAULT_PRINTER_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
                            "::1/128", "fc00::/7", "fe80::/10")
DEFAULT_PRINTER_PORTS = (9100, 9101, 9102)
LOCAL_NAME_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(networks: Iterable[str | Network]) -> tuple[Network, ...]:
    """CIDR texts ("192.168.0.0/16") as networks; InvalidSetting for one that is not."""
    out = []
    for net in networks:
        try:
            out.append(net if isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network)
                       else ipaddress.ip_network(str(net).strip(), strict=False))
        except ValueError:
            raise InvalidSetting(N_("'%(value)s' is not a network such as 192.168.0.0/16"), value=net) from None
    return tuple(out)


def is_local_name(host: str) -> bool:
    """A plain name on the shop's network: one label (kasir-printer) or a local suffix (printer.local); never a
    number that the resolver would read as an address (2130706433, 0x7f000001, 127.1)."""
    if _is_ip(host) or not _HOSTNAME.match(host):
        return False
    try:
        socket.inet_aton(host)
        return False  # an IPv4 address in a form ipaddress does not take: not a name
    except OSError:
        pass
    name = host.lower().rstrip(".")
    if not re.search(r"[a-z]", name.rsplit(".", 1)[-1]):
        return False
    return "." not in name or name.endswith(LOCAL_NAME_SUFFIXES)


def check_network_printer(conn: Connection, networks: Iterable[str | Network] = DEFAULT_PRINTER_NETWORKS,
                          ports: Iterable[int] = DEFAULT_PRINTER_PORTS) -> Connection:
    """A network printer must be on the shop's network and use a printer port (InvalidSetting otherwise), so a
    printer setting cannot make this server connect anywhere; other kinds pass unchanged."""
    if conn.kind != "network":
        return conn
    allowed_ports = sorted({int(port) for port in ports})
    if conn.port not in allowed_ports:
        raise InvalidSetting(N_("port %(port)s is not a printer port here (allowed: %(allowed)s)"), port=conn.port,
                             allowed=", ".join(map(str, allowed_ports)) or "-")
    if _is_ip(conn.host):
        address = ipaddress.ip_address(conn.host)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not any(address.version == net.version and address in net for net in parse_networks(networks)):
            raise InvalidSetting(N_("%(host)s is not on the shop's network; a network printer has an address such "
                                    "as 192.168.1.50"), host=conn.host)
    elif not is_local_name(conn.host):
        raise InvalidSetting(N_("'%(host)s' is not a printer on the shop's network; give its address (such as "
                                "192.168.1.50) or a local name (such as printer-kasir1 or printer.local)"),
                             host=conn.host)
    return conn


def _hex(text: str, pattern: re.Pattern[str], what: str) -> int:
    if not pattern.match(text):
        raise InvalidSetting(N_("'%(value)s' is not a hex number (USB ids and endpoints are written in hex, "
                                "such as 04b8)"), value=text)
    return int(text, 16)


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidSetting(N_("%(name)s='%(value)s' is not a number of seconds"), name=name, value=text) from None
    return value


def _integer(name: str, text: str) -> int:
    if not text.isdigit() or len(text) > 7:
        raise InvalidSetting(N_("%(name)s='%(value)s' is not a whole number"), name=name, value=text)
    return int(text)


def _options(kind: str, query: str) -> dict[str, Any]:
    if not query:
        return {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidSetting(N_("cannot read the options '%(value)s'; write them as name=value&name=value"),
                             value=query) from None
    known = _OPTIONS[kind]
    out: dict[str, Any] = {}
    for name, text in pairs:
        name = name.strip().lower()
        text = text.strip()
        if name not in known:
            allowed = ", ".join(known) if known else "none"
            raise InvalidSetting(N_("unknown option '%(option)s' for a %(kind)s printer (allowed: %(allowed)s)"),
                                 option=name, kind=kind, allowed=allowed)
        if name in out:
            raise InvalidSetting(N_("option '%(option)s' is given twice"), option=name)
        if name.endswith("timeout"):
            out[name] = _number(name, text)
        elif name in ("baudrate", "bytesize"):
            out[name] = _integer(name, text)
        elif name == "in_ep":
            out[name] = _hex(text, _HEX8, "USB in endpoint")
        elif name == "parity":
            out[name] = _PARITIES.get(text.lower(), text)
        elif name == "stopbits":
            out[name] = _number(name, text) if text in ("1", "1.5", "2") else -1
        else:
            out[name] = text.lower()
    return out


def parse(spec: str) -> Connection:
    """Read a connection string; raise ValueError saying what is wrong and what would be right.

    usb:VID:PID[:OUT_EP][?in_ep=82]            hex ids, e.g. usb:04b8:0202
    serial:/dev/ttyUSB0[?baudrate=9600&bytesize=8&parity=N&stopbits=1&flow=none|rtscts|dsrdtr|xonxoff]
                                               also Bluetooth /dev/rfcomm0
    network:HOST[:PORT]                        port 9100 when left out; IPv6 in brackets
    file:/dev/usb/lp0                          a device file that already exists
    folder:PATH                                "save to folder"; file:PATH/ (ending in /) means the same
    connect_timeout / write_timeout / status_timeout (seconds) where they apply.
    """
    if not isinstance(spec, str):
        raise InvalidSetting(N_("a printer connection must be text"))
    text = spec.strip()
    if not text:
        raise InvalidSetting(N_("the printer connection is empty; write one like %(examples)s"), examples=_EXAMPLES)
    if len(text) > MAX_SPEC_LENGTH:
        raise InvalidSetting(N_("the printer connection is longer than %(max)s characters"), max=MAX_SPEC_LENGTH)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidSetting(N_("the printer connection contains control characters"))
    scheme, colon, rest = text.partition(":")
    kind = scheme.strip().lower()
    if not colon or kind not in KINDS:
        raise InvalidSetting(N_("'%(value)s' does not start with a printer kind (%(kinds)s); e.g. %(examples)s"),
                             value=text, kinds=", ".join(KINDS), examples=_EXAMPLES)
    body, _, query = rest.partition("?")
    body = body.strip()
    if kind == "file" and body.endswith("/"):
        kind = "folder"  # DESIGN.md's file:instance/printer-out/ spelling of the folder printer
    options = _options(kind, query)
    if kind == "usb":
        parts = body.split(":")
        if len(parts) not in (2, 3):
            raise InvalidSetting(
                N_("write a USB printer as usb:VID:PID[:OUT_EP] in hex, e.g. usb:04b8:0202 (got '%(value)s')"),
                value=text)
        fields: dict[str, Any] = {
            "vendor_id": _hex(parts[0], _HEX16, "USB vendor id"),
            "product_id": _hex(parts[1], _HEX16, "USB product id"),
        }
        if len(parts) == 3:
            fields["out_ep"] = _hex(parts[2], _HEX8, "USB out endpoint")
    elif kind == "network":
        fields = _network(body.removeprefix("//"))
    else:
        if not body:
            raise InvalidSetting(N_("a %(kind)s printer needs a path, e.g. %(example)s"), kind=kind,
                                 example=f"{kind}:{_example_path(kind)}")
        fields = {"path": body}
    return Connection(kind=kind, **fields, **options)


def _example_path(kind: str) -> str:
    return {"serial": "/dev/ttyUSB0", "file": "/dev/usb/lp0", "folder": "/var/lib/kasir/printer-out"}[kind]


def _network(body: str) -> dict[str, Any]:
    if body.startswith("["):
        host, bracket, tail = body[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise InvalidSetting(N_("write an IPv6 printer as network:[ADDRESS]:9100 (got '%(value)s')"), value=body)
        port_text = tail[1:]
    elif body.count(":") > 1:
        raise InvalidSetting(N_("write an IPv6 printer address in brackets, e.g. network:[%(value)s]:9100"), value=body)
    else:
        host, _, port_text = body.partition(":")
    if not host:
        raise InvalidSetting(N_("a network printer needs a host, e.g. network:192.168.1.50:9100"))
    fields: dict[str, Any] = {"host": host}
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5:
            raise InvalidSetting(N_("the network port '%(value)s' is not a number between 1 and 65535"),
                                 value=port_text)
        fields["port"] = int(port_text)
    return fields


def interpret_status(printer: int | None, paper: int | None) -> PrinterStatus:
    """Read the answers to DLE EOT 1 (printer status) and DLE EOT 4 (roll paper sensor); None is no answer.

    An answer whose fixed bits are wrong (not a status byte: noise, or an automatic status back) counts as no
    answer. Paper end wins over everything (a printer out of paper also reports itself offline).
    """
    if printer is None or printer & _STATUS_FIXED_MASK != _STATUS_FIXED_BITS:
        return PrinterStatus.UNKNOWN
    if paper is not None and paper & _STATUS_FIXED_MASK == _STATUS_FIXED_BITS and \
            paper & _PAPER_END_BITS == _PAPER_END_BITS:
        return PrinterStatus.PAPER_OUT
    if printer & _PRINTER_OFFLINE_BIT:
        return PrinterStatus.OFFLINE
    return PrinterStatus.ONLINE


def check_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise ValueError(f"job id {job_id!r} must be 1-200 characters without / \\ or control characters, "
                         "not starting with a dot")
    return job_id


def _check_data(data: bytes) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("a print job is bytes")
    data = bytes(data)
    if not data:
        raise ValueError("a print job cannot be empty")
    return data


def _seconds(value: float) -> str:
    return f"{value:g}"


_DEVICE_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_DEVICE_LOCKS_GUARD = threading.Lock()


def _device_lock(conn: Connection) -> threading.Lock:
    """One lock per physical printer in this process, shared by every port opened on it: a status request waits for
    the job in progress instead of fighting it for the one connection a printer (or an exclusive tty) allows."""
    if conn.kind == "usb":
        key = (conn.kind, f"{conn.vendor_id:04x}:{conn.product_id:04x}")
    elif conn.kind == "network":
        key = (conn.kind, f"{conn.host}:{conn.port}")
    else:
        key = (conn.kind, os.path.abspath(conn.path))
    with _DEVICE_LOCKS_GUARD:
        return _DEVICE_LOCKS.setdefault(key, threading.Lock())


class PrinterPort(abc.ABC):
    """A configured printer. `send` delivers one whole job or raises; `status` never raises."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._lock = _device_lock(connection)
        self._closed = False

    @abc.abstractmethod
    def send(self, job_id: str, data: bytes, html: str | None = None) -> None:
        """Deliver `data` once. Returns only when the printer has taken every byte; raises PrinterError otherwise."""

    @abc.abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer how it is: online, offline, paper_out, or unknown when it cannot tell."""

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise PrinterError(N_("Printer %(printer)s is closed."), printer=self.connection.spec)

    def __enter__(self) -> PrinterPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connection.spec}>"


class FolderPrinter(PrinterPort):
    """'Save to folder' for a shop with no printer: <job-id>.bin (ESC/POS bytes) and <job-id>.html, written atomically.

    Each file is written to a hidden temporary file, synced, then renamed over its final name, so a reader never
    sees half a job and sending the same job id again replaces the files instead of adding new ones. The .html is
    renamed first: when <job-id>.bin appears, the job is complete.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.folder = Path(connection.path)

    def send(self, job_id: str, data: bytes, html: str | None = None) -> None:
        check_job_id(job_id)
        data = _check_data(data)
        if html is not None and not isinstance(html, str):
            raise TypeError("html is text")
        with self._lock:
            self._check_open()
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                html_path = self.folder / f"{job_id}.html"
                if html is not None:
                    self._write_atomically(html_path, html.encode("utf-8"))
                else:
                    html_path.unlink(missing_ok=True)  # a stale page from an earlier send of this job id
                self._write_atomically(self.folder / f"{job_id}.bin", data)
                _fsync_dir(self.folder)
            except OSError as exc:
                raise PrinterError(N_("Cannot save job %(job)s in folder %(folder)s: %(reason)s."), job=job_id,
                                   folder=str(self.folder), reason=exc.strerror or str(exc)) from exc

    def _write_atomically(self, target: Path, content: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def status(self) -> PrinterStatus:
        """Online whenever jobs can be saved (the folder exists or can be made, and is writable)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return PrinterStatus.OFFLINE
        return PrinterStatus.ONLINE if os.access(self.folder, os.W_OK | os.X_OK) else PrinterStatus.OFFLINE


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Link(abc.ABC):
    """One open connection to a printer for one job or one status request."""

    can_read = True
    chunk = 16384

    @abc.abstractmethod
    def write(self, data: bytes, stall_timeout: float) -> None:
        """Write everything; raise TimeoutError when no byte is taken for `stall_timeout` seconds, OSError on faults."""

    def settle(self, stall_timeout: float) -> None:
        """Return once the bytes have left this computer (acknowledged by the printer where the transport tells)."""
        return None

    @abc.abstractmethod
    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes, b'' when nothing came within `timeout`."""

    def discard_input(self) -> None:
        """Drop bytes the printer sent before we asked (automatic status back, earlier answers)."""
        return None

    def offline_by_signal(self) -> bool:
        return False

    @abc.abstractmethod
    def close(self) -> None: ...


def _wait_drained(pending: Callable[[], int], stall_timeout: float, alive: Callable[[], None] | None = None) -> None:
    """Poll an output-queue length until it is 0; TimeoutError when it stops shrinking for `stall_timeout`."""
    last = -1
    since = time.monotonic()
    while True:
        if alive is not None:
            alive()
        left = pending()
        if left <= 0:
            return
        now = time.monotonic()
        if left != last:
            last, since = left, now
        elif now - since > stall_timeout:
            raise TimeoutError(f"{left} bytes not taken by the printer")
        time.sleep(0.005)


class _TcpLink(_Link):
    def __init__(self, conn: Connection) -> None:
        self.sock = socket.create_connection((conn.host, conn.port), timeout=conn.connect_timeout)
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a 3-byte status request goes now
        except OSError:
            self.sock.close()
            raise

    def write(self, data: bytes, stall_timeout: float) -> None:
        # Python's socket timeout bounds each send() call, so this is "no progress for stall_timeout seconds".
        self.sock.settimeout(stall_timeout)
        view = memoryview(data)
        while view:
            sent = self.sock.send(view[: self.chunk])
            view = view[sent:]

    def settle(self, stall_timeout: float) -> None:
        # sendall() only means "in our kernel's buffer"; the job is delivered once the printer has acknowledged
        # every byte (Linux SIOCOUTQ reaches 0) without resetting the connection.
        _wait_drained(self._unacknowledged, stall_timeout, self._alive)
        self._alive()

    def _unacknowledged(self) -> int:
        try:
            raw = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))  # == SIOCOUTQ
        except OSError:
            return 0  # not Linux: trust the send()s
        return struct.unpack("i", raw)[0]

    def _alive(self) -> None:
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
        self.sock.settimeout(0.0)  # with a timeout set, Python would poll first and wait
        try:
            peek = self.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        if peek == b"" and self._unacknowledged() > 0:
            raise ConnectionResetError("the printer closed the connection before taking the whole job")

    def read(self, size: int, timeout: float) -> bytes:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(size)
        except TimeoutError:
            return b""
        if not data:
            raise ConnectionResetError("the printer closed the connection")
        return data

    def discard_input(self) -> None:
        self.sock.settimeout(0.0)
        for _ in range(64):
            try:
                if not self.sock.recv(4096):
                    return
            except (BlockingIOError, InterruptedError):
                return

    def close(self) -> None:
        try:
            self.discard_input()  # unread input would turn our FIN into a reset
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.sock.close()


class _SerialLink(_Link):
    def __init__(self, conn: Connection) -> None:
        import serial

        self.flow = conn.flow
        self.ser = serial.Serial(
            port=conn.path, baudrate=conn.baudrate, bytesize=conn.bytesize, parity=conn.parity,
            stopbits=conn.stopbits, timeout=0, write_timeout=conn.write_timeout, xonxoff=conn.flow == "xonxoff",
            rtscts=conn.flow == "rtscts", dsrdtr=conn.flow == "dsrdtr", exclusive=True,
        )
        # about one second of line time per write, so the stall timeout also holds at 9600 baud
        self.chunk = max(64, min(4096, conn.baudrate // 10))

    def write(self, data: bytes, stall_timeout: float) -> None:
        import serial

        self.ser.write_timeout = stall_timeout
        try:
            for start in range(0, len(data), self.chunk):
                self.ser.write(data[start : start + self.chunk])
        except serial.SerialTimeoutException as exc:
            raise TimeoutError(str(exc)) from exc

    def settle(self, stall_timeout: float) -> None:
        # not flush(): tcdrain has no timeout and hangs forever behind a stuck flow-control line
        _wait_drained(lambda: self.ser.out_waiting, stall_timeout)

    def read(self, size: int, timeout: float) -> bytes:
        self.ser.timeout = timeout
        return self.ser.read(size)

    def discard_input(self) -> None:
        self.ser.reset_input_buffer()

    def offline_by_signal(self) -> bool:
        if self.flow != "dsrdtr":
            return False
        try:
            return not self.ser.dsr  # a printer that is off drops DSR
        except OSError:
            return False

    def close(self) -> None:
        try:
            self.ser.close()
        except OSError:
            pass


class _FileLink(_Link):
    can_read = False
    chunk = 4096

    def __init__(self, conn: Connection) -> None:
        # no O_CREAT: a missing /dev/usb/lp0 means an unplugged printer, not a regular file to create in /dev
        flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(conn.path, flags)

    def write(self, data: bytes, stall_timeout: float) -> None:
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.fd], [], stall_timeout)
            if not ready:
                raise TimeoutError("the device file took no data")
            try:
                written = os.write(self.fd, view[: self.chunk])
            except (BlockingIOError, InterruptedError):
                time.sleep(0.01)
                continue
            view = view[written:]

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def close(self) -> None:
        os.close(self.fd)


class _UsbLink(_Link):
    chunk = 4096

    def __init__(self, conn: Connection) -> None:
        from escpos.printer import Usb

        self.printer = Usb(conn.vendor_id, conn.product_id, timeout=int(conn.write_timeout * 1000),
                           in_ep=conn.in_ep, out_ep=conn.out_ep)
        self.printer.open()  # raises escpos DeviceNotFoundError when unplugged
        self.device = self.printer.device
        self.in_ep, self.out_ep = conn.in_ep, conn.out_ep

    def write(self, data: bytes, stall_timeout: float) -> None:
        import usb.core

        for start in range(0, len(data), self.chunk):
            try:
                self.device.write(self.out_ep, data[start : start + self.chunk], int(stall_timeout * 1000))
            except usb.core.USBTimeoutError as exc:
                raise TimeoutError(str(exc)) from exc

    def read(self, size: int, timeout: float) -> bytes:
        import usb.core

        try:
            return bytes(self.device.read(self.in_ep, max(size, 64), int(timeout * 1000)))[:size]
        except usb.core.USBTimeoutError:
            return b""

    def close(self) -> None:
        try:
            self.printer.close()
        except Exception:  # noqa: BLE001 - releasing a vanished device must not mask the job's own outcome
            log.debug("closing USB printer failed", exc_info=True)


def _open_bounded(opener: Callable[[], _Link], timeout: float) -> _Link:
    """Run an open() that the OS may block on (Bluetooth rfcomm connects, USB resets) with a deadline.

    On timeout the opener thread is abandoned; if it succeeds later it closes what it opened.
    """
    lock = threading.Lock()
    done = threading.Event()
    result: dict[str, Any] = {}
    abandoned = False

    def run() -> None:
        try:
            link = opener()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            with lock:
                result["error"] = exc
                done.set()
            return
        with lock:
            late = abandoned
            if not late:
                result["link"] = link
                done.set()
        if late:
            link.close()

    threading.Thread(target=run, name="printer-open", daemon=True).start()
    if not done.wait(timeout):
        with lock:
            if not done.is_set():
                abandoned = True
                raise TimeoutError("the port did not open in time")
    if "error" in result:
        raise result["error"]
    return result["link"]


class StreamPrinter(PrinterPort):
    """A printer reached over a byte stream: network socket, serial port (incl. Bluetooth rfcomm), device file, USB."""

    def _open_link(self) -> _Link:
        conn = self.connection
        try:
            if conn.kind == "network":
                if _is_ip(conn.host):
                    return _TcpLink(conn)
                # name lookups ignore socket timeouts (a dead DNS or mDNS server can take many seconds)
                return _open_bounded(lambda: _TcpLink(conn), conn.connect_timeout)
            if conn.kind == "file":
                return _FileLink(conn)
            opener = _SerialLink if conn.kind == "serial" else _UsbLink
            return _open_bounded(lambda: opener(conn), conn.connect_timeout)
        except TimeoutError as exc:
            raise PrinterOffline(N_("Printer %(printer)s did not answer within %(seconds)s seconds."),
                                 printer=conn.spec, seconds=_seconds(conn.connect_timeout)) from exc
        except IsADirectoryError as exc:
            raise PrinterError(N_("Printer %(printer)s is a folder; use folder:%(path)s to save jobs there."),
                               printer=conn.spec, path=conn.path) from exc
        except Exception as exc:  # noqa: BLE001 - OSError, pyserial, pyusb/escpos "not found" and missing backends
            raise PrinterOffline(N_("Printer %(printer)s cannot be reached: %(reason)s."), printer=conn.spec,
                                 reason=_reason(exc)) from exc

    def send(self, job_id: str, data: bytes, html: str | None = None) -> None:
        """Write the ESC/POS bytes (html is for the folder printer only and is ignored here)."""
        check_job_id(job_id)
        data = _check_data(data)
        conn = self.connection
        with self._lock:
            self._check_open()
            started = time.monotonic()
            link = self._open_link()
            try:
                link.write(data, conn.write_timeout)
                link.settle(conn.write_timeout)
            except TimeoutError as exc:
                raise PrinterOffline(
                    N_("Printer %(printer)s stopped taking data for %(seconds)s seconds; job %(job)s was not printed."),
                    printer=conn.spec, seconds=_seconds(conn.write_timeout), job=job_id) from exc
            except OSError as exc:
                raise PrinterOffline(N_("Printer %(printer)s dropped job %(job)s: %(reason)s."), printer=conn.spec,
                                     job=job_id, reason=_reason(exc)) from exc
            except Exception as exc:  # noqa: BLE001 - a USB stack fault must still reach the queue as a PrinterError
                raise PrinterError(N_("Printer %(printer)s failed job %(job)s: %(reason)s."), printer=conn.spec,
                                   job=job_id, reason=_reason(exc)) from exc
            finally:
                link.close()
            log.info("printer %s took job %s (%d bytes) in %.2f s", conn.spec, job_id, len(data),
                     time.monotonic() - started)

    def status(self) -> PrinterStatus:
        conn = self.connection
        if not self._lock.acquire(timeout=conn.connect_timeout + 2 * conn.status_timeout):
            return PrinterStatus.UNKNOWN  # busy with a long job; it will report its own outcome
        try:
            return self._status()
        finally:
            self._lock.release()

    def _status(self) -> PrinterStatus:
        if self._closed:
            return PrinterStatus.UNKNOWN
        try:
            link = self._open_link()
        except PrinterError:
            return PrinterStatus.OFFLINE
        try:
            if link.offline_by_signal():
                return PrinterStatus.OFFLINE
            if not link.can_read:
                return PrinterStatus.UNKNOWN
            return self._probe(link)
        except OSError:
            return PrinterStatus.OFFLINE
        except Exception:  # noqa: BLE001 - status must answer, never raise
            log.warning("status of %s failed", self.connection.spec, exc_info=True)
            return PrinterStatus.UNKNOWN
        finally:
            link.close()

    def _probe(self, link: _Link) -> PrinterStatus:
        timeout = self.connection.status_timeout
        link.discard_input()
        link.write(DLE_EOT_PRINTER, timeout)
        printer = link.read(1, timeout)
        if not printer:
            return PrinterStatus.UNKNOWN
        link.write(DLE_EOT_PAPER, timeout)
        paper = link.read(1, timeout)
        return interpret_status(printer[0], paper[0] if paper else None)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip().replace("\n", " ")[:200] or type(exc).__name__


def open_printer(conn: Connection | str) -> PrinterPort:
    """A port for the connection; nothing is opened until a job or a status request (each opens and closes)."""
    if isinstance(conn, str):
        conn = parse(conn)
    if conn.kind == "folder":
        return FolderPrinter(conn)
    return StreamPrinter(conn)


def with_timeouts(conn: Connection, **timeouts: float) -> Connection:
    """The same connection with other connect/write/status timeouts (tests, a devices page "test print")."""
    return replace(conn, **timeouts)
