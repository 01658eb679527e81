"""Printer connection strings: every kind parsed and written back, bad ones refused with a message that helps; the
DLE EOT status bytes read the way the ESC/POS manual defines them."""

from __future__ import annotations

import dataclasses

import pytest

from drivers.connectors import (
    Connection,
    FolderPrinter,
    PrinterStatus,
    StreamPrinter,
    check_job_id,
    interpret_status,
    open_printer,
    parse,
    with_timeouts,
)


def test_usb_with_and_without_out_endpoint():
    conn = parse("usb:04b8:0202")
    assert (conn.kind, conn.vendor_id, conn.product_id, conn.out_ep, conn.in_ep) == ("usb", 0x04B8, 0x0202, 1, 0x82)
    conn = parse("USB:0x0416:0x5011:03?in_ep=81")
    assert (conn.vendor_id, conn.product_id, conn.out_ep, conn.in_ep) == (0x0416, 0x5011, 3, 0x81)
    assert conn.spec == "usb:0416:5011:03?in_ep=81"


def test_serial_with_options_and_bluetooth():
    conn = parse("serial:/dev/ttyUSB0?baudrate=19200&parity=even&bytesize=7&stopbits=2&flow=rtscts")
    assert (conn.kind, conn.path, conn.baudrate, conn.parity, conn.bytesize, conn.stopbits, conn.flow) == (
        "serial", "/dev/ttyUSB0", 19200, "E", 7, 2, "rtscts")
    assert parse("serial:/dev/rfcomm0").path == "/dev/rfcomm0"
    assert parse("serial:/dev/rfcomm0").baudrate == 9600


def test_network_host_port_and_defaults():
    conn = parse("network:192.168.1.50:9100")
    assert (conn.kind, conn.host, conn.port) == ("network", "192.168.1.50", 9100)
    assert parse("network:printer-kasir.local").port == 9100
    assert parse("network://10.0.0.7:9101").port == 9101
    v6 = parse("network:[fe80::1]:9100")
    assert v6.host == "fe80::1" and v6.spec == "network:[fe80::1]:9100"
    assert (conn.connect_timeout, conn.write_timeout, conn.status_timeout) == (3.0, 5.0, 1.0)


def test_file_and_folder():
    assert parse("file:/dev/usb/lp0") == Connection(kind="file", path="/dev/usb/lp0")
    assert parse("folder:/var/lib/kasir/out").kind == "folder"
    assert parse("folder:instance/printer-out").path == "instance/printer-out"
    legacy = parse("file:instance/printer-out/")  # DESIGN.md's spelling
    assert legacy.kind == "folder" and legacy.path == "instance/printer-out/"


@pytest.mark.parametrize(
    "spec",
    [
        "usb:04b8:0202",
        "usb:04b8:0202:02?write_timeout=2",
        "serial:/dev/ttyUSB0",
        "serial:/dev/ttyS1?baudrate=115200&parity=O&flow=dsrdtr",
        "network:192.168.1.50:9100",
        "network:10.1.1.1:9100?connect_timeout=1.5&status_timeout=0.5",
        "file:/dev/usb/lp0",
        "folder:/srv/out",
    ],
)
def test_spec_round_trips(spec):
    conn = parse(spec)
    assert parse(conn.spec) == conn
    assert str(conn) == conn.spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("lpt:1", "does not start with a printer kind"),
        ("192.168.1.50:9100", "does not start with a printer kind"),
        ("usb:04b8", "usb:VID:PID"),
        ("usb:zz:0202", "not a hex number"),
        ("usb:04b8:0202:99", "out endpoint"),
        ("usb:0000:0202", "vendor and a product id"),
        ("usb:04b8:0202?baudrate=9600", "unknown option 'baudrate' for a usb printer"),
        ("serial:ttyUSB0", "device path"),
        ("serial:/dev/ttyUSB0?baudrate=96000", "baudrate 96000"),
        ("serial:/dev/ttyUSB0?baudrate=fast", "whole number"),
        ("serial:/dev/ttyUSB0?parity=X", "parity"),
        ("serial:/dev/ttyUSB0?flow=magic", "flow must be"),
        ("serial:/dev/ttyUSB0?baudrate=9600&baudrate=19200", "given twice"),
        ("serial:/dev/ttyUSB0?baudrate", "name=value"),
        ("network:", "needs a host"),
        ("network:192.168.1.50:99999", "between 1 and 65535"),
        ("network:192.168.1.50:abc", "not a number"),
        ("network:fe80::1:9100", "brackets"),
        ("network:bad_host!:9100", "not a host name"),
        ("network:10.0.0.1?connect_timeout=0", "above 0"),
        ("network:10.0.0.1?write_timeout=-1", "above 0"),
        ("network:10.0.0.1?write_timeout=soon", "seconds"),
        ("file:lp0", "absolute path"),
        ("file:", "needs a path"),
        ("folder:", "needs a path"),
        ("folder:/x?anything=1", "allowed: none"),
        ("network:10.0.0.1\n", None),  # a trailing newline from a form is stripped, not an error
        ("network:10.0.0.1\x00", "control characters"),
        ("folder:/" + "x" * 600, "longer than"),
    ],
)
def test_bad_specs_are_refused_clearly(spec, message):
    if message is None:
        assert parse(spec).host == "10.0.0.1"
        return
    with pytest.raises(ValueError, match=message):
        parse(spec)


def test_not_text_is_refused():
    with pytest.raises(ValueError, match="text"):
        parse(None)  # type: ignore[arg-type]


def test_connection_is_frozen_and_validated_when_built_directly():
    conn = parse("network:10.0.0.1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        conn.port = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown printer kind"):
        Connection(kind="parallel")
    with pytest.raises(ValueError, match="network port"):
        Connection(kind="network", host="10.0.0.1", port=0)
    assert with_timeouts(conn, connect_timeout=0.5).connect_timeout == 0.5
    with pytest.raises(ValueError):
        with_timeouts(conn, write_timeout=0)


def test_open_printer_picks_the_port_kind_and_opens_nothing_yet(tmp_path):
    assert isinstance(open_printer(f"folder:{tmp_path / 'out'}"), FolderPrinter)
    assert not (tmp_path / "out").exists()
    assert isinstance(open_printer(parse("network:10.0.0.1:9100")), StreamPrinter)
    assert isinstance(open_printer("usb:04b8:0202"), StreamPrinter)


@pytest.mark.parametrize(
    ("printer", "paper", "expected"),
    [
        (0x12, 0x12, PrinterStatus.ONLINE),
        (0x16, 0x12, PrinterStatus.ONLINE),  # bit 2: drawer kick-out connector high, still online
        (0x12, 0x1E, PrinterStatus.ONLINE),  # paper near end: still prints
        (0x1A, 0x72, PrinterStatus.PAPER_OUT),
        (0x12, 0x72, PrinterStatus.PAPER_OUT),
        (0x1A, 0x12, PrinterStatus.OFFLINE),
        (0x1A, None, PrinterStatus.OFFLINE),
        (0x12, None, PrinterStatus.ONLINE),
        (0x1A, 0xFF, PrinterStatus.OFFLINE),  # paper answer is not a status byte: ignored
        (None, 0x72, PrinterStatus.UNKNOWN),
        (0x00, 0x12, PrinterStatus.UNKNOWN),  # fixed bits wrong: not an answer to DLE EOT
        (0x92, 0x12, PrinterStatus.UNKNOWN),
    ],
)
def test_dle_eot_answers(printer, paper, expected):
    assert interpret_status(printer, paper) is expected


def test_status_values_are_plain_strings_for_the_devices_page():
    assert [s.value for s in PrinterStatus] == ["online", "offline", "paper_out", "unknown"]
    assert PrinterStatus.PAPER_OUT == "paper_out"


def test_job_ids():
    assert check_job_id("sale-123-0") == "sale-123-0"
    assert check_job_id("shift_Z.7@till+2=x") == "shift_Z.7@till+2=x"
    assert check_job_id("sale-TK01:2026 0001-0") == "sale-TK01:2026 0001-0"  # any file-name-safe text
    for bad in ("", ".x", "..", "a/b", "a\\b", "tab\tin", "nul\x00", "x" * 201, 5):
        with pytest.raises(ValueError):
            check_job_id(bad)  # type: ignore[arg-type]
