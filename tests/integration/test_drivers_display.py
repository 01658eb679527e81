"""A pole display on a serial port (a pty): the bytes arrive, an unplugged display raises DisplayError instead of
hanging the till, and the display works again once it is plugged back in."""

from __future__ import annotations

import os

import pytest

from drivers.display import CD5220, PoleDisplay, render, total_lines
from drivers.errors import DeviceError, DisplayError


def test_pole_display_on_a_serial_port_and_after_unplug(tmp_path):
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.close(slave)
    link = tmp_path / "vfd"
    os.symlink(name, link)
    display = PoleDisplay(str(link), CD5220)
    try:
        display.show_total(5000)
        expected = render(CD5220, *total_lines(5000))
        got = b""
        while len(got) < len(expected):
            got += os.read(master, 1024)
        assert got == expected
    finally:
        link.unlink()  # unplugged: the device and its link are gone
        os.close(master)
    with pytest.raises(DisplayError) as raised:
        display.show_total(6000)
    assert isinstance(raised.value, DeviceError)
    master, slave = os.openpty()  # replugged
    os.symlink(os.ttyname(slave), link)
    os.close(slave)
    try:
        display.clear()
        expected = render(CD5220)
        got = b""
        while len(got) < len(expected):
            got += os.read(master, 1024)
        assert got == expected
    finally:
        display.close()
        os.close(master)
