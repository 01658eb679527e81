"""Device settings refuse what is not a device (issue 9, findings 15 and 16): ports are serial devices, network
printers are on the shop's network at a printer port, refusals come back as the form with the error at its field
and a 4xx status, and "check the printer" never tells how a connection failed."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest
import sqlalchemy as sa

from pos.db import db, write_transaction
from pos.models import AuditEntry, Till
from tests.conftest import csrf_token, sign_in

PORT_FIELDS = ("scanner_port", "scale_port", "display_port")
SETTINGS = ("printer", "printer_profile", "drawer_pin", "scanner_port", "scale_port", "scale_protocol",
            "display_port", "display_commands")


def base_form(client, **fields) -> dict:
    form = {"csrf_token": csrf_token(client), "printer": "", "printer_profile": "TM-T20II", "drawer_pin": "2",
            "scanner_port": "", "scale_port": "", "scale_protocol": "", "display_port": "", "display_commands": ""}
    form.update(fields)
    return form


def settings_of(app, code: str = "TK01") -> dict:
    with app.app_context():
        till = db.session.scalar(sa.select(Till).where(Till.code == code))
        return {name: getattr(till, name) for name in SETTINGS}


def configured_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "devices.configured"))


def flash_of(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html,
                                                                     re.S)]


def assert_refused_at(response, field: str) -> None:
    assert response.status_code in (400, 422), response.status_code
    assert f'data-error-for="{field}"' in response.text
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', response.text)


@pytest.mark.parametrize("field", PORT_FIELDS)
@pytest.mark.parametrize("value", [
    "/etc/passwd",
    "instance/secret_key",
    "{instance}/secret_key",
    "{instance}/kasir.db",
    "socket://127.0.0.1:9100",
    "rfc2217://192.168.1.5:4000",
    "loop://",
    "/dev/ttyUSB0/../../etc/passwd",
    "/dev/serial/by-id/../../../etc/shadow",
    "/dev/pts/../sda",
    "/dev/sda",
    "/dev/tty",
    "/dev/tty1",
    "/tmp/ttyUSB0",
    "ttyUSB0",
    "COM0",
    "/dev/ttyUSB0\x00",
    "/dev/tty\tUSB0",
])
def test_a_port_that_is_not_a_serial_device_is_refused_at_its_field(field, value, signed_in, client, demo_app):
    signed_in("manajer")
    value = value.format(instance=demo_app.instance_path)
    before, audits = settings_of(demo_app), configured_count(demo_app)
    response = client.post("/perangkat/kasir/TK01", data=base_form(client, **{field: value}))
    if "\x00" in value:
        assert response.status_code == 400  # refused for every form before it reaches this one
    else:
        assert_refused_at(response, field)
    assert settings_of(demo_app) == before and configured_count(demo_app) == audits  # nothing saved
    if "\x00" not in value and "\t" not in value:
        assert f'value="{value}"' in response.text or f'value="{value.replace("&", "&amp;")}"' in response.text


def test_real_serial_ports_are_accepted(signed_in, client, demo_app):
    signed_in("manajer")
    master, slave = os.openpty()
    pty = os.ttyname(slave)  # /dev/pts/N: the tests' emulated scanners, scales and displays
    try:
        for scanner, scale, display in (
            ("/dev/ttyUSB0", "/dev/rfcomm0", "COM3"),
            (pty, "/dev/ttyACM0", "/dev/serial/by-id/usb-Prolific_Technology_Inc._USB-Serial_Controller-if00-port0"),
            ("/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0", "/dev/ttyS0", "com12"),
        ):
            response = client.post("/perangkat/kasir/TK01", data=base_form(
                client, scanner_port=scanner, scale_port=scale, scale_protocol="cas", display_port=display,
                display_commands="epson"))
            assert response.status_code == 302, flash_of(response.text)
            saved = settings_of(demo_app)
            assert (saved["scanner_port"], saved["scale_port"], saved["display_port"]) == (
                scanner, scale, display.upper() if display.lower().startswith("com") else display)
    finally:
        demo_app.extensions["kasir_devices"].start_scanner("TK01", "")
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("printer", [
    "network:8.8.8.8:9100",
    "network:example.com:9100",
    "network:printer.example.com",
    "network:2130706433:9100",  # 127.0.0.1 as one number: not a name
    "network:0x7f000001",
    "network:127.1",
    "network:0.0.0.0:9100",
    "network:[2001:db8::1]:9100",
    "network:[::ffff:8.8.8.8]:9100",
    "network:192.168.1.50:22",
    "network:192.168.1.50:631",
    "network:127.0.0.1:5432",
    "serial:/etc/passwd",
    "serial:/dev/../etc/passwd",
    "file:/etc/passwd",
    "file:/dev/../etc/passwd",
    "file:/dev/nonexistent-lp9",
    "folder:/tmp",
])
def test_a_printer_outside_the_shop_is_refused_at_its_field(printer, signed_in, client, demo_app):
    signed_in("manajer")
    before, audits = settings_of(demo_app), configured_count(demo_app)
    response = client.post("/perangkat/kasir/TK01", data=base_form(client, printer=printer))
    assert_refused_at(response, "printer")
    assert settings_of(demo_app) == before and configured_count(demo_app) == audits


def test_a_missing_device_file_and_a_regular_file_are_refused_alike(signed_in, client, demo_app):
    """The printer field is no way to learn which files exist."""
    signed_in("manajer")
    answers = []
    for path in ("/dev/no-such-printer", "/etc/hostname", f"{demo_app.instance_path}/secret_key"):
        response = client.post("/perangkat/kasir/TK01", data=base_form(client, printer=f"file:{path}"))
        error = re.search(r'data-error-for="printer">(.*?)</span>', response.text).group(1)
        answers.append(error.replace(path, "PATH"))
    assert len(set(answers)) == 1, answers


@pytest.mark.parametrize("printer", [
    "network:192.168.1.50:9100",
    "network:10.0.0.7",
    "network:172.20.1.2:9101",
    "network:127.0.0.1:9100",
    "network:169.254.10.20:9100",
    "network:[fe80::1]:9100",
    "network:printer-kasir1",
    "network:epson-tm.local:9100",
    "serial:/dev/ttyUSB0?baudrate=19200",
    "serial:/dev/rfcomm0",
    "usb:04b8:0202",
])
def test_printers_on_the_shop_network_and_its_ports_are_accepted(printer, signed_in, client, demo_app):
    signed_in("manajer")
    response = client.post("/perangkat/kasir/TK01", data=base_form(client, printer=printer))
    assert response.status_code == 302, flash_of(response.text)
    assert settings_of(demo_app)["printer"] == printer


def test_every_field_in_error_is_marked_and_nothing_is_saved(signed_in, client, demo_app):
    signed_in("manajer")
    before = settings_of(demo_app)
    response = client.post("/perangkat/kasir/TK01", data=base_form(
        client, printer="network:8.8.8.8", printer_profile="nope", drawer_pin="7", scanner_port="/etc/passwd",
        scale_protocol="x", display_commands="y"))
    assert response.status_code == 422
    for field in ("printer", "printer_profile", "drawer_pin", "scanner_port", "scale_protocol", "display_commands"):
        assert f'data-error-for="{field}"' in response.text, field
    assert settings_of(demo_app) == before


def test_refusals_are_in_indonesian(signed_in, client, demo_app):
    """The surrounding sentence and the driver's reason are both translated (no half-English refusals)."""
    signed_in("manajer")
    response = client.post("/perangkat/kasir/TK01", data=base_form(client, printer="teleport:somewhere"))
    error = re.search(r'data-error-for="printer">(.*?)</span>', response.text).group(1)
    assert error.startswith("Koneksi printer tidak valid")


def test_the_qris_form_and_the_drawer_reason_refuse_with_4xx(signed_in, client, demo_app):
    signed_in("manajer")
    qris = client.post("/perangkat/outlet/TK/qris", data={"csrf_token": csrf_token(client), "qris": "000201rusak"})
    assert_refused_at(qris, "qris")
    assert 'value="000201rusak"' in qris.text
    long_reason = client.post("/perangkat/kasir/TK01/laci", data={"csrf_token": csrf_token(client),
                                                                  "reason": "x" * 201})
    assert_refused_at(long_reason, "reason")
    with demo_app.app_context():
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action.like("drawer.%"))) is None


def test_job_actions_that_cannot_be_done_answer_4xx(signed_in, client):
    signed_in("manajer")
    token = csrf_token(client)
    assert client.post("/perangkat/antrian/999/lepas", data={"csrf_token": token}).status_code == 404
    assert client.post("/perangkat/antrian/999/buang", data={"csrf_token": token}).status_code == 409
    assert client.post("/perangkat/antrian/999/cetak-ulang", data={"csrf_token": token}).status_code == 404
    assert client.post("/perangkat/kasir/TK01/layar", data={"csrf_token": token}).status_code == 409


def test_a_printer_saved_before_the_rules_is_not_connected_to(signed_in, client, demo_app):
    """A row written by an older version (or by hand) is refused at use too: no status answer, no drawer kick."""
    with demo_app.app_context(), write_transaction():
        till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
        till.printer, till.display_port, till.display_commands = "network:127.0.0.1:22", "/etc/passwd", "epson"
    signed_in("manajer")
    token = csrf_token(client)
    status = client.post("/perangkat/kasir/TK01/status", data={"csrf_token": token})
    assert status.status_code in (400, 409, 422)
    drawer = client.post("/perangkat/kasir/TK01/laci", data={"csrf_token": token, "reason": "uji"})
    assert drawer.status_code in (400, 409, 422)
    assert client.post("/perangkat/kasir/TK01/layar", data={"csrf_token": token}).status_code in (400, 409, 422)


# -- network policy from the config ---------------------------------------------------------------------------


@pytest.fixture
def shop_network_app(make_app):
    from pos.demo import load_demo

    app = make_app(printer_networks=["203.0.113.0/24"], printer_ports="9200, 9300")
    with app.app_context():
        load_demo(books=False)
    return app


def test_the_allowed_networks_and_ports_come_from_the_config(shop_network_app):
    client = shop_network_app.test_client()
    assert sign_in(client, "manajer").status_code == 302
    assert shop_network_app.config["KASIR"]["printer_ports"] == [9200, 9300]
    ok = client.post("/perangkat/kasir/TK01", data=base_form(client, printer="network:203.0.113.5:9300"))
    assert ok.status_code == 302 and settings_of(shop_network_app)["printer"] == "network:203.0.113.5:9300"
    for refused in ("network:192.168.1.50:9100", "network:203.0.113.5:9100", "network:198.51.100.1:9200"):
        response = client.post("/perangkat/kasir/TK01", data=base_form(client, printer=refused))
        assert_refused_at(response, "printer")
    assert settings_of(shop_network_app)["printer"] == "network:203.0.113.5:9300"


# -- "check the printer" is no port scanner -------------------------------------------------------------------


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class _Silent:
    """Something that accepts connections and never answers (a service that is not a printer)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.server.settimeout(0.05)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                self.held.append(self.server.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for conn in self.held:
            conn.close()
        self.server.close()


class _Filtered:
    """A port whose SYNs go unanswered: a listener with a full accept backlog (as a firewall that drops)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(0)
        self.port = self.server.getsockname()[1]
        self.queued = []
        for _ in range(4):
            client = socket.socket()
            client.setblocking(False)
            try:
                client.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.queued.append(client)

    def close(self) -> None:
        for client in self.queued:
            client.close()
        self.server.close()


class _Printer:
    """A raw 9100-style printer that answers DLE EOT 1 and 4 with "online, paper present"."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            conn.settimeout(0.05)
            with conn:
                while not self.stop.is_set():
                    try:
                        data = conn.recv(64)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    for _ in range(data.count(b"\x10\x04")):
                        conn.sendall(b"\x12")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.server.close()


def test_check_the_printer_says_the_same_whatever_stops_the_connection(make_app):
    from pos.demo import load_demo

    closed, silent, filtered, printer = _closed_port(), _Silent(), _Filtered(), _Printer()
    try:
        app = make_app(printer_ports=[closed, silent.port, filtered.port, printer.port])
        with app.app_context():
            load_demo(books=False)
        client = app.test_client()
        assert sign_in(client, "manajer").status_code == 302
        answers = {}
        for name, port in (("closed", closed), ("silent", silent.port), ("filtered", filtered.port),
                           ("printer", printer.port)):
            with app.app_context(), write_transaction():
                till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
                till.printer = f"network:127.0.0.1:{port}?connect_timeout=0.3&status_timeout=0.2"
            response = client.post("/perangkat/kasir/TK01/status", data={"csrf_token": csrf_token(client)},
                                   follow_redirects=True)
            assert response.status_code == 200
            answers[name] = [text for text in flash_of(response.text) if "TK01" in text]
        assert answers["closed"] == answers["silent"] == answers["filtered"], answers
        assert len(answers["closed"]) == 1 and answers["printer"] != answers["closed"]
        text = answers["closed"][0].lower()
        for leak in ("refused", "ditolak", "timed out", "timeout", "unreachable", "offline", "unknown",
                     str(closed), "errno"):
            assert leak not in text, (leak, text)
        assert "online" not in answers["printer"][0].lower()  # a state in words, never the code
    finally:
        silent.close()
        filtered.close()
        printer.close()


def test_the_print_queue_shows_its_states_in_words(signed_in, client, demo_app):
    from pos.models import PrintJob

    with demo_app.app_context(), write_transaction():
        db.session.add(PrintJob(printer="folder:/x", profile="TM-T20II", kind="test", source_type="test_page",
                                source_id="a1", copy=0, data=b"x", html="", status="queued",
                                last_error="The printer cannot be reached."))
    signed_in("manajer")
    page = client.get("/perangkat/")
    row = re.search(r'<tr data-job="\d+" data-status="queued">(.*?)</tr>', page.text, re.S).group(1)
    assert "menunggu dicetak" in row
    assert "<td>queued</td>" not in row and ">test ·" not in row
