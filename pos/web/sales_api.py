"""The till's JSON API: price a cart, shifts, sales (created once per till UUID), QRIS confirm and cancel, voids,
returns, reprints, held carts, members. Views parse, call a use case of pos.sales.services, answer; errors are
JSON {"error", "message", "details"} with a 4xx code (pos.web.errors). docs: /api/v1/openapi.json."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext

from pos.db import db
from pos.errors import N_, InvalidInput, NotFound
from pos.faults import crash_point
from pos.permissions import require
from pos.sales import effects, services
from pos.sales.cash import DENOMINATIONS, quick_amounts
from pos.sales.models import HeldCart, Sale, SaleReturn, Shift
from pos.sales.requests import cart_from_json, return_from_json, sale_from_json
from pos.web.templating import METHOD_LABELS

bp = Blueprint("sales_api", __name__, url_prefix="/api/v1")
MAX_LIST = 100


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(N_("Send a JSON object."))
    return data


def _session_till_id() -> int | None:
    live = g.get("user_session")
    return live.till_id if g.get("via") == "pin" and live is not None else None


def _till(code: str):
    till = services.till_by_code(code)
    services.check_till_access(till, g.user, _session_till_id())
    return till


def _qty(value) -> str:
    return format(Decimal(value).normalize(), "f")


# --- answers ------------------------------------------------------------------------------------------------------


def member_json(member) -> dict | None:
    if member is None:
        return None
    return {"number": member.number, "name": member.name}


def cart_json(priced) -> dict:
    return {
        "till": priced.till.code,
        "member": member_json(priced.member),
        "lines": [{
            "line": line.position, "code": line.found.code, "product": line.product.sku, "name": line.product.name,
            "unit": line.unit.name, "units": [u.name for u in line.product.units], "qty": _qty(line.quantity),
            "unit_price": line.price.unit_price, "tier": line.price.tier, "gross": line.price.gross,
            "discount": line.price.discount, "total": line.price.total, "net": line.tax.net, "ppn": line.tax.ppn,
            "tax_code": line.product.tax_code.value, "from_label": line.found.from_label,
            "sell_by_weight": line.product.sell_by_weight, "capped_at_het": line.price.capped,
            "approved_by": line.approved_by or None,
        } for line in priced.lines],
        "subtotal": priced.subtotal, "discount": priced.discount, "total": priced.total, "tax": priced.ppn,
        "dpp": priced.dpp, "quick_amounts": quick_amounts(priced.total),
    }


def sale_json(sale: Sale) -> dict:
    from ledger.models import Member

    member = db.session.get(Member, sale.member_id) if sale.member_id else None
    returned: dict[int, Decimal] = {}
    for earlier in sale.returns:
        for item in earlier.lines:
            returned[item.sale_line_id] = returned.get(item.sale_line_id, Decimal(0)) + Decimal(item.quantity)
    qris_amount = sum(p.amount for p in sale.payments if p.method == "qris")
    return {
        "id": sale.uuid, "number": sale.number, "status": sale.status, "till": sale.till.code,
        "shift": sale.shift.number, "cashier": sale.cashier_name, "member": member_json(member),
        "business_date": sale.business_date.isoformat(), "created_at": sale.created_at.isoformat(),
        "subtotal": sale.subtotal, "discount": sale.discount, "rounding": sale.rounding, "total": sale.total,
        "tax": sale.ppn, "dpp": sale.dpp, "tendered": sale.tendered, "change": sale.change,
        "lines": [{
            "line": line.position, "code": line.code, "name": line.name, "unit": line.unit_name,
            "qty": _qty(line.quantity), "unit_price": line.unit_price, "tier": line.tier, "gross": line.gross,
            "discount": line.discount, "total": line.total, "net": line.net, "tax_code": line.tax_code,
            "ppn": line.ppn, "returned_qty": _qty(returned.get(line.id, Decimal(0))),
        } for line in sale.lines],
        "payments": [{"method": p.method, "amount": p.amount, "tendered": p.tendered, "reference": p.reference}
                     for p in sale.payments],
        "qris": {"payload": sale.qris_payload, "amount": qris_amount} if sale.qris_payload else None,
        "returns": [{"id": r.uuid, "number": r.number, "total": r.total} for r in sale.returns],
        "receipt_url": url_for("till.sale", code=sale.till.code, number=sale.number),
    }


def return_json(sale_return: SaleReturn) -> dict:
    return {
        "id": sale_return.uuid, "number": sale_return.number, "sale": sale_return.sale.number,
        "total": sale_return.total, "tax": sale_return.ppn, "approved_by": sale_return.approved_by,
        "reason": sale_return.reason,
        "lines": [{"line": item.sale_line.position, "qty": _qty(item.quantity), "amount": item.amount}
                  for item in sale_return.lines],
        "refunds": [{"method": r.method, "amount": r.amount} for r in sale_return.refunds],
    }


def shift_json(shift: Shift) -> dict:
    totals = services.shift_totals(shift)
    methods = sorted(set(totals.sales) | set(totals.refunds) | {"cash"})
    return {
        "id": shift.id, "number": shift.number, "till": shift.till.code, "status": shift.status,
        "opened_by": shift.opened_by, "opened_at": shift.opened_at.isoformat(),
        "business_date": shift.business_date.isoformat(), "opening_float": shift.opening_float,
        "closed_at": shift.closed_at.isoformat() if shift.closed_at else None, "closed_by": shift.closed_by or None,
        "sale_count": totals.sale_count, "refund_count": totals.refund_count, "void_count": totals.void_count,
        "pending_count": totals.pending_count,
        "methods": [{
            "method": m, "label": str(METHOD_LABELS.get(m, m)), "sales": totals.sales.get(m, (0, 0))[0],
            "refunds": totals.refunds.get(m, (0, 0))[0],
            "expected": totals.expected(m),
            "counted": (shift.counted or {}).get("methods", {}).get(m, {}).get("counted"),
        } for m in methods],
        "expected_cash": totals.expected_cash, "counted_cash": shift.counted_cash, "difference": shift.difference,
        "denominations": list(DENOMINATIONS),
    }


def held_json(row: HeldCart) -> dict:
    return {"id": row.id, "label": row.label, "lines": row.line_count, "total": row.total, "held_by": row.held_by,
            "held_at": row.held_at.isoformat(), "cart": row.cart}


# --- members ------------------------------------------------------------------------------------------------------


@bp.get("/members")
@require("till.operate")
def members():
    """Members by card scan, number or name, for the till."""
    from ledger.members import find_members

    query = request.args.get("q", "")
    return jsonify(results=[member_json(m) for m in find_members(query, limit=10)])


# --- the cart -----------------------------------------------------------------------------------------------------


@bp.post("/cart")
@require("till.operate")
def price_cart():
    """Price the cart exactly as the checkout will, and show it on the till's customer screen and pole display."""
    cart = cart_from_json(_body())
    till = _till(cart.till)
    priced = services.ring_up(cart, g.user)
    answer = cart_json(priced)
    location = services.selling_location(till)
    today = services.business_date(till)
    for line, data in zip(priced.lines, answer["lines"], strict=True):
        data["available"] = _qty(services.available_at(line.product, location, today) / Decimal(line.unit.factor))
    effects.after_cart(priced, effects.TillDevices.of(till))
    return jsonify(answer)


# --- shifts -------------------------------------------------------------------------------------------------------


@bp.get("/shifts")
@require("till.operate")
def shifts():
    """The till's open shift (?till=TK01), or its latest shifts."""
    till = _till(request.args.get("till", ""))
    query = sa.select(Shift).where(Shift.till_id == till.id)
    if request.args.get("status") == "open":
        query = query.where(Shift.status == "open")
    rows = db.session.scalars(query.order_by(Shift.id.desc()).limit(10))
    return jsonify(results=[shift_json(s) for s in rows])


@bp.post("/shifts")
@require("till.operate")
def open_shift():
    data = _body()
    from pos.money import rupiah_from_json

    till = _till(str(data.get("till") or ""))
    try:
        opening = rupiah_from_json(data.get("opening_float"))
    except InvalidInput as exc:
        raise exc.at("opening_float") from None
    shift, created = services.open_shift(till.code, opening, g.user)
    return jsonify(shift_json(shift)), 201 if created else 200


def _shift(shift_id: int) -> Shift:
    shift = services.shift_by_id(shift_id)
    services.check_till_access(shift.till, g.user, _session_till_id())
    return shift


@bp.get("/shifts/<int:shift_id>")
@require("till.operate")
def shift(shift_id: int):
    return jsonify(shift_json(_shift(shift_id)))


@bp.post("/shifts/<int:shift_id>/x")
@require("till.operate")
def x_report(shift_id: int):
    """Print the X report (the shift goes on) and answer its figures."""
    from pos import printing

    shift = services.x_report(_shift(shift_id).id, g.user)
    printing.notify(effects.TillDevices.of(shift.till).printer)
    return jsonify(shift_json(shift))


@bp.post("/shifts/<int:shift_id>/close")
@require("till.operate")
def close_shift(shift_id: int):
    """Close with the counted cash: {"counted_cash": 1250000} or {"denominations": {"100000": 12, ...}}, and
    optionally {"counted": {"debit": 350000}} for the other methods' own totals."""
    from pos import printing
    from pos.money import rupiah_from_json
    from pos.sales.cash import count_drawer

    data = _body()
    shift = _shift(shift_id)
    denominations: dict[int, int] = {}
    raw = data.get("denominations")
    if raw is not None:
        if not isinstance(raw, dict) or len(raw) > len(DENOMINATIONS):
            raise InvalidInput(N_("Count the notes and coins of each kind.")).at("denominations")
        for key, pieces in raw.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) in DENOMINATIONS):
                raise InvalidInput(N_("Rp %(value)s is not a rupiah note or coin."), value=str(key)[:12]
                                   ).at(f"denominations.{str(key)[:12]}")
            if type(pieces) is not int or not 0 <= pieces <= 100_000:
                raise InvalidInput(N_("Please enter a number.")).at(f"denominations.{key}")
            denominations[int(key)] = pieces
        counted = count_drawer(denominations)
        if data.get("counted_cash") is not None and rupiah_from_json(data["counted_cash"]) != counted:
            raise InvalidInput(N_("The notes and coins do not add up to the counted cash.")).at("counted_cash")
    else:
        try:
            counted = rupiah_from_json(data.get("counted_cash"))
        except InvalidInput as exc:
            raise exc.at("counted_cash") from None
    others = {}
    for method, amount in (data.get("counted") or {}).items() if isinstance(data.get("counted"), dict) else ():
        if method not in ("qris", "transfer", "debit", "kasbon"):
            raise InvalidInput(N_("Payment is cash, QRIS, transfer, debit card or kasbon.")).at(f"counted.{method}")
        try:
            others[method] = rupiah_from_json(amount)
        except InvalidInput as exc:
            raise exc.at(f"counted.{method}") from None
    closed, created = services.close_shift(shift.id, services.CashCount(counted, denominations, others), g.user)
    printing.notify(effects.TillDevices.of(closed.till).printer)
    answer = shift_json(closed)
    answer["report_url"] = url_for("till.shift_report", code=closed.till.code, shift_id=closed.id)
    return jsonify(answer), 200


# --- sales --------------------------------------------------------------------------------------------------------


@bp.post("/sales")
@require("till.operate")
def create_sale():
    """Create a sale once per till UUID: 201 the first time, 200 with the same body for a retry, 409 for the same id
    with other content."""
    sale_request = sale_from_json(_body())
    till = _till(sale_request.cart.till)
    sale, created = services.complete_sale(sale_request, g.user)
    crash_point("sale.after_commit")
    effects.after_sale(sale, effects.TillDevices.of(till), opened_now=created)
    return jsonify(sale_json(sale)), 201 if created else 200


def _sale(identifier: str) -> Sale:
    sale = services.sale_by_id(identifier)
    services.check_till_access(sale.till, g.user, _session_till_id())
    return sale


@bp.get("/sales/<identifier>")
@require("till.operate")
def get_sale(identifier: str):
    return jsonify(sale_json(_sale(identifier)))


@bp.get("/sales/<identifier>/receipt")
@require("till.operate")
def sale_receipt(identifier: str):
    """The receipt as the customer got it (HTML from the print queue), for the till's preview."""
    from pos.sales.documents import receipt_html

    sale = _sale(identifier)
    return jsonify(number=sale.number, html=receipt_html("sale", sale.number) or "")


@bp.get("/sales")
@require("till.operate")
def list_sales():
    """?till=TK01&date=2026-11-28 (default: today), and optionally q= (number), member=, amount= (total)."""
    till = _till(request.args.get("till", ""))
    text = request.args.get("date", "")
    try:
        day = dt.date.fromisoformat(text) if text else services.business_date(till)
    except ValueError:
        raise InvalidInput(N_("Write the date as YYYY-MM-DD.")).at("date") from None
    rows = services.find_sales(day, till=till, number=request.args.get("q", ""),
                               member=request.args.get("member", "").strip()[:40],
                               amount=request.args.get("amount", "").strip()[:20], limit=MAX_LIST)
    return jsonify(results=[sale_json(s) for s in rows])


@bp.post("/sales/<identifier>/confirm")
@require("till.operate")
def confirm_sale(identifier: str):
    """The QRIS money arrived (the cashier saw it in the bank's app): the pending sale is completed."""
    sale = _sale(identifier)
    was_pending = sale.status == "pending"
    sale = services.confirm_payment(sale.uuid, g.user)
    effects.after_sale(sale, effects.TillDevices.of(sale.till), opened_now=was_pending)
    return jsonify(sale_json(sale))


@bp.post("/sales/<identifier>/cancel")
@require("till.operate")
def cancel_sale(identifier: str):
    sale = _sale(identifier)
    data = request.get_json(silent=True) or {}
    reason = data.get("reason", "") if isinstance(data, dict) else ""
    sale = services.cancel_sale(sale.uuid, g.user, reason if isinstance(reason, str) else "")
    effects.show_screen(effects.TillDevices.of(sale.till), {"type": "idle"})
    return jsonify(sale_json(sale))


@bp.post("/sales/<identifier>/void")
@require("till.operate")
def void_sale(identifier: str):
    """Undo a sale of the open shift: {"approval": "<token of a void_sale approval>", "reason": "..."}."""
    data = _body()
    sale = _sale(identifier)
    reason = data.get("reason")
    sale = services.void_sale(sale.uuid, g.user, data.get("approval"), reason if isinstance(reason, str) else "")
    return jsonify(sale_json(sale))


@bp.post("/sales/<identifier>/returns")
@require("till.operate")
def create_return(identifier: str):
    """Take goods back: {"id": uuid, "till", "lines": [{"line": 1, "qty": "1"}], "refund": "original"|"cash",
    "approval": "<token of a refund approval>", "reason"}; once per id."""
    from pos import printing

    return_request = return_from_json(_body())
    till = _till(return_request.till)
    sale = _sale(identifier)
    sale_return, created = services.refund_sale(sale.uuid, return_request, g.user)
    printing.notify(effects.TillDevices.of(till).printer)
    if created and any(r.method == "cash" for r in sale_return.refunds):
        devices = effects.TillDevices.of(till)
        effects.run_after(current_app._get_current_object(), lambda: effects.kick_drawer(devices))
    return jsonify(return_json(sale_return)), 201 if created else 200


@bp.post("/sales/<identifier>/reprint")
@require("till.operate")
def reprint(identifier: str):
    """A copy of the receipt, marked SALINAN."""
    from pos import printing
    from pos.models import PrintJob

    sale = _sale(identifier)
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.source_type == "sale",
                                                      PrintJob.source_id == sale.number, PrintJob.copy == 0))
    if job is None:
        raise NotFound(N_("This sale has no receipt yet."))
    copy = printing.reprint(job.id, g.user, printing.rerender)
    printing.notify(copy.printer)
    return jsonify(number=sale.number, copy=copy.copy, message=gettext("A copy of the receipt is printing.")), 201


# --- held carts ---------------------------------------------------------------------------------------------------


@bp.get("/held")
@require("till.operate")
def held():
    till = _till(request.args.get("till", ""))
    return jsonify(results=[held_json(row) for row in services.held_carts(till)])


@bp.post("/held")
@require("till.operate")
def hold():
    """Put the cart aside: {"till", "cart": {"member", "lines"}, "label"}."""
    data = _body()
    till = _till(str(data.get("till") or ""))
    cart = data.get("cart")
    if not isinstance(cart, dict):
        raise InvalidInput(N_("Send a JSON object.")).at("cart")
    label = data.get("label", "")
    row = services.hold_cart(till.code, cart, label if isinstance(label, str) else "", g.user)
    effects.show_screen(effects.TillDevices.of(till), {"type": "idle"})
    return jsonify(held_json(row)), 201


@bp.post("/held/<int:held_id>/<any(resume, discard):action>")
@require("till.operate")
def resume(held_id: int, action: str):
    data = _body()
    till = _till(str(data.get("till") or ""))
    row = services.resume_cart(held_id, till.code, g.user, discard=action == "discard")
    return jsonify(held_json(row))
