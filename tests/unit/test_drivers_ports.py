"""The devices page's port list: real ports from pyserial plus stable links, never an error for a vanished port;
and the only forms a configured port may take."""

from __future__ import annotations

import os

import pytest

from drivers.errors import InvalidSetting
from drivers.ports import SerialPortInfo, check_serial_port, list_serial_ports


def test_lists_ports_and_extra_links(tmp_path):
    master, slave = os.openpty()
    try:
        link = tmp_path / "usb-Datalogic_Scanner-if00"
        os.symlink(os.ttyname(slave), link)
        ports = list_serial_ports(extra_patterns=[str(tmp_path / "usb-*")])
        assert all(isinstance(port, SerialPortInfo) for port in ports)
        assert [p.device for p in ports] == sorted(p.device for p in ports)
        mine = [p for p in ports if p.device == str(link)]
        assert len(mine) == 1 and mine[0].is_link and mine[0].target == os.path.realpath(os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)


def test_dangling_link_is_listed_without_error(tmp_path):
    (tmp_path / "rfcomm0").symlink_to(tmp_path / "gone")
    ports = list_serial_ports(extra_patterns=[str(tmp_path / "rfcomm*")])
    assert str(tmp_path / "rfcomm0") in [p.device for p in ports]


# -- the form of a configured port ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "stored"), [
    ("/dev/ttyUSB0", "/dev/ttyUSB0"),
    ("/dev/ttyACM1", "/dev/ttyACM1"),
    ("/dev/ttyS0", "/dev/ttyS0"),
    ("/dev/ttyAMA0", "/dev/ttyAMA0"),
    ("/dev/rfcomm0", "/dev/rfcomm0"),
    ("/dev/serial/by-id/usb-Datalogic_ADC_Inc._Handheld_Barcode_Scanner_S_N_G19K12345-if00", None),
    ("/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0", None),
    ("/dev/pts/7", "/dev/pts/7"),
    ("/dev/tty.usbserial-1410", None),
    ("/dev/cu.usbmodem14201", None),
    ("COM3", "COM3"),
    ("com10", "COM10"),
    ("  /dev/ttyUSB0 \n", "/dev/ttyUSB0"),  # what a form sends around it is dropped
    ("", ""),
])
def test_serial_ports_are_accepted(value, stored):
    assert check_serial_port(value) == (stored if stored is not None else value)


def test_the_pty_of_the_tests_is_a_serial_port():
    master, slave = os.openpty()
    try:
        assert check_serial_port(os.ttyname(slave)) == os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("value", [
    "/etc/passwd", "instance/secret_key", "/srv/kasir/instance/secret_key", "socket://127.0.0.1:9100",
    "rfc2217://10.0.0.2:2217", "loop://", "spy:///dev/ttyUSB0", "hwgrep://.*", "/dev/ttyUSB0/../../etc/passwd",
    "/dev/../etc/passwd", "/dev/serial/by-id/..", "/dev/serial/by-id/.", "/dev/serial/by-id/../../../etc/passwd",
    "/dev/serial/by-id/", "/dev/pts/../sda", "/dev/pts/ptmx", "/dev//ttyUSB0", "/dev/tty", "/dev/tty0", "/dev/tty12",
    "/dev/sda", "/dev/mem", "/dev/null", "/dev/usb/lp0", "/tmp/ttyUSB0", "ttyUSB0", "COM0", "COM1000", "LPT1",
    "\\\\.\\COM3", "/dev/ttyUSB0\x00", "/dev/tty\x1bUSB0", "/dev/ttyUSB" + "0" * 300, 5,
])
def test_anything_else_is_refused(value):
    with pytest.raises(InvalidSetting) as refused:
        check_serial_port(value)  # type: ignore[arg-type]
    assert refused.value.message  # an English msgid for the web layer to translate
    assert isinstance(refused.value, ValueError)
