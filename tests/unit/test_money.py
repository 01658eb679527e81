"""Rupiah and Indonesian numbers: Rp 12.500 out, 1.000 and 1,5 in; bad input refused with a message."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.errors import InvalidInput
from pos.money import format_number, format_rupiah, parse_decimal, parse_quantity, parse_rupiah


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(0, "Rp 0"), (500, "Rp 500"), (12500, "Rp 12.500"), (1234567, "Rp 1.234.567"), (-12500, "-Rp 12.500")],
)
def test_rupiah_is_shown_with_dots(amount, shown):
    assert format_rupiah(amount) == shown


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        format_rupiah(12.5)


def test_numbers_use_indonesian_separators():
    assert format_number(Decimal("1234.5")) == "1.234,5"
    assert format_number(Decimal("1.250"), places=3) == "1,250"
    assert format_number(1000000) == "1.000.000"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1.000", Decimal(1000)),
        ("1,5", Decimal("1.5")),
        ("1.234,75", Decimal("1234.75")),
        ("12500", Decimal(12500)),
        ("Rp 12.500", Decimal(12500)),
        (" 0,250 ", Decimal("0.25")),
        ("-3", Decimal(-3)),
    ],
)
def test_input_is_read_the_indonesian_way(typed, value):
    assert parse_decimal(typed) == value


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "1.5",
        "12.34",
        "1,2,3",
        "NaN",
        "nan",
        "inf",
        "1e309",
        "1e3",
        "abc",
        "0x10",
        "\x00",
        "1\x005",
        "١٢٣",
        "12.345.67",
        "9" * 40,
        "<script>",
        "1;DROP TABLE",
    ],
)
def test_bad_numbers_are_refused_with_a_message(typed):
    with pytest.raises(InvalidInput) as caught:
        parse_decimal(typed)
    assert caught.value.message  # a translatable message, not a bare exception


def test_rupiah_input_refuses_cents_and_quantity_refuses_zero_negative_and_excess_decimals():
    assert parse_rupiah("Rp 12.500") == 12500
    with pytest.raises(InvalidInput):
        parse_rupiah("12.500,50")
    assert parse_quantity("1,250") == Decimal("1.250")
    for bad in ("0", "-1", "0,0001"):
        with pytest.raises(InvalidInput):
            parse_quantity(bad)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_shown_rupiah_reads_back_to_the_same_amount(amount):
    assert parse_rupiah(format_rupiah(amount).replace("-Rp ", "-").replace("Rp ", "")) == amount


@pytest.mark.parametrize("text", ["1.000.000.000.001", "99999999999999999999", "9" * 32])
def test_amounts_beyond_a_trillion_are_refused(text):
    with pytest.raises(InvalidInput, match="too large"):
        parse_rupiah(text)


@pytest.mark.parametrize("text", ["1,000", "2,500", "12.500,000"])
def test_a_comma_before_three_digits_is_a_thousand_written_the_english_way(text):
    with pytest.raises(InvalidInput, match="thousands with a dot"):
        parse_rupiah(text)
    assert parse_rupiah("12.500,00") == 12_500


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False))
def test_shown_numbers_read_back(value):
    assert parse_decimal(format_number(value)) == value


@pytest.mark.parametrize(("text", "amount"), [("Rp 5.000,-", 5_000), ("Rp. 5.000", 5_000), ("5\u2009000", 5_000),
                                              ("5\u202f000", 5_000), ("12.500,00", 12_500), ("Rp12.500,0", 12_500)])
def test_rupiah_as_indonesians_write_it(text, amount):
    assert parse_rupiah(text) == amount


def test_a_comma_and_zeros_is_not_rupiah_one():
    with pytest.raises(InvalidInput, match="thousands with a dot"):
        parse_rupiah("1,0000")


@pytest.mark.parametrize(("text", "quantity"), [("1,5000", Decimal("1.5")), ("0,0010", Decimal("0.001")),
                                                ("100", Decimal(100)), ("2,500", Decimal("2.5"))])
def test_trailing_zeros_are_not_decimals(text, quantity):
    assert parse_quantity(text) == quantity


@pytest.mark.parametrize("text", ["1" + "0" * 31, "999.999.999.999.999.999.999.999.999.999", "1000000"])
def test_quantities_with_more_digits_than_decimals_hold_are_refused(text):
    with pytest.raises(InvalidInput, match="too (large|long)"):
        parse_quantity(text)
