"""The demo books end to end: loaded by `demo load` (twice: nothing doubles), balanced per unit and
consolidated, statements open, the SHU of the demo year computed per member, Beancount export accepted
by bean-check, and the consistency check clean. The demo's stock came in by goods receipts and its HPP
went out with the goods sold: no correction of equity, no inventory below zero at any day's end, books
and stock agreeing per unit."""

import datetime as dt
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from ledger import reports, shu
from ledger.models import JournalEntry, Member, Slip
from pos.db import db
from pos.models import BusinessUnit, Till, User
from tests.conftest import sign_in

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def counts(app):
    with app.app_context():
        return [db.session.scalar(sa.select(sa.func.count()).select_from(t))
                for t in (BusinessUnit, Till, User, Member, JournalEntry, Slip)]


def test_the_demo_books(app, tmp_path):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo cooperative loaded" in first.output and "demo123" in first.output
    loaded = counts(app)
    second = runner.invoke(args=["demo", "load"])
    assert "already present" in second.output
    assert counts(app) == loaded
    assert loaded[:4] == [4, 3, 6, 50]

    demo_year = dt.date.today().year - 1
    with app.app_context():
        everything = reports.Scope(dt.date(2000, 1, 1), dt.date.today())
        units = [None, *db.session.scalars(sa.select(BusinessUnit))]
        for unit in units:
            scope = reports.Scope(everything.start, everything.end, unit)
            assert reports.trial_balance(scope).balanced, unit
            assert reports.financial_position(dt.date.today(), unit).balanced, unit
        year = reports.income_statement(reports.Scope(dt.date(demo_year, 1, 1), dt.date(demo_year, 12, 31)))
        assert year.total_member_revenue > 0 and year.total_non_member_revenue > 0
        result = shu.compute(demo_year)
        assert result.surplus > 0 and result.distributed is None
        assert len(result.members) >= 40
        assert sum(1 for m in result.members if m.jasa_anggota > 0 and m.jasa_modal > 0) >= 30
        allocated = (result.pools["cadangan"] + sum(result.pools[f] for f in ("pengurus", "karyawan", "pendidikan",
                                                                             "sosial", "pembangunan"))
                     + result.members_total + result.remainder)
        assert allocated == result.surplus
        assert 0 <= result.remainder < len(result.members) * 2 + 10
        kasbon_members = db.session.scalar(sa.select(sa.func.count(sa.distinct(Slip.member_id))).where(
            Slip.kind == "angsuran_kasbon"))
        assert kasbon_members > 0

    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0 and check.output.startswith("ok"), check.output

    out = tmp_path / "out.beancount"
    assert runner.invoke(args=["ledger", "export-beancount", str(out)]).exit_code == 0
    bean = subprocess.run([str(BEAN_CHECK if BEAN_CHECK.exists() else shutil.which("bean-check")), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert bean.returncode == 0, bean.stdout + bean.stderr
    text = out.read_text()
    assert 'option "operating_currency" "IDR"' in text and "member: \"AGT-00001\"" in text and 'unit: "TOKO"' in text
    part = tmp_path / "part.beancount"
    runner.invoke(args=["ledger", "export-beancount", str(part), "--from", f"{demo_year}-01-01",
                        "--to", f"{demo_year}-12-31"])
    assert subprocess.run([str(BEAN_CHECK), str(part)], capture_output=True, timeout=120).returncode == 0
    assert runner.invoke(args=["ledger", "export-beancount", str(part), "--from", "kemarin"]).exit_code != 0
    csv_file = tmp_path / "out.csv"
    assert runner.invoke(args=["ledger", "export-csv", str(csv_file)]).exit_code == 0
    assert csv_file.read_text(encoding="utf-8-sig").splitlines()[0].startswith("number,date,description")

    # The demo catalog and stock: sembako and medicines, batches some expired, books agreeing with the stock.
    from inventory import stock
    from inventory.models import Batch, Product

    with app.app_context():
        products = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        medicines = db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(
            Product.drug_class.is_not(None)))
        assert products >= 300 and medicines >= 120
        today = dt.date.today()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.expiry_date < today)) > 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(
            Batch.expiry_date.between(today, today + dt.timedelta(days=90)))) > 0
        assert stock.check_drift() == []
    assert runner.invoke(args=["stock", "check"]).output.startswith("ok")
    assert runner.invoke(args=["sales", "check"]).output.startswith("ok")
    assert_stock_came_from_receipts(app)

    client = app.test_client()
    assert sign_in(client, "pengurus").status_code == 302
    for unit in ("", "TOKO", "APOTEK", "GUDANG", "SP"):
        page = client.get(f"/buku/hasil-usaha?dari={demo_year}-01-01&sampai={demo_year}-12-31&unit={unit}")
        assert page.status_code == 200
        assert client.get(f"/buku/posisi-keuangan?unit={unit}").status_code == 200
    page = client.get(f"/buku/shu?tahun={demo_year}")
    assert page.status_code == 200 and page.text.count("data-member=") == len(result.members)


# Entries that may move inventory: each is a stock document's or a sale's, with its stock moves.
STOCK_ENTRIES = {"goods_receipt", "sale", "sale_return", "stock_transfer", "stock_adjustment", "write_off",
                 "supplier_return", "quarantine"}


def assert_stock_came_from_receipts(app):
    """Issue 9, finding 7: the demo's inventory is what goods receipts brought in less what was sold."""
    from inventory import reports as stock_reports
    from inventory.models import MoveKind, StockMove
    from inventory.stock import value_of
    from ledger.checks import check_books
    from ledger.models import Account, AccountType, Posting

    with app.app_context():
        # No equity entry corrects the inventory: hibah/donasi only from the opening balance, and equity moves
        # only by members' savings, the year's closing and transfers between units.
        equity = db.session.execute(
            sa.select(Account.key, JournalEntry.source_type).join(Posting.account).join(Posting.entry)
            .where(Account.type == AccountType.EQUITY).distinct()).all()
        assert {source for key, source in equity if key == "hibah"} == {"opening_balance"}, equity
        assert {source for _key, source in equity} <= {"opening_balance", "slip", "year_closing", "stock_transfer"}
        opening = db.session.scalars(sa.select(Account.key).join(Posting.account).join(Posting.entry).where(
            JournalEntry.source_type == "opening_balance")).all()
        assert not [key for key in opening if key.startswith("persediaan:")]  # the books open without stock

        # Every entry that touches persediaan is a stock document's or a sale's.
        inventory_accounts = dict(db.session.execute(
            sa.select(Account.id, Account.key).where(Account.key.like("persediaan:%"))).all())
        assert set(inventory_accounts.values()) >= {"persediaan:TOKO", "persediaan:APOTEK", "persediaan:GUDANG"}
        rows = db.session.execute(
            sa.select(Posting.account_id, JournalEntry.date, JournalEntry.source_type, JournalEntry.source_id,
                      Posting.debit, Posting.credit).join(Posting.entry)
            .where(Posting.account_id.in_(inventory_accounts), JournalEntry.posted.is_(True))).all()
        assert {source for _a, _d, source, _s, _dr, _cr in rows} <= STOCK_ENTRIES

        # Each sale's HPP (the monthly takings' and the tills') is the cost of the goods its stock moves took.
        sold: dict[str, int] = {}
        for source_id, qty, cost in db.session.execute(sa.select(
                StockMove.source_id, StockMove.quantity, StockMove.unit_cost).where(StockMove.kind == MoveKind.SALE)):
            sold[source_id] = sold.get(source_id, 0) + value_of(Decimal(qty), Decimal(cost))
        hpp: dict[str, int] = {}
        for _a, _d, source, source_id, debit, credit in rows:
            if source == "sale":
                hpp[source_id] = hpp.get(source_id, 0) + int(credit) - int(debit)
        assert len(hpp) > 1000
        assert {k: v for k, v in hpp.items() if sold.get(k) != v} == {}

        # Inventory is never below zero in the books at the end of any day (so of any month) of the demo.
        by_day: dict[str, dict[dt.date, int]] = {}
        for account_id, date, _source, _id, debit, credit in rows:
            days = by_day.setdefault(inventory_accounts[account_id], {})
            days[date] = days.get(date, 0) + int(debit) - int(credit)
        for key, days in by_day.items():
            balance = 0
            for date in sorted(days):
                balance += days[date]
                assert balance >= 0, (key, date, balance)
        demo_year = dt.date.today().year - 1
        year_end = {key: sum(v for d, v in days.items() if d <= dt.date(demo_year, 12, 31))
                    for key, days in by_day.items()}
        assert year_end["persediaan:TOKO"] > 0 and year_end["persediaan:APOTEK"] > 0  # a shop holds goods

        # Nor on the shelves: every product, batch and location, at every move.
        held: dict[tuple, Decimal] = {}
        for move in db.session.scalars(sa.select(StockMove).order_by(StockMove.at, StockMove.id)):
            for location, sign in ((move.from_location_id, -1), (move.to_location_id, 1)):
                if location is not None:
                    key = (move.product_id, move.batch_id, location)
                    held[key] = held.get(key, Decimal(0)) + sign * Decimal(move.quantity)
                    assert held[key] >= 0, (key, move.at, held[key])

        # The books agree with the stock, unit by unit, and every check is clean.
        value = stock_reports.stock_value()
        assert {u.unit.code: u.difference for u in value.units} == {"GUDANG": 0, "TOKO": 0, "APOTEK": 0}
        assert all(u.stock_value > 0 for u in value.units)
        problems, _trial = check_books()
        assert problems == []
