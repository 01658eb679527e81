"""The till is never blocked by the back office (SQLite and PostgreSQL): reads and session bookkeeping never wait
for the write lock, a write that cannot get it in time is a 503 with Retry-After (never a 500, nothing changed),
and a background job writing in chunks leaves four tills selling and looking up with zero 500s."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

import pos.db
from inventory.models import StockMove
from pos.auth import LAST_SEEN_WRITE_SECONDS
from pos.db import db
from pos.models import ApiToken, UserSession
from pos.sales.models import Sale
from tests.conftest import csrf_token, sign_in

MIE = "089686010947"


@contextlib.contextmanager
def write_lock_held(app):
    """Another process holds the write lock (a command-line import, a second server): SQLite's RESERVED lock from
    a connection of its own, or the PostgreSQL advisory lock every write transaction takes."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        trans = conn.begin()
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({pos.db.POSTGRES_WRITE_LOCK})")
        try:
            yield
        finally:
            trans.rollback()
    engine.dispose()


def _age(app, model, column: str) -> dt.datetime:
    """Set every row's bookkeeping time back so the next request wants to write it; returns the old time."""
    old = pos.db.utcnow() - dt.timedelta(seconds=LAST_SEEN_WRITE_SECONDS + 5)
    with app.app_context(), pos.db.write_transaction():
        db.session.execute(sa.update(model).values({column: old}))
    return old


def _times(app, model, column: str) -> set:
    with app.app_context():
        values = set(db.session.scalars(sa.select(getattr(model, column))))
        db.session.rollback()
        return values


def test_pages_and_lookups_answer_while_another_process_holds_the_write_lock(shop_app):
    client = shop_app.test_client()
    assert sign_in(client, "kasir").status_code == 302
    old = _age(shop_app, UserSession, "last_seen_at")
    with write_lock_held(shop_app):
        for path in ("/", "/kasir/", f"/api/v1/products/lookup?code={MIE}", "/api/v1/products/search?q=mie"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        # the session's last_seen could not be written: skipped, not waited for
        assert old in _times(shop_app, UserSession, "last_seen_at")
    assert client.get("/").status_code == 200
    assert old not in _times(shop_app, UserSession, "last_seen_at")  # written once the lock was free


def test_an_api_token_works_while_the_lock_is_held(shop_app):
    from pos.auth import issue_token
    from pos.models import User

    with shop_app.app_context():
        token = issue_token(db.session.scalar(sa.select(User).where(User.username == "kasir")), "till")
    old = _age(shop_app, ApiToken, "last_used_at")
    client = shop_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with write_lock_held(shop_app):
        response = client.get(f"/api/v1/products/lookup?code={MIE}", headers=headers)
        assert response.status_code == 200, response.text
        assert old in _times(shop_app, ApiToken, "last_used_at")
    assert client.get(f"/api/v1/products/lookup?code={MIE}", headers=headers).status_code == 200
    assert old not in _times(shop_app, ApiToken, "last_used_at")


@pytest.fixture
def short_lock_wait(shop_app, monkeypatch):
    """A write waits 300 ms for the lock instead of 5 s (the same code path, a shorter timeout)."""
    monkeypatch.setattr(pos.db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    with shop_app.app_context():
        db.engine.dispose()  # new connections take the shorter busy timeout
    return shop_app


def _count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.rollback()
        return n


def test_a_write_that_cannot_get_the_lock_in_time_is_a_503_with_retry_after(short_lock_wait):
    app = short_lock_wait
    client = app.test_client()
    assert sign_in(client, "kasir").status_code == 302
    token = csrf_token(client)
    shift = client.post("/api/v1/shifts", json={"till": "TK01", "opening_float": 0}, headers={"X-CSRFToken": token})
    assert shift.status_code == 201, shift.text
    body = {"id": str(uuid.uuid4()), "till": "TK01", "lines": [{"code": MIE, "qty": "1"}],
            "payments": [{"method": "cash", "amount": 5000}]}
    sales, moves = _count(app, Sale), _count(app, StockMove)
    with write_lock_held(app):
        busy = client.post("/api/v1/sales", json=body, headers={"X-CSRFToken": token, "Accept-Language": "id"})
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"].isdigit()
        assert busy.get_json()["error"] == "busy" and busy.get_json()["message"]
        # a form gets a page, in Indonesian, with the same status and header
        page = client.post("/logout", data={"csrf_token": token}, headers={"Accept-Language": "id"})
        assert page.status_code in (302, 503)
    assert (_count(app, Sale), _count(app, StockMove)) == (sales, moves)  # nothing changed
    again = client.post("/api/v1/sales", json=body, headers={"X-CSRFToken": token})
    assert again.status_code == 201, again.text  # the same sale id sent again once the lock is free
    assert _count(app, Sale) == sales + 1


def test_the_write_budget_is_measured(shop_app):
    before = pos.db.WRITE_STATS["count"]
    with shop_app.app_context(), pos.db.write_transaction():
        db.session.execute(sa.select(1))
    assert pos.db.WRITE_STATS["count"] == before + 1
    assert pos.db.WRITE_STATS["max_ms"] >= 0


def test_best_effort_write_skips_while_the_lock_is_held_and_writes_when_free(shop_app):
    done = []
    with shop_app.app_context():
        with write_lock_held(shop_app):
            assert pos.db.best_effort_write(lambda: done.append(1)) is False
        assert done == []
        assert pos.db.best_effort_write(lambda: done.append(2)) is True
        assert done == [2]


def test_a_busy_page_for_forms_is_translated(short_lock_wait):
    app = short_lock_wait
    with app.test_request_context("/x", headers={"Accept-Language": "id", "Accept": "text/html"}):
        from pos.web.errors import error_response

        body, status, headers = error_response(503)
        assert status == 503 and headers["Retry-After"].isdigit()
        assert "Sibuk" in body or "sibuk" in body


# --- four tills selling while a background job writes in chunks -------------------------------------------------

TILLS = ("TK01", "TK02", "TK03", "TK04")
SALES_PER_TILL = 8
MAX_SALES_PER_TILL = 40  # 4 tills x 40 Indomie: the shelf holds 200


def _prepare_tills(app) -> list:
    """Two more tills in the shop and a cashier per till, each signed in with a client of their own."""
    from pos.auth import create_user
    from pos.models import Outlet, Role, Till, User

    with app.app_context():
        with pos.db.write_transaction():
            outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == "TK"))
            for code in TILLS[2:]:
                db.session.add(Till(code=code, name=f"Kasir {code[-1]}", outlet=outlet))
        for n in range(2, len(TILLS) + 1):
            create_user(f"kasir{n}", Role.KASIR, "rahasia-kasir-1", actor_name="test")
        with pos.db.write_transaction():
            outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == "TK"))
            for n in range(2, len(TILLS) + 1):
                db.session.scalar(sa.select(User).where(User.username == f"kasir{n}")).outlet = outlet
        db.session.remove()
    clients = []
    for n, code in enumerate(TILLS, start=1):
        client = app.test_client()
        name, password = ("kasir", "demo123") if n == 1 else (f"kasir{n}", "rahasia-kasir-1")
        assert sign_in(client, name, password).status_code == 302
        token = csrf_token(client)
        shift = client.post("/api/v1/shifts", json={"till": code, "opening_float": 0}, headers={"X-CSRFToken": token})
        assert shift.status_code == 201, shift.text
        clients.append((code, client, token))
    return clients


def _till_loop(code, client, token, statuses: list, acknowledged: list, busy: threading.Event | None = None,
               during: list | None = None) -> None:
    """What a till does: scan, search, pay; a 503 is retried with the same sale id, as checkout.js does. With `busy`
    (set while the background job runs), it keeps selling until the job is over (at most MAX_SALES_PER_TILL)."""
    sold = 0
    while sold < SALES_PER_TILL or (busy is not None and busy.is_set() and sold < MAX_SALES_PER_TILL):
        for path in (f"/api/v1/products/lookup?code={MIE}", "/api/v1/products/search?q=mie"):
            statuses.append(client.get(path).status_code)
        body = {"id": str(uuid.uuid4()), "till": code, "lines": [{"code": MIE, "qty": "1"}],
                "payments": [{"method": "cash", "amount": 5000}]}
        for _attempt in range(20):
            answer = client.post("/api/v1/sales", json=body, headers={"X-CSRFToken": token})
            statuses.append(answer.status_code)
            if answer.status_code in (200, 201):
                assert answer.get_json()["id"] == body["id"]
                acknowledged.append(body["id"])
                if busy is not None and busy.is_set():
                    during.append(body["id"])
                break
            assert answer.status_code == 503, answer.text  # busy: the till sends the same sale again
            time.sleep(0.05)
        sold += 1


def _check_invariants(app, acknowledged: list) -> None:
    from inventory import stock
    from ledger import reports
    from pos.sales.checks import check_sales

    with app.app_context():
        assert check_sales() == []
        assert stock.check_drift() == []
        trial = reports.trial_balance(reports.Scope(dt.date(2000, 1, 1), dt.date(2100, 12, 31)))
        assert trial.balanced
        found = set(db.session.scalars(sa.select(Sale.uuid).where(Sale.uuid.in_(acknowledged))))
        assert found == set(acknowledged) and len(acknowledged) == len(set(acknowledged))
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()


def test_four_tills_sell_while_a_catalog_import_runs_in_chunks(shop_app):
    """The back office imports 3 000 new products (the real job, pos.jobs, its chunks sized by time) while four
    tills scan, search and sell."""
    from pos import jobs
    from pos.models import Job
    from tests.integration.test_catalog_io import many_records, post_file, start_import, to_csv

    app = shop_app
    clients = _prepare_tills(app)
    office = app.test_client()
    assert sign_in(office, "gudang").status_code == 302
    checked = post_file(office, "katalog.csv", to_csv(many_records(3000)))
    assert checked.status_code == 200, checked.text
    job_id = start_import(office, checked)
    job_error: list = []
    busy = threading.Event()
    busy.set()

    def background_job():
        try:
            jobs.Runner(app).run_pending()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            job_error.append(exc)
        finally:
            busy.clear()

    statuses: list = []
    acknowledged: list = []
    during: list = []
    threads = [threading.Thread(target=background_job)]
    threads += [threading.Thread(target=_till_loop, args=(*c, statuses, acknowledged, busy, during))
                for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive(), "a till or the job hung"
    assert not job_error, job_error
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.state, job.done, job.total) == ("done", 3000, 3000), (job.state, job.error)
        from inventory.models import Product

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(
            Product.sku.like("BULK-%"))) == 3000
        db.session.remove()
    assert 500 not in statuses and all(s in (200, 201, 503) for s in statuses), sorted(set(statuses))
    assert len(acknowledged) >= len(TILLS) * SALES_PER_TILL
    assert during, "no sale was made while the import ran"
    _check_invariants(app, acknowledged)
