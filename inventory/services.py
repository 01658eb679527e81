"""Warehouse use cases: receive goods, transfer with a FEFO pick list, count (opname), write off, return to a
supplier, quarantine expired batches. Each runs in the caller's write transaction and posts to the ledger."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from inventory import fefo, stock
from inventory.catalog_rules import to_base
from inventory.models import (
    Batch,
    Location,
    LocationKind,
    MoveKind,
    Product,
    ProductUnit,
    StockDocument,
    StockDocumentLine,
    StockLevel,
    Supplier,
)
from ledger import journal
from ledger.posting_rules import (
    GoodsReceiptSummary,
    ReceivedGoods,
    StockAdjustmentSummary,
    SupplierReturnSummary,
    TransferSummary,
    WriteOffSummary,
    goods_receipt_entry,
    kas,
    receipt_costs,
    stock_adjustment_entry,
    supplier_return_entry,
    transfer_entry,
    write_off_entry,
)
from pos import audit
from pos.db import db
from pos.errors import N_, Conflict, InvalidInput, NotFound
from pos.models import User

SERIES = {"receipt": "PB", "transfer": "MT", "count": "SO", "write_off": "PM", "supplier_return": "RP"}


def moment(date: dt.date) -> dt.datetime:
    """When a dated document's moves happened: now for today's documents, midday of their own day otherwise,
    so a backdated receipt sits on the stock card on the same day as its journal entry."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config["KASIR"]["timezone"])
    now = dt.datetime.now(zone)
    if date == now.date():
        return now.astimezone(dt.UTC)
    return dt.datetime.combine(date, dt.time(12, 0), zone).astimezone(dt.UTC)


def _local_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(current_app.config["KASIR"]["timezone"])).date()


def _number(kind: str, date: dt.date) -> str:
    series = SERIES[kind]
    return f"{series}/{date.year}/{journal.next_number(series, date.year):06d}"


def _unit_code(location: Location) -> str:
    return location.outlet.unit.code


def _who(user: User | None, fallback: str = "system") -> str:
    return user.username if user is not None else fallback


def location_by_code(code: str) -> Location:
    location = db.session.scalar(sa.select(Location).where(Location.code == (code or "").strip().upper()[:20]))
    if location is None:
        raise NotFound(N_("No stock location %(code)s."), code=(code or "")[:20])
    return location


def quarantine_of(location: Location) -> Location:
    """The karantina of the location's outlet, or failing that one of the same business unit: quarantine never
    moves goods (and their value) into another unit's books."""
    from pos.models import Outlet

    found = db.session.scalar(sa.select(Location).where(
        Location.outlet_id == location.outlet_id, Location.kind == LocationKind.KARANTINA))
    if found is None:
        found = db.session.scalar(sa.select(Location).join(Outlet).where(
            Location.kind == LocationKind.KARANTINA, Outlet.unit_id == location.outlet.unit_id).order_by(Location.id))
    if found is None:
        raise NotFound(N_("%(location)s has no karantina in its business unit."), location=location.name)
    return found


def negative_allowed(location: Location) -> bool:
    return location.outlet.code in current_app.config["KASIR"]["negative_stock_outlets"]


# --- goods receipt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    product: Product
    unit: ProductUnit
    quantity: Decimal  # in `unit`
    unit_cost: int  # rupiah per `unit`, before PPN
    lot: str = ""
    expiry: dt.date | None = None
    ppn: int | None = None  # PPN the supplier charged on this line (whole line); None: a share of the invoice's PPN


@dataclass(frozen=True)
class ReceiptInput:
    supplier: Supplier
    invoice_number: str
    date: dt.date
    location: Location
    lines: tuple[ReceiptLine, ...]
    payment: str = "credit"  # "cash" from the location's outlet cash, "bank", or "credit" (utang usaha)
    # The PPN on the whole invoice, shared over its lines (ledger.posting_rules.receipt_costs). Whether it is PPN
    # masukan or part of the goods' cost is the rule's decision: all of it is cost for a cooperative that is not PKP.
    ppn_masukan: int = 0


def is_pkp() -> bool:
    return current_app.config["KASIR"]["tax_status"] == "pkp"


def receive_goods(data: ReceiptInput, user: User | None) -> StockDocument:
    """Receive a supplier's invoice into a location: batches, stock, average cost, and the ledger entry."""
    invoice = (data.invoice_number or "").strip().upper()
    if data.date > moment(data.date).date() and data.date > _local_today():
        raise InvalidInput(N_("A document cannot be dated in the future."))
    if not invoice or len(invoice) > 40:
        raise InvalidInput(N_("Give the supplier's invoice number."))
    if not data.lines:
        raise InvalidInput(N_("A receipt has at least one line."))
    if data.payment not in ("cash", "bank", "credit"):
        raise InvalidInput(N_("Payment is cash, bank or credit."))
    if data.location.kind == LocationKind.KARANTINA:
        raise InvalidInput(N_("Goods are not received into karantina."))
    if db.session.scalar(sa.select(StockDocument.id).where(
            StockDocument.supplier_id == data.supplier.id, StockDocument.invoice_number == invoice)) is not None:
        raise Conflict(N_("Invoice %(invoice)s of %(supplier)s was already received."), invoice=invoice,
                       supplier=data.supplier.name)
    number = _number("receipt", data.date)
    document = StockDocument(number=number, kind="receipt", status="done", date=data.date,
                             to_location_id=data.location.id, supplier_id=data.supplier.id, invoice_number=invoice,
                             payment=data.payment, created_by=_who(user))
    db.session.add(document)
    db.session.flush()
    if type(data.ppn_masukan) is not int or data.ppn_masukan < 0:
        raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    goods = []
    for line in data.lines:
        if line.unit.product_id != line.product.id:
            raise InvalidInput(N_("That unit belongs to another product."))
        if type(line.unit_cost) is not int or line.unit_cost < 0:
            raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
        if line.ppn is not None and (type(line.ppn) is not int or line.ppn < 0):
            raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
        stock.quantity(line.quantity)
        goods.append(ReceivedGoods(value=stock.value_of(line.quantity, Decimal(line.unit_cost)),
                                   tax_code=str(line.product.tax_code), ppn=line.ppn))
    pkp = is_pkp()
    costs = receipt_costs(goods, pkp=pkp, invoice_ppn=data.ppn_masukan)
    for line, cost in zip(data.lines, costs, strict=True):
        base_qty = stock.quantity(to_base(stock.quantity(line.quantity), line.unit.factor))
        # What one base unit cost: the price before PPN plus its share of the PPN that cannot be credited, so the
        # moving average, the batch's cost and the HPP of a sale all carry that PPN.
        unit_cost = Decimal(line.unit_cost) / line.unit.factor
        if cost.ppn_in_cost:
            unit_cost += Decimal(cost.ppn_in_cost) / base_qty
        unit_cost = unit_cost.quantize(Decimal("0.0001"))
        batch = None
        if line.product.tracks_batches:
            batch = _batch_for(line, data, unit_cost)
        else:
            stock.average_in(line.product, data.location, base_qty, unit_cost)
        stock.move(product=line.product, qty=base_qty, kind=MoveKind.RECEIPT, source_type="receipt",
                   source_id=number, user_name=_who(user), to_location=data.location, batch=batch,
                   unit_cost=unit_cost, at=moment(data.date))
        db.session.add(StockDocumentLine(document_id=document.id, product_id=line.product.id,
                                         batch_id=batch.id if batch else None, quantity=base_qty,
                                         unit_cost=unit_cost, entered_unit=line.unit.name,
                                         entered_quantity=line.quantity))
    unit = _unit_code(data.location)
    summary = GoodsReceiptSummary.of(
        costs, pkp=pkp, payment=data.payment, receipt_id=number, number=number, date=data.date, unit=unit,
        supplier=data.supplier.name, cash_account=kas(data.location.outlet.code))
    entry = journal.post(goods_receipt_entry(summary), user, author_name=_who(user))
    document.total, document.entry_id = summary.inventory_cost + summary.ppn_masukan, entry.id
    return document


LOT_LENGTH = 20
_NOT_IN_LOTS = frozenset("\"'`")


def check_lot(lot: str) -> str:
    """A lot number as printed on the pack: no quotes and no control characters (a tab, a line break, ESC), which
    would break the stock card's CSV, its download name and every page that shows the lot."""
    if any(ch in _NOT_IN_LOTS or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in lot):
        raise InvalidInput(N_("A lot number has no quotes, tabs, line breaks or other control characters."))
    return lot


def _batch_for(line: ReceiptLine, data: ReceiptInput, unit_cost: Decimal) -> Batch:
    lot = (line.lot or "").strip().upper()
    if not lot or len(lot) > LOT_LENGTH:
        raise InvalidInput(N_("%(product)s is tracked by batch: give its lot number."), product=line.product.name)
    check_lot(lot)
    if line.expiry is None:
        raise InvalidInput(N_("%(product)s needs the expiry date of lot %(lot)s."), product=line.product.name, lot=lot)
    if fefo.is_expired(line.expiry, data.date):
        raise InvalidInput(N_("Lot %(lot)s expired on %(date)s: it cannot be received."), lot=lot,
                           date=line.expiry.isoformat())
    batch = db.session.scalar(sa.select(Batch).where(Batch.product_id == line.product.id, Batch.lot == lot))
    if batch is not None:
        if batch.expiry_date != line.expiry:
            raise Conflict(N_("Lot %(lot)s is already known with expiry %(date)s."), lot=lot,
                           date=batch.expiry_date.isoformat() if batch.expiry_date else "-")
        # The same lot again at another price: its cost becomes the average over what is held and what arrives,
        # so the stock's value keeps matching what the books were charged.
        held = max(stock.on_hand(line.product.id, batch_id=batch.id), Decimal(0))
        received = to_base(line.quantity, line.unit.factor)
        if held + received > 0 and unit_cost != batch.unit_cost:
            batch.unit_cost = ((held * Decimal(batch.unit_cost) + received * unit_cost) / (held + received)).quantize(
                Decimal("0.0001"))
        return batch
    batch = Batch(product_id=line.product.id, lot=lot, expiry_date=line.expiry, received_date=data.date,
                  unit_cost=unit_cost, supplier_id=data.supplier.id)
    db.session.add(batch)
    db.session.flush()
    return batch


# --- transfers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferRequest:
    product: Product
    quantity: Decimal  # base units
    batch: Batch | None = None  # None: FEFO picks
    reason: str = ""  # required when a batch other than FEFO's first is chosen


def pick_list(product: Product, location: Location, qty: Decimal, today: dt.date) -> list[tuple[Batch | None, Decimal]]:
    """Which batches to take (FEFO), or the product itself when it is not tracked by batch."""
    if not product.tracks_batches:
        return [(None, qty)]
    picked = fefo.pick(stock.lots_at(product.id, location.id), qty, today, product.name)
    return [(db.session.get(Batch, lot.batch_id), take) for lot, take in picked]


def send_transfer(source: Location, destination: Location, requests: list[TransferRequest], date: dt.date,
                  user: User | None) -> StockDocument:
    """Pick (FEFO unless a batch is chosen with a reason) and take the goods out of the source; they are on the
    way until received."""
    if source.id == destination.id:
        raise InvalidInput(N_("Choose two different locations."))
    if LocationKind.KARANTINA in (source.kind, destination.kind):
        raise InvalidInput(N_("Use write-off or supplier return for goods in karantina."))
    if not requests:
        raise InvalidInput(N_("A transfer has at least one line."))
    if destination.kind == LocationKind.TOKO:
        for request in requests:
            if request.product.drug_class is not None and request.product.drug_class.value not in (
                    "bebas", "bebas_terbatas"):
                raise InvalidInput(N_("%(product)s is a prescription medicine: it stays in the pharmacy."),
                                   product=request.product.name)
    number = _number("transfer", date)
    document = StockDocument(number=number, kind="transfer", status="sent", date=date, from_location_id=source.id,
                             to_location_id=destination.id, created_by=_who(user))
    db.session.add(document)
    db.session.flush()
    for request in requests:
        stock.quantity(request.quantity)
        if request.batch is not None:
            if fefo.is_expired(request.batch.expiry_date, date):
                raise InvalidInput(N_("Lot %(lot)s has expired: it cannot be transferred."), lot=request.batch.lot)
            lots = fefo.sellable(stock.lots_at(request.product.id, source.id), date)
            first = db.session.get(Batch, lots[0].batch_id) if lots else None
            if first is not None and first.id != request.batch.id:
                if not request.reason.strip():
                    raise InvalidInput(N_("Lot %(lot)s is not the first to expire: give a reason for choosing it."),
                                       lot=request.batch.lot)
                audit.record("stock.fefo_override", actor=user, target_type="transfer", target_id=number,
                             after={"product": request.product.sku, "chosen": request.batch.lot, "fefo": first.lot},
                             reason=request.reason[:250])
            picks = [(request.batch, request.quantity)]
        else:
            picks = pick_list(request.product, source, request.quantity, date)
        for batch, qty in picks:
            move = stock.move(product=request.product, qty=qty, kind=MoveKind.TRANSFER, source_type="transfer",
                              source_id=number, user_name=_who(user), from_location=source, batch=batch,
                              reason=request.reason, allow_negative=negative_allowed(source), at=moment(date))
            db.session.add(StockDocumentLine(document_id=document.id, product_id=request.product.id,
                                             batch_id=batch.id if batch else None, quantity=qty,
                                             unit_cost=move.unit_cost, reason=request.reason[:250]))
    return document


def receive_transfer(document: StockDocument, user: User | None, date: dt.date | None = None) -> StockDocument:
    """Goods arrive at the destination; the value moves between the units' books."""
    if document.kind != "transfer":
        raise NotFound(N_("No such transfer."))
    if document.status != "sent":
        raise Conflict(N_("Transfer %(number)s was already received."), number=document.number)
    destination = document.to_location
    total = 0
    for line in document.lines:
        product = db.session.get(Product, line.product_id)
        if line.batch is None and document.from_location.outlet.unit_id != destination.outlet.unit_id:
            stock.average_in(product, destination, line.quantity, Decimal(line.unit_cost))
        stock.move(product=product, qty=line.quantity, kind=MoveKind.TRANSFER, source_type="transfer",
                   source_id=document.number, user_name=_who(user), to_location=destination, batch=line.batch,
                   unit_cost=line.unit_cost, at=moment(date or document.date))
        total += stock.value_of(line.quantity, line.unit_cost)
    document.status, document.total, document.approved_by = "received", total, _who(user)
    from_unit, to_unit = _unit_code(document.from_location), _unit_code(destination)
    if total and from_unit != to_unit:
        entry = journal.post(transfer_entry(TransferSummary(document.number, document.number, date or document.date,
                                                            from_unit, to_unit, total)), user, author_name=_who(user))
        document.entry_id = entry.id
    return document


# --- stock count (opname) -----------------------------------------------------------------------


def open_count(location: Location, date: dt.date, user: User | None) -> StockDocument:
    """A count sheet of everything the books hold at the location; the expected figures stay hidden."""
    if db.session.scalar(sa.select(StockDocument.id).where(
            StockDocument.kind == "count", StockDocument.from_location_id == location.id,
            StockDocument.status.in_(("open", "counted")))) is not None:
        raise Conflict(N_("A count of %(location)s is already open."), location=location.name)
    number = _number("count", date)
    document = StockDocument(number=number, kind="count", status="open", date=date, from_location_id=location.id,
                             created_by=_who(user))
    db.session.add(document)
    db.session.flush()
    levels = db.session.scalars(sa.select(StockLevel).where(StockLevel.location_id == location.id,
                                                            StockLevel.quantity != 0))
    for level in levels:
        db.session.add(StockDocumentLine(document_id=document.id, product_id=level.product_id, batch_id=level.batch_id,
                                         expected=level.quantity, quantity=Decimal(0)))
    db.session.flush()
    return document


MAX_COUNTED = Decimal(10**9)  # base units on one count line; as much as one move may carry (stock.quantity)


def _counted(counted: object) -> Decimal:
    """A counted quantity: zero or more, at most 3 decimals (as stored), at most MAX_COUNTED: a count of 10³⁰
    would be saved and then break its sheet and its approval."""
    if not isinstance(counted, Decimal) or not counted.is_finite() or counted < 0:
        raise InvalidInput(N_("A counted quantity is zero or more."))
    if counted > MAX_COUNTED:
        raise InvalidInput(N_("That quantity is too large."))
    if counted != counted.quantize(Decimal("0.001")):
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=3)
    return counted


def record_count(document: StockDocument, counts: dict[int, Decimal], user: User | None) -> None:
    """Counted quantities per line id (blind: the counter never sees what the books expect)."""
    if document.kind != "count" or document.status not in ("open", "counted"):
        raise Conflict(N_("This count can no longer be changed."))
    lines = {line.id: line for line in document.lines}
    for line_id, counted in counts.items():
        if line_id not in lines:
            raise InvalidInput(N_("That line is not on this count sheet."))
        lines[line_id].counted = _counted(counted)
    document.status = "counted" if all(line.counted is not None for line in lines.values()) else "open"


def add_count_line(document: StockDocument, product: Product, batch: Batch | None, counted: Decimal) -> None:
    """Something found that the books do not list at this location."""
    if document.kind != "count" or document.status not in ("open", "counted"):
        raise Conflict(N_("This count can no longer be changed."))
    if product.tracks_batches and batch is None:
        raise InvalidInput(N_("%(product)s is tracked by batch: say which batch."), product=product.name)
    if batch is not None and batch.product_id != product.id:
        raise InvalidInput(N_("That batch belongs to another product."))
    counted = _counted(counted)
    if any(line.product_id == product.id and line.batch_id == (batch.id if batch else None) for line in document.lines):
        raise InvalidInput(N_("That product and batch are already on the count sheet."))
    db.session.add(StockDocumentLine(document_id=document.id, product_id=product.id,
                                     batch_id=batch.id if batch else None, expected=Decimal(0), counted=counted))


def approve_count(document: StockDocument, approver: User, date: dt.date | None = None) -> StockDocument:
    """A manager approves the variances: adjustment moves at cost, surplus and shortage posted apart."""
    if document.kind != "count":
        raise NotFound(N_("No such count."))
    if document.status != "counted":
        raise Conflict(N_("Every line must be counted before the count is approved."))
    if approver.username == document.created_by:
        raise InvalidInput(N_("Someone other than the counter approves the count."))
    location = document.from_location
    gain = loss = 0
    for line in document.lines:
        product = db.session.get(Product, line.product_id)
        now = stock.on_hand(product.id, location.id, line.batch_id) if line.batch_id else _level_qty(product, location)
        variance = line.counted - now  # against the books now, not at opening: sales in between are not variances
        if variance == 0:
            continue
        cost = stock.cost_at(product, location, line.batch)
        kwargs = dict(product=product, qty=abs(variance), kind=MoveKind.ADJUSTMENT, source_type="count",
                      source_id=document.number, user_name=approver.username, batch=line.batch, unit_cost=cost,
                      reason="stock opname", at=moment(date or document.date))
        if variance > 0:
            stock.move(to_location=location, **kwargs)
            gain += stock.value_of(variance, cost)
        else:
            stock.move(from_location=location, allow_negative=True, **kwargs)
            loss += stock.value_of(-variance, cost)
        line.quantity, line.unit_cost = variance, cost
    unit = _unit_code(location)
    when = date or document.date
    for amount, suffix in ((gain, "lebih"), (-loss, "kurang")):
        if amount:
            entry = journal.post(stock_adjustment_entry(StockAdjustmentSummary(
                f"{document.number}:{suffix}", when, unit, amount, f"opname {document.number}")), approver)
            document.entry_id = document.entry_id or entry.id
    document.status, document.approved_by, document.total = "approved", approver.username, gain - loss
    audit.record("stock.count_approved", actor=approver, target_type="count", target_id=document.number,
                 after={"surplus": gain, "shortage": loss})
    return document


def _level_qty(product: Product, location: Location) -> Decimal:
    level = db.session.scalar(sa.select(StockLevel.quantity).where(
        StockLevel.product_id == product.id, StockLevel.location_id == location.id, StockLevel.batch_id.is_(None)))
    return Decimal(level or 0)


# --- write-off, supplier return, quarantine -----------------------------------------------------


@dataclass(frozen=True)
class OutLine:
    product: Product
    quantity: Decimal  # base units
    batch: Batch | None = None


@dataclass
class _Out:
    lines: list[OutLine] = field(default_factory=list)


def write_off(location: Location, lines: list[OutLine], reason: str, date: dt.date, user: User | None) -> StockDocument:
    """Damaged or expired goods leave the books, with a reason, at cost."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("Give the reason for the write-off."))
    return _goods_out("write_off", location, lines, reason, date, user)


def return_to_supplier(location: Location, supplier: Supplier, lines: list[OutLine], reason: str, date: dt.date,
                       user: User | None, ppn: int = 0) -> StockDocument:
    """Goods go back at the cost they are held at (PPN that could not be credited included). `ppn` is a PKP's PPN
    masukan on the returned taxable goods that the supplier's nota retur takes back (UU PPN Pasal 5A)."""
    return _goods_out("supplier_return", location, lines, (reason or "").strip(), date, user, supplier, ppn)


def _goods_out(kind: str, location: Location, lines: list[OutLine], reason: str, date: dt.date, user: User | None,
               supplier: Supplier | None = None, ppn: int = 0) -> StockDocument:
    if not lines:
        raise InvalidInput(N_("Add at least one line."))
    if type(ppn) is not int or ppn < 0:
        raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    if ppn and not is_pkp():
        raise InvalidInput(N_("A cooperative that is not PKP cannot credit PPN: it is part of the goods' cost."))
    if ppn and all(str(line.product.tax_code) == "exempt" for line in lines):
        raise InvalidInput(N_("PPN on goods whose sale is exempt was never credited: it is part of their cost."))
    number = _number(kind, date)
    document = StockDocument(number=number, kind=kind, status="done", date=date, from_location_id=location.id,
                             supplier_id=supplier.id if supplier else None, reason=reason[:250],
                             created_by=_who(user))
    db.session.add(document)
    db.session.flush()
    total = taxable = 0
    move_kind = MoveKind.WRITE_OFF if kind == "write_off" else MoveKind.SUPPLIER_RETURN
    for line in lines:
        move = stock.move(product=line.product, qty=stock.quantity(line.quantity), kind=move_kind, source_type=kind,
                          source_id=number, user_name=_who(user), from_location=location, batch=line.batch,
                          reason=reason, allow_negative=negative_allowed(location), at=moment(date))
        value = stock.value_of(line.quantity, move.unit_cost)
        total += value
        if str(line.product.tax_code) != "exempt":
            taxable += value
        db.session.add(StockDocumentLine(document_id=document.id, product_id=line.product.id,
                                         batch_id=line.batch.id if line.batch else None, quantity=line.quantity,
                                         unit_cost=move.unit_cost, reason=reason[:250]))
    if ppn > taxable:
        raise InvalidInput(N_("The PPN cannot be more than the goods cost before PPN."))
    document.total = total + ppn
    unit = _unit_code(location)
    if total:
        if kind == "write_off":
            draft = write_off_entry(WriteOffSummary(number, date, unit, total, reason or number))
        else:
            draft = supplier_return_entry(SupplierReturnSummary(number, number, date, unit, supplier.name, total,
                                                                ppn_masukan=ppn, pkp=is_pkp()))
        document.entry_id = journal.post(draft, user, author_name=_who(user)).id
    return document


def quarantine_expired(today: dt.date, user: User | None = None) -> int:
    """Move every expired batch out of gudang, toko and apotek into karantina; returns how many moves."""
    rows = db.session.scalars(
        sa.select(StockLevel).join(Batch, StockLevel.batch_id == Batch.id).join(Location)
        .where(Batch.expiry_date < today, StockLevel.quantity > 0, Location.kind != LocationKind.KARANTINA)
        .order_by(StockLevel.id)
    ).all()
    for level in rows:
        stock.move(product=level.product, qty=Decimal(level.quantity), kind=MoveKind.QUARANTINE,
                   source_type="quarantine", source_id=today.isoformat(), user_name=_who(user, "system"),
                   from_location=level.location, to_location=quarantine_of(level.location), batch=level.batch,
                   reason="kedaluwarsa")
    return len(rows)
