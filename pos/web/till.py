"""The till: choose a till, the checkout page (a small JavaScript module over the sales API), the customer screen
and its live stream, today's sales with their receipts and reprints, Z reports; switch cashier by PIN, let a
locked-out cashier back in with a manager's PIN."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import orm

from pos import auth
from pos.db import db
from pos.errors import AuthenticationFailed, PosError
from pos.models import Till
from pos.permissions import public, require
from pos.web.main import served_tills
from pos.web.security import client_ip, start_session

bp = Blueprint("till", __name__, url_prefix="/kasir")
SCREEN_STREAMS = threading.BoundedSemaphore(4)  # customer screens hold a server thread each, a few at a time
HISTORY_PAGE = 50
WAITING_SHOWN = 50  # receipts waiting for the printer listed on the till page (all are counted)


def _till(code: str) -> Till:
    till = db.session.scalar(sa.select(Till).where(Till.code == code.upper()[:20], Till.active.is_(True)))
    if till is None or till not in served_tills():
        abort(404)
    live = g.get("user_session")
    if g.get("via") == "pin" and live is not None and live.till_id not in (None, till.id):
        abort(403)  # a cashier switched in by PIN works at that till only
    return till


@bp.get("/")
@require("till.operate")
def index():
    return render_template("till/index.html", tills=served_tills())


@bp.get("/<code>")
@require("till.operate")
def show(code: str):
    """The checkout: scan, search, cart, member, payments, shift, returns, held carts, from keyboard and scanner."""
    from pos.models import PrintJob
    from pos.sales import services
    from pos.sales.cash import DENOMINATIONS

    till = _till(code)
    # Through the status index (the few jobs not printed yet), not the till's: `till_id + 0` is served by no index,
    # or SQLite, without table statistics, reads every receipt the till ever printed. The blobs stay unread.
    unprinted = sa.and_(PrintJob.status.in_(("queued", "printing", "held")), PrintJob.till_id + 0 == till.id)
    waiting = db.session.scalars(
        sa.select(PrintJob).where(unprinted).order_by(PrintJob.id).limit(WAITING_SHOWN)
        .options(orm.load_only(PrintJob.id, PrintJob.source_id, PrintJob.status, PrintJob.last_error))
    ).all()
    waiting_count = len(waiting) if len(waiting) < WAITING_SHOWN else db.session.scalar(
        sa.select(sa.func.count()).select_from(PrintJob).where(unprinted))
    shift = services.open_shift_of(till)
    return render_template("till/till.html", till=till, waiting=waiting, waiting_count=waiting_count, shift=shift,
                           denominations=DENOMINATIONS,
                           has_qris=bool(till.outlet.qris_payload),
                           has_scale=bool(till.scale_port and till.scale_protocol))


@bp.get("/<code>/layar")
@require("till.operate")
def screen(code: str):
    """The customer screen: a second window or a tablet facing the customer, following the till live."""
    till = _till(code)
    return render_template("till/screen.html", till=till)


@bp.get("/<code>/layar/stream")
@require("till.operate")
def screen_events(code: str):
    """Server-Sent Events for the customer screen: the current state first, then each change (about 25 s per
    connection; the page reconnects)."""
    from drivers.events import format_sse
    from pos.devices import customer_channel
    from pos.web.streams import capped_stream

    till = _till(code)
    runtime = current_app.extensions["kasir_devices"]
    current = runtime.screens.get(till.code, {"type": "idle"})
    return capped_stream(SCREEN_STREAMS, lambda: runtime.broker.subscribe(customer_channel(till.code), timeout=5.0),
                         first=[format_sse(current, retry_ms=1000)])


@bp.get("/<code>/penjualan")
@require("till.operate")
def sales(code: str):
    """The till's sales of a day (today by default), found by number, member or amount."""
    from pos.sales import services
    from pos.web.params import date_arg

    till = _till(code)
    today = services.business_date(till)
    day = date_arg("tanggal", today)
    number = request.args.get("nomor", "").strip().upper()[:30]
    member_text = request.args.get("anggota", "").strip()[:40]
    amount_text = request.args.get("jumlah", "").strip()[:20]
    error, rows = None, []
    try:
        rows = services.find_sales(day, till=till, number=number, member=member_text, amount=amount_text,
                                   limit=HISTORY_PAGE)
        preload_sales(rows)
    except PosError as exc:
        error = gettext(exc.message, **exc.params)
    return render_template("till/sales.html", till=till, sales=rows, day=day, today=today, number=number,
                           member_text=member_text, amount_text=amount_text, error=error,
                           member_names=member_names(rows))


def preload_sales(sales) -> None:
    """Load the payments, returns and till of a list of sales in three queries instead of two or three per row (the
    objects are in the session already; this fills their relationships)."""
    from pos.sales.models import Sale

    if sales:
        db.session.scalars(sa.select(Sale).where(Sale.id.in_([sale.id for sale in sales])).options(
            orm.selectinload(Sale.payments), orm.selectinload(Sale.returns), orm.joinedload(Sale.till))).all()


def member_names(sales) -> dict[int, str]:
    """The names of the members of these sales (one query, not one per row)."""
    from ledger.models import Member

    ids = {sale.member_id for sale in sales if sale.member_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Member.id, Member.name).where(Member.id.in_(ids))).all())


@bp.get("/<code>/penjualan/<number>")
@require("till.operate")
def sale(code: str, number: str):
    """One sale: its receipt as printed, payments, returns, and a reprint (SALINAN)."""
    from pos.sales.documents import receipt_html
    from pos.sales.models import Sale

    till = _till(code)
    found = db.session.scalar(sa.select(Sale).where(Sale.number == number.upper()[:30], Sale.till_id == till.id))
    if found is None:
        abort(404)
    return render_template("till/sale.html", till=till, sale=found, receipt=receipt_html("sale", found.number))


@bp.post("/<code>/penjualan/<number>/cetak-ulang")
@require("till.operate")
def reprint(code: str, number: str):
    from pos import printing
    from pos.models import PrintJob
    from pos.sales.models import Sale

    till = _till(code)
    found = db.session.scalar(sa.select(Sale).where(Sale.number == number.upper()[:30], Sale.till_id == till.id))
    job = None if found is None else db.session.scalar(sa.select(PrintJob).where(
        PrintJob.source_type == "sale", PrintJob.source_id == found.number, PrintJob.copy == 0))
    if job is None:
        abort(404)
    copy = printing.reprint(job.id, g.user, printing.rerender)
    printing.notify(copy.printer)
    flash(gettext("A copy of the receipt is printing."), "success")
    return redirect(url_for("till.sale", code=till.code, number=found.number))


@bp.get("/<code>/shift/<int:shift_id>")
@require("till.operate")
def shift_report(code: str, shift_id: int):
    """A shift's report: the Z report as printed once it is closed, the running figures while it is open."""
    from pos.sales.documents import receipt_html
    from pos.sales.models import Shift

    till = _till(code)
    shift = db.session.get(Shift, shift_id)
    if shift is None or shift.till_id != till.id:
        abort(404)
    from pos.sales.services import shift_totals

    return render_template("till/shift.html", till=till, shift=shift, totals=shift_totals(shift),
                           report=receipt_html("shift_z", shift.number) if shift.status == "closed" else None)


@bp.get("/<code>/qris/<number>.png")
@require("till.operate")
def qris_image(code: str, number: str):
    """The QR code a pending QRIS sale is paid with."""
    from pos.sales.models import Sale
    from receipts.html import qr_png

    till = _till(code)
    found = db.session.scalar(sa.select(Sale).where(Sale.number == number.upper()[:30], Sale.till_id == till.id))
    if found is None or not found.qris_payload:
        abort(404)
    return Response(qr_png(found.qris_payload, box_px=6), mimetype="image/png",
                    headers={"Cache-Control": "no-store"})


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
        db.session.rollback()
        flash(gettext(exc.message, **exc.params), "error")
        refused = make_response(show(code))
        refused.status_code = exc.status
        return refused
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
    """A cashier locked out by wrong PINs at this till is let back in when a manager types their own PIN (only that:
    see auth.unlock_with_approval)."""
    till = _till(code)
    try:
        user = auth.unlock_with_approval(
            request.form.get("username", ""),
            request.form.get("manager", ""),
            request.form.get("manager_pin", ""),
            till,
            ip=client_ip(),
        )
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("till/sign_in.html", till=till, show_unlock=True), exc.status
    flash(gettext("%(username)s can sign in again.", username=user.username), "success")
    return redirect(url_for("till.sign_in", code=till.code))
