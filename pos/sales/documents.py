"""Printable documents of the sales context (sale and return receipts, X and Z reports) as the JSON the print queue
stores: pos.receipt_documents turns them into receipts for any printer profile, and the till shows their HTML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from inventory.models import Batch
from ledger.models import Member
from pos.db import db, utcnow
from pos.models import Till
from pos.money import format_number
from pos.receipt_documents import header, to_json
from pos.sales.models import Sale, SaleReturn, Shift

METHOD_LABELS = {"cash": "Tunai", "qris": "QRIS", "transfer": "Transfer", "debit": "Kartu debit", "kasbon": "Kasbon"}


def _common(till, cashier: str, number: str, moment: dt.datetime) -> dict:
    settings = current_app.config["KASIR"]
    head = header()
    head["outlet_name"] = till.outlet.name
    if till.outlet.address:
        head["address_lines"] = [till.outlet.address, settings["cooperative_city"]]
    return {"header": head, "number": number, "printed_at": moment, "till_code": till.code,
            "timezone": till.outlet.timezone or settings["timezone"], "cashier_name": cashier,
            "footer": [settings["receipt_footer"]] if settings["receipt_footer"] else []}


def _member(member_id: int | None) -> dict:
    member = db.session.get(Member, member_id) if member_id else None
    return {"member_number": member.number, "member_name": member.name} if member else {}


def _receipt_line(line) -> dict:
    """A line as the receipt prints it: quantity x price - discount. A price label's line is one piece at the
    label's amount, its weight in the unit ("1,234 kg")."""
    item = {"name": line.name, "quantity": Decimal(line.quantity), "unit": line.unit_name,
            "unit_price": line.unit_price, "discount": line.discount, "tax_code": line.tax_code}
    if line.tier == "label":
        item.update(quantity=Decimal(1), unit=f"{format_number(Decimal(line.quantity))} {line.unit_name}"[:20],
                    unit_price=line.gross)
    lots = [db.session.get(Batch, a.batch_id) for a in line.allocations if a.batch_id]
    if len(lots) == 1:
        item.update(batch=lots[0].lot, expiry=lots[0].expiry_date)
    elif lots:
        item["batch"] = ", ".join(lot.lot for lot in lots)[:40]
        expiries = [lot.expiry_date for lot in lots if lot.expiry_date]
        if expiries:
            item["expiry"] = min(expiries)
    return item


def sale_document(sale: Sale) -> dict:
    data = _common(sale.till, sale.cashier_name, sale.number, sale.completed_at or sale.created_at)
    data.update(_member(sale.member_id))
    data["lines"] = [_receipt_line(line) for line in sale.lines]
    data["totals"] = {"subtotal": sale.subtotal, "discount": sale.discount, "dpp": sale.dpp, "ppn": sale.ppn,
                      "tax_inclusive": True, "rounding": sale.rounding, "total": sale.total}
    data["payments"] = [{"method": p.method, "amount": p.tendered,
                         "label": METHOD_LABELS[p.method] + (f" {p.reference}" if p.reference else "")}
                        for p in sale.payments]
    data["change"] = sale.change
    if sale.status == "pending" and sale.qris_payload:
        data["qris_payload"] = sale.qris_payload
    return {"kind": "sale", "data": to_json(data)}


def return_document(sale_return: SaleReturn) -> dict:
    sale = sale_return.sale
    data = _common(db.session.get(Till, sale_return.till_id), sale_return.cashier_name,
                   sale_return.number, sale_return.created_at)
    data.update(_member(sale.member_id))
    lines = []
    for item in sale_return.lines:
        line = item.sale_line
        # what comes back, at what it was paid: one row per line, its amount after every discount
        lines.append({"name": line.name, "quantity": Decimal(1),
                      "unit": f"{format_number(Decimal(item.quantity))} {line.unit_name}"[:20],
                      "unit_price": item.amount, "tax_code": line.tax_code})
    ppn = sale_return.ppn
    dpp = sum(_dpp(item) for item in sale_return.lines)
    data["lines"] = lines
    data["totals"] = {"subtotal": sale_return.total, "dpp": dpp, "ppn": ppn, "tax_inclusive": True,
                      "total": sale_return.total}
    data["payments"] = [{"method": r.method, "amount": r.amount} for r in sale_return.refunds]
    data["original_number"] = sale.number
    return {"kind": "return", "data": to_json(data)}


def _dpp(item) -> int:
    line = item.sale_line
    if not line.ppn or not line.dpp:
        return 0
    return min(line.dpp, (line.dpp * item.ppn) // line.ppn)


def shift_document(shift: Shift, totals, *, final: bool) -> dict:
    moment = shift.closed_at if final and shift.closed_at else utcnow()
    data = _common(shift.till, shift.opened_by, shift.number if final else f"X-{shift.number}"[:24], moment)
    data.pop("footer", None)
    data.update({
        "shift_number": shift.number, "opened_at": shift.opened_at, "opening_float": shift.opening_float,
        "sales": [{"method": m, "label": METHOD_LABELS.get(m, m), "amount": a, "count": n}
                  for m, (a, n) in sorted(totals.sales.items())],
        "refunds": [{"method": m, "label": METHOD_LABELS.get(m, m), "amount": a, "count": n}
                    for m, (a, n) in sorted(totals.refunds.items())],
        "sale_count": totals.sale_count, "refund_count": totals.refund_count,
    })
    if final:
        data.update(closed_at=shift.closed_at, counted_cash=shift.counted_cash)
    return {"kind": "shift_z" if final else "shift_x", "data": to_json(data)}


def receipt_html(source_type: str, source_id: str) -> str | None:
    """The HTML of the first print of a document (what the customer got), for the till's receipt preview; a
    document kept without its rendering is rendered now."""
    from pos.models import PrintJob
    from pos.receipt_documents import render

    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.source_type == source_type,
                                                      PrintJob.source_id == source_id, PrintJob.copy == 0))
    if job is None:
        return None
    if not job.html and job.document:
        try:
            return render(job.document, job.profile)[1]
        except ValueError:
            return None
    return job.html
