"""Scale protocol records: Toledo 8217 answers and status bytes, CAS-style lines, weights as Decimal kg."""

from __future__ import annotations

from decimal import Decimal

import pytest

from drivers.errors import ScaleError
from drivers.scale import CAS_CONTINUOUS, PROTOCOLS, TOLEDO_8217, Reading, SerialScale, parse_cas, parse_toledo


def test_toledo_protocol_record():
    p = TOLEDO_8217
    assert (p.baudrate, p.bytesize, p.parity, p.stopbits, p.request) == (9600, 7, "E", 1, b"W")
    assert CAS_CONTINUOUS.request is None
    assert set(PROTOCOLS) == {"toledo_8217", "cas"}


@pytest.mark.parametrize(
    ("frame", "weight"),
    [
        (b"\x0201.250", "1.250"),
        (b"\x0200.005", "0.005"),
        (b"\x0215.000", "15.000"),
        (b"\x02 1.25 KG", "1.250"),
        (b"\n\x0202.500", "2.500"),  # a stray LF from the previous answer's CR LF
        (b"01.250", "1.250"),  # STX lost on the line
    ],
)
def test_toledo_weights(frame, weight):
    reading = parse_toledo(frame)
    assert reading == Reading(weight=Decimal(weight), stable=True, status="stable")
    assert str(reading.weight) == weight  # three places, never a float


@pytest.mark.parametrize(
    ("status_byte", "status"),
    [
        (b"A", "moving"),  # 0x41 bit 0
        (b"B", "overload"),  # 0x42 bit 1
        (b"D", "under_zero"),  # 0x44 bit 2
        (b"H", "zero_error"),  # 0x48 bit 3
        (b"C", "overload"),  # moving and over capacity: overload wins
        (b"E", "under_zero"),  # moving and under zero
        (b"\xc1", "moving"),  # parity bit set on an 8-bit line is ignored
        (b"P", "error"),  # 0x50: centre of zero only, no reason given
    ],
)
def test_toledo_status_answers(status_byte, status):
    reading = parse_toledo(b"\x02?" + status_byte)
    assert reading.weight is None and reading.stable is False and reading.status == status


def test_toledo_net_bit_and_refusals():
    assert parse_toledo(b"\x02?a").net is True  # 0x61: bit 5 net, bit 0 moving
    for bad in (b"\x02?", b"\x02abc", b"\x02", b"\x021.2.3"):
        with pytest.raises(ValueError):
            parse_toledo(bad)
    with pytest.raises(ScaleError, match="set it to kg"):
        parse_toledo(b"\x0202.750LB")


@pytest.mark.parametrize(
    ("line", "reading"),
    [
        (b"ST,GS,+  1.250kg", Reading(Decimal("1.250"), True, "stable")),
        (b"US,GS,+  1.240kg", Reading(Decimal("1.240"), False, "moving")),
        (b"ST,NT,+  0.500kg", Reading(Decimal("0.500"), True, "stable", net=True)),
        (b"OL,GS,+  0.000kg", Reading(None, False, "overload")),
        (b"ST,GS,-  0.015kg", Reading(Decimal("-0.015"), False, "under_zero")),
        (b"ST,GS,+0001.250kg", Reading(Decimal("1.250"), True, "stable")),
        (b"ST,GS,01,+  1.250kg", Reading(Decimal("1.250"), True, "stable")),  # with a device number
        (b"st,gs,+  1.25 KG", Reading(Decimal("1.250"), True, "stable")),
        (b"ST,GS,+   1250g", Reading(Decimal("1.250"), True, "stable")),
        (b"\nST,GS,+  1.250kg", Reading(Decimal("1.250"), True, "stable")),
    ],
)
def test_cas_lines(line, reading):
    assert parse_cas(line) == reading


def test_cas_refusals():
    for bad in (b"", b"GS,+ 1.250kg", b"XX,GS,+  1.250kg", b"ST,GS,+  kg", b"ST,GS,+  1.2.5kg", b"\xff\xfe"):
        with pytest.raises(ValueError):
            parse_cas(bad)
    with pytest.raises(ScaleError):
        parse_cas(b"ST,GS,+  2.750lb")


def test_unknown_protocol_name():
    with pytest.raises(ValueError, match="toledo_8217, cas"):
        SerialScale("/dev/ttyUSB0", "dibal")
    assert SerialScale("/dev/ttyUSB0", "cas").protocol is CAS_CONTINUOUS
