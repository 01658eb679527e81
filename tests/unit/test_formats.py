"""Times are stored in UTC and shown in the outlet's zone, as 28/11/2026; months as Des 2026."""

import datetime as dt

import pytest

from pos.formats import format_date, format_datetime, month_label, to_local

UTC = dt.UTC


def test_dates_read_as_indonesians_write_them():
    assert format_date(dt.date(2026, 11, 28)) == "28/11/2026"
    assert format_date(dt.date(2026, 5, 3)) == "03/05/2026"
    assert format_date(dt.date(2026, 8, 17), locale="en") == "17/08/2026"  # dd/mm/yyyy whatever the language


def test_months_read_as_des_2026():
    assert month_label(2026, 12) == "Des 2026"
    assert month_label(2026, 5) == "Mei 2026"
    assert month_label(2026, 8) == "Agu 2026"
    assert month_label(2026, 8, "en") == "Aug 2026"


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Jakarta", "28/11/2026 23.05 WIB"),
        ("Asia/Makassar", "29/11/2026 00.05 WITA"),
        ("Asia/Jayapura", "29/11/2026 01.05 WIT"),
    ],
)
def test_utc_moments_are_shown_in_the_outlet_zone(zone, shown):
    moment = dt.datetime(2026, 11, 28, 16, 5, tzinfo=UTC)
    assert format_datetime(moment, zone) == shown


def test_a_utc_evening_is_the_next_day_in_banjarmasin():
    assert format_date(dt.datetime(2026, 11, 28, 17, 0, tzinfo=UTC), "Asia/Makassar") == "29/11/2026"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        to_local(dt.datetime(2026, 11, 28, 16, 5), "Asia/Makassar")
