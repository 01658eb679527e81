"""The web shell: blueprints, security hooks, languages, template helpers and error pages."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
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
