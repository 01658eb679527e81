"""The one edge parser: every id, amount, quantity, date and text a form, a query string or a URL brings in is read
here, with its range, so no input reaches the database unchecked and no page forgets a bound.

Each refusal is InvalidInput about the field it came from (`exc.field`), translated by the web layer: forms show it
on the field with status 400, the API answers 400 with `details.field`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from flask import request

from pos.errors import N_, InvalidInput, PosError
from pos.money import parse_quantity, parse_rupiah

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_ID = 2**63 - 1
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", re.ASCII)
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_INT = re.compile(r"^[-+]?\d{1,19}$", re.ASCII)
_TIME = re.compile(r"^[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$", re.ASCII)


def _refused(message: str, field: str, **params) -> InvalidInput:
    return InvalidInput(message, **params).at(field)


def parse_date_text(raw: object, field: str, *, low: dt.date | None = None, high: dt.date | None = None) -> dt.date:
    """A date typed as dd/mm/yyyy (how Indonesians write it, whatever the browser) or sent as YYYY-MM-DD by a date
    picker; between 2000 and 2100 and within [low, high] when given."""
    text = raw.strip() if isinstance(raw, str) else ""
    if (match := _DMY.match(text)) is not None:
        d, m, y = (int(g) for g in match.groups())
    elif (match := _YMD.match(text[:10])) is not None and (len(text) == 10 or _TIME.match(text[10:])):
        y, m, d = (int(g) for g in match.groups())
    else:
        raise _refused(N_("'%(text)s' is not a date: write it as dd/mm/yyyy, e.g. 31/12/2025."), field,
                       text=text[:20])
    try:
        day = dt.date(y, m, d)
    except ValueError:
        raise _refused(N_("'%(text)s' is not a date: write it as dd/mm/yyyy, e.g. 31/12/2025."), field,
                       text=text[:20]) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _refused(N_("%(date)s is out of range: dates run from %(first)d to %(last)d."), field,
                       date=day.strftime("%d/%m/%Y"), first=FIRST_YEAR, last=LAST_YEAR)
    if low is not None and day < low:
        raise _refused(N_("%(date)s is too early: the earliest is %(low)s."), field,
                       date=day.strftime("%d/%m/%Y"), low=low.strftime("%d/%m/%Y"))
    if high is not None and day > high:
        raise _refused(N_("%(date)s is too late: the latest is %(high)s."), field,
                       date=day.strftime("%d/%m/%Y"), high=high.strftime("%d/%m/%Y"))
    return day


def date_arg(name: str, default: dt.date | None = None) -> dt.date | None:
    """?name=dd/mm/yyyy or YYYY-MM-DD, or `default` when absent."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    return parse_date_text(raw, name)


def form_date(name: str, default: dt.date | None = None, **bounds) -> dt.date:
    raw = request.form.get(name, "").strip()
    if not raw:
        if default is not None:
            return default
        raise _refused(N_("Give a date."), name)
    return parse_date_text(raw, name, **bounds)


def parse_int(raw: object, field: str, *, low: int = 0, high: int = MAX_ID) -> int:
    text = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))
    if not _INT.match(text):
        raise _refused(N_("'%(text)s' is not a whole number."), field, text=text[:20])
    value = int(text)
    if not low <= value <= high:
        raise _refused(N_("%(value)s is out of range (%(low)s to %(high)s)."), field, value=text[:20], low=low,
                       high=high)
    return value


def id_arg(name: str) -> int | None:
    """?name=<id>: a database id (1 to 2⁶³−1), or None when absent."""
    raw = request.args.get(name, "").strip()
    return parse_int(raw, name, low=1) if raw else None


def form_rupiah(name: str, *, required: bool = True, allow_zero: bool = False, negative: bool = False) -> int:
    raw = request.form.get(name, "")
    if not raw.strip() and not required:
        return 0
    try:
        amount = parse_rupiah(raw)
    except PosError as exc:
        raise exc.at(name) from None
    if amount < 0 and not negative:
        raise _refused(N_("The amount must not be negative."), name)
    if amount == 0 and not allow_zero:
        raise _refused(N_("The amount must be more than zero."), name)
    return amount


def form_quantity(name: str, places: int = 3) -> Decimal:
    try:
        return parse_quantity(request.form.get(name, ""), places)
    except PosError as exc:
        raise exc.at(name) from None


def clean_text(raw: object, field: str, limit: int, *, required: bool = False, multiline: bool = False,
               message: str | None = None) -> str:
    """Text as typed, trimmed: refused when required and empty, longer than `limit` (never silently cut) or
    holding control characters (a tab, ESC; newlines only where `multiline`)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if required and not text:
        raise _refused(message or N_("This field is required."), field)
    if len(text) > limit:
        raise _refused(N_("At most %(limit)d characters here (%(count)d typed)."), field, limit=limit,
                       count=len(text))
    allowed = {"\n", "\r"} if multiline else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in allowed for ch in text):
        raise _refused(N_("Control characters (tab, line break, escape) are not allowed here."), field)
    return text


def form_text(name: str, limit: int, **kw) -> str:
    return clean_text(request.form.get(name, ""), name, limit, **kw)
