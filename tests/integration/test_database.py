"""The data layer: SQLite pragmas, write transactions that lock first, UTC times, health check."""

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from pos.db import db, write_transaction
from pos.models import AuditEntry, SystemFlag
from tests.conftest import ON_POSTGRES

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite connection settings")


@sqlite_only
def test_sqlite_connections_are_durable_and_checked(app):
    with app.app_context():
        conn = db.session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_foreign_keys_are_enforced(app):
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            with write_transaction():
                db.session.execute(
                    sa.text("INSERT INTO till (code, name, outlet_id, active) VALUES ('X1', 'x', 999999, true)")
                )


def test_read_then_write_use_cases_lose_no_update(app):
    """Each worker reads a counter, waits, writes it back plus one: BEGIN IMMEDIATE serialises them.

    With Python's default deferred transactions (or plain READ COMMITTED on PostgreSQL) the workers would
    read the same value and updates would be lost (or fail with 'database is locked' on SQLite).
    """
    with app.app_context():
        with write_transaction():
            db.session.add(SystemFlag(name="counter", value="0"))

    workers, rounds, errors = 4, 5, []

    def work():
        try:
            with app.app_context():
                for _ in range(rounds):
                    with write_transaction():
                        flag = db.session.get(SystemFlag, "counter")
                        seen = int(flag.value)
                        time.sleep(0.005)
                        flag.value = str(seen + 1)
                    db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with app.app_context():
        assert db.session.get(SystemFlag, "counter").value == str(workers * rounds)


def test_write_transaction_rolls_back_everything_on_error(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with write_transaction():
                db.session.add(SystemFlag(name="half", value="1"))
                db.session.flush()
                raise RuntimeError("crash in the middle of a use case")
        assert db.session.get(SystemFlag, "half") is None


def test_times_are_stored_in_utc_and_come_back_aware(app):
    wita = dt.timezone(dt.timedelta(hours=8))
    local = dt.datetime(2026, 11, 29, 0, 5, tzinfo=wita)
    with app.app_context():
        with write_transaction():
            entry = AuditEntry(action="test.time", at=local)
            db.session.add(entry)
            db.session.flush()
            entry_id = entry.id
        db.session.remove()
        back = db.session.get(AuditEntry, entry_id).at
        assert back == local
        assert back.utcoffset() == dt.timedelta(0)
        assert (back.hour, back.day) == (16, 28)
        with pytest.raises(sa.exc.StatementError):
            with write_transaction():
                db.session.add(AuditEntry(action="test.naive", at=dt.datetime(2026, 11, 28, 16, 5)))


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok", "migrations": "current"}


def test_healthz_reports_pending_migrations_with_503(app):
    with app.app_context():
        with write_transaction():
            real = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            db.session.execute(sa.text("DELETE FROM alembic_version"))
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "error", "db": "ok", "migrations": "pending"}
    finally:
        with app.app_context():
            with write_transaction():
                db.session.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": real})


def test_healthz_reports_an_unreachable_database_with_503(make_app, tmp_path):
    app = make_app(database_url=f"sqlite:///{tmp_path}/no/such/dir/kasir.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["db"] == "unreachable"
