"""ESC/POS rendering: native codes where the profile has them, images where not, styles reset between sections,
ASCII text only, deterministic bytes, the cash drawer pulse."""

from __future__ import annotations

import pytest
from escpos.constants import CD_KICK_2, CD_KICK_5
from escpos.printer import Dummy

from receipts import samples
from receipts.escpos import (
    decode_escpos_code128,
    escpos_code128,
    kick_drawer_bytes,
    printable,
    render_escpos,
)
from receipts.layout import QR, Barcode, Cut, Feed, Rule, Text, layout
from receipts.model import sale_receipt

ESC, GS = b"\x1b", b"\x1d"
INIT_CP437 = ESC + b"@" + ESC + b"t\x00"
NATIVE_CODE128 = GS + b"kI"  # GS k 73: function B, Code128
NATIVE_QR = GS + b"(k"
RASTER = GS + b"v0"
CUT = GS + b"V"


def full_reset() -> bytes:
    printer = Dummy(profile="TM-T20II")
    printer.set_with_default()
    return printer.output


def job(receipt, profile: str) -> bytes:
    return render_escpos(layout(receipt, profile), profile)


def test_a_job_starts_by_initialising_the_printer_in_cp437():
    for profile in ("TM-T20II", "TM-T82-42", "POS-5890"):
        out = job(samples.sample_sale(), profile)
        assert out.startswith(INIT_CP437 + full_reset())


def test_an_80mm_printer_gets_native_code128_and_a_cut():
    out = job(samples.sample_sale(), "TM-T20II")
    assert out.count(NATIVE_CODE128) == 1 and RASTER not in out and NATIVE_QR not in out
    start = out.index(NATIVE_CODE128) + len(NATIVE_CODE128)
    length = out[start]
    data = out[start + 1 : start + 1 + length].decode("ascii")
    assert decode_escpos_code128(data) == "TK1-2611-000123"
    assert out.rstrip(b"\x00\x01").endswith(CUT) or out.endswith(CUT + b"\x01")
    assert GS + b"w\x03" in out  # bars 3 dots wide: the number fits with its quiet zones


def test_a_58mm_printer_gets_the_barcode_as_an_image_and_no_cut():
    out = job(samples.sample_sale(), "POS-5890")
    assert NATIVE_CODE128 not in out and CUT not in out
    assert out.count(RASTER) == 1
    at = out.index(RASTER)
    width_bytes = out[at + 4] | out[at + 5] << 8
    height = out[at + 6] | out[at + 7] << 8
    assert width_bytes * 8 <= 384 and height == 80
    assert b"TK1-2611-000123\n" in out[at:]  # the number printed under the bars


def test_pending_qris_is_a_native_qr_or_an_image():
    native = job(samples.sample_sale(qris_pending=True), "TM-T20II")
    assert native.count(NATIVE_QR + b"\x04\x001A2\x00") == 1  # select model 2
    assert samples.SAMPLE_QRIS.encode() in native and RASTER not in native
    image = job(samples.sample_sale(qris_pending=True), "POS-5890")
    assert NATIVE_QR not in image and image.count(RASTER) == 2  # the QR and the receipt-number barcode
    assert samples.SAMPLE_QRIS.encode() not in image


def test_styles_are_reset_before_every_section():
    out = job(samples.sample_sale(copy=True), "TM-T20II")
    reset = full_reset()
    rule = b"-" * 48 + b"\n"
    position = 0
    rules = 0
    while (found := out.find(rule, position)) >= 0:
        before = out[:found]
        last_reset = before.rfind(reset)
        assert last_reset >= 0
        between = before[last_reset + len(reset) :]
        assert ESC not in between and GS not in between, f"a style command between the reset and the rule: {between!r}"
        position = found + len(rule)
        rules += 1
    assert rules >= 4
    assert ESC + b"E\x01" in out  # bold was used (TOTAL) ...
    assert ESC + b"!\x30" + ESC + b"E\x01" + ESC + b"a\x01SALINAN\n" in out  # ... and double size, centred


def test_bold_and_double_are_switched_off_again():
    blocks = [Text("A", bold=True, double=True), Text("B"), Text("C", "center", bold=True), Feed(1), Text("D")]
    out = render_escpos(blocks, "POS-5890")
    after_a = out[out.index(b"A\n") + 2 : out.index(b"B\n")]
    assert ESC + b"E\x00" in after_a and ESC + b"!\x00" in after_a  # bold off, normal size
    after_c = out[out.index(b"C\n") + 2 : out.index(b"D\n")]
    assert ESC + b"E\x00" in after_c and ESC + b"a\x00" in after_c  # bold off, left again


def test_text_is_sent_as_ascii_one_character_each():
    assert printable("Café – “Kopi” ½ × 2…") == 'Cafe - "Kopi" ? x 2.'
    data = samples.sample_sale_data()
    data["lines"][4]["name"] = "Minyak Goreng Café\x1b@ 2 L"
    out = job(sale_receipt(data), "TM-T20II")
    assert b"Minyak Goreng Cafe @ 2 L\n" in out
    assert max(out[out.index(b"Minyak") : out.index(b"Minyak") + 30]) < 0x80


def test_rendering_is_deterministic_and_profiles_differ():
    first = {p: job(samples.sample_sale(qris_pending=True), p) for p in ("TM-T20II", "TM-T82-42", "POS-5890")}
    again = {p: job(samples.sample_sale(qris_pending=True), p) for p in ("TM-T20II", "TM-T82-42", "POS-5890")}
    assert first == again
    assert len(set(first.values())) == 3


def test_native_ean_on_a_label_sends_the_digits_without_the_check_digit():
    out = render_escpos([Barcode("8991234567891", "ean13"), Cut()], "TM-T20II")
    assert GS + b"kC\x0c899123456789" in out  # GS k 67 (function B EAN-13), 12 digits: the printer adds the 1
    out = render_escpos([Barcode("20000127", "ean8")], "TM-T20II")
    assert GS + b"kD\x072000012" in out


@pytest.mark.parametrize(
    "data",
    [
        "TK1-2611-000123",
        "12345678",
        "1234567",
        "A{B}C",
        "SP-2611-000031",
        "x",
        "0000",
        "AGT-00042",
        "Rp 12.500 ~!",
        "9912",
        "99",
        "99A",
        "9" * 24,
    ],
)
def test_escpos_code128_reads_back_exactly(data):
    code = escpos_code128(data)
    assert code.startswith("{") and decode_escpos_code128(code) == data


def test_escpos_code128_uses_set_c_for_digit_runs():
    assert escpos_code128("12345678") == "{C" + "".join(chr(v) for v in (12, 34, 56, 78))
    assert escpos_code128("TK1-2611-000123") == "{BTK1-{C\x1a\x0b{B-{C\x00\x01\x17"
    assert escpos_code128("A{B") == "{BA{{B"


def test_drawer_kick():
    assert kick_drawer_bytes() == kick_drawer_bytes(2) == CD_KICK_2
    assert kick_drawer_bytes(5) == CD_KICK_5 != CD_KICK_2
    for pin in (0, 3, "2", True):
        with pytest.raises(ValueError):
            kick_drawer_bytes(pin)  # type: ignore[arg-type]


def test_unknown_blocks_and_oversized_codes_are_refused():
    with pytest.raises(ValueError, match="not a receipt block"):
        render_escpos(["hello"], "TM-T20II")  # type: ignore[list-item]
    with pytest.raises(ValueError, match="too long"):
        render_escpos([Barcode("X" * 40)], "POS-5890")
    with pytest.raises(ValueError):
        render_escpos([QR("")], "POS-5890")
    assert render_escpos([Rule(), Feed(2)], "POS-5890").endswith(b"-" * 32 + b"\n\n\n")
