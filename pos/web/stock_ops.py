"""Warehouse operations on screen: goods receipt (a scanned GS1 code fills lot and expiry), transfers with a FEFO
pick list, stock counts (blind for the counter, a manager approves the variances), write-offs, returns to suppliers,
and a page for every stock document.

Each form is parsed the Indonesian way and hands one use case of inventory.services to a write transaction; a domain
error shows the form again, as typed, with 400 (409 for a conflict such as an invoice received before) and nothing
changed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from inventory import barcodes, fefo, lookup, services, stock
from inventory.catalog_rules import to_base
from inventory.models import (
    Batch,
    Location,
    LocationKind,
    Product,
    ProductUnit,
    StockDocument,
    StockDocumentLine,
    StockLevel,
    StockMove,
    Supplier,
)
from ledger.models import JournalEntry
from pos import audit
from pos.db import db, write_transaction
from pos.errors import N_, Conflict, InvalidInput, PosError
from pos.models import AuditEntry
from pos.money import parse_decimal, parse_quantity, parse_rupiah
from pos.permissions import has_permission, require
from pos.web import once
from pos.web.params import clean_text, form_rupiah, form_text, parse_date_text
from pos.web.templating import local_today

bp = Blueprint("stock_ops", __name__, url_prefix="/gudang")

MAX_LINES = 10
RECENT = 10
WAITING_SHOWN = 50  # transfers on the way listed on the warehouse page, oldest first (all are counted)
KINDS = ("receipt", "transfer", "count", "write_off", "supplier_return")
KIND_LABELS = {
    "receipt": _l("Goods receipt"),
    "transfer": _l("Transfer"),
    "count": _l("Stock count"),
    "write_off": _l("Write-off"),
    "supplier_return": _l("Return to supplier"),
}
STATUS_LABELS = {
    "done": _l("Done"),
    "sent": _l("Sent, on the way"),
    "received": _l("Received"),
    "open": _l("Being counted"),
    "counted": _l("Counted, waiting for approval"),
    "approved": _l("Approved"),
}
PAYMENT_LABELS = {"credit": _l("On credit (utang usaha)"), "cash": _l("Cash"), "bank": _l("Bank")}
COUNT_RECORDED = "stock.count_recorded"  # audit action: who typed counts into a count sheet


def _plain(value: Decimal | int | None) -> str:
    """A quantity for a data-attribute: '739', '-4', '1.5' whatever the database returned ('739.000', 739)."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "payment_labels": PAYMENT_LABELS,
            "max_lines": MAX_LINES, "rows": range(MAX_LINES), "plain": _plain}


# --- parsing helpers ----------------------------------------------------------------------------


def _flash_error(exc: PosError) -> None:
    flash(gettext(exc.message, **exc.params), "error")


def _status(exc: PosError) -> int:
    """A form's refusal: 409 when it clashes with what is already there, else 400 (also for unknown codes)."""
    return 409 if exc.status == 409 else 400


def _date(text: str | None, field: str = "date") -> dt.date | None:
    text = (text or "").strip()
    return parse_date_text(text, field) if text else None


def _document_date(text: str | None) -> dt.date:
    """A document's date: today when left empty; never in the future, before the books' start or in a closed
    month (the same rule as the journal entry it posts)."""
    from ledger import journal

    today = local_today()
    value = _date(text) or today
    if value > today:
        raise InvalidInput(N_("The date %(date)s is in the future."), date=value.strftime("%d/%m/%Y")).at("date")
    return journal.check_date(value)


def _location(code: str | None, *, karantina: bool = True) -> Location:
    if not (code or "").strip():
        raise InvalidInput(N_("Choose a location."))
    location = services.location_by_code(code or "")
    if not karantina and location.kind == LocationKind.KARANTINA:
        raise InvalidInput(N_("Choose a location other than karantina."))
    return location


def _supplier(code: str | None) -> Supplier:
    code = (code or "").strip()[:20]
    supplier = db.session.scalar(sa.select(Supplier).where(Supplier.code == code, Supplier.active.is_(True)))
    if supplier is None:
        raise InvalidInput(N_("Choose a supplier."))
    return supplier


@dataclass(frozen=True)
class Found:
    product: Product
    unit: ProductUnit  # the unit the code names (a pack's barcode), else the base unit
    gs1: barcodes.Gs1Data | None


def _find(code: str | None, today: dt.date) -> Found:
    """A product by SKU, barcode or GS1 element string (as a scanner sends it or as "(01)...(17)...(10)...")."""
    text = (code or "").strip()
    if not text:
        raise InvalidInput(N_("Give the product's SKU or barcode."))
    scanned = barcodes.classify(text, today=today)  # GS1 data goes through barcodes.parse_gs1
    found = lookup.resolve(text, today)
    product = db.session.get(Product, found["product"]["id"])
    unit = db.session.get(ProductUnit, found["unit"]["id"])
    return Found(product, unit, scanned.gs1)


def _unit(product: Product, name: str | None, default: ProductUnit) -> ProductUnit:
    name = (name or "").strip()
    if not name:
        return default
    for unit in product.units:
        if unit.name.lower() == name.lower():
            return unit
    raise InvalidInput(N_("%(product)s has no unit %(unit)s."), product=product.name, unit=name[:40])


def _batch(product: Product, lot: str | None) -> Batch | None:
    lot = (lot or "").strip().upper()[:20]
    if not lot:
        return None
    batch = db.session.scalar(sa.select(Batch).where(Batch.product_id == product.id, Batch.lot == lot))
    if batch is None:
        raise InvalidInput(N_("%(product)s has no lot %(lot)s."), product=product.name, lot=lot)
    return batch


def _counted(text: str) -> Decimal:
    value = parse_decimal(text)
    if value < 0:
        raise InvalidInput(N_("A counted quantity is zero or more."))
    if -value.as_tuple().exponent > 3:
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=3)
    return value


def _on_line(n: int, exc: PosError) -> InvalidInput:
    return InvalidInput(N_("Line %(n)d: %(error)s"), n=n + 1, error=gettext(exc.message, **exc.params))


def _filled(form: dict, n: int, names: tuple[str, ...]) -> bool:
    return any(form.get(f"{name}_{n}", "").strip() for name in names)


@dataclass(frozen=True)
class LineIn:
    """A typed line resolved: product, the unit typed in, the quantity in it and in base units, the batch named."""

    n: int  # the form's row, from 0
    product: Product
    unit: ProductUnit
    quantity: Decimal
    base: Decimal
    batch: Batch | None
    reason: str = ""


OUT_FIELDS = ("sku", "unit", "qty", "batch")
TRANSFER_FIELDS = (*OUT_FIELDS, "reason")


def _lines(form: dict, today: dt.date, fields: tuple[str, ...]) -> list[LineIn]:
    """Lines of product + quantity in any of its units (+ batch by lot, + reason); SKU shown as resolved."""
    lines = []
    for n in range(MAX_LINES):
        if not _filled(form, n, fields):
            continue
        try:
            found = _find(form.get(f"sku_{n}"), today)
            product = found.product
            form[f"sku_{n}"] = product.sku
            unit = _unit(product, form.get(f"unit_{n}"), found.unit)
            form[f"unit_{n}"] = unit.name
            quantity = parse_quantity(form.get(f"qty_{n}", ""))
            base = stock.quantity(to_base(quantity, unit.factor))
            lot = form.get(f"batch_{n}", "").strip()
            if not lot and found.gs1 is not None and found.gs1.lot:
                lot = form[f"batch_{n}"] = found.gs1.lot
            batch = _batch(product, lot) if product.tracks_batches else None
            reason = clean_text(form.get(f"reason_{n}", ""), f"reason_{n}", 250)
        except PosError as exc:
            raise _on_line(n, exc) from exc
        lines.append(LineIn(n, product, unit, quantity, base, batch, reason))
    return lines


def _line_info(form: dict, location: Location | None, today: dt.date) -> dict[int, dict]:
    """For the lines whose product is known: its unit names and, at `location`, its batches in FEFO order."""
    info: dict[int, dict] = {}
    for n in range(MAX_LINES):
        try:
            found = _find(form.get(f"sku_{n}"), today)
        except PosError:
            continue
        product = found.product
        lots = []
        if product.tracks_batches and location is not None:
            lots = [{"lot": lot.lot, "expiry": lot.expiry, "quantity": lot.quantity,
                     "expired": fefo.is_expired(lot.expiry, today)}
                    for lot in fefo.fefo_order(stock.lots_at(product.id, location.id))]
        info[n] = {"product": product, "units": [u.name for u in product.units], "lots": lots}
    return info


def _quiet_location(code: str | None) -> Location | None:
    try:
        return _location(code)
    except PosError:
        return None


def _locations(*, karantina: bool = True) -> list[Location]:
    query = sa.select(Location).order_by(Location.code)
    if not karantina:
        query = query.where(Location.kind != LocationKind.KARANTINA)
    return list(db.session.scalars(query))


def _suppliers() -> list[Supplier]:
    return list(db.session.scalars(sa.select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name)))


UNIT_NAMES_SECONDS = 300
MAX_UNIT_NAMES = 500


def _unit_names() -> list[str]:
    """Suggestions for a line's unit before its product is known (the server takes any unit of the product):
    the units of active products. Reading them is a scan of every product's units, so each app keeps them a few
    minutes."""
    import time

    from flask import current_app

    cache = current_app.extensions.setdefault("kasir_unit_names", {})
    now = time.monotonic()
    if cache.get("until", 0) < now:
        cache["names"] = list(db.session.scalars(
            sa.select(ProductUnit.name).join(Product).where(Product.active.is_(True))
            .distinct().order_by(ProductUnit.name).limit(MAX_UNIT_NAMES)))
        cache["until"] = now + UNIT_NAMES_SECONDS
    return cache["names"]


# --- operations home ----------------------------------------------------------------------------


@bp.get("/")
@require("stock.manage")
def index():
    return _index_page({"date": local_today().isoformat()})


def _index_page(form: dict, status: int = 200):
    recent = {
        kind: db.session.scalars(sa.select(StockDocument).where(StockDocument.kind == kind)
                                 .order_by(StockDocument.id.desc()).limit(RECENT)).all()
        for kind in KINDS
    }
    on_the_way = sa.and_(StockDocument.kind == "transfer", StockDocument.status == "sent")
    waiting = db.session.scalars(sa.select(StockDocument).where(on_the_way)
                                 .order_by(StockDocument.date, StockDocument.id).limit(WAITING_SHOWN)).all()
    waiting_count = len(waiting) if len(waiting) < WAITING_SHOWN else db.session.scalar(
        sa.select(sa.func.count()).select_from(StockDocument).where(on_the_way))
    counts = db.session.scalars(sa.select(StockDocument).where(
        StockDocument.kind == "count", StockDocument.status.in_(("open", "counted"))).order_by(StockDocument.id)).all()
    return render_template("stock_ops/index.html", recent=recent, kinds=KINDS, waiting=waiting,
                           waiting_count=waiting_count, counts=counts, locations=_locations(), form=form,
                           today=local_today(), **_labels()), status


# --- goods receipt ------------------------------------------------------------------------------

RECEIPT_FIELDS = ("sku", "unit", "qty", "cost", "ppn", "lot", "expiry")


def _optional_rupiah(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    amount = parse_rupiah(text)
    if amount < 0:
        raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    return amount


def _receipt_line(form: dict, n: int, today: dt.date) -> services.ReceiptLine:
    found = _find(form.get(f"sku_{n}"), today)
    if found.gs1 is not None:  # a GS1 string pasted or scanned into the SKU field: lot and expiry come with it
        if not form.get(f"lot_{n}", "").strip() and found.gs1.lot:
            form[f"lot_{n}"] = found.gs1.lot
        if not form.get(f"expiry_{n}", "").strip() and found.gs1.expiry:
            form[f"expiry_{n}"] = found.gs1.expiry.isoformat()
    form[f"sku_{n}"] = found.product.sku
    unit = _unit(found.product, form.get(f"unit_{n}"), found.unit)
    form[f"unit_{n}"] = unit.name
    quantity = parse_quantity(form.get(f"qty_{n}", ""))
    cost_text = form.get(f"cost_{n}", "").strip()
    if not cost_text:
        raise InvalidInput(N_("Give the cost per unit."))
    cost = parse_rupiah(cost_text)
    if cost < 0:
        raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    return services.ReceiptLine(found.product, unit, quantity, cost, form.get(f"lot_{n}", "").strip(),
                                _date(form.get(f"expiry_{n}"), f"expiry_{n}"),
                                ppn=_optional_rupiah(form.get(f"ppn_{n}")))


def _receipt_input(form: dict, today: dt.date) -> services.ReceiptInput:
    supplier = _supplier(form.get("supplier"))
    date = _document_date(form.get("date"))
    location = _location(form.get("location"), karantina=False)
    # The invoice's PPN: PPN masukan for a PKP's taxable goods, part of the goods' cost otherwise (receive_goods).
    ppn = _optional_rupiah(form.get("ppn")) or 0
    lines = []
    for n in range(MAX_LINES):
        if not _filled(form, n, RECEIPT_FIELDS):
            continue
        try:
            lines.append(_receipt_line(form, n, today))
        except PosError as exc:
            raise _on_line(n, exc) from exc
    return services.ReceiptInput(supplier=supplier, invoice_number=form.get("invoice", ""), date=date,
                                 location=location, lines=tuple(lines), payment=form.get("payment", ""),
                                 ppn_masukan=ppn)


def _receipt_page(form: dict, status: int = 200):
    today = local_today()
    return render_template("stock_ops/receipt.html", form=form, suppliers=_suppliers(),
                           locations=_locations(karantina=False), unit_names=_unit_names(),
                           info=_line_info(form, None, today), today=today, pkp=services.is_pkp(),
                           **_labels()), status


@bp.route("/penerimaan", methods=["GET", "POST"])
@require("stock.manage")
def receipt():
    if request.method == "GET":
        return _receipt_page({"date": local_today().isoformat(), "payment": "credit"})
    form = request.form.to_dict()
    try:
        with write_transaction():
            once.claim("stock:receipt")
            document = services.receive_goods(_receipt_input(form, local_today()), g.user)
            doc_id, number = document.id, document.number
            once.result(url_for("stock_ops.document", doc_id=doc_id))
    except PosError as exc:
        _flash_error(exc)
        return _receipt_page(form, _status(exc))
    flash(gettext("Received as %(number)s.", number=number), "success")
    return redirect(url_for("stock_ops.document", doc_id=doc_id))


# --- any document -------------------------------------------------------------------------------


def _document_or_404(doc_id: int) -> StockDocument:
    found = db.session.get(StockDocument, doc_id)
    if found is None:
        abort(404)
    return found


def _entries(document: StockDocument) -> list[JournalEntry]:
    """The journal entries a document posted (a count posts its surplus and its shortage apart)."""
    if document.kind == "count" and document.status == "approved":
        return list(db.session.scalars(sa.select(JournalEntry).where(
            JournalEntry.source_type == "stock_adjustment", JournalEntry.posted.is_(True),
            JournalEntry.source_id.in_((f"{document.number}:lebih", f"{document.number}:kurang")))
            .order_by(JournalEntry.id)))
    if document.entry_id is not None:
        return [db.session.get(JournalEntry, document.entry_id)]
    return []


DOCUMENT_PAGE = 100  # lines of a document per page (a count of a whole gudang has one per product and batch)


def _signed_value(quantity: Decimal, cost: Decimal) -> int:
    value = stock.value_of(abs(quantity), cost)
    return -value if quantity < 0 else value


def _count_move_cost(document: StockDocument):
    """For a count: the unit cost of the adjustment move of a line's product and batch (approve_count's cost)."""
    return (
        sa.select(StockMove.unit_cost)
        .where(StockMove.source_type == "count", StockMove.source_id == document.number,
               StockMove.product_id == StockDocumentLine.product_id,
               sa.func.coalesce(StockMove.batch_id, 0) == sa.func.coalesce(StockDocumentLine.batch_id, 0))
        .correlate(StockDocumentLine)
        .limit(1)
        .scalar_subquery()
    )


def _lines_total(document: StockDocument) -> int:
    """The sum of the lines' values over every line (SQL reads only the lines that move something), as the rows
    compute them one by one."""
    cost = StockDocumentLine.unit_cost
    if document.kind == "count":
        cost = sa.type_coerce(sa.func.coalesce(_count_move_cost(document), StockDocumentLine.unit_cost),
                              StockDocumentLine.unit_cost.type)
    rows = db.session.execute(
        sa.select(StockDocumentLine.quantity, cost)
        .where(StockDocumentLine.document_id == document.id, StockDocumentLine.quantity != 0)
        .execution_options(yield_per=1000)
    )
    return sum(_signed_value(Decimal(quantity), Decimal(unit_cost)) for quantity, unit_cost in rows)


def _document_rows(document: StockDocument, lines: list[StockDocumentLine]) -> list[dict]:
    count_costs = {}
    if document.kind == "count" and lines:
        count_costs = {(m.product_id, m.batch_id): Decimal(m.unit_cost) for m in db.session.scalars(
            sa.select(StockMove).where(StockMove.source_type == "count", StockMove.source_id == document.number,
                                       StockMove.product_id.in_({line.product_id for line in lines})))}
    rows = []
    for line in lines:
        product = line.product
        quantity, cost = Decimal(line.quantity), Decimal(line.unit_cost)
        row = {"line": line, "product": product, "batch": line.batch, "quantity": quantity,
               "unit": product.base_unit, "base": None, "cost": cost, "counted": line.counted}
        if document.kind == "receipt" and line.entered_quantity is not None and line.entered_unit:
            row.update(quantity=Decimal(line.entered_quantity), unit=line.entered_unit)
            if line.entered_unit != product.base_unit:
                row["base"] = quantity
        if document.kind == "count":
            cost = count_costs.get((line.product_id, line.batch_id), cost)
            row["cost"] = cost
        row["value"] = _signed_value(quantity, cost)
        rows.append(row)
    return rows


def _document_lines(document: StockDocument):
    """A page of the document's lines, in the order they were written (keyset on the line id)."""
    from sqlalchemy import orm

    from pos.web import paging

    return paging.keyset(
        sa.select(StockDocumentLine).where(StockDocumentLine.document_id == document.id), (StockDocumentLine.id,),
        size=DOCUMENT_PAGE, args={"doc_id": document.id}, position=True,
        key_of=lambda line_id: (line_id,),
        options=(orm.joinedload(StockDocumentLine.product), orm.joinedload(StockDocumentLine.batch)),
    )


def _document_page(document: StockDocument, status: int = 200):
    role = g.user.role
    # A count's lines show what was counted and the variance only once approved: the counter counts blind.
    reveal = document.kind != "count" or document.status == "approved"
    page = _document_lines(document)
    return render_template("stock_ops/document.html", document=document, page=page,
                           doc_rows=_document_rows(document, page.rows),
                           lines_total=_lines_total(document) if reveal else 0,
                           reveal=reveal, entries=_entries(document) if has_permission(role, "ledger.view") else [],
                           can_manage=has_permission(role, "stock.manage"), today=local_today(),
                           **_labels()), status


@bp.get("/dokumen/<int:doc_id>")
@require("stock.view")
def document(doc_id: int):
    return _document_page(_document_or_404(doc_id))


@bp.post("/dokumen/<int:doc_id>/terima")
@require("stock.manage")
def receive_transfer(doc_id: int):
    """A sent transfer arrives at its destination today."""
    _document_or_404(doc_id)
    try:
        with write_transaction():
            once.claim("stock:transfer_in")
            found = _document_or_404(doc_id)
            services.receive_transfer(found, g.user, local_today())
            number = found.number
            once.result(url_for("stock_ops.document", doc_id=doc_id))
    except PosError as exc:
        _flash_error(exc)
        return _document_page(_document_or_404(doc_id), _status(exc))
    flash(gettext("Transfer %(number)s was received.", number=number), "success")
    return redirect(url_for("stock_ops.document", doc_id=doc_id))


# --- transfers ----------------------------------------------------------------------------------


def _transfer_requests(lines: list[LineIn]) -> list[services.TransferRequest]:
    return [services.TransferRequest(line.product, line.base, line.batch, line.reason) for line in lines]


def _pick_preview(source: Location, lines: list[LineIn], date: dt.date) -> list[dict]:
    """What FEFO would take for each line (and how a chosen batch compares with it); nothing is moved."""
    picks = []
    for line in lines:
        try:
            fefo_picks = services.pick_list(line.product, source, line.base, date)
        except PosError as exc:
            raise _on_line(line.n, exc) from exc
        first = fefo_picks[0][0]
        chosen = line.batch
        row = {"line": line, "fefo": fefo_picks, "chosen": chosen, "expired": False, "needs_reason": False,
               "available": None}
        if chosen is not None:
            row["expired"] = fefo.is_expired(chosen.expiry_date, date)
            row["needs_reason"] = first is not None and first.id != chosen.id and not line.reason
            row["available"] = stock.on_hand(line.product.id, source.id, chosen.id)
        elif not line.product.tracks_batches:  # FEFO checked the batches' stock; say so for the others too
            row["available"] = stock.on_hand(line.product.id, source.id)
        picks.append(row)
    return picks


def _transfer_page(form: dict, status: int = 200, picks: list[dict] | None = None):
    today = local_today()
    return render_template("stock_ops/transfer.html", form=form, picks=picks,
                           locations=_locations(karantina=False), unit_names=_unit_names(),
                           info=_line_info(form, _quiet_location(form.get("from")), today), today=today,
                           **_labels()), status


@bp.route("/mutasi", methods=["GET", "POST"])
@require("stock.manage")
def transfer():
    today = local_today()
    if request.method == "GET":
        return _transfer_page({"date": today.isoformat()})
    form = request.form.to_dict()
    if form.get("preview") == "1":
        try:
            source = _location(form.get("from"), karantina=False)
            _location(form.get("to"), karantina=False)
            date = _document_date(form.get("date"))
            lines = _lines(form, today, TRANSFER_FIELDS)
            if not lines:
                raise InvalidInput(N_("A transfer has at least one line."))
            picks = _pick_preview(source, lines, date)
        except PosError as exc:
            _flash_error(exc)
            return _transfer_page(form, _status(exc))
        return _transfer_page(form, picks=picks)
    try:
        with write_transaction():
            source = _location(form.get("from"), karantina=False)
            destination = _location(form.get("to"), karantina=False)
            date = _document_date(form.get("date"))
            requests = _transfer_requests(_lines(form, today, TRANSFER_FIELDS))
            once.claim("stock:transfer_out")
            sent = services.send_transfer(source, destination, requests, date, g.user)
            doc_id, number = sent.id, sent.number
            once.result(url_for("stock_ops.document", doc_id=doc_id))
    except PosError as exc:
        _flash_error(exc)
        return _transfer_page(form, _status(exc))
    flash(gettext("Transfer %(number)s was sent.", number=number), "success")
    return redirect(url_for("stock_ops.document", doc_id=doc_id))


# --- stock count (opname) -----------------------------------------------------------------------


def _count_or_404(doc_id: int) -> StockDocument:
    found = db.session.get(StockDocument, doc_id)
    if found is None or found.kind != "count":
        abort(404)
    return found


COUNT_PAGE = 100  # count sheet lines per page (a whole gudang has a line per product and batch it holds)


def _variance_select(document: StockDocument) -> sa.Select:
    """Each line of a count with what the books hold now (as approve_count compares it: the stock level of its
    product and batch at the location) and the cost of one base unit there (stock.cost_at: the batch's own cost,
    else the moving average of the location's business unit), in one query."""
    from sqlalchemy import orm

    from inventory.models import ProductCost

    location = document.from_location
    line = StockDocumentLine
    level = orm.aliased(StockLevel)
    books = sa.type_coerce(sa.func.coalesce(level.quantity, 0), StockLevel.quantity.type)
    cost = sa.type_coerce(
        sa.case((StockDocumentLine.batch_id.is_not(None), Batch.unit_cost),
                else_=sa.func.coalesce(ProductCost.average_cost, 0)), Batch.unit_cost.type)
    return (
        sa.select(StockDocumentLine.id, StockDocumentLine.counted, books.label("books"), cost.label("cost"))
        .select_from(StockDocumentLine)
        .outerjoin(level, sa.and_(level.product_id == line.product_id, level.location_id == location.id,
                                  sa.func.coalesce(level.batch_id, 0) == sa.func.coalesce(line.batch_id, 0)))
        .outerjoin(Batch, Batch.id == StockDocumentLine.batch_id)
        .outerjoin(ProductCost, sa.and_(ProductCost.product_id == StockDocumentLine.product_id,
                                        ProductCost.unit_id == location.outlet.unit_id))
        .where(StockDocumentLine.document_id == document.id)
    )


def _variance(counted, books, cost) -> tuple[Decimal, Decimal, Decimal, int]:
    books, counted = Decimal(books), Decimal(counted or 0)
    variance = counted - books
    value = stock.value_of(abs(variance), Decimal(cost))
    return books, counted, variance, -value if variance < 0 else value


def _variance_totals(document: StockDocument) -> dict:
    """Surplus and shortage over every line of the count. SQL hands over only the lines whose count differs from the
    books (a superset of those with a variance), a thousand at a time; their values are rounded line by line, as
    approve_count posts them."""
    inner = _variance_select(document).subquery()
    rows = db.session.execute(
        sa.select(inner.c.counted, inner.c.books, inner.c.cost)
        .where(sa.func.coalesce(inner.c.counted, 0) != inner.c.books)
        .execution_options(yield_per=1000)
    )
    surplus = shortage = 0
    for counted, level, cost in rows:
        _books, _counted, variance, value = _variance(counted, level, cost)
        if variance > 0:
            surplus += value
        elif variance < 0:
            shortage -= value
    return {"surplus": surplus, "shortage": shortage, "net": surplus - shortage}


def _variances(document: StockDocument, lines: list[StockDocumentLine]) -> dict:
    """The variance rows of the sheet's lines shown (a page) and the totals over the whole count."""
    found = {}
    if lines:
        found = {row.id: row for row in db.session.execute(
            _variance_select(document).where(StockDocumentLine.id.in_([line.id for line in lines])))}
    rows = []
    for line in lines:
        row = found[line.id]
        books, counted, variance, value = _variance(row.counted, row.books, row.cost)
        rows.append({"line": line, "books": books, "counted": counted, "variance": variance, "value": value})
    return {"rows": rows, **_variance_totals(document)}


def _confirm_variances(document: StockDocument) -> None:
    """Approving a count books its variances: the approver confirms the amounts they saw, and if sales or receipts
    changed them since, sees them again before anything is posted."""
    variances = _variance_totals(document)
    if not (variances["surplus"] or variances["shortage"]):
        return
    if request.form.get("confirm") != "1":
        raise InvalidInput(N_("Tick the box to confirm the surplus and the shortage that will be posted.")).at(
            "confirm")
    seen = (request.form.get("surplus", ""), request.form.get("shortage", ""))
    if seen != (str(variances["surplus"]), str(variances["shortage"])):
        raise Conflict(N_("The variances changed since the page was shown: check them and approve again.")).at(
            "confirm")


def _sheet_page(document: StockDocument):
    """A page of the count sheet in shelf order: product name, lot, line (keyset on those three)."""
    from sqlalchemy import orm

    from pos.web import paging

    lot = sa.func.coalesce(Batch.lot, "")
    order = (Product.name, lot, StockDocumentLine.id)

    def key_of(line_id: int):
        return db.session.execute(
            sa.select(*order).select_from(StockDocumentLine).join(Product, Product.id == StockDocumentLine.product_id)
            .outerjoin(Batch, Batch.id == StockDocumentLine.batch_id)
            .where(StockDocumentLine.id == line_id, StockDocumentLine.document_id == document.id)).first()

    query = (
        sa.select(StockDocumentLine)
        .join(StockDocumentLine.product)
        .outerjoin(StockDocumentLine.batch)
        .where(StockDocumentLine.document_id == document.id)
    )
    return paging.keyset(
        query, order, key_of=key_of, size=COUNT_PAGE, args={"doc_id": document.id}, count=False,
        options=(orm.contains_eager(StockDocumentLine.product), orm.contains_eager(StockDocumentLine.batch)),
    )


def _here() -> dict:
    """The count sheet page the request came from (its keyset cursor), to come back to after saving."""
    from pos.web import paging

    return {name: value for name in (paging.AFTER, paging.BEFORE) if (value := paging.cursor_arg(name)) is not None}


def _count_page(document: StockDocument, form: dict | None = None, status: int = 200):
    can_approve = has_permission(g.user.role, "stock.approve")
    page = _sheet_page(document)
    total, counted = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(StockDocumentLine.counted))
        .where(StockDocumentLine.document_id == document.id)).one()
    page.total = total
    variances = _variances(document, page.rows) if can_approve and document.status == "counted" else None
    return render_template("stock_ops/count.html", document=document, lines=page.rows, page=page, here=_here(),
                           lines_total=total, lines_counted=counted, variances=variances, can_approve=can_approve,
                           form=form or {}, **_labels()), status


@bp.post("/opname")
@require("stock.manage")
def open_count():
    form = request.form.to_dict()
    try:
        with write_transaction():
            opened = services.open_count(_location(form.get("location")), _document_date(form.get("date")), g.user)
            doc_id, number = opened.id, opened.number
    except PosError as exc:
        _flash_error(exc)
        return _index_page(form, _status(exc))
    flash(gettext("Count %(number)s is open.", number=number), "success")
    return redirect(url_for("stock_ops.count_sheet", doc_id=doc_id))


@bp.get("/opname/<int:doc_id>")
@require("stock.manage")
def count_sheet(doc_id: int):
    found = _count_or_404(doc_id)
    if found.status == "approved":
        return redirect(url_for("stock_ops.document", doc_id=doc_id))
    return _count_page(found)


def _found_line(document: StockDocument, form: dict) -> bool:
    """Something on the shelf that the sheet does not list: product, lot and counted quantity in base units."""
    code, lot, qty = (form.get(f"found_{name}", "").strip() for name in ("sku", "lot", "qty"))
    if not (code or lot or qty):
        return False
    found = _find(code, local_today())
    product = found.product
    if not lot and found.gs1 is not None and found.gs1.lot:
        lot = found.gs1.lot
    batch = _batch(product, lot) if product.tracks_batches else None
    counted = _counted(qty)
    on_sheet = sa.select(StockDocumentLine.id).where(
        StockDocumentLine.document_id == document.id, StockDocumentLine.product_id == product.id,
        StockDocumentLine.batch_id.is_(None) if batch is None else StockDocumentLine.batch_id == batch.id)
    if db.session.scalar(on_sheet.limit(1)) is not None:
        raise InvalidInput(N_("%(product)s is already on the count sheet: enter its count there."),
                           product=product.name)
    services.add_count_line(document, product, batch, counted)
    db.session.flush()
    db.session.expire(document, ["lines"])
    return True


@bp.post("/opname/<int:doc_id>/hitung")
@require("stock.manage")
def record_count(doc_id: int):
    _count_or_404(doc_id)
    form = request.form.to_dict()
    try:
        with write_transaction():
            sheet = _count_or_404(doc_id)
            counts = {}
            for line in _typed_lines(sheet, form):
                text = form.get(f"count_{line.id}", "").strip()
                if text:
                    try:
                        counts[line.id] = _counted(text)
                    except PosError as exc:
                        raise InvalidInput(N_("%(product)s: %(error)s"), product=line.product.name,
                                           error=gettext(exc.message, **exc.params)) from exc
            added = _found_line(sheet, form)
            if not counts and not added:
                raise InvalidInput(N_("Enter at least one counted quantity."))
            services.record_count(sheet, counts, g.user)
            audit.record(COUNT_RECORDED, actor=g.user, target_type="count", target_id=sheet.number,
                         after={"lines": len(counts), "found": added})
            number, complete = sheet.number, sheet.status == "counted"
    except PosError as exc:
        _flash_error(exc)
        return _count_page(_count_or_404(doc_id), form, _status(exc))
    if complete:
        flash(gettext("Every line of %(number)s is counted: a manager can now approve it.", number=number), "success")
    else:
        flash(gettext("Counts of %(number)s were saved.", number=number), "success")
    return redirect(url_for("stock_ops.count_sheet", doc_id=doc_id, **_here()))


COUNT_FIELD = re.compile(r"^count_(\d{1,18})$", re.ASCII)


def _typed_lines(document: StockDocument, form: dict) -> list[StockDocumentLine]:
    """The sheet's lines the form has a count field for (a page of the sheet, not all of it), in line order."""
    ids = {int(match[1]) for name in form if (match := COUNT_FIELD.match(name))}
    if not ids:
        return []
    return list(db.session.scalars(
        sa.select(StockDocumentLine).where(StockDocumentLine.document_id == document.id,
                                           StockDocumentLine.id.in_(ids)).order_by(StockDocumentLine.id)))


def _counted_by(document: StockDocument, username: str) -> bool:
    return db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.action == COUNT_RECORDED, AuditEntry.target_type == "count",
        AuditEntry.target_id == document.number, AuditEntry.actor_name == username).limit(1)) is not None


@bp.post("/opname/<int:doc_id>/setujui")
@require("stock.approve")
def approve_count(doc_id: int):
    _count_or_404(doc_id)
    try:
        with write_transaction():
            sheet = _count_or_404(doc_id)
            # The service refuses whoever opened the count; whoever typed counts into it may not approve either.
            if _counted_by(sheet, g.user.username):
                raise InvalidInput(N_("Someone other than the counter approves the count."))
            if sheet.status == "counted":
                _confirm_variances(sheet)
            once.claim("stock:count_approval")
            services.approve_count(sheet, g.user, local_today())
            number = sheet.number
            once.result(url_for("stock_ops.document", doc_id=doc_id))
    except PosError as exc:
        _flash_error(exc)
        return _count_page(_count_or_404(doc_id), None, _status(exc))
    flash(gettext("Count %(number)s was approved and the stock adjusted.", number=number), "success")
    return redirect(url_for("stock_ops.document", doc_id=doc_id))


# --- write-off and return to supplier -----------------------------------------------------------


def _out_lines(form: dict, today: dt.date) -> list[services.OutLine]:
    lines = _lines(form, today, OUT_FIELDS)
    for line in lines:
        if line.product.tracks_batches and line.batch is None:
            raise _on_line(line.n, InvalidInput(N_("%(product)s is tracked by batch: say which batch."),
                                           product=line.product.name))
    return [services.OutLine(line.product, line.base, line.batch) for line in lines]


def _goods_out_page(kind: str, form: dict, status: int = 200, checked: bool = False):
    today = local_today()
    endpoint = "stock_ops.write_off" if kind == "write_off" else "stock_ops.supplier_return"
    info = _line_info(form, _quiet_location(form.get("location")), today)
    return render_template("stock_ops/goods_out.html", kind=kind, action=url_for(endpoint), form=form,
                           checked=checked, locations=_locations(), suppliers=_suppliers(), pkp=services.is_pkp(),
                           unit_names=_unit_names(), info=info, today=today, **_labels()), status


def _goods_out(kind: str):
    today = local_today()
    if request.method == "GET":
        return _goods_out_page(kind, {"date": today.isoformat()})
    form = request.form.to_dict()
    if form.get("preview") == "1":  # check the lines and offer each product's batches; nothing is written
        try:
            _location(form.get("location"))
            _out_lines(form, today)
        except PosError as exc:
            _flash_error(exc)
            return _goods_out_page(kind, form, _status(exc))
        return _goods_out_page(kind, form, checked=True)
    try:
        with write_transaction():
            once.claim(f"stock:{kind}")
            location = _location(form.get("location"))
            date = _document_date(form.get("date"))
            if kind == "write_off":
                done = services.write_off(location, _out_lines(form, today), form_text("reason", 250), date, g.user)
            else:
                supplier = _supplier(form.get("supplier"))
                ppn = form_rupiah("ppn", required=False, allow_zero=True) if services.is_pkp() else 0
                done = services.return_to_supplier(location, supplier, _out_lines(form, today),
                                                   form_text("reason", 250), date, g.user, ppn=ppn)
            doc_id, number = done.id, done.number
            once.result(url_for("stock_ops.document", doc_id=doc_id))
    except PosError as exc:
        _flash_error(exc)
        return _goods_out_page(kind, form, _status(exc))
    flash(gettext("Recorded as %(number)s.", number=number), "success")
    return redirect(url_for("stock_ops.document", doc_id=doc_id))


@bp.route("/pemusnahan", methods=["GET", "POST"])
@require("stock.manage")
def write_off():
    return _goods_out("write_off")


@bp.route("/retur-pemasok", methods=["GET", "POST"])
@require("stock.manage")
def supplier_return():
    return _goods_out("supplier_return")
