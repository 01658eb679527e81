"""Code128 barcodes read back by a real decoder (zbarimg from Debian's zbar-tools), alone and on the member card.

Skipped when zbarimg is missing, unless KASIR_REQUIRE_BROWSER=1 (then missing tools fail the run).
"""

import base64
import io
import re

import pytest
from PIL import Image

from receipts.barcodes import code128_png


@pytest.mark.parametrize("data", ["AGT-00001", "AGT-12345", "AGT-99999", "8991234567890", "Koperasi Merah Putih ~ 42!"])
def test_code128_is_read_back_exactly(decode, data):
    assert decode(code128_png(data)) == data


def test_code128_without_text_is_read_back_too(decode):
    assert decode(code128_png("AGT-00042", text=False)) == "AGT-00042"


def test_the_bars_are_whole_pixels_with_a_wide_quiet_zone():
    image = Image.open(io.BytesIO(code128_png("AGT-00001")))
    assert image.format == "PNG" and image.mode == "L"
    row = [image.getpixel((x, image.height // 4)) for x in range(image.width)]
    assert set(row) == {0, 255}  # pure black and white, no grey edges
    runs, start = [], 0
    for x in range(1, len(row) + 1):
        if x == len(row) or row[x] != row[start]:
            runs.append((row[start], x - start))
            start = x
    module = min(width for _colour, width in runs[1:-1])
    assert module >= 3
    assert all(width % module == 0 for _colour, width in runs[1:-1])
    assert runs[0][0] == runs[-1][0] == 255
    assert min(runs[0][1], runs[-1][1]) >= 10 * module  # Code128's quiet zone is at least ten modules


@pytest.mark.parametrize("data", ["", "AGT-0000é", "AGT\n1", "\x00", "x" * 81, None, 12345])
def test_empty_non_ascii_or_odd_data_is_refused(data):
    with pytest.raises(ValueError):
        code128_png(data)


def test_the_member_card_barcode_reads_as_the_member_number(decode, books, signed_in, client):
    from ledger import members as service
    from pos.db import write_transaction

    with write_transaction():
        number = service.register_member(
            service.MemberInput(name="Siti Aminah", nik="6371021508850001"), None, author_name="test"
        ).number
    signed_in("kasir")
    page = client.get(f"/anggota/{number}/kartu")
    assert page.status_code == 200
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page.text)
    assert match, "the card carries no inline PNG"
    assert decode(base64.b64decode(match.group(1))) == number == "AGT-00001"
