"""Sign in with a password, sign out, choose the language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from pos import auth
from pos.errors import AuthenticationFailed
from pos.permissions import SIGNED_IN, public, require
from pos.web.security import client_ip, start_session

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("main.dashboard")
    if any(ord(ch) < 32 for ch in target):
        return url_for("main.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("main.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "GET":
        if g.user is not None and g.via == "password":
            return redirect(url_for("main.dashboard"))
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    try:
        started = auth.sign_in_with_password(username, password, ip=client_ip(), replaces=session.get("sid"))
    except AuthenticationFailed as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("auth/login.html", next=request.form.get("next", ""), username=username[:40]), exc.status
    start_session(started.key)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@require(SIGNED_IN, read_only_safe=True)
def logout():
    till_code = g.user_session.till.code if g.user_session is not None and g.user_session.till else None
    auth.sign_out(session.get("sid"), ip=client_ip())
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(gettext("You have signed out."), "info")
    if till_code:
        return redirect(url_for("till.sign_in", code=till_code))
    return redirect(url_for("auth.login"))


@bp.post("/language")
@public
def language():
    chosen = request.form.get("locale", "")
    if chosen not in ("id", "en"):
        flash(gettext("Language must be id or en."), "error")
    else:
        session["locale"] = chosen
        if g.user is not None:
            auth.set_locale(g.user, chosen)
    return redirect(_safe_next(request.form.get("next")))
