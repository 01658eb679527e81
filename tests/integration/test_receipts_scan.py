"""Every barcode and QR code the receipts package prints must scan back: decoded with zbarimg (Debian zbar-tools).

Covers the images inside ESC/POS jobs (the 58 mm printer has no native codes: the raster is cut out of the job and
decoded), the HTML receipt, label PNGs and the A4 label sheet. Skipped when zbarimg is missing, unless
KASIR_REQUIRE_BROWSER=1 (then missing tools fail the run).
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image, ImageOps

from receipts import samples
from receipts.barcodes import barcode_png
from receipts.escpos import render_escpos
from receipts.html import render_html
from receipts.labels import a4_sheet_html, label_png, product_label, shelf_label, thermal_label_blocks
from receipts.layout import layout
from receipts.model import sale_receipt, test_page


def rasters(job: bytes) -> list[bytes]:
    """The GS v 0 raster images of an ESC/POS job as PNGs, on white paper margins as the printer would print them."""
    images, at = [], 0
    while (at := job.find(b"\x1dv0", at)) >= 0:
        width_bytes = job[at + 4] | job[at + 5] << 8
        height = job[at + 6] | job[at + 7] << 8
        data = job[at + 8 : at + 8 + width_bytes * height]
        assert len(data) == width_bytes * height, "a truncated raster image"
        bits = Image.frombytes("1", (width_bytes * 8, height), data)  # ESC/POS: 1 is a black dot
        dots = ImageOps.invert(bits.convert("L"))
        paper = Image.new("L", (dots.width + 80, dots.height + 80), 255)
        paper.paste(dots, (40, 40))
        buffer = io.BytesIO()
        paper.save(buffer, format="PNG")
        images.append(buffer.getvalue())
        at += 8 + width_bytes * height
    return images


def data_uris(fragment: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', fragment)]


def test_the_receipt_number_printed_as_an_image_on_58mm_scans(decode):
    job = render_escpos(layout(samples.sample_sale(), "POS-5890"), "POS-5890")
    (barcode,) = rasters(job)
    assert decode(barcode) == "TK1-2611-000123"


def test_a_pending_qris_code_printed_as_an_image_scans_to_the_payload(decode):
    job = render_escpos(layout(samples.sample_sale(qris_pending=True), "POS-5890"), "POS-5890")
    qr, barcode = rasters(job)
    assert decode(qr) == samples.SAMPLE_QRIS
    assert decode(barcode) == "TK1-2611-000123"


@pytest.mark.parametrize(
    "number", ["TK1-2611-000123", "SP-2611-000031", "TK12-R-0000001", "A{B}C~ 42", "9" * 24, "9912-0001"]
)
def test_receipt_numbers_of_every_shape_scan_on_58mm(decode, number):
    data = samples.sample_sale_data()
    data["number"] = number
    (barcode,) = rasters(render_escpos(layout(sale_receipt(data), "POS-5890"), "POS-5890"))
    assert decode(barcode) == number


def test_the_test_page_codes_scan(decode):
    page = test_page("Kasir 1", "POS-5890", printed_at=samples.SAMPLE_TIME)
    barcode, qr = rasters(render_escpos(layout(page, "POS-5890"), "POS-5890"))
    assert decode(barcode) == "UJI-0001"
    assert decode(qr) == "Kasir Koperasi: uji QR"


def test_the_html_receipt_codes_scan(decode):
    qr, barcode = data_uris(render_html(samples.sample_sale(qris_pending=True), "TM-T20II"))
    assert decode(qr) == samples.SAMPLE_QRIS
    assert decode(barcode) == "TK1-2611-000123"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (shelf_label("Beras Premium Banjar Siam Unus Karung Besar", "kg", 14_500, "8991234567891"), "8991234567891"),
        (shelf_label("Minyak Goreng", "pouch", 38_900, "012345678905"), "0012345678905"),
        (product_label("Gula Pasir Curah 1 kg", "20000127", price=17_500, detail="Dikemas 28 Nov 2026"), "20000127"),
        (product_label("Tempe Papan", "2000001000014", price=6_000), "2000001000014"),
        (product_label("Kue Bingka Kentang", "KUE-BINGKA-01", price=25_000), "KUE-BINGKA-01"),
        (product_label("Kerupuk", "TK-00000000000000000042"), "TK-00000000000000000042"),
    ],
)
def test_label_pngs_scan(decode, label, expected):
    assert decode(label_png(label)) == expected
    assert decode(label_png(label, width_mm=70, height_mm=37)) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("8991234567891", "8991234567891"), ("20000127", "20000127"), ("AGT-00042", "AGT-00042")],
)
def test_barcode_pngs_scan_with_and_without_text(decode, code, expected):
    assert decode(barcode_png(code)) == expected
    assert decode(barcode_png(code, text=False, module_px=2, height_px=60)) == expected


@pytest.mark.parametrize("data", ["9912", "99-AGT-1", "99"])
def test_a_leading_99_scans_on_member_cards_and_labels_too(decode, data):
    """python-barcode 0.16 drops a leading "99"; receipts.barcodes encodes it itself."""
    from receipts.barcodes import code128_png

    assert decode(code128_png(data)) == data
    assert decode(barcode_png(data)) == data
    assert decode(label_png(product_label("Kue", data))) == data


def test_every_barcode_on_the_a4_sheet_scans(decode):
    labels = [
        shelf_label("Beras", "kg", 14_500, "8991234567891"),
        product_label("Gula", "20000127", price=17_500),
        product_label("Kue", "KUE-BINGKA-01"),
    ]
    images = data_uris(a4_sheet_html(labels))
    assert [decode(png) for png in images] == ["8991234567891", "20000127", "KUE-BINGKA-01"]


def test_thermal_labels_on_58mm_scan(decode):
    labels = [shelf_label("Beras", "kg", 14_500, "8991234567891"), product_label("Kue", "KUE-BINGKA-01")]
    job = render_escpos(thermal_label_blocks(labels, "POS-5890"), "POS-5890")
    assert [decode(png) for png in rasters(job)] == ["8991234567891", "KUE-BINGKA-01"]
