"""The "nothing lost" check of the sales context (RELIABILITY.md): every completed sale booked once and balanced,
its stock moved, its payments adding up; numbers unique. Returns a list of problems, empty when all is well."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from inventory.models import StockMove
from ledger.models import JournalEntry, Posting
from pos.db import db
from pos.sales.models import Sale, SaleAllocation, SaleLine, SalePayment, SaleReturn

SALE_MOVES = ("sale",)


def check_sales() -> list[str]:
    problems: list[str] = []
    for column in (Sale.number, Sale.uuid, SaleReturn.number, SaleReturn.uuid):
        dupes = db.session.execute(sa.select(column, sa.func.count()).group_by(column).having(sa.func.count() > 1))
        problems += [f"{column.key} {value} appears {n} times" for value, n in dupes]
    entries = {
        source_id: (count, debit, credit)
        for source_id, count, debit, credit in db.session.execute(
            sa.select(JournalEntry.source_id, sa.func.count(sa.distinct(JournalEntry.id)),
                      sa.func.sum(Posting.debit), sa.func.sum(Posting.credit))
            .join(Posting, Posting.entry_id == JournalEntry.id)
            .where(JournalEntry.source_type.in_(("sale", "sale_return")), JournalEntry.posted.is_(True))
            .group_by(JournalEntry.source_id))
    }
    paid = dict(db.session.execute(sa.select(SalePayment.sale_id, sa.func.sum(SalePayment.amount))
                                   .group_by(SalePayment.sale_id)).all())
    moved = {
        source_id: Decimal(quantity)
        for source_id, quantity in db.session.execute(
            sa.select(StockMove.source_id, sa.func.sum(StockMove.quantity))
            .where(StockMove.source_type.in_(SALE_MOVES)).group_by(StockMove.source_id))
    }
    allocated = dict(db.session.execute(
        sa.select(SaleLine.sale_id, sa.func.sum(SaleAllocation.quantity))
        .join(SaleAllocation, SaleAllocation.sale_line_id == SaleLine.id).group_by(SaleLine.sale_id)).all())
    sold = dict(db.session.execute(sa.select(SaleLine.sale_id, sa.func.sum(SaleLine.base_quantity))
                                   .group_by(SaleLine.sale_id)).all())
    for sale in db.session.scalars(sa.select(Sale).order_by(Sale.id)):
        booked = entries.get(sale.number)
        if sale.status in ("completed", "voided"):
            if booked is None or sale.entry_id is None:
                problems.append(f"sale {sale.number} has no journal entry")
            elif booked[0] != 1 or booked[1] != booked[2]:
                problems.append(f"sale {sale.number}: {booked[0]} entries, debit {booked[1]} credit {booked[2]}")
        elif booked is not None:
            problems.append(f"{sale.status} sale {sale.number} is in the books")
        if int(paid.get(sale.id, 0)) != sale.total or sale.tendered - sale.change != sale.total:
            problems.append(f"sale {sale.number}: payments do not add up to {sale.total}")
        if Decimal(sold.get(sale.id, 0)) != Decimal(allocated.get(sale.id, 0)) \
                or Decimal(sold.get(sale.id, 0)) != moved.get(sale.number, Decimal(0)):
            problems.append(f"sale {sale.number}: stock moved does not match the lines")
    for sale_return in db.session.scalars(sa.select(SaleReturn)):
        booked = entries.get(sale_return.number)
        if booked is None or booked[0] != 1 or booked[1] != booked[2]:
            problems.append(f"return {sale_return.number} is not booked once")
    return problems
