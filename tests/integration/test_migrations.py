"""Models and migrations agree, on SQLite and on PostgreSQL; the migrations go down and up again."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from pos.app import create_app
from pos.db import db
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, base_config

MIGRATION_DB = f"kasir_migration_check_{os.getpid()}"  # parallel runs on one server must not collide


@pytest.fixture
def empty_database(tmp_path):
    """A database no test has touched: a new SQLite file, or a new PostgreSQL database."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {MIGRATION_DB}")
    yield sa.engine.make_url(TEST_DATABASE_URL).set(database=MIGRATION_DB).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)")
    admin.dispose()


def _diff(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


# Expression indexes cannot be reflected for comparison; the test checks uq_stock_level exists by name instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_build_exactly_the_models_schema(empty_database, tmp_path):
    app = create_app(base_config(tmp_path / "instance", empty_database))
    with app.app_context():
        upgrade()
        assert _diff(app) == []
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                found = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'uq_stock_level'").scalar()
            else:
                found = conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE indexname = 'uq_stock_level'"
                                             ).scalar()
            assert found == "uq_stock_level"
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"user_account", "audit_entry", "till", "outlet", "business_unit", "api_token"} <= tables
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert _diff(app) == []
        db.engine.dispose()


def test_constraints_hold_at_the_database(app):
    """Enum values and the locale are checked by the database itself, not only by Python."""
    with app.app_context():
        for statement in (
            "INSERT INTO user_account (username, full_name, role, password_hash, locale, active, created_at) "
            "VALUES ('x', '', 'raja', 'h', 'id', true, CURRENT_TIMESTAMP)",
            "INSERT INTO user_account (username, full_name, role, password_hash, locale, active, created_at) "
            "VALUES ('y', '', 'kasir', 'h', 'fr', true, CURRENT_TIMESTAMP)",
        ):
            with pytest.raises(sa.exc.IntegrityError):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(statement)


def test_books_closed_the_old_way_get_their_closed_year_on_upgrade(empty_database, tmp_path):
    """Before 0006 a year was closed by closing its twelve months; after the upgrade it is a closed year, so the
    years after it can be closed and its SHU computed."""
    import datetime as dt

    app = create_app(base_config(tmp_path / "instance", empty_database))
    with app.app_context():
        upgrade(revision="0006_books_integrity")
        with db.engine.begin() as conn:
            for month in range(1, 13):
                start = dt.date(2024, month, 1)
                end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
                conn.execute(sa.text("INSERT INTO closed_period (start_date, end_date, closed_by, closed_at) "
                                     "VALUES (:s, :e, 'lama', CURRENT_TIMESTAMP)"), {"s": start, "e": end})
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT year, entry_id, entry_count FROM closed_year")).one()
        assert tuple(row) == (2024, None, 0)
        db.engine.dispose()
