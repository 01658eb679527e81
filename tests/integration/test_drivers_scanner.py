"""A serial scanner on a pty pair: scans arrive, GS1 keeps its GS, unplug and replug recover without a restart, and
scans nobody listens for reach the till page later as missed."""

from __future__ import annotations

import os
import queue
import threading
import time

import pytest
import serial

from drivers.events import ScanBroker
from drivers.scanner import CONNECTED, DISCONNECTED, STOPPED, SerialScanner

GS = "\x1d"


class Pty:
    """The scanner end of a serial line: write scans into the master; close it to pull the cable."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        self.name = os.ttyname(slave)
        os.close(slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def point(link, target: str) -> None:
    """Re-point a symlink atomically, as udev does for /dev/serial/by-id when the scanner is plugged in again."""
    tmp = link.with_name(link.name + ".new")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def expect(q: queue.Queue, value, timeout: float = 3.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            item = q.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if item == value:
            return item
        seen.append(item)
    pytest.fail(f"{value!r} did not arrive within {timeout} s (got {seen!r})")


@pytest.fixture
def scanner_on_pty(tmp_path):
    made = []

    def make(**options):
        pty = Pty()
        link = tmp_path / "scanner"
        point(link, pty.name)
        scans: queue.Queue[str] = queue.Queue()
        states: queue.Queue[str] = queue.Queue()
        scanner = SerialScanner(str(link), 9600, on_scan=scans.put, on_state=states.put, retry_interval=0.05,
                                max_retry_interval=0.2, **options)
        made.append((scanner, pty))
        scanner.start()
        expect(states, CONNECTED)
        return scanner, pty, link, scans, states

    yield make
    for scanner, pty in made:
        assert scanner.stop(timeout=2)
        pty.close()


def test_scans_arrive_line_by_line(scanner_on_pty):
    scanner, pty, _, scans, _ = scanner_on_pty()
    pty.write(b"8991234567891\r")
    pty.write(b"  4006381333931 \r\n")  # CRLF and spaces
    pty.write(b"\r\n\r\n")  # empty lines are ignored
    pty.write(b"89912")
    time.sleep(0.05)
    pty.write(b"34567891\n")  # one scan across two reads
    assert [scans.get(timeout=2) for _ in range(3)] == ["8991234567891", "4006381333931", "8991234567891"]
    assert scans.empty()


def test_gs1_scan_keeps_its_group_separators(scanner_on_pty):
    _, pty, _, scans, _ = scanner_on_pty()
    code = "]d20108991234567891" + "17270131" + "10LOT42" + GS + "21SN0001" + GS
    pty.write(code.encode("ascii") + b"\r")
    assert scans.get(timeout=2) == code


def test_noise_and_overlong_lines_are_not_scans(scanner_on_pty):
    _, pty, _, scans, _ = scanner_on_pty(max_length=20)
    pty.write(b"\x00\x07\x1b\r")  # control characters only
    pty.write(b"9" * 50 + b"\r")  # too long: dropped whole, never cut to a wrong code
    pty.write(b"Caf\xe9-123\r")  # latin-1 decodes, never raises
    assert scans.get(timeout=2) == "Caf\u00e9-123"
    time.sleep(0.1)
    assert scans.empty()


def test_unplug_and_replug_without_restart(scanner_on_pty):
    scanner, pty, link, scans, states = scanner_on_pty()
    pty.write(b"111\r")
    assert scans.get(timeout=2) == "111"

    link.unlink()  # cable out: udev removes the stable link with the device
    pty.close()
    expect(states, DISCONNECTED)
    assert scanner.state == DISCONNECTED and scanner.running
    time.sleep(0.3)  # a few failed reopen attempts with backoff
    assert scanner.state == DISCONNECTED

    replugged = Pty()  # cable in: a new device node, the stable link follows it
    try:
        point(link, replugged.name)
        expect(states, CONNECTED)
        replugged.write(b"222\r")
        assert scans.get(timeout=2) == "222"
        assert scanner.state == CONNECTED
    finally:
        assert scanner.stop(timeout=2)
        replugged.close()
    assert scanner.state == STOPPED and not scanner.running


def test_scanner_started_before_the_device_exists_connects_when_it_appears(tmp_path):
    link = tmp_path / "later"
    states: queue.Queue[str] = queue.Queue()
    scans: queue.Queue[str] = queue.Queue()
    scanner = SerialScanner(str(link), on_scan=scans.put, on_state=states.put, retry_interval=0.05,
                            max_retry_interval=0.1)
    scanner.start()
    pty = Pty()
    try:
        expect(states, DISCONNECTED)
        assert "No such file" in scanner.last_error or "could not open" in scanner.last_error
        point(link, pty.name)
        expect(states, CONNECTED)
        pty.write(b"333\r")
        assert scans.get(timeout=2) == "333"
    finally:
        assert scanner.stop(timeout=2)
        pty.close()


def test_a_failing_handler_loses_one_scan_not_the_reader():
    pty = Pty()
    got: list[str] = []

    def on_scan(code: str) -> None:
        if code == "bad":
            raise RuntimeError("handler bug")
        got.append(code)

    scanner = SerialScanner(pty.name, on_scan=on_scan, retry_interval=0.05)
    scanner.start()
    try:
        deadline = time.monotonic() + 2
        while scanner.state != CONNECTED and time.monotonic() < deadline:
            time.sleep(0.01)
        pty.write(b"bad\rgood\r")
        deadline = time.monotonic() + 2
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == ["good"]
        assert scanner.state == CONNECTED
    finally:
        assert scanner.stop(timeout=2)
        pty.close()


def test_port_factory_is_called_again_after_a_fault():
    ptys = [Pty(), Pty()]
    opened = []

    def factory():
        pty = ptys[min(len(opened), 1)]
        opened.append(pty.name)
        return serial.Serial(pty.name, 9600, timeout=0.05)

    scans: queue.Queue[str] = queue.Queue()
    states: queue.Queue[str] = queue.Queue()
    scanner = SerialScanner(factory, on_scan=scans.put, on_state=states.put, retry_interval=0.05)
    scanner.start()
    try:
        expect(states, CONNECTED)
        ptys[0].close()
        expect(states, DISCONNECTED)
        expect(states, CONNECTED)
        ptys[1].write(b"444\r")
        assert scans.get(timeout=2) == "444"
        assert opened[:2] == [ptys[0].name, ptys[1].name]
    finally:
        assert scanner.stop(timeout=2)
        for pty in ptys:
            pty.close()


def test_scanner_feeds_the_till_page_and_nothing_is_lost_while_no_page_listens():
    broker = ScanBroker()
    published = threading.Event()

    def to_till(code: str) -> None:
        broker.publish("till-1", {"type": "scan", "code": code})
        published.set()

    pty = Pty()
    scanner = SerialScanner(pty.name, on_scan=to_till, retry_interval=0.05)
    scanner.start()
    try:
        deadline = time.monotonic() + 2
        while scanner.state != CONNECTED and time.monotonic() < deadline:
            time.sleep(0.01)
        pty.write(b"8991234567891\r")  # no till page open yet
        assert published.wait(2)
        assert [e["code"] for e in broker.missed("till-1")] == ["8991234567891"]

        with broker.subscribe("till-1", timeout=1) as page:
            first = page.get(timeout=1)
            assert first is not None and first["code"] == "8991234567891" and first["missed"] is True
            pty.write(b"4006381333931\r")
            second = page.get(timeout=2)
            assert second is not None and second["code"] == "4006381333931" and "missed" not in second
        assert broker.missed("till-1") == []
    finally:
        assert scanner.stop(timeout=2)
        pty.close()
