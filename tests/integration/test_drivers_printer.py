"""Printers over real byte streams: a TCP 9100 printer on 127.0.0.1 that records, answers DLE EOT and dies mid-job; a
serial printer on a pty; a device file; the save-to-folder printer."""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from escpos.printer import Dummy

from drivers.connectors import (
    FolderPrinter,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    StreamPrinter,
    open_printer,
    parse,
)
from drivers.errors import DeviceError

DLE_EOT = b"\x10\x04"
ONLINE, OFFLINE_BIT, PAPER_PRESENT, PAPER_END = 0x12, 0x1A, 0x12, 0x72


def status_requests(received: bytearray, scanned: int) -> tuple[list[int], int]:
    """The n of each complete DLE EOT n in `received` from `scanned` on, and where to scan from next time."""
    requests = []
    while True:
        at = received.find(DLE_EOT, scanned)
        if at < 0:
            return requests, max(scanned, len(received) - 1)  # a trailing DLE may start the next request
        if at + 2 >= len(received):
            return requests, at
        requests.append(received[at + 2])
        scanned = at + 3


class FakeNetworkPrinter:
    """A raw port-9100 printer: one record per connection, DLE EOT answered from `answers`, optional death mid-job."""

    def __init__(self, port: int = 0, answers: dict[int, int] | None = None, die_after: int | None = None,
                 reset: bool = False, read: bool = True, one_at_a_time: bool = False, read_delay: float = 0.0,
                 ) -> None:
        self.answers = answers or {}
        self.one_at_a_time = one_at_a_time  # like most real printers: the next connection waits for this one
        self.read_delay = read_delay
        self.die_after = die_after
        self.reset = reset
        self.read = read
        self._ended: dict[int, bytes] = {}  # connection number -> bytes, for connections the client ended cleanly
        self.cut_off: list[bytes] = []  # connections this printer dropped
        self.connections = 0
        self._count = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._held: list[socket.socket] = []
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if read_delay:
            self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a printer's small input buffer
        self.server.bind(("127.0.0.1", port))
        self.server.listen(8)
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self._spawn(self._accept)

    @property
    def jobs(self) -> list[bytes]:
        """What each cleanly ended connection brought, in the order the connections were made."""
        return [self._ended[number] for number in sorted(self._ended)]

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with self._count:
                self.connections += 1
                number = self.connections
            if not self.read:
                self._held.append(conn)  # a hung printer: connected, never reads
            elif self.one_at_a_time:
                self._serve(conn, number)
            else:
                self._spawn(self._serve, conn, number)

    def _serve(self, conn: socket.socket, number: int) -> None:
        received = bytearray()
        scanned = 0
        conn.settimeout(0.05)
        try:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    self._ended[number] = bytes(received)
                    return
                received += chunk
                if self.read_delay:
                    time.sleep(self.read_delay)  # the print head is slower than the network
                requests, scanned = status_requests(received, scanned)
                for request in requests:
                    if request in self.answers:
                        conn.sendall(bytes([self.answers[request]]))
                if self.die_after is not None and len(received) >= self.die_after:
                    if self.reset:  # power cut: the connection is reset, not closed
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.cut_off.append(bytes(received))
                    return
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.server.close()
        for conn in self._held:
            conn.close()
        for thread in self._threads:
            thread.join(2)
        assert not any(thread.is_alive() for thread in self._threads)

    def __enter__(self) -> FakeNetworkPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def network(port: int, **timeouts: float) -> StreamPrinter:
    query = "&".join(f"{name}={value}" for name, value in timeouts.items())
    printer = open_printer(parse(f"network:127.0.0.1:{port}" + (f"?{query}" if query else "")))
    assert isinstance(printer, StreamPrinter)
    return printer


def receipt_bytes() -> bytes:
    dummy = Dummy()
    dummy.set(bold=True)
    dummy.text("KOPERASI MERAH PUTIH\n")
    dummy.set(bold=False)
    dummy.text("Beras premium 5 kg      Rp 72.500\n")
    dummy.cut()
    return dummy.output


BIG_JOB = bytes(range(256)) * 65536  # 16 MB: more than loopback's socket buffers can swallow


def test_network_printer_receives_exactly_the_bytes_once():
    data = receipt_bytes()
    with FakeNetworkPrinter() as fake:
        with network(fake.port) as printer:
            printer.send("sale-1-0", data)
            printer.send("sale-2-0", b"second job")
        deadline = time.monotonic() + 2
        while len(fake.jobs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fake.jobs == [data, b"second job"]
    assert fake.connections == 2  # one connection per job: nothing held open between jobs


def test_printer_by_host_name():
    with FakeNetworkPrinter() as fake:
        printer = open_printer(f"network:localhost:{fake.port}?connect_timeout=1")
        printer.send("sale-5-0", b"by name")
        deadline = time.monotonic() + 2
        while not fake.jobs and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fake.jobs == [b"by name"]


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_printer_dying_mid_job_fails_fast_and_the_retry_prints_once(reset):
    port = free_port()
    with FakeNetworkPrinter(port=port, die_after=50_000, reset=reset) as dying:
        printer = network(port, write_timeout=2)
        started = time.monotonic()
        with pytest.raises(PrinterOffline) as raised:
            printer.send("sale-7-0", BIG_JOB)
        assert time.monotonic() - started < 2
        assert isinstance(raised.value, PrinterError) and isinstance(raised.value, DeviceError)
        assert raised.value.params["job"] == "sale-7-0"
    assert dying.jobs == []
    assert len(dying.cut_off) == 1 and 50_000 <= len(dying.cut_off[0]) < len(BIG_JOB)

    with FakeNetworkPrinter(port=port) as back:  # the printer comes back on the same address; the queue retries
        printer.send("sale-7-0", BIG_JOB)
        deadline = time.monotonic() + 3
        while not back.jobs and time.monotonic() < deadline:
            time.sleep(0.01)
        assert back.connections == 1
    assert len(back.jobs) == 1 and back.jobs[0] == BIG_JOB


def test_nothing_listening_is_offline_at_once():
    printer = network(free_port())
    started = time.monotonic()
    with pytest.raises(PrinterOffline):
        printer.send("sale-1-0", b"hello")
    assert time.monotonic() - started < 1
    assert printer.status() is PrinterStatus.OFFLINE


def test_printer_that_never_accepts_times_out_on_connect():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = []
    for _ in range(4):  # fill the accept backlog: further SYNs are dropped, as for a host that is off
        client = socket.socket()
        client.setblocking(False)
        try:
            client.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        queued.append(client)
    try:
        time.sleep(0.05)
        printer = network(port, connect_timeout=0.4)
        started = time.monotonic()
        with pytest.raises(PrinterOffline) as raised:
            printer.send("sale-1-0", b"hello")
        elapsed = time.monotonic() - started
        assert 0.3 < elapsed < 1.5
        assert raised.value.params["seconds"] == "0.4"
    finally:
        for client in queued:
            client.close()
        server.close()


def test_printer_that_stops_reading_times_out_on_write():
    with FakeNetworkPrinter(read=False) as fake:
        printer = network(fake.port, write_timeout=0.4)
        started = time.monotonic()
        with pytest.raises(PrinterOffline):
            printer.send("sale-1-0", BIG_JOB)
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({1: ONLINE, 4: PAPER_PRESENT}, PrinterStatus.ONLINE),
        ({1: OFFLINE_BIT, 4: PAPER_END}, PrinterStatus.PAPER_OUT),
        ({1: ONLINE, 4: PAPER_END}, PrinterStatus.PAPER_OUT),
        ({1: OFFLINE_BIT, 4: PAPER_PRESENT}, PrinterStatus.OFFLINE),  # cover open
        ({1: OFFLINE_BIT}, PrinterStatus.OFFLINE),
        ({1: 0xFF, 4: PAPER_PRESENT}, PrinterStatus.UNKNOWN),  # not a status byte
        ({}, PrinterStatus.UNKNOWN),  # a printer that does not do DLE EOT
    ],
)
def test_status_from_the_printers_dle_eot_answers(answers, expected):
    with FakeNetworkPrinter(answers=answers) as fake:
        printer = network(fake.port, status_timeout=0.2)
        started = time.monotonic()
        assert printer.status() is expected
        assert time.monotonic() - started < 1.5
        deadline = time.monotonic() + 2
        while not fake.jobs and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fake.jobs and fake.jobs[0].startswith(b"\x10\x04\x01")  # the request the fake printer saw


def test_status_asked_during_a_job_waits_for_it_instead_of_fighting_it():
    job_bytes = BIG_JOB[: 4 * 1024 * 1024]
    with FakeNetworkPrinter(answers={1: ONLINE, 4: PAPER_PRESENT}, one_at_a_time=True, read_delay=0.01) as fake:
        queue_worker = network(fake.port)
        devices_page = network(fake.port, status_timeout=0.3)  # another port on the same printer
        job = threading.Thread(target=queue_worker.send, args=("sale-9-0", job_bytes))
        started = time.monotonic()
        job.start()
        deadline = time.monotonic() + 2
        while not fake.connections and time.monotonic() < deadline:
            time.sleep(0.001)
        # a printer serves one connection at a time: asked beside the job, the status request would go unanswered
        assert devices_page.status() is PrinterStatus.ONLINE
        assert time.monotonic() - started > 0.3  # it waited for the job
        job.join(5)
        assert not job.is_alive()
        deadline = time.monotonic() + 2
        while len(fake.jobs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert fake.jobs == [job_bytes, b"\x10\x04\x01\x10\x04\x04"]


def test_absent_usb_printer_is_offline_fast():
    printer = open_printer("usb:04b8:0e15")  # no such device on the test machine
    started = time.monotonic()
    with pytest.raises(PrinterOffline) as raised:
        printer.send("sale-1-0", b"x")
    assert printer.status() is PrinterStatus.OFFLINE
    assert time.monotonic() - started < 4
    assert raised.value.params["printer"] == "usb:04b8:0e15"


# -- serial printer on a pty -------------------------------------------------------------------------------------


class FakeSerialPrinter:
    """The printer end of a pty: records what arrives and answers DLE EOT like a printer would."""

    def __init__(self, answers: dict[int, int]) -> None:
        self.master, slave = os.openpty()
        self.name = os.ttyname(slave)
        os.close(slave)
        self.answers = answers
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        scanned = 0
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO while no one has the slave open
                time.sleep(0.01)
                continue
            self.received += chunk
            requests, scanned = status_requests(self.received, scanned)
            for request in requests:
                if request in self.answers:
                    os.write(self.master, bytes([self.answers[request]]))

    def wait_for(self, size: int, timeout: float = 2.0) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.received) < size and time.monotonic() < deadline:
            time.sleep(0.01)
        return bytes(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        assert not self._thread.is_alive()


def test_serial_printer_on_a_pty_gets_the_bytes_and_reports_paper_out():
    fake = FakeSerialPrinter({1: OFFLINE_BIT, 4: PAPER_END})
    try:
        data = receipt_bytes()
        printer = open_printer(f"serial:{fake.name}?baudrate=115200&status_timeout=0.5")
        printer.send("sale-3-0", data)
        assert fake.wait_for(len(data)) == data
        assert printer.status() is PrinterStatus.PAPER_OUT
        assert fake.wait_for(len(data) + 6)[len(data):] == b"\x10\x04\x01\x10\x04\x04"
    finally:
        fake.close()


def test_serial_printer_that_is_unplugged_is_offline(tmp_path):
    printer = open_printer(f"serial:{tmp_path / 'ttyUSB9'}")
    started = time.monotonic()
    with pytest.raises(PrinterOffline):
        printer.send("sale-1-0", b"x")
    assert printer.status() is PrinterStatus.OFFLINE
    assert time.monotonic() - started < 1


# -- device file ------------------------------------------------------------------------------------------------


def test_device_file_printer_appends_each_job(tmp_path):
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    printer = open_printer(f"file:{device}")
    printer.send("a", b"first")
    printer.send("b", b"second")
    assert device.read_bytes() == b"firstsecond"
    assert printer.status() is PrinterStatus.UNKNOWN  # a device file cannot answer


def test_missing_device_file_is_offline_and_not_created(tmp_path):
    device = tmp_path / "lp0"
    printer = open_printer(f"file:{device}")
    with pytest.raises(PrinterOffline):
        printer.send("a", b"first")
    assert not device.exists()
    assert printer.status() is PrinterStatus.OFFLINE


# -- save to folder ---------------------------------------------------------------------------------------------


def test_folder_printer_writes_bin_and_html_atomically(tmp_path):
    folder = tmp_path / "printer-out"
    printer = open_printer(f"folder:{folder}")
    assert isinstance(printer, FolderPrinter)
    data = receipt_bytes()
    printer.send("sale-12-0", data, "<p>Struk</p>")
    assert sorted(p.name for p in folder.iterdir()) == ["sale-12-0.bin", "sale-12-0.html"]
    assert (folder / "sale-12-0.bin").read_bytes() == data
    assert (folder / "sale-12-0.html").read_text(encoding="utf-8") == "<p>Struk</p>"
    assert printer.status() is PrinterStatus.ONLINE


def test_folder_printer_resend_replaces_instead_of_adding(tmp_path):
    printer = open_printer(f"folder:{tmp_path}")
    printer.send("sale-12-0", b"first", "<p>1</p>")
    printer.send("sale-12-0", b"again", "<p>2</p>")
    printer.send("sale-13-0", b"other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sale-12-0.bin", "sale-12-0.html", "sale-13-0.bin"]
    assert (tmp_path / "sale-12-0.bin").read_bytes() == b"again"
    assert (tmp_path / "sale-12-0.html").read_text() == "<p>2</p>"


def test_folder_printer_refuses_job_ids_that_are_paths(tmp_path):
    folder = tmp_path / "out"
    printer = open_printer(f"folder:{folder}")
    for bad in ("../escape", "a/b", ".hidden", "", "x" * 201, "nul\x00"):
        with pytest.raises(ValueError, match="job id"):
            printer.send(bad, b"data")
    assert not folder.exists() or list(folder.iterdir()) == []
    assert not (tmp_path / "escape.bin").exists()


def test_folder_printer_on_something_that_is_not_a_folder_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    printer = open_printer(f"folder:{blocker}")
    with pytest.raises(PrinterError) as raised:
        printer.send("sale-1-0", b"data")
    assert raised.value.params["job"] == "sale-1-0"
    assert printer.status() is PrinterStatus.OFFLINE
    assert blocker.read_text() == "in the way"


def test_closed_port_refuses_jobs(tmp_path):
    printer = open_printer(f"folder:{tmp_path}")
    printer.close()
    with pytest.raises(PrinterError):
        printer.send("sale-1-0", b"data")
    assert list(Path(tmp_path).iterdir()) == []
