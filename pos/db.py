"""One declarative base and the SQLAlchemy handle; SQLite tuned for durability, write-lock-first transactions."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5000  # how long a write waits for the write lock, SQLite and PostgreSQL alike, then 503
# A write transaction should hold the lock for well under this: the till waits behind whoever holds it. Longer
# ones are logged (and counted for the benchmarks); long jobs run in chunks instead (pos.jobs).
WRITE_BUDGET_MS = 500
_WRITE_OPTION = "kasir_write"
# PostgreSQL has no BEGIN IMMEDIATE: write use cases take this transaction-scoped advisory lock instead, so
# they run one at a time as on SQLite and a read-then-write never loses an update. ("KASIR" in ASCII.)
POSTGRES_WRITE_LOCK = 0x4B41534952


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, UTC stored, aware UTC out (SQLite keeps no zone, so it is re-attached)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def configure_engine(engine: Engine) -> None:
    """Install the SQLite pragmas and explicit BEGIN handling; PostgreSQL needs nothing here."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself: pysqlite would otherwise start a
        # transaction only at the first write, after the reads it depends on.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = FULL")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction() -> Iterator[sa.orm.Session]:
    """Run one use case as one write transaction that holds the write lock from its first statement
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock).

    Commits on success, rolls back on any exception. A read-only transaction already open in the
    request is ended first: SQLite cannot safely upgrade it, and it holds nothing worth keeping.
    """
    session = db.session()  # the request's (or command's) Session behind the scoped proxy
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("write_transaction() entered with unflushed changes pending")
        session.rollback()
    queue = _writer_queue(session)
    if queue is not None and not queue.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked (writers queued)"))
    try:
        connection = session.connection(execution_options={_WRITE_OPTION: True})
        try:
            if connection.dialect.name == "postgresql":
                # lock_timeout covers the advisory lock too: a write waits as long as on SQLite, then 503
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(SQLITE_BUSY_TIMEOUT_MS)}ms'")
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({POSTGRES_WRITE_LOCK})")
            started = time.perf_counter()
            yield session
            session.commit()
            _note_write_time((time.perf_counter() - started) * 1000)
        except BaseException:
            session.rollback()
            raise
    finally:
        if queue is not None:
            queue.release()


WRITE_STATS = {"count": 0, "max_ms": 0.0, "over_budget": 0}
_log = logging.getLogger("kasir.db")


def _note_write_time(ms: float) -> None:
    """Count write transactions and the longest one (bench/pages reports them); log those over the budget."""
    WRITE_STATS["count"] += 1
    WRITE_STATS["max_ms"] = max(WRITE_STATS["max_ms"], ms)
    if ms > WRITE_BUDGET_MS:
        WRITE_STATS["over_budget"] += 1
        _log.warning("a write transaction held the lock for %.0f ms (budget %d ms)", ms, WRITE_BUDGET_MS)


def best_effort_write(work: Callable[[], object]) -> bool:
    """Run small bookkeeping (a session's last_seen, a token's last_used_at) only if the write lock is free now:
    never wait for it, never fail the request. Returns whether the work was done and committed.

    SQLite: the in-process writer queue is tried without blocking and BEGIN IMMEDIATE runs with no busy wait;
    PostgreSQL: pg_try_advisory_xact_lock, and a short lock_timeout for the row itself."""
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("best_effort_write() entered with unflushed changes pending")
        session.rollback()
    queue = _writer_queue(session)
    if queue is not None and not queue.acquire(blocking=False):
        return False
    try:
        try:
            if session.get_bind().dialect.name == "sqlite":
                connection = session.connection()  # a plain BEGIN: the lock is asked for below, without waiting
                connection.exec_driver_sql("PRAGMA busy_timeout = 0")
                try:
                    connection.exec_driver_sql("COMMIT")
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            else:
                connection = session.connection(execution_options={_WRITE_OPTION: True})
                if not connection.exec_driver_sql(
                        f"SELECT pg_try_advisory_xact_lock({POSTGRES_WRITE_LOCK})").scalar():
                    session.rollback()
                    return False
                connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            work()
            session.commit()
            return True
        except sa.exc.OperationalError as exc:
            session.rollback()
            if is_lock_error(exc):
                return False
            raise
        except BaseException:
            session.rollback()
            raise
    finally:
        if queue is not None:
            queue.release()


# SQLite's busy handler makes a waiting writer sleep (up to 100 ms at a time) even when the lock frees after one:
# the writers of one server process queue on a lock of their own instead and take SQLite's lock at once, in turn.
# Other processes (a command, a second server) still meet the busy timeout.
_WRITER_QUEUES: dict[str, threading.RLock] = {}
_QUEUES_GUARD = threading.Lock()


def _writer_queue(session: sa.orm.Session) -> threading.RLock | None:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    key = str(bind.url)
    with _QUEUES_GUARD:
        return _WRITER_QUEUES.setdefault(key, threading.RLock())  # re-entered by a use case calling another


_TXN_CACHE = "kasir_transaction_cache"


def transaction_cache(name: str) -> dict:
    """A dict that lives as long as the session's current transaction (dropped when it ends, committed or rolled
    back): for rows a use case looks up again and again while it holds the write lock, e.g. a sale's stock levels."""
    return db.session.info.setdefault(_TXN_CACHE, {}).setdefault(name, {})


@event.listens_for(sa.orm.Session, "after_transaction_end")
def _drop_transaction_cache(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TXN_CACHE, None)


# PostgreSQL: serialization failure, deadlock, lock not available; SQLite: the busy timeout ran out.
LOCK_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
T = TypeVar("T")


def is_lock_error(exc: BaseException) -> bool:
    """A write that could not get (or keep) its locks in time: worth a retry, never a 500."""
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    return state in LOCK_SQLSTATES or "database is locked" in str(orig) or "database is busy" in str(orig)


def retry_when_locked(work: Callable[[], T], attempts: int = 3, pause: float = 0.05) -> T:
    """Run a write use case again (a bounded number of times) when it lost a lock race; the last failure is
    raised for the caller (the web layer answers 503 with Retry-After)."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except sa.exc.OperationalError as exc:
            if not is_lock_error(exc) or attempt == attempts:
                raise
            db.session.rollback()
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def enum_column(enum_cls: type, name: str) -> sa.Enum:
    """A string enum stored by value ('kasir', not 'KASIR') with a CHECK constraint on every database."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )
