"""Pole display: exact bytes of both command sets, 20 ASCII columns whatever a product name holds, rupiah lines."""

from __future__ import annotations

import io

import pytest

from drivers.display import (
    CD5220,
    EPSON,
    PoleDisplay,
    change_lines,
    item_lines,
    render,
    to_ascii,
    total_lines,
)


def test_epson_bytes():
    assert render(EPSON, "Beras Premium 5 kg", "Rp 72.500") == (
        b"\x1b@"  # ESC @ initialise
        b"\x1f\x01"  # US MD1 overwrite mode
        b"\x0c"  # CLR
        b"\x1f$\x01\x01" + b"Beras Premium 5 kg  "  # US $ 1 1, upper line
        b"\x1f$\x01\x02" + b"Rp 72.500           "  # US $ 1 2, lower line
    )


def test_cd5220_bytes():
    assert render("cd5220", *total_lines(125000)) == (
        b"\x1b@"
        b"\x0c"
        b"\x1bQA" + b"TOTAL               " + b"\r"
        b"\x1bQB" + b"          Rp 125.000" + b"\r"
    )
    assert render(CD5220) == b"\x1b@\x0c\x1bQA" + b" " * 20 + b"\r\x1bQB" + b" " * 20 + b"\r"


def test_unknown_command_set():
    with pytest.raises(ValueError, match="epson, cd5220"):
        render("noritake", "a", "b")


def test_text_is_ascii_and_cannot_inject_commands():
    assert to_ascii("Kopi Susu Gula Aren \u2013 \u201cspesial\u201d") == 'Kopi Susu Gula Aren - "spesial"'
    assert to_ascii("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e") == "Cafe creme brulee"
    assert to_ascii("Mie \U0001f35c \u5305\u5b50") == "Mie ? ??"
    data = render(EPSON, "Obat\x1b@\x0cbatuk", "x")
    assert data.count(b"\x1b") == 1 and data.count(b"\x0c") == 1  # only the renderer's own commands
    assert b"Obat @ batuk" in data
    assert all(byte < 0x80 for byte in data)


def test_long_lines_are_cut_to_20_columns():
    data = render(CD5220, "Minyak Goreng Kemasan Premium 2 Liter", "")
    assert b"\x1bQAMinyak Goreng Kemasa\r" in data


def test_item_total_change_lines():
    assert item_lines("Gula Pasir 1 kg", 17500) == ("Gula Pasir 1 kg", "           Rp 17.500")
    assert total_lines(1234567) == ("TOTAL", "        Rp 1.234.567")
    assert change_lines(150000, 27500) == ("BAYAR     Rp 150.000", "KEMBALI    Rp 27.500")
    assert change_lines(10000000, 0, "PAID", "CHANGE") == ("PAID   Rp 10.000.000", "CHANGE          Rp 0")
    # no room for the label: the amount stays whole
    assert change_lines(1_000_000_000, 5, "DIBAYAR TUNAI") == ("    Rp 1.000.000.000", "KEMBALI         Rp 5")
    assert all(len(line) <= 20 for line in item_lines("x" * 40, 10**15))
    assert item_lines("x", 10**20)[1] == "*" * 20  # never a cut-off number


def test_money_is_whole_rupiah():
    with pytest.raises(TypeError):
        total_lines(12.5)  # type: ignore[arg-type]


def test_pole_display_on_a_writer():
    out = io.BytesIO()
    display = PoleDisplay(out, "epson")
    display.show_item("Telur 1 kg", 28000)
    display.show_change(50000, 22000)
    assert out.getvalue() == (render(EPSON, "Telur 1 kg", "           Rp 28.000")
                              + render(EPSON, "BAYAR      Rp 50.000", "KEMBALI    Rp 22.000"))


def test_pole_display_needs_a_port_or_a_writer():
    with pytest.raises(TypeError):
        PoleDisplay(42)
