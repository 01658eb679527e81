"""What the till gets for a scanned or typed code: product, unit, quantity or weight, prices, tax, batches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm

from inventory import barcodes, fefo, stock
from inventory.models import Barcode, Location, Product, ProductUnit
from pos.db import db
from pos.errors import N_, InvalidInput, NotFound


def _candidates(code: str) -> list[str]:
    """The forms a GTIN may be stored in: as printed (EAN-13, UPC-A, EAN-8) or as a 14-digit GTIN."""
    found = [code]
    if code.isdigit():
        stripped = code.lstrip("0")
        for width in (8, 12, 13, 14):
            if len(stripped) <= width:
                found.append(stripped.zfill(width))
    return list(dict.fromkeys(found))


def unit_prices(product: Product, unit: ProductUnit) -> tuple[int, int]:
    """Public and member price of one `unit`: its own prices, else the base prices times its factor. A pack
    with its own public price and no member price sells to members at that price too."""
    base = Decimal(product.public_price) * unit.factor
    public = unit.price if unit.price is not None else int(base.quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    if unit.member_price is not None:
        member = unit.member_price
    elif unit.price is not None:
        member = unit.price
    else:
        member = int((Decimal(product.member_price) * unit.factor).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    return public, member


def find_barcode(code: str) -> Barcode | None:
    return db.session.scalar(
        sa.select(Barcode).where(Barcode.code.in_(_candidates(code)))
        .options(orm.joinedload(Barcode.product), orm.joinedload(Barcode.product_unit)).limit(1)
    )


@dataclass(frozen=True)
class Identified:
    """A scanned or typed code, understood: the product and unit it names, and the quantity or line amount a scale
    label (or a GS1 net weight) carries."""

    code: str
    kind: str  # barcodes.classify's kind: gtin, variable_measure, gs1, internal
    product: Product
    unit: ProductUnit
    quantity: Decimal  # 1 unless the code carries a weight
    label_total: int | None  # the amount a price-embedded scale label carries for the whole line
    scanned: barcodes.ScannedCode

    @property
    def from_label(self) -> bool:
        """The quantity (or the line's amount) comes from the code itself, not from the cashier."""
        return self.label_total is not None or self.kind == "variable_measure" or (
            self.kind == "gs1" and self.scanned.gs1 is not None and self.scanned.gs1.net_weight_kg is not None)


def identify(code: str, today: dt.date, known: dict[str, Barcode] | None = None) -> Identified:
    """Any code (GTIN, variable-measure, GS1 element string, SKU) to its product; NotFound if unknown or inactive.
    `known` holds barcodes already read (identify_many), so a cart of ten lines reads them once."""
    scanned = barcodes.classify(code, today=today)
    if known is not None:
        barcode = next((known[c] for c in _candidates(scanned.lookup_code or "") if c in known), None)
        if barcode is None and scanned.kind != "internal":
            barcode = find_barcode(scanned.lookup_code)
    else:
        barcode = find_barcode(scanned.lookup_code)
    product: Product | None = barcode.product if barcode else None
    unit: ProductUnit | None = barcode.product_unit if barcode else None
    if product is None and scanned.kind == "internal":
        sku = scanned.code.upper()
        product = known[f"sku:{sku}"] if known is not None and f"sku:{sku}" in known else db.session.scalar(
            sa.select(Product).where(Product.sku == sku))
        unit = next((u for u in product.units if u.factor == 1), None) if product else None
    if product is None or unit is None or not product.active:
        raise NotFound(N_("No active product has the code %(code)s."), code=scanned.code[:40])
    quantity = Decimal(1)
    line_price = None
    if scanned.kind == "variable_measure":
        if scanned.measure.rule.kind == "weight":
            quantity = scanned.measure.value
        else:
            line_price = scanned.measure.value
            quantity = (Decimal(line_price) / Decimal(product.public_price)).quantize(Decimal("0.001")) \
                if product.public_price else Decimal(1)
    elif scanned.kind == "gs1" and scanned.gs1.net_weight_kg is not None:
        quantity = scanned.gs1.net_weight_kg
    return Identified(scanned.code, scanned.kind, product, unit, quantity, line_price, scanned)


def known_barcodes(codes: list[str], today: dt.date) -> dict:
    """The stored barcodes (by code) and SKU products ("sku:<SKU>") of many scanned or typed codes, read in two
    queries at most, for identify(); codes that do not parse are left out."""
    wanted: list[str] = []
    skus: list[str] = []
    for code in codes:
        try:
            scanned = barcodes.classify(code, today=today)
        except InvalidInput:
            continue
        if scanned.lookup_code:
            wanted += _candidates(scanned.lookup_code)
        if scanned.kind == "internal":
            skus.append(scanned.code.upper())
    found: dict = {}
    if wanted:
        found.update((b.code, b) for b in db.session.scalars(
            sa.select(Barcode).where(Barcode.code.in_(set(wanted)))
            .options(orm.joinedload(Barcode.product), orm.joinedload(Barcode.product_unit))))
    if skus:
        found.update((f"sku:{p.sku}", p) for p in db.session.scalars(
            sa.select(Product).where(Product.sku.in_(set(skus))).options(orm.selectinload(Product.units))))
    return found


def resolve(code: str, today: dt.date, location: Location | None = None) -> dict:
    """Resolve any code (GTIN, variable-measure, GS1 element string, SKU) for the till; NotFound if unknown."""
    found = identify(code, today)
    scanned, product, unit, quantity, line_price = found.scanned, found.product, found.unit, found.quantity, \
        found.label_total
    unit_price, member_price = unit_prices(product, unit)
    batches = []
    if product.tracks_batches:
        query_location = [location.id] if location is not None else None
        lots = []
        if query_location:
            lots = stock.lots_at(product.id, location.id)
        else:
            from inventory.models import Batch, StockLevel

            rows = db.session.execute(
                sa.select(Batch.id, Batch.lot, Batch.expiry_date, sa.func.sum(StockLevel.quantity))
                .join(StockLevel, StockLevel.batch_id == Batch.id)
                # StockLevel.product_id lets the (product, location, batch) index serve the join: no scan
                .where(Batch.product_id == product.id, StockLevel.product_id == product.id)
                .group_by(Batch.id, Batch.lot, Batch.expiry_date)
            )
            lots = [fefo.Lot(i, lot, exp, Decimal(q)) for i, lot, exp, q in rows]
        days = product.category.near_expiry_days
        batches = [
            {"id": lot.batch_id, "lot": lot.lot, "expiry": lot.expiry.isoformat() if lot.expiry else None,
             "quantity": str(lot.quantity), "near_expiry": fefo.is_near_expiry(lot.expiry, today, days)}
            for lot in fefo.sellable(lots, today)
        ]
    gs1 = scanned.gs1
    return {
        "code": scanned.code,
        "kind": scanned.kind,
        "product": {
            "id": product.id, "sku": product.sku, "name": product.name, "base_unit": product.base_unit,
            "tax_code": product.tax_code.value, "sell_by_weight": product.sell_by_weight,
            "drug_class": product.drug_class.value if product.drug_class else None,
            "tracks_batches": product.tracks_batches, "het": product.het,
        },
        "unit": {"id": unit.id, "name": unit.name, "factor": str(unit.factor)},
        "quantity": str(quantity),
        "prices": {
            "public": unit_price, "member": member_price,
            "wholesale": product.wholesale_price,
            "wholesale_min_qty": str(product.wholesale_min_qty) if product.wholesale_min_qty is not None else None,
            "line_total": line_price,
        },
        "batches": batches,
        "gs1": None if gs1 is None else {
            "gtin": gs1.gtin, "lot": gs1.lot, "expiry": gs1.expiry.isoformat() if gs1.expiry else None,
            "serial": gs1.serial, "count": gs1.count,
        },
    }
