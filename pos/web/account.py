"""One's own account: language, password, till PIN."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from werkzeug.security import check_password_hash

from pos import auth
from pos.errors import InvalidInput
from pos.permissions import SIGNED_IN, require

bp = Blueprint("account", __name__, url_prefix="/akun")


@bp.get("/")
@require(SIGNED_IN)
def show():
    return render_template("account.html")


@bp.post("/kata-sandi")
@require(SIGNED_IN, read_only_safe=True)
def change_password():
    if g.via != "password":
        return redirect(url_for("account.show"))
    if not check_password_hash(g.user.password_hash, request.form.get("current_password", "")[:200]):
        flash(gettext("Your current password is not right."), "error")
        return render_template("account.html"), 400
    if request.form.get("new_password", "") != request.form.get("confirm_password", ""):
        flash(gettext("The two new passwords differ."), "error")
        return render_template("account.html"), 400
    try:
        auth.set_password(g.user.username, request.form.get("new_password", ""), actor=g.user,
                          keep_session=session.get("sid"))
    except InvalidInput as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("account.html"), 400
    flash(gettext("Your password was changed."), "success")
    return redirect(url_for("account.show"))


@bp.post("/pin")
@require(SIGNED_IN, read_only_safe=True)
def change_pin():
    if g.via != "password":
        return redirect(url_for("account.show"))
    if not check_password_hash(g.user.password_hash, request.form.get("current_password", "")[:200]):
        flash(gettext("Your current password is not right."), "error")
        return render_template("account.html"), 400
    try:
        auth.set_pin(g.user.username, request.form.get("pin", ""), actor=g.user)
    except InvalidInput as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("account.html"), 400
    flash(gettext("Your PIN was changed."), "success")
    return redirect(url_for("account.show"))
