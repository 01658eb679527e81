"""Till use cases, named as a cashier says them: open_shift, ring_up, complete_sale, confirm_payment, cancel_sale,
refund_sale, void_sale, x_report, close_shift, hold_cart, resume_cart.

Each runs as one write transaction (pos.db.write_transaction): the sale, its stock moves, its payments, its journal
entry and its receipt's print job commit together or not at all. Prices, discounts and tax are always worked out
here from the catalog: a client's prices or totals are never read. Printing, the drawer and the displays happen
after the commit (pos.sales.effects) and can never undo a sale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from inventory import fefo, stock
from inventory.lookup import Identified, identify, known_barcodes, unit_prices
from inventory.models import Batch, Location, LocationKind, MoveKind, Product, ProductUnit
from inventory.services import negative_allowed, quarantine_of
from ledger import journal
from ledger.members import check_kasbon, find_members, kasbon_balance
from ledger.models import Member
from ledger.posting_rules import (
    Payments,
    SaleSummary,
    ShiftCashSummary,
    kas,
    return_entry,
    sale_entry,
    shift_cash_entry,
)
from pos import audit
from pos.auth import check_approval, use_approval
from pos.db import db, retry_when_locked, utcnow, write_transaction
from pos.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied, PosError
from pos.faults import crash_point
from pos.models import Outlet, Till, User
from pos.sales import cash, qris
from pos.sales.models import (
    HeldCart,
    ReturnLine,
    ReturnRefund,
    Sale,
    SaleAllocation,
    SaleLine,
    SalePayment,
    SaleReturn,
    SaleStatus,
    Shift,
    ShiftStatus,
)
from pos.sales.pricing import LinePrice, PriceList, het_ceiling, resolve
from pos.sales.requests import CartRequest, LineRequest, PaymentRequest, ReturnRequest, SaleRequest, cart_from_json
from pos.sales.tax import LineTax, TaxRules, receipt_tax, round_half_up

MAX_FLOAT = 100_000_000
MAX_HELD = 30
REFUND_ORDER = ("kasbon", "debit", "transfer", "qris", "cash")  # a refund "the way it was paid" fills these first


class NoOpenShift(Conflict):
    pass


class SaleConflict(Conflict):
    """The same sale id was sent with other content: a till bug or a replay, never a second sale."""


# --- where and when ----------------------------------------------------------------------------------------------


def _settings() -> dict:
    return current_app.config["KASIR"]


def tax_rules() -> TaxRules:
    s = _settings()
    return TaxRules(pkp=s["tax_status"] == "pkp", standard_percent=s["ppn_rate_percent"])


def zone_of(outlet: Outlet) -> str:
    return outlet.timezone or _settings()["timezone"]


def business_date(till: Till, moment: dt.datetime | None = None) -> dt.date:
    """The day a sale belongs to: the outlet's local date (a server on UTC would date an 07:00 WITA sale yesterday)."""
    return (moment or utcnow()).astimezone(ZoneInfo(zone_of(till.outlet))).date()


def served(till: Till) -> bool:
    codes = _settings()["outlets"]
    return till.active and (not codes or till.outlet.code in codes)


def till_by_code(code: str) -> Till:
    till = db.session.scalar(sa.select(Till).where(Till.code == (code or "").strip().upper()[:20]))
    if till is None or not served(till):
        raise NotFound(N_("No till %(code)s at this outlet."), code=(code or "")[:20]).at("till")
    return till


def selling_location(till: Till) -> Location:
    """The shelf a till sells from: the outlet's toko or apotek location."""
    location = db.session.scalar(
        sa.select(Location).where(Location.outlet_id == till.outlet_id,
                                  Location.kind.in_((LocationKind.TOKO, LocationKind.APOTEK))).order_by(Location.id))
    if location is None:
        raise NotFound(N_("%(outlet)s has no shelf to sell from (run stock init)."), outlet=till.outlet.name)
    return location


def cash_account(till: Till) -> str:
    return kas(till.code) if _settings()["cash_account_per_till"] else kas(till.outlet.code)


def open_shift_of(till: Till) -> Shift | None:
    return db.session.scalar(sa.select(Shift).where(Shift.till_id == till.id, Shift.status == ShiftStatus.OPEN))


def find_member(text: str | None) -> Member | None:
    """The member a till names by card scan, number or (unambiguous) name; None for a walk-in customer."""
    if not text:
        return None
    found = find_members(text, limit=2)
    number = text.strip().upper()
    exact = [m for m in found if m.number == number or m.number.endswith(f"-{number.zfill(5)}")]
    if exact:
        return exact[0]
    if len(found) != 1:
        raise NotFound(N_("No active member %(member)s."), member=text[:40]).at("member")
    return found[0]


# --- pricing a cart (ring up) ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    position: int
    request: LineRequest
    found: Identified
    product: Product
    unit: ProductUnit
    quantity: Decimal  # in `unit`
    base_quantity: Decimal
    price: LinePrice
    tax: LineTax = field(default=LineTax(0, 0, 0))
    approved_by: str = ""

    @property
    def share(self) -> int:
        return self.price.total - self.tax.net


@dataclass(frozen=True)
class PricedCart:
    till: Till
    member: Member | None
    lines: tuple[PricedLine, ...]
    discount: int
    discount_approved_by: str = ""

    @property
    def subtotal(self) -> int:
        return sum(line.price.total for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount

    @property
    def ppn(self) -> int:
        return sum(line.tax.ppn for line in self.lines)

    @property
    def dpp(self) -> int:
        return sum(line.tax.dpp for line in self.lines)

    @property
    def revenue(self) -> int:
        return sum(line.tax.revenue for line in self.lines)


def _unit_named(product: Product, name: str) -> ProductUnit:
    wanted = name.strip().lower()
    for unit in product.units:
        if unit.name.lower() == wanted or str(unit.id) == wanted:
            return unit
    raise InvalidInput(N_("%(product)s is not sold by %(unit)s."), product=product.name, unit=name[:40])


def price_list(product: Product, unit: ProductUnit) -> PriceList:
    public, member = unit_prices(product, unit)
    wholesale = None
    if product.wholesale_price is not None and product.wholesale_min_qty is not None:
        wholesale = int((Decimal(product.wholesale_price) * unit.factor).to_integral_value(rounding="ROUND_HALF_UP"))
    return PriceList(public=public, member=member, factor=Decimal(unit.factor), wholesale=wholesale,
                     wholesale_min=product.wholesale_min_qty, het=het_ceiling(product.het, Decimal(unit.factor)))


def _price_line(position: int, line: LineRequest, member: Member | None, user: User, today: dt.date,
                consume: str | None, known: dict | None = None) -> PricedLine:
    where = f"lines[{position - 1}]"
    try:
        found = identify(line.code, today, known)
    except PosError as exc:
        raise exc.at(f"{where}.code") from None
    product, unit = found.product, found.unit
    if line.unit and line.unit.strip().lower() != unit.name.lower():
        if found.from_label:
            raise InvalidInput(N_("A scale label sells by its own weight.")).at(f"{where}.unit")
        unit = _unit_named(product, line.unit)
    if found.from_label:
        if line.qty is not None and line.qty != found.quantity:
            raise InvalidInput(N_("The weight comes from the scale label and cannot be changed.")).at(f"{where}.qty")
        quantity = found.quantity
    else:
        quantity = line.qty if line.qty is not None else Decimal(1)
    if quantity != quantity.to_integral_value() and not product.sell_by_weight:
        raise InvalidInput(N_("%(product)s is sold in whole %(unit)s."), product=product.name,
                           unit=unit.name).at(f"{where}.qty")
    try:
        base_quantity = stock.quantity((quantity * Decimal(unit.factor)).quantize(stock.THOUSANDTH))
    except PosError as exc:
        raise exc.at(f"{where}.qty") from None
    approved_by = ""
    if line.price is not None or line.discount:
        action = "price_override" if line.price is not None else "discount"
        expected = {"code": line.code}
        if line.price is not None:
            expected["price"] = line.price
        if line.discount:
            expected["discount"] = line.discount
        try:
            if consume:
                approved_by = use_approval(line.approval, action, user, consume, **expected).username
            else:
                approved_by = check_approval(line.approval, action, user, **expected).approver.username
        except PosError as exc:
            raise exc.at(f"{where}.approval") from None
    try:
        price = resolve(price_list(product, unit), quantity, member=member is not None, override=line.price,
                        discount=line.discount, label_total=found.label_total if unit.id == found.unit.id else None)
    except PosError as exc:
        raise exc.at(f"{where}.price_override" if line.price is not None else f"{where}.discount") from None
    return PricedLine(position, line, found, product, unit, quantity, base_quantity, price, approved_by=approved_by)


def ring_up(cart: CartRequest, user: User, *, consume: str | None = None) -> PricedCart:
    """Price a cart the way the checkout will: tier, packs, wholesale, approved overrides, HET, the receipt
    discount shared out, PPN per line. With `consume` (the sale id), approvals are used up."""
    till = till_by_code(cart.till)
    member = find_member(cart.member)
    today = business_date(till)
    known = known_barcodes([line.code for line in cart.lines], today)
    lines = [_price_line(i, line, member, user, today, consume, known) for i, line in enumerate(cart.lines, start=1)]
    subtotal = sum(line.price.total for line in lines)
    discount_by = ""
    if cart.discount:
        if cart.discount > subtotal:
            raise InvalidInput(N_("The discount is more than the sale.")).at("discount")
        try:
            if consume:
                discount_by = use_approval(cart.approval, "discount", user, consume, receipt=1,
                                           discount=cart.discount).username
            else:
                discount_by = check_approval(cart.approval, "discount", user, receipt=1,
                                             discount=cart.discount).approver.username
        except PosError as exc:
            raise exc.at("approval") from None
    taxes = receipt_tax([line.price.total for line in lines], [line.product.tax_code.value for line in lines],
                        cart.discount, tax_rules())
    priced = tuple(PricedLine(**{**line.__dict__, "tax": tax}) for line, tax in zip(lines, taxes, strict=True))
    return PricedCart(till=till, member=member, lines=priced, discount=cart.discount, discount_approved_by=discount_by)


def available_at(product: Product, location: Location, today: dt.date) -> Decimal:
    """What may still be sold from the shelf: unexpired batches, or the product's level."""
    if product.tracks_batches:
        return sum((lot.quantity for lot in fefo.sellable(stock.lots_at(product.id, location.id), today)), Decimal(0))
    return stock.on_hand(product.id, location.id)


# --- completing a sale -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """How the payments cover the total: what each method pays (cash net of change), the change, the rounding."""

    due: int
    rounding: int
    change: int
    applied: tuple[tuple[PaymentRequest, int], ...]  # each payment and the amount it counts for
    pending: bool  # a QRIS payment waits for the cashier's confirmation

    def by_method(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for payment, amount in self.applied:
            totals[payment.method] = totals.get(payment.method, 0) + amount
        return totals


def settle(total: int, payments: tuple[PaymentRequest, ...], rounding_mode: str) -> Settlement:
    """Match the payments to the total. Only cash gives change; cash rounding (R5) applies when the customer pays
    in cash alone."""
    from pos.money import format_rupiah

    all_cash = all(p.method == "cash" for p in payments)
    due = cash.round_cash(total, rounding_mode) if all_cash else total
    non_cash = sum(p.amount for p in payments if p.method != "cash")
    cash_given = sum(p.amount for p in payments if p.method == "cash")
    if sum(1 for p in payments if p.method == "qris") > 1:
        raise InvalidInput(N_("A sale takes one QRIS payment.")).at("payments")
    if non_cash > due:
        raise InvalidInput(N_("Card, QRIS, transfer and kasbon payments (%(paid)s) are more than the total "
                              "(%(total)s)."), paid=format_rupiah(non_cash), total=format_rupiah(due)).at("payments")
    cash_due = due - non_cash
    if cash_given < cash_due:
        raise InvalidInput(N_("%(short)s is still to be paid."), short=format_rupiah(cash_due - cash_given)
                           ).at("payments")
    if cash_given and not cash_due:
        raise InvalidInput(N_("Nothing is left to pay in cash.")).at("payments")
    applied, left = [], cash_due
    for payment in payments:
        if payment.method == "cash":
            amount = min(payment.amount, left)
            left -= amount
            if amount == 0:
                raise InvalidInput(N_("Nothing is left to pay in cash.")).at("payments")
        else:
            amount = payment.amount
        applied.append((payment, amount))
    return Settlement(due=due, rounding=due - total, change=cash_given - cash_due, applied=tuple(applied),
                      pending=any(p.method == "qris" for p in payments))


def _number(till: Till, day: dt.date, kind: str = "") -> str:
    series = f"{till.code}{kind}/{day:%Y%m%d}"
    return f"{till.code}-{kind}{day:%Y%m%d}-{journal.next_value(series):04d}"


def _take_stock(sale: Sale, line: SaleLine, priced: PricedLine, location: Location, user: User, today: dt.date,
                moment: dt.datetime) -> int:
    """Move the line's goods off the shelf (FEFO, or the chosen batch with its reason); returns their cost."""
    product = priced.product
    where = f"lines[{priced.position - 1}]"
    picks: list[tuple[Batch | None, Decimal]]
    if product.tracks_batches:
        db.session.flush()  # an earlier line of the sale may have taken from these lots
        lots = stock.lots_at(product.id, location.id)
        if priced.request.batch:
            batch = db.session.scalar(sa.select(Batch).where(Batch.product_id == product.id,
                                                             Batch.lot == priced.request.batch.upper()))
            if batch is None:
                raise NotFound(N_("%(product)s has no lot %(lot)s."), product=product.name,
                               lot=priced.request.batch[:20]).at(f"{where}.batch")
            if fefo.is_expired(batch.expiry_date, today):
                raise InvalidInput(N_("Lot %(lot)s has expired: it cannot be sold."),
                                   lot=batch.lot).at(f"{where}.batch")
            first = fefo.sellable(lots, today)
            if first and first[0].batch_id != batch.id:
                if not priced.request.batch_reason.strip():
                    raise InvalidInput(N_("Lot %(lot)s is not the first to expire: give a reason for choosing it."),
                                       lot=batch.lot).at(f"{where}.batch_reason")
                audit.record("stock.fefo_override", actor=user, target_type="sale", target_id=sale.number,
                             after={"product": product.sku, "chosen": batch.lot, "fefo": first[0].lot},
                             reason=priced.request.batch_reason)
            picks = [(batch, priced.base_quantity)]
        else:
            try:
                chosen = fefo.pick(lots, priced.base_quantity, today, product.name)
            except PosError as exc:
                raise exc.at(f"{where}.qty") from None
            picks = [(db.session.get(Batch, lot.batch_id), take) for lot, take in chosen]
    else:
        picks = [(None, priced.base_quantity)]
    cost = 0
    for batch, quantity in picks:
        try:
            move = stock.move(product=product, qty=quantity, kind=MoveKind.SALE, source_type="sale",
                              source_id=sale.number, user_name=user.username, from_location=location, batch=batch,
                              reason=priced.request.batch_reason, allow_negative=negative_allowed(location),
                              at=moment)
        except PosError as exc:
            raise exc.at(f"{where}.qty") from None
        line.allocations.append(SaleAllocation(batch_id=batch.id if batch else None, location_id=location.id,
                                               quantity=quantity, unit_cost=move.unit_cost))
        cost += stock.value_of(quantity, Decimal(move.unit_cost))
    return cost


def _summary(sale: Sale, till: Till) -> SaleSummary:
    paid = {p.method: 0 for p in sale.payments}
    for payment in sale.payments:
        paid[payment.method] += payment.amount
    return SaleSummary(
        sale_id=sale.number, number=sale.number, date=sale.business_date, unit=till.outlet.unit.code,
        cash_account=cash_account(till), revenue=sale.revenue, ppn=sale.ppn, cost=sale.cost,
        payments=Payments(cash=paid.get("cash", 0), qris=paid.get("qris", 0), transfer=paid.get("transfer", 0),
                          kasbon=paid.get("kasbon", 0), debit=paid.get("debit", 0)),
        member_id=sale.member_id, rounding=sale.rounding)


def _book(sale: Sale, user: User, past: dt.datetime | None = None) -> None:
    """The completed sale's journal entry and its receipt's print job, in the sale's transaction (a sale recorded
    after the fact, `past`, keeps its receipt as printed then)."""
    from pos import printing
    from pos.sales.documents import sale_document

    entry = journal.post(sale_entry(_summary(sale, sale.till)), user)
    sale.entry_id = entry.id
    printing.print_document(sale_document(sale), kind="receipt", source_type="sale", source_id=sale.number,
                            till=sale.till, user=user, printed_at=past, render_later=True)


def complete_sale(request: SaleRequest, user: User, *, at: dt.datetime | None = None) -> tuple[Sale, bool]:
    """Ring up and pay, once: returns (sale, created). The same id with the same content returns the first sale;
    with other content it is refused (SaleConflict). A QRIS sale stays pending until confirm_payment. `at` is for
    the demo's past sales only (the API never passes it)."""
    try:
        return retry_when_locked(lambda: _complete_sale(request, user, at))
    except sa.exc.IntegrityError:
        db.session.rollback()  # a twin committed first on another connection: answer with it
        existing = _earlier(Sale, request.id, request.fingerprint())
        if existing is None:
            raise
        return existing, False


def _earlier(model: type[Sale] | type[SaleReturn], request_id: str, fingerprint: str) -> Sale | SaleReturn | None:
    """What an earlier send of the same request made, if any; the same id with other content is refused."""
    existing = db.session.scalar(sa.select(model).where(model.uuid == request_id))
    if existing is not None and existing.fingerprint != fingerprint:
        message = N_("Sale %(id)s was already sent with other content.") if model is Sale else N_(
            "Return %(id)s was already sent with other content.")
        raise SaleConflict(message, id=request_id).at("id")
    return existing


def _complete_sale(request: SaleRequest, user: User, at: dt.datetime | None) -> tuple[Sale, bool]:
    fingerprint = request.fingerprint()
    with write_transaction():
        existing = _earlier(Sale, request.id, fingerprint)
        if existing is not None:
            return existing, False
        # Reads in this block need nothing unflushed (a batch line flushes before it reads its lots): no
        # autoflush before every query, one flush at the end.
        with db.session.no_autoflush:
            cart = ring_up(request.cart, user, consume=request.id)
            till = cart.till
            shift = _open_shift_for_sale(till)
            settlement = settle(cart.total, request.payments, _settings()["cash_rounding"])
            methods = settlement.by_method()
            if methods.get("kasbon"):
                try:
                    check_kasbon(cart.member.id if cart.member else None, methods["kasbon"])
                except PosError as exc:
                    raise exc.at("payments") from None
            qris_payload = None
            if settlement.pending:
                if not till.outlet.qris_payload:
                    raise InvalidInput(N_("%(outlet)s takes no QRIS: its QRIS code is not set up."),
                                       outlet=till.outlet.name).at("payments")
                qris_payload = qris.with_amount(till.outlet.qris_payload, methods["qris"])
            moment = at or utcnow()
            today = business_date(till, moment)
            location = selling_location(till)
            sale = Sale(
                uuid=request.id, number=_number(till, today), fingerprint=fingerprint, till_id=till.id,
                shift_id=shift.id, unit_id=till.outlet.unit_id, location_id=location.id, cashier_id=user.id,
                cashier_name=(user.full_name or user.username)[:120], member_id=cart.member.id if cart.member else None,
                status=SaleStatus.PENDING.value if settlement.pending else SaleStatus.COMPLETED.value,
                business_date=today, created_at=moment, completed_at=None if settlement.pending else moment,
                approved_by=cart.discount_approved_by, subtotal=cart.subtotal, discount=cart.discount,
                rounding=settlement.rounding, total=settlement.due, dpp=cart.dpp, ppn=cart.ppn, revenue=cart.revenue,
                tendered=sum(p.amount for p in request.payments), change=settlement.change, qris_payload=qris_payload,
            )
            sale.till, sale.shift = till, shift
            db.session.add(sale)
            stock.preload({priced.product.id for priced in cart.lines}, location)
            cost = 0
            for priced in cart.lines:
                line = SaleLine(
                    position=priced.position, product_id=priced.product.id,
                    product_unit_id=priced.unit.id, code=priced.found.code[:60], name=priced.product.name,
                    unit_name=priced.unit.name, factor=priced.unit.factor, quantity=priced.quantity,
                    base_quantity=priced.base_quantity, tier=priced.price.tier, unit_price=priced.price.unit_price,
                    gross=priced.price.gross, discount=priced.price.discount, total=priced.price.total,
                    discount_share=priced.share, net=priced.tax.net, tax_code=priced.product.tax_code.value,
                    ppn=priced.tax.ppn, dpp=priced.tax.dpp, approved_by=priced.approved_by,
                    batch_reason=priced.request.batch_reason[:250],
                )
                sale.lines.append(line)
                line.cost = _take_stock(sale, line, priced, location, user, today, moment)
                cost += line.cost
                if priced.approved_by:
                    audit.record("sale.price_changed", actor=user, target_type="sale", target_id=sale.number,
                                 after={"code": priced.found.code, "unit_price": priced.price.unit_price,
                                        "discount": priced.price.discount, "approved_by": priced.approved_by})
            sale.cost = cost
            for position, (payment, amount) in enumerate(settlement.applied, start=1):
                sale.payments.append(SalePayment(position=position, method=payment.method, amount=amount,
                                                 tendered=payment.amount, reference=payment.reference))
        db.session.flush()
        crash_point("sale.inserted")
        if sale.status == SaleStatus.COMPLETED:
            _book(sale, user, at)
        crash_point("sale.before_commit")
    return sale, True


def find_sales(day: dt.date, *, till: Till | None = None, number: str = "", member: str = "", amount: str = "",
               limit: int = 100) -> list[Sale]:
    """Sales for the history pages and the API, latest first: a day's (of one till or all), or those whose number
    holds `number`; narrowed to a member (number or name) and a total typed the Indonesian way ("25.000")."""
    from pos.money import parse_rupiah

    query = sa.select(Sale)
    if till is not None:
        query = query.where(Sale.till_id == till.id)
    number = (number or "").strip().upper()[:30]
    query = query.where(Sale.number.contains(number, autoescape=True)) if number else query.where(
        Sale.business_date == day)
    if member:
        query = query.where(Sale.member_id == find_member(member).id)
    if amount:
        try:
            query = query.where(Sale.total == parse_rupiah(amount))
        except PosError as exc:
            raise exc.at("amount") from None
    return list(db.session.scalars(query.order_by(Sale.id.desc()).limit(limit)))


def _open_shift_for_sale(till: Till) -> Shift:
    shift = open_shift_of(till)
    if shift is None:
        raise NoOpenShift(N_("Open a shift on %(till)s before selling."), till=till.code).at("till")
    return shift


def sale_by_id(identifier: str) -> Sale:
    """A sale by the till's UUID or by its receipt number (typed, or scanned from the receipt's barcode)."""
    text = (identifier or "").strip()[:40]
    sale = db.session.scalar(sa.select(Sale).where(sa.or_(Sale.uuid == text.lower(), Sale.number == text.upper())))
    if sale is None:
        raise NotFound(N_("No sale %(id)s."), id=text)
    return sale


def confirm_payment(identifier: str, user: User, *, at: dt.datetime | None = None) -> Sale:
    """The cashier saw the QRIS money arrive: the pending sale is completed, booked and printed. Idempotent."""
    with write_transaction():
        sale = sale_by_id(identifier)
        if sale.status == SaleStatus.COMPLETED:
            return sale
        if sale.status != SaleStatus.PENDING:
            raise Conflict(N_("Sale %(number)s was cancelled: it cannot be confirmed."), number=sale.number)
        sale.status, sale.completed_at = SaleStatus.COMPLETED.value, at or utcnow()
        _book(sale, user, at)
        audit.record("sale.payment_confirmed", actor=user, target_type="sale", target_id=sale.number,
                     after={"qris": sum(p.amount for p in sale.payments if p.method == "qris")})
    return sale


def _put_back(sale: Sale, user: User, source_type: str, source_id: str, reason: str) -> None:
    """Every allocation of the sale back to its batch and shelf (a cancel or a void: the goods never left)."""
    moment = utcnow()
    for line in sale.lines:
        product = db.session.get(Product, line.product_id)
        for allocation in line.allocations:
            stock.move(product=product, qty=Decimal(allocation.quantity), kind=MoveKind.RETURN,
                       source_type=source_type, source_id=source_id, user_name=user.username,
                       to_location=db.session.get(Location, allocation.location_id),
                       batch=db.session.get(Batch, allocation.batch_id) if allocation.batch_id else None,
                       unit_cost=Decimal(allocation.unit_cost), reason=reason, at=moment)


def cancel_sale(identifier: str, user: User, reason: str = "") -> Sale:
    """A pending (QRIS) sale the customer did not pay: its stock goes back, its number stays, marked cancelled."""
    reason = (reason or "").strip()[:250] or "QRIS tidak dibayar"
    with write_transaction():
        sale = sale_by_id(identifier)
        if sale.status == SaleStatus.CANCELLED:
            return sale
        if sale.status != SaleStatus.PENDING:
            raise Conflict(N_("Only a sale waiting for its QRIS payment can be cancelled; use a void or a return."))
        _put_back(sale, user, "sale_cancel", sale.number, reason)
        sale.status, sale.ended_at, sale.ended_by, sale.end_reason = SaleStatus.CANCELLED.value, utcnow(), \
            user.username, reason
        audit.record("sale.cancelled", actor=user, target_type="sale", target_id=sale.number,
                     after={"total": sale.total}, reason=reason)
    return sale


def void_sale(identifier: str, user: User, approval: str | None, reason: str) -> Sale:
    """Undo a completed sale of the open shift with a manager's PIN: goods back, the entry reversed, the money
    handed back the way it came. Idempotent."""
    reason = (reason or "").strip()[:250]
    if not reason:
        raise InvalidInput(N_("Give the reason.")).at("reason")
    with write_transaction():
        sale = sale_by_id(identifier)
        if sale.status == SaleStatus.VOIDED:
            return sale
        if sale.status != SaleStatus.COMPLETED:
            raise Conflict(N_("Only a completed sale can be voided."))
        if sale.shift.status != ShiftStatus.OPEN:
            raise Conflict(N_("Sale %(number)s belongs to a closed shift: take it back as a return."),
                           number=sale.number)
        if sale.returns:
            raise Conflict(N_("Goods of sale %(number)s were already returned: take the rest back as a return."),
                           number=sale.number)
        approver = use_approval(approval, "void_sale", user, sale.uuid, sale=sale.number)
        _put_back(sale, user, "sale_void", sale.number, reason)
        reversal = journal.reverse(sale.entry_id, business_date(sale.till), f"Void {sale.number}: {reason}", user)
        sale.status, sale.void_entry_id = SaleStatus.VOIDED.value, reversal.id
        sale.ended_at, sale.ended_by, sale.end_reason, sale.approved_by = utcnow(), user.username, reason, \
            approver.username
        audit.record("sale.voided", actor=user, approver=approver, target_type="sale", target_id=sale.number,
                     after={"total": sale.total}, reason=reason)
    return sale


# --- returns -----------------------------------------------------------------------------------------------------


def returned_of(line: SaleLine) -> tuple[Decimal, int, int, Decimal]:
    """What earlier returns took of a line: quantity (in its unit), amount, PPN, base quantity."""
    rows = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(ReturnLine.quantity), 0), sa.func.coalesce(sa.func.sum(
            ReturnLine.amount), 0), sa.func.coalesce(sa.func.sum(ReturnLine.ppn), 0),
            sa.func.coalesce(sa.func.sum(ReturnLine.base_quantity), 0))
        .where(ReturnLine.sale_line_id == line.id)).one()
    return Decimal(rows[0]), int(rows[1]), int(rows[2]), Decimal(rows[3])


def _refunds(sale: Sale, amount: int, how: str) -> list[tuple[str, int]]:
    """Split a refund: all cash, or the way the sale was paid (kasbon first, so a member's debt shrinks, never
    below what they still owe; cash last)."""
    if how == "cash":
        return [("cash", amount)] if amount else []
    paid: dict[str, int] = {}
    for payment in sale.payments:
        paid[payment.method] = paid.get(payment.method, 0) + payment.amount
    for earlier in sale.returns:
        for refund in earlier.refunds:
            paid[refund.method] = paid.get(refund.method, 0) - refund.amount
    if "kasbon" in paid and sale.member_id is not None:
        paid["kasbon"] = min(paid["kasbon"], kasbon_balance(sale.member_id))
    split, left = [], amount
    for method in REFUND_ORDER:
        take = min(max(paid.get(method, 0), 0), left)
        if take:
            split.append((method, take))
            left -= take
    if left:
        split.append(("cash", left))
    merged: dict[str, int] = {}
    for method, value in split:
        merged[method] = merged.get(method, 0) + value
    return list(merged.items())


def refund_sale(identifier: str, request: ReturnRequest, user: User, *,
                at: dt.datetime | None = None) -> tuple[SaleReturn, bool]:
    """Take goods back from a completed sale with a manager's approval, never more than was sold (earlier returns
    counted): stock back to its batch (medicine to karantina), the money back, the books reversed for the part
    returned. Once per return id."""
    fingerprint = request.fingerprint()
    with write_transaction():
        existing = _earlier(SaleReturn, request.id, fingerprint)
        if existing is not None:
            return existing, False
        sale = sale_by_id(identifier)
        if sale.status != SaleStatus.COMPLETED:
            raise Conflict(N_("Only a completed sale takes returns."))
        till = till_by_code(request.till)
        if till.outlet.unit_id != sale.unit_id:
            raise InvalidInput(N_("Goods come back to the business unit that sold them.")).at("till")
        shift = _open_shift_for_sale(till)
        approver = use_approval(request.approval, "refund", user, request.id, sale=sale.number)
        moment = at or utcnow()
        today = business_date(till, moment)
        number = _number(till, today, "R")
        lines_by_position = {line.position: line for line in sale.lines}
        seen: set[int] = set()
        prepared = []
        for i, item in enumerate(request.lines):
            line = lines_by_position.get(item.line)
            if line is None or item.line in seen:
                raise InvalidInput(N_("No such line on the receipt.")).at(f"lines[{i}].line")
            seen.add(item.line)
            qty_before, amount_before, ppn_before, base_before = returned_of(line)
            left = Decimal(line.quantity) - qty_before
            if item.qty > left:
                raise InvalidInput(N_("At most %(left)s %(unit)s of %(product)s can come back."),
                                   left=_qty(left), unit=line.unit_name, product=line.name).at(f"lines[{i}].qty")
            if item.qty == left:  # the last of the line takes what is left, so the amounts add up exactly
                amount, ppn = line.net - amount_before, line.ppn - ppn_before
            else:
                share = item.qty / Decimal(line.quantity)
                amount = round_half_up(_fraction(share) * line.net)
                ppn = round_half_up(_fraction(share) * line.ppn)
            base = (item.qty * Decimal(line.factor)).quantize(stock.THOUSANDTH)
            prepared.append((line, item.qty, base, base_before, amount, ppn))
        sale_return = SaleReturn(
            uuid=request.id, number=number, fingerprint=fingerprint, sale_id=sale.id, till_id=till.id,
            shift_id=shift.id, cashier_name=(user.full_name or user.username)[:120], approved_by=approver.username,
            reason=request.reason[:250], business_date=today, created_at=moment,
            total=sum(p[4] for p in prepared), ppn=sum(p[5] for p in prepared), revenue=0,
        )
        sale_return.revenue = sale_return.total - sale_return.ppn
        db.session.add(sale_return)
        db.session.flush()
        shelf = selling_location(till)
        cost = 0
        for line, qty, base, base_before, amount, ppn in prepared:
            line_cost = _stock_back(line, base, base_before, shelf, user, number, moment)
            cost += line_cost
            db.session.add(ReturnLine(return_id=sale_return.id, sale_line_id=line.id, quantity=qty,
                                      base_quantity=base, amount=amount, ppn=ppn, cost=line_cost))
        sale_return.cost = cost
        for method, amount in _refunds(sale, sale_return.total, request.refund):
            db.session.add(ReturnRefund(return_id=sale_return.id, method=method, amount=amount))
        db.session.flush()
        db.session.refresh(sale_return)
        paid = {r.method: r.amount for r in sale_return.refunds}
        summary = SaleSummary(
            sale_id=number, number=number, date=today, unit=till.outlet.unit.code, cash_account=cash_account(till),
            revenue=sale_return.revenue, ppn=sale_return.ppn, cost=cost,
            payments=Payments(cash=paid.get("cash", 0), qris=paid.get("qris", 0), transfer=paid.get("transfer", 0),
                              kasbon=paid.get("kasbon", 0), debit=paid.get("debit", 0)),
            member_id=sale.member_id)
        sale_return.entry_id = journal.post(return_entry(summary, sale.number), user).id
        audit.record("sale.returned", actor=user, approver=approver, target_type="sale", target_id=sale.number,
                     after={"return": number, "total": sale_return.total}, reason=request.reason[:250])
        from pos import printing
        from pos.sales.documents import return_document

        printing.print_document(return_document(sale_return), kind="receipt", source_type="sale_return",
                                source_id=number, till=till, user=user, printed_at=at)
    return sale_return, True


def _stock_back(line: SaleLine, base: Decimal, base_before: Decimal, shelf: Location, user: User, number: str,
                moment: dt.datetime) -> int:
    """Returned goods go back to the batches they came from (the last allocated first); medicine waits in karantina
    for the pharmacist. Returns their cost."""
    product = db.session.get(Product, line.product_id)
    target = quarantine_of(shelf) if product.drug_class is not None else shelf
    skip, left, cost = base_before, base, 0
    for allocation in reversed(line.allocations):
        available = Decimal(allocation.quantity)
        if skip >= available:
            skip -= available
            continue
        available -= skip
        skip = Decimal(0)
        take = min(available, left)
        stock.move(product=product, qty=take, kind=MoveKind.RETURN, source_type="sale_return", source_id=number,
                   user_name=user.username, to_location=target,
                   batch=db.session.get(Batch, allocation.batch_id) if allocation.batch_id else None,
                   unit_cost=Decimal(allocation.unit_cost), reason="retur penjualan", at=moment)
        cost += stock.value_of(take, Decimal(allocation.unit_cost))
        left -= take
        if left == 0:
            break
    return cost


def _fraction(value: Decimal):
    from fractions import Fraction

    return Fraction(value)


def _qty(value: Decimal) -> str:
    from pos.money import format_number

    return format_number(value)


# --- shifts ------------------------------------------------------------------------------------------------------


def open_shift(till_code: str, opening_float: int, user: User, *,
               at: dt.datetime | None = None) -> tuple[Shift, bool]:
    """Open the till's shift with the float counted into the drawer. A repeat of the same opening (a double click,
    a retry) returns the open shift; another opening while one is open is refused."""
    if type(opening_float) is not int or not 0 <= opening_float <= MAX_FLOAT:
        raise InvalidInput(N_("The opening float is whole rupiah, zero or more.")).at("opening_float")
    with write_transaction():
        till = till_by_code(till_code)
        current = open_shift_of(till)
        if current is not None:
            if current.opened_by == user.username and current.opening_float == opening_float:
                return current, False
            raise Conflict(N_("%(till)s already has an open shift (%(number)s, opened by %(name)s)."),
                           till=till.code, number=current.number, name=current.opened_by).at("till")
        moment = at or utcnow()
        day = business_date(till, moment)
        shift = Shift(number=f"{till.code}-{day:%Y%m%d}-S{journal.next_value(f'{till.code}S/{day:%Y%m%d}')}",
                      till_id=till.id, status=ShiftStatus.OPEN.value, business_date=day, opened_by=user.username,
                      opened_at=moment, opening_float=opening_float)
        db.session.add(shift)
        db.session.flush()
        audit.record("shift.opened", actor=user, target_type="shift", target_id=shift.number,
                     after={"till": till.code, "opening_float": opening_float})
    return shift, True


def shift_by_id(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id) if type(shift_id) is int else None
    if shift is None:
        raise NotFound(N_("No such shift."))
    return shift


@dataclass(frozen=True)
class ShiftTotals:
    sales: dict[str, tuple[int, int]]  # method -> (amount, number of sales)
    refunds: dict[str, tuple[int, int]]
    sale_count: int
    refund_count: int
    void_count: int
    pending_count: int
    opening_float: int

    @property
    def expected_cash(self) -> int:
        return self.opening_float + self.sales.get("cash", (0, 0))[0] - self.refunds.get("cash", (0, 0))[0]

    def expected(self, method: str) -> int:
        if method == "cash":
            return self.expected_cash
        return self.sales.get(method, (0, 0))[0] - self.refunds.get(method, (0, 0))[0]


def shift_totals(shift: Shift) -> ShiftTotals:
    """What a shift took in and paid back, per method (completed sales only; voided ones never happened)."""
    sales = {method: (int(amount), int(count)) for method, amount, count in db.session.execute(
        sa.select(SalePayment.method, sa.func.sum(SalePayment.amount), sa.func.count(sa.distinct(Sale.id)))
        .join(Sale, SalePayment.sale_id == Sale.id)
        .where(Sale.shift_id == shift.id, Sale.status == SaleStatus.COMPLETED).group_by(SalePayment.method))}
    refunds = {method: (int(amount), int(count)) for method, amount, count in db.session.execute(
        sa.select(ReturnRefund.method, sa.func.sum(ReturnRefund.amount), sa.func.count(sa.distinct(SaleReturn.id)))
        .join(SaleReturn, ReturnRefund.return_id == SaleReturn.id)
        .where(SaleReturn.shift_id == shift.id).group_by(ReturnRefund.method))}
    counts = dict(db.session.execute(sa.select(Sale.status, sa.func.count()).where(Sale.shift_id == shift.id)
                                     .group_by(Sale.status)).all())
    refund_count = db.session.scalar(sa.select(sa.func.count()).select_from(SaleReturn)
                                     .where(SaleReturn.shift_id == shift.id))
    return ShiftTotals(sales=sales, refunds=refunds, sale_count=counts.get("completed", 0),
                       refund_count=refund_count or 0, void_count=counts.get("voided", 0),
                       pending_count=counts.get("pending", 0), opening_float=shift.opening_float)


def x_report(shift_id: int, user: User) -> Shift:
    """The running report of an open shift, printed; the shift goes on."""
    from pos import printing
    from pos.sales.documents import shift_document

    with write_transaction():
        shift = shift_by_id(shift_id)
        if shift.status != ShiftStatus.OPEN:
            raise Conflict(N_("Shift %(number)s is closed: its Z report is kept."), number=shift.number)
        printing.print_document(shift_document(shift, shift_totals(shift), final=False), kind="report",
                                source_type="shift_x", source_id=f"{shift.number}@{utcnow().isoformat()}",
                                till=shift.till, user=user)
    return shift


@dataclass(frozen=True)
class CashCount:
    """The close of a shift: cash counted by denomination (or as one sum), other methods as the terminal's or the
    bank's own totals (default: as expected)."""

    cash: int
    denominations: dict[int, int] = field(default_factory=dict)
    others: dict[str, int] = field(default_factory=dict)


def close_shift(shift_id: int, count: CashCount, user: User, *,
                at: dt.datetime | None = None) -> tuple[Shift, bool]:
    """Count the drawer and close: expected against counted per method, the cash over or short posted to the
    books, the Z report printed and kept. No sale lands in a closed shift."""
    if count.denominations and cash.count_drawer(count.denominations) != count.cash:
        raise InvalidInput(N_("The notes and coins do not add up to the counted cash.")).at("counted_cash")
    if type(count.cash) is not int or not 0 <= count.cash <= 10 * MAX_FLOAT:
        raise InvalidInput(N_("The counted cash is whole rupiah, zero or more.")).at("counted_cash")
    from pos import printing
    from pos.sales.documents import shift_document

    with write_transaction():
        shift = shift_by_id(shift_id)
        if shift.status == ShiftStatus.CLOSED:
            if shift.counted_cash == count.cash:
                return shift, False
            raise Conflict(N_("Shift %(number)s is already closed."), number=shift.number)
        totals = shift_totals(shift)
        if totals.pending_count:
            raise Conflict(N_("%(n)d QRIS sale(s) still wait for their payment: confirm or cancel them first."),
                           n=totals.pending_count)
        moment = at or utcnow()
        expected = totals.expected_cash
        difference = count.cash - expected
        methods = sorted(set(totals.sales) | set(totals.refunds) | {"cash"})
        per_method = {m: {"expected": totals.expected(m), "counted": count.cash if m == "cash" else
                          count.others.get(m, totals.expected(m))} for m in methods}
        shift.status, shift.closed_at, shift.closed_by = ShiftStatus.CLOSED.value, moment, user.username
        shift.expected_cash, shift.counted_cash, shift.difference = expected, count.cash, difference
        shift.counted = {"denominations": {str(k): v for k, v in sorted(count.denominations.items(), reverse=True)},
                         "methods": per_method}
        if difference:
            entry = journal.post(shift_cash_entry(ShiftCashSummary(
                shift.number, business_date(shift.till, moment), shift.till.outlet.unit.code,
                cash_account(shift.till), difference)), user)
            shift.entry_id = entry.id
        db.session.flush()
        shift.report = shift_document(shift, totals, final=True)
        printing.print_document(shift.report, kind="report", source_type="shift_z", source_id=shift.number,
                                till=shift.till, user=user, printed_at=at)
        audit.record("shift.closed", actor=user, target_type="shift", target_id=shift.number,
                     after={"expected_cash": expected, "counted_cash": count.cash, "difference": difference})
    return shift, True


def overnight_shifts() -> list[Shift]:
    """Shifts still open from an earlier day: the manager should see them (a cashier went home without closing)."""
    shifts = db.session.scalars(sa.select(Shift).where(Shift.status == ShiftStatus.OPEN).order_by(Shift.opened_at))
    return [s for s in shifts if s.business_date < business_date(s.till)]


# --- held carts --------------------------------------------------------------------------------------------------


def hold_cart(till_code: str, cart: dict, label: str, user: User) -> HeldCart:
    """Put a cart aside on the server (it survives a reload and can be resumed on another till of the outlet)."""
    request = cart_from_json({**cart, "till": till_code})
    if not request.lines:
        raise InvalidInput(N_("The cart is empty.")).at("lines")
    label = (label or "").strip()[:80]
    if any(ord(ch) < 32 for ch in label):
        raise InvalidInput(N_("This field holds text of at most %(n)d characters."), n=80).at("label")
    priced = ring_up(request, user)
    with write_transaction():
        till = till_by_code(till_code)
        held = db.session.scalar(sa.select(sa.func.count()).select_from(HeldCart).where(
            HeldCart.till_id == till.id, HeldCart.status == "held"))
        if held >= MAX_HELD:
            raise Conflict(N_("%(n)d carts are already on hold: resume or discard one first."), n=held)
        row = HeldCart(till_id=till.id, label=label, cart=_plain_cart(request), line_count=len(request.lines),
                       total=priced.total, held_by=user.username)
        db.session.add(row)
        db.session.flush()
    return row


def _plain_cart(request: CartRequest) -> dict:
    lines = []
    for line in request.lines:
        item = {"code": line.code, "qty": str(line.qty) if line.qty is not None else None, "unit": line.unit,
                "batch": line.batch, "batch_reason": line.batch_reason or None}
        lines.append({k: v for k, v in item.items() if v is not None})
    return {"member": request.member, "lines": lines}


def held_carts(till: Till) -> list[HeldCart]:
    outlet_tills = sa.select(Till.id).where(Till.outlet_id == till.outlet_id)
    return list(db.session.scalars(sa.select(HeldCart).where(HeldCart.till_id.in_(outlet_tills),
                                                             HeldCart.status == "held").order_by(HeldCart.id)))


def resume_cart(held_id: int, till_code: str, user: User, *, discard: bool = False) -> HeldCart:
    """Take a held cart back into a till (or let it go). Once: a second resume finds it gone."""
    with write_transaction():
        till = till_by_code(till_code)
        row = db.session.get(HeldCart, held_id) if type(held_id) is int else None
        if row is None or db.session.get(Till, row.till_id).outlet_id != till.outlet_id:
            raise NotFound(N_("No such held cart."))
        if row.status != "held":
            raise Conflict(N_("That cart was already taken back."))
        row.status, row.resumed_by, row.resumed_at = ("discarded" if discard else "resumed"), user.username, utcnow()
    return row


def check_till_access(till: Till, user: User, session_till_id: int | None) -> None:
    """A cashier switched in by PIN works at that till only."""
    if session_till_id is not None and session_till_id != till.id:
        raise PermissionDenied(N_("You are signed in at another till."))
