"""Stock reports as plain data: on hand, kartu stok (stock card), expiry, reorder list, stock value against the
books, and the drift check. No Flask here: the web layer parses filters and turns these into pages and files.

Every figure over the whole catalog is one SQL aggregate (the value of each level, quantity times cost rounded half
up to whole rupiah, is computed in SQL exactly as stock.value_of does), long lists come a page at a time (keyset on
the list's sort key and the row id, never OFFSET), and the downloads stream their rows in chunks: no request reads
every product or every level into Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from inventory import fefo, stock
from inventory.models import (
    Batch,
    Category,
    Location,
    LocationKind,
    Product,
    ProductCost,
    StockDocument,
    StockDocumentLine,
    StockLevel,
    StockMove,
)
from ledger import models as ledger_models
from ledger.models import Account, JournalEntry, Posting
from ledger.posting_rules import persediaan
from pos.db import db
from pos.models import BusinessUnit, Outlet

ZERO = Decimal(0)
EXPIRY_BUCKETS = ("expired", "30", "60", "90", "later")  # "later": beyond 90 days, but near by its category
BUCKET_DAYS = ((30, "30"), (60, "60"), (90, "90"))
PAGE_ROWS = 100  # rows of a paged list on one page
BUCKET_ROWS = 50  # rows of each expiry group on the report's first view; the group's own view pages the rest
CHUNK_ROWS = 1000  # rows fetched at a time by a download
FAR_PAST = dt.date(1, 1, 1)  # sorts a level without batch before the batches


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


# --- SQL building blocks ------------------------------------------------------------------------


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def value_sql(quantity, unit_cost):
    """stock.value_of in SQL: quantity times cost, rounded half up (away from zero) to whole rupiah. PostgreSQL's
    numeric is exact; SQLite keeps numerics as doubles, so there the quantity (thousandths) and the cost
    (ten-thousandths) are made exact integers first and the product rounded in integer arithmetic (exact up to
    about Rp 900 billion per level)."""
    if not _sqlite():
        return sa.cast(sa.func.round(quantity * unit_cost), sa.BigInteger)
    product = (sa.cast(sa.func.round(quantity * 1000), sa.Integer)
               * sa.cast(sa.func.round(unit_cost * 10000), sa.Integer))
    half, unit = 5_000_000, 10_000_000
    return sa.case((product >= 0, (product + half) // unit), else_=-((half - product) // unit))


def _at_most(left, right):
    """left <= right for sums of quantities: SQLite adds doubles, so a sum of thousandths may be off in the
    sixteenth digit; half a thousandth of slack is exact for numbers that are whole thousandths."""
    return left <= right + sa.literal(0.0005, sa.Float) if _sqlite() else left <= right


@dataclass(frozen=True)
class Places:
    """The stock locations as plain ids: the business unit of each (through its outlet) and which are karantina,
    read once per report (a handful of rows) so the aggregates need not join locations and outlets per level."""

    unit_of: dict[int, int]
    karantina: frozenset[int]

    @classmethod
    def read(cls) -> Places:
        rows = db.session.execute(sa.select(Location.id, Outlet.unit_id, Location.kind)
                                  .join(Outlet, Location.outlet_id == Outlet.id)).all()
        return cls({lid: uid for lid, uid, _ in rows},
                   frozenset(lid for lid, _, kind in rows if kind == LocationKind.KARANTINA))

    def unit_sql(self, location_id=None):
        """The business unit id of a level's location, as SQL."""
        if not self.unit_of:
            return sa.null()
        return sa.case(self.unit_of, value=location_id if location_id is not None else StockLevel.location_id)

    def of_unit(self, unit_id: int) -> list[int]:
        return sorted(lid for lid, uid in self.unit_of.items() if uid == unit_id)

    @property
    def shelves(self) -> list[int]:
        return sorted(lid for lid in self.unit_of if lid not in self.karantina)


def _level_cost():
    """The cost a level is valued at: its batch's, or the moving average of the product in the unit that holds it."""
    return sa.case((StockLevel.batch_id.is_not(None), Batch.unit_cost),
                   else_=sa.func.coalesce(ProductCost.average_cost, 0))


def _levels(*columns, places: Places, product: bool = False, nonzero: bool = True) -> sa.Select:
    """Non-zero stock levels with what values them: the batch, and the average cost of the product in the unit of
    the level's location; with `product`, joined with the product too."""
    query = sa.select(*columns).select_from(StockLevel)
    if product:
        query = query.join(Product, StockLevel.product_id == Product.id)
    query = (query.outerjoin(Batch, StockLevel.batch_id == Batch.id)
             .outerjoin(ProductCost, sa.and_(ProductCost.product_id == StockLevel.product_id,
                                             ProductCost.unit_id == places.unit_sql())))
    return query.where(StockLevel.quantity != 0) if nonzero else query


def _level_value():
    return value_sql(StockLevel.quantity, _level_cost())


def _shown(query: sa.Select) -> sa.Select:
    """A page query's joins for what the rows show: the location and its business unit."""
    return (query.join(Location, StockLevel.location_id == Location.id)
            .join(Outlet, Location.outlet_id == Outlet.id)
            .join(BusinessUnit, Outlet.unit_id == BusinessUnit.id))


# --- keyset paging ------------------------------------------------------------------------------


@dataclass
class Slice:
    """One page of a list in its sort order, found from the row next to it (`after` or `before` a row id)."""

    rows: list
    has_prev: bool = False
    has_next: bool = False
    prev_cursor: int | None = None
    next_cursor: int | None = None


def _compare(columns: Sequence[Any], key: Sequence[Any], greater: bool):
    """(c1, c2, ...) > (k1, k2, ...) as a row value (SQLite 3.15+, PostgreSQL), each key bound as its column."""
    left = sa.tuple_(*columns)
    right = sa.tuple_(*[sa.literal(v, getattr(c, "type", None)) for c, v in zip(columns, key, strict=True)])
    return left > right if greater else left < right


def keyset(statement: sa.Select, order: Sequence[Any], key_of: Callable[[int], Sequence[Any] | None], *,
           size: int, after: int | None = None, before: int | None = None, descending: bool = False,
           id_of: Callable[[Any], int] = lambda row: row.id, fetch=None,
           narrow: Callable[[sa.Select, Sequence[Any] | None, bool], sa.Select] | None = None) -> Slice:
    """The rows of `statement` after (or before) the row with that id in the order of `order` (its last column
    unique), at most `size`: an index range scan of one page wherever the page is. `key_of(id)` reads a row's sort
    key again (None if it is gone: the first page then). `narrow(statement, key, backwards)` may restrict the
    statement further for the page (e.g. to the next products by name), as long as it keeps the page's rows."""
    fetch = fetch or db.session.execute
    forward = [c.desc() for c in order] if descending else [c.asc() for c in order]
    backward = [c.asc() for c in order] if descending else [c.desc() for c in order]
    key, going_back = None, False
    if before is not None:
        key = key_of(before)
        going_back = key is not None
    if key is None and after is not None:
        key = key_of(after)
    if narrow is not None:
        statement = narrow(statement, key, going_back)
    if key is None:
        rows = list(fetch(statement.order_by(*forward).limit(size + 1)))
        page = Slice(rows[:size], has_prev=False, has_next=len(rows) > size)
    elif going_back:
        rows = list(fetch(statement.where(_compare(order, key, greater=descending))
                          .order_by(*backward).limit(size + 1)))
        page = Slice(rows[:size][::-1], has_prev=len(rows) > size, has_next=True)
    else:
        rows = list(fetch(statement.where(_compare(order, key, greater=not descending))
                          .order_by(*forward).limit(size + 1)))
        page = Slice(rows[:size], has_prev=True, has_next=len(rows) > size)
    if page.rows:
        page.prev_cursor, page.next_cursor = id_of(page.rows[0]), id_of(page.rows[-1])
    elif key is not None:  # past the end (or before the start): only the way back
        page.prev_cursor = page.next_cursor = before if going_back else after
        page.has_prev, page.has_next = not going_back, going_back
    return page


def _key_reader(statement: sa.Select, id_column) -> Callable[[int], Sequence[Any] | None]:
    def key_of(row_id: int):
        found = db.session.execute(statement.where(id_column == row_id)).first()
        return tuple(found) if found is not None else None

    return key_of


def chunked(statement: sa.Select, size: int = CHUNK_ROWS) -> Iterator[sa.Row]:
    """Every row of `statement`, fetched `size` at a time from an open cursor (constant memory)."""
    result = db.session.execute(statement.execution_options(yield_per=size))
    try:
        yield from result
    finally:
        result.close()


# --- stock on hand ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnHandRow:
    product: Product
    location: Location
    unit: BusinessUnit
    batch: Batch | None
    quantity: Decimal
    unit_cost: Decimal
    value: int
    level_id: int = 0

    @property
    def expiry(self) -> dt.date | None:
        return self.batch.expiry_date if self.batch else None


@dataclass
class OnHand:
    """A page of stock on hand, with the totals of everything the filter matches."""

    rows: list[OnHandRow]
    total_value: int = 0
    products: int = 0
    count: int = 0  # levels the filter matches, all pages
    page: Slice = field(default_factory=lambda: Slice([]))


@dataclass(frozen=True)
class OnHandFilter:
    location: Location | None = None
    unit: BusinessUnit | None = None
    text: str = ""

    @property
    def words(self) -> str:
        return (self.text or "").strip().lower()[:80]

    def levels(self, query: sa.Select, places: Places, level=StockLevel) -> sa.Select:
        """The filter's conditions on the level (location, the location's unit)."""
        if self.location is not None:
            query = query.where(level.location_id == self.location.id)
        if self.unit is not None:
            query = query.where(level.location_id.in_(places.of_unit(self.unit.id)))
        return query

    def products(self, query: sa.Select) -> sa.Select:
        """The filter's conditions on the product (its SKU or name contains the words; a typed % is no wildcard)."""
        if self.words:
            query = query.where(sa.or_(sa.func.lower(Product.sku).contains(self.words, autoescape=True),
                                       sa.func.lower(Product.name).contains(self.words, autoescape=True)))
        return query


def _on_hand_order():
    """Product name, product, location, then batches by expiry and lot (a level without batch first)."""
    return (Product.name, Product.id, Location.code,
            sa.func.coalesce(Batch.expiry_date, sa.literal(FAR_PAST, sa.Date)), sa.func.coalesce(Batch.lot, ""),
            StockLevel.id)


def on_hand_totals(where: OnHandFilter, places: Places | None = None) -> tuple[int, int, int]:
    """(levels, products, value at cost) of everything the filter matches, in one SQL aggregate."""
    places = places or Places.read()
    query = _levels(sa.func.count(), sa.func.count(sa.distinct(StockLevel.product_id)),
                    sa.func.coalesce(sa.func.sum(_level_value()), 0), places=places, product=bool(where.words))
    count, products, value = db.session.execute(where.products(where.levels(query, places))).one()
    return int(count), int(products), int(value)


def _next_products(where: OnHandFilter, places: Places, size: int):
    """A page's narrowing: its levels belong to the next `size` + 2 products by name (from the cursor's product on)
    that hold stock matching the filter, found through the product name index; so a page reads a few hundred
    levels, not all of them sorted."""

    def narrow(statement: sa.Select, key, backwards: bool) -> sa.Select:
        held = where.levels(sa.select(StockLevel.id).where(StockLevel.product_id == Product.id,
                                                           StockLevel.quantity != 0), places)
        products = where.products(sa.select(Product.id).where(held.exists()))
        order = (Product.name, Product.id)
        if key is not None:
            mark = sa.tuple_(*[sa.literal(v, c.type) for c, v in zip(order, key[:2], strict=True)])
            products = products.where(sa.tuple_(*order) <= mark if backwards else sa.tuple_(*order) >= mark)
        products = products.order_by(*[c.desc() if backwards else c.asc() for c in order]).limit(size + 2)
        return statement.where(StockLevel.product_id.in_(products.scalar_subquery()))

    return narrow


def stock_on_hand(location: Location | None = None, unit: BusinessUnit | None = None, text: str = "", *,
                  after: int | None = None, before: int | None = None, size: int | None = PAGE_ROWS) -> OnHand:
    """Non-zero levels per product, location and batch, valued at cost: the batch's cost, or the product's
    moving average in the unit whose location holds it; by product name, a page of `size` rows after (or before)
    the level with that id (`size` None: all rows, for small uses). `unit` is the business unit whose location
    holds the stock. The totals cover every page."""
    where, places = OnHandFilter(location, unit, text), Places.read()
    order = _on_hand_order()
    statement = where.products(where.levels(_shown(_levels(
        StockLevel, Product, Location, BusinessUnit, Batch, _level_cost(), _level_value(), places=places,
        product=True)), places))
    if size is None:
        page = Slice(list(db.session.execute(statement.order_by(*order))))
    else:
        keys = _shown(_levels(*order, places=places, product=True, nonzero=False))
        page = keyset(statement, order, _key_reader(keys, StockLevel.id), size=size, after=after, before=before,
                      id_of=lambda row: row[0].id, narrow=_next_products(where, places, size))
    rows = [OnHandRow(p, loc, u, b, _qty(level.quantity), Decimal(cost), int(value), level.id)
            for level, p, loc, u, b, cost, value in page.rows]
    page.rows = rows
    count, products, value = on_hand_totals(where, places)
    return OnHand(rows, value, products, count, page)


def on_hand_rows(location: Location | None = None, unit: BusinessUnit | None = None,
                 text: str = "") -> Iterator[sa.Row]:
    """Every row of the on-hand report as plain columns (sku, name, unit code, location code, lot, expiry,
    quantity, base unit, cost, value), streamed in the report's order: for the downloads."""
    where, places = OnHandFilter(location, unit, text), Places.read()
    statement = where.products(where.levels(_shown(_levels(
        Product.sku, Product.name, BusinessUnit.code, Location.code, Batch.lot, Batch.expiry_date,
        StockLevel.quantity, Product.base_unit, _level_cost(), _level_value(), places=places, product=True)),
        places))
    return chunked(statement.order_by(*_on_hand_order()))


# --- kartu stok ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardLine:
    move: StockMove
    qty_in: Decimal
    qty_out: Decimal
    balance: Decimal


@dataclass
class StockCard:
    """A product's moves (one batch and/or location if given) in a period: the opening balance, the totals in and
    out of the whole period, and the lines of one page with the balance after each; `carried` is the balance
    before the page's first line, `earlier` and `later` count the period's moves before and after the page."""

    product: Product
    location: Location | None
    batch: Batch | None
    start: dt.datetime | None
    end: dt.datetime | None
    opening: Decimal
    lines: list[CardLine]
    total_in: Decimal = ZERO
    total_out: Decimal = ZERO
    carried: Decimal = ZERO
    earlier: int = 0
    later: int = 0
    moves: int = 0  # moves in the whole period
    page: Slice = field(default_factory=lambda: Slice([]))

    @property
    def closing(self) -> Decimal:
        return self.opening + self.total_in - self.total_out


def _moves_of(product: Product, location: Location | None, batch: Batch | None, *columns) -> sa.Select:
    query = sa.select(*columns).select_from(StockMove).where(StockMove.product_id == product.id)
    if batch is not None:
        query = query.where(StockMove.batch_id == batch.id)
    if location is not None:
        query = query.where(sa.or_(StockMove.from_location_id == location.id,
                                   StockMove.to_location_id == location.id))
    return query


def _in_out_sql(location: Location | None):
    """The (in, out) of a move on the card, as SQL (see move_in_out)."""
    if location is not None:
        return (sa.case((StockMove.to_location_id == location.id, StockMove.quantity), else_=0),
                sa.case((StockMove.from_location_id == location.id, StockMove.quantity), else_=0))
    return (sa.case((StockMove.to_location_id.is_not(None), StockMove.quantity), else_=0),
            sa.case((StockMove.from_location_id.is_not(None), StockMove.quantity), else_=0))


def _card_sums(query: sa.Select, location: Location | None) -> tuple[int, Decimal, Decimal]:
    qty_in, qty_out = _in_out_sql(location)
    count, total_in, total_out = db.session.execute(query.with_only_columns(
        sa.func.count(), sa.func.sum(qty_in), sa.func.sum(qty_out))).one()
    if not count:
        return 0, ZERO, ZERO
    return int(count), _qty(total_in), _qty(total_out)


def _in_period(query: sa.Select, start: dt.datetime | None, end: dt.datetime | None) -> sa.Select:
    if start is not None:
        query = query.where(StockMove.at >= start)
    if end is not None:
        query = query.where(StockMove.at < end)
    return query


def stock_card(product: Product, *, location: Location | None = None, batch: Batch | None = None,
               start: dt.datetime | None = None, end: dt.datetime | None = None, size: int | None = None,
               after: int | None = None, before: int | None = None) -> StockCard:
    """The moves of a product (one batch and/or location if given) from `start` up to, not including, `end`
    (aware datetimes), in the order they happened (time, then id), with the balance after each; the opening
    balance is what the moves before `start` left. With `size`, one page of that many moves (0: none, only the
    balances): the latest ones, or those right after (later than) or before (earlier than) the move with that
    id; the balances on the page start from the SQL sum of the moves before it, and the totals cover the whole
    period."""
    loc_id = location.id if location is not None else None
    opening = ZERO
    if start is not None:
        _, before_in, before_out = _card_sums(_moves_of(product, location, batch).where(StockMove.at < start),
                                              location)
        opening = before_in - before_out
    period = _in_period(_moves_of(product, location, batch), start, end)
    moves, total_in, total_out = _card_sums(period, location)
    order = (StockMove.at, StockMove.id)
    statement = period.with_only_columns(StockMove).options(
        orm.joinedload(StockMove.from_location), orm.joinedload(StockMove.to_location),
        orm.joinedload(StockMove.batch))
    if size is None:
        page = Slice(list(db.session.scalars(statement.order_by(*order))))
    elif size == 0:
        page = Slice([])
    else:  # newest first, so the first page is the latest moves; shown oldest first
        # later than `after` is before it in the newest-first order, earlier than `before` after it
        page = keyset(statement, order, _key_reader(sa.select(*order), StockMove.id), size=size, after=before,
                      before=after, descending=True, fetch=db.session.scalars)
        page.rows = page.rows[::-1]
        page.has_prev, page.has_next = page.has_next, page.has_prev  # prev: earlier moves, next: later ones
        page.prev_cursor, page.next_cursor = page.next_cursor, page.prev_cursor
    lines: list[CardLine] = []
    earlier = later = 0
    carried = opening
    if page.rows:
        first = page.rows[0]
        earlier, before_in, before_out = _card_sums(
            period.where(_compare(order, (first.at, first.id), greater=False)), location)
        carried = opening + before_in - before_out
        later = moves - earlier - len(page.rows)
        pairs = [move_in_out(_qty(m.quantity), m.from_location_id, m.to_location_id, loc_id) for m in page.rows]
        balances = running_balances(carried, pairs)
        lines = [CardLine(m, qin, qout, bal) for m, (qin, qout), bal in zip(page.rows, pairs, balances, strict=True)]
    return StockCard(product, location, batch, start, end, opening, lines, total_in, total_out, carried, earlier,
                     later, moves, page)


def card_rows(card: StockCard) -> Iterator[tuple[sa.Row, Decimal, Decimal, Decimal]]:
    """Every move of the card's period (not only its page) as plain columns (at, source type, source id, kind,
    from code, to code, lot, quantity, from id, to id) with its in, out and the balance after it, streamed in
    order from the card's opening balance: for the downloads."""
    source, target = orm.aliased(Location), orm.aliased(Location)
    query = _in_period(_moves_of(card.product, card.location, card.batch, StockMove.at, StockMove.source_type,
                                 StockMove.source_id, StockMove.kind, source.code, target.code, Batch.lot,
                                 StockMove.quantity, StockMove.from_location_id, StockMove.to_location_id)
                       .outerjoin(source, StockMove.from_location_id == source.id)
                       .outerjoin(target, StockMove.to_location_id == target.id)
                       .outerjoin(Batch, StockMove.batch_id == Batch.id), card.start, card.end)
    loc_id = card.location.id if card.location is not None else None
    balance = card.opening
    for row in chunked(query.order_by(StockMove.at, StockMove.id)):
        qty_in, qty_out = move_in_out(_qty(row.quantity), row.from_location_id, row.to_location_id, loc_id)
        balance = balance + qty_in - qty_out
        yield row, qty_in, qty_out, balance


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


@dataclass(frozen=True)
class BucketTotal:
    rows: int = 0  # levels (batch and location) in the group
    batches: int = 0
    value: int = 0


@dataclass
class ExpiryReport:
    """Per group: its first rows (or one page of them) and the counts and value of the whole group."""

    today: dt.date
    rows: list[ExpiryRow]
    totals: dict[str, BucketTotal] = field(default_factory=dict)
    pages: dict[str, Slice] = field(default_factory=dict)

    def group(self, bucket: str) -> list[ExpiryRow]:
        return [row for row in self.rows if row.bucket == bucket]

    def value(self, bucket: str) -> int:
        return self.totals.get(bucket, BucketTotal()).value

    def batch_count(self, bucket: str) -> int:
        return self.totals.get(bucket, BucketTotal()).batches

    def row_count(self, bucket: str) -> int:
        return self.totals.get(bucket, BucketTotal()).rows

    def more(self, bucket: str) -> int:
        """Rows of the group not shown here."""
        return self.row_count(bucket) - len(self.group(bucket))

    @property
    def total_value(self) -> int:
        return sum(t.value for t in self.totals.values())


class _ExpirySQL:
    """The expiry report's conditions for one day: expired, within 30/60/90 days, or near by the category."""

    def __init__(self, today: dt.date):
        self.today = today
        self.thresholds = dict(db.session.execute(sa.select(Category.id, Category.near_expiry_days)).all())
        expiry = Batch.expiry_date
        # near: expired, or at most the category's own number of days left (0 for a product without category)
        cutoffs = {cid: today + dt.timedelta(days=days) for cid, days in self.thresholds.items()}
        self.cutoff = (sa.case({cid: sa.literal(day, sa.Date) for cid, day in cutoffs.items()},
                               value=Product.category_id, else_=sa.literal(today, sa.Date)) if cutoffs
                       else sa.literal(today, sa.Date))
        self.near = expiry <= self.cutoff
        self.expired = expiry < sa.literal(today, sa.Date)
        day = lambda n: sa.literal(today + dt.timedelta(days=n), sa.Date)  # noqa: E731
        self.bucket = sa.case((self.expired, "expired"), (expiry <= day(30), "30"), (expiry <= day(60), "60"),
                              (expiry <= day(90), "90"), else_="later")
        # the furthest any row can expire: 90 days, or a category's longer threshold (an index range on expiry)
        self.horizon = max([today + dt.timedelta(days=90), *cutoffs.values()])
        self.listed = sa.and_(expiry <= sa.literal(self.horizon, sa.Date), sa.or_(expiry <= day(90), self.near))
        self.ranges = {"expired": (None, today - dt.timedelta(days=1)), "30": (today, today + dt.timedelta(days=30)),
                       "60": (today + dt.timedelta(days=31), today + dt.timedelta(days=60)),
                       "90": (today + dt.timedelta(days=61), today + dt.timedelta(days=90)),
                       "later": (today + dt.timedelta(days=91), None)}

    def base(self, *columns) -> sa.Select:
        """Levels of batches with stock that the report lists, with their batch and product (a level of a batch
        is valued at the batch's cost)."""
        return (sa.select(*columns).select_from(StockLevel)
                .join(Batch, StockLevel.batch_id == Batch.id)
                .join(Product, StockLevel.product_id == Product.id)
                .where(StockLevel.batch_id.is_not(None), StockLevel.quantity > 0, Batch.expiry_date.is_not(None),
                       self.listed))

    def in_bucket(self, query: sa.Select, bucket: str) -> sa.Select:
        low, high = self.ranges[bucket]
        if low is not None:
            query = query.where(Batch.expiry_date >= sa.literal(low, sa.Date))
        if high is not None:
            query = query.where(Batch.expiry_date <= sa.literal(high, sa.Date))
        return query.where(self.near) if bucket == "later" else query

    def totals(self) -> dict[str, tuple[BucketTotal, int]]:
        """Per group: its rows, batches and value, and how many of its batches are near by their category; one
        GROUP BY (a batch is in one group only: the group follows its expiry date)."""
        value = value_sql(StockLevel.quantity, Batch.unit_cost)
        near = sa.case((sa.and_(sa.not_(self.expired), self.near), StockLevel.batch_id))
        found = {name: (BucketTotal(), 0) for name in EXPIRY_BUCKETS}
        for name, rows, batches, total, near_batches in db.session.execute(
                self.base(self.bucket, sa.func.count(), sa.func.count(sa.distinct(StockLevel.batch_id)),
                          sa.func.coalesce(sa.func.sum(value), 0), sa.func.count(sa.distinct(near)))
                .group_by(sa.text("1"))):
            found[name] = (BucketTotal(int(rows), int(batches), int(total)), int(near_batches))
        return found


def _expiry_order():
    return (Batch.expiry_date, Product.name, Batch.lot, Location.code, StockLevel.id)


def _expiry_rows(sql: _ExpirySQL, query: sa.Select) -> list[tuple[str, OnHandRow]]:
    return [(bucket, OnHandRow(p, loc, u, b, _qty(level.quantity), Decimal(b.unit_cost), int(value), level.id))
            for bucket, level, p, loc, u, b, value in db.session.execute(query)]


def expiry_report(today: dt.date, *, bucket: str | None = None, size: int | None = BUCKET_ROWS,
                  after: int | None = None, before: int | None = None) -> ExpiryReport:
    """Batches with stock that have expired or expire within 90 days, or sooner than their category's
    near-expiry threshold, per location; karantina included (expired goods waiting to be destroyed). Each group's
    count of rows and batches and its value are SQL aggregates over the whole group; its rows are the first `size`
    of the group (`size` None: all), or with `bucket`, that group alone a page at a time (after / before a level
    id)."""
    sql = _ExpirySQL(today)
    totals = {name: total for name, (total, _near) in sql.totals().items()}
    columns = (sql.bucket, StockLevel, Product, Location, BusinessUnit, Batch,
               value_sql(StockLevel.quantity, Batch.unit_cost))
    order = _expiry_order()
    found: list[tuple[str, OnHandRow]] = []
    pages: dict[str, Slice] = {}
    if bucket:
        if totals[bucket].rows:
            keys = _shown(sa.select(*order).select_from(StockLevel).join(Batch, StockLevel.batch_id == Batch.id)
                          .join(Product, StockLevel.product_id == Product.id))
            page = keyset(sql.in_bucket(_shown(sql.base(*columns)), bucket), order,
                          _key_reader(keys, StockLevel.id), size=size or PAGE_ROWS, after=after, before=before,
                          id_of=lambda row: row[1].id)
            found = [(name, OnHandRow(p, loc, u, b, _qty(level.quantity), Decimal(b.unit_cost), int(value),
                                      level.id)) for name, level, p, loc, u, b, value in page.rows]
            page.rows = [row for _, row in found]
            pages[bucket] = page
    else:
        statement = _shown(sql.base(*columns))
        if size is not None:  # the first `size` rows of each group: numbered per group in SQL
            numbered = _shown(sql.base(StockLevel.id.label("level_id"), sa.func.row_number().over(
                partition_by=sql.bucket, order_by=order).label("n"))).subquery()
            statement = statement.where(StockLevel.id.in_(
                sa.select(numbered.c.level_id).where(numbered.c.n <= size)))
        found = _expiry_rows(sql, statement.order_by(*order))
    rows = []
    for name, row in found:
        expiry = row.batch.expiry_date
        threshold = sql.thresholds.get(row.product.category_id, 0)
        near = fefo.is_expired(expiry, today) or fefo.is_near_expiry(expiry, today, threshold)
        rows.append(ExpiryRow(row, (expiry - today).days, name, near))
    return ExpiryReport(today, rows, totals, pages)


def expiry_rows(today: dt.date) -> Iterator[tuple[str, sa.Row, int, bool]]:
    """Every row of the expiry report, group after group, as (group, plain columns: sku, name, lot, expiry,
    location code, quantity, base unit, value, category id, days left, near), streamed: for the downloads."""
    sql = _ExpirySQL(today)
    query = (sql.base(sql.bucket, Product.sku, Product.name, Batch.lot, Batch.expiry_date, Location.code,
                      StockLevel.quantity, Product.base_unit, value_sql(StockLevel.quantity, Batch.unit_cost),
                      Product.category_id)
             .join(Location, StockLevel.location_id == Location.id))
    for row in chunked(query.order_by(*_expiry_order())):
        expiry = row.expiry_date
        threshold = sql.thresholds.get(row.category_id, 0)
        near = fefo.is_expired(expiry, today) or fefo.is_near_expiry(expiry, today, threshold)
        yield row[0], row, (expiry - today).days, near


def expiry_counts(today: dt.date) -> tuple[int, int]:
    """(expired batches, batches near expiry by their category's threshold but not expired) that hold stock."""
    totals = _ExpirySQL(today).totals()
    return totals["expired"][0].batches, sum(near for name, (_, near) in totals.items() if name != "expired")


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


@dataclass
class ReorderList:
    rows: list[ReorderRow]
    count: int = 0  # products to reorder, all pages
    page: Slice = field(default_factory=lambda: Slice([]))


def in_transit_quantities(product_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """Quantities sent on transfers not yet received, per product (they are in no location meanwhile); of the
    given products only, when given."""
    sent = sa.select(StockDocument.id).where(StockDocument.kind == "transfer", StockDocument.status == "sent")
    query = (sa.select(StockDocumentLine.product_id, sa.func.sum(StockDocumentLine.quantity))
             .where(StockDocumentLine.document_id.in_(sent))  # through the lines' document index
             .group_by(StockDocumentLine.product_id))
    if product_ids is not None:
        query = query.where(StockDocumentLine.product_id.in_(list(product_ids)))
    return {product_id: _qty(total) for product_id, total in db.session.execute(query)}


def _to_reorder(*columns) -> sa.Select:
    """Active products with a reorder point holding at most that outside karantina (product.shelf_quantity, the
    summary of their levels kept with every stock move)."""
    return (sa.select(*columns).select_from(Product)
            .where(Product.active.is_(True), Product.reorder_point > 0,
                   _at_most(Product.shelf_quantity, Product.reorder_point)))


def reorder_count() -> int:
    """Active products at or below their reorder point (stock outside karantina): one count over the index
    ix_product_reorder, reading the products' shelf_quantity (kept with every stock move, checked by `stock check`)
    instead of summing their levels."""
    return int(db.session.scalar(_to_reorder(sa.func.count())))


def reorder_list(*, after: int | None = None, before: int | None = None,
                 size: int | None = PAGE_ROWS) -> ReorderList:
    """Active products whose stock in every location but karantina is at or below their reorder point
    (products without a reorder point are left out), by name, a page at a time (after / before a product id;
    `size` None: all); what is on the way between locations is shown apart."""
    statement = _to_reorder(Product, Product.shelf_quantity.label("held"))
    order = (Product.name, Product.id)
    if size is None:
        page = Slice(list(db.session.execute(statement.order_by(*order))))
    else:
        page = keyset(statement, order, _key_reader(sa.select(*order), Product.id), size=size, after=after,
                      before=before, id_of=lambda row: row[0].id)
    transit = in_transit_quantities(row[0].id for row in page.rows) if page.rows else {}
    rows = []
    for product, held in page.rows:
        on_hand = _qty(held)
        rows.append(ReorderRow(product, on_hand, transit.get(product.id, ZERO),
                               shortfall(on_hand, _qty(product.reorder_point)) or ZERO))
    page.rows = rows
    return ReorderList(rows, reorder_count(), page)


def reorder_rows() -> Iterator[tuple[sa.Row, Decimal]]:
    """Every product to reorder as plain columns (id, sku, name, base unit, reorder point, held) with what is on
    the way, streamed by name: for the downloads."""
    statement = _to_reorder(Product.id, Product.sku, Product.name, Product.base_unit, Product.reorder_point,
                            Product.shelf_quantity.label("held")).order_by(Product.name, Product.id)
    transit = in_transit_quantities()  # one row per product on a sent transfer: a handful
    for row in chunked(statement):
        yield row, transit.get(row.id, ZERO)


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
    days = getattr(ledger_models, "AccountDay", None)  # the posted postings summed per day (ledger.balances)
    if days is not None:
        rows = db.session.execute(
            sa.select(days.account_id, sa.func.sum(days.debit), sa.func.sum(days.credit))
            .where(days.account_id.in_(accounts)).group_by(days.account_id))
    else:
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
    sent = (sa.select(StockDocument.id, Outlet.unit_id)
            .join(Location, StockDocument.from_location_id == Location.id)
            .join(Outlet, Location.outlet_id == Outlet.id)
            .where(StockDocument.kind == "transfer", StockDocument.status == "sent")).subquery()
    rows = db.session.execute(  # the few transfers on the way first, then their lines through the document index
        sa.select(sent.c.unit_id, sa.func.sum(value_sql(StockDocumentLine.quantity, StockDocumentLine.unit_cost)))
        .select_from(sent).join(StockDocumentLine, StockDocumentLine.document_id == sent.c.id)
        .group_by(sent.c.unit_id))
    return {unit_id: int(value or 0) for unit_id, value in rows}


def value_per_unit_and_category(unit: BusinessUnit | None = None, *,
                                 digest: bool = False) -> tuple[dict[tuple[int, int], int], int | None]:
    """Stock at cost per (business unit id, category id) of the locations' units: one GROUP BY over the levels;
    with `digest`, the same pass also sums the levels' drift checksum (stock.levels_match_moves), which a level
    holding nothing does not change."""
    places = Places.read()
    columns = [places.unit_sql(), Product.category_id, sa.func.sum(_level_value())]
    if digest:
        columns.append(sa.func.sum(stock.level_term()))
    query = _levels(*columns, places=places, product=True).group_by(sa.text("1"), sa.text("2"))
    if unit is not None:
        query = query.where(StockLevel.location_id.in_(places.of_unit(unit.id)))
    per_category, total = {}, 0
    for row in db.session.execute(query):
        per_category[(row[0], row[1])] = int(row[2] or 0)
        if digest:
            total += int(row[3] or 0)
    return per_category, (total if digest else None)


def stock_value(unit: BusinessUnit | None = None,
                per_category: dict[tuple[int, int], int] | None = None) -> StockValue:
    """Stock at cost per business unit and per category, next to the ledger's persediaan balance of the unit
    (`per_category`: value_per_unit_and_category already read)."""
    if per_category is None:
        per_category, _ = value_per_unit_and_category(unit)
    ledger = ledger_inventory_balances()
    transit = _in_transit_values()
    per_unit: dict[int, int] = {}
    for (unit_id, _category_id), value in per_category.items():
        per_unit[unit_id] = per_unit.get(unit_id, 0) + value
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


DRIFT_ROWS = 100  # differences listed on the overview (stock check lists them all)


def _named(found: list[stock.Drift]) -> list[DriftRow]:
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


def drift(limit: int | None = None) -> list[DriftRow]:
    """inventory.stock.check_drift() with names: every level that disagrees with the sum of its moves (the first
    `limit`)."""
    return _named(stock.check_drift(limit=limit))


@dataclass
class Drift:
    """The overview's drift check: how many levels disagree with their moves and the first of them."""

    count: int
    rows: list[DriftRow]

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return iter(self.rows)

    def __bool__(self) -> bool:
        return self.count > 0


def drift_check(levels_digest: int | None = None) -> Drift:
    """The drift check for a page: a checksum of every level against the same checksum of every move
    (stock.levels_match_moves, cheap while they agree); only when they differ are the differences looked up.
    `levels_digest`: the levels' checksum already summed (by the value report's pass over the levels)."""
    if stock.levels_match_moves(levels_digest):
        return Drift(0, [])
    return Drift(stock.count_drift(), drift(limit=DRIFT_ROWS))


@dataclass
class Attention:
    expired_batches: int
    near_expiry_batches: int
    below_reorder: int


def attention(today: dt.date) -> Attention:
    """The dashboard's stock card: expired and near-expiry batches that hold stock, products to reorder."""
    expired, near = expiry_counts(today)
    return Attention(expired, near, reorder_count())


@dataclass
class Summary:
    values: StockValue
    expired_batches: int
    near_expiry_batches: int
    below_reorder: int
    drift: Drift = field(default_factory=lambda: Drift(0, []))


def summary(today: dt.date) -> Summary:
    """The stock overview: value per unit, expired and near-expiry batches (by the category's threshold),
    products at or below their reorder point, and the drift check."""
    counts = attention(today)
    per_category, levels_digest = value_per_unit_and_category(digest=True)
    return Summary(stock_value(per_category=per_category), counts.expired_batches, counts.near_expiry_batches,
                   counts.below_reorder, drift_check(levels_digest))
