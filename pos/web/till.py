"""The till shell: choose a till, switch cashier by PIN, let a locked-out cashier back in with a manager's PIN."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext

from pos import auth
from pos.db import db
from pos.errors import AuthenticationFailed, PosError
from pos.models import Till
from pos.permissions import public, require
from pos.web.main import served_tills
from pos.web.security import client_ip, start_session

bp = Blueprint("till", __name__, url_prefix="/kasir")


def _till(code: str) -> Till:
    till = db.session.scalar(sa.select(Till).where(Till.code == code.upper()[:20], Till.active.is_(True)))
    if till is None or till not in served_tills():
        abort(404)
    return till


@bp.get("/")
@require("till.operate")
def index():
    return render_template("till/index.html", tills=served_tills())


@bp.get("/<code>")
@require("till.operate")
def show(code: str):
    from pos.models import PrintJob

    till = _till(code)
    waiting = db.session.scalars(
        sa.select(PrintJob)
        .where(PrintJob.till_id == till.id, PrintJob.status.in_(("queued", "printing", "held")))
        .order_by(PrintJob.id)
    ).all()
    return render_template("till/till.html", till=till, waiting=waiting)


@bp.post("/<code>/cetak/<int:job_id>/<action>")
@require("till.operate")
def print_job(code: str, job_id: int, action: str):
    """The cashier decides about receipts held during a printer outage: print them now or let them go."""
    from pos import printing
    from pos.models import PrintJob

    till = _till(code)
    job = db.session.get(PrintJob, job_id)
    if job is None or job.till_id != till.id or action not in ("lepas", "buang"):
        abort(404)
    try:
        if action == "lepas":
            printing.release(job_id, g.user)
            printing.notify(job.printer)
        else:
            printing.discard(job_id, g.user)
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
    return redirect(url_for("till.show", code=till.code))


@bp.route("/<code>/masuk", methods=["GET", "POST"])
@public
def sign_in(code: str):
    """Anyone at the till may type a cashier's username and PIN: the PIN is the proof."""
    till = _till(code)
    if request.method == "GET":
        return render_template("till/sign_in.html", till=till)
    username = request.form.get("username", "")
    try:
        started = auth.sign_in_with_pin(
            username, request.form.get("pin", ""), till, ip=client_ip(), replaces=session.get("sid")
        )
    except AuthenticationFailed as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("till/sign_in.html", till=till, username=username[:40]), exc.status
    start_session(started.key)
    flash(
        gettext(
            "%(name)s is now at till %(till)s.", name=started.user.full_name or started.user.username, till=till.code
        ),
        "success",
    )
    return redirect(url_for("till.show", code=till.code))


@bp.post("/<code>/buka-kunci")
@public
def unlock(code: str):
    """A cashier locked out by wrong PINs is let back in when a manager types their own PIN."""
    till = _till(code)
    try:
        user = auth.unlock_with_approval(
            request.form.get("username", ""),
            request.form.get("manager", ""),
            request.form.get("manager_pin", ""),
            ip=client_ip(),
        )
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("till/sign_in.html", till=till, show_unlock=True), exc.status
    flash(gettext("%(username)s can sign in again.", username=user.username), "success")
    return redirect(url_for("till.sign_in", code=till.code))
