"""Stock moves and on-hand levels, kept together in the caller's write transaction; drift check from the moves."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from inventory.fefo import InsufficientStock, Lot
from inventory.models import Batch, Location, LocationKind, MoveKind, Product, ProductCost, StockLevel, StockMove
from pos.db import db, transaction_cache
from pos.errors import N_, InvalidInput

THOUSANDTH = Decimal("0.001")

# Indexes the stock reports read through (migration 0010_stock_indexes): a product's levels with their quantities
# from the index alone (what it holds outside karantina, the reorder list), and a product's moves in the order
# they happened (the kartu stok's pages and their opening sums).
sa.Index("ix_stock_level_product_held", StockLevel.product_id, StockLevel.location_id, StockLevel.batch_id,
         StockLevel.quantity)
sa.Index("ix_stock_move_product_at", StockMove.product_id, StockMove.at, StockMove.id)


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
    shelf = _on_shelf(to_location, qty) - _on_shelf(from_location, qty)
    if shelf:  # the product's summary of what it holds outside karantina, in SQL whatever the object's state
        db.session.execute(sa.update(Product).where(Product.id == product.id)
                           .values(shelf_quantity=Product.shelf_quantity + shelf)
                           .execution_options(synchronize_session=False))
    cost = unit_cost if unit_cost is not None else cost_at(product, from_location or to_location, batch)
    record = StockMove(
        product_id=product.id, batch_id=batch_id, from_location_id=from_location.id if from_location else None,
        to_location_id=to_location.id if to_location else None, quantity=qty, kind=kind, unit_cost=cost,
        source_type=source_type, source_id=str(source_id)[:80], reason=reason[:250], user_name=user_name[:40],
        **({"at": at} if at is not None else {}),
    )
    db.session.add(record)
    return record


def _on_shelf(location: Location | None, qty: Decimal) -> Decimal:
    """`qty` if it counts towards what the product holds (any location but karantina), else 0."""
    return qty if location is not None and location.kind != LocationKind.KARANTINA else Decimal(0)


def _held_per_product():
    """Each product's stock outside karantina, summed from its levels."""
    return (sa.select(StockLevel.product_id, sa.func.sum(StockLevel.quantity).label("held"))
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.kind != LocationKind.KARANTINA)
            .group_by(StockLevel.product_id))


def rebuild_summaries() -> None:
    """Set every product's shelf_quantity from its stock levels (inside the caller's write transaction): after a
    bulk load, or when `stock check` found a difference."""
    held = _held_per_product().subquery()
    db.session.execute(sa.update(Product).values(shelf_quantity=sa.func.coalesce(
        sa.select(held.c.held).where(held.c.product_id == Product.id).scalar_subquery(), 0)))


def shelf_drift(limit: int | None = None) -> list[tuple[int, Decimal, Decimal]]:
    """Products whose shelf_quantity is not the sum of their levels outside karantina (to the thousandth):
    (product id, recorded, from the levels)."""
    held = _held_per_product().subquery()
    from_levels = sa.func.coalesce(held.c.held, 0)
    query = (sa.select(Product.id, Product.shelf_quantity, from_levels)
             .outerjoin(held, held.c.product_id == Product.id)
             .where(sa.func.round(Product.shelf_quantity * 1000) != sa.func.round(from_levels * 1000))
             .order_by(Product.id).limit(limit))
    return [(pid, Decimal(str(recorded or 0)).quantize(THOUSANDTH), Decimal(str(levels or 0)).quantize(THOUSANDTH))
            for pid, recorded, levels in db.session.execute(query)]


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


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def milli(quantity):
    """A quantity column in exact integer thousandths (SQLite keeps numerics as doubles; PostgreSQL's are exact)."""
    if _sqlite():
        return sa.cast(sa.func.round(quantity * 1000), sa.Integer)
    return sa.cast(quantity * 1000, sa.BigInteger)


def _drift_query() -> sa.Select:
    """Every (product, batch, location) whose level differs from the sum of its moves, with both in thousandths:
    one GROUP BY over the levels and the moves (in, out) together, in SQL."""
    parts = sa.union_all(
        sa.select(StockLevel.product_id, StockLevel.batch_id, StockLevel.location_id.label("location_id"),
                  milli(StockLevel.quantity).label("recorded"), sa.literal(0).label("moved")),
        sa.select(StockMove.product_id, StockMove.batch_id, StockMove.to_location_id, sa.literal(0),
                  milli(StockMove.quantity)).where(StockMove.to_location_id.is_not(None)),
        sa.select(StockMove.product_id, StockMove.batch_id, StockMove.from_location_id, sa.literal(0),
                  -milli(StockMove.quantity)).where(StockMove.from_location_id.is_not(None)),
    ).subquery()
    recorded, moved = sa.func.sum(parts.c.recorded), sa.func.sum(parts.c.moved)
    return (sa.select(parts.c.product_id, parts.c.batch_id, parts.c.location_id, recorded, moved)
            .group_by(parts.c.product_id, parts.c.batch_id, parts.c.location_id)
            .having(recorded != moved))


def _thousandths(value) -> Decimal:
    return (Decimal(int(value or 0)) / 1000).quantize(THOUSANDTH)


def iter_drift() -> Iterator[Drift]:
    """Every level that disagrees with the sum of its moves, by product, batch and location, streamed."""
    drift = _drift_query().subquery()
    query = sa.select(drift).order_by(drift.c.product_id, sa.func.coalesce(drift.c.batch_id, 0), drift.c.location_id)
    result = db.session.execute(query.execution_options(yield_per=1000))
    try:
        for product_id, batch_id, location_id, recorded, moved in result:
            yield Drift(product_id, batch_id, location_id, _thousandths(recorded), _thousandths(moved))
    finally:
        result.close()


def check_drift(limit: int | None = None) -> list[Drift]:
    """Recompute on-hand from the moves and list every level that disagrees (the first `limit`): the full check,
    reading every move (`stock check`, the tests)."""
    return list(itertools.islice(iter_drift(), limit))


def count_drift() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(_drift_query().subquery())))


# --- a cheap drift check for pages ---------------------------------------------------------------
# The levels are kept in the moves' transaction, so they agree with them unless something went wrong (a bug, a
# hand edit). A page checks that with a checksum instead of summing every move per level: each level's quantity,
# weighted by a number drawn from its key, summed modulo a prime, equals the same weighted sum over the moves
# (arriving plus, leaving minus) exactly when no level differs -- barring a coincidence of about one in two
# billion; `stock check` does the full comparison. Moves are never changed or deleted (database triggers), so the
# moves' checksum is kept per database and brought up to date from the moves added since (id above the last one
# summed); the levels' is one scan of the level table. A mismatch sums every move again before it is believed.

DIGEST_PRIME = 2_147_483_647  # 2**31 - 1: a weight times a reduced quantity stays below 2**62


def _weight(product_id, batch_id, location_id):
    big = sa.BigInteger
    return ((sa.cast(product_id, big) * 1_000_003 + sa.cast(location_id, big) * 10_007
             + sa.cast(sa.func.coalesce(batch_id, 0), big) * 101) % DIGEST_PRIME) + 1


def _term(product_id, batch_id, location_id, quantity):
    return (_weight(product_id, batch_id, location_id) * (milli(quantity) % DIGEST_PRIME)) % DIGEST_PRIME


def _moves_digest_since(after_id: int):
    """(highest move id, weighted sum of the moves above `after_id`) as scalar subqueries of one statement."""
    arriving = sa.case((StockMove.to_location_id.is_not(None),
                        _term(StockMove.product_id, StockMove.batch_id, StockMove.to_location_id,
                              StockMove.quantity)), else_=0)
    leaving = sa.case((StockMove.from_location_id.is_not(None),
                       _term(StockMove.product_id, StockMove.batch_id, StockMove.from_location_id,
                             StockMove.quantity)), else_=0)
    newer = StockMove.id > after_id
    last = sa.select(sa.func.coalesce(sa.func.max(StockMove.id), after_id)).scalar_subquery()
    total = (sa.select(sa.func.coalesce(sa.func.sum(arriving), 0) - sa.func.coalesce(sa.func.sum(leaving), 0))
             .where(newer).scalar_subquery())
    return last, total


def level_term():
    """A level's part of the levels' checksum, as SQL (sum it over the levels, in any pass that reads them all)."""
    return _term(StockLevel.product_id, StockLevel.batch_id, StockLevel.location_id, StockLevel.quantity)


def _levels_digest():
    return sa.select(sa.func.coalesce(sa.func.sum(level_term()), 0)).scalar_subquery()


_digests: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> (last move id summed, digest)
_digests_lock = threading.Lock()


def _digests_now(after_id: int, levels: int | None = None) -> tuple[int, int, int]:
    """(highest move id, moves' digest above `after_id`, levels' digest), read in one statement (one snapshot);
    the levels' digest is taken as given when it is."""
    last, moves = _moves_digest_since(after_id)
    if levels is not None:
        found_last, found_moves = db.session.execute(sa.select(last, moves)).one()
        return int(found_last), int(found_moves), levels
    found_last, found_moves, found_levels = db.session.execute(sa.select(last, moves, _levels_digest())).one()
    return int(found_last), int(found_moves), int(found_levels)


def levels_match_moves(levels_digest: int | None = None) -> bool:
    """Whether every level agrees with its moves, by checksum (see above): one scan of the levels (none when the
    caller summed `levels_digest` = sum of level_term() in its own pass, in the same transaction) and of the moves
    added since the last call on this database."""
    engine = db.session.get_bind()
    with _digests_lock:
        known = _digests.get(engine)
    after_id, digest = known if known is not None else (0, 0)
    last, added, levels = _digests_now(after_id, levels_digest)
    moves = (digest + added) % DIGEST_PRIME
    if moves != levels % DIGEST_PRIME and levels_digest is not None:
        # The caller's levels were summed by another statement: on PostgreSQL (read committed) a sale committed in
        # between shows as a difference. Both again in one statement (one snapshot), before summing every move.
        last, added, levels = _digests_now(after_id)
        moves = (digest + added) % DIGEST_PRIME
    if moves != levels % DIGEST_PRIME and known is not None:
        # A move committed late under a lower id (PostgreSQL sequences) would be missed: sum them all again.
        last, moves, levels = _digests_now(0)
        moves %= DIGEST_PRIME
    with _digests_lock:
        _digests[engine] = (last, moves)
    return moves == levels % DIGEST_PRIME


def _fmt(value: Decimal) -> str:
    from pos.money import format_number

    return format_number(Decimal(value))
