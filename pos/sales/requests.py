"""What the till asks for, as plain values: a cart to price, a sale to complete, a return. Built from JSON by
`sale_from_json` and friends, which refuse anything malformed with the field it is about; prices and totals sent
by a client are never read (the server prices every line itself)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid as uuidlib
from dataclasses import asdict, dataclass
from decimal import Decimal

from pos.errors import N_, InvalidInput, PosError
from pos.money import quantity_from_json, rupiah_from_json

MAX_LINES = 200
MAX_PAYMENTS = 6
MAX_CODE = 60
METHODS = ("cash", "qris", "transfer", "debit", "kasbon")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,39}$", re.ASCII)
APPROVAL_CODE_RE = re.compile(r"^[A-Za-z0-9]{4,12}$", re.ASCII)
LINE_FIELDS = {"code", "qty", "unit", "discount", "price_override", "approval", "batch", "batch_reason"}
# What a till may echo back from a quote: accepted and never read (the server prices every line itself).
IGNORED_LINE_FIELDS = {"name", "price", "unit_price", "total", "gross", "net", "ppn", "tier"}
SALE_FIELDS = {"id", "till", "member", "lines", "payments", "discount", "approval", "total", "subtotal", "tax",
               "change"}  # totals a client may send along are never read


@dataclass(frozen=True)
class LineRequest:
    code: str  # barcode (any kind), SKU
    qty: Decimal | None = None  # None: one, or the weight a scale label carries
    unit: str | None = None  # sell in another unit than the code's (karung instead of kg)
    price: int | None = None  # a manager's price for one unit (needs `approval`)
    discount: int = 0  # rupiah off the line (needs `approval`)
    approval: str | None = None
    batch: str | None = None  # a lot chosen instead of FEFO's first (needs `batch_reason`)
    batch_reason: str = ""


@dataclass(frozen=True)
class PaymentRequest:
    method: str
    amount: int  # for cash: what the customer handed over
    reference: str = ""  # transfer reference, debit-card approval code


@dataclass(frozen=True)
class CartRequest:
    till: str
    lines: tuple[LineRequest, ...]
    member: str | None = None  # member number or card code
    discount: int = 0  # off the whole receipt (needs `approval`)
    approval: str | None = None


@dataclass(frozen=True)
class SaleRequest:
    id: str  # the till's UUID of this sale
    cart: CartRequest
    payments: tuple[PaymentRequest, ...]

    def fingerprint(self) -> str:
        """Same content, same fingerprint: a retry matches, another sale under the same id does not."""
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class ReturnLineRequest:
    line: int  # the sale line's position (1, 2, ...)
    qty: Decimal


@dataclass(frozen=True)
class ReturnRequest:
    id: str
    till: str
    lines: tuple[ReturnLineRequest, ...]
    refund: str  # "original" (the way it was paid) or "cash"
    approval: str
    reason: str

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()


def _object(data: object, where: str) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(N_("Send a JSON object.")).at(where)
    return data


def _text(value: object, field: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(N_("This field is required.")).at(field)
        return None
    if not isinstance(value, str) or len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise InvalidInput(N_("This field holds text of at most %(n)d characters."), n=limit).at(field)
    return value.strip()


def _parse(field: str, fn, value):
    try:
        return fn(value)
    except PosError as exc:
        raise exc.at(field) from None


def parse_uuid(value: object, field: str = "id") -> str:
    if not isinstance(value, str) or len(value) > 36:
        raise InvalidInput(N_("The sale id is a UUID made by the till.")).at(field)
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        raise InvalidInput(N_("The sale id is a UUID made by the till.")).at(field) from None


def line_from_json(data: object, index: int) -> LineRequest:
    where = f"lines[{index}]"
    data = _object(data, where)
    unknown = set(data) - LINE_FIELDS - IGNORED_LINE_FIELDS
    if unknown:
        raise InvalidInput(N_("Unknown field %(name)s."), name=sorted(unknown)[0][:30]).at(where)
    qty = data.get("qty")
    price = data.get("price_override")
    return LineRequest(
        code=_text(data.get("code"), f"{where}.code", MAX_CODE),
        qty=None if qty is None else _parse(f"{where}.qty", quantity_from_json, qty),
        unit=_text(data.get("unit"), f"{where}.unit", 40, required=False),
        price=None if price is None else _parse(f"{where}.price_override", rupiah_from_json, price),
        discount=_parse(f"{where}.discount", rupiah_from_json, data.get("discount") or 0),
        approval=_text(data.get("approval"), f"{where}.approval", 200, required=False),
        batch=_text(data.get("batch"), f"{where}.batch", 20, required=False),
        batch_reason=_text(data.get("batch_reason"), f"{where}.batch_reason", 250, required=False) or "",
    )


def cart_from_json(data: object) -> CartRequest:
    data = _object(data, "body")
    lines = data.get("lines")
    if not isinstance(lines, list):
        raise InvalidInput(N_("A sale has a list of lines.")).at("lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(N_("A sale has at most %(n)d lines."), n=MAX_LINES).at("lines")
    return CartRequest(
        till=_text(data.get("till"), "till", 20).upper(),
        lines=tuple(line_from_json(line, i) for i, line in enumerate(lines)),
        member=_text(data.get("member"), "member", 40, required=False),
        discount=_parse("discount", rupiah_from_json, data.get("discount") or 0),
        approval=_text(data.get("approval"), "approval", 200, required=False),
    )


def payment_from_json(data: object, index: int) -> PaymentRequest:
    where = f"payments[{index}]"
    data = _object(data, where)
    method = data.get("method")
    if method not in METHODS:
        raise InvalidInput(N_("Payment is cash, QRIS, transfer, debit card or kasbon.")).at(f"{where}.method")
    amount = _parse(f"{where}.amount", lambda v: rupiah_from_json(v, allow_zero=False), data.get("amount"))
    reference = _text(data.get("reference"), f"{where}.reference", 40, required=False) or ""
    if method == "transfer" and not REFERENCE_RE.match(reference):
        raise InvalidInput(N_("Give the transfer's reference.")).at(f"{where}.reference")
    if method == "debit" and not APPROVAL_CODE_RE.match(reference):
        raise InvalidInput(N_("Give the approval code printed by the card terminal (4 to 12 letters or digits).")
                           ).at(f"{where}.reference")
    return PaymentRequest(method=method, amount=amount, reference=reference)


def sale_from_json(data: object) -> SaleRequest:
    data = _object(data, "body")
    unknown = set(data) - SALE_FIELDS
    if unknown:
        raise InvalidInput(N_("Unknown field %(name)s."), name=sorted(unknown)[0][:30]).at(sorted(unknown)[0][:30])
    payments = data.get("payments")
    if not isinstance(payments, list) or not payments:
        raise InvalidInput(N_("Say how the sale is paid.")).at("payments")
    if len(payments) > MAX_PAYMENTS:
        raise InvalidInput(N_("A sale has at most %(n)d payments."), n=MAX_PAYMENTS).at("payments")
    cart = cart_from_json(data)
    if not cart.lines:
        raise InvalidInput(N_("The cart is empty.")).at("lines")
    return SaleRequest(id=parse_uuid(data.get("id")), cart=cart,
                       payments=tuple(payment_from_json(p, i) for i, p in enumerate(payments)))


def return_from_json(data: object) -> ReturnRequest:
    data = _object(data, "body")
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise InvalidInput(N_("Choose what comes back.")).at("lines")
    parsed = []
    for i, item in enumerate(lines):
        item = _object(item, f"lines[{i}]")
        position = item.get("line")
        if type(position) is not int or not 1 <= position <= MAX_LINES:
            raise InvalidInput(N_("No such line on the receipt.")).at(f"lines[{i}].line")
        parsed.append(ReturnLineRequest(position, _parse(f"lines[{i}].qty", quantity_from_json, item.get("qty"))))
    refund = data.get("refund", "original")
    if refund not in ("original", "cash"):
        raise InvalidInput(N_("Refund the way it was paid, or in cash.")).at("refund")
    return ReturnRequest(
        id=parse_uuid(data.get("id")),
        till=_text(data.get("till"), "till", 20).upper(),
        lines=tuple(parsed),
        refund=refund,
        approval=_text(data.get("approval"), "approval", 200),
        reason=_text(data.get("reason"), "reason", 250),
    )
