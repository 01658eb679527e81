"""Users and the audit log, for the board (manage) and the supervisors (read only)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from pos import auth
from pos.db import db, utcnow
from pos.errors import PosError
from pos.models import AuditEntry, LoginThrottle, Role, User
from pos.permissions import require
from pos.web.security import client_ip

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 50


def _users_page(status: int = 200):
    users = db.session.scalars(sa.select(User).order_by(User.role, User.username)).all()
    locked = set(db.session.scalars(sa.select(LoginThrottle.username).where(LoginThrottle.locked_until > utcnow())))
    return render_template("admin/users.html", users=users, locked=locked, roles=list(Role)), status


def _flash_error(exc: PosError) -> None:
    flash(gettext(exc.message, **exc.params), "error")


@bp.get("/pengguna")
@require("users.view")
def users():
    return _users_page()


@bp.post("/pengguna")
@require("users.manage")
def create_user():
    form = request.form
    if form.get("password", "") != form.get("confirm_password", ""):
        flash(gettext("The two new passwords differ."), "error")
        return _users_page(400)
    try:
        user = auth.create_user(
            form.get("username", ""),
            form.get("role", ""),
            form.get("password", ""),
            full_name=form.get("full_name", ""),
            pin=form.get("pin") or None,
            locale=form.get("locale") or None,
            actor=g.user,
        )
    except PosError as exc:
        _flash_error(exc)
        return _users_page(exc.status)
    flash(gettext("User %(username)s was created.", username=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/pengguna/<username>/peran")
@require("users.manage")
def change_role(username: str):
    try:
        user = auth.set_role(username, request.form.get("role", ""), actor=g.user)
    except PosError as exc:
        _flash_error(exc)
        return _users_page(exc.status)
    flash(gettext("%(username)s is now %(role)s.", username=user.username, role=user.role.value), "success")
    return redirect(url_for("admin.users"))


@bp.post("/pengguna/<username>/status")
@require("users.manage")
def change_active(username: str):
    active = request.form.get("active") == "1"
    try:
        user = auth.set_active(username, active, actor=g.user)
    except PosError as exc:
        _flash_error(exc)
        return _users_page(exc.status)
    if active:
        flash(gettext("%(username)s was enabled.", username=user.username), "success")
    else:
        flash(gettext("%(username)s was disabled.", username=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/pengguna/<username>/buka-kunci")
@require("users.manage")
def unlock(username: str):
    auth.unlock(username, actor=g.user, ip=client_ip())
    flash(gettext("%(username)s can sign in again.", username=auth.normalise_username(username)), "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@require("audit.view")
def audit():
    """The audit log, newest first, a page at a time (keyset on the id: ?setelah= an entry shows the older ones)."""
    from pos.web import paging

    action = request.args.get("aksi", "").strip()[:60]
    who = request.args.get("oleh", "").strip().lower()[:40]
    query = sa.select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if who:
        query = query.where(sa.or_(AuditEntry.actor_name == who, AuditEntry.approver_name == who))
    page = paging.keyset(query, (AuditEntry.id,), key_of=lambda entry_id: (entry_id,), size=AUDIT_PAGE_SIZE,
                         descending=True, count=False, args={"aksi": action, "oleh": who})
    return render_template("admin/audit.html", entries=page.rows, page=page, action=action, who=who)
