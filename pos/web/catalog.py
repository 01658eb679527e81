"""The catalog on screen: search products, see one with its units, barcodes, prices, history and stock;
add products, change prices (never above the HET), add or generate barcodes, archive."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from inventory import catalog
from inventory.catalog_rules import BASE_UNITS
from inventory.models import Category, DrugClass, PriceChange, Product, StockLevel, TaxCode
from pos.db import db, write_transaction
from pos.errors import N_, InvalidInput, PosError
from pos.models import BusinessUnit
from pos.money import parse_decimal, parse_rupiah
from pos.permissions import require

bp = Blueprint("catalog", __name__, url_prefix="/produk")
PAGE_SIZE = 50
PACK_ROWS = 3


def _choices() -> dict:
    return {
        "categories": db.session.scalars(sa.select(Category).order_by(Category.name)).all(),
        "business_units": db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code)).all(),
        "base_units": BASE_UNITS,
        "tax_codes": list(TaxCode),
        "drug_classes": list(DrugClass),
        "pack_rows": range(PACK_ROWS),
    }


STATUSES = ("aktif", "arsip", "semua")


def _by_code(text: str) -> Product | None:
    """The product a scanned or typed code names: a barcode as printed or as a scanner sends it (GS1 element string,
    scale label), or an SKU; archived products too (the list filters by status)."""
    from inventory import barcodes
    from inventory.lookup import find_barcode
    from pos.web.templating import local_today

    if not text or " " in text or len(text) > 80:
        return None
    found = find_barcode(text)
    if found is None:
        try:
            scanned = barcodes.classify(text, today=local_today())
        except PosError:
            scanned = None
        if scanned is not None and scanned.lookup_code and scanned.lookup_code != text:
            found = find_barcode(scanned.lookup_code)
    if found is not None:
        return found.product
    return db.session.scalar(sa.select(Product).where(Product.sku == text.upper()[:40]))


def _search(q: str, status: str) -> list[Product]:
    """What was typed, at most a page: the product of an exact barcode or SKU first, then catalog.search (SKUs
    starting with it, names with words starting with each typed word), in the chosen status."""
    exact = _by_code(q)
    # catalog.search filters active products only; for archived ones it looks further and the status is kept here
    limit = PAGE_SIZE if status != "arsip" else PAGE_SIZE * 4
    found = ([exact] if exact is not None else []) + catalog.search(q, limit=limit, only_active=status == "aktif")
    wanted = {"aktif": (True,), "arsip": (False,), "semua": (True, False)}[status]
    return [p for p in dict.fromkeys(found) if p.active in wanted][:PAGE_SIZE]


def _on_hand(products: list[Product]) -> dict[int, Decimal]:
    if not products:
        return {}
    return dict(db.session.execute(
        sa.select(StockLevel.product_id, sa.func.sum(StockLevel.quantity))
        .where(StockLevel.product_id.in_([p.id for p in products]))
        .group_by(StockLevel.product_id)
    ).all())


@bp.get("/")
@require("catalog.view")
def index():
    """The catalog by name, a page at a time (keyset: ?setelah=/?sebelum= a product id), or what a search finds: a
    name, an SKU or a barcode (typed or scanned)."""
    from sqlalchemy import orm

    from pos.web import paging

    q = request.args.get("q", "").strip()[:80]
    status = request.args.get("status", "aktif")
    if status not in STATUSES:
        status = "aktif"
    if q:
        products = _search(q, status)
        page = paging.Page(rows=products)
    else:
        query = sa.select(Product)
        if status == "aktif":
            query = query.where(Product.active.is_(True))
        elif status == "arsip":
            query = query.where(Product.active.is_(False))
        page = paging.keyset(
            query, (Product.name, Product.id), size=PAGE_SIZE, args={"status": status},
            key_of=lambda product_id: db.session.execute(
                sa.select(Product.name, Product.id).where(Product.id == product_id)).first(),
            options=(orm.joinedload(Product.category), orm.joinedload(Product.unit)),
        )
        products = page.rows
    return render_template("catalog/index.html", products=products, page=page, q=q, status=status,
                           on_hand=_on_hand(products), page_size=PAGE_SIZE)


def _optional_rupiah(text: str) -> int | None:
    return parse_rupiah(text) if (text or "").strip() else None


def _optional_decimal(text: str) -> Decimal | None:
    return parse_decimal(text) if (text or "").strip() else None


def _codes(text: str) -> tuple[str, ...]:
    return tuple(code for code in (text or "").replace(",", " ").split() if code)


def _product_input(form) -> catalog.ProductInput:
    packs = []
    for n in range(PACK_ROWS):
        name = form.get(f"pack_name_{n}", "").strip()
        if not name:
            continue
        factor = parse_decimal(form.get(f"pack_factor_{n}", ""))
        packs.append(
            catalog.PackInput(
                name=name,
                factor=factor,
                price=_optional_rupiah(form.get(f"pack_price_{n}", "")),
                barcodes=_codes(form.get(f"pack_barcodes_{n}", "")),
            )
        )
    drug_class = form.get("drug_class") or None
    return catalog.ProductInput(
        sku=form.get("sku", ""),
        name=form.get("name", ""),
        category=form.get("category", ""),
        unit=form.get("unit", ""),
        base_unit=form.get("base_unit", ""),
        public_price=parse_rupiah(form.get("public_price", "")),
        member_price=parse_rupiah(form.get("member_price", "")),
        tax_code=form.get("tax_code", "exempt"),
        wholesale_price=_optional_rupiah(form.get("wholesale_price", "")),
        wholesale_min_qty=_optional_decimal(form.get("wholesale_min_qty", "")),
        sell_by_weight=form.get("sell_by_weight") == "1",
        het=_optional_rupiah(form.get("het", "")),
        reorder_point=_optional_decimal(form.get("reorder_point", "")) or Decimal(0),
        tracks_batches=form.get("tracks_batches") == "1" or drug_class is not None,
        drug_class=drug_class,
        nie=form.get("nie") or None,
        owa=form.get("owa") == "1",
        precursor=form.get("precursor") == "1",
        cold_chain=form.get("cold_chain") == "1",
        barcodes=_codes(form.get("barcodes", "")),
        packs=tuple(packs),
    )


@bp.route("/baru", methods=["GET", "POST"])
@require("catalog.manage")
def new():
    if request.method == "GET":
        return render_template("catalog/new.html", form={}, **_choices())
    try:
        data = _product_input(request.form)
        if data.reorder_point < 0:
            raise InvalidInput(N_("The reorder point is zero or more."))
        with write_transaction():
            product = catalog.create_product(data, g.user)
            if request.form.get("instore") == "1" and not data.barcodes:
                catalog.generate_instore_barcode(product)
            sku = product.sku
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("catalog/new.html", form=request.form, **_choices()), 400
    flash(gettext("Product %(sku)s was added.", sku=sku), "success")
    return redirect(url_for("catalog.show", sku=sku))


def _product(sku: str) -> Product:
    product = db.session.scalar(sa.select(Product).where(Product.sku == sku.upper()[:40]))
    if product is None:
        abort(404)
    return product


@bp.get("/<sku>")
@require("catalog.view")
def show(sku: str):
    return _show_page(_product(sku))


def _show_page(product: Product, status: int = 200):
    from inventory.lookup import unit_prices

    prices = {unit.id: unit_prices(product, unit) for unit in product.units}
    history = db.session.scalars(
        sa.select(PriceChange).where(PriceChange.product_id == product.id).order_by(PriceChange.id.desc()).limit(50)
    ).all()
    levels = db.session.scalars(
        sa.select(StockLevel).where(StockLevel.product_id == product.id, StockLevel.quantity != 0)
    ).all()
    from inventory.models import ProductCost

    costs = db.session.execute(
        sa.select(BusinessUnit.name, ProductCost.average_cost)
        .join(BusinessUnit, ProductCost.unit_id == BusinessUnit.id)
        .where(ProductCost.product_id == product.id)
    ).all()
    return render_template(
        "catalog/show.html", product=product, prices=prices, history=history, levels=levels, costs=costs
    ), status


def _back(sku: str, exc: PosError | None = None):
    """After a change, back to the product; a refusal shows the product's page again with the error and its
    4xx status (nothing was changed), not a redirect."""
    if exc is None:
        return redirect(url_for("catalog.show", sku=sku))
    flash(gettext(exc.message, **exc.params), "error")
    return _show_page(_product(sku), exc.status)


@bp.post("/<sku>/harga")
@require("catalog.manage")
def prices(sku: str):
    try:
        changes = {
            "public_price": parse_rupiah(request.form.get("public_price", "")),
            "member_price": parse_rupiah(request.form.get("member_price", "")),
            "wholesale_price": _optional_rupiah(request.form.get("wholesale_price", "")),
            "het": _optional_rupiah(request.form.get("het", "")),
        }
        with write_transaction():
            changed = catalog.change_prices(_product(sku), changes, g.user)
    except PosError as exc:
        return _back(sku, exc)
    flash(gettext("%(n)s price(s) changed.", n=len(changed)), "success")
    return _back(sku)


@bp.post("/<sku>/barcode")
@require("catalog.manage")
def add_barcode(sku: str):
    try:
        with write_transaction():
            product = _product(sku)
            unit = next((u for u in product.units if str(u.id) == request.form.get("unit_id")), None)
            if unit is None:
                raise InvalidInput(N_("Choose one of the product's units."))
            if request.form.get("generate") == "1":
                barcode = catalog.generate_instore_barcode(product, unit)
            else:
                barcode = catalog.add_barcode(product, unit, request.form.get("code", ""))
            code = barcode.code
    except PosError as exc:
        return _back(sku, exc)
    flash(gettext("Barcode %(code)s was added.", code=code), "success")
    return _back(sku)


@bp.post("/<sku>/status")
@require("catalog.manage")
def status(sku: str):
    with write_transaction():
        catalog.set_active(_product(sku), request.form.get("active") == "1")
    return _back(sku)


def _labels(product: Product, copies: int):
    """Shelf labels for the product's base unit (its first barcode, or an in-store one the caller generated)."""
    from inventory.lookup import unit_prices
    from receipts.labels import shelf_label

    base = next(u for u in product.units if u.factor == 1)
    code = next((b.code for b in product.barcodes if b.product_unit_id == base.id), None)
    if code is None:
        raise InvalidInput(N_("The product has no barcode yet: add one or generate an in-store barcode first."))
    price = unit_prices(product, base)[0]
    return [shelf_label(product.name, base.name, price, code)] * copies


@bp.get("/<sku>/label")
@require("catalog.view")
def labels(sku: str):
    """A printable A4 sheet of shelf labels (3 x 8), every barcode checked to scan back in the tests."""
    from receipts.labels import a4_sheet_html

    product = _product(sku)
    copies = min(max(request.args.get("jumlah", 24, type=int) or 24, 1), 240)
    try:
        sheet = a4_sheet_html(_labels(product, copies))
    except PosError as exc:
        return _back(sku, exc)
    return render_template("catalog/labels.html", product=product, sheet=sheet, copies=copies)


@bp.post("/<sku>/label")
@require("catalog.manage")
def print_labels(sku: str):
    """The same labels on a till's receipt printer (through the print queue)."""
    import uuid

    from pos import printing
    from pos.models import Till
    from receipts.escpos import render_escpos
    from receipts.labels import thermal_label_blocks

    copies = min(max(request.form.get("jumlah", 1, type=int) or 1, 1), 50)
    try:
        with write_transaction():
            product = _product(sku)
            till = db.session.scalar(sa.select(Till).where(Till.code == request.form.get("till", "").upper()[:20]))
            if till is None:
                raise InvalidInput(N_("Choose the till whose printer prints the labels."))
            blocks = thermal_label_blocks(_labels(product, copies), till.printer_profile)
            from receipts.profiles import get_profile

            job = printing.enqueue(
                printer=printing.printer_of(till),
                profile=till.printer_profile,
                kind="label",
                source_type="label",
                source_id=uuid.uuid4().hex,
                data=render_escpos(blocks, get_profile(till.printer_profile)),
                html="",
                till=till,
                user=g.user,
            )
            printer = job.printer
    except PosError as exc:
        return _back(sku, exc)
    printing.notify(printer)
    flash(gettext("%(n)s label(s) were queued.", n=copies), "success")
    return _back(sku)
