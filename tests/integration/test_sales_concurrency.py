"""Several tills on one database at once (SQLite and PostgreSQL): the last units of a batch are sold once, numbers
never repeat or skip, the same sale sent three times at once is one sale, and the books balance after all of it."""

import datetime as dt
import random
import threading
import uuid
from decimal import Decimal as D

import sqlalchemy as sa

from inventory import stock
from inventory.fefo import InsufficientStock
from inventory.models import Location, Product
from ledger import reports
from pos.db import db, write_transaction
from pos.models import Outlet, Till, User
from pos.sales import services
from pos.sales.checks import check_sales
from pos.sales.models import Sale
from pos.sales.requests import sale_from_json

MIE, BERAS, PCT, AMX = "089686010947", "8991234560014", "8992753102402", "8991234560038"
TIMEOUT = 120


def run_parallel(app, jobs):
    """Run each job in its own thread with its own app context (its own session and connection); returns the
    results (or the exceptions) in order."""
    results = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def runner(i, job):
        with app.app_context():
            start.wait(timeout=30)
            try:
                results[i] = job()
            except Exception as exc:  # noqa: BLE001 - the test inspects what each till got
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
        assert not thread.is_alive(), "a till hung"
    return results


def user(name):
    return db.session.scalar(sa.select(User).where(User.username == name))


def sale_job(till, lines, payments, who="kasir", sale_id=None):
    body = {"id": sale_id or str(uuid.uuid4()), "till": till, "lines": lines, "payments": payments}

    def job():
        sale, created = services.complete_sale(sale_from_json(body), user(who))
        return sale.number, created, sale.total

    return job


def shelf(sku, location):
    product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
    loc = db.session.scalar(sa.select(Location).where(Location.code == location))
    return stock.on_hand(product.id, loc.id)


def test_ten_tills_race_for_the_last_five_capsules(shop_app):
    with shop_app.app_context():
        services.open_shift("AP01", 0, user("kasir"))
        sale, _ = services.complete_sale(sale_from_json({
            "id": str(uuid.uuid4()), "till": "AP01", "lines": [{"code": AMX, "qty": "95"}],
            "payments": [{"method": "cash", "amount": 200_000}]}), user("kasir"))
        assert shelf("OBT-AMX500", "AP-APOTEK") == 5
        db.session.remove()
    results = run_parallel(shop_app, [sale_job("AP01", [{"code": AMX}], [{"method": "cash", "amount": 1_200}])
                                      for _ in range(10)])
    sold = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(sold) == 5 and len(refused) == 5, results
    with shop_app.app_context():
        assert shelf("OBT-AMX500", "AP-APOTEK") == 0
        assert check_sales() == [] and stock.check_drift() == []


def test_four_tills_selling_at_once_keep_numbers_stock_and_books_exact(shop_app):
    with shop_app.app_context():
        with write_transaction():
            outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == "TK"))
            db.session.add(Till(code="TK03", name="Kasir 3", outlet_id=outlet.id))
        for till, who in (("TK01", "kasir"), ("TK02", "manajer"), ("TK03", "apoteker"), ("AP01", "kasir")):
            services.open_shift(till, 100_000, user(who))
        before = {"mie": shelf("MIE-GORENG", "TK-TOKO"), "beras": shelf("BRS-PREMIUM", "TK-TOKO"),
                  "pct": shelf("OBT-PCT500", "AP-APOTEK")}
        db.session.remove()
    rng = random.Random(4)  # noqa: S311 - a repeatable load, not a secret
    per_till = 15
    plan = {"TK01": "kasir", "TK02": "manajer", "TK03": "apoteker", "AP01": "kasir"}
    expected = {"mie": D(0), "beras": D(0), "pct": D(0)}
    batches = {}
    for till in plan:
        jobs = []
        for _ in range(per_till):
            if till == "AP01":
                qty = rng.randint(1, 4)
                expected["pct"] += qty
                lines = [{"code": PCT, "qty": str(qty)}]
            else:
                mie, beras = rng.randint(1, 3), rng.choice(["0.5", "1", "1.25"])
                expected["mie"] += mie
                expected["beras"] += D(beras)
                lines = [{"code": MIE, "qty": str(mie)}, {"code": BERAS, "qty": beras}]
            jobs.append(sale_job(till, lines, [{"method": "cash", "amount": 100_000}], who=plan[till]))
        batches[till] = jobs

    def till_worker(jobs):
        def work():
            return [job() for job in jobs]
        return work

    results = run_parallel(shop_app, [till_worker(jobs) for jobs in batches.values()])
    assert all(isinstance(r, list) for r in results), results
    with shop_app.app_context():
        for till in plan:
            numbers = sorted(db.session.scalars(sa.select(Sale.number).join(Till).where(Till.code == till)))
            day = services.business_date(services.till_by_code(till))
            assert numbers == [f"{till}-{day:%Y%m%d}-{n:04d}" for n in range(1, per_till + 1)]
        assert shelf("MIE-GORENG", "TK-TOKO") == before["mie"] - expected["mie"]
        assert shelf("BRS-PREMIUM", "TK-TOKO") == before["beras"] - expected["beras"]
        assert shelf("OBT-PCT500", "AP-APOTEK") == before["pct"] - expected["pct"]
        assert check_sales() == [] and stock.check_drift() == []
        assert reports.trial_balance(reports.Scope(dt.date(2000, 1, 1), dt.date.today() + dt.timedelta(days=1))
                                     ).balanced


def test_the_same_sale_sent_three_times_at_once_is_one_sale(shop_app):
    with shop_app.app_context():
        services.open_shift("TK01", 0, user("kasir"))
        db.session.remove()
    sale_id = str(uuid.uuid4())
    job = sale_job("TK01", [{"code": MIE, "qty": "2"}], [{"method": "cash", "amount": 10_000}], sale_id=sale_id)
    results = run_parallel(shop_app, [job, job, job])
    assert all(isinstance(r, tuple) for r in results), results
    assert len({r[0] for r in results}) == 1 and sorted(r[1] for r in results) == [False, False, True]
    with shop_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 1
        assert shelf("MIE-GORENG", "TK-TOKO") == 198
