"""Is this server fit to take sales: the database answers and its schema is at the latest migration."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text

from pos.db import db


def migration_heads(app: Flask) -> set[str]:
    cache = app.extensions.setdefault("kasir_migration_heads", set())
    if not cache:
        migrate = app.extensions["migrate"]
        config = migrate.migrate.get_config(migrate.directory)
        cache.update(ScriptDirectory.from_config(config).get_heads())
    return cache


def check(app: Flask) -> tuple[bool, dict[str, str]]:
    report = {"status": "ok", "db": "ok", "migrations": "current"}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # any failure to reach the database is the answer itself
        app.logger.warning("health check: database unreachable: %s", exc)
        return False, {"status": "error", "db": "unreachable", "migrations": "unknown"}
    if current != migration_heads(app):
        report["migrations"] = "pending"
        report["status"] = "error"
        return False, report
    return True, report
