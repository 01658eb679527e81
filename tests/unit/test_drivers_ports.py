"""The devices page's port list: real ports from pyserial plus stable links, never an error for a vanished port."""

from __future__ import annotations

import os

from drivers.ports import SerialPortInfo, list_serial_ports


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
