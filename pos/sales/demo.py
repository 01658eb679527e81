"""The demo's last 30 days at the tills, rung up through the checkout service (so stock moves, receipts and books
agree): a shift per till and day, sales to walk-in customers and members paid in cash, QRIS, debit card, transfer
and kasbon, a few returns, each shift closed with its drawer counted; and today's shift open on TK01."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from inventory.models import DrugClass, Location, Product, StockLevel
from ledger.members import kasbon_available
from ledger.models import Member, MemberStatus
from pos.db import db
from pos.errors import PosError
from pos.models import Till, User
from pos.sales import services
from pos.sales.models import Sale
from pos.sales.requests import cart_from_json, return_from_json, sale_from_json

# till, cashier, opening float, sales a day
TILLS = (("TK01", "kasir", 300_000, 5), ("TK02", "manajer", 200_000, 2), ("AP01", "apoteker", 200_000, 3))
SELLABLE_CLASSES = (None, DrugClass.BEBAS, DrugClass.BEBAS_TERBATAS)
WEIGHTS = ("0.5", "1", "1.5", "2")


def sales_start(today: dt.date, stock_ready: dt.date) -> dt.date:
    """The first day the demo's tills sell: 30 days back, after the shelves were filled, in this year."""
    return max(today - dt.timedelta(days=30), stock_ready + dt.timedelta(days=1), dt.date(today.year, 1, 1))


def _local(day: dt.date, hour: int, minute: int, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(zone)).astimezone(dt.UTC)


def _stock(location: Location, today: dt.date) -> dict[int, tuple[Product, Decimal]]:
    """What may be sold from a shelf: products with stock (medicine: unexpired batches, no prescription drugs)."""
    found = {}
    for product in db.session.scalars(
            sa.select(Product).join(StockLevel, StockLevel.product_id == Product.id)
            .where(StockLevel.location_id == location.id, Product.active.is_(True)).distinct()):
        if product.drug_class not in SELLABLE_CLASSES:
            continue
        available = services.available_at(product, location, today)
        if available >= 2:
            found[product.id] = (product, available)
    return found


def _payments(rng: random.Random, total: int, member: Member | None) -> list[dict]:
    roll = rng.random()
    if member is not None and roll < 0.12 and kasbon_available(member.id) >= total:
        return [{"method": "kasbon", "amount": total}]
    if roll < 0.30:
        return [{"method": "qris", "amount": total}]
    if roll < 0.38:
        return [{"method": "debit", "amount": total, "reference": f"{rng.randint(100000, 999999)}"}]
    if roll < 0.42:
        return [{"method": "transfer", "amount": total, "reference": f"TRF{rng.randint(10000, 99999)}"}]
    for note in (5_000, 10_000, 20_000, 50_000, 100_000):
        if total <= note * 2:
            return [{"method": "cash", "amount": -(-total // note) * note}]
    return [{"method": "cash", "amount": -(-total // 100_000) * 100_000}]


def load_sales_demo(today: dt.date, start: dt.date, zone: str) -> bool:
    """Ring up the demo's past sales from `start` to yesterday and open today's shift on TK01. Each sale is its own
    short transaction (never one long one). Does nothing when the tills have sold before."""
    if db.session.scalar(sa.select(Sale.id).limit(1)) is not None:
        return False
    rng = random.Random(3101)  # noqa: S311 - the same demo every time, not a secret
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    members = list(db.session.scalars(sa.select(Member).where(Member.status == MemberStatus.ACTIVE)
                                      .order_by(Member.id)))
    shelves = {code: services.selling_location(services.till_by_code(code)) for code, *_ in TILLS}
    day = start
    while day < today:
        for code, cashier, opening, per_day in TILLS:
            approver = users["pengurus"] if cashier == "manajer" else users["manajer"]
            _one_day(rng, code, users[cashier], approver, opening, per_day + rng.randint(0, 2), day, zone,
                     shelves[code], [m for m in members if m.join_date <= day])
        day += dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC)
    opened = min(now, _local(today, 7, 30, zone))
    till = db.session.scalar(sa.select(Till).where(Till.code == "TK01"))
    if services.open_shift_of(till) is None:
        services.open_shift("TK01", 300_000, users["kasir"], at=opened)
    db.session.remove()
    return True


def _one_day(rng: random.Random, code: str, cashier: User, manager: User, opening: int, count: int, day: dt.date,
             zone: str, shelf: Location, members: list[Member]) -> None:
    shift, _ = services.open_shift(code, opening, cashier, at=_local(day, 7, 30, zone))
    shift_id = shift.id
    goods = _stock(shelf, day)
    sold: list[Sale] = []
    minutes = sorted(rng.sample(range(30, 12 * 60), count))
    for offset in minutes:
        if not goods:
            break
        moment = _local(day, 8, 0, zone) + dt.timedelta(minutes=offset)
        lines = []
        for product_id in rng.sample(sorted(goods), min(len(goods), rng.randint(1, 4))):
            product, available = goods[product_id]
            qty = Decimal(rng.choice(WEIGHTS)) if product.sell_by_weight else Decimal(rng.randint(1, 3))
            if qty > available - 1:
                continue
            goods[product_id] = (product, available - qty)
            lines.append({"code": product.sku, "qty": str(qty)})
        if not lines:
            continue
        member = rng.choice(members) if members and rng.random() < 0.45 else None
        cart = {"till": code, "lines": lines, "member": member.number if member else None}
        try:
            total = services.ring_up(cart_from_json(cart), cashier).total
            body = {"id": str(uuid.uuid4()), **cart, "payments": _payments(rng, total, member)}
            sale, _ = services.complete_sale(sale_from_json(body), cashier, at=moment)
            if sale.status == "pending":
                sale = services.confirm_payment(sale.uuid, cashier, at=moment + dt.timedelta(minutes=1))
            sold.append(sale)
        except PosError:
            db.session.rollback()  # e.g. a batch just expired: this customer goes without
    if sold and rng.random() < 0.2:
        _return_one(rng, sold[0], code, cashier, manager, _local(day, 19, 0, zone))
    shift = services.shift_by_id(shift_id)
    expected = services.shift_totals(shift).expected_cash
    counted = expected - (rng.choice((500, 1_000)) if rng.random() < 0.15 else 0)
    services.close_shift(shift_id, services.CashCount(counted), cashier, at=_local(day, 20, 30, zone))


def _return_one(rng: random.Random, sale: Sale, code: str, cashier: User, manager: User,
                moment: dt.datetime) -> None:
    """A customer brings one item back (the manager approves it with a PIN)."""
    from pos import auth

    line = sale.lines[0]
    qty = Decimal(1) if Decimal(line.quantity) >= 1 else Decimal(line.quantity)
    try:
        token = auth.grant(cashier, manager.username, _demo_pin(manager.username), "refund", reason="barang rusak",
                           detail={"sale": sale.number}).token
        services.refund_sale(sale.uuid, return_from_json({
            "id": str(uuid.uuid4()), "till": code, "lines": [{"line": line.position, "qty": str(qty)}],
            "refund": rng.choice(("original", "cash")), "approval": token, "reason": "barang rusak"}), cashier,
            at=moment)
    except PosError:
        db.session.rollback()


def _demo_pin(username: str) -> str:
    from pos.demo import DEMO_USERS

    return next(pin for name, _full, _role, pin in DEMO_USERS if name == username)
