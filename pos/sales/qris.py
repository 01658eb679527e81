"""QRIS (Indonesia's EMVCo merchant-presented QR): parse a merchant's static string, check its CRC, and put the
amount of one sale into it.

The payload is a list of TLV fields: a 2-digit tag, a 2-digit length, the value. Tag 00 is the format (01), tag 01
the point of initiation (11 static, 12 dynamic: one amount, one payment), 26-51 the merchant accounts, 53 the
currency (360 = IDR), 54 the amount, 58 the country (ID), 59 the merchant name, 60 the city, and 63 the CRC last:
CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR) over everything before it,
its own "6304" included, written as 4 upper-case hex digits. Source: EMVCo QR Code Specification for Payment
Systems, Merchant-Presented Mode v1.1, and Bank Indonesia's QRIS standard (PADG 21/18/2019, ASPI QRIS spec).
"""

from __future__ import annotations

from dataclasses import dataclass

from pos.errors import N_, InvalidInput

MAX_PAYLOAD = 512
MAX_AMOUNT = 10**12


class QrisError(InvalidInput):
    """A QRIS string that is malformed, has a wrong CRC, or lacks a field QRIS requires."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE; crc16(b"123456789") == 0x29B1 (the catalogue's check value)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def parse_fields(payload: str) -> list[tuple[str, str]]:
    """Split a TLV string into (tag, value) pairs, in order; QrisError when a length runs past the end."""
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
        raise QrisError(N_("A QRIS code is text of at most %(n)d characters."), n=MAX_PAYLOAD)
    if not all(" " <= ch <= "~" for ch in payload):
        raise QrisError(N_("A QRIS code holds only printable characters."))
    fields, i = [], 0
    while i < len(payload):
        tag, length = payload[i:i + 2], payload[i + 2:i + 4]
        if len(tag) < 2 or not tag.isdigit() or len(length) < 2 or not length.isdigit():
            raise QrisError(N_("The QRIS code is damaged near position %(at)d."), at=i + 1)
        end = i + 4 + int(length)
        if end > len(payload):
            raise QrisError(N_("The QRIS code is damaged near position %(at)d."), at=i + 1)
        fields.append((tag, payload[i + 4:end]))
        i = end
    return fields


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise QrisError(N_("A QRIS field is at most 99 characters."))
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Append tag 63 with the CRC of `body` + "6304"."""
    head = body + "6304"
    return head + f"{crc16(head.encode('ascii')):04X}"


@dataclass(frozen=True)
class StaticQris:
    payload: str
    merchant_name: str
    merchant_city: str
    fields: tuple[tuple[str, str], ...]


def parse_static(payload: str) -> StaticQris:
    """Check a merchant's QRIS string as the bank issued it: format, CRC, IDR, Indonesia, a merchant account."""
    payload = (payload or "").strip()
    fields = parse_fields(payload)
    tags = [tag for tag, _ in fields]
    if not fields or fields[0] != ("00", "01"):
        raise QrisError(N_("A QRIS code starts with the format indicator 000201."))
    if tags[-1] != "63" or len(fields[-1][1]) != 4:
        raise QrisError(N_("A QRIS code ends with its CRC (tag 63)."))
    expected = f"{crc16(payload[:-4].encode('ascii')):04X}"
    if fields[-1][1].upper() != expected:
        raise QrisError(N_("The QRIS code's check value is wrong (CRC %(found)s, expected %(expected)s): it was "
                           "copied wrongly."), found=fields[-1][1], expected=expected)
    values = dict(fields)
    if values.get("53") != "360":
        raise QrisError(N_("The QRIS code is not in rupiah (tag 53 must be 360)."))
    if values.get("58") != "ID":
        raise QrisError(N_("The QRIS code is not Indonesian (tag 58 must be ID)."))
    if not any(26 <= int(tag) <= 51 for tag in tags):
        raise QrisError(N_("The QRIS code names no merchant account (tags 26 to 51)."))
    if not values.get("59") or not values.get("60"):
        raise QrisError(N_("The QRIS code lacks the merchant's name or city (tags 59 and 60)."))
    return StaticQris(payload=payload, merchant_name=values["59"], merchant_city=values["60"], fields=tuple(fields))


def with_amount(static: str | StaticQris, amount: int) -> str:
    """The payload for one payment: point of initiation 12 (dynamic), tag 54 = the amount in whole rupiah, any
    tip fields (55-57) dropped, a new CRC."""
    parsed = static if isinstance(static, StaticQris) else parse_static(static)
    if type(amount) is not int or not 0 < amount < MAX_AMOUNT:
        raise QrisError(N_("A QRIS amount is whole rupiah, more than zero."))
    kept = [(tag, value) for tag, value in parsed.fields if tag not in ("01", "54", "55", "56", "57", "63")]
    kept.append(("01", "12"))
    kept.append(("54", str(amount)))
    kept.sort(key=lambda field: (field[0] != "00", int(field[0])))  # 00 first, then by tag; 63 is added last
    return with_crc("".join(_field(tag, value) for tag, value in kept))


def amount_of(payload: str) -> int | None:
    """The amount in tag 54 of a payload (None when static)."""
    value = dict(parse_fields(payload)).get("54")
    return int(value.split(".")[0]) if value else None


def build_static(merchant_name: str, city: str, merchant_pan: str, nmid: str, postal_code: str = "",
                 acquirer: str = "ID.CO.QRIS.WWW") -> str:
    """A static QRIS string in the layout banks issue (for the demo and tests; a shop uses its bank's string)."""
    account = _field("00", acquirer) + _field("01", merchant_pan) + _field("02", nmid) + _field("03", "UMI")
    body = (_field("00", "01") + _field("01", "11") + _field("26", account) + _field("51", _field("00", acquirer)
            + _field("02", nmid) + _field("03", "UMI")) + _field("52", "5411") + _field("53", "360")
            + _field("58", "ID") + _field("59", merchant_name[:25]) + _field("60", city[:15]))
    if postal_code:
        body += _field("61", postal_code)
    return with_crc(body)
