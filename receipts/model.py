"""Receipts as plain, validated data: sales, returns, shift X/Z reports, savings/kasbon slips and test pages.

Money is whole rupiah (int) everywhere; quantities are Decimal. Values that do not add up are refused with ValueError
(they are programming errors of the caller, never a customer's input). Builders take plain dicts (see `sale_receipt`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from receipts.profiles import PrinterProfile, get_profile

KINDS = ("sale", "return", "shift_x", "shift_z", "slip", "test")
TAX_CODES = ("exempt", "standard", "luxury")
SLIP_KINDS = ("deposit", "withdrawal", "kasbon_repayment")
CASH = "cash"  # the payment method whose overpayment is given back as change and counted in the drawer
QRIS = "qris"
KASBON = "kasbon"
METHOD_LABELS = {CASH: "Tunai", QRIS: "QRIS", "transfer": "Transfer", "debit": "Kartu debit", KASBON: "Kasbon"}
DEFAULT_TIMEZONE = "Asia/Makassar"
MAX_NUMBER_LENGTH = 24  # receipt numbers become Code128 barcodes; 24 characters still fit 58 mm paper
MAX_TEXT_LENGTH = 200
MAX_QR_LENGTH = 512
MAX_ROUNDING = 999  # cash rounding to Rp 100, 500 or 1.000 never moves the total by a thousand or more
MAX_QUANTITY_PLACES = 3

_METHOD = re.compile(r"[a-z][a-z0-9_]{0,19}")
_WHITESPACE = re.compile(r"\s+")


# --- field checks ---------------------------------------------------------------------------------------------------


def clean_text(value: object, what: str, *, required: bool = True, limit: int = MAX_TEXT_LENGTH) -> str:
    """Text for one printed line: control characters (ESC, newlines...) become spaces, runs of spaces collapse.

    A name that smuggled an ESC/POS command or a line break into the database must not reach the printer as one.
    """
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    text = "".join(" " if unicodedata.category(ch)[0] in ("C", "Z") else ch for ch in value)
    text = _WHITESPACE.sub(" ", text).strip()
    if required and not text:
        raise ValueError(f"{what} is empty")
    if len(text) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return text


def _optional_text(value: object, what: str, limit: int = MAX_TEXT_LENGTH) -> str | None:
    if value is None:
        return None
    return clean_text(value, what, limit=limit) or None


def _ascii_code(value: object, what: str, *, limit: int = MAX_NUMBER_LENGTH) -> str:
    """A number that is printed as a barcode: printable ASCII without spaces at the ends."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(f"{what} must be non-empty text without surrounding spaces")
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    if not all(" " <= ch <= "~" for ch in value):
        raise ValueError(f"{what} must be printable ASCII (it is printed as a barcode)")
    return value


def money(value: object, what: str, *, negative: bool = False) -> int:
    """Whole rupiah: an int (never a float, Decimal or bool), not negative unless allowed."""
    if type(value) is not int:
        raise ValueError(f"{what} must be whole rupiah as int, not {type(value).__name__} {value!r}")
    if value < 0 and not negative:
        raise ValueError(f"{what} must not be negative ({value})")
    return value


def _count(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{what} must be a whole number, not negative")
    return value


def quantity(value: object, what: str = "quantity") -> Decimal:
    if type(value) is int:
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise ValueError(f"{what} must be a Decimal (or int), not {type(value).__name__} {value!r}")
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{what} must be more than zero, not {value}")
    if value != value.quantize(Decimal(1).scaleb(-MAX_QUANTITY_PLACES)):
        raise ValueError(f"{what} has more than {MAX_QUANTITY_PLACES} decimals: {value}")
    return value


def aware(value: object, what: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} is not an ISO date and time: {value!r}") from None
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime: receipts need aware times")
    return value


def _date(value: object, what: str) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} is not an ISO date: {value!r}") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"{what} must be a date")
    return value


def _timezone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("timezone must be an IANA name such as Asia/Makassar")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}") from None
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be True or False")
    return value


def line_gross(qty: Decimal, unit_price: int) -> int:
    """Quantity times price, rounded to the rupiah half up (the rule of every line total)."""
    return int((qty * unit_price).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- the parts of a receipt -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    cooperative_name: str
    outlet_name: str = ""
    address_lines: tuple[str, ...] = ()
    npwp: str = ""
    pkp: bool = False
    note: str = ""  # the line under the header ("Terima kasih telah berbelanja ...")

    def __post_init__(self) -> None:
        object.__setattr__(self, "cooperative_name", clean_text(self.cooperative_name, "cooperative name"))
        object.__setattr__(self, "outlet_name", clean_text(self.outlet_name, "outlet name", required=False))
        lines = tuple(clean_text(line, "address line") for line in _sequence(self.address_lines, "address lines"))
        object.__setattr__(self, "address_lines", lines)
        object.__setattr__(self, "npwp", clean_text(self.npwp, "NPWP", required=False, limit=40))
        object.__setattr__(self, "pkp", _flag(self.pkp, "pkp"))
        object.__setattr__(self, "note", clean_text(self.note, "header note", required=False))

    @property
    def shows_npwp(self) -> bool:
        return self.pkp and bool(self.npwp)


@dataclass(frozen=True)
class ReceiptLine:
    """One sold (or returned) line. total = quantity x unit_price (rounded half up) - discount."""

    name: str
    quantity: Decimal
    unit: str
    unit_price: int
    total: int
    discount: int = 0
    tax_code: str = "standard"
    batch: str | None = None
    expiry: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_text(self.name, "line name"))
        object.__setattr__(self, "quantity", quantity(self.quantity, f"quantity of {self.name!r}"))
        object.__setattr__(self, "unit", clean_text(self.unit, f"unit of {self.name!r}", limit=20))
        money(self.unit_price, f"unit price of {self.name!r}")
        money(self.discount, f"discount of {self.name!r}")
        if self.tax_code not in TAX_CODES:
            raise ValueError(f"tax code of {self.name!r} must be one of {', '.join(TAX_CODES)}, not {self.tax_code!r}")
        object.__setattr__(self, "batch", _optional_text(self.batch, f"batch of {self.name!r}", limit=40))
        if self.expiry is not None:
            object.__setattr__(self, "expiry", _date(self.expiry, f"expiry of {self.name!r}"))
        gross = self.gross
        if self.discount > gross:
            raise ValueError(f"discount of {self.name!r} ({self.discount}) is more than the line ({gross})")
        money(self.total, f"total of {self.name!r}")
        if self.total != gross - self.discount:
            raise ValueError(
                f"total of {self.name!r} does not add up: {self.quantity} x {self.unit_price} = {gross}, "
                f"less discount {self.discount} is {gross - self.discount}, not {self.total}"
            )

    @property
    def gross(self) -> int:
        return line_gross(self.quantity, self.unit_price)

    @property
    def exempt(self) -> bool:
        return self.tax_code == "exempt"


@dataclass(frozen=True)
class Totals:
    """subtotal (sum of line totals) - discount (+ ppn when prices exclude it) + rounding = total."""

    subtotal: int
    total: int
    discount: int = 0
    dpp: int = 0
    ppn: int = 0
    tax_inclusive: bool = True
    rounding: int = 0

    def __post_init__(self) -> None:
        for name in ("subtotal", "total", "discount", "dpp", "ppn"):
            money(getattr(self, name), f"totals.{name}")
        money(self.rounding, "totals.rounding", negative=True)
        _flag(self.tax_inclusive, "totals.tax_inclusive")
        if abs(self.rounding) > MAX_ROUNDING:
            raise ValueError(f"rounding of {self.rounding} is more than cash rounding ever is")
        if self.discount > self.subtotal:
            raise ValueError(f"discount ({self.discount}) is more than the subtotal ({self.subtotal})")
        expected = self.subtotal - self.discount + (0 if self.tax_inclusive else self.ppn) + self.rounding
        if self.total != expected:
            raise ValueError(f"totals do not add up: expected total {expected}, got {self.total}")


@dataclass(frozen=True)
class Payment:
    """A tender: `method` is a code ("cash", "qris", "transfer", "kasbon"...), `label` what the receipt prints."""

    method: str
    label: str
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not _METHOD.fullmatch(self.method):
            raise ValueError(f"payment method must be a short lowercase code, not {self.method!r}")
        object.__setattr__(self, "label", clean_text(self.label, "payment label", limit=40))
        money(self.amount, f"{self.method} payment")
        if self.amount == 0:
            raise ValueError(f"{self.method} payment of zero")


@dataclass(frozen=True)
class MethodTotal:
    """One row of a shift report: what a payment method took in (or paid back), net of change."""

    method: str
    label: str
    amount: int
    count: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not _METHOD.fullmatch(self.method):
            raise ValueError(f"payment method must be a short lowercase code, not {self.method!r}")
        object.__setattr__(self, "label", clean_text(self.label, "method label", limit=40))
        money(self.amount, f"{self.method} total")
        _count(self.count, f"{self.method} count")


@dataclass(frozen=True)
class ShiftSummary:
    """X (running) or Z (final) report of one shift.

    expected_cash = opening_float + cash sales - cash refunds + cash_in - cash_out;
    difference = counted_cash - expected_cash (negative: cash short).
    """

    final: bool
    shift_number: str
    opened_at: dt.datetime
    opening_float: int
    expected_cash: int
    sales: tuple[MethodTotal, ...] = ()
    refunds: tuple[MethodTotal, ...] = ()
    sale_count: int = 0
    refund_count: int = 0
    cash_in: int = 0
    cash_out: int = 0
    closed_at: dt.datetime | None = None
    counted_cash: int | None = None
    difference: int | None = None

    def __post_init__(self) -> None:
        _flag(self.final, "final")
        object.__setattr__(self, "shift_number", clean_text(self.shift_number, "shift number", limit=40))
        object.__setattr__(self, "opened_at", aware(self.opened_at, "opened_at"))
        for name in ("opening_float", "cash_in", "cash_out"):
            money(getattr(self, name), name)
        money(self.expected_cash, "expected_cash", negative=True)
        _count(self.sale_count, "sale_count")
        _count(self.refund_count, "refund_count")
        object.__setattr__(self, "sales", _typed_tuple(self.sales, MethodTotal, "sales"))
        object.__setattr__(self, "refunds", _typed_tuple(self.refunds, MethodTotal, "refunds"))
        for rows, what in ((self.sales, "sales"), (self.refunds, "refunds")):
            methods = [row.method for row in rows]
            if len(set(methods)) != len(methods):
                raise ValueError(f"a payment method appears twice in {what}")
        expected = self.opening_float + self.cash_sales - self.cash_refunds + self.cash_in - self.cash_out
        if self.expected_cash != expected:
            raise ValueError(f"expected cash does not add up: {expected}, not {self.expected_cash}")
        if self.closed_at is not None:
            object.__setattr__(self, "closed_at", aware(self.closed_at, "closed_at"))
            if self.closed_at < self.opened_at:
                raise ValueError("the shift closed before it opened")
        if self.final and self.closed_at is None:
            raise ValueError("a Z report needs closed_at")
        if self.final and self.counted_cash is None:
            raise ValueError("a Z report needs the counted cash")
        if self.counted_cash is None:
            if self.difference is not None:
                raise ValueError("a difference without counted cash")
            return
        money(self.counted_cash, "counted_cash")
        difference = self.counted_cash - self.expected_cash
        if self.difference is None:
            object.__setattr__(self, "difference", difference)
        elif money(self.difference, "difference", negative=True) != difference:
            raise ValueError(f"difference does not add up: counted - expected = {difference}, not {self.difference}")

    @property
    def cash_sales(self) -> int:
        return sum(row.amount for row in self.sales if row.method == CASH)

    @property
    def cash_refunds(self) -> int:
        return sum(row.amount for row in self.refunds if row.method == CASH)

    @property
    def total_sales(self) -> int:
        return sum(row.amount for row in self.sales)

    @property
    def total_refunds(self) -> int:
        return sum(row.amount for row in self.refunds)


@dataclass(frozen=True)
class Slip:
    """A savings deposit or withdrawal, or a kasbon repayment, at the cooperative's cash desk."""

    kind: str
    member_number: str
    member_name: str
    account: str  # what moved: "Simpanan sukarela", "Simpanan wajib", "Kasbon"...
    amount: int
    balance_after: int  # the savings balance, or the kasbon still owed, after this slip
    method: str = "Tunai"
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SLIP_KINDS:
            raise ValueError(f"slip kind must be one of {', '.join(SLIP_KINDS)}, not {self.kind!r}")
        object.__setattr__(self, "member_number", _ascii_code(self.member_number, "member number", limit=40))
        object.__setattr__(self, "member_name", clean_text(self.member_name, "member name"))
        object.__setattr__(self, "account", clean_text(self.account, "account", limit=60))
        money(self.amount, "slip amount")
        if self.amount == 0:
            raise ValueError("a slip of zero rupiah")
        money(self.balance_after, "balance after")
        object.__setattr__(self, "method", clean_text(self.method, "slip method", limit=40))
        object.__setattr__(self, "note", clean_text(self.note, "slip note", required=False))


@dataclass(frozen=True)
class TestInfo:
    printer_name: str
    profile: PrinterProfile

    def __post_init__(self) -> None:
        object.__setattr__(self, "printer_name", clean_text(self.printer_name, "printer name", limit=60))
        object.__setattr__(self, "profile", get_profile(self.profile))


@dataclass(frozen=True)
class Receipt:
    """Everything one printed slip of paper says. Check `kind` first; the parts that kind needs are required."""

    kind: str
    number: str
    printed_at: dt.datetime
    timezone: str = DEFAULT_TIMEZONE
    header: Header | None = None
    till_code: str = ""
    cashier_name: str = ""
    member_number: str | None = None
    member_name: str | None = None
    lines: tuple[ReceiptLine, ...] = ()
    totals: Totals | None = None
    payments: tuple[Payment, ...] = ()
    change: int = 0
    qris_payload: str | None = None
    footer: tuple[str, ...] = ()
    copy: bool = False
    original_number: str | None = None
    shift: ShiftSummary | None = None
    slip: Slip | None = None
    test: TestInfo | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"receipt kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        _ascii_code(self.number, "receipt number")
        object.__setattr__(self, "printed_at", aware(self.printed_at, "printed_at"))
        _timezone(self.timezone)
        if self.header is not None and not isinstance(self.header, Header):
            raise ValueError("header must be a Header")
        if self.header is None and self.kind != "test":
            raise ValueError(f"a {self.kind} receipt needs a header")
        object.__setattr__(self, "till_code", clean_text(self.till_code, "till code", required=False, limit=40))
        object.__setattr__(self, "cashier_name", clean_text(self.cashier_name, "cashier name", required=False))
        if self.member_number is not None:
            _ascii_code(self.member_number, "member number", limit=40)
        object.__setattr__(self, "member_name", _optional_text(self.member_name, "member name"))
        object.__setattr__(self, "lines", _typed_tuple(self.lines, ReceiptLine, "lines"))
        object.__setattr__(self, "payments", _typed_tuple(self.payments, Payment, "payments"))
        footer = tuple(clean_text(line, "footer line", required=False) for line in _sequence(self.footer, "footer"))
        object.__setattr__(self, "footer", tuple(line for line in footer if line))
        money(self.change, "change")
        _flag(self.copy, "copy")
        if self.qris_payload is not None:
            _ascii_code(self.qris_payload, "QRIS payload", limit=MAX_QR_LENGTH)
        if self.original_number is not None:
            _ascii_code(self.original_number, "original receipt number")
        {
            "sale": self._check_sale,
            "return": self._check_return,
            "shift_x": self._check_shift,
            "shift_z": self._check_shift,
            "slip": self._check_slip,
            "test": self._check_test,
        }[self.kind]()

    # --- per kind ---

    def _check_trade(self) -> None:
        if not self.lines:
            raise ValueError(f"a {self.kind} receipt needs at least one line")
        if not isinstance(self.totals, Totals):
            raise ValueError(f"a {self.kind} receipt needs totals")
        if self.cashier_name == "":
            raise ValueError("the cashier's name is empty")
        subtotal = sum(line.total for line in self.lines)
        if self.totals.subtotal != subtotal:
            raise ValueError(f"subtotal does not add up: the lines make {subtotal}, not {self.totals.subtotal}")
        assert self.header is not None
        if not self.header.pkp and (self.totals.ppn or self.totals.dpp):
            raise ValueError("a cooperative that is not PKP charges no PPN: dpp and ppn must be 0")
        taxable = sum(line.total for line in self.lines if not line.exempt)
        if self.totals.tax_inclusive and self.totals.dpp + self.totals.ppn > taxable:
            raise ValueError(f"DPP + PPN ({self.totals.dpp + self.totals.ppn}) is more than the taxable lines")
        if not self.totals.tax_inclusive and self.totals.dpp > taxable:
            raise ValueError(f"DPP ({self.totals.dpp}) is more than the taxable lines ({taxable})")
        for what in ("shift", "slip", "test"):
            if getattr(self, what) is not None:
                raise ValueError(f"a {self.kind} receipt has no {what}")

    def _check_sale(self) -> None:
        self._check_trade()
        assert self.totals is not None
        paid = sum(payment.amount for payment in self.payments)
        if paid - self.change != self.totals.total:
            raise ValueError(
                f"payments do not add up: paid {paid} - change {self.change} = {paid - self.change}, "
                f"but the total is {self.totals.total}"
            )
        cash = sum(payment.amount for payment in self.payments if payment.method == CASH)
        if self.change > cash:
            raise ValueError(f"change ({self.change}) is more than the cash paid ({cash})")
        if self.qris_payload is not None and not any(payment.method == QRIS for payment in self.payments):
            raise ValueError("a QRIS code without a QRIS payment")
        if any(payment.method == KASBON for payment in self.payments) and self.member_number is None:
            raise ValueError("kasbon is a member's credit: the receipt needs the member number")
        if self.original_number is not None:
            raise ValueError("a sale has no original receipt number")

    def _check_return(self) -> None:
        self._check_trade()
        assert self.totals is not None
        if self.original_number is None:
            raise ValueError("a return needs the number of the original receipt")
        if self.change:
            raise ValueError("a return gives no change")
        refunded = sum(payment.amount for payment in self.payments)
        if refunded != self.totals.total:
            raise ValueError(f"refunds do not add up: paid back {refunded}, but the total is {self.totals.total}")
        if self.qris_payload is not None:
            raise ValueError("a return shows no QRIS code")

    def _check_nothing_traded(self) -> None:
        if self.lines or self.totals is not None or self.payments or self.change or self.qris_payload:
            raise ValueError(f"a {self.kind} receipt has no lines, totals or payments")
        if self.original_number is not None:
            raise ValueError(f"a {self.kind} receipt has no original receipt number")
        present = [what for what in ("shift", "slip", "test") if getattr(self, what) is not None]
        wanted = {"shift_x": "shift", "shift_z": "shift", "slip": "slip", "test": "test"}[self.kind]
        if present != [wanted]:
            raise ValueError(f"a {self.kind} receipt needs its {wanted} part and nothing else")

    def _check_shift(self) -> None:
        self._check_nothing_traded()
        assert self.shift is not None
        if not isinstance(self.shift, ShiftSummary):
            raise ValueError("shift must be a ShiftSummary")
        if self.shift.final != (self.kind == "shift_z"):
            raise ValueError("a Z report is the final one, an X report is not")

    def _check_slip(self) -> None:
        self._check_nothing_traded()
        if not isinstance(self.slip, Slip):
            raise ValueError("slip must be a Slip")

    def _check_test(self) -> None:
        self._check_nothing_traded()
        if not isinstance(self.test, TestInfo):
            raise ValueError("test must be a TestInfo")

    # --- derived ---

    @property
    def qris_amount(self) -> int:
        return sum(payment.amount for payment in self.payments if payment.method == QRIS)

    @property
    def savings(self) -> int:
        """What the customer saved: line discounts plus the receipt discount."""
        if self.totals is None:
            return 0
        return sum(line.discount for line in self.lines) + self.totals.discount


def _sequence(value: object, what: str) -> tuple:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValueError(f"{what} must be a list")
    return tuple(value)


def _typed_tuple(value: object, kind: type, what: str) -> tuple:
    items = _sequence(value, what)
    for item in items:
        if not isinstance(item, kind):
            raise ValueError(f"{what} must hold {kind.__name__} values, not {type(item).__name__}")
    return items


# --- builders from plain dicts --------------------------------------------------------------------------------------


class _Fields:
    """Reads a dict strictly: missing required keys and unknown keys (typos) are both ValueErrors."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where} must be a dict, not {type(data).__name__}")
        self.data = data
        self.where = where
        self.used: set[str] = set()

    def req(self, key: str) -> object:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            raise ValueError(f"{self.where} needs {key!r}")
        return self.data[key]

    def opt(self, key: str, default: object = None) -> object:
        self.used.add(key)
        value = self.data.get(key)
        return default if value is None else value

    def done(self) -> None:
        unknown = sorted(str(key) for key in self.data if key not in self.used)
        if unknown:
            raise ValueError(f"{self.where} has unknown keys: {', '.join(unknown)}")


def _header(data: object) -> Header:
    f = _Fields(data, "header")
    header = Header(
        cooperative_name=f.req("cooperative_name"),
        outlet_name=f.opt("outlet_name", ""),
        address_lines=f.opt("address_lines", ()),
        npwp=f.opt("npwp", ""),
        pkp=f.opt("pkp", False),
        note=f.opt("note", ""),
    )
    f.done()
    return header


def _line(data: object, index: int) -> ReceiptLine:
    f = _Fields(data, f"line {index + 1}")
    qty = quantity(f.req("quantity"), f"quantity of line {index + 1}")
    unit_price = money(f.req("unit_price"), f"unit price of line {index + 1}")
    discount = money(f.opt("discount", 0), f"discount of line {index + 1}")
    total = f.opt("total")
    line = ReceiptLine(
        name=f.req("name"),
        quantity=qty,
        unit=f.req("unit"),
        unit_price=unit_price,
        discount=discount,
        total=line_gross(qty, unit_price) - discount if total is None else total,
        tax_code=f.opt("tax_code", "standard"),
        batch=f.opt("batch"),
        expiry=f.opt("expiry"),
    )
    f.done()
    return line


def _payments(data: object, what: str) -> tuple[Payment, ...]:
    payments = []
    for index, item in enumerate(_sequence(data, what)):
        f = _Fields(item, f"{what} {index + 1}")
        method = f.req("method")
        label = f.opt("label") or METHOD_LABELS.get(method, method)
        payments.append(Payment(method=method, label=label, amount=f.req("amount")))
        f.done()
    return tuple(payments)


def _method_totals(data: object, what: str) -> tuple[MethodTotal, ...]:
    rows = []
    for index, item in enumerate(_sequence(data, what)):
        f = _Fields(item, f"{what} {index + 1}")
        method = f.req("method")
        label = f.opt("label") or METHOD_LABELS.get(method, method)
        rows.append(MethodTotal(method=method, label=label, amount=f.req("amount"), count=f.opt("count", 0)))
        f.done()
    return tuple(rows)


def _totals(data: object, lines: tuple[ReceiptLine, ...]) -> Totals:
    f = _Fields(data if data is not None else {}, "totals")
    subtotal = f.opt("subtotal")
    computed_subtotal = sum(line.total for line in lines)
    discount = money(f.opt("discount", 0), "totals.discount")
    ppn = money(f.opt("ppn", 0), "totals.ppn")
    rounding = money(f.opt("rounding", 0), "totals.rounding", negative=True)
    tax_inclusive = _flag(f.opt("tax_inclusive", True), "totals.tax_inclusive")
    base = computed_subtotal if subtotal is None else money(subtotal, "totals.subtotal")
    total = f.opt("total")
    totals = Totals(
        subtotal=base,
        discount=discount,
        dpp=f.opt("dpp", 0),
        ppn=ppn,
        tax_inclusive=tax_inclusive,
        rounding=rounding,
        total=(base - discount + (0 if tax_inclusive else ppn) + rounding) if total is None else total,
    )
    f.done()
    return totals


def _common(f: _Fields) -> dict:
    return {
        "number": f.req("number"),
        "printed_at": f.req("printed_at"),
        "timezone": f.opt("timezone", DEFAULT_TIMEZONE),
        "header": _header(f.req("header")),
        "till_code": f.opt("till_code", ""),
        "cashier_name": f.opt("cashier_name", ""),
        "footer": f.opt("footer", ()),
        "copy": f.opt("copy", False),
    }


def _trade(data: object, kind: str) -> Receipt:
    f = _Fields(data, f"{kind} receipt")
    common = _common(f)
    lines = tuple(_line(item, index) for index, item in enumerate(_sequence(f.req("lines"), "lines")))
    receipt = Receipt(
        kind=kind,
        **common,
        member_number=f.opt("member_number"),
        member_name=f.opt("member_name"),
        lines=lines,
        totals=_totals(f.opt("totals"), lines),
        payments=_payments(f.req("payments"), "payment"),
        change=f.opt("change", 0),
        qris_payload=f.opt("qris_payload") if kind == "sale" else None,
        original_number=f.req("original_number") if kind == "return" else None,
    )
    f.done()
    return receipt


def sale_receipt(data: Mapping) -> Receipt:
    """A sale receipt from a plain dict::

        {
          "header": {"cooperative_name": str, "outlet_name": str, "address_lines": [str], "npwp": str,
                     "pkp": bool, "note": str},
          "number": "TK1-000123",                       # printable ASCII, <= 24 characters (printed as Code128)
          "printed_at": aware datetime (or ISO string with offset), "timezone": "Asia/Makassar",
          "till_code": "TK-1", "cashier_name": "Siti", "member_number": "AGT-00042" | None, "member_name": ...,
          "lines": [{"name", "quantity": Decimal, "unit", "unit_price": int, "discount": int = 0,
                     "total": int (optional, checked), "tax_code": "exempt"|"standard"|"luxury",
                     "batch": str | None, "expiry": date | None}],
          "totals": {"subtotal", "discount", "dpp", "ppn", "tax_inclusive", "rounding", "total"},  # all optional
          "payments": [{"method": "cash"|"qris"|..., "label": optional, "amount": int}],
          "change": int, "qris_payload": str | None, "footer": [str], "copy": bool,
        }

    Omitted line totals, subtotal and total are computed; given ones must add up (ValueError otherwise).
    """
    return _trade(data, "sale")


def return_receipt(data: Mapping) -> Receipt:
    """A return (refund) receipt: the sale shape plus "original_number"; payments are what was paid back."""
    return _trade(data, "return")


def shift_report(data: Mapping, final: bool) -> Receipt:
    """An X (final=False, the shift stays open) or Z (final=True, the shift is closed) report::

    {header, number, printed_at, timezone, till_code, cashier_name, footer,
     "shift_number": str, "opened_at": datetime, "closed_at": datetime (Z),
     "opening_float": int, "sales": [{"method", "label", "amount", "count"}], "sale_count": int,
     "refunds": [{"method", "label", "amount", "count"}], "refund_count": int, "cash_in": int, "cash_out": int,
     "expected_cash": int (optional, checked), "counted_cash": int (Z), "difference": int (optional, checked)}
    """
    final = _flag(final, "final")
    f = _Fields(data, "shift report")
    common = _common(f)
    sales = _method_totals(f.opt("sales", ()), "sales")
    refunds = _method_totals(f.opt("refunds", ()), "refunds")
    opening = money(f.req("opening_float"), "opening_float")
    cash_in = money(f.opt("cash_in", 0), "cash_in")
    cash_out = money(f.opt("cash_out", 0), "cash_out")
    computed = (
        opening
        + sum(row.amount for row in sales if row.method == CASH)
        - sum(row.amount for row in refunds if row.method == CASH)
        + cash_in
        - cash_out
    )
    shift = ShiftSummary(
        final=final,
        shift_number=f.req("shift_number"),
        opened_at=f.req("opened_at"),
        closed_at=f.opt("closed_at"),
        opening_float=opening,
        sales=sales,
        refunds=refunds,
        sale_count=f.opt("sale_count", 0),
        refund_count=f.opt("refund_count", 0),
        cash_in=cash_in,
        cash_out=cash_out,
        expected_cash=f.opt("expected_cash", computed),
        counted_cash=f.opt("counted_cash"),
        difference=f.opt("difference"),
    )
    receipt = Receipt(kind="shift_z" if final else "shift_x", **common, shift=shift)
    f.done()
    return receipt


def slip_receipt(data: Mapping) -> Receipt:
    """A savings deposit/withdrawal or kasbon repayment slip::

    {header, number, printed_at, timezone, till_code, cashier_name, footer, copy,
     "kind": "deposit"|"withdrawal"|"kasbon_repayment", "member_number": str, "member_name": str,
     "account": "Simpanan sukarela", "amount": int, "balance_after": int, "method": "Tunai", "note": str}
    """
    f = _Fields(data, "slip")
    common = _common(f)
    slip = Slip(
        kind=f.req("kind"),
        member_number=f.req("member_number"),
        member_name=f.req("member_name"),
        account=f.req("account"),
        amount=f.req("amount"),
        balance_after=f.req("balance_after"),
        method=f.opt("method", "Tunai"),
        note=f.opt("note", ""),
    )
    receipt = Receipt(kind="slip", **common, member_number=slip.member_number, member_name=slip.member_name, slip=slip)
    f.done()
    return receipt


def test_page(
    printer_name: str,
    profile: str | PrinterProfile,
    *,
    printed_at: dt.datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    header: Mapping | Header | None = None,
) -> Receipt:
    """A page that shows what a printer can do: width ruler, styles, barcode, QR and cut."""
    resolved = get_profile(profile)
    return Receipt(
        kind="test",
        number="UJI-0001",
        printed_at=printed_at if printed_at is not None else dt.datetime.now(dt.UTC),
        timezone=timezone,
        header=header if isinstance(header, Header) or header is None else _header(header),
        test=TestInfo(printer_name=printer_name, profile=resolved),
    )


test_page.__test__ = False  # pytest: a builder, not a test
