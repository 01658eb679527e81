"""The web shell: blueprints, security hooks, languages, template helpers and error pages."""

from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: a database id fits a signed 64-bit integer (PostgreSQL BIGINT, SQLite INTEGER),
    so /dokumen/99999999999999999999 is a 404 like any unknown id, not an overflow in the database driver."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class BoundedJSONProvider(DefaultJSONProvider):
    """A request body nested deeper than the parser's recursion limit (a 50 000-deep array) is a 400 like any
    malformed body, not a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deep") from None


def register_web(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseId
    app.json_provider_class = BoundedJSONProvider
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = False
    from pos.web import (
        account,
        admin,
        api,
        auth,
        catalog,
        catalog_io,
        devices,
        errors,
        ledger,
        main,
        members,
        once,
        openapi,
        sales,
        sales_api,
        security,
        stock_ops,
        stock_reports,
        templating,
        till,
    )

    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    once.init_app(app)
    for module in (auth, main, account, admin, till, api, openapi, sales_api, sales, ledger, members, catalog,
                   catalog_io, stock_ops, stock_reports, devices):
        app.register_blueprint(module.bp)
