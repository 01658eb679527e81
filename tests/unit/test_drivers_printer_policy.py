"""Where a network printer may be: the shop's network (configurable networks) at a printer port (configurable)."""

from __future__ import annotations

import pytest

from drivers.connectors import (
    DEFAULT_PRINTER_NETWORKS,
    DEFAULT_PRINTER_PORTS,
    check_network_printer,
    is_local_name,
    parse,
    parse_networks,
)
from drivers.errors import InvalidSetting


def test_defaults_match_the_config_defaults():
    from config.defaults import SETTINGS

    assert list(DEFAULT_PRINTER_NETWORKS) == SETTINGS["printer_networks"][0]
    assert list(DEFAULT_PRINTER_PORTS) == SETTINGS["printer_ports"][0]


@pytest.mark.parametrize("spec", [
    "network:192.168.1.50", "network:10.20.30.40:9101", "network:172.31.255.254:9102", "network:127.0.0.1:9100",
    "network:169.254.1.1", "network:[::1]:9100", "network:[fd12:3456::7]:9100", "network:[fe80::1]:9100",
    "network:[::ffff:192.168.1.9]:9100", "network:printer", "network:kasir-1-printer", "network:epson.local",
    "network:printer.lan", "network:printer.home.arpa", "network:PRINTER.LOCAL", "network:localhost",
])
def test_printers_on_the_shop_network(spec):
    conn = parse(spec)
    assert check_network_printer(conn) is conn


@pytest.mark.parametrize("spec", [
    "network:8.8.8.8", "network:1.1.1.1:9100", "network:100.64.0.1", "network:172.32.0.1", "network:192.169.0.1",
    "network:0.0.0.0", "network:255.255.255.255", "network:224.0.0.1", "network:[2001:db8::1]:9100",
    "network:[::ffff:8.8.8.8]:9100", "network:[::]:9100", "network:example.com", "network:printer.example.com",
    "network:2130706433", "network:0x7f000001", "network:0177.0.0.1", "network:127.1", "network:10.1",
    "network:192.168.1.5:22", "network:192.168.1.5:80", "network:192.168.1.5:515", "network:192.168.1.5:631",
    "network:127.0.0.1:5432", "network:127.0.0.1:6379",
])
def test_anywhere_else_is_refused(spec):
    with pytest.raises(InvalidSetting):
        check_network_printer(parse(spec))


def test_networks_and_ports_are_the_callers():
    conn = parse("network:203.0.113.7:9200")
    assert check_network_printer(conn, ["203.0.113.0/24"], [9200]) is conn
    with pytest.raises(InvalidSetting, match="not on the shop's network"):
        check_network_printer(parse("network:192.168.1.5:9200"), ["203.0.113.0/24"], [9200])
    with pytest.raises(InvalidSetting, match="allowed: 9200"):
        check_network_printer(parse("network:203.0.113.7:9100"), ["203.0.113.0/24"], [9200])
    with pytest.raises(InvalidSetting):
        check_network_printer(conn, ["203.0.113.0/24"], [])  # no ports: no network printers


def test_other_kinds_pass_unchanged():
    for spec in ("usb:04b8:0202", "serial:/dev/ttyUSB0", "file:/dev/usb/lp0", "folder:/srv/out"):
        conn = parse(spec)
        assert check_network_printer(conn, [], []) is conn


def test_numbers_are_never_names():
    for host in ("2130706433", "0x7f000001", "0177.1", "1.2.3", "08"):
        assert not is_local_name(host), host
    assert is_local_name("printer-1") and is_local_name("tm-t20.local")
    assert not is_local_name("printer.example.org") and not is_local_name("bad_host")


def test_bad_networks_are_refused():
    assert [str(n) for n in parse_networks(["192.168.1.7/24"])] == ["192.168.1.0/24"]
    with pytest.raises(InvalidSetting):
        parse_networks(["192.168.0.0/33"])


def test_refusals_carry_msgids_for_translation():
    with pytest.raises(InvalidSetting) as refused:
        parse("teleport:somewhere")
    assert "%(value)s" in refused.value.message and refused.value.params["value"] == "teleport:somewhere"
