"""Stock reports as plain data: on hand, kartu stok (stock card), expiry, reorder list, stock value against the
books, and the drift check. No Flask here: the web layer parses filters and turns these into pages and files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from inventory import fefo, stock
from inventory.models import (
    Batch,
    Category,
    Location,
    LocationKind,
    Product,
    StockDocument,
    StockDocumentLine,
    StockLevel,
    StockMove,
)
from ledger.models import Account, JournalEntry, Posting
from ledger.posting_rules import persediaan
from pos.db import db
from pos.models import BusinessUnit, Outlet

ZERO = Decimal(0)
EXPIRY_BUCKETS = ("expired", "30", "60", "90", "later")  # "later": beyond 90 days, but near by its category
BUCKET_DAYS = ((30, "30"), (60, "60"), (90, "90"))


def _qty(value) -> Decimal:
    """A quantity out of the database as an exact three-place Decimal (SQLite sums may come back as floats)."""
    return Decimal(str(value or 0)).quantize(stock.THOUSANDTH)


# --- pure helpers -------------------------------------------------------------------------------


def expiry_bucket(expiry: dt.date | None, today: dt.date) -> str | None:
    """'expired', '30', '60' or '90' (days left at most that), or None when further away or without expiry."""
    if expiry is None:
        return None
    if fefo.is_expired(expiry, today):
        return "expired"
    left = (expiry - today).days
    for days, name in BUCKET_DAYS:
        if left <= days:
            return name
    return None


def move_in_out(quantity: Decimal, from_id: int | None, to_id: int | None,
                location_id: int | None = None) -> tuple[Decimal, Decimal]:
    """What one move adds to and takes from a stock card: for one location, in when it arrives there and out when
    it leaves; for all locations, in from the world (receipts, arriving transfers), out to the world (sales,
    write-offs, goods sent on the way), and both for a move between two locations (the balance does not change)."""
    if location_id is not None:
        return (quantity if to_id == location_id else ZERO, quantity if from_id == location_id else ZERO)
    return (quantity if to_id is not None else ZERO, quantity if from_id is not None else ZERO)


def running_balances(opening: Decimal, moves: Iterable[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """The balance after each (in, out) pair, starting from the opening balance."""
    balance, out = opening, []
    for qty_in, qty_out in moves:
        balance = balance + qty_in - qty_out
        out.append(balance)
    return out


def shortfall(on_hand: Decimal, reorder_point: Decimal) -> Decimal | None:
    """How much is missing to get back to the reorder point, or None when the product is not to be reordered:
    above its point, or without one (a reorder point of zero means none was set)."""
    if reorder_point <= 0 or on_hand > reorder_point:
        return None
    return reorder_point - on_hand


# --- stock on hand ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnHandRow:
    product: Product
    location: Location
    unit: BusinessUnit
    batch: Batch | None
    quantity: Decimal
    unit_cost: Decimal

    @property
    def value(self) -> int:
        return stock.value_of(self.quantity, self.unit_cost)

    @property
    def expiry(self) -> dt.date | None:
        return self.batch.expiry_date if self.batch else None


@dataclass
class OnHand:
    rows: list[OnHandRow]

    @property
    def total_value(self) -> int:
        return sum(row.value for row in self.rows)

    @property
    def products(self) -> int:
        return len({row.product.id for row in self.rows})


def _level_query():
    return (
        sa.select(StockLevel, Product, Location, BusinessUnit, Batch)
        .join(Product, StockLevel.product_id == Product.id)
        .join(Location, StockLevel.location_id == Location.id)
        .join(Outlet, Location.outlet_id == Outlet.id)
        .join(BusinessUnit, Outlet.unit_id == BusinessUnit.id)
        .outerjoin(Batch, StockLevel.batch_id == Batch.id)
        .where(StockLevel.quantity != 0)
    )


def _row(level: StockLevel, product: Product, location: Location, unit: BusinessUnit, batch: Batch | None) -> OnHandRow:
    cost = batch.unit_cost if batch is not None else stock.average_cost(product.id, unit.id)
    return OnHandRow(product, location, unit, batch, _qty(level.quantity), Decimal(cost))


def stock_on_hand(location: Location | None = None, unit: BusinessUnit | None = None, text: str = "") -> OnHand:
    """Every non-zero level per product, location and batch, valued at cost: the batch's cost, or the product's
    moving average when it is not tracked by batch. `unit` is the business unit whose location holds the stock."""
    query = _level_query()
    if location is not None:
        query = query.where(StockLevel.location_id == location.id)
    if unit is not None:
        query = query.where(BusinessUnit.id == unit.id)
    words = (text or "").strip().lower()[:80]
    if words:
        query = query.where(sa.or_(sa.func.lower(Product.sku).contains(words, autoescape=True),
                                   sa.func.lower(Product.name).contains(words, autoescape=True)))
    query = query.order_by(Product.name, Product.id, Location.code, Batch.expiry_date, Batch.lot)
    return OnHand([_row(*found) for found in db.session.execute(query)])


# --- kartu stok ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardLine:
    move: StockMove
    qty_in: Decimal
    qty_out: Decimal
    balance: Decimal


@dataclass
class StockCard:
    product: Product
    location: Location | None
    batch: Batch | None
    start: dt.datetime | None
    end: dt.datetime | None
    opening: Decimal
    lines: list[CardLine]

    @property
    def closing(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.opening

    @property
    def total_in(self) -> Decimal:
        return sum((line.qty_in for line in self.lines), ZERO)

    @property
    def total_out(self) -> Decimal:
        return sum((line.qty_out for line in self.lines), ZERO)


def _moves_of(product: Product, location: Location | None, batch: Batch | None):
    query = sa.select(StockMove).where(StockMove.product_id == product.id)
    if batch is not None:
        query = query.where(StockMove.batch_id == batch.id)
    if location is not None:
        query = query.where(sa.or_(StockMove.from_location_id == location.id,
                                   StockMove.to_location_id == location.id))
    return query


def _balance_before(product: Product, location: Location | None, batch: Batch | None, before: dt.datetime) -> Decimal:
    base = _moves_of(product, location, batch).where(StockMove.at < before)
    total = ZERO
    for column, sign in ((StockMove.to_location_id, 1), (StockMove.from_location_id, -1)):
        condition = column == location.id if location is not None else column.is_not(None)
        amount = db.session.scalar(base.where(condition).with_only_columns(sa.func.sum(StockMove.quantity)))
        total += sign * _qty(amount)
    return total


def stock_card(product: Product, *, location: Location | None = None, batch: Batch | None = None,
               start: dt.datetime | None = None, end: dt.datetime | None = None) -> StockCard:
    """Every move of a product (one batch and/or location if given) from `start` up to, not including, `end`
    (aware datetimes), in the order they happened, with the balance after each; the opening balance is what the
    moves before `start` left."""
    opening = _balance_before(product, location, batch, start) if start is not None else ZERO
    query = _moves_of(product, location, batch)
    if start is not None:
        query = query.where(StockMove.at >= start)
    if end is not None:
        query = query.where(StockMove.at < end)
    moves = list(db.session.scalars(query.order_by(StockMove.at, StockMove.id)))
    pairs = [move_in_out(_qty(m.quantity), m.from_location_id, m.to_location_id,
                         location.id if location is not None else None) for m in moves]
    balances = running_balances(opening, pairs)
    lines = [CardLine(m, qin, qout, bal) for m, (qin, qout), bal in zip(moves, pairs, balances, strict=True)]
    return StockCard(product, location, batch, start, end, opening, lines)


def batches_of(product: Product) -> list[Batch]:
    return list(db.session.scalars(sa.select(Batch).where(Batch.product_id == product.id)
                                   .order_by(Batch.expiry_date, Batch.lot)))


# --- expiry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryRow:
    stock: OnHandRow
    days_left: int
    bucket: str
    near: bool  # within the category's own near-expiry threshold (or expired)

    @property
    def batch(self) -> Batch:
        assert self.stock.batch is not None
        return self.stock.batch


@dataclass
class ExpiryReport:
    today: dt.date
    rows: list[ExpiryRow]

    def group(self, bucket: str) -> list[ExpiryRow]:
        return [row for row in self.rows if row.bucket == bucket]

    def value(self, bucket: str) -> int:
        return sum(row.stock.value for row in self.group(bucket))

    def batch_count(self, bucket: str) -> int:
        return len({row.batch.id for row in self.group(bucket)})

    @property
    def total_value(self) -> int:
        return sum(row.stock.value for row in self.rows)


def expiry_report(today: dt.date) -> ExpiryReport:
    """Batches with stock that have expired or expire within 90 days, or sooner than their category's
    near-expiry threshold, per location; karantina included (expired goods waiting to be destroyed)."""
    query = (_level_query().where(StockLevel.quantity > 0, Batch.expiry_date.is_not(None))
             .order_by(Batch.expiry_date, Product.name, Batch.lot, Location.code))
    categories = {c.id: c.near_expiry_days for c in db.session.scalars(sa.select(Category))}
    rows = []
    for found in db.session.execute(query):
        row = _row(*found)
        expiry = row.expiry
        near = fefo.is_expired(expiry, today) or fefo.is_near_expiry(expiry, today,
                                                                     categories.get(row.product.category_id, 0))
        bucket = expiry_bucket(expiry, today) or ("later" if near else None)
        if bucket is None:
            continue
        rows.append(ExpiryRow(row, (expiry - today).days, bucket, near))
    return ExpiryReport(today, rows)


# --- reorder ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReorderRow:
    product: Product
    on_hand: Decimal
    in_transit: Decimal
    shortfall: Decimal

    @property
    def reorder_point(self) -> Decimal:
        return _qty(self.product.reorder_point)


def in_transit_quantities() -> dict[int, Decimal]:
    """Quantities sent on transfers not yet received, per product (they are in no location meanwhile)."""
    rows = db.session.execute(
        sa.select(StockDocumentLine.product_id, sa.func.sum(StockDocumentLine.quantity))
        .join(StockDocument, StockDocumentLine.document_id == StockDocument.id)
        .where(StockDocument.kind == "transfer", StockDocument.status == "sent")
        .group_by(StockDocumentLine.product_id))
    return {product_id: _qty(total) for product_id, total in rows}


def reorder_list() -> list[ReorderRow]:
    """Active products whose stock in every location but karantina is at or below their reorder point
    (products without a reorder point are left out); what is on the way between locations is shown apart."""
    held = dict(db.session.execute(
        sa.select(StockLevel.product_id, sa.func.sum(StockLevel.quantity))
        .join(Location, StockLevel.location_id == Location.id)
        .where(Location.kind != LocationKind.KARANTINA).group_by(StockLevel.product_id)).all())
    transit = in_transit_quantities()
    rows = []
    products = db.session.scalars(sa.select(Product).where(Product.active.is_(True), Product.reorder_point > 0)
                                  .order_by(Product.name, Product.id))
    for product in products:
        on_hand = _qty(held.get(product.id))
        missing = shortfall(on_hand, _qty(product.reorder_point))
        if missing is not None:
            rows.append(ReorderRow(product, on_hand, transit.get(product.id, ZERO), missing))
    return rows


# --- stock value against the books -----------------------------------------------------------


@dataclass
class CategoryValue:
    unit: BusinessUnit
    category: Category
    value: int


@dataclass
class UnitValue:
    unit: BusinessUnit
    on_hand: int  # at cost, in the unit's locations
    in_transit: int  # sent from the unit's locations, not yet received (still in the unit's books)
    ledger: int  # balance of persediaan:<UNIT>
    has_account: bool

    @property
    def stock_value(self) -> int:
        return self.on_hand + self.in_transit

    @property
    def difference(self) -> int:
        """Books minus stock: zero when they agree."""
        return self.ledger - self.stock_value


@dataclass
class StockValue:
    units: list[UnitValue]
    categories: list[CategoryValue]

    @property
    def total_on_hand(self) -> int:
        return sum(u.on_hand for u in self.units)

    @property
    def total_in_transit(self) -> int:
        return sum(u.in_transit for u in self.units)

    @property
    def total_stock(self) -> int:
        return sum(u.stock_value for u in self.units)

    @property
    def total_ledger(self) -> int:
        return sum(u.ledger for u in self.units)

    @property
    def total_difference(self) -> int:
        return self.total_ledger - self.total_stock


def ledger_inventory_balances() -> dict[str, int]:
    """The debit balance of every persediaan:<UNIT> account over all posted entries, by unit code."""
    prefix = persediaan("")
    accounts = dict(db.session.execute(
        sa.select(Account.id, Account.key).where(Account.key.startswith(prefix, autoescape=True))).all())
    balances = {key[len(prefix):]: 0 for key in accounts.values()}
    if not accounts:
        return balances
    rows = db.session.execute(
        sa.select(Posting.account_id, sa.func.sum(Posting.debit), sa.func.sum(Posting.credit))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.posted.is_(True), Posting.account_id.in_(accounts))
        .group_by(Posting.account_id))
    for account_id, debit, credit in rows:
        balances[accounts[account_id][len(prefix):]] = int(debit or 0) - int(credit or 0)
    return balances


def _in_transit_values() -> dict[int, int]:
    """Value of transfers on the way, per sending business unit id (each line at its own cost, as received)."""
    rows = db.session.execute(
        sa.select(Outlet.unit_id, StockDocumentLine.quantity, StockDocumentLine.unit_cost)
        .select_from(StockDocumentLine)
        .join(StockDocument, StockDocumentLine.document_id == StockDocument.id)
        .join(Location, StockDocument.from_location_id == Location.id)
        .join(Outlet, Location.outlet_id == Outlet.id)
        .where(StockDocument.kind == "transfer", StockDocument.status == "sent"))
    values: dict[int, int] = {}
    for unit_id, qty, cost in rows:
        values[unit_id] = values.get(unit_id, 0) + stock.value_of(_qty(qty), Decimal(cost))
    return values


def stock_value(unit: BusinessUnit | None = None) -> StockValue:
    """Stock at cost per business unit and per category, next to the ledger's persediaan balance of the unit."""
    on_hand = stock_on_hand(unit=unit).rows
    ledger = ledger_inventory_balances()
    transit = _in_transit_values()
    per_unit: dict[int, int] = {}
    per_category: dict[tuple[int, int], int] = {}
    for row in on_hand:
        per_unit[row.unit.id] = per_unit.get(row.unit.id, 0) + row.value
        key = (row.unit.id, row.product.category_id)
        per_category[key] = per_category.get(key, 0) + row.value
    units = list(db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code)))
    if unit is not None:
        units = [u for u in units if u.id == unit.id]
    values = [
        UnitValue(u, per_unit.get(u.id, 0), transit.get(u.id, 0), ledger.get(u.code, 0), u.code in ledger)
        for u in units
        if u.id in per_unit or u.id in transit or u.code in ledger
    ]
    by_id = {u.id: u for u in units}
    categories = {c.id: c for c in db.session.scalars(sa.select(Category))}
    category_rows = sorted(
        (CategoryValue(by_id[unit_id], categories[category_id], value)
         for (unit_id, category_id), value in per_category.items()),
        key=lambda c: (c.unit.code, c.category.name))
    return StockValue(values, category_rows)


# --- overview and drift ---------------------------------------------------------------------


@dataclass(frozen=True)
class DriftRow:
    product: Product
    batch: Batch | None
    location: Location
    recorded: Decimal
    from_moves: Decimal

    @property
    def difference(self) -> Decimal:
        return self.recorded - self.from_moves


def drift() -> list[DriftRow]:
    """inventory.stock.check_drift() with names: every level that disagrees with the sum of its moves."""
    found = stock.check_drift()
    if not found:
        return []
    products = {p.id: p for p in db.session.scalars(
        sa.select(Product).where(Product.id.in_({d.product_id for d in found})))}
    locations = {loc.id: loc for loc in db.session.scalars(
        sa.select(Location).where(Location.id.in_({d.location_id for d in found})))}
    batch_ids = {d.batch_id for d in found if d.batch_id is not None}
    batches = {b.id: b for b in db.session.scalars(sa.select(Batch).where(Batch.id.in_(batch_ids)))}
    return [DriftRow(products[d.product_id], batches.get(d.batch_id) if d.batch_id else None,
                     locations[d.location_id], _qty(d.recorded), _qty(d.from_moves)) for d in found]


@dataclass
class Summary:
    values: StockValue
    expired_batches: int
    near_expiry_batches: int
    below_reorder: int
    drift: list[DriftRow] = field(default_factory=list)


def summary(today: dt.date) -> Summary:
    """The stock overview: value per unit, expired and near-expiry batches (by the category's threshold),
    products at or below their reorder point, and the drift check."""
    expiry = expiry_report(today)
    expired = {row.batch.id for row in expiry.rows if row.bucket == "expired"}
    near = {row.batch.id for row in expiry.rows if row.near and row.bucket != "expired"}
    return Summary(stock_value(), len(expired), len(near - expired), len(reorder_list()), drift())
