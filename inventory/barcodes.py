"""Barcodes at the till: GTIN check digits, variable-measure EAN-13, GS1 element strings, in-store codes."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pos.errors import N_, InvalidInput

GS = "\x1d"  # ASCII group separator: how scanners transmit FNC1 between variable-length GS1 fields
MAX_SCAN_LENGTH = 200
MAX_INTERNAL_LENGTH = 40
GTIN_LENGTHS = (8, 12, 13, 14)
DEFAULT_INSTORE_PREFIX = "20"
# AIM symbology identifiers that announce GS1 data (GS1-128, GS1 DataMatrix, GS1 QR, GS1 DataBar, GS1 DotCode).
GS1_SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0", "]J1")
# AIM identifiers of plain EAN/UPC symbols (EAN-13 / UPC-A, EAN-8): classify() drops them and reads the digits.
EAN_SYMBOLOGY_IDS = ("]E0", "]E4")

_DIGITS = re.compile(r"[0-9]+")
_INTERNAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# GS1 "character set 82", the characters allowed in alphanumeric element values such as lots and serials.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")
_RULE = re.compile(r"(?P<prefix>2[0-9]+)(?P<before>\.*)\{(?P<int>N*)(?P<dec>D*)\}(?P<after>\.*)")
_HRI_ELEMENT = re.compile(r" *\((?P<ai>[0-9]{2,4})\)(?P<value>[^(]*)")


def _shown(text: str, limit: int = 32) -> str:
    """What of a bad input goes into an error message: printable ASCII only, cut short."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def _is_digits(text: str) -> bool:
    return _DIGITS.fullmatch(text) is not None


# --- check digits and GTINs ---------------------------------------------------------------------------------------


def gs1_check_digit(digits_without_check: str) -> int:
    """The GS1 mod-10 check digit: weights 3, 1, 3, ... from the rightmost digit. Works for GTIN-8/12/13/14, SSCC."""
    if not isinstance(digits_without_check, str) or not _is_digits(digits_without_check):
        raise InvalidInput(N_("A barcode must contain only the digits 0 to 9."))
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(digits_without_check)))
    return (10 - total % 10) % 10


def _check_digits(code: str) -> str:
    """Refuse `code` (all digits) when its last digit is not the GS1 check digit of the others."""
    expected = gs1_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise InvalidInput(
            N_("The check digit of %(code)s is wrong: it should end in %(digit)s."), code=code, digit=expected
        )
    return code


def validate_gtin(code: str) -> str:
    """An EAN-13, EAN-8, UPC-A (12 digits) or GTIN-14, whitespace stripped and check digit verified; returned as is."""
    if not isinstance(code, str):
        raise InvalidInput(N_("A barcode must be text."))
    code = code.strip()
    if not code:
        raise InvalidInput(N_("The barcode is empty."))
    if len(code) > MAX_SCAN_LENGTH or not _is_digits(code):
        raise InvalidInput(N_("A barcode must contain only the digits 0 to 9; %(code)s does not."), code=_shown(code))
    if len(code) not in GTIN_LENGTHS:
        raise InvalidInput(
            N_("A product barcode has 8, 12, 13 or 14 digits; %(code)s has %(count)s."), code=code, count=len(code)
        )
    return _check_digits(code)


def normalise_gtin(code: str) -> str:
    """The 14-digit GTIN (zeros in front), so a UPC-A, EAN-13 and the GTIN-14 of GS1 AI (01) compare equal."""
    return validate_gtin(code).zfill(14)


def is_gtin(code: object) -> bool:
    """True when `code` is a well-formed GTIN-8/12/13/14 with a correct check digit."""
    if not isinstance(code, str):
        return False
    try:
        validate_gtin(code)
    except InvalidInput:
        return False
    return True


# --- variable-measure EAN-13 (GS1 prefixes 20-29) -----------------------------------------------------------------

MeasureKind = Literal["weight", "price"]


@dataclass(frozen=True)
class MeasureRule:
    """A variable-measure rule, Odoo-style: the pattern covers the first 12 digits of the EAN-13.

    Literal digits at the start are the prefix (20-29, two digits or more); each `.` is a digit of the item reference;
    `{N...D...}` holds the value, N for whole units and D for decimals. Weights are kilograms, prices whole rupiah
    (no D). The 13th digit is the ordinary EAN check digit, e.g. "21.....{NNDDD}" or "22.....{NNNNN}".
    """

    pattern: str
    kind: MeasureKind
    decimals: int
    prefix: str = field(init=False, repr=False, compare=False)
    value_start: int = field(init=False, repr=False, compare=False)
    value_end: int = field(init=False, repr=False, compare=False)
    reference_positions: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("weight", "price"):
            raise ValueError(f"a measure rule's kind is 'weight' or 'price', not {self.kind!r}")
        match = _RULE.fullmatch(self.pattern) if isinstance(self.pattern, str) else None
        if match is None:
            raise ValueError(
                f"malformed variable-measure pattern {self.pattern!r}: expected a prefix 20-29, dots for the item "
                "reference and one {N...D...} group, e.g. '21.....{NNDDD}'"
            )
        prefix, before, whole, dec, after = match.group("prefix", "before", "int", "dec", "after")
        width = len(whole) + len(dec)
        if len(prefix) + len(before) + width + len(after) != 12:
            raise ValueError(f"variable-measure pattern {self.pattern!r} must describe exactly 12 digits")
        if width == 0:
            raise ValueError(f"variable-measure pattern {self.pattern!r} has no value digits inside the braces")
        if not before + after:
            raise ValueError(f"variable-measure pattern {self.pattern!r} has no item reference digits (dots)")
        if self.kind == "price" and dec:
            raise ValueError(f"price pattern {self.pattern!r} has decimals, but rupiah are whole")
        if type(self.decimals) is not int or self.decimals != len(dec):
            raise ValueError(f"pattern {self.pattern!r} has {len(dec)} decimals, not {self.decimals!r}")
        start = len(prefix) + len(before)
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "value_start", start)
        object.__setattr__(self, "value_end", start + width)
        positions = [*range(len(prefix), start), *range(start + width, 12)]
        object.__setattr__(self, "reference_positions", tuple(positions))

    @property
    def value_width(self) -> int:
        return self.value_end - self.value_start


def parse_rule(pattern: str, kind: str) -> MeasureRule:
    """Build a rule from an Odoo-style pattern; a malformed pattern or kind raises ValueError (configuration error)."""
    if not isinstance(pattern, str):
        raise ValueError("a variable-measure pattern is a string")
    return MeasureRule(pattern, kind, pattern.count("D"))  # type: ignore[arg-type]


DEFAULT_RULES: tuple[MeasureRule, ...] = (
    parse_rule("21.....{NNDDD}", "weight"),
    parse_rule("22.....{NNNNN}", "price"),
)


@dataclass(frozen=True)
class VariableMeasure:
    """A scanned scale label: the rule it matched, the product's base code to look up, and the weight or price."""

    rule: MeasureRule
    item_code: str  # the 13-digit code with the value digits zeroed and the check digit recomputed
    value: Decimal | int  # kilograms (Decimal) for weight rules, whole rupiah (int) for price rules


def _with_check_digit(first12: str) -> str:
    return first12 + str(gs1_check_digit(first12))


def _base_code(code: str, rule: MeasureRule) -> str:
    first12 = code[: rule.value_start] + "0" * rule.value_width + code[rule.value_end : 12]
    return _with_check_digit(first12)


def _matching_rule(code: str, rules: Sequence[MeasureRule]) -> MeasureRule | None:
    """The first rule (in the order given) whose prefix starts `code`."""
    for rule in rules:
        if code.startswith(rule.prefix):
            return rule
    return None


def match_variable_measure(code: str, rules: Sequence[MeasureRule] = DEFAULT_RULES) -> VariableMeasure | None:
    """Read a scale label. None when `code` is not 13 digits or no rule's prefix matches (the first matching rule wins).

    A matching code with a wrong check digit, or carrying a zero weight or price, is refused with InvalidInput.
    """
    if not isinstance(code, str):
        return None
    code = code.strip()
    if len(code) != 13 or not _is_digits(code):
        return None
    rule = _matching_rule(code, rules)
    if rule is None:
        return None
    _check_digits(code)
    digits = code[rule.value_start : rule.value_end]
    if int(digits) == 0:
        raise InvalidInput(N_("The barcode %(code)s carries no weight or price."), code=code)
    value: Decimal | int = Decimal(int(digits)).scaleb(-rule.decimals) if rule.kind == "weight" else int(digits)
    return VariableMeasure(rule=rule, item_code=_base_code(code, rule), value=value)


def encode_variable_measure(item_code: str, value: Decimal | int, rule: MeasureRule) -> str:
    """The 13-digit scale label for an item and a weight (kg, Decimal or int) or price (whole rupiah, int).

    `item_code` is either the product's base code (13 digits, as `match_variable_measure` returns it: the rule's
    prefix, zeros where the value goes) or just the item reference digits (as many as the pattern has dots).
    Values that are zero, negative, too large for the digits or more precise than the decimals are refused.
    """
    if not isinstance(item_code, str):
        raise InvalidInput(N_("A barcode must be text."))
    item_code = item_code.strip()
    refs = rule.reference_positions
    if len(item_code) == 13 and _is_digits(item_code):
        _check_digits(item_code)
        if not item_code.startswith(rule.prefix) or int(item_code[rule.value_start : rule.value_end]) != 0:
            raise InvalidInput(
                N_("%(code)s is not an item code of the barcode rule %(pattern)s."),
                code=item_code,
                pattern=rule.pattern,
            )
        reference = "".join(item_code[i] for i in refs)
    elif len(item_code) == len(refs) and _is_digits(item_code):
        reference = item_code
    else:
        raise InvalidInput(
            N_("An item code for the barcode rule %(pattern)s has 13 digits, or %(count)s for the item alone."),
            pattern=rule.pattern,
            count=len(refs),
        )
    units = _value_units(value, rule)
    digits = list(rule.prefix + "0" * (12 - len(rule.prefix)))
    for position, ch in zip(refs, reference, strict=True):
        digits[position] = ch
    digits[rule.value_start : rule.value_end] = str(units).zfill(rule.value_width)
    return _with_check_digit("".join(digits))


def _value_units(value: Decimal | int, rule: MeasureRule) -> int:
    """The value as the integer written in the barcode's value digits."""
    if rule.kind == "price":
        if type(value) is not int:
            raise TypeError("a price on a barcode is whole rupiah (int)")
        units = value
    else:
        if type(value) is not int and not isinstance(value, Decimal):
            raise TypeError("a weight on a barcode is a Decimal (kg), never a float")
        if isinstance(value, Decimal) and not value.is_finite():
            raise InvalidInput(N_("The weight %(value)s is not a number."), value=str(value))
        scaled = Decimal(value).scaleb(rule.decimals)
        if scaled != scaled.to_integral_value():
            raise InvalidInput(
                N_("The weight %(value)s has more than %(decimals)s decimals for the barcode rule %(pattern)s."),
                value=str(value),
                decimals=rule.decimals,
                pattern=rule.pattern,
            )
        units = int(scaled)
    if units <= 0:
        raise InvalidInput(N_("A weight or price on a barcode must be more than zero."))
    if units >= 10**rule.value_width:
        raise InvalidInput(
            N_("%(value)s does not fit in the barcode rule %(pattern)s."), value=str(value), pattern=rule.pattern
        )
    return units


# --- GS1 element strings (GS1-128, GS1 DataMatrix, GS1 QR, GS1 DataBar) -------------------------------------------


@dataclass(frozen=True)
class _AI:
    fixed: int | None = None  # exact length of a predefined-length field, which needs no separator after it
    max_length: int = 0  # maximum length of a variable field, which ends at GS or at the end of the data
    kind: Literal["numeric", "alnum", "date", "gtin", "decimal"] = "numeric"
    decimals: int = 0


# The application identifiers the till understands. Any other AI is refused: without its length the rest of the
# data cannot be split safely.
_AIS: dict[str, _AI] = {
    "00": _AI(fixed=18, kind="gtin"),  # SSCC, check digit like a GTIN
    "01": _AI(fixed=14, kind="gtin"),  # GTIN
    "02": _AI(fixed=14, kind="gtin"),  # GTIN of the trade items contained
    "10": _AI(max_length=20, kind="alnum"),  # batch or lot
    "11": _AI(fixed=6, kind="date"),  # production date
    "12": _AI(fixed=6, kind="date"),  # due date
    "13": _AI(fixed=6, kind="date"),  # packaging date
    "15": _AI(fixed=6, kind="date"),  # best before
    "16": _AI(fixed=6, kind="date"),  # sell by
    "17": _AI(fixed=6, kind="date"),  # expiry
    "21": _AI(max_length=20, kind="alnum"),  # serial number
    "30": _AI(max_length=8),  # variable count of items
    "37": _AI(max_length=8),  # count of trade items in a logistic unit
    **{f"310{n}": _AI(fixed=6, kind="decimal", decimals=n) for n in range(6)},  # net weight, kg, n decimals
}
# For these dates "day 00" (month only) means the month's last day; for the others (production, packaging) its first.
_END_OF_MONTH_DATES = ("12", "15", "16", "17")


@dataclass(frozen=True)
class Gs1Data:
    """What a GS1 element string says. `raw_ais` keeps every element as scanned, AI -> value."""

    gtin: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None
    best_before: dt.date | None = None
    production_date: dt.date | None = None
    serial: str | None = None
    count: int | None = None
    net_weight_kg: Decimal | None = None
    sscc: str | None = None
    raw_ais: dict[str, str] = field(default_factory=dict, hash=False)


def gs1_year(yy: int, today: dt.date) -> int:
    """GS1's century rule: a two-digit year lies within 49 years before and 50 years after `today`."""
    current = today.year % 100
    century = today.year - current
    difference = yy - current
    if difference >= 51:
        century -= 100
    elif difference <= -50:
        century += 100
    return century + yy


def _gs1_date(ai: str, value: str, today: dt.date) -> dt.date:
    year = gs1_year(int(value[0:2]), today)
    month, day = int(value[2:4]), int(value[4:6])
    if not 1 <= month <= 12:
        raise InvalidInput(N_("The date in GS1 field (%(ai)s) has no month %(month)s."), ai=ai, month=value[2:4])
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        day = last if ai in _END_OF_MONTH_DATES else 1
    if day > last:
        raise InvalidInput(N_("The date %(value)s in GS1 field (%(ai)s) does not exist."), ai=ai, value=value)
    return dt.date(year, month, day)


def _check_element(ai: str, value: str) -> _AI:
    """Refuse an unknown AI, or a value of the wrong length or characters for its AI."""
    spec = _AIS.get(ai)
    if spec is None:
        raise InvalidInput(N_("The GS1 barcode has an unknown application identifier (%(ai)s)."), ai=_shown(ai, 4))
    if not value:
        raise InvalidInput(N_("GS1 field (%(ai)s) is empty."), ai=ai)
    if spec.fixed is not None and len(value) != spec.fixed:
        raise InvalidInput(
            N_("GS1 field (%(ai)s) needs %(length)s characters but has %(count)s."),
            ai=ai,
            length=spec.fixed,
            count=len(value),
        )
    if spec.fixed is None and len(value) > spec.max_length:
        raise InvalidInput(
            N_("GS1 field (%(ai)s) is longer than %(length)s characters."), ai=ai, length=spec.max_length
        )
    if spec.kind == "alnum":
        if _CSET82.fullmatch(value) is None:
            raise InvalidInput(N_("GS1 field (%(ai)s) holds characters a GS1 barcode may not carry."), ai=ai)
    elif not _is_digits(value):
        raise InvalidInput(N_("GS1 field (%(ai)s) must be digits only."), ai=ai)
    if spec.kind == "gtin" and int(value[-1]) != gs1_check_digit(value[:-1]):
        raise InvalidInput(
            N_("The check digit in GS1 field (%(ai)s) is wrong: %(code)s should end in %(digit)s."),
            ai=ai,
            code=value,
            digit=gs1_check_digit(value[:-1]),
        )
    return spec


def _strip_scan(data: object) -> str:
    """Common refusals for anything a scanner or a cashier sends: not text, NUL bytes, too long, empty."""
    if not isinstance(data, str):
        raise InvalidInput(N_("A barcode must be text."))
    if len(data) > MAX_SCAN_LENGTH:
        raise InvalidInput(N_("The barcode is longer than %(limit)s characters."), limit=MAX_SCAN_LENGTH)
    if "\x00" in data:
        raise InvalidInput(N_("The barcode contains a NUL character."))
    data = data.strip(" \t\r\n")
    if not data:
        raise InvalidInput(N_("The barcode is empty."))
    return data


def _split_raw(data: str) -> list[tuple[str, str]]:
    """Element string with FNC1 as GS: predefined-length fields run on, variable ones end at GS or the end."""
    elements: list[tuple[str, str]] = []
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == GS:  # leading FNC1, a separator after a fixed field, or a doubled one: harmless
            pos += 1
            continue
        ai = next((data[pos : pos + n] for n in (2, 3, 4) if data[pos : pos + n] in _AIS), None)
        if ai is None:
            raise InvalidInput(
                N_("The GS1 barcode has an unknown application identifier (%(ai)s)."),
                ai=_shown(data[pos : pos + 4].split(GS)[0], 4),
            )
        pos += len(ai)
        spec = _AIS[ai]
        if spec.fixed is not None:
            value = data[pos : pos + spec.fixed].split(GS)[0]
        else:
            stop = data.find(GS, pos)
            value = data[pos : stop if stop >= 0 else end]
        pos += len(value)
        elements.append((ai, value))
    return elements


def _split_hri(data: str) -> list[tuple[str, str]]:
    """Human-readable form: (01)08991234567891(17)270131(10)LOT42, spaces allowed around the parts."""
    elements: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        match = _HRI_ELEMENT.match(data, pos)
        if match is None:
            raise InvalidInput(N_("The GS1 text is not of the form (AI)value(AI)value."))
        elements.append((match.group("ai"), match.group("value").strip(" ")))
        pos = match.end()
    return elements


def parse_gs1(data: str, today: dt.date | None = None) -> Gs1Data:
    """Read a GS1 element string as a scanner sends it (optional ]C1/]d2/]Q3/]e0/]J1, FNC1 as GS) or as (AI)value text.

    Two-digit years are placed by GS1's rule around `today` (default: today). Unknown AIs, cut-short data, bad dates,
    over-long fields, wrong check digits (AI 00, 01, 02) and conflicting repeats raise InvalidInput naming the AI.
    A parenthesised value may not itself contain "(".
    """
    data = _strip_scan(data)
    today = today or dt.date.today()
    if data.startswith("]"):
        symbology = data[:3]
        if symbology not in GS1_SYMBOLOGY_IDS:
            raise InvalidInput(
                N_("The scanner sent symbology %(id)s, which does not carry GS1 data."), id=_shown(symbology, 3)
            )
        data = data[3:]
    if data.lstrip(" ").startswith("("):
        if GS in data:
            raise InvalidInput(N_("The GS1 text is not of the form (AI)value(AI)value."))
        elements = _split_hri(data)
    else:
        elements = _split_raw(data)
    if not elements:
        raise InvalidInput(N_("The GS1 barcode is empty."))
    raw: dict[str, str] = {}
    for ai, value in elements:
        _check_element(ai, value)
        if raw.get(ai, value) != value:
            raise InvalidInput(N_("GS1 field (%(ai)s) appears twice with different values."), ai=ai)
        raw[ai] = value
    return _gs1_data(raw, today)


def _gs1_data(raw: dict[str, str], today: dt.date) -> Gs1Data:
    def date(ai: str) -> dt.date | None:
        return _gs1_date(ai, raw[ai], today) if ai in raw else None

    for ai in raw:  # every date is checked, also the ones without a field of their own (12, 13, 16)
        if _AIS[ai].kind == "date":
            date(ai)
    weights = [ai for ai in raw if ai.startswith("310")]
    if len(weights) > 1:
        raise InvalidInput(N_("The GS1 barcode gives the net weight twice."))
    count = raw.get("30", raw.get("37"))
    return Gs1Data(
        gtin=raw.get("01"),
        lot=raw.get("10"),
        expiry=date("17"),
        best_before=date("15"),
        production_date=date("11"),
        serial=raw.get("21"),
        count=int(count) if count is not None else None,
        net_weight_kg=Decimal(int(raw[weights[0]])).scaleb(-_AIS[weights[0]].decimals) if weights else None,
        sscc=raw.get("00"),
        raw_ais=dict(raw),
    )


def format_gs1(elements: Mapping[str, str], human_readable: bool = False) -> str:
    """Build an element string (no symbology identifier; GS after each variable field but the last) for labels.

    With `human_readable`, the (AI)value text printed under the symbol. Values are checked as `parse_gs1` would.
    """
    parts: list[str] = []
    items = list(elements.items())
    if not items:
        raise InvalidInput(N_("The GS1 barcode is empty."))
    for index, (ai, value) in enumerate(items):
        spec = _check_element(ai, value)
        if human_readable:
            if "(" in value:
                raise InvalidInput(N_("GS1 field (%(ai)s) cannot be printed with a parenthesis in it."), ai=ai)
            parts.append(f"({ai}){value}")
        else:
            last = index == len(items) - 1
            parts.append(ai + value + ("" if spec.fixed is not None or last else GS))
    text = "".join(parts)
    parse_gs1(text)  # the same checks a scan gets: length, dates, repeated weights
    return text


# --- in-store codes for items without a barcode -------------------------------------------------------------------


def _check_instore_prefix(prefix: str) -> None:
    if (
        not isinstance(prefix, str)
        or not _is_digits(prefix)
        or not prefix.startswith("2")
        or not 2 <= len(prefix) <= 11
    ):
        raise ValueError(f"an in-store prefix is 2 to 11 digits within GS1's 20-29 range, not {prefix!r}")


def instore_ean13(prefix: str, number: int) -> str:
    """An EAN-13 in GS1's restricted-circulation range 20-29: prefix, `number` zero-padded, check digit.

    The prefix must differ from the prefixes of the configured variable-measure rules (21 and 22 by default), or a
    scale label and an item code could be mistaken for each other; `next_free_instore` enforces it.
    """
    _check_instore_prefix(prefix)
    width = 12 - len(prefix)
    if type(number) is not int or not 0 <= number < 10**width:
        raise ValueError(f"in-store number {number!r} does not fit in {width} digits after prefix {prefix}")
    return _with_check_digit(prefix + str(number).zfill(width))


def next_free_instore(
    existing: Iterable[str] | Callable[[str], bool],
    prefix: str = DEFAULT_INSTORE_PREFIX,
    start: int = 1,
    rules: Sequence[MeasureRule] = DEFAULT_RULES,
) -> str:
    """The first in-store EAN-13 from `start` on that is not taken.

    `existing` is the codes in use, or a callable answering "is this code taken?" (a database check; pass a `start`
    near the highest number issued, since every taken code costs one call). A prefix that overlaps a prefix of
    `rules` is refused with ValueError.
    """
    _check_instore_prefix(prefix)
    for rule in rules:
        if prefix.startswith(rule.prefix) or rule.prefix.startswith(prefix):
            raise ValueError(f"prefix {prefix} is used by the variable-measure rule {rule.pattern}")
    if isinstance(existing, str):
        raise TypeError("existing is a collection of codes or a callable, not one code")
    if callable(existing):
        taken: Callable[[str], bool] = existing
    else:
        used = {code.strip() for code in existing}
        used |= {code.zfill(14) for code in used if _is_digits(code)}

        def taken(code: str) -> bool:
            return code in used or code.zfill(14) in used

    limit = 10 ** (12 - len(prefix))
    for number in range(max(start, 0), limit):
        code = instore_ean13(prefix, number)
        if not taken(code):
            return code
    raise ValueError(f"no free in-store code left after {start} with prefix {prefix}")


# --- the till's dispatcher ----------------------------------------------------------------------------------------

ScanKind = Literal["gtin", "variable_measure", "gs1", "internal"]


@dataclass(frozen=True)
class ScannedCode:
    """What the till scanned: `kind` and, for it, `gtin`, `measure` or `gs1`; `code` is the input cleaned up."""

    kind: ScanKind
    code: str
    gtin: str | None = None
    measure: VariableMeasure | None = None
    gs1: Gs1Data | None = None

    @property
    def lookup_code(self) -> str | None:
        """The code to find the product by: the GTIN, the scale item's base code, AI (01), or the shop's own code."""
        if self.kind == "gtin":
            return self.gtin
        if self.kind == "variable_measure":
            return self.measure.item_code if self.measure else None
        if self.kind == "gs1":
            return self.gs1.gtin if self.gs1 else None
        return self.code

    @property
    def gtin14(self) -> str | None:
        """The 14-digit GTIN of the product, for comparing with stored barcodes of any length; None if there is none."""
        code = self.lookup_code
        return code.zfill(14) if code and self.kind != "internal" else None


def classify(code: str, rules: Sequence[MeasureRule] = DEFAULT_RULES, today: dt.date | None = None) -> ScannedCode:
    """Decide what a scan or a typed code is, and parse it.

    GS1 element string: starts with a GS1 symbology identifier or "(", or contains GS; also a string that starts
    with "01" and 14 more digits, goes on, and parses as GS1 (a scanner that sends neither identifier nor FNC1).
    Variable measure: 13 digits with a rule's prefix. GTIN: 8, 12, 13 or 14 digits, check digit verified (a wrong
    one is InvalidInput, never a fallback). Internal: a shop's own code of ASCII letters, digits and dashes, at most
    40 characters. Anything else is InvalidInput. A ]E0/]E4 (EAN/UPC) identifier in front is dropped.
    """
    text = _strip_scan(code)
    if text[:3] in EAN_SYMBOLOGY_IDS:
        digits = text[3:]
        measure = match_variable_measure(digits, rules)
        if measure is not None:
            return ScannedCode(kind="variable_measure", code=digits, measure=measure)
        return ScannedCode(kind="gtin", code=digits, gtin=validate_gtin(digits))
    if text.startswith(("]", "(")) or GS in text:
        return ScannedCode(kind="gs1", code=text, gs1=parse_gs1(text, today))
    if _is_digits(text):
        measure = match_variable_measure(text, rules)
        if measure is not None:
            return ScannedCode(kind="variable_measure", code=text, measure=measure)
        if len(text) in GTIN_LENGTHS:
            return ScannedCode(kind="gtin", code=text, gtin=validate_gtin(text))
    if len(text) > 16 and text.startswith("01") and _is_digits(text[:16]):
        try:
            return ScannedCode(kind="gs1", code=text, gs1=parse_gs1(text, today))
        except InvalidInput:
            pass  # not GS1 after all: a long code of the shop's own, judged below
    if len(text) <= MAX_INTERNAL_LENGTH and _INTERNAL.fullmatch(text):
        return ScannedCode(kind="internal", code=text)
    raise InvalidInput(
        N_("%(code)s is not a barcode: a shop code has only letters, digits and dashes, at most %(limit)s."),
        code=_shown(text),
        limit=MAX_INTERNAL_LENGTH,
    )
