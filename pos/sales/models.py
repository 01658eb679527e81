"""Tables of the sales context: shifts, sales with their lines, stock allocations and payments, returns, held
carts. Money is whole rupiah (BigInteger); quantities are Decimal with 3 places."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.models import COST, QTY
from pos.db import Base, UTCDateTime, utcnow
from pos.models import Till

MONEY = sa.BigInteger
METHODS = ("cash", "qris", "transfer", "debit", "kasbon")


class ShiftStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SaleStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the QRIS payment: stock held, number taken, not yet in the books
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # a pending sale given up: stock back, number kept and explained
    VOIDED = "voided"  # a completed sale undone in its own shift with a manager's PIN


class Shift(Base):
    """A cashier's period at one till: opening float, sales, counted cash at the close. One open per till."""

    __tablename__ = "shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    till_id: Mapped[int] = mapped_column(sa.ForeignKey("till.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=ShiftStatus.OPEN.value)
    business_date: Mapped[dt.date] = mapped_column(sa.Date)
    opened_by: Mapped[str] = mapped_column(sa.String(40))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opening_float: Mapped[int] = mapped_column(MONEY)
    closed_by: Mapped[str] = mapped_column(sa.String(40), default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expected_cash: Mapped[int | None] = mapped_column(MONEY)
    counted_cash: Mapped[int | None] = mapped_column(MONEY)
    difference: Mapped[int | None] = mapped_column(MONEY)
    counted: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # per denomination and per method
    report: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # the Z report's document, kept
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"))

    till: Mapped[Till] = relationship()

    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'closed')", name="status"),
        sa.CheckConstraint("opening_float >= 0", name="float"),
        sa.Index("uq_shift_open_till", "till_id", unique=True, sqlite_where=sa.text("status = 'open'"),
                 postgresql_where=sa.text("status = 'open'")),
    )


class Sale(Base):
    """One sale at a till, identified by the till's own UUID (so a retry finds it) and numbered per till and day."""

    __tablename__ = "sale"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    till_id: Mapped[int] = mapped_column(sa.ForeignKey("till.id"), index=True)
    shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shift.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("business_unit.id"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_location.id"))
    cashier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    cashier_name: Mapped[str] = mapped_column(sa.String(120))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10))
    business_date: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # cancelled or voided
    ended_by: Mapped[str] = mapped_column(sa.String(40), default="")
    end_reason: Mapped[str] = mapped_column(sa.String(250), default="")
    approved_by: Mapped[str] = mapped_column(sa.String(40), default="")  # receipt discount or void
    subtotal: Mapped[int] = mapped_column(MONEY)  # the lines after their own discounts
    discount: Mapped[int] = mapped_column(MONEY, default=0)  # off the whole receipt
    rounding: Mapped[int] = mapped_column(MONEY, default=0)  # R5: + rounded up, - rounded down
    total: Mapped[int] = mapped_column(MONEY)  # what the customer pays
    dpp: Mapped[int] = mapped_column(MONEY, default=0)
    ppn: Mapped[int] = mapped_column(MONEY, default=0)
    revenue: Mapped[int] = mapped_column(MONEY)  # total before rounding, less PPN
    cost: Mapped[int] = mapped_column(MONEY, default=0)
    tendered: Mapped[int] = mapped_column(MONEY)
    change: Mapped[int] = mapped_column(MONEY, default=0)
    qris_payload: Mapped[str | None] = mapped_column(sa.String(512))
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"))
    void_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"))

    till: Mapped[Till] = relationship()
    shift: Mapped[Shift] = relationship()
    lines: Mapped[list[SaleLine]] = relationship(back_populates="sale", order_by="SaleLine.position")
    payments: Mapped[list[SalePayment]] = relationship(back_populates="sale", order_by="SalePayment.position")
    returns: Mapped[list[SaleReturn]] = relationship(back_populates="sale", order_by="SaleReturn.id")

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'completed', 'cancelled', 'voided')", name="status"),
        sa.CheckConstraint("total >= 0 AND subtotal >= 0 AND discount >= 0 AND ppn >= 0 AND change >= 0",
                           name="amounts"),
        sa.CheckConstraint("tendered - change = total", name="paid"),
        sa.Index("ix_sale_till_date", "till_id", "business_date"),
    )


class SaleLine(Base):
    __tablename__ = "sale_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sale.id"), index=True)
    position: Mapped[int] = mapped_column()
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    product_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("product_unit.id"))
    code: Mapped[str] = mapped_column(sa.String(60))  # what was scanned or typed
    name: Mapped[str] = mapped_column(sa.String(160))
    unit_name: Mapped[str] = mapped_column(sa.String(40))
    factor: Mapped[Decimal] = mapped_column(QTY)
    quantity: Mapped[Decimal] = mapped_column(QTY)  # in the unit sold
    base_quantity: Mapped[Decimal] = mapped_column(QTY)
    tier: Mapped[str] = mapped_column(sa.String(10))
    unit_price: Mapped[int] = mapped_column(MONEY)
    gross: Mapped[int] = mapped_column(MONEY)
    discount: Mapped[int] = mapped_column(MONEY, default=0)
    total: Mapped[int] = mapped_column(MONEY)  # gross - discount
    discount_share: Mapped[int] = mapped_column(MONEY, default=0)  # of the receipt discount (R2)
    net: Mapped[int] = mapped_column(MONEY)  # total - discount_share: what the customer pays for the line
    tax_code: Mapped[str] = mapped_column(sa.String(10))
    ppn: Mapped[int] = mapped_column(MONEY, default=0)
    dpp: Mapped[int] = mapped_column(MONEY, default=0)
    cost: Mapped[int] = mapped_column(MONEY, default=0)
    approved_by: Mapped[str] = mapped_column(sa.String(40), default="")  # a manager's price or discount
    batch_reason: Mapped[str] = mapped_column(sa.String(250), default="")

    sale: Mapped[Sale] = relationship(back_populates="lines")
    allocations: Mapped[list[SaleAllocation]] = relationship(order_by="SaleAllocation.id")

    __table_args__ = (sa.CheckConstraint("quantity > 0 AND net >= 0 AND total = gross - discount", name="amounts"),)


class SaleAllocation(Base):
    """Which batch (FEFO, or chosen with a reason) and location a line's stock came from, at what cost."""

    __tablename__ = "sale_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_line_id: Mapped[int] = mapped_column(sa.ForeignKey("sale_line.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch.id"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_location.id"))
    quantity: Mapped[Decimal] = mapped_column(QTY)  # base units
    unit_cost: Mapped[Decimal] = mapped_column(COST)


class SalePayment(Base):
    """A tender: `amount` counts toward the total; for cash, `tendered` is what was handed over (change apart)."""

    __tablename__ = "sale_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sale.id"), index=True)
    position: Mapped[int] = mapped_column()
    method: Mapped[str] = mapped_column(sa.String(10))
    amount: Mapped[int] = mapped_column(MONEY)
    tendered: Mapped[int] = mapped_column(MONEY)
    reference: Mapped[str] = mapped_column(sa.String(60), default="")  # transfer reference, EDC approval code

    sale: Mapped[Sale] = relationship(back_populates="payments")

    __table_args__ = (
        sa.CheckConstraint(f"method IN ({', '.join(repr(m) for m in METHODS)})", name="method"),
        sa.CheckConstraint("amount > 0 AND tendered >= amount", name="amount"),
    )


class SaleReturn(Base):
    """Goods brought back (some lines, some quantity) and the money paid back, approved by a manager."""

    __tablename__ = "sale_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sale.id"), index=True)
    till_id: Mapped[int] = mapped_column(sa.ForeignKey("till.id"), index=True)
    shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shift.id"), index=True)
    cashier_name: Mapped[str] = mapped_column(sa.String(120))
    approved_by: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.String(250))
    business_date: Mapped[dt.date] = mapped_column(sa.Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    total: Mapped[int] = mapped_column(MONEY)
    ppn: Mapped[int] = mapped_column(MONEY, default=0)
    revenue: Mapped[int] = mapped_column(MONEY)
    cost: Mapped[int] = mapped_column(MONEY, default=0)
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"))

    sale: Mapped[Sale] = relationship(back_populates="returns")
    lines: Mapped[list[ReturnLine]] = relationship(back_populates="sale_return", order_by="ReturnLine.id")
    refunds: Mapped[list[ReturnRefund]] = relationship(order_by="ReturnRefund.id")


class ReturnLine(Base):
    __tablename__ = "return_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("sale_return.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(sa.ForeignKey("sale_line.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(QTY)  # in the unit sold
    base_quantity: Mapped[Decimal] = mapped_column(QTY)
    amount: Mapped[int] = mapped_column(MONEY)  # paid back for it, PPN included
    ppn: Mapped[int] = mapped_column(MONEY, default=0)
    cost: Mapped[int] = mapped_column(MONEY, default=0)

    sale_return: Mapped[SaleReturn] = relationship(back_populates="lines")
    sale_line: Mapped[SaleLine] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0 AND amount >= 0", name="amounts"),)


class ReturnRefund(Base):
    __tablename__ = "return_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("sale_return.id"), index=True)
    method: Mapped[str] = mapped_column(sa.String(10))
    amount: Mapped[int] = mapped_column(MONEY)

    __table_args__ = (
        sa.CheckConstraint(f"method IN ({', '.join(repr(m) for m in METHODS)})", name="method"),
        sa.CheckConstraint("amount > 0", name="amount"),
    )


class HeldCart(Base):
    """A cart put aside (the customer went to fetch something) and resumed later, on this till or another."""

    __tablename__ = "held_cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    till_id: Mapped[int] = mapped_column(sa.ForeignKey("till.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(80), default="")
    cart: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    line_count: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(MONEY, default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default="held")
    held_by: Mapped[str] = mapped_column(sa.String(40))
    held_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resumed_by: Mapped[str] = mapped_column(sa.String(40), default="")
    resumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("status IN ('held', 'resumed', 'discarded')", name="status"),)
