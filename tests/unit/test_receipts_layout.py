"""Receipt layout and the text and HTML renderings: what is printed where, at 32, 42 and 48 columns."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
from PIL import Image

from receipts import samples
from receipts.escpos import preview_lines, render_text
from receipts.html import RECEIPT_CSS, render_html
from receipts.layout import QR, Barcode, Cut, Feed, Rule, Text, format_quantity, layout
from receipts.model import sale_receipt, test_page
from receipts.profiles import PROFILES

ALL_PROFILES = sorted(PROFILES)


def every_receipt():
    yield samples.sample_sale()
    yield samples.sample_sale(copy=True, qris_pending=True)
    yield samples.sample_sale(pkp=False)
    yield samples.sample_return()
    yield samples.sample_shift(final=False)
    yield samples.sample_shift(final=True)
    for kind in ("deposit", "withdrawal", "kasbon_repayment"):
        yield samples.sample_slip(kind)
    yield test_page("Printer kasir dengan nama yang sangat panjang sekali", "POS-5890", printed_at=samples.SAMPLE_TIME)


def lines_of(receipt, profile) -> list[str]:
    return preview_lines(layout(receipt, profile), profile)


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_no_line_is_wider_than_the_paper(profile):
    columns = PROFILES[profile].columns
    for receipt in every_receipt():
        for block in layout(receipt, profile):
            if isinstance(block, Text):
                assert len(block.text) <= (columns // 2 if block.double else columns), (receipt.kind, block)
        for line in render_text(layout(receipt, profile), profile).splitlines():
            assert len(line) <= columns, (receipt.kind, line)


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_sale_lines_show_quantity_times_price_with_the_amount_right_aligned(profile):
    columns = PROFILES[profile].columns
    lines = lines_of(samples.sample_sale(), profile)
    beras = next(line for line in lines if "1,250 kg x 14.500" in line)
    assert beras.startswith("  1,250 kg x 14.500") and beras.endswith("18.125") and len(beras) == columns
    discount = next(line for line in lines if line.strip().startswith("Diskon") and line.endswith("-1.000"))
    assert len(discount) == columns
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert total.endswith("Rp 113.500") and len(total) == columns
    for expected in ("QRIS", "Tunai", "Kembali"):
        assert any(line.startswith(expected) and len(line) == columns for line in lines), expected
    assert any(line.startswith("Pembulatan") and line.endswith("-25") for line in lines)
    assert any(line.startswith("Subtotal") and line.endswith("115.525") for line in lines)


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_long_names_wrap_on_word_boundaries_and_nothing_is_lost(profile):
    name = samples.sample_sale().lines[1].name
    lines = lines_of(samples.sample_sale(), profile)
    start = next(i for i, line in enumerate(lines) if line.startswith("Mie Goreng"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("  3 pcs x 3.500"))
    assert end - start >= 2 if PROFILES[profile].columns < 48 else end - start >= 1
    assert " ".join(lines[start:end]) == name


def test_medicine_lines_carry_batch_and_expiry():
    lines = lines_of(samples.sample_sale(), "POS-5890")
    index = lines.index("Paracetamol 500 mg Tablet")
    assert lines[index + 1] == "  Batch PCT2411A  ED 30/11/2027"
    assert lines[index + 2].startswith("  2 strip x 5.000")


def test_exempt_lines_are_marked_and_explained_when_pkp():
    lines = lines_of(samples.sample_sale(), "TM-T20II")
    assert "Beras Premium Banjar Siam Unus *" in lines and "Telur Ayam Ras *" in lines
    assert "Minyak Goreng Sania 2 L" in lines  # standard-rated: no mark
    assert "* bebas PPN" in lines
    assert "Harga sudah termasuk PPN" in lines
    assert any(line.startswith("DPP") and line.endswith("61.189") for line in lines)
    assert any(line.startswith("PPN") and line.endswith("7.343") for line in lines)
    assert any("NPWP 01.234.567.8-731.000" in line for line in lines)


def test_a_non_pkp_receipt_has_no_npwp_no_ppn_and_no_marks():
    text = render_text(layout(samples.sample_sale(pkp=False), "TM-T20II"), "TM-T20II")
    for absent in ("NPWP", "PPN", "DPP", " *\n", "bebas"):
        assert absent not in text


def test_tax_exclusive_prices_add_ppn_before_the_total():
    data = samples.sample_sale_data()
    data.update(
        lines=[{"name": "Sabun", "quantity": Decimal(1), "unit": "pcs", "unit_price": 10_000}],
        totals={"dpp": 10_000, "ppn": 1_100, "tax_inclusive": False},
        payments=[{"method": "cash", "amount": 20_000}],
        change=8_900,
    )
    lines = lines_of(sale_receipt(data), "TM-T20II")
    ppn = next(i for i, line in enumerate(lines) if line.startswith("PPN"))
    total = next(i for i, line in enumerate(lines) if line.startswith("TOTAL"))
    assert ppn < total and lines[total].endswith("Rp 11.100")
    assert "Harga sudah termasuk PPN" not in lines


def test_local_date_and_time_in_the_outlets_zone():
    lines = lines_of(samples.sample_sale(), "TM-T20II")
    assert "Tanggal : 28/11/2026 14.05 WITA" in lines
    data = samples.sample_sale_data()
    data["timezone"] = "Asia/Jakarta"
    assert "Tanggal : 28/11/2026 13.05 WIB" in lines_of(sale_receipt(data), "TM-T20II")
    data["timezone"] = "Asia/Jayapura"
    data["printed_at"] = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)
    assert "Tanggal : 01/01/2027 01.30 WIT" in lines_of(sale_receipt(data), "POS-5890")


def test_header_and_member_number():
    lines = lines_of(samples.sample_sale(), "TM-T20II")
    assert lines[0].strip() == "Koperasi Kelurahan Merah Putih Kelayan Timur"
    assert "No.     : TK1-2611-000123" in lines and "Anggota : AGT-00042" in lines
    assert "Kasir   : Siti Aminah" in lines and "Terminal: TK-1" in lines
    blocks = layout(samples.sample_sale(), "TM-T20II")
    assert blocks[0] == Text("Koperasi Kelurahan Merah Putih Kelayan Timur", "center", bold=True)


def test_reprints_say_salinan_first_and_originals_do_not():
    copy = layout(samples.sample_sale(copy=True), "POS-5890")
    assert copy[0] == Text("SALINAN", "center", bold=True, double=True)
    original = layout(samples.sample_sale(), "POS-5890")
    assert all(not (isinstance(b, Text) and "SALINAN" in b.text) for b in original)
    assert copy[2:] == original  # the banner and a feed, then the very same receipt


def test_the_receipt_number_is_a_code128_barcode_and_qris_shows_only_when_pending():
    blocks = layout(samples.sample_sale(), "TM-T20II")
    assert Barcode("TK1-2611-000123") in blocks
    assert not any(isinstance(b, QR) for b in blocks)
    pending = layout(samples.sample_sale(qris_pending=True), "TM-T20II")
    assert QR(samples.SAMPLE_QRIS) in pending
    qr_at = pending.index(QR(samples.SAMPLE_QRIS))
    assert pending[qr_at - 1] == Text("Rp 50.000", "center", bold=True)


def test_cut_only_where_the_printer_has_a_cutter():
    assert layout(samples.sample_sale(), "TM-T20II")[-1] == Cut()
    assert layout(samples.sample_sale(), "POS-5890")[-1] == Feed(3)
    assert not any(isinstance(b, Cut) for b in layout(samples.sample_sale(), "POS-5890"))


def test_footer_lines_are_centred():
    blocks = layout(samples.sample_sale(), "TM-T20II")
    assert Text("Simpan struk ini", "center") in blocks


def test_return_receipt_layout():
    lines = lines_of(samples.sample_return(), "TM-T82-42")
    assert "RETUR PENJUALAN" in [line.strip() for line in lines]
    assert "Struk asal: TK1-2611-000123" in lines
    assert any(line.startswith("TOTAL RETUR") and line.endswith("Rp 38.900") for line in lines)
    assert any(line.startswith("Dikembalikan Tunai") for line in lines)
    assert not any(line.startswith("Kembali") for line in lines)


def test_shift_reports_layout():
    z = lines_of(samples.sample_shift(final=True), "POS-5890")
    assert "LAPORAN Z" in [line.strip() for line in z]
    for label, amount in [
        ("Modal awal", "200.000"),
        ("  Tunai (41)", "1.250.500"),
        ("  QRIS (9)", "480.000"),
        ("Total penjualan", "1.805.500"),
        ("- Retur tunai", "38.900"),
        ("- Kas keluar", "50.000"),
        ("Kas seharusnya", "1.361.600"),
        ("Kas dihitung", "1.361.100"),
        ("Selisih", "-500"),
    ]:
        assert any(line.startswith(label) and line.endswith(amount) for line in z), label
    assert any("(____" in line for line in z)  # signatures on the final report
    x = lines_of(samples.sample_shift(final=False), "POS-5890")
    assert "LAPORAN X" in [line.strip() for line in x]
    assert not any(line.startswith(("Kas dihitung", "Selisih", "Ditutup")) for line in x)


def test_slip_layout():
    lines = lines_of(samples.sample_slip("kasbon_repayment"), "POS-5890")
    assert "PEMBAYARAN KASBON" in [line.strip() for line in lines]
    assert any(line.startswith("Jumlah") and line.endswith("Rp 250.000") for line in lines)
    assert any(line.startswith("Sisa kasbon") and line.endswith("Rp 125.000") for line in lines)
    assert "Anggota   : AGT-00042" in lines


def test_test_page_shows_the_width_ruler_and_codes():
    page = test_page("Kasir 1", "TM-T82-42", printed_at=samples.SAMPLE_TIME)
    blocks = layout(page, "TM-T82-42")
    assert Text("123456789012345678901234567890123456789012") in blocks
    assert Barcode("UJI-0001") in blocks and any(isinstance(b, QR) for b in blocks)


def test_labels_can_be_replaced():
    blocks = layout(samples.sample_sale(copy=True), "TM-T20II", labels={"copy": "COPY", "change": "Change"})
    assert blocks[0].text == "COPY"
    assert any(isinstance(b, Text) and b.text.startswith("Change") for b in blocks)


def test_quantities_keep_the_decimals_as_weighed():
    assert format_quantity(Decimal("1.250")) == "1,250"
    assert format_quantity(Decimal("0.5")) == "0,5"
    assert format_quantity(Decimal("3")) == "3"
    assert format_quantity(Decimal("2.000")) == "2"
    assert format_quantity(Decimal("1250")) == "1.250"


def test_blocks_refuse_what_cannot_be_printed():
    with pytest.raises(ValueError):
        Text("two\nlines")
    with pytest.raises(ValueError):
        Text("x", align="justify")
    with pytest.raises(ValueError):
        Rule("==")
    with pytest.raises(ValueError):
        Barcode("8991234567890", "ean13")  # wrong check digit
    with pytest.raises(ValueError):
        Barcode("TK1-é")
    with pytest.raises(ValueError):
        Feed(0)
    with pytest.raises(ValueError, match="does not fit"):
        render_text([Text("x" * 33)], "POS-5890")
    with pytest.raises(ValueError, match="does not fit"):
        render_text([Text("x" * 17, double=True)], "POS-5890")
    with pytest.raises(ValueError):
        layout({"kind": "sale"}, "POS-5890")  # type: ignore[arg-type]


# --- HTML -------------------------------------------------------------------------------------------------------


def script_sale():
    data = samples.sample_sale_data()
    data["lines"][4]["name"] = '<script>alert("x")</script> & "Minyak"'
    data["header"]["outlet_name"] = "Toko <b>Kelayan</b>"
    return sale_receipt(data)


def test_html_escapes_names_and_has_no_inline_style_or_script():
    fragment = render_html(script_sale(), "TM-T20II")
    assert "<script" not in fragment and "</script>" not in fragment and "<b>" not in fragment
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Minyak&quot;" in fragment
    assert "Toko &lt;b&gt;Kelayan&lt;/b&gt;" in fragment
    assert not re.search(r"\sstyle\s*=", fragment, re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", fragment, re.IGNORECASE)
    assert re.match(r'<div class="receipt receipt--w48" data-columns="48" data-kind="sale"', fragment)
    assert 'data-number="TK1-2611-000123"' in fragment and 'data-total="113500"' in fragment


def test_html_shows_the_same_lines_as_the_paper():
    receipt = samples.sample_sale(copy=True, qris_pending=True)
    fragment = render_html(receipt, "POS-5890")
    texts = [html.unescape(t) for t in re.findall(r'<div class="receipt-line[^"]*">([^<]*)</div>', fragment)]
    expected = [b.text for b in layout(receipt, "POS-5890") if isinstance(b, Text)]
    assert [t for t in texts if t] == [t for t in expected if t]
    assert 'class="receipt-line receipt-line--center receipt-line--bold receipt-line--double">SALINAN<' in fragment
    assert 'data-copy="1"' in fragment
    for class_name in set(re.findall(r'class="([^"]+)"', fragment)):
        for single in class_name.split():
            assert f".{single}" in RECEIPT_CSS, single


def test_html_codes_are_inline_pngs():
    fragment = render_html(samples.sample_sale(qris_pending=True), "TM-T20II")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">', fragment)
    assert [alt for _data, alt in images] == ["QR", "TK1-2611-000123"]
    for data, _alt in images:
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        assert image.format == "PNG" and image.width > 100


def test_html_from_blocks():
    blocks = [Text("Halo <dunia>", "right"), Rule("="), Feed(1), Cut()]
    fragment = render_html(blocks, "POS-5890")
    assert 'class="receipt-line receipt-line--right">Halo &lt;dunia&gt;</div>' in fragment
    assert "=" * 32 in fragment and "data-kind" not in fragment
