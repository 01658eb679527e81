"""Fixtures shared by every layer: a migrated database (SQLite file or PostgreSQL), the app, clients, sign-in."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

TEST_DATABASE_URL = os.environ.get("KASIR_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
FAST_HASH = "pbkdf2:sha256:1000"  # tests sign in hundreds of times; production keeps scrypt
DEMO_PASSWORD = "demo123"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def base_config(instance: Path, database_url: str) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "TESTING": True,
        "database_url": database_url,
        "password_hash_method": FAST_HASH,
    }


def upgrade_database(instance: Path, database_url: str) -> None:
    from flask_migrate import upgrade

    from pos.app import create_app

    app = create_app(base_config(instance, database_url))
    with app.app_context():
        upgrade()
        from pos.db import db

        db.engine.dispose()


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """Build the schema once by running the migrations; each test gets a copy (SQLite) or truncation (PostgreSQL)."""
    instance = tmp_path_factory.mktemp("template-instance")
    if ON_POSTGRES:
        reset_postgres(TEST_DATABASE_URL)
        upgrade_database(instance, TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = instance / "template.db"
    upgrade_database(instance, f"sqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    if ON_POSTGRES:
        return TEST_DATABASE_URL
    target = tmp_path / "kasir.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database; extra settings may be passed. Tables are emptied afterwards."""
    built = []

    def factory(**overrides):
        from pos.app import create_app

        instance = tmp_path / "instance"
        config = base_config(instance, database_url)
        config.update(overrides)
        app = create_app(config)
        built.append(app)
        return app

    yield factory
    from pos.db import db

    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if ON_POSTGRES and built:
        truncate_all(db.metadata)


def truncate_all(metadata) -> None:
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    engine = sa.create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        # The ledger's guards refuse TRUNCATE of posted books; tests reset them as the superuser.
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def demo_app(app):
    from pos.demo import load_demo

    with app.app_context():
        load_demo(books=False)
    return app


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def runner(demo_app):
    return demo_app.test_cli_runner()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def sign_in(client, username: str, password: str = DEMO_PASSWORD):
    page = client.get("/login", follow_redirects=True)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)})


def csrf_token(client) -> str:
    """A CSRF token valid for the client's current session (read from any page that renders forms)."""
    return csrf_from(client.get("/login", follow_redirects=True).text)


@pytest.fixture
def signed_in(client):
    """Sign the test client in as a demo user: signed_in('kasir')."""

    def do(username: str):
        response = sign_in(client, username)
        assert response.status_code == 302, response.text
        return client

    return do


@pytest.fixture
def books_app(demo_app):
    """The demo cooperative with its chart of accounts (no demo entries); no app context is left pushed,
    so test-client requests get their own (a shared one would carry `g`, e.g. a stale CSRF token, across)."""
    from ledger.accounts import seed_chart
    from pos.db import db, write_transaction

    with demo_app.app_context():
        with write_transaction():
            seed_chart()
        db.session.remove()
    return demo_app


@pytest.fixture
def books(books_app):
    """`books_app` with an app context pushed, for tests that call services directly."""
    with books_app.app_context():
        yield books_app
