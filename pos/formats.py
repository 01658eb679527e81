"""Dates and times for people: stored in UTC, shown in the outlet's timezone as 28/11/2026; months as Des 2026."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time


def to_local(moment: dt.datetime, timezone: str) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times are stored as aware UTC")
    return moment.astimezone(ZoneInfo(timezone))


def format_date(value: dt.date | dt.datetime, timezone: str = "Asia/Makassar", locale: str = "id") -> str:
    """28/11/2026: day, month, year whatever the locale (how Indonesian forms write dates)."""
    if isinstance(value, dt.datetime):
        value = to_local(value, timezone).date()
    return value.strftime("%d/%m/%Y")


def month_label(year: int, month: int, locale: str = "id") -> str:
    """Des 2026 (Indonesian month abbreviations: Jan, Feb, Mar, Apr, Mei, Jun, Jul, Agu, Sep, Okt, Nov, Des)."""
    return _babel_date(dt.date(year, month, 1), "MMM yyyy", locale=locale)


def format_datetime(value: dt.datetime, timezone: str = "Asia/Makassar", locale: str = "id") -> str:
    """28/11/2026 14.05 WITA: local wall time with the zone's Indonesian abbreviation."""
    local = to_local(value, timezone)
    clock = _babel_time(local.time(), "HH.mm" if locale == "id" else "HH:mm", locale=locale)
    return f"{format_date(local.date(), timezone, locale)} {clock} {zone_abbreviation(timezone)}"


def zone_abbreviation(timezone: str) -> str:
    return {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(
        timezone, timezone
    )
