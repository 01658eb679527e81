"""Every request: who is calling (session cookie or Bearer token), CSRF, and the view's permission (deny by default)."""

from __future__ import annotations

from flask import Flask, abort, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFProtect

from pos import auth
from pos.models import Role
from pos.permissions import PIN_SESSION_PERMISSIONS, PUBLIC, has_permission, permission_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
csrf = CSRFProtect()


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def client_ip() -> str:
    return request.remote_addr or ""


def init_app(app: Flask) -> None:
    csrf.init_app(app)

    @app.before_request
    def identify_and_authorise():
        g.user = None
        g.user_session = None
        g.via = None
        if request.endpoint in ("static", "main.healthz", "main.package_css"):
            return None  # public, and must answer even when the database does not
        if _has_nul(request):
            return _refuse_nul()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":  # other schemes (a proxy's Basic auth) are not ours to judge
            user = auth.user_for_token(token.strip())
            if user is None:
                response = jsonify(error="unauthorized", message=gettext("The API token is missing, wrong or revoked."))
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="kasir"'
                return response
            g.user, g.via = user, "token"
        else:
            live, expired = auth.resume_session(session.get("sid"))
            if live is not None:
                g.user, g.user_session, g.via = live.user, live, live.method
            elif "sid" in session:
                session.clear()
                if expired:
                    flash(gettext("You were signed out after a period of inactivity."), "warning")

        # Token callers prove themselves on every request, so only cookie callers need CSRF tokens.
        if request.method not in SAFE_METHODS and g.via != "token":
            csrf.protect()

        if request.endpoint is None:
            return None  # routing answers 404/405
        view = app.view_functions.get(request.endpoint)
        permission = permission_of(view)
        if permission is None:
            app.logger.error("view %s declares no permission: denied", request.endpoint)
            abort(403)
        if permission == PUBLIC:
            return None
        if g.user is None:
            if wants_json():
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        if g.via == "pin" and permission not in PIN_SESSION_PERMISSIONS:
            abort(403)
        if not has_permission(g.user.role, permission):
            abort(403)
        if g.user.role == Role.PENGAWAS and request.method not in SAFE_METHODS and not view._kasir_read_only_safe:
            abort(403)
        return None

    @app.after_request
    def harden(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        if g.get("user") is not None and request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _has_nul(req) -> bool:
    """NUL bytes are never meaningful input; PostgreSQL refuses them in text, so refuse them here, once."""
    if "\x00" in req.full_path or any("\x00" in v for v in req.args.values()):
        return True
    if req.method in SAFE_METHODS:
        return False
    if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any("\x00" in k or "\x00" in v for k, v in req.form.items(multi=True))
    if req.is_json:
        return "\\u0000" in req.get_data(as_text=True) or "\x00" in req.get_data(as_text=True)
    return False


def _refuse_nul():
    message = gettext("The input contains characters that cannot be used.")
    if wants_json():
        response = jsonify(error="invalid_input", message=message)
        response.status_code = 400
        return response
    from pos.web.errors import error_response

    return error_response(400, message)


def start_session(key: str) -> None:
    """Renew the cookie at every sign-in: new session id, fresh CSRF secret, old contents dropped."""
    locale = session.get("locale")
    session.clear()
    session["sid"] = key
    if locale:
        session["locale"] = locale
