"""Every stock summary (overview, stock on hand, stock value per unit and category, expiry groups, reorder list,
kartu stok, the drift check) against a straightforward recomputation in Python from the stock_move, stock_level,
batch and product_cost rows, on the full demo cooperative with a few more cases added (a lot long expired and
quarantined, lots near expiry, a category with a longer threshold, a transfer on the way, a negative level, a
quantity with decimals); and paging: walking the pages forward and back visits every row exactly once, in order.

The demo is loaded once for the module (it takes a while); the tests only read it, except the last, which edits a
level behind the moves' back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections import defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa

from inventory import reports, services, stock
from inventory.models import (
    Batch,
    Category,
    Location,
    LocationKind,
    MoveKind,
    Product,
    ProductCost,
    StockDocument,
    StockDocumentLine,
    StockLevel,
    StockMove,
    Supplier,
)
from ledger.models import Account, JournalEntry, Posting
from pos.db import db, write_transaction
from pos.models import BusinessUnit, Outlet
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, base_config, sign_in, truncate_all

D = Decimal
FAR_PAST = dt.date(1, 1, 1)


# --- the demo, loaded once --------------------------------------------------------------------------------------


def _base_unit(product: Product):
    return next(u for u in product.units if u.factor == 1)


def _add_cases(today: dt.date) -> None:
    """What the demo lacks for the reports' every branch."""
    medicine = db.session.scalars(sa.select(Product).where(Product.tracks_batches.is_(True), Product.active.is_(True))
                                  .order_by(Product.id)).first()
    goods = db.session.scalars(sa.select(Product).where(Product.tracks_batches.is_(False), Product.active.is_(True),
                                                        Product.unit_id == _unit("TOKO").id)
                               .order_by(Product.id)).all()
    pbf = db.session.scalar(sa.select(Supplier).where(Supplier.code == "PBF"))
    spb = db.session.scalar(sa.select(Supplier).where(Supplier.code == "SPB"))
    apotek, toko, gudang = (services.location_by_code(c) for c in ("AP-APOTEK", "TK-TOKO", "GD-GUDANG"))
    unit = _base_unit(medicine)
    services.receive_goods(services.ReceiptInput(pbf, "SUM-OLD", today - dt.timedelta(days=3), apotek, (
        services.ReceiptLine(medicine, unit, D(7), 1_000, "SUMEXP", today - dt.timedelta(days=2)),
    ), "bank"), None)
    services.quarantine_expired(today)
    services.receive_goods(services.ReceiptInput(pbf, "SUM-NEW", today, apotek, (
        services.ReceiptLine(medicine, unit, D(11), 1_250, "SUM10", today + dt.timedelta(days=10)),
        services.ReceiptLine(medicine, unit, D(13), 1_330, "SUM45", today + dt.timedelta(days=45)),
        services.ReceiptLine(medicine, unit, D(17), 1_410, "SUM75", today + dt.timedelta(days=75)),
        services.ReceiptLine(medicine, unit, D(19), 1_490, "SUM150", today + dt.timedelta(days=150)),
        services.ReceiptLine(medicine, unit, D(23), 1_570, "SUM900", today + dt.timedelta(days=900)),
    ), "bank"), None)
    db.session.get(Category, medicine.category_id).near_expiry_days = 200  # SUM150 is near by its category
    first, second = goods[0], goods[1]
    services.receive_goods(services.ReceiptInput(spb, "SUM-KG", today, gudang, (
        services.ReceiptLine(first, _base_unit(first), D("12.345"), 10_001),
        services.ReceiptLine(second, _base_unit(second), D(40), 2_503),
    ), "bank"), None)
    services.send_transfer(gudang, toko, [services.TransferRequest(first, D("2.5"))], today, None)  # on the way
    stock.move(product=second, qty=D("3.333"), kind=MoveKind.ADJUSTMENT, source_type="test", source_id="neg",
               user_name="test", from_location=services.location_by_code("TK-KARANTINA"), allow_negative=True)
    second.reorder_point = D(10_000)  # far below its point now


def _unit(code: str) -> BusinessUnit:
    return db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == code))


@pytest.fixture(scope="module")
def demo(migrated_template, tmp_path_factory):
    from pos.app import create_app
    from pos.demo import load_demo
    from pos.web.templating import local_today

    instance = tmp_path_factory.mktemp("summaries")
    if ON_POSTGRES:
        url = TEST_DATABASE_URL
    else:
        shutil.copyfile(migrated_template, instance / "kasir.db")
        url = f"sqlite:///{instance / 'kasir.db'}"
    app = create_app(base_config(instance / "instance", url))
    with app.app_context():
        load_demo()
        with write_transaction():
            _add_cases(local_today())
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRES:
        truncate_all(db.metadata)


@pytest.fixture
def ctx(demo):
    with demo.app_context():
        yield demo
        db.session.remove()


@pytest.fixture
def today(ctx) -> dt.date:
    from pos.web.templating import local_today

    return local_today()


# --- the recomputation ------------------------------------------------------------------------------------------


class Rows:
    """The stock tables read whole, and every figure recomputed from them the plain way."""

    def __init__(self):
        self.products = {p.id: p for p in db.session.scalars(sa.select(Product))}
        self.locations = {loc.id: loc for loc in db.session.scalars(sa.select(Location))}
        outlets = {o.id: o for o in db.session.scalars(sa.select(Outlet))}
        self.unit_of = {loc.id: outlets[loc.outlet_id].unit_id for loc in self.locations.values()}
        self.units = {u.id: u for u in db.session.scalars(sa.select(BusinessUnit))}
        self.batches = {b.id: b for b in db.session.scalars(sa.select(Batch))}
        self.costs = {(c.product_id, c.unit_id): D(c.average_cost) for c in db.session.scalars(sa.select(ProductCost))}
        self.categories = {c.id: c for c in db.session.scalars(sa.select(Category))}
        self.levels = list(db.session.scalars(sa.select(StockLevel)))
        self.moves = list(db.session.scalars(sa.select(StockMove).order_by(StockMove.at, StockMove.id)))

    def cost(self, level: StockLevel) -> D:
        if level.batch_id is not None:
            return D(self.batches[level.batch_id].unit_cost)
        return self.costs.get((level.product_id, self.unit_of[level.location_id]), D(0))

    def value(self, level: StockLevel) -> int:
        return stock.value_of(D(level.quantity), self.cost(level))

    def on_hand(self, location=None, unit=None, text=""):
        words = text.strip().lower()
        found = []
        for level in self.levels:
            product = self.products[level.product_id]
            if level.quantity == 0 or (location and level.location_id != location.id):
                continue
            if unit and self.unit_of[level.location_id] != unit.id:
                continue
            if words and words not in product.sku.lower() and words not in product.name.lower():
                continue
            batch = self.batches.get(level.batch_id)
            found.append(((product.name, product.id, self.locations[level.location_id].code,
                           batch.expiry_date if batch and batch.expiry_date else FAR_PAST, batch.lot if batch else "",
                           level.id), level))
        return [level for _, level in sorted(found, key=lambda pair: pair[0])]

    def value_per_unit_and_category(self) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = defaultdict(int)
        for level in self.levels:
            if level.quantity != 0:
                out[(self.unit_of[level.location_id], self.products[level.product_id].category_id)] += self.value(level)
        return dict(out)

    def in_transit_values(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for line, doc in db.session.execute(sa.select(StockDocumentLine, StockDocument).join(StockDocument).where(
                StockDocument.kind == "transfer", StockDocument.status == "sent")):
            out[self.unit_of[doc.from_location_id]] += stock.value_of(D(line.quantity), D(line.unit_cost))
        return dict(out)

    def in_transit_quantities(self) -> dict[int, D]:
        out: dict[int, D] = defaultdict(lambda: D(0))
        for line, _doc in db.session.execute(sa.select(StockDocumentLine, StockDocument).join(StockDocument).where(
                StockDocument.kind == "transfer", StockDocument.status == "sent")):
            out[line.product_id] += D(line.quantity)
        return dict(out)

    def ledger(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for account in db.session.scalars(sa.select(Account).where(Account.key.like("persediaan:%"))):
            debit, credit = db.session.execute(
                sa.select(sa.func.coalesce(sa.func.sum(Posting.debit), 0),
                          sa.func.coalesce(sa.func.sum(Posting.credit), 0))
                .join(JournalEntry).where(Posting.account_id == account.id, JournalEntry.posted.is_(True))).one()
            out[account.key.split(":", 1)[1]] = int(debit) - int(credit)
        return out

    def expiry(self, today: dt.date) -> list[tuple[str, StockLevel, bool]]:
        """(group, level, near) of every listed row, in the report's order."""
        found = []
        for level in self.levels:
            batch = self.batches.get(level.batch_id)
            if batch is None or batch.expiry_date is None or level.quantity <= 0:
                continue
            product = self.products[level.product_id]
            days = self.categories[product.category_id].near_expiry_days if product.category_id else 0
            near = batch.expiry_date < today or (batch.expiry_date - today).days <= days
            bucket = reports.expiry_bucket(batch.expiry_date, today) or ("later" if near else None)
            if bucket is not None:
                found.append(((batch.expiry_date, product.name, batch.lot, self.locations[level.location_id].code,
                               level.id), (bucket, level, near)))
        return [row for _, row in sorted(found, key=lambda pair: pair[0])]

    def reorder(self) -> list[tuple[Product, D]]:
        held: dict[int, D] = defaultdict(lambda: D(0))
        for level in self.levels:
            if self.locations[level.location_id].kind != LocationKind.KARANTINA:
                held[level.product_id] += D(level.quantity)
        rows = [(p, held[p.id]) for p in self.products.values()
                if p.active and p.reorder_point > 0 and held[p.id] <= p.reorder_point]
        return sorted(rows, key=lambda row: (row[0].name, row[0].id))

    def drift(self) -> list[tuple[int, int | None, int, D, D]]:
        from_moves: dict[tuple, D] = defaultdict(lambda: D(0))
        for m in self.moves:
            if m.to_location_id is not None:
                from_moves[(m.product_id, m.batch_id, m.to_location_id)] += D(m.quantity)
            if m.from_location_id is not None:
                from_moves[(m.product_id, m.batch_id, m.from_location_id)] -= D(m.quantity)
        recorded = {(lv.product_id, lv.batch_id, lv.location_id): D(lv.quantity) for lv in self.levels}
        return [(key[0], key[1], key[2], recorded.get(key, D(0)), from_moves.get(key, D(0)))
                for key in sorted(set(from_moves) | set(recorded), key=lambda k: (k[0], k[1] or 0, k[2]))
                if recorded.get(key, D(0)) != from_moves.get(key, D(0))]


@pytest.fixture
def rows(ctx) -> Rows:
    return Rows()


def walk(fetch, size):
    """Every page of a list from the first on (`fetch(after=, before=)` -> Slice), then back again from the last;
    the rows of both walks, in order."""
    forward, page = [], fetch(after=None, before=None)
    pages = 0
    while True:
        forward += page.rows
        pages += 1
        assert len(page.rows) <= size and pages < 10_000
        if not page.has_next:
            break
        page = fetch(after=page.next_cursor, before=None)
    backward = list(page.rows)
    while page.has_prev:
        page = fetch(after=None, before=page.prev_cursor)
        backward = page.rows + backward
    return forward, backward


# --- the checks -------------------------------------------------------------------------------------------------


def test_the_demo_holds_every_case(rows, today):
    assert len(rows.moves) > 1_000 and sum(1 for lv in rows.levels if lv.quantity != 0) > 100
    assert any(lv.quantity < 0 for lv in rows.levels) and rows.in_transit_values()
    assert {bucket for bucket, _, _ in rows.expiry(today)} == set(reports.EXPIRY_BUCKETS)
    assert len(rows.reorder()) > 1 and rows.drift() == []


def test_stock_on_hand_pages_and_totals(rows):
    toko = services.location_by_code("TK-TOKO")
    for location, unit, text in ((None, None, ""), (toko, None, ""), (None, _unit("APOTEK"), ""),
                                 (None, None, "a"), (toko, None, "mi")):
        expected = rows.on_hand(location, unit, text)
        report = reports.stock_on_hand(location, unit, text, size=7)
        assert report.count == len(expected) and report.total_value == sum(rows.value(lv) for lv in expected)
        assert report.products == len({lv.product_id for lv in expected})

        def fetch(after, before, location=location, unit=unit, text=text):
            return reports.stock_on_hand(location, unit, text, size=7, after=after, before=before).page

        forward, backward = walk(fetch, 7)
        assert [r.level_id for r in forward] == [lv.id for lv in expected], (location, unit, text)
        assert [r.level_id for r in backward] == [lv.id for lv in expected]
        by_id = {lv.id: lv for lv in expected}
        for row in forward:
            level = by_id[row.level_id]
            assert (row.quantity, row.unit_cost, row.value) == (D(level.quantity), rows.cost(level), rows.value(level))
            assert row.unit.id == rows.unit_of[level.location_id]
        streamed = list(reports.on_hand_rows(location, unit, text))
        assert [(r[0], r[3], r[9]) for r in streamed] == [
            (rows.products[lv.product_id].sku, rows.locations[lv.location_id].code, rows.value(lv)) for lv in expected]


def test_stock_value_per_unit_and_category(rows):
    expected = rows.value_per_unit_and_category()
    found = reports.stock_value()
    assert {(c.unit.id, c.category.id): c.value for c in found.categories} == expected
    transit, ledger = rows.in_transit_values(), rows.ledger()
    for u in found.units:
        assert u.on_hand == sum(v for (unit_id, _), v in expected.items() if unit_id == u.unit.id)
        assert u.in_transit == transit.get(u.unit.id, 0) and u.ledger == ledger.get(u.unit.code, 0)
    assert found.total_on_hand == sum(expected.values())
    assert found.total_in_transit == sum(transit.values())
    assert {u.unit.id for u in found.units} == {unit_id for unit_id, _ in expected} | set(transit) | {
        u.id for u in rows.units.values() if u.code in ledger}
    one = reports.stock_value(_unit("TOKO"))
    assert [u.unit.code for u in one.units] == ["TOKO"]
    assert {(c.unit.id, c.category.id): c.value for c in one.categories} == {
        k: v for k, v in expected.items() if k[0] == _unit("TOKO").id}
    overview = reports.summary(dt.date.today())
    assert overview.values.total_stock == found.total_stock and overview.drift.count == 0


def test_expiry_groups(rows, today):
    expected = rows.expiry(today)
    report = reports.expiry_report(today, size=None)
    assert [(r.bucket, r.stock.level_id, r.near) for r in report.rows] == [(b, lv.id, n) for b, lv, n in expected]
    for bucket in reports.EXPIRY_BUCKETS:
        group = [(lv, near) for b, lv, near in expected if b == bucket]
        assert report.row_count(bucket) == len(group)
        assert report.batch_count(bucket) == len({lv.batch_id for lv, _ in group})
        assert report.value(bucket) == sum(rows.value(lv) for lv, _ in group)
        first = reports.expiry_report(today, size=2)
        assert [r.stock.level_id for r in first.group(bucket)] == [lv.id for lv, _ in group][:2]
        assert first.more(bucket) == max(len(group) - 2, 0)

        def fetch(after, before, bucket=bucket):
            return reports.expiry_report(today, bucket=bucket, size=2, after=after, before=before).pages.get(
                bucket, reports.Slice([]))

        forward, backward = walk(fetch, 2)
        assert [r.level_id for r in forward] == [r.level_id for r in backward] == [lv.id for lv, _ in group]
    assert report.total_value == sum(rows.value(lv) for _, lv, _ in expected)
    expired = {lv.batch_id for b, lv, _ in expected if b == "expired"}
    near = {lv.batch_id for b, lv, n in expected if n and b != "expired"}
    assert reports.expiry_counts(today) == (len(expired), len(near)) and expired and near
    streamed = list(reports.expiry_rows(today))
    assert [(b, r.sku, r.lot, r.code, days, n) for b, r, days, n in streamed] == [
        (b, rows.products[lv.product_id].sku, rows.batches[lv.batch_id].lot, rows.locations[lv.location_id].code,
         (rows.batches[lv.batch_id].expiry_date - today).days, n) for b, lv, n in expected]


def test_reorder_list(rows):
    expected = rows.reorder()
    transit = rows.in_transit_quantities()
    assert reports.reorder_count() == len(expected)
    found = reports.reorder_list(size=None)
    assert [(r.product.id, r.on_hand, r.shortfall, r.in_transit) for r in found.rows] == [
        (p.id, held, D(p.reorder_point) - held, transit.get(p.id, D(0))) for p, held in expected]

    def fetch(after, before):
        return reports.reorder_list(size=3, after=after, before=before).page

    forward, backward = walk(fetch, 3)
    assert [r.product.id for r in forward] == [r.product.id for r in backward] == [p.id for p, _ in expected]
    assert [(r.id, reports._qty(r.held), t) for r, t in reports.reorder_rows()] == [
        (p.id, held, transit.get(p.id, D(0))) for p, held in expected]
    assert reports.attention(dt.date.today()).below_reorder == len(expected)


def _card_expected(rows: Rows, product_id: int, location_id=None, batch_id=None, start=None, end=None):
    opening, lines = D(0), []
    for m in rows.moves:
        if m.product_id != product_id or (batch_id is not None and m.batch_id != batch_id):
            continue
        if location_id is not None and location_id not in (m.from_location_id, m.to_location_id):
            continue
        qty_in, qty_out = reports.move_in_out(D(m.quantity), m.from_location_id, m.to_location_id, location_id)
        if start is not None and m.at < start:
            opening += qty_in - qty_out
        elif end is None or m.at < end:
            lines.append((m.id, qty_in, qty_out))
    return opening, lines


def test_stock_card_pages_carry_their_balances(rows):
    busiest = max(rows.products, key=lambda pid: sum(1 for m in rows.moves if m.product_id == pid))
    product = rows.products[busiest]
    moves = [m for m in rows.moves if m.product_id == busiest]
    middle = moves[len(moves) // 2].at
    cases = [(None, None, None, None), (None, None, middle, None), (None, None, None, middle)]
    cases += [(loc_id, None, None, None) for loc_id in {m.to_location_id or m.from_location_id for m in moves}]
    medicine = next(b for b in rows.batches.values() if b.lot == "SUM10")
    cases += [(None, medicine.id, None, None), (services.location_by_code("AP-APOTEK").id, medicine.id, None, None)]
    for location_id, batch_id, start, end in cases:
        owner = rows.products[rows.batches[batch_id].product_id] if batch_id else product
        location = rows.locations.get(location_id)
        batch = rows.batches.get(batch_id)
        opening, expected = _card_expected(rows, owner.id, location_id, batch_id, start, end)
        card = reports.stock_card(owner, location=location, batch=batch, start=start, end=end)
        assert card.opening == opening and [line.move.id for line in card.lines] == [e[0] for e in expected]
        balance, balances = opening, []
        for _, qty_in, qty_out in expected:
            balance += qty_in - qty_out
            balances.append(balance)
        assert [line.balance for line in card.lines] == balances and card.closing == balance
        if start is None and end is None:
            assert card.closing == stock.on_hand(owner.id, location_id, batch_id)
        # newest page first, then earlier pages: every move once, each page's balances carried from the one before
        size = 7
        page = reports.stock_card(owner, location=location, batch=batch, start=start, end=end, size=size)
        assert (page.total_in, page.total_out, page.closing, page.moves) == (
            sum((e[1] for e in expected), D(0)), sum((e[2] for e in expected), D(0)), balance, len(expected))
        seen = []
        while True:
            ids = [line.move.id for line in page.lines]
            at = len(expected) - len(seen) - len(ids)
            assert ids == [e[0] for e in expected[at:at + len(ids)]]
            assert [line.balance for line in page.lines] == balances[at:at + len(ids)]
            assert page.earlier == at and page.later == len(seen)
            assert page.carried == (balances[at - 1] if at else opening)
            seen = ids + seen
            if not page.page.has_prev:
                break
            page = reports.stock_card(owner, location=location, batch=batch, start=start, end=end, size=size,
                                      before=page.page.prev_cursor)
        assert seen == [e[0] for e in expected]
        forward = [line.move.id for line in page.lines]  # and from the earliest page on to the latest
        while page.page.has_next:
            page = reports.stock_card(owner, location=location, batch=batch, start=start, end=end, size=size,
                                      after=page.page.next_cursor)
            forward += [line.move.id for line in page.lines]
            assert page.carried == (balances[len(forward) - len(page.lines) - 1] if page.lines else balance)
        assert forward == [e[0] for e in expected]
        streamed = list(reports.card_rows(card))
        assert [b for *_, b in streamed] == balances


def test_downloads_hold_every_row(demo, rows, today):
    client = demo.test_client()
    assert sign_in(client, "gudang").status_code == 302
    body = client.get("/stok/persediaan?format=csv&setelah=1").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    expected = rows.on_hand()
    assert len(lines) == 1 + len(expected) + 1 and lines[-1][-1] == str(sum(rows.value(lv) for lv in expected))
    busiest = max(rows.products, key=lambda pid: sum(1 for m in rows.moves if m.product_id == pid))
    card = client.get(f"/stok/kartu/{rows.products[busiest].sku}?format=csv").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(card)))) == 1 + 1 + sum(1 for m in rows.moves if m.product_id == busiest) + 1
    expiry = list(csv.reader(io.StringIO(client.get("/stok/kedaluwarsa?format=csv").data.decode("utf-8-sig"))))
    assert len(expiry) == 1 + len(rows.expiry(today))
    reorder = list(csv.reader(io.StringIO(client.get("/stok/pesan-ulang?format=csv").data.decode("utf-8-sig"))))
    assert len(reorder) == 1 + len(rows.reorder())
    for path in ("/stok/persediaan", "/stok/pesan-ulang", "/stok/kedaluwarsa?kelompok=later",
                 f"/stok/kartu/{rows.products[busiest].sku}"):
        page = client.get(path)
        assert page.status_code == 200 and len(page.data) < 1_000_000, path


def test_drift_is_found_by_the_checksum_and_listed(ctx, rows):
    assert stock.levels_match_moves() and reports.drift_check().count == 0
    level = next(lv for lv in rows.levels if lv.quantity > 0 and lv.batch_id is None)
    with write_transaction():  # a level changed behind the moves' back
        db.session.execute(sa.update(StockLevel).where(StockLevel.id == level.id)
                           .values(quantity=StockLevel.quantity + D("0.001")))
    fresh = Rows()
    expected = fresh.drift()
    assert len(expected) == 1 and not stock.levels_match_moves()
    found = [(d.product_id, d.batch_id, d.location_id, d.recorded, d.from_moves) for d in stock.check_drift()]
    assert found == expected
    listed = reports.drift_check()
    assert listed.count == 1 and [(d.product.id, d.recorded, d.from_moves) for d in listed.rows] == [
        (expected[0][0], expected[0][3], expected[0][4])]
    checked = ctx.test_cli_runner().invoke(args=["stock", "check"])
    assert checked.exit_code != 0 and f"product {expected[0][0]} " in checked.output
    assert "1 level(s) drifted" in checked.output
    with write_transaction():
        db.session.execute(sa.update(StockLevel).where(StockLevel.id == level.id)
                           .values(quantity=StockLevel.quantity - D("0.001")))
    assert stock.levels_match_moves() and stock.check_drift() == []
    assert ctx.test_cli_runner().invoke(args=["stock", "check"]).output.startswith("ok")


def test_every_products_shelf_quantity_is_the_sum_of_its_levels_outside_karantina(ctx, rows):
    """The summary the reorder count reads, kept by every move of the demo (receipts, transfers, sales, write-offs,
    quarantine of expired batches), equals the plain sum; stock check finds a product whose summary was changed
    behind the moves' back and rebuild-summaries sets it right."""
    from inventory.models import LocationKind

    held: dict[int, D] = {}
    for level in rows.levels:
        if rows.locations[level.location_id].kind != LocationKind.KARANTINA:
            held[level.product_id] = held.get(level.product_id, D(0)) + D(level.quantity)
    assert any(rows.locations[level.location_id].kind == LocationKind.KARANTINA and level.quantity
               for level in rows.levels), "the demo should hold something in karantina"
    for product in rows.products.values():
        assert D(product.shelf_quantity) == held.get(product.id, D(0)), product.sku
    expected = sum(1 for p in rows.products.values()
                   if p.active and p.reorder_point > 0 and held.get(p.id, D(0)) <= p.reorder_point)
    assert reports.reorder_count() == expected
    assert stock.shelf_drift() == []
    victim = next(p for p in rows.products.values() if held.get(p.id))
    with write_transaction():
        db.session.execute(sa.update(Product).where(Product.id == victim.id)
                           .values(shelf_quantity=Product.shelf_quantity + 7))
    assert [d[0] for d in stock.shelf_drift()] == [victim.id]
    checked = ctx.test_cli_runner().invoke(args=["stock", "check"])
    assert checked.exit_code != 0 and f"product {victim.id}: holds" in checked.output
    assert ctx.test_cli_runner().invoke(args=["stock", "rebuild-summaries"]).exit_code == 0
    assert stock.shelf_drift() == []
    assert ctx.test_cli_runner().invoke(args=["stock", "check"]).output.startswith("ok")
