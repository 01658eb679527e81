"""Rupiah and quantities the Indonesian way: Rp 12.500 out; 1.000 and 1,5 in. Money is whole rupiah (int)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pos.errors import N_, InvalidInput

MAX_INPUT_LENGTH = 32
# Indonesian numerals: optional sign, digits grouped by '.' in threes (or not grouped), optional ',' decimals.
_NUMBER = re.compile(r"^(?P<sign>[-+]?)(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+))?$", re.ASCII)


def format_number(value: int | Decimal, places: int | None = None) -> str:
    """1234567.5 -> '1.234.567,5'. `places` fixes the decimals; None keeps the value's own (trailing zeros cut)."""
    d = Decimal(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places))
    sign = "-" if d < 0 else ""
    d = abs(d)
    text = format(d, "f")
    whole, _, frac = text.partition(".")
    if places is None:
        frac = frac.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = ".".join(groups)
    return f"{sign}{out},{frac}" if frac else f"{sign}{out}"


def format_rupiah(amount: int, symbol: str = "Rp") -> str:
    """12500 -> 'Rp 12.500'; -12500 -> '-Rp 12.500'."""
    if isinstance(amount, float):
        raise TypeError("money is whole rupiah (int), never float")
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol} {format_number(abs(amount))}"


def parse_decimal(text: str) -> Decimal:
    """Read a number typed the Indonesian way: '1.000' is a thousand, '1,5' is one and a half."""
    if not isinstance(text, str):
        raise InvalidInput(N_("Please enter a number."))
    cleaned = text.strip()
    for space in ("\u00a0", "\u2009", "\u202f", " "):  # no-break, thin and narrow spaces group thousands too
        cleaned = cleaned.replace(space, "")
    if cleaned.lower().startswith("rp"):
        cleaned = cleaned[2:]
        if cleaned.startswith("."):  # "Rp. 5.000"
            cleaned = cleaned[1:]
    if not cleaned:
        raise InvalidInput(N_("Please enter a number."))
    if len(cleaned) > MAX_INPUT_LENGTH:
        raise InvalidInput(N_("That number is too long."))
    match = _NUMBER.match(cleaned)
    if not match:
        raise InvalidInput(
            N_("'%(text)s' is not a number. Write thousands with a dot and decimals with a comma, e.g. 1.000 or 1,5."),
            text=text.strip()[:MAX_INPUT_LENGTH],
        )
    digits = match["int"].replace(".", "")
    frac = match["frac"] or ""
    try:
        value = Decimal(f"{digits}.{frac}" if frac else digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise InvalidInput(N_("Please enter a number.")) from None
    return -value if match["sign"] == "-" else value


_COMMA_THOUSANDS = re.compile(r"\d,\d{3}(?!\d)", re.ASCII)


def parse_rupiah(text: str) -> int:
    """Read a whole-rupiah amount: 'Rp 12.500' or '12500' -> 12500. Cents are refused, and so is '1,000': in a
    whole-rupiah field that is a thousand written the English way, not Rp 1. At most a trillion rupiah."""
    if isinstance(text, str) and "," in text:
        whole, _, fraction = text.strip().rpartition(",")
        if fraction in ("-", "0", "00"):  # "Rp 5.000,-", "12.500,00": no cents
            text = whole
        elif _COMMA_THOUSANDS.search(text) or (fraction.isdigit() and set(fraction) == {"0"}):
            raise InvalidInput(N_("'%(text)s': write thousands with a dot, e.g. 1.000 (a comma starts the cents)."),
                               text=text.strip()[:MAX_INPUT_LENGTH])
    value = parse_decimal(text)
    if value != value.to_integral_value():
        raise InvalidInput(N_("Amounts are in whole rupiah, without cents."))
    if abs(value) > MAX_RUPIAH:
        raise InvalidInput(N_("That amount is too large."))
    return int(value)


def parse_quantity(text: str, places: int = 3) -> Decimal:
    """Read a quantity ('1,5' kg); refuses zero, negatives and more than `places` decimals."""
    value = parse_decimal(text)
    if value <= 0:
        raise InvalidInput(N_("The quantity must be more than zero."))
    if value >= MAX_QUANTITY:  # before any rounding: 10^31 has more digits than the decimal context holds
        raise InvalidInput(N_("That quantity is too large."))
    if -value.normalize().as_tuple().exponent > places:  # "1,5000" is 1,5: trailing zeros are not decimals
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=places)
    value = value.normalize()
    if value.as_tuple().exponent > 0:  # 1E+2 back to 100
        value = value.quantize(Decimal(1))
    return value


# --- JSON values (the API and the till page): machine numbers, not typed text ---------------------------------

_MACHINE_DECIMAL = re.compile(r"^\d{1,12}(?:\.\d{1,3})?$", re.ASCII)
MAX_RUPIAH = 10**12
MAX_QUANTITY = Decimal(10**6)


def rupiah_from_json(value: object, *, allow_zero: bool = True) -> int:
    """A JSON amount: a whole number (or its digits as a string), 0 to a trillion rupiah. Floats, booleans,
    NaN, exponents and cents are refused."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 13:
        value = int(value)
    if type(value) is not int:
        raise InvalidInput(N_("Amounts are in whole rupiah, without cents."))
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(N_("The amount must be more than zero."))
    if value > MAX_RUPIAH:
        raise InvalidInput(N_("That amount is too large."))
    return value


def quantity_from_json(value: object, places: int = 3) -> Decimal:
    """A JSON quantity: a whole number, or a decimal string with a point ("1.5", "0.250"); more than zero, at most
    `places` decimals, below a million. (Typed text the Indonesian way goes through parse_quantity.)"""
    if type(value) is int:
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidInput(N_("Please enter a number."))
    if not _MACHINE_DECIMAL.match(text):
        raise InvalidInput(N_("Please enter a number."))
    quantity = Decimal(text)
    if quantity <= 0:
        raise InvalidInput(N_("The quantity must be more than zero."))
    if -quantity.as_tuple().exponent > places:
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=places)
    if quantity >= MAX_QUANTITY:
        raise InvalidInput(N_("That quantity is too large."))
    return quantity
