"""QRIS payloads: TLV layout, CRC-16/CCITT-FALSE (checked against Python's own crc_hqx), the amount in tag 54."""

import binascii

import pytest

from pos.sales import qris

STATIC = qris.build_static("KOPERASI MERAH PUTIH", "BANJARMASIN", "936000140000012345", "ID1026123456789", "70000")


def test_the_crc_is_ccitt_false():
    assert qris.crc16(b"123456789") == 0x29B1  # the CRC catalogue's check value
    body = STATIC[:-4].encode()
    assert qris.crc16(body) == binascii.crc_hqx(body, 0xFFFF)  # an independent implementation agrees
    assert STATIC.endswith(f"{binascii.crc_hqx(body, 0xFFFF):04X}")


def test_a_static_string_is_parsed_and_checked():
    parsed = qris.parse_static(STATIC)
    assert (parsed.merchant_name, parsed.merchant_city) == ("KOPERASI MERAH PUTIH", "BANJARMASIN")
    assert dict(parsed.fields)["01"] == "11"


def test_the_amount_goes_into_tag_54_with_point_of_initiation_12_and_a_new_crc():
    payload = qris.with_amount(STATIC, 25_000)
    fields = qris.parse_fields(payload)
    tags = [tag for tag, _ in fields]
    values = dict(fields)
    assert tags[0] == "00" and tags[-1] == "63"
    assert values["01"] == "12"
    assert values["54"] == "25000"
    assert tags.index("53") < tags.index("54") < tags.index("58")
    assert qris.amount_of(payload) == 25_000
    assert values["63"] == f"{binascii.crc_hqx(payload[:-4].encode(), 0xFFFF):04X}"
    qris.parse_static(payload)  # still a valid QRIS string


def test_damaged_or_foreign_strings_are_refused():
    wrong_crc = STATIC[:-4] + ("0000" if not STATIC.endswith("0000") else "FFFF")
    for bad in ("", "hello", STATIC[:-10], wrong_crc, STATIC.replace("5303360", "5303840")):
        with pytest.raises(qris.QrisError):
            qris.parse_static(bad)
    for amount in (0, -1, 10**13, 1.5):
        with pytest.raises(qris.QrisError):
            qris.with_amount(STATIC, amount)
