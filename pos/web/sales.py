"""Sales for the manager, the board and the supervisors: every till's sales by day, number, member or amount; the
shifts with their Z reports, and the shifts left open overnight."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext

from pos.db import db
from pos.errors import PosError
from pos.models import Till
from pos.permissions import require
from pos.web.params import date_arg
from pos.web.templating import local_today

bp = Blueprint("sales", __name__, url_prefix="/penjualan")
PAGE = 100


@bp.get("/")
@require("sales.view")
def index():
    from pos.sales import services
    from pos.sales.models import Sale, Shift
    from pos.web.till import member_names, preload_sales

    day = date_arg("tanggal", local_today())
    tills = db.session.scalars(sa.select(Till).order_by(Till.code)).all()
    till_code = request.args.get("kasir", "").strip().upper()[:20]
    till = next((t for t in tills if t.code == till_code), None)
    number = request.args.get("nomor", "").strip().upper()[:30]
    member_text = request.args.get("anggota", "").strip()[:40]
    amount_text = request.args.get("jumlah", "").strip()[:20]
    error, sales = None, []
    try:
        sales = services.find_sales(day, till=till, number=number, member=member_text, amount=amount_text, limit=PAGE)
        preload_sales(sales)
    except PosError as exc:
        error = gettext(exc.message, **exc.params)
    totals = db.session.execute(
        sa.select(Sale.till_id, sa.func.count(), sa.func.coalesce(sa.func.sum(Sale.total), 0))
        .where(Sale.business_date == day, Sale.status == "completed").group_by(Sale.till_id)).all()
    by_till = {till_id: (count, total) for till_id, count, total in totals}
    shifts = db.session.scalars(sa.select(Shift).where(sa.or_(Shift.business_date == day, Shift.status == "open"))
                                .order_by(Shift.opened_at.desc()).limit(PAGE)).all()
    overnight = {s.id for s in services.overnight_shifts()}

    return render_template("sales/index.html", sales=sales, day=day, tills=tills, till_code=till_code,
                           number=number, member_text=member_text, amount_text=amount_text, error=error,
                           by_till=by_till, shifts=shifts, overnight=overnight, member_names=member_names(sales))


@bp.get("/shift/<int:shift_id>")
@require("sales.view")
def shift(shift_id: int):
    from pos.sales.documents import receipt_html
    from pos.sales.models import Shift
    from pos.sales.services import shift_totals

    found = db.session.get(Shift, shift_id)
    if found is None:
        abort(404)
    return render_template("till/shift.html", till=found.till, shift=found, totals=shift_totals(found),
                           report=receipt_html("shift_z", found.number) if found.status == "closed" else None)


@bp.get("/<number>")
@require("sales.view")
def sale(number: str):
    from pos.sales.documents import receipt_html
    from pos.sales.models import Sale

    found = db.session.scalar(sa.select(Sale).where(Sale.number == number.upper()[:30]))
    if found is None:
        abort(404)
    return render_template("till/sale.html", till=found.till, sale=found, receipt=receipt_html("sale", found.number),
                           manager_view=True)
