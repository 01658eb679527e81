"""Stock reports on screen: overview with the drift check, stock on hand, kartu stok, expiry, reorder list and
stock value against the books; each also as CSV and XLSX."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from inventory import reports, stock
from inventory.models import Location, LocationKind, MoveKind, Product
from ledger.export import Table
from pos.db import db
from pos.errors import N_, InvalidInput, PosError
from pos.formats import to_local
from pos.models import BusinessUnit
from pos.permissions import require
from pos.web.ledger import download_or_page
from pos.web.params import date_arg
from pos.web.templating import display_timezone, local_today

bp = Blueprint("stock_reports", __name__, url_prefix="/stok")

MAX_QUERY = 80
CARD_PAGE_LINES = 500  # a busy product's card shows its latest moves on the page; the download has them all
MOVE_LABELS = {
    MoveKind.RECEIPT: _l("Goods receipt"),
    MoveKind.SALE: _l("Sale"),
    MoveKind.RETURN: _l("Customer return"),
    MoveKind.TRANSFER: _l("Transfer"),
    MoveKind.ADJUSTMENT: _l("Count adjustment"),
    MoveKind.WRITE_OFF: _l("Write-off"),
    MoveKind.QUARANTINE: _l("To quarantine"),
    MoveKind.SUPPLIER_RETURN: _l("Return to supplier"),
}
BUCKET_LABELS = {
    "expired": _l("Expired"),
    "30": _l("Expires within 30 days"),
    "60": _l("Expires within 31 to 60 days"),
    "90": _l("Expires within 61 to 90 days"),
    "later": _l("Later, but near expiry for its category"),
}
LOCATION_KIND_LABELS = {
    LocationKind.GUDANG: _l("Warehouse"),
    LocationKind.TOKO: _l("Shop shelf"),
    LocationKind.APOTEK: _l("Pharmacy shelf"),
    LocationKind.KARANTINA: _l("Quarantine"),
}


# --- helpers ------------------------------------------------------------------------------------


def _units() -> list[BusinessUnit]:
    return list(db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code)))


def _locations() -> list[Location]:
    return list(db.session.scalars(sa.select(Location).order_by(Location.code)))


def _num(value: Decimal) -> int | Decimal:
    """A quantity for a CSV/XLSX cell: whole numbers as int (so '100.000' is never read as a hundred thousand
    by a spreadsheet set to Indonesian), the rest as an exact Decimal."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else value.normalize()


def _local(moment: dt.datetime) -> str:
    return to_local(moment, display_timezone()).strftime("%Y-%m-%d %H:%M")


def _location_arg() -> Location | None:
    code = request.args.get("lokasi", "").strip().upper()[:20]
    if not code:
        return None
    location = db.session.scalar(sa.select(Location).where(Location.code == code))
    if location is None:
        raise InvalidInput(N_("No stock location %(code)s."), code=code)
    return location


def _unit_arg() -> BusinessUnit | None:
    code = request.args.get("unit", "").strip().upper()[:20]
    if not code:
        return None
    unit = db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == code))
    if unit is None:
        raise InvalidInput(N_("No business unit '%(unit)s'."), unit=code)
    return unit


def _start_of(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, in UTC (moves are stored in UTC)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(display_timezone())).astimezone(dt.UTC)


def _refused(template: str, exc: PosError, **context):
    """A filter that cannot be read: the page again with the filters as typed, no figures, and the reason."""
    flash(gettext(exc.message, **exc.params), "error")
    return render_template(template, units=_units(), locations=_locations(), labels=_labels(), **context), 400


def _labels() -> dict:
    return {"moves": MOVE_LABELS, "buckets": BUCKET_LABELS, "kinds": LOCATION_KIND_LABELS}


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+", re.ASCII)


def download_name(*parts: str) -> str:
    """A download's file name from its parts (a SKU, a location, a lot, dates): only letters, digits, '.', '-'
    and '_', so a lot number with a quote or a line break (stored before lots were checked) can neither break the
    Content-Disposition header nor inject another one."""
    cleaned = (_UNSAFE_IN_NAME.sub("-", part).strip("-.") for part in parts if part)
    return "_".join(part for part in cleaned if part)[:150] or "laporan"


def _show(table: Table, filename: str, template: str, **context):
    return download_or_page(table, download_name(filename), template, locations=_locations(), labels=_labels(),
                            **context)


# --- overview -----------------------------------------------------------------------------------


@bp.get("/")
@require("stock.view")
def index():
    today = local_today()
    overview = reports.summary(today)
    values = overview.values
    table = Table("Ringkasan stok", ["Unit", "Nilai stok", "Dalam perjalanan", "Buku besar", "Selisih"], [
        [u.unit.code, u.on_hand, u.in_transit, u.ledger, u.difference] for u in values.units
    ] + [
        ["Jumlah", values.total_on_hand, values.total_in_transit, values.total_ledger, values.total_difference],
        ["Batch kedaluwarsa", overview.expired_batches, "", "", ""],
        ["Batch mendekati kedaluwarsa", overview.near_expiry_batches, "", "", ""],
        ["Produk di bawah titik pesan ulang", overview.below_reorder, "", "", ""],
        ["Selisih stok vs mutasi", len(overview.drift), "", "", ""],
    ])
    return _show(table, f"ringkasan-stok_{today.isoformat()}", "stock_reports/index.html", overview=overview,
                 today=today)


@bp.get("/kartu")
@require("stock.view")
def card_lookup():
    """The overview's 'open kartu stok' form: from a SKU to its card."""
    sku = request.args.get("sku", "").strip()[:40]
    if not sku:
        return redirect(url_for("stock_reports.index"))
    product = _product(sku)
    if product is None:
        flash(gettext("No product with SKU %(sku)s.", sku=sku), "error")
        return redirect(url_for("stock_reports.index"))
    return redirect(url_for("stock_reports.card", sku=product.sku))


def _product(sku: str) -> Product | None:
    found = db.session.scalar(sa.select(Product).where(Product.sku == sku))
    if found is None:
        found = db.session.scalar(sa.select(Product).where(Product.sku == sku.upper()))
    return found


# --- stock on hand ------------------------------------------------------------------------------


@bp.get("/persediaan")
@require("stock.view")
def on_hand():
    template = "stock_reports/on_hand.html"
    text = request.args.get("q", "").strip()[:MAX_QUERY]
    try:
        location, unit = _location_arg(), _unit_arg()
    except PosError as exc:
        return _refused(template, exc, report=None, text=text)
    report = reports.stock_on_hand(location, unit, text)
    table = Table("Persediaan", ["SKU", "Produk", "Unit", "Lokasi", "Lot", "Kedaluwarsa", "Jumlah", "Satuan",
                                 "Harga pokok", "Nilai"], [
        [r.product.sku, r.product.name, r.unit.code, r.location.code, r.batch.lot if r.batch else "",
         r.expiry.isoformat() if r.expiry else "", _num(r.quantity), r.product.base_unit, _num(r.unit_cost), r.value]
        for r in report.rows
    ] + [["", "Jumlah", "", "", "", "", "", "", "", report.total_value]])
    suffix = "_".join(part for part in (location.code if location else "", unit.code if unit else "") if part)
    return _show(table, "persediaan" + (f"_{suffix}" if suffix else ""), template, report=report, text=text,
                 location=location, unit=unit)


# --- kartu stok ---------------------------------------------------------------------------------


@bp.get("/kartu/<sku>")
@require("stock.view")
def card(sku: str):
    template = "stock_reports/card.html"
    product = _product(sku[:40])
    if product is None:
        abort(404)
    batches = reports.batches_of(product)
    try:
        location = _location_arg()
        lot = request.args.get("batch", "").strip().upper()[:20]
        batch = next((b for b in batches if b.lot == lot), None)
        if lot and batch is None:
            raise InvalidInput(N_("%(product)s has no lot %(lot)s."), product=product.name, lot=lot)
        start, end = date_arg("dari"), date_arg("sampai")
        if start and end and end < start:
            raise InvalidInput(N_("The period ends before it starts."))
    except PosError as exc:
        return _refused(template, exc, product=product, batches=batches, result=None, on_hand=None)
    result = reports.stock_card(product, location=location, batch=batch,
                                start=_start_of(start) if start else None,
                                end=_start_of(end + dt.timedelta(days=1)) if end else None)
    now_on_hand = stock.on_hand(product.id, location.id if location else None, batch.id if batch else None)
    rows = [["", "", "Saldo awal", "", "", "", "", "", _num(result.opening)]]
    for line in result.lines:
        move = line.move
        rows.append([_local(move.at), f"{move.source_type} {move.source_id}", move.kind.value,
                     move.from_location.code if move.from_location else "",
                     move.to_location.code if move.to_location else "", move.batch.lot if move.batch else "",
                     _num(line.qty_in), _num(line.qty_out), _num(line.balance)])
    rows.append(["", "", "Saldo akhir", "", "", "", _num(result.total_in), _num(result.total_out),
                 _num(result.closing)])
    table = Table(f"Kartu stok {product.sku}"[:31], ["Waktu", "Dokumen", "Jenis", "Dari", "Ke", "Lot", "Masuk",
                                                     "Keluar", "Saldo"], rows)
    filename = download_name("kartu-stok", product.sku, location.code if location else "", batch.lot if batch else "",
                             start.isoformat() if start else "", end.isoformat() if end else "")
    hidden = max(len(result.lines) - CARD_PAGE_LINES, 0)
    return _show(table, filename, template, product=product, batches=batches, result=result, on_hand=now_on_hand,
                 location=location, batch=batch, start=start, end=end, shown=result.lines[hidden:], hidden=hidden,
                 carried=result.lines[hidden - 1].balance if hidden else result.opening)


# --- expiry -------------------------------------------------------------------------------------


@bp.get("/kedaluwarsa")
@require("stock.view")
def expiry():
    today = local_today()
    report = reports.expiry_report(today)
    table = Table("Kedaluwarsa", ["Kelompok", "SKU", "Produk", "Lot", "Kedaluwarsa", "Sisa hari", "Lokasi", "Jumlah",
                                  "Satuan", "Nilai", "Dekat kedaluwarsa (kategori)"], [
        [row.bucket, row.stock.product.sku, row.stock.product.name, row.batch.lot, row.batch.expiry_date.isoformat(),
         row.days_left, row.stock.location.code, _num(row.stock.quantity), row.stock.product.base_unit,
         row.stock.value, "ya" if row.near else "tidak"]
        for bucket in reports.EXPIRY_BUCKETS for row in report.group(bucket)
    ])
    return _show(table, f"kedaluwarsa_{today.isoformat()}", "stock_reports/expiry.html", report=report,
                 buckets=reports.EXPIRY_BUCKETS, today=today)


# --- reorder ------------------------------------------------------------------------------------


@bp.get("/pesan-ulang")
@require("stock.view")
def reorder():
    today = local_today()
    rows = reports.reorder_list()
    table = Table("Pesan ulang", ["SKU", "Produk", "Satuan", "Stok", "Dalam perjalanan", "Titik pesan ulang",
                                  "Kekurangan"], [
        [r.product.sku, r.product.name, r.product.base_unit, _num(r.on_hand), _num(r.in_transit),
         _num(r.reorder_point), _num(r.shortfall)] for r in rows
    ])
    return _show(table, f"pesan-ulang_{today.isoformat()}", "stock_reports/reorder.html", rows=rows, today=today)


# --- stock value --------------------------------------------------------------------------------


@bp.get("/nilai")
@require("stock.view")
def value():
    template = "stock_reports/value.html"
    today = local_today()
    try:
        unit = _unit_arg()
    except PosError as exc:
        return _refused(template, exc, result=None, unit=None, today=today)
    result = reports.stock_value(unit)
    rows = [["Unit", u.unit.code, "", u.on_hand, u.in_transit, u.stock_value, u.ledger, u.difference]
            for u in result.units]
    rows += [["Kategori", c.unit.code, c.category.name, c.value, "", "", "", ""] for c in result.categories]
    rows.append(["Jumlah", "", "", result.total_on_hand, result.total_in_transit, result.total_stock,
                 result.total_ledger, result.total_difference])
    table = Table("Nilai persediaan", ["Baris", "Unit", "Kategori", "Nilai di lokasi", "Dalam perjalanan",
                                       "Nilai stok", "Buku besar", "Selisih"], rows)
    return _show(table, f"nilai-persediaan_{today.isoformat()}" + (f"_{unit.code}" if unit else ""), template,
                 result=result, unit=unit, today=today)

