"""Translated error pages (HTML) and error bodies (JSON under /api/); domain errors map to their status."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, jsonify, render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from pos.db import db, is_lock_error
from pos.errors import PosError
from pos.web.security import wants_json

MESSAGES = {
    400: _l("The request could not be understood. Reload the page and try again."),
    401: _l("Please sign in first."),
    403: _l("You do not have access to this page."),
    404: _l("The page you are looking for does not exist."),
    405: _l("That action is not allowed here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Wait a moment and try again."),
    500: _l("Something went wrong on our side. Your data is safe; try again or call the manager."),
    503: _l("The system is busy with other work. Wait a moment and try again; nothing was lost."),
}
TITLES = {
    400: _l("Bad request"),
    401: _l("Not signed in"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
    503: _l("Busy"),
}


def error_response(status: int, message: str | None = None, code: str | None = None, details: dict | None = None):
    message = message or str(MESSAGES.get(status, MESSAGES[500]))
    if wants_json():
        body = {"error": code or str(status), "message": message}
        if details:
            body["details"] = details
        response = jsonify(body)
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="kasir"'
        if status == 503:
            response.headers["Retry-After"] = "2"
        return response
    title = str(TITLES.get(status, TITLES[500]))
    headers = {"Retry-After": "2"} if status == 503 else {}
    return render_template("errors/error.html", status=status, title=title, message=message), status, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        message = gettext("The form has expired or is missing its security token. Reload the page and try again.")
        return error_response(400, message, "csrf")

    @app.errorhandler(PosError)
    def domain_error(exc: PosError):
        db.session.rollback()
        details = {"field": exc.field} if exc.field else None
        return error_response(exc.status, gettext(exc.message, **exc.params), exc.code, details)

    @app.errorhandler(sa.exc.OperationalError)
    def database_busy(exc: sa.exc.OperationalError):
        db.session.rollback()
        if is_lock_error(exc):  # waited for the write lock longer than the timeout: try again, nothing changed
            app.logger.warning("database busy: %s", exc.orig)
            return error_response(503, str(MESSAGES[503]), "busy")
        app.logger.exception("database error: %s", exc)
        return error_response(500)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_response(exc.code or 500)

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error: %s", exc)
        return error_response(500)
