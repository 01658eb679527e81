"""The catalog: products with their units, prices (with history), barcodes, and name search words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm

from inventory import barcodes
from inventory.catalog_rules import BASE_UNITS, validate_factor, validate_nie, validate_prices, validate_sku
from inventory.models import (
    Barcode,
    Category,
    DrugClass,
    PriceChange,
    Product,
    ProductUnit,
    ProductWord,
    TaxCode,
)
from pos.db import db
from pos.errors import N_, Conflict, InvalidInput, NotFound
from pos.models import BusinessUnit, User

WORD_RE = re.compile(r"[0-9a-z]+")
PRICE_FIELDS = ("public_price", "member_price", "wholesale_price", "het")


@dataclass(frozen=True)
class PackInput:
    name: str
    factor: Decimal
    price: int | None = None
    member_price: int | None = None
    barcodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductInput:
    sku: str
    name: str
    category: str  # category code
    unit: str  # business unit code
    base_unit: str
    public_price: int
    member_price: int
    tax_code: str = "exempt"
    wholesale_price: int | None = None
    wholesale_min_qty: Decimal | None = None
    sell_by_weight: bool = False
    het: int | None = None
    reorder_point: Decimal = Decimal(0)
    tracks_batches: bool = False
    drug_class: str | None = None
    nie: str | None = None
    owa: bool = False
    precursor: bool = False
    cold_chain: bool = False
    barcodes: tuple[str, ...] = ()  # of the base unit
    packs: tuple[PackInput, ...] = field(default_factory=tuple)


MAX_QUANTITY = Decimal(10**9)
THOUSANDTH = Decimal("0.001")  # quantities of base units are stored with 3 decimals


def _stored_exactly(quantity: Decimal) -> None:
    """Refuse a quantity the database would round: 0,0001 base units would be stored as 0 (a pack of nothing, which
    the app's own export then cannot import), 1,2345 as 1,235."""
    if quantity.is_finite() and abs(quantity) <= MAX_QUANTITY and quantity != quantity.quantize(THOUSANDTH):
        raise InvalidInput(N_("At most %(places)d decimals are allowed."), places=3)


def check_pack_het(het: int | None, factor: Decimal, *prices: int | None) -> None:
    """A pack may not cost more than the HET of what it holds."""
    if het is None:
        return
    ceiling = het * factor
    for price in prices:
        if price is not None and price > ceiling:
            from pos.money import format_rupiah

            raise InvalidInput(N_("No price may exceed the HET of %(het)s."),
                               het=format_rupiah(int(ceiling.to_integral_value())))


def words(name: str) -> set[str]:
    return {w[:60] for w in WORD_RE.findall(name.lower())}


def _index_words(product: Product) -> None:
    db.session.execute(sa.delete(ProductWord).where(ProductWord.product_id == product.id))
    for word in words(product.name):
        db.session.add(ProductWord(product_id=product.id, word=word))


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 160 or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(N_("A product name is 1 to 160 characters."))
    return name


def validate(data: ProductInput) -> None:
    """Every rule a product must meet, checked before anything is written."""
    validate_sku(data.sku)
    _name(data.name)
    if data.base_unit not in BASE_UNITS:
        raise InvalidInput(N_("Unknown base unit '%(unit)s'."), unit=str(data.base_unit)[:20])
    try:
        TaxCode(data.tax_code)
    except ValueError:
        raise InvalidInput(N_("The tax code is exempt, standard or luxury.")) from None
    validate_prices(data.public_price, data.member_price, data.wholesale_price, data.het)
    if not isinstance(data.reorder_point, Decimal) or not data.reorder_point.is_finite() or not (
            0 <= data.reorder_point <= MAX_QUANTITY):
        raise InvalidInput(N_("The reorder point is zero or more."))
    _stored_exactly(data.reorder_point)
    names = {data.base_unit.lower()}
    for pack in data.packs:
        name = (pack.name or "").strip()
        if not name or len(name) > 40 or name.lower() in names:
            raise InvalidInput(N_("Each pack has its own name of up to 40 characters."))
        if any(ord(ch) < 32 for ch in name):  # a worksheet cannot hold them: the catalog export would fail
            raise InvalidInput(N_("Control characters (tab, line break, escape) are not allowed here."))
        names.add(name.lower())
        validate_factor(pack.factor)
        _stored_exactly(pack.factor)
        validate_prices(pack.price or 0, pack.member_price or 0, None, None)
        check_pack_het(data.het, pack.factor, pack.price, pack.member_price)
    if data.wholesale_price is not None and (data.wholesale_min_qty is None or data.wholesale_min_qty <= 0):
        raise InvalidInput(N_("A wholesale price needs the quantity from which it applies."))
    if data.wholesale_min_qty is not None and (not data.wholesale_min_qty.is_finite() or not (
            0 < data.wholesale_min_qty <= MAX_QUANTITY)):
        raise InvalidInput(N_("A wholesale price needs the quantity from which it applies."))
    if data.wholesale_min_qty is not None:
        _stored_exactly(data.wholesale_min_qty)
    if data.nie and not data.drug_class:
        raise InvalidInput(N_("An NIE is given for medicines: choose the drug class too."))
    if data.drug_class:
        try:
            drug_class = DrugClass(data.drug_class)
        except ValueError:
            raise InvalidInput(N_("Unknown drug class '%(value)s'."), value=str(data.drug_class)[:20]) from None
        validate_nie(data.nie or "", drug_class)


def create_product(data: ProductInput, user: User | None) -> Product:
    validate(data)
    sku = validate_sku(data.sku)
    if db.session.scalar(sa.select(Product.id).where(Product.sku == sku)) is not None:
        raise Conflict(N_("SKU %(sku)s is taken."), sku=sku)
    category = db.session.scalar(sa.select(Category).where(Category.code == data.category))
    if category is None:
        raise NotFound(N_("No category %(code)s."), code=str(data.category)[:20])
    unit = db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == data.unit))
    if unit is None:
        raise NotFound(N_("No business unit '%(unit)s'."), unit=str(data.unit)[:20])
    drug_class = DrugClass(data.drug_class) if data.drug_class else None
    product = Product(
        sku=sku, name=_name(data.name), category_id=category.id, unit_id=unit.id, base_unit=data.base_unit,
        public_price=data.public_price, member_price=data.member_price, wholesale_price=data.wholesale_price,
        wholesale_min_qty=data.wholesale_min_qty, tax_code=TaxCode(data.tax_code), sell_by_weight=data.sell_by_weight,
        het=data.het, reorder_point=data.reorder_point, tracks_batches=data.tracks_batches or drug_class is not None,
        drug_class=drug_class, nie=validate_nie(data.nie, drug_class) if drug_class else None, owa=data.owa,
        precursor=data.precursor, cold_chain=data.cold_chain, active=True,
    )
    db.session.add(product)
    db.session.flush()
    base = ProductUnit(product_id=product.id, name=data.base_unit, factor=Decimal(1))
    db.session.add(base)
    db.session.flush()
    for code in data.barcodes:
        add_barcode(product, base, code)
    for pack in data.packs:
        pack_unit = ProductUnit(product_id=product.id, name=(pack.name or "").strip()[:40],
                                factor=validate_factor(pack.factor), price=pack.price, member_price=pack.member_price)
        if not pack_unit.name or pack_unit.name == data.base_unit:
            raise InvalidInput(N_("Each pack has its own name."))
        db.session.add(pack_unit)
        db.session.flush()
        for code in pack.barcodes:
            add_barcode(product, pack_unit, code)
    _index_words(product)
    db.session.flush()
    return product


def add_barcode(product: Product, unit: ProductUnit, code: str, instore: bool = False) -> Barcode:
    """Attach a barcode after checking it: GTINs by their check digit; every code is unique."""
    code = (code or "").strip()
    if unit.product_id != product.id:
        raise InvalidInput(N_("That unit belongs to another product."))
    rule = measure_base_rule(code)
    if rule is not None:
        if not product.sell_by_weight and rule.kind == "weight":
            raise InvalidInput(N_("Scale codes by weight are for products sold by weight."))
        if db.session.scalar(sa.select(Barcode.id).where(Barcode.code == code)) is not None:
            raise Conflict(N_("Barcode %(code)s is already in use."), code=code)
        barcode = Barcode(code=code, product_id=product.id, product_unit_id=unit.id, instore=True)
        db.session.add(barcode)
        db.session.flush()
        return barcode
    scanned = barcodes.classify(code)
    if scanned.kind == "gs1":
        raise InvalidInput(N_("Give the product's own barcode, not a GS1 element string."))
    if scanned.kind == "variable_measure":
        raise InvalidInput(N_("Codes starting 21 or 22 carry a weight or a price; they are not product barcodes."))
    if db.session.scalar(sa.select(Barcode.id).where(Barcode.code == code)) is not None:
        raise Conflict(N_("Barcode %(code)s is already in use."), code=code)
    barcode = Barcode(code=code, product_id=product.id, product_unit_id=unit.id, instore=instore)
    db.session.add(barcode)
    db.session.flush()
    return barcode


def measure_base_rule(code: str) -> barcodes.MeasureRule | None:
    """The scale rule whose item code this is (value digits all zero): what scale labels are looked up by."""
    if len(code) != 13 or not code.isdigit():
        return None
    for rule in barcodes.DEFAULT_RULES:
        if code.startswith(rule.prefix) and set(code[rule.value_start:rule.value_end]) == {"0"}:
            barcodes.validate_gtin(code)
            return rule
    return None


def generate_instore_barcode(product: Product, unit: ProductUnit | None = None) -> Barcode:
    """An in-store EAN-13 (prefix 20) for goods without one, never colliding with a code in use."""
    unit = unit or next(u for u in product.units if u.factor == 1)
    taken = set(db.session.scalars(sa.select(Barcode.code).where(Barcode.code.like("20%"))))
    code = barcodes.next_free_instore(taken, start=len(taken) + 1)
    return add_barcode(product, unit, code, instore=True)


def change_prices(product: Product, changes: dict[str, int | None], user: User) -> list[PriceChange]:
    """New prices, refused above the HET, each change kept in the price history (who, when, old, new)."""
    unknown = set(changes) - set(PRICE_FIELDS)
    if unknown:
        raise InvalidInput(N_("Unknown price field."))
    new = {name: getattr(product, name) for name in PRICE_FIELDS} | changes
    validate_prices(new["public_price"], new["member_price"], new["wholesale_price"], new["het"])
    for pack in product.units:
        if pack.factor != 1:
            check_pack_het(new["het"], pack.factor, pack.price, pack.member_price)
    if new["public_price"] is None or new["member_price"] is None:
        raise InvalidInput(N_("Prices are whole rupiah, zero or more."))
    if new["wholesale_price"] is not None and not product.wholesale_min_qty:
        # The price form has no quantity: a wholesale price without one would break the product's page and the
        # catalog export's own import.
        raise InvalidInput(N_("A wholesale price needs the quantity from which it applies."))
    history = []
    for name in PRICE_FIELDS:
        if new[name] != getattr(product, name):
            history.append(PriceChange(product_id=product.id, field=name, old=getattr(product, name), new=new[name],
                                       changed_by=user.username))
            setattr(product, name, new[name])
    db.session.add_all(history)
    db.session.flush()
    return history


def rename_product(product: Product, name: str) -> None:
    product.name = _name(name)
    _index_words(product)


def set_active(product: Product, active: bool) -> None:
    product.active = active


MAX_SEARCH_WORDS = 8


def _successor(prefix: str) -> str:
    """The first string after every string that starts with `prefix`: the upper end of an index range scan."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def search(query: str, limit: int = 20, only_active: bool = True) -> list[Product]:
    """Products for what was typed: an exact barcode or SKU first, then SKUs starting with it, then names having
    a word that starts with each typed word (any number of words; an index range scan per word)."""
    text = (query or "").strip()[:80]
    typed = list(dict.fromkeys(w for w in WORD_RE.findall(text.lower()) if w))[:MAX_SEARCH_WORDS]
    if not typed:
        return []
    found: list[Product] = []
    code = text.upper()
    if " " not in code:
        from inventory.lookup import find_barcode

        barcode = find_barcode(text) if text.isdigit() else None
        exact = [barcode.product] if barcode is not None else []
        skus = db.session.scalars(
            sa.select(Product).where(Product.sku >= code, Product.sku < _successor(code))
            .options(orm.selectinload(Product.units)).order_by(Product.sku).limit(limit)
        )
        found = [p for p in exact + list(skus) if p.active or not only_active]
    # One flat INTERSECT of the per-word ranges: nested compound selects are a syntax error on SQLite.
    per_word = [
        sa.select(ProductWord.product_id).where(ProductWord.word >= word, ProductWord.word < _successor(word))
        for word in typed
    ]
    candidates = per_word[0] if len(per_word) == 1 else sa.intersect(*per_word)
    statement = sa.select(Product).where(Product.id.in_(candidates)).options(orm.selectinload(Product.units))
    if only_active:
        statement = statement.where(Product.active.is_(True))
    found += db.session.scalars(statement.order_by(Product.name).limit(limit))
    return list(dict.fromkeys(found))[:limit]
