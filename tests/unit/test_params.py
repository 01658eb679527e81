"""The one edge parser: dates typed dd/mm/yyyy or sent YYYY-MM-DD, whole numbers, text without control
characters and never silently cut — each refusal about its field."""

import datetime as dt

import pytest

from pos.errors import InvalidInput
from pos.web.params import clean_text, parse_date_text, parse_int


@pytest.mark.parametrize(("text", "day"), [
    ("31/12/2025", dt.date(2025, 12, 31)), ("1/2/2026", dt.date(2026, 2, 1)), ("2025-12-31", dt.date(2025, 12, 31)),
    ("2026-01-05T10:00", dt.date(2026, 1, 5)), ("05.01.2026", dt.date(2026, 1, 5)),
])
def test_dates_as_typed_and_as_date_pickers_send_them(text, day):
    assert parse_date_text(text, "date") == day


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "31/02/2025", "dd/mm/yyyy", "2025-13-01", "", "12/2025",
                                  "1999-12-31", "2101-01-01", "2025-12-31x"])
def test_impossible_or_out_of_range_dates_are_refused_on_their_field(text):
    with pytest.raises(InvalidInput) as caught:
        parse_date_text(text, "expiry_0")
    assert caught.value.field == "expiry_0"


def test_date_bounds():
    with pytest.raises(InvalidInput, match="too early"):
        parse_date_text("01/01/2025", "date", low=dt.date(2025, 6, 1))
    with pytest.raises(InvalidInput, match="too late"):
        parse_date_text("01/01/2027", "date", high=dt.date(2026, 12, 31))


@pytest.mark.parametrize("text", ["9223372036854775808", "1" * 30, "1e3", "1.5", "abc", "", "-1"])
def test_ids_beyond_64_bits_and_non_numbers_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_int(text, "id", low=0)


def test_whole_numbers_in_range():
    assert parse_int(" 2025 ", "year", low=2000, high=2100) == 2025
    assert parse_int(str(2**63 - 1), "id") == 2**63 - 1


def test_text_is_refused_not_cut_and_has_no_control_characters():
    assert clean_text("  Gula pasir  ", "name", 40) == "Gula pasir"
    with pytest.raises(InvalidInput, match="At most 40"):
        clean_text("a" * 41, "username", 40)
    for bad in ("a\tb", "a\x1bb", "a\x00b", "line\nbreak", "\u202eevil"):
        with pytest.raises(InvalidInput, match="Control characters"):
            clean_text(bad, "reason", 200)
    assert clean_text("two\nlines", "note", 200, multiline=True) == "two\nlines"
    with pytest.raises(InvalidInput) as caught:
        clean_text("  ", "reason", 200, required=True)
    assert caught.value.field == "reason"


@pytest.mark.parametrize("text", ["2025-12-31Tjunk", "2025-12-31 whatever"])
def test_a_date_followed_by_anything_but_a_time_is_refused(text):
    with pytest.raises(InvalidInput):
        parse_date_text(text, "date")
