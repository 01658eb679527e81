"""Query-string parameters read one way for every page: dates (within the years the books can hold)."""

from __future__ import annotations

import datetime as dt

from flask import request

from pos.errors import N_, InvalidInput

FIRST_YEAR, LAST_YEAR = 2000, 2100


def date_arg(name: str, default: dt.date | None = None) -> dt.date | None:
    """?name=YYYY-MM-DD, or `default` when absent; a wrong or out-of-range date is InvalidInput about `name`."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(raw[:10])
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(N_("'%(text)s' is not a date; use the date picker (YYYY-MM-DD)."), text=raw[:20]).at(name)
    return day
