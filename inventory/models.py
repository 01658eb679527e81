"""Inventory tables: categories, products, units, barcodes, suppliers, locations, batches, stock moves and levels,
and the documents that move stock (goods receipts, transfers, counts, write-offs, supplier returns)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.db import Base, UTCDateTime, enum_column, utcnow
from pos.models import BusinessUnit, Outlet

QTY = sa.Numeric(18, 3)  # base units: 1,250 kg, 40 pcs, 10 tablet
COST = sa.Numeric(18, 4)  # rupiah per base unit, before rounding a value to whole rupiah


class TaxCode(enum.StrEnum):
    EXEMPT = "exempt"  # PPN-exempt staples (beras, gula konsumsi, telur, garam...)
    STANDARD = "standard"
    LUXURY = "luxury"


class DrugClass(enum.StrEnum):
    BEBAS = "bebas"
    BEBAS_TERBATAS = "bebas_terbatas"
    KERAS = "keras"
    PSIKOTROPIKA = "psikotropika"
    NARKOTIKA = "narkotika"


class LocationKind(enum.StrEnum):
    GUDANG = "gudang"
    TOKO = "toko"
    APOTEK = "apotek"
    KARANTINA = "karantina"


class MoveKind(enum.StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    WRITE_OFF = "write_off"
    QUARANTINE = "quarantine"
    SUPPLIER_RETURN = "supplier_return"


class Category(Base):
    __tablename__ = "product_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    near_expiry_days: Mapped[int] = mapped_column(default=30)

    __table_args__ = (sa.CheckConstraint("near_expiry_days >= 0", name="near_expiry"),)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("product_category.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("business_unit.id"), index=True)
    base_unit: Mapped[str] = mapped_column(sa.String(20))
    public_price: Mapped[int] = mapped_column(sa.BigInteger)
    member_price: Mapped[int] = mapped_column(sa.BigInteger)
    wholesale_price: Mapped[int | None] = mapped_column(sa.BigInteger)
    wholesale_min_qty: Mapped[Decimal | None] = mapped_column(QTY)
    tax_code: Mapped[TaxCode] = mapped_column(enum_column(TaxCode, "tax_code"), default=TaxCode.EXEMPT)
    sell_by_weight: Mapped[bool] = mapped_column(default=False)
    het: Mapped[int | None] = mapped_column(sa.BigInteger)  # harga eceran tertinggi: no price may exceed it
    reorder_point: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    # what the product holds in every location but karantina: a summary of its stock levels, kept by
    # inventory.stock.move in the same transaction (the reorder count reads it; `stock check` recomputes it)
    shelf_quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0), server_default="0")
    active: Mapped[bool] = mapped_column(default=True)
    tracks_batches: Mapped[bool] = mapped_column(default=False)
    drug_class: Mapped[DrugClass | None] = mapped_column(enum_column(DrugClass, "drug_class"))
    nie: Mapped[str | None] = mapped_column(sa.String(15))
    owa: Mapped[bool] = mapped_column(default=False)
    precursor: Mapped[bool] = mapped_column(default=False)
    cold_chain: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship()
    unit: Mapped[BusinessUnit] = relationship()
    units: Mapped[list[ProductUnit]] = relationship(back_populates="product", order_by="ProductUnit.factor")
    barcodes: Mapped[list[Barcode]] = relationship(back_populates="product", order_by="Barcode.id")

    __table_args__ = (
        sa.CheckConstraint("public_price >= 0 AND member_price >= 0", name="prices_positive"),
        sa.CheckConstraint(
            "het IS NULL OR (public_price <= het AND member_price <= het "
            "AND (wholesale_price IS NULL OR wholesale_price <= het))", name="het"
        ),
        sa.CheckConstraint("drug_class IS NULL OR tracks_batches", name="medicine_batches"),
        sa.CheckConstraint("reorder_point >= 0", name="reorder_point"),
        # the reorder count from the index alone: active products with a reorder point against what they hold
        sa.Index("ix_product_reorder", "active", "reorder_point", "shelf_quantity"),
    )

    @property
    def is_medicine(self) -> bool:
        return self.drug_class is not None


class ProductUnit(Base):
    """A way the product is counted: the base unit (factor 1) or a pack of it (karung 25 kg, dus 40, box 10)."""

    __tablename__ = "product_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    factor: Mapped[Decimal] = mapped_column(QTY)
    price: Mapped[int | None] = mapped_column(sa.BigInteger)
    member_price: Mapped[int | None] = mapped_column(sa.BigInteger)

    product: Mapped[Product] = relationship(back_populates="units")

    __table_args__ = (
        sa.UniqueConstraint("product_id", "name", name="uq_product_unit_name"),
        sa.CheckConstraint("factor > 0", name="factor"),
    )


class Barcode(Base):
    __tablename__ = "barcode"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    product_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("product_unit.id"))
    instore: Mapped[bool] = mapped_column(default=False)

    product: Mapped[Product] = relationship(back_populates="barcodes")
    product_unit: Mapped[ProductUnit] = relationship()


class PriceChange(Base):
    __tablename__ = "price_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    field: Mapped[str] = mapped_column(sa.String(40))
    old: Mapped[int | None] = mapped_column(sa.BigInteger)
    new: Mapped[int | None] = mapped_column(sa.BigInteger)
    changed_by: Mapped[str] = mapped_column(sa.String(40))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Supplier(Base):
    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(250), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    npwp: Mapped[str] = mapped_column(sa.String(25), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Location(Base):
    __tablename__ = "stock_location"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlet.id"), index=True)
    kind: Mapped[LocationKind] = mapped_column(enum_column(LocationKind, "location_kind"))

    outlet: Mapped[Outlet] = relationship()


class Batch(Base):
    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    lot: Mapped[str] = mapped_column(sa.String(20))
    expiry_date: Mapped[dt.date | None] = mapped_column(sa.Date, index=True)
    received_date: Mapped[dt.date] = mapped_column(sa.Date)
    unit_cost: Mapped[Decimal] = mapped_column(COST)
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supplier.id"))

    product: Mapped[Product] = relationship()
    supplier: Mapped[Supplier | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("product_id", "lot", name="uq_batch_product_lot"),
        sa.CheckConstraint("unit_cost >= 0", name="cost"),
    )


class StockMove(Base):
    """An immutable record of stock moving, in base units; from or to nothing means in from or out to the world."""

    __tablename__ = "stock_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    from_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_location.id"))
    to_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_location.id"))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    kind: Mapped[MoveKind] = mapped_column(enum_column(MoveKind, "move_kind"))
    unit_cost: Mapped[Decimal] = mapped_column(COST)
    source_type: Mapped[str] = mapped_column(sa.String(40))
    source_id: Mapped[str] = mapped_column(sa.String(80))
    reason: Mapped[str] = mapped_column(sa.String(250), default="")
    user_name: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    product: Mapped[Product] = relationship()
    batch: Mapped[Batch | None] = relationship()
    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.CheckConstraint("from_location_id IS NOT NULL OR to_location_id IS NOT NULL", name="somewhere"),
        sa.CheckConstraint("from_location_id IS NULL OR to_location_id IS NULL OR from_location_id != to_location_id",
                           name="moves"),
        sa.Index("ix_stock_move_source", "source_type", "source_id"),
    )


class StockLevel(Base):
    """On hand per product, batch and location, kept in the same transaction as the moves."""

    __tablename__ = "stock_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch.id"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_location.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))

    product: Mapped[Product] = relationship()
    batch: Mapped[Batch | None] = relationship()
    location: Mapped[Location] = relationship()

    __table_args__ = (
        # One row per product, batch (or none) and location; NULL batches would not collide in a plain UNIQUE.
        sa.Index("uq_stock_level", "product_id", "location_id", sa.text("coalesce(batch_id, 0)"), unique=True),
        sa.CheckConstraint("batch_id IS NULL OR quantity >= 0", name="batch_not_negative"),
    )


class StockDocument(Base):
    """A goods receipt, transfer, count, write-off or supplier return: numbered, with its lines in stock_move."""

    __tablename__ = "stock_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    from_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_location.id"))
    to_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stock_location.id"))
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supplier.id"))
    invoice_number: Mapped[str | None] = mapped_column(sa.String(40))
    payment: Mapped[str | None] = mapped_column(sa.String(10))
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reason: Mapped[str] = mapped_column(sa.String(250), default="")
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id"))
    created_by: Mapped[str] = mapped_column(sa.String(40))
    approved_by: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])
    supplier: Mapped[Supplier | None] = relationship()
    lines: Mapped[list[StockDocumentLine]] = relationship(back_populates="document", order_by="StockDocumentLine.id")

    __table_args__ = (
        # A supplier's invoice is received once.
        sa.UniqueConstraint("supplier_id", "invoice_number", name="uq_stock_document_invoice"),
        sa.CheckConstraint("kind IN ('receipt', 'transfer', 'count', 'write_off', 'supplier_return')", name="kind"),
    )


class StockDocumentLine(Base):
    """What a document asks for (before it moves stock): for counts, the expected and the counted quantity."""

    __tablename__ = "stock_document_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_document.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch.id"))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    expected: Mapped[Decimal | None] = mapped_column(QTY)
    counted: Mapped[Decimal | None] = mapped_column(QTY)
    unit_cost: Mapped[Decimal] = mapped_column(COST, default=Decimal(0))
    entered_unit: Mapped[str] = mapped_column(sa.String(40), default="")
    entered_quantity: Mapped[Decimal | None] = mapped_column(QTY)
    reason: Mapped[str] = mapped_column(sa.String(250), default="")

    document: Mapped[StockDocument] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    batch: Mapped[Batch | None] = relationship()


class ProductWord(Base):
    """Each lower-case word of a product's name, so search-as-you-type is an index range scan, not a table scan."""

    __tablename__ = "product_word"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(60), primary_key=True)

    __table_args__ = (sa.Index("ix_product_word_word", "word", "product_id"),)


class ProductCost(Base):
    """Moving average cost per base unit of a product in one business unit: each unit keeps its own books, so a
    receipt in the shop never re-prices the warehouse's stock."""

    __tablename__ = "product_cost"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("business_unit.id"), primary_key=True)
    average_cost: Mapped[Decimal] = mapped_column(COST, default=Decimal(0))

    __table_args__ = (sa.CheckConstraint("average_cost >= 0", name="cost"),)
