"""The network printer settings: allowed networks and ports, validated when the settings load."""

import pytest

from config import SettingsError, load_settings


def test_printer_networks_and_ports_from_the_environment(tmp_path):
    settings = load_settings(tmp_path, environ={"KASIR_PRINTER_NETWORKS": "192.168.7.0/24, 10.1.2.3/8",
                                                "KASIR_PRINTER_PORTS": "9100,9200"})
    assert settings["printer_networks"] == ["192.168.7.0/24", "10.0.0.0/8"]
    assert settings["printer_ports"] == [9100, 9200]


def test_printer_ports_from_toml_may_be_numbers(tmp_path):
    (tmp_path / "kasir.toml").write_text("printer_ports = [9100, 515]\n", encoding="utf-8")
    assert load_settings(tmp_path, environ={})["printer_ports"] == [9100, 515]


@pytest.mark.parametrize(("name", "value"), [
    ("KASIR_PRINTER_NETWORKS", "192.168.1.0/33"),
    ("KASIR_PRINTER_NETWORKS", "kantor"),
    ("KASIR_PRINTER_PORTS", "0"),
    ("KASIR_PRINTER_PORTS", "70000"),
    ("KASIR_PRINTER_PORTS", "ipp"),
    ("KASIR_PRINTER_PORTS", "9100,-1"),
])
def test_bad_printer_settings_are_refused_at_start(tmp_path, name, value):
    with pytest.raises(SettingsError):
        load_settings(tmp_path, environ={name: value})
