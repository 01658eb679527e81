"""The application factory: settings, database, migrations, languages, security hooks, blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from config import load_settings
from config.defaults import SETTINGS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` may hold settings (lower-case names) and Flask keys (upper-case)."""
    config = dict(config or {})
    instance_path = (
        config.pop("INSTANCE_PATH", None) or os.environ.get("KASIR_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    )
    app = Flask("pos", instance_path=str(Path(instance_path).resolve()), instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    overrides = {k: v for k, v in config.items() if k in SETTINGS}
    flask_keys = {k: v for k, v in config.items() if k not in SETTINGS}
    settings = load_settings(app.instance_path, overrides=overrides)
    app.config.update(
        KASIR=settings,
        SECRET_KEY=settings["secret_key"],
        SQLALCHEMY_DATABASE_URI=_normalise_url(settings["database_url"]),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings["database_url"]),
        SESSION_COOKIE_NAME="kasir_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["session_cookie_secure"],
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=settings["session_cookie_secure"],
        BABEL_DEFAULT_LOCALE=settings["default_locale"],
        BABEL_DEFAULT_TIMEZONE="UTC",
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "pos" / "translations"),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.update(flask_keys)
    app.json.sort_keys = False  # answers read in the order they are written, e.g. /healthz

    from pos.db import configure_engine, db

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    from flask_migrate import Migrate

    Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)

    import inventory.models  # noqa: F401  (each package's tables register on the shared metadata)
    import ledger.models  # noqa: F401
    import pos.models  # noqa: F401
    import pos.sales.models  # noqa: F401
    from pos.web import register_web

    register_web(app)

    from pos import jobs
    from pos.web import jobs as jobs_web

    app.register_blueprint(jobs_web.bp)
    jobs.init_app(app)  # the background job runner, started with the first request (JOBS_AUTOSTART in tests)

    from pos import devices

    devices.init_app(app)

    from pos.cli import register_cli

    register_cli(app)

    if settings["env"] == "production":
        from pos.production import refuse_demo_database

        refuse_demo_database(app)
    return app


def _normalise_url(url: str) -> str:
    # Heroku-style URLs and plain postgresql:// would pick psycopg2; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 5}}
    return {"pool_pre_ping": True}
