"""Refusals that apply only with KASIR_ENV=production."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from config import SettingsError
from pos.db import db
from pos.models import SystemFlag

DEMO_FLAG = "demo_loaded"


def refuse_demo_database(app: Flask) -> None:
    """A production server must not serve a database holding the demo cooperative and its known passwords."""
    with app.app_context():
        try:
            demo = db.session.get(SystemFlag, DEMO_FLAG)
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            return  # no schema yet: `flask db upgrade` must be able to run
        finally:
            db.session.remove()
        if demo is not None:
            raise SettingsError(
                "refused in production: this database holds the demo cooperative (demo users share the password "
                "demo123). Use a fresh database."
            )
