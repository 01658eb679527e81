"""Stock reports on screen: overview with the drift check, stock on hand, kartu stok, expiry, reorder list and
stock value against the books; each also as CSV and XLSX. Long lists are paged by keyset (100 rows), their totals
summed in SQL over the whole filter; the downloads stream every row (pos/web/stock_downloads.py)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from inventory import reports, stock
from inventory.models import Batch, Location, LocationKind, MoveKind, Product
from ledger.export import Table
from pos.db import db
from pos.errors import N_, InvalidInput, PosError
from pos.formats import to_local
from pos.models import BusinessUnit
from pos.permissions import require
from pos.web import paging
from pos.web.params import date_arg
from pos.web.stock_downloads import streamed
from pos.web.templating import display_timezone, local_today

bp = Blueprint("stock_reports", __name__, url_prefix="/stok")

MAX_QUERY = 80
PAGE_ROWS = 100  # rows of the on-hand, reorder and one expiry group's pages
BUCKET_ROWS = 50  # rows of each group on the expiry report's first view
CARD_PAGE_LINES = 100  # a card's page of moves (the latest first); the download has them all
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


def _download_kind() -> str | None:
    kind = request.args.get("format", "")
    return kind if kind in ("csv", "xlsx") else None


def _download(kind: str, table: Table, filename: str):
    return streamed(kind, table.title, table.columns, lambda: table.rows, download_name(filename))


def _again(model, row) -> object | None:
    """The same row in the download's own session (it runs after the request's session is gone)."""
    return db.session.get(model, row.id) if row is not None else None


def _page(template: str, **context):
    return render_template(template, units=_units(), locations=_locations(), labels=_labels(), **context)


def _pager(found: reports.Slice, total: int | None, **args) -> paging.Page:
    """The pager of a keyset page (pos/templates/_pager.html), its links keeping the filters in `args`."""
    return paging.Page(rows=found.rows, has_prev=found.has_prev, has_next=found.has_next, total=total,
                       prev_cursor=found.prev_cursor, next_cursor=found.next_cursor,
                       args={k: v for k, v in args.items() if v not in (None, "")})


def _cursors() -> dict:
    return {"after": paging.cursor_arg(paging.AFTER), "before": paging.cursor_arg(paging.BEFORE)}


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
    if kind := _download_kind():
        return _download(kind, table, f"ringkasan-stok_{today.isoformat()}")
    return _page("stock_reports/index.html", overview=overview, today=today)


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

ON_HAND_COLUMNS = ["SKU", "Produk", "Unit", "Lokasi", "Lot", "Kedaluwarsa", "Jumlah", "Satuan", "Harga pokok",
                   "Nilai"]


def _on_hand_download(location, unit, text):
    location, unit = _again(Location, location), _again(BusinessUnit, unit)
    total = 0
    for sku, name, unit_code, location_code, lot, expiry, qty, base_unit, cost, value in reports.on_hand_rows(
            location, unit, text):
        total += int(value)
        yield [sku, name, unit_code, location_code, lot or "", expiry.isoformat() if expiry else "",
               _num(reports._qty(qty)), base_unit, _num(Decimal(cost)), int(value)]
    yield ["", "Jumlah", "", "", "", "", "", "", "", total]


@bp.get("/persediaan")
@require("stock.view")
def on_hand():
    """Stock on hand a page at a time (by product name; ?setelah=/?sebelum= a level id), the totals of everything
    the filters match; the downloads hold every row."""
    template = "stock_reports/on_hand.html"
    text = request.args.get("q", "").strip()[:MAX_QUERY]
    try:
        location, unit = _location_arg(), _unit_arg()
    except PosError as exc:
        return _refused(template, exc, report=None, text=text)
    if kind := _download_kind():
        suffix = "_".join(part for part in (location.code if location else "", unit.code if unit else "") if part)
        return streamed(kind, "Persediaan", ON_HAND_COLUMNS, partial(_on_hand_download, location, unit, text),
                        download_name("persediaan" + (f"_{suffix}" if suffix else "")))
    report = reports.stock_on_hand(location, unit, text, size=PAGE_ROWS, **_cursors())
    page = _pager(report.page, report.count, lokasi=location.code if location else None,
                  unit=unit.code if unit else None, q=text)
    return _page(template, report=report, page=page, text=text, location=location, unit=unit)


# --- kartu stok ---------------------------------------------------------------------------------

CARD_COLUMNS = ["Waktu", "Dokumen", "Jenis", "Dari", "Ke", "Lot", "Masuk", "Keluar", "Saldo"]


def _card_download(product, location, batch, start, end, timezone):
    result = reports.stock_card(_again(Product, product), location=_again(Location, location),
                                batch=_again(Batch, batch), start=start, end=end, size=0)
    local = lambda moment: to_local(moment, timezone).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    yield ["", "", "Saldo awal", "", "", "", "", "", _num(result.opening)]
    total_in = total_out = Decimal(0)
    balance = result.opening
    for row, qty_in, qty_out, balance in reports.card_rows(result):
        total_in += qty_in
        total_out += qty_out
        yield [local(row.at), f"{row.source_type} {row.source_id}", row.kind.value, row[4] or "", row[5] or "",
               row.lot or "", _num(qty_in), _num(qty_out), _num(balance)]
    yield ["", "", "Saldo akhir", "", "", "", _num(total_in), _num(total_out), _num(balance)]


@bp.get("/kartu/<sku>")
@require("stock.view")
def card(sku: str):
    """A product's kartu stok, a page of moves at a time: the latest first (?sebelum=/?setelah= a move id for
    earlier and later ones), each page's balances carried from the SQL sum of the moves before it; the downloads
    hold every move of the period."""
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
    since = _start_of(start) if start else None
    until = _start_of(end + dt.timedelta(days=1)) if end else None
    if kind := _download_kind():
        filename = download_name("kartu-stok", product.sku, location.code if location else "",
                                 batch.lot if batch else "", start.isoformat() if start else "",
                                 end.isoformat() if end else "")
        return streamed(kind, f"Kartu stok {product.sku}"[:31], CARD_COLUMNS,
                        partial(_card_download, product, location, batch, since, until, display_timezone()),
                        filename)
    result = reports.stock_card(product, location=location, batch=batch, start=since, end=until,
                                size=CARD_PAGE_LINES, **_cursors())
    now_on_hand = stock.on_hand(product.id, location.id if location else None, batch.id if batch else None)
    page = _pager(result.page, result.moves, sku=product.sku, lokasi=location.code if location else None,
                  batch=batch.lot if batch else None, dari=request.args.get("dari", "").strip()[:20],
                  sampai=request.args.get("sampai", "").strip()[:20])
    return _page(template, product=product, batches=batches, result=result, on_hand=now_on_hand,
                 location=location, batch=batch, start=start, end=end, shown=result.lines, hidden=result.earlier,
                 carried=result.carried, page=page)


# --- expiry -------------------------------------------------------------------------------------

EXPIRY_COLUMNS = ["Kelompok", "SKU", "Produk", "Lot", "Kedaluwarsa", "Sisa hari", "Lokasi", "Jumlah", "Satuan",
                  "Nilai", "Dekat kedaluwarsa (kategori)"]


def _expiry_download(today: dt.date):
    for bucket, row, days_left, near in reports.expiry_rows(today):
        yield [bucket, row.sku, row.name, row.lot, row.expiry_date.isoformat(), days_left, row.code,
               _num(reports._qty(row.quantity)), row.base_unit, int(row[8]), "ya" if near else "tidak"]


@bp.get("/kedaluwarsa")
@require("stock.view")
def expiry():
    """Each expiry group with its count and value and its first rows; ?kelompok= one group a page at a time."""
    today = local_today()
    if kind := _download_kind():
        return streamed(kind, "Kedaluwarsa", EXPIRY_COLUMNS, partial(_expiry_download, today),
                        download_name(f"kedaluwarsa_{today.isoformat()}"))
    bucket = request.args.get("kelompok", "").strip()[:10]
    if bucket not in reports.EXPIRY_BUCKETS:
        bucket = ""
    report = reports.expiry_report(today, bucket=bucket or None, size=PAGE_ROWS if bucket else BUCKET_ROWS,
                                   **(_cursors() if bucket else {}))
    page = None
    if bucket:
        page = _pager(report.pages.get(bucket, reports.Slice([])), report.row_count(bucket), kelompok=bucket)
    return _page("stock_reports/expiry.html", report=report, buckets=[bucket] if bucket else reports.EXPIRY_BUCKETS,
                 today=today, bucket=bucket, page=page)


# --- reorder ------------------------------------------------------------------------------------

REORDER_COLUMNS = ["SKU", "Produk", "Satuan", "Stok", "Dalam perjalanan", "Titik pesan ulang", "Kekurangan"]


def _reorder_download():
    for row, in_transit in reports.reorder_rows():
        on_hand, point = reports._qty(row.held), reports._qty(row.reorder_point)
        yield [row.sku, row.name, row.base_unit, _num(on_hand), _num(in_transit), _num(point),
               _num(reports.shortfall(on_hand, point) or Decimal(0))]


@bp.get("/pesan-ulang")
@require("stock.view")
def reorder():
    """Products to reorder by name, a page at a time (?setelah=/?sebelum= a product id), counted in SQL."""
    today = local_today()
    if kind := _download_kind():
        return streamed(kind, "Pesan ulang", REORDER_COLUMNS, _reorder_download,
                        download_name(f"pesan-ulang_{today.isoformat()}"))
    found = reports.reorder_list(size=PAGE_ROWS, **_cursors())
    return _page("stock_reports/reorder.html", rows=found.rows, today=today, page=_pager(found.page, found.count),
                 count=found.count)


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
    if kind := _download_kind():
        rows = [["Unit", u.unit.code, "", u.on_hand, u.in_transit, u.stock_value, u.ledger, u.difference]
                for u in result.units]
        rows += [["Kategori", c.unit.code, c.category.name, c.value, "", "", "", ""] for c in result.categories]
        rows.append(["Jumlah", "", "", result.total_on_hand, result.total_in_transit, result.total_stock,
                     result.total_ledger, result.total_difference])
        table = Table("Nilai persediaan", ["Baris", "Unit", "Kategori", "Nilai di lokasi", "Dalam perjalanan",
                                           "Nilai stok", "Buku besar", "Selisih"], rows)
        return _download(kind, table, f"nilai-persediaan_{today.isoformat()}" + (f"_{unit.code}" if unit else ""))
    return _page(template, result=result, unit=unit, today=today)
