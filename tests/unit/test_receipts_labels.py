"""Shelf and product labels: check digits computed here (never python-barcode's "correction"), PNGs, the A4 sheet
without inline styles, and labels on a receipt printer."""

from __future__ import annotations

import io
import re

import barcode
import pytest
from PIL import Image

from receipts.barcodes import (
    barcode_modules,
    code128_bars,
    code128_values,
    gs1_check_digit,
    print_symbology,
    read_code128_values,
    validate_ean,
)
from receipts.escpos import render_escpos, render_text
from receipts.labels import (
    LABEL_SHEET_CSS,
    Label,
    a4_sheet_html,
    label_png,
    product_label,
    shelf_label,
    thermal_label_blocks,
)
from receipts.layout import Barcode, Cut, Feed, Text


@pytest.mark.parametrize(
    ("digits", "check"),
    [("899123456789", 1), ("2000012", 7), ("01234567890", 5), ("400638133393", 1), ("9638507", 4), ("0000000", 0)],
)
def test_gs1_check_digit(digits, check):
    assert gs1_check_digit(digits) == check


def test_python_barcode_would_silently_fix_a_wrong_check_digit_we_refuse_it():
    wrong = "8991234567890"  # the right one ends in 1
    assert barcode.get("ean13", wrong).get_fullcode() == "8991234567891"  # a different product's code
    with pytest.raises(ValueError, match="should end in 1"):
        validate_ean(wrong)
    with pytest.raises(ValueError, match="check digit"):
        shelf_label("Gula", "kg", 17_500, wrong)
    with pytest.raises(ValueError, match="check digit"):
        barcode_modules(wrong, "ean13")
    with pytest.raises(ValueError):
        gs1_check_digit("12a4")


def test_symbology_follows_the_code():
    assert print_symbology("8991234567891") == ("ean13", "8991234567891")
    assert print_symbology("20000127") == ("ean8", "20000127")
    assert print_symbology("012345678905") == ("ean13", "0012345678905")  # UPC-A prints as its EAN-13 twin
    assert print_symbology("KUE-BINGKA-01") == ("code128", "KUE-BINGKA-01")
    assert print_symbology("12345") == ("code128", "12345")
    assert print_symbology("10012345678902") == ("code128", "10012345678902")  # GTIN-14: no EAN
    for bad in ("", " 123", "KUE-é", "x" * 41, "012345678901"):
        with pytest.raises(ValueError):
            print_symbology(bad)


def test_ean_modules_come_from_python_barcode_with_our_check_digit():
    modules = barcode_modules("8991234567891", "ean13")
    assert len(modules) == 95 and modules.startswith("101") and modules.endswith("101")
    assert len(barcode_modules("20000127", "ean8")) == 67
    with pytest.raises(ValueError):
        barcode_modules("20000127", "ean13")
    with pytest.raises(ValueError):
        barcode_modules("ABC", "upc")


@pytest.mark.parametrize("data", ["TK1-2611-000123", "AGT-00042", "12345678", "1A", "A{B}C~ 42", "KUE-BINGKA-01"])
def test_code128_bars_are_python_barcodes_where_it_is_right(data):
    assert barcode_modules(data) == barcode.get("code128", data).build()[0]
    assert read_code128_values(code128_values(data)) == data


@pytest.mark.parametrize("data", ["99", "9912", "99A", "99-0001", "9" * 24])
def test_a_leading_99_is_not_dropped(data):
    """python-barcode 0.16 takes a leading digit pair 99 for a switch to code set C and drops it."""
    values = code128_values(data)
    assert read_code128_values(values) == data
    assert values[0] == 105 and values[1] == 99  # start C, then the digits 99
    assert code128_bars(values) == barcode_modules(data)
    assert len(barcode_modules(data)) == 11 * (len(values) + 1) + 13


def test_labels_validate_their_fields():
    label = shelf_label("Beras\nPremium", "kg", 14_500, "8991234567891")
    assert label.name == "Beras Premium" and label.symbology == "ean13" and label.data == "8991234567891"
    assert product_label("Kue Bingka", "KUE-BINGKA-01").price is None
    with pytest.raises(ValueError, match="needs a price"):
        Label("shelf", "Gula", "20000127")
    with pytest.raises(ValueError, match="whole rupiah"):
        shelf_label("Gula", "kg", 17_500.0, "20000127")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        shelf_label("Gula", "kg", -1, "20000127")
    with pytest.raises(ValueError, match="label kind"):
        Label("pallet", "Gula", "20000127", price=1)


def test_label_png_is_a_label_sized_png():
    png = label_png(
        shelf_label("Beras Premium Banjar Siam Unus Karung Besar Wangi Pulen", "kg", 14_500, "8991234567891")
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (400, 240) and image.mode == "L"
    wide = Image.open(io.BytesIO(label_png(product_label("Kue", "KUE-1"), width_mm=70, height_mm=37)))
    assert wide.size == (559, 296)  # 70 x 37 mm at 203 dpi
    with pytest.raises(ValueError, match="does not fit"):
        label_png(product_label("Kue", "K" * 40), width_mm=25, height_mm=30)


def sheet_labels(count: int) -> list[Label]:
    return [
        shelf_label(f"Produk {n} <b>promo</b>", "pcs", 1_000 * (n + 1), "8991234567891" if n % 2 else "20000127")
        for n in range(count)
    ]


def test_a4_sheet_pages_of_24_without_inline_styles():
    fragment = a4_sheet_html(sheet_labels(25))
    assert fragment.count('<section class="label-page label-page--3x8">') == 2
    assert fragment.count("<article ") == 25
    assert 'data-labels="25" data-pages="2"' in fragment
    assert not re.search(r"\sstyle\s*=", fragment, re.IGNORECASE) and "<style" not in fragment
    assert "<script" not in fragment and "<b>" not in fragment and "&lt;b&gt;promo&lt;/b&gt;" in fragment
    assert 'data-price="2000">Rp 2.000 <span class="label-unit">/ pcs</span>' in fragment
    assert len(re.findall(r'<img class="label-barcode" src="data:image/png;base64,', fragment)) == 25
    for class_name in set(re.findall(r'class="([^"]+)"', fragment)):
        for single in class_name.split():
            assert f".{single}" in LABEL_SHEET_CSS, single
    assert "@page { size: A4" in LABEL_SHEET_CSS


def test_a4_sheet_other_layout_skip_and_errors():
    fragment = a4_sheet_html(sheet_labels(3), columns=4, rows=10, skip=5)
    assert fragment.count('class="label label--empty"') == 5 and "label-page--4x10" in fragment
    with pytest.raises(ValueError):
        a4_sheet_html(sheet_labels(1), columns=5, rows=13)
    with pytest.raises(ValueError):
        a4_sheet_html([])
    with pytest.raises(ValueError):
        a4_sheet_html(sheet_labels(1), skip=24)


@pytest.mark.parametrize("profile", ["TM-T20II", "TM-T82-42", "POS-5890"])
def test_thermal_labels_fit_and_carry_the_barcode(profile):
    labels = [
        shelf_label("Minyak Goreng Sania Pouch Isi Ulang Dua Liter Hemat", "pouch", 38_900, "8991234567891"),
        product_label("Kue Bingka", "KUE-BINGKA-01", price=25_000, detail="Dibuat 28 Nov 2026"),
    ]
    blocks = thermal_label_blocks(labels, profile)
    assert Barcode("8991234567891", "ean13") in blocks and Barcode("KUE-BINGKA-01") in blocks
    assert Text("Rp 38.900", "center", double=True) in blocks
    assert sum(isinstance(b, (Cut, Feed)) for b in blocks) == 2
    text = render_text(blocks, profile)
    assert "||| 8991234567891 |||" in text
    job = render_escpos(blocks, profile)
    assert job.startswith(b"\x1b@\x1bt\x00")
    if profile == "POS-5890":
        assert job.count(b"\x1dv0") == 2
    else:
        assert b"\x1dkC\x0c899123456789" in job and b"\x1dkI" in job
