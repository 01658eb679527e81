"""Stock moves and on-hand levels, kept together in the caller's write transaction; drift check from the moves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from inventory.fefo import InsufficientStock, Lot
from inventory.models import Batch, Location, MoveKind, Product, ProductCost, StockLevel, StockMove
from pos.db import db, transaction_cache
from pos.errors import N_, InvalidInput

THOUSANDTH = Decimal("0.001")


def quantity(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise InvalidInput(N_("The quantity must be more than zero."))
    if value != value.quantize(THOUSANDTH):
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=3)
    if value > Decimal(10**9):
        raise InvalidInput(N_("That quantity is too large."))
    return value


def _level(product_id: int, location_id: int, batch_id: int | None) -> StockLevel:
    cache = transaction_cache("stock_levels")
    key = (product_id, location_id, batch_id)
    level = cache.get(key)
    if level is not None:
        return level
    query = sa.select(StockLevel).where(StockLevel.product_id == product_id, StockLevel.location_id == location_id)
    query = query.where(StockLevel.batch_id.is_(None) if batch_id is None else StockLevel.batch_id == batch_id)
    level = db.session.scalar(query)
    if level is None:
        level = StockLevel(product_id=product_id, location_id=location_id, batch_id=batch_id, quantity=Decimal(0))
        db.session.add(level)
        db.session.flush()
    cache[key] = level
    return level


def preload(product_ids: set[int], location: Location) -> None:
    """Read at once the stock levels and the unit's average costs that moves of these products at `location` will
    need (inside the caller's write transaction): a sale of ten lines then reads two rows, not twenty."""
    if not product_ids:
        return
    cache = transaction_cache("stock_levels")
    for level in db.session.scalars(sa.select(StockLevel).where(StockLevel.location_id == location.id,
                                                                StockLevel.product_id.in_(product_ids))):
        cache[(level.product_id, level.location_id, level.batch_id)] = level
    costs = transaction_cache("product_costs")  # strong references: session.get then finds them without SQL
    for row in db.session.scalars(sa.select(ProductCost).where(ProductCost.unit_id == location.outlet.unit_id,
                                                               ProductCost.product_id.in_(product_ids))):
        costs[(row.product_id, row.unit_id)] = row


def move(
    *, product: Product, qty: Decimal, kind: MoveKind, source_type: str, source_id: str, user_name: str,
    from_location: Location | None = None, to_location: Location | None = None, batch: Batch | None = None,
    unit_cost: Decimal | None = None, reason: str = "", allow_negative: bool = False, at: dt.datetime | None = None,
) -> StockMove:
    """Record one move and update the levels it touches. Batch-tracked stock never goes below zero; other
    goods only with `allow_negative` (the outlet's choice or a manager's override)."""
    quantity(qty)
    if product.tracks_batches and batch is None:
        raise InvalidInput(N_("%(product)s is tracked by batch: say which batch."), product=product.name)
    if batch is not None and batch.product_id != product.id:
        raise InvalidInput(N_("That batch belongs to another product."))
    if from_location is None and to_location is None:
        raise InvalidInput(N_("A stock move needs a location."))
    batch_id = batch.id if batch else None
    if from_location is not None:
        level = _level(product.id, from_location.id, batch_id)
        if level.quantity - qty < 0 and (batch is not None or not allow_negative):
            raise InsufficientStock(
                N_("Not enough %(product)s at %(location)s: %(available)s on hand, %(wanted)s wanted."),
                product=product.name, location=from_location.name, available=_fmt(level.quantity), wanted=_fmt(qty),
            )
        level.quantity = level.quantity - qty
    if to_location is not None:
        level = _level(product.id, to_location.id, batch_id)
        level.quantity = level.quantity + qty
    cost = unit_cost if unit_cost is not None else cost_at(product, from_location or to_location, batch)
    record = StockMove(
        product_id=product.id, batch_id=batch_id, from_location_id=from_location.id if from_location else None,
        to_location_id=to_location.id if to_location else None, quantity=qty, kind=kind, unit_cost=cost,
        source_type=source_type, source_id=str(source_id)[:80], reason=reason[:250], user_name=user_name[:40],
        **({"at": at} if at is not None else {}),
    )
    db.session.add(record)
    return record


def value_of(qty: Decimal, unit_cost: Decimal) -> int:
    """A quantity's cost in whole rupiah, rounded half up (the one place stock value is rounded)."""
    return int((qty * unit_cost).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def on_hand(product_id: int, location_id: int | None = None, batch_id: int | None = None) -> Decimal:
    query = sa.select(sa.func.coalesce(sa.func.sum(StockLevel.quantity), 0)).where(StockLevel.product_id == product_id)
    if location_id is not None:
        query = query.where(StockLevel.location_id == location_id)
    if batch_id is not None:
        query = query.where(StockLevel.batch_id == batch_id)
    return Decimal(db.session.scalar(query))


def lots_at(product_id: int, location_id: int) -> list[Lot]:
    rows = db.session.execute(
        sa.select(Batch.id, Batch.lot, Batch.expiry_date, StockLevel.quantity)
        .join(StockLevel, StockLevel.batch_id == Batch.id)
        .where(StockLevel.product_id == product_id, StockLevel.location_id == location_id, StockLevel.quantity > 0)
    )
    return [Lot(batch_id, lot, expiry, Decimal(qty)) for batch_id, lot, expiry, qty in rows]


def average_cost(product_id: int, unit_id: int) -> Decimal:
    found = db.session.get(ProductCost, (product_id, unit_id))
    return Decimal(found.average_cost) if found is not None else Decimal(0)


def cost_at(product: Product, location: Location, batch: Batch | None = None) -> Decimal:
    """What one base unit costs there: the batch's own cost, or the moving average of the location's unit."""
    if batch is not None:
        return Decimal(batch.unit_cost)
    return average_cost(product.id, location.outlet.unit_id)


def held_in_unit(product_id: int, unit_id: int) -> Decimal:
    from pos.models import Outlet

    query = (sa.select(sa.func.coalesce(sa.func.sum(StockLevel.quantity), 0))
             .join(Location, StockLevel.location_id == Location.id).join(Outlet)
             .where(StockLevel.product_id == product_id, Outlet.unit_id == unit_id))
    return Decimal(db.session.scalar(query))


def average_in(product: Product, location: Location, received: Decimal, unit_cost: Decimal) -> Decimal:
    """Goods arrive in the location's unit at `unit_cost`: the unit's moving average over what it holds (negative
    stock counts as none) and what arrives. Call before moving the goods in."""
    unit_id = location.outlet.unit_id
    held = max(held_in_unit(product.id, unit_id), Decimal(0))
    row = db.session.get(ProductCost, (product.id, unit_id))
    if row is None:
        row = ProductCost(product_id=product.id, unit_id=unit_id, average_cost=Decimal(0))
        db.session.add(row)
    total = held + received
    new = unit_cost if total <= 0 else (held * Decimal(row.average_cost) + received * unit_cost) / total
    row.average_cost = new.quantize(Decimal("0.0001"))
    db.session.flush()
    return Decimal(row.average_cost)


@dataclass(frozen=True)
class Drift:
    product_id: int
    batch_id: int | None
    location_id: int
    recorded: Decimal
    from_moves: Decimal


def check_drift() -> list[Drift]:
    """Recompute on-hand from the moves and list every level that disagrees."""
    from_moves: dict[tuple[int, int | None, int], Decimal] = {}
    for column, sign in ((StockMove.to_location_id, 1), (StockMove.from_location_id, -1)):
        rows = db.session.execute(
            sa.select(StockMove.product_id, StockMove.batch_id, column, sa.func.sum(StockMove.quantity))
            .where(column.is_not(None)).group_by(StockMove.product_id, StockMove.batch_id, column)
        )
        for product_id, batch_id, location_id, total in rows:
            key = (product_id, batch_id, location_id)
            from_moves[key] = from_moves.get(key, Decimal(0)) + sign * Decimal(total)
    recorded = {
        (lvl.product_id, lvl.batch_id, lvl.location_id): Decimal(lvl.quantity)
        for lvl in db.session.scalars(sa.select(StockLevel))
    }
    problems = []
    for key in sorted(set(from_moves) | set(recorded), key=lambda k: (k[0], k[1] or 0, k[2])):
        expected, actual = from_moves.get(key, Decimal(0)), recorded.get(key, Decimal(0))
        if expected != actual:
            problems.append(Drift(key[0], key[1], key[2], actual, expected))
    return problems


def _fmt(value: Decimal) -> str:
    from pos.money import format_number

    return format_number(Decimal(value))
