"""Lookup benchmark: how fast the till turns a scanned code (or typed letters) into a product, on SQLite.

    .venv/bin/python -m bench.lookup [--products 100000] [--barcodes 300000] [--lookups 5000] [--seed 1]
                                     [--searches N] [--max-seconds 900] [--write-doc]

Builds a throw-away SQLite database in a temporary directory through the app itself (migrations, demo cooperative,
chart, locations, categories), bulk-loads a synthetic catalog with SQLAlchemy Core, then measures in one process:
the bare SQL of a barcode lookup (the floor), `inventory.lookup.resolve`, `inventory.catalog.search`, and the HTTP
endpoints through Flask's test client. Everything is local; nothing listens on a port. Figures are printed as a
markdown table, with ratios to the floor measured in the same run; `--write-doc` puts them in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
DOC_START = "<!-- bench:lookup:start -->"
DOC_END = "<!-- bench:lookup:end -->"
TARGET_P99_MS = 5.0
BATCH_ROWS = 10_000
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

# --- a synthetic Indonesian catalog ------------------------------------------------------------------------------

SYLLABLES = ("sari", "maju", "jaya", "mulia", "indo", "agung", "sinar", "bintang", "cahaya", "mas", "raja", "ratu",
             "putri", "sehat", "segar", "alam", "nusa", "bumi", "tunas", "harapan", "makmur", "sentosa", "abadi",
             "berkah", "mitra", "prima", "kencana", "kurnia", "lestari", "rejeki")
BRANDS = tuple((a + b).capitalize() for a in SYLLABLES for b in SYLLABLES if a != b)
FLAVOURS = ("Ayam Bawang", "Soto", "Kari Ayam", "Rendang", "Sambal Matah", "Ayam Geprek", "Original", "Pedas",
            "Jagung Bakar", "Keju", "Cokelat", "Stroberi", "Vanila", "Melon", "Jeruk", "Kopi Susu", "Teh Melati")
DRUGS = ("Paracetamol", "Amoxicillin", "Ibuprofen", "Antasida Doen", "Cetirizine", "Loratadine", "Omeprazole",
         "Asam Mefenamat", "Metformin", "Amlodipine", "Simvastatin", "Dexamethasone", "Ambroxol", "Guaifenesin",
         "Chlorpheniramine", "Ranitidine", "Captopril", "Ciprofloxacin", "Cefadroxil", "Domperidone", "Loperamide",
         "Salbutamol", "Methylprednisolone", "Allopurinol", "Glibenclamide", "Piroxicam", "Natrium Diklofenak")
VITAMINS = ("Vitamin C", "Vitamin B Kompleks", "Vitamin D3", "Vitamin E", "Zinc", "Kalsium", "Minyak Ikan Omega 3",
            "Multivitamin Anak", "Tablet Tambah Darah", "Madu Herbal")


@dataclass(frozen=True)
class Group:
    category: str
    share: int  # per mille of the catalog
    base_unit: str
    packs: tuple[tuple[str, int], ...]  # pack name, factor in base units
    heads: tuple[str, ...]
    variants: tuple[str, ...]
    sizes: tuple[str, ...]
    price: tuple[int, int]  # public price range per base unit, rupiah
    tax: str = "standard"
    drug_class: str | None = None
    batches: bool = False
    by_weight: bool = False


GROUPS = (
    Group("MIE", 100, "pcs", (("dus 40", 40), ("pak 5", 5)), ("Mie Goreng", "Mie Instan", "Mie Kuah", "Bihun", "Soun"),
          FLAVOURS, ("70 g", "75 g", "85 g", "90 g", "120 g"), (2500, 6000)),
    Group("MINUMAN", 140, "botol", (("dus 24", 24), ("pak 6", 6)),
          ("Air Mineral", "Teh Botol", "Kopi", "Minuman Isotonik", "Sirup", "Jus", "Minuman Sari Kacang Hijau"),
          FLAVOURS, ("250 ml", "330 ml", "600 ml", "1,5 L", "460 ml"), (3000, 25000)),
    Group("RUMAH", 160, "pcs", (("dus 12", 12), ("pak 3", 3)),
          ("Sabun Mandi", "Sabun Cuci Piring", "Deterjen", "Pasta Gigi", "Sikat Gigi", "Sampo", "Pewangi Pakaian",
           "Tisu", "Pembersih Lantai", "Obat Nyamuk", "Korek Api", "Lilin", "Baterai"),
          ("Lemon", "Jeruk Nipis", "Lavender", "Mawar", "Anti Kuman", "Extra", "Sensitif", "Keluarga", "Refill"),
          ("75 g", "150 ml", "400 ml", "800 g", "1 kg", "isi 2", "isi 4"), (2000, 45000)),
    Group("BUMBU", 100, "pcs", (("dus 24", 24), ("renteng 10", 10)),
          ("Kecap Manis", "Saus Sambal", "Saus Tomat", "Garam", "Penyedap Rasa", "Bumbu Nasi Goreng", "Terasi",
           "Merica Bubuk", "Ketumbar", "Santan", "Kaldu Ayam", "Bumbu Rendang", "Bumbu Soto"),
          ("Asli", "Pedas", "Manis", "Sachet", "Botol", "Ekstra"), ("8 g", "20 g", "135 ml", "275 ml", "250 g"),
          (500, 20000)),
    Group("SUSU", 80, "pcs", (("dus 48", 48), ("pak 4", 4)),
          ("Susu Kental Manis", "Susu UHT", "Susu Bubuk", "Susu Formula", "Yoghurt", "Keju Cheddar"),
          ("Cokelat", "Vanila", "Stroberi", "Full Cream", "Rendah Lemak", "Original"),
          ("190 ml", "370 g", "400 g", "800 g", "1 L", "125 ml"), (4000, 120000)),
    Group("BERAS", 40, "kg", (("karung 25 kg", 25), ("karung 5 kg", 5)), ("Beras",),
          ("Pandan Wangi", "Rojolele", "Setra Ramos", "IR64", "Cianjur", "Mentik Susu", "Merah", "Ketan Putih",
           "Premium", "Medium", "SPHP"), ("Kemasan",), (11000, 18000), tax="exempt"),
    Group("GULA", 30, "kg", (("karung 50 kg", 50), ("bal 20 kg", 20)), ("Gula Pasir", "Gula Merah", "Gula Aren"),
          ("Kristal Putih", "Premium", "Lokal", "Tebu"), ("Kemasan",), (15000, 22000), tax="exempt"),
    Group("MINYAK", 30, "liter", (("dus 12 liter", 12), ("jeriken 18 liter", 18)), ("Minyak Goreng",),
          ("Sawit", "Kelapa", "Jagung", "Kita", "Premium"), ("Pouch", "Botol"), (14000, 30000)),
    Group("TEPUNG", 30, "kg", (("karung 25 kg", 25), ("bal 10 kg", 10)),
          ("Tepung Terigu", "Tepung Beras", "Tepung Tapioka", "Tepung Maizena", "Tepung Bumbu"),
          ("Protein Tinggi", "Serbaguna", "Protein Sedang", "Crispy"), ("Kemasan",), (9000, 20000)),
    Group("TELUR", 10, "pcs", (("tray 30", 30), ("pak 10", 10)), ("Telur Ayam", "Telur Bebek", "Telur Puyuh"),
          ("Ras", "Kampung", "Omega"), ("Segar",), (1800, 3500), tax="exempt"),
    Group("SEGAR", 40, "kg", (("peti 10 kg", 10), ("ikat 5 kg", 5)),
          ("Tomat", "Cabai Rawit", "Cabai Merah", "Bawang Merah", "Bawang Putih", "Kentang", "Wortel", "Jeruk",
           "Apel", "Pisang", "Kangkung", "Bayam", "Ikan Patin", "Daging Sapi", "Ayam Potong"),
          ("Lokal", "Super", "Curah", "Pilihan", "Kalimantan", "Jawa"), ("Timbang",), (8000, 140000),
          tax="exempt", by_weight=True),
    Group("OBAT-BEBAS", 50, "tablet", (("strip 10", 10), ("box 100", 100)), DRUGS,
          ("Tablet", "Kaplet", "Sirup", "Forte"), ("500 mg", "250 mg", "60 ml", "100 mg"), (300, 3000),
          tax="exempt", drug_class="bebas", batches=True),
    Group("OBAT-TERBATAS", 30, "tablet", (("strip 10", 10), ("box 100", 100)), DRUGS,
          ("Tablet", "Kaplet", "Sirup"), ("4 mg", "15 mg", "30 mg", "60 ml"), (400, 4000),
          tax="exempt", drug_class="bebas_terbatas", batches=True),
    Group("OBAT-KERAS", 40, "kapsul", (("strip 10", 10), ("box 100", 100)), DRUGS,
          ("Kapsul", "Tablet", "Generik"), ("500 mg", "250 mg", "10 mg", "5 mg"), (500, 8000),
          tax="exempt", drug_class="keras", batches=True),
    Group("VITAMIN", 50, "tablet", (("botol 30", 30), ("strip 10", 10)), VITAMINS,
          ("Anak", "Dewasa", "Effervescent", "Kunyah", "Plus"), ("500 mg", "1000 mg", "isi 30"), (500, 6000),
          batches=True),
    Group("ALKES", 50, "pcs", (("box 50", 50), ("pak 10", 10)),
          ("Masker Medis", "Kasa Steril", "Plester", "Termometer Digital", "Kapas", "Sarung Tangan Lateks",
           "Alkohol Swab", "Minyak Kayu Putih", "Balsem"), ("Dewasa", "Anak", "Ekstra", "Hijau"),
          ("isi 10", "isi 50", "60 ml", "10 g"), (1000, 60000)),
)
CLASS_LETTER = {"bebas": "B", "bebas_terbatas": "T", "keras": "K"}


@dataclass
class Item:
    """What the bench keeps of each product it inserted (the rows themselves are not kept in memory)."""

    id: int
    sku: str
    name: str
    base_unit_id: int
    pack_unit_id: int
    active: bool
    by_weight: bool
    batches: bool


@dataclass(frozen=True)
class Planned:
    kind: str  # ean13, upc_ean8, scale, sku, unknown
    code: str  # what is scanned or typed
    stored: str  # what the bare SQL floor looks for: the stored form of the code
    product_id: int | None  # expected product; None when NotFound is expected
    unit_id: int | None


@dataclass
class Catalog:
    items: list[Item] = field(default_factory=list)
    ean13: list[tuple[str, int, int]] = field(default_factory=list)  # code, product id, unit id (active only)
    short: list[tuple[str, int, int]] = field(default_factory=list)  # UPC-A and EAN-8
    scale: list[tuple[str, int, int, str]] = field(default_factory=list)  # base code, product, unit, rule kind
    unknown: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    rows: Counter = field(default_factory=Counter)


# --- helpers -----------------------------------------------------------------------------------------------------


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def stats(values_ns: list[int]) -> dict[str, float]:
    ms = sorted(v / 1e6 for v in values_ns)
    return {"n": len(ms), "p50": percentile(ms, 0.50), "p95": percentile(ms, 0.95), "p99": percentile(ms, 0.99),
            "max": ms[-1] if ms else float("nan")}


def with_check(digits: str) -> str:
    from inventory.barcodes import gs1_check_digit

    return digits + str(gs1_check_digit(digits))


# --- building the database ---------------------------------------------------------------------------------------


def build_app(tmpdir: str, database_url: str | None = None):
    """The app on a fresh schema (migrations), with the demo cooperative, its chart, locations and categories.
    `database_url` defaults to a SQLite file in `tmpdir` (also the app's instance folder)."""
    from flask_migrate import upgrade

    from inventory.setup import ensure_categories, ensure_locations
    from ledger.accounts import seed_chart
    from pos.app import create_app
    from pos.db import write_transaction
    from pos.demo import load_demo

    app = create_app({"INSTANCE_PATH": tmpdir, "database_url": database_url or f"sqlite:///{tmpdir}/bench.db",
                      "password_hash_method": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        load_demo(books=False)
        with write_transaction():
            seed_chart()
            ensure_locations()
            ensure_categories()
    return app


def _next_id(conn, table: sa.Table) -> int:
    return (conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1


def _insert(conn, table: sa.Table, rows: list[dict], catalog: Catalog) -> None:
    for start in range(0, len(rows), BATCH_ROWS):
        conn.execute(sa.insert(table), rows[start:start + BATCH_ROWS])
    catalog.rows[table.name] += len(rows)


def _allot(n: int) -> list[Group]:
    """The group of each of `n` products, in proportion to the shares, shuffled later by the caller's RNG."""
    total = sum(g.share for g in GROUPS)
    allotted: list[Group] = []
    for group in GROUPS:
        allotted += [group] * round(n * group.share / total)
    while len(allotted) < n:
        allotted.append(GROUPS[0])
    return allotted[:n]


def load_catalog(app, products: int, barcodes_wanted: int, rng: random.Random, started: float) -> Catalog:
    """Bulk-insert products, units, search words, barcodes, batches and stock levels in one write transaction."""
    from inventory.barcodes import DEFAULT_RULES
    from inventory.catalog import words
    from inventory.models import (
        Barcode,
        Batch,
        Category,
        DrugClass,
        Location,
        LocationKind,
        Product,
        ProductUnit,
        ProductWord,
        StockLevel,
        TaxCode,
    )
    from pos.db import db, utcnow, write_transaction
    from pos.models import BusinessUnit, UnitKind

    weight_rule, price_rule = DEFAULT_RULES
    catalog = Catalog()
    today = dt.date.today()
    with app.app_context(), write_transaction():
        conn = db.session.connection()
        categories = dict(db.session.execute(sa.select(Category.code, Category.id)).all())
        units = {kind: uid for uid, kind in db.session.execute(sa.select(BusinessUnit.id, BusinessUnit.kind))}
        locations = {kind: lid for lid, kind in db.session.execute(
            sa.select(Location.id, Location.kind).order_by(Location.id.desc()))}
        toko, apotek, gudang = (locations[LocationKind.TOKO], locations[LocationKind.APOTEK],
                                locations[LocationKind.GUDANG])
        product_id = _next_id(conn, Product.__table__)
        unit_id = _next_id(conn, ProductUnit.__table__)
        batch_id = _next_id(conn, Batch.__table__)
        now = utcnow()

        groups = _allot(products)
        rng.shuffle(groups)
        weight_refs = iter(rng.sample(range(100_000), min(products, 100_000)))
        price_refs = iter(rng.sample(range(100_000), min(products, 100_000)))
        scale_codes: list[tuple[str, int, int, str]] = []
        for chunk in range(0, products, BATCH_ROWS):
            product_rows, unit_rows, word_rows, batch_rows, level_rows = [], [], [], [], []
            for group in groups[chunk:chunk + BATCH_ROWS]:
                pid, base_id, pack_id = product_id, unit_id, unit_id + 1
                product_id += 1
                unit_id += 2
                head, variant, size = rng.choice(group.heads), rng.choice(group.variants), rng.choice(group.sizes)
                name = f"{head} {rng.choice(BRANDS)} {variant} {size}"[:160]
                sku = f"{group.category[:3]}-{pid:06d}"
                price = rng.randrange(group.price[0], group.price[1] + 1, 100) or 100
                member = price - price // 20 // 100 * 100
                wholesale = member - member // 10 // 100 * 100 if rng.random() < 0.2 else None
                active = rng.random() >= 0.01
                drug_class = DrugClass(group.drug_class) if group.drug_class else None
                nie = f"D{CLASS_LETTER[group.drug_class]}L{rng.randrange(10**12):012d}" if group.drug_class else None
                product_rows.append({
                    "id": pid, "sku": sku, "name": name, "category_id": categories[group.category],
                    "unit_id": units[UnitKind.APOTEK if group.batches or group.category == "ALKES" else UnitKind.TOKO],
                    "base_unit": group.base_unit, "public_price": price, "member_price": member,
                    "wholesale_price": wholesale, "wholesale_min_qty": Decimal(10) if wholesale else None,
                    "tax_code": TaxCode(group.tax), "sell_by_weight": group.by_weight,
                    "het": price + price // 10 if group.category in ("BERAS", "GULA", "MINYAK") else None,
                    "reorder_point": Decimal(rng.randrange(0, 50)), "active": active,
                    "tracks_batches": group.batches, "average_cost": Decimal(price * 8 // 10),
                    "drug_class": drug_class, "nie": nie, "owa": False, "precursor": False,
                    "cold_chain": False, "created_at": now,
                })
                pack_name, factor = rng.choice(group.packs)
                unit_rows.append({"id": base_id, "product_id": pid, "name": group.base_unit, "factor": Decimal(1),
                                  "price": None, "member_price": None})
                own_price = price * factor * 95 // 100 // 100 * 100 if rng.random() < 0.5 else None
                unit_rows.append({"id": pack_id, "product_id": pid, "name": pack_name, "factor": Decimal(factor),
                                  "price": own_price, "member_price": None})
                word_rows += [{"product_id": pid, "word": word} for word in sorted(words(name))]
                catalog.items.append(Item(pid, sku, name, base_id, pack_id, active, group.by_weight, group.batches))
                if group.by_weight:
                    rule = price_rule if rng.random() < 0.25 else weight_rule
                    ref = next(price_refs if rule is price_rule else weight_refs)
                    base_code = with_check(f"{rule.prefix}{ref:05d}00000")
                    scale_codes.append((base_code, pid, base_id, rule.kind))
                if group.batches:
                    for lot in range(rng.randint(1, 4)):
                        expiry = today + dt.timedelta(days=rng.randint(-60, 900))
                        batch_rows.append({"id": batch_id, "product_id": pid, "lot": f"L{pid % 997:03d}{lot}",
                                           "expiry_date": expiry, "received_date": today - dt.timedelta(days=90),
                                           "unit_cost": Decimal(price * 8 // 10), "supplier_id": None})
                        for location in (apotek, gudang)[:rng.randint(1, 2)]:
                            level_rows.append({"product_id": pid, "batch_id": batch_id, "location_id": location,
                                               "quantity": Decimal(rng.randint(0, 500))})
                        batch_id += 1
                else:
                    for location in (toko, gudang):
                        level_rows.append({"product_id": pid, "batch_id": None, "location_id": location,
                                           "quantity": Decimal(rng.randint(-5, 400))})
            _insert(conn, Product.__table__, product_rows, catalog)
            _insert(conn, ProductUnit.__table__, unit_rows, catalog)
            _insert(conn, ProductWord.__table__, word_rows, catalog)
            _insert(conn, Batch.__table__, batch_rows, catalog)
            _insert(conn, StockLevel.__table__, level_rows, catalog)
            done = min(chunk + BATCH_ROWS, products)
            if done == products or (done // BATCH_ROWS) % 2 == 0:
                log(f"products {done:,}/{products:,}", started)

        # Barcodes: one per product first (scale items get their variable-measure base code), then the rest as
        # extra EAN-13s on the base unit or the pack, UPC-As and EAN-8s, on products not sold by weight.
        plain = [item for item in catalog.items if not item.by_weight]
        scale_by_product = {pid: (code, uid, kind) for code, pid, uid, kind in scale_codes}
        first = catalog.items[:barcodes_wanted]
        extra = max(barcodes_wanted - len(first), 0)
        kinds = [rng.choices(("ean13", "upc", "ean8"), weights=(80, 10, 10))[0] for _ in range(extra)] if plain \
            else []
        n_ean13 = sum(1 for item in first if not item.by_weight) + kinds.count("ean13")
        unknown_count = max(50, barcodes_wanted // 20)
        ean13_numbers = rng.sample(range(10**9), n_ean13 + unknown_count)
        upc_numbers = iter(rng.sample(range(10**10), kinds.count("upc")))
        ean8_numbers = iter(rng.sample(range(10**6, 10**7), kinds.count("ean8")))
        catalog.unknown = [with_check(f"899{n:09d}") for n in ean13_numbers[n_ean13:]]
        ean13_iter = iter(ean13_numbers[:n_ean13])
        barcode_id = _next_id(conn, Barcode.__table__)
        rows: list[dict] = []

        def add(code: str, item: Item, unit: int, kind: str, instore: bool = False) -> None:
            nonlocal barcode_id
            rows.append({"id": barcode_id, "code": code, "product_id": item.id, "product_unit_id": unit,
                         "instore": instore})
            barcode_id += 1
            catalog.counts[kind] += 1
            if item.active:
                if kind == "ean13":
                    catalog.ean13.append((code, item.id, unit))
                elif kind in ("upc", "ean8"):
                    catalog.short.append((code, item.id, unit))
            if len(rows) >= BATCH_ROWS:
                _insert(conn, Barcode.__table__, rows, catalog)
                rows.clear()
                if catalog.rows["barcode"] % (BATCH_ROWS * 5) == 0:
                    log(f"barcodes {catalog.rows['barcode']:,}/{barcodes_wanted:,}", started)

        for item in first:
            if item.by_weight:
                code, unit, kind = scale_by_product[item.id]
                add(code, item, unit, f"scale_{kind}", instore=True)
                if item.active:
                    catalog.scale.append((code, item.id, unit, kind))
            else:
                unit = item.base_unit_id if rng.random() < 0.85 else item.pack_unit_id
                add(with_check(f"899{next(ean13_iter):09d}"), item, unit, "ean13")
        for kind in kinds:
            item = rng.choice(plain)
            unit = item.pack_unit_id if rng.random() < 0.45 else item.base_unit_id
            if kind == "ean13":
                code = with_check(f"899{next(ean13_iter):09d}")
            elif kind == "upc":
                # UPC-A number systems 1-9 only: a leading 0000 would make it the same GTIN as an EAN-8.
                code = with_check(f"{rng.choice('1678')}{next(upc_numbers):010d}")
            else:
                code = with_check(f"{next(ean8_numbers):07d}")
            add(code, item, unit, kind)
        if rows:
            _insert(conn, Barcode.__table__, rows, catalog)
    return catalog


# --- what to look up ---------------------------------------------------------------------------------------------


def plan_lookups(catalog: Catalog, n: int, rng: random.Random) -> list[Planned]:
    from inventory.barcodes import DEFAULT_RULES, encode_variable_measure

    rules = {rule.kind: rule for rule in DEFAULT_RULES}
    active = [item for item in catalog.items if item.active]
    plan: list[Planned] = []
    for _ in range(n):
        draw = rng.random()
        if draw < 0.10 and catalog.short:
            code, pid, uid = rng.choice(catalog.short)
            plan.append(Planned("upc_ean8", code, code, pid, uid))
        elif draw < 0.20 and catalog.scale:
            base, pid, uid, kind = rng.choice(catalog.scale)
            value = Decimal(rng.randint(50, 9999)).scaleb(-3) if kind == "weight" else rng.randint(1000, 99_999)
            plan.append(Planned("scale", encode_variable_measure(base, value, rules[kind]), base, pid, uid))
        elif draw < 0.25 and active:
            item = rng.choice(active)
            sku = item.sku.lower() if rng.random() < 0.3 else item.sku
            plan.append(Planned("sku", sku, sku, item.id, item.base_unit_id))
        elif draw < 0.30 and catalog.unknown:
            code = rng.choice(catalog.unknown)
            plan.append(Planned("unknown", code, code, None, None))
        else:
            code, pid, uid = rng.choice(catalog.ean13)
            plan.append(Planned("ean13", code, code, pid, uid))
    return plan


def plan_searches(catalog: Catalog, n: int, rng: random.Random) -> list[str]:
    from inventory.catalog import WORD_RE

    active = [item for item in catalog.items if item.active]
    queries: list[str] = []
    while len(queries) < n and active:
        name_words = list(dict.fromkeys(WORD_RE.findall(rng.choice(active).name.lower())))
        count = min(rng.choice((1, 2)), len(name_words))
        start = rng.randrange(len(name_words) - count + 1)
        typed = name_words[start:start + count]
        if count == 1 and len(typed[0]) < 2:
            continue
        last = typed[-1]
        typed[-1] = last[:rng.randint(min(2, len(last)), len(last))]
        queries.append(" ".join(typed))
    return queries


# --- measuring ---------------------------------------------------------------------------------------------------


@dataclass
class Results:
    floor: list[int] = field(default_factory=list)
    floor_checkout: list[int] = field(default_factory=list)
    resolve: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    search: list[int] = field(default_factory=list)
    http_lookup: list[int] = field(default_factory=list)
    http_search: list[int] = field(default_factory=list)
    correct: Counter = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    batch_branch: int = 0
    batch_times: list[int] = field(default_factory=list)  # resolve calls whose product tracks batches
    other_times: list[int] = field(default_factory=list)  # the other resolve calls, NotFound included
    search_hits: list[int] = field(default_factory=list)
    queries: dict[str, float] = field(default_factory=dict)
    plans: list[tuple[str, list[str]]] = field(default_factory=list)
    stopped_early: str = ""


def sign_in(client) -> None:
    page = client.get("/login", follow_redirects=True)
    token = CSRF_RE.search(page.text)
    if token is None:
        raise SystemExit("the login page carries no CSRF token")
    response = client.post("/login", data={"username": "kasir", "password": "demo123", "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise SystemExit(f"signing in as kasir failed: HTTP {response.status_code}")


def check(result: Results, planned: Planned, answer: dict | None) -> None:
    if planned.product_id is None:
        if answer is None:
            result.correct["unknown"] += 1
        else:
            result.wrong.append(f"{planned.kind} {planned.code}: found product {answer['product']['id']}")
        return
    if answer is None:
        result.wrong.append(f"{planned.kind} {planned.code}: not found, expected product {planned.product_id}")
    elif answer["product"]["id"] != planned.product_id or answer["unit"]["id"] != planned.unit_id:
        result.wrong.append(f"{planned.kind} {planned.code}: got {answer['product']['id']}/{answer['unit']['id']}, "
                            f"expected {planned.product_id}/{planned.unit_id}")
    else:
        result.correct["known"] += 1
        if answer["batches"]:
            result.batch_branch += 1


def measure(app, plan: list[Planned], searches: list[str], deadline: float, started: float) -> Results:
    from inventory import catalog as catalog_service
    from inventory import lookup
    from pos.db import db
    from pos.errors import NotFound

    result = Results()
    today = dt.date.today()
    floor_sql = "SELECT product_id, product_unit_id FROM barcode WHERE code = ?"
    client = app.test_client()
    sign_in(client)
    with app.app_context():
        engine = db.engine
    floor_conn = engine.connect()
    perf = time.perf_counter_ns
    try:
        # Warm-up: compiled-statement caches, the first pool connections, the pages of the indexes' upper levels.
        for planned in plan[:min(200, len(plan))]:
            floor_conn.exec_driver_sql(floor_sql, (planned.stored,)).first()
            with app.app_context():
                try:
                    lookup.resolve(planned.code, today)
                except NotFound:
                    pass
        for query in searches[:min(50, len(searches))]:
            with app.app_context():
                catalog_service.search(query)

        step = max(len(plan) // 10, 1)
        for index, planned in enumerate(plan):
            if time.perf_counter() > deadline:
                result.stopped_early = f"time budget reached after {index:,} of {len(plan):,} lookups"
                break
            t0 = perf()
            floor_conn.exec_driver_sql(floor_sql, (planned.stored,)).first()
            result.floor.append(perf() - t0)
            if index % 10 == 5:
                t0 = perf()
                with engine.connect() as conn:
                    conn.exec_driver_sql(floor_sql, (planned.stored,)).first()
                result.floor_checkout.append(perf() - t0)
            with app.app_context():  # a fresh db.session, removed at teardown, as in a request
                answer = None
                t0 = perf()
                try:
                    answer = lookup.resolve(planned.code, today)
                except NotFound:
                    pass
                elapsed = perf() - t0
            result.resolve[planned.kind].append(elapsed)
            if answer is not None and answer["product"]["tracks_batches"]:
                result.batch_times.append(elapsed)
            else:
                result.other_times.append(elapsed)
            check(result, planned, answer)
            if index % 10 == 0:  # the web path, outside any app context of ours (a shared one would leak `g`)
                t0 = perf()
                response = client.get("/api/v1/products/lookup", query_string={"code": planned.code})
                result.http_lookup.append(perf() - t0)
                expected = 404 if planned.product_id is None else 200
                if response.status_code != expected or (expected == 200 and
                                                        response.json["product"]["id"] != planned.product_id):
                    result.wrong.append(f"HTTP {planned.kind} {planned.code}: {response.status_code}")
            if (index + 1) % step == 0:
                log(f"lookups {index + 1:,}/{len(plan):,}", started)

        for index, query in enumerate(searches):
            if time.perf_counter() > deadline:
                result.stopped_early = result.stopped_early or \
                    f"time budget reached after {index:,} of {len(searches):,} searches"
                break
            with app.app_context():
                t0 = perf()
                found = catalog_service.search(query)
                result.search.append(perf() - t0)
                result.search_hits.append(len(found))
            if index % 10 == 0:
                t0 = perf()
                response = client.get("/api/v1/products/search", query_string={"q": query})
                result.http_search.append(perf() - t0)
                if response.status_code != 200:
                    result.wrong.append(f"HTTP search {query!r}: {response.status_code}")
        log(f"searches {len(result.search):,}/{len(searches):,}", started)
    finally:
        floor_conn.close()
    return result


def count_and_explain(app, catalog: Catalog, plan: list[Planned], searches: list[str], result: Results) -> None:
    """Statements per call, by kind (outside the timed loop), and SQLite's plan for each distinct statement."""
    from inventory import catalog as catalog_service
    from inventory import lookup
    from pos.db import db
    from pos.errors import NotFound

    today = dt.date.today()
    with app.app_context():
        engine = db.engine
    seen: dict[str, tuple] = {}
    executed: list[str] = []
    explaining = True

    def listener(_conn, _cursor, statement, parameters, _context, _many):
        verb = statement.lstrip()[:8].upper()
        if verb.startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOIN", "RELEASE")):
            return
        executed.append(statement)
        if explaining and verb.startswith(("SELECT", "WITH")):
            seen.setdefault(statement, parameters)

    calls: dict[str, list[Planned]] = defaultdict(list)
    for planned in plan:
        if len(calls[planned.kind]) < 20:
            calls[planned.kind].append(planned)
    client = app.test_client()
    sign_in(client)
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        for kind, sample in calls.items():
            executed.clear()
            for planned in sample:
                with app.app_context():
                    try:
                        lookup.resolve(planned.code, today)
                    except NotFound:
                        pass
            result.queries[f"resolve {kind}"] = len(executed) / len(sample)
        executed.clear()
        for planned in plan[:20]:
            with app.app_context():
                try:
                    lookup.resolve(planned.code, today)
                except NotFound:
                    pass
        result.queries["resolve"] = len(executed) / len(plan[:20])
        # The batch branch: barcodes of batch-tracked products, and the others, counted apart.
        for label, wanted in (("resolve batch-tracked", True), ("resolve no batches", False)):
            items = {item.id for item in catalog.items if item.batches is wanted and item.active and not item.by_weight}
            codes = list({pid: code for code, pid, _unit in catalog.ean13 if pid in items}.values())[:20]
            executed.clear()
            for code in codes:
                with app.app_context():
                    lookup.resolve(code, today)
            if codes:
                result.queries[label] = len(executed) / len(codes)
        executed.clear()
        sample = searches[:20]
        for query in sample:
            with app.app_context():
                catalog_service.search(query)
        if sample:
            result.queries["search"] = len(executed) / len(sample)
        # The web path: every statement a request runs (sign-in session, audit, the service), not explained.
        explaining = False
        executed.clear()
        for planned in plan[:20]:
            client.get("/api/v1/products/lookup", query_string={"code": planned.code})
        result.queries["http lookup"] = len(executed) / len(plan[:20])
        executed.clear()
        for query in sample:
            client.get("/api/v1/products/search", query_string={"q": query})
        if sample:
            result.queries["http search"] = len(executed) / len(sample)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    with engine.connect() as conn:
        for statement, parameters in seen.items():
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            result.plans.append((" ".join(statement.split()), [row[-1] for row in rows]))


# --- reporting ---------------------------------------------------------------------------------------------------


def machine() -> str:
    return (f"{platform.platform()}; {platform.machine()}; Python {platform.python_version()}; "
            f"SQLite {sqlite3.sqlite_version}; SQLAlchemy {sa.__version__}")


def table(result: Results) -> tuple[str, dict]:
    floor = stats(result.floor)
    all_resolve = stats([v for values in result.resolve.values() for v in values])
    rows = [("bare SQL: `SELECT … FROM barcode WHERE code = ?` (floor)", floor, None)]
    if result.floor_checkout:
        rows.append(("bare SQL with connection checkout, BEGIN, ROLLBACK", stats(result.floor_checkout), None))
    rows.append(("**`lookup.resolve`, all kinds**", all_resolve, result.queries.get("resolve")))
    labels = {"ean13": "EAN-13 (70 %)", "upc_ean8": "UPC-A / EAN-8 (10 %)", "scale": "scale label (10 %)",
              "sku": "SKU typed (5 %)", "unknown": "unknown code, NotFound (5 %)"}
    for kind, label in labels.items():
        if result.resolve.get(kind):
            rows.append((f"  resolve: {label}", stats(result.resolve[kind]), result.queries.get(f"resolve {kind}")))
    if result.batch_times:
        rows.append(("  resolve: of all, products tracking batches", stats(result.batch_times),
                     result.queries.get("resolve batch-tracked")))
        rows.append(("  resolve: of all, the other products and NotFound", stats(result.other_times),
                     result.queries.get("resolve no batches")))
    if result.search:
        rows.append(("`catalog.search`, 1-2 word prefixes", stats(result.search), result.queries.get("search")))
    if result.http_lookup:
        rows.append(("HTTP GET /api/v1/products/lookup (test client)", stats(result.http_lookup),
                     result.queries.get("http lookup")))
    if result.http_search:
        rows.append(("HTTP GET /api/v1/products/search (test client)", stats(result.http_search),
                     result.queries.get("http search")))
    lines = ["| operation | calls | SQL stmts | p50 ms | p95 ms | p99 ms | max ms | p50 / floor | p99 / floor |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, s, queries in rows:
        q = f"{queries:.1f}" if queries is not None else ("1" if "bare" in label else "")
        lines.append(f"| {label} | {s['n']:,} | {q} | {s['p50']:.3f} | {s['p95']:.3f} | {s['p99']:.3f} | "
                     f"{s['max']:.3f} | {s['p50'] / floor['p50']:.1f}x | {s['p99'] / floor['p99']:.1f}x |")
    return "\n".join(lines), {"floor": floor, "resolve": all_resolve}


def report(args, catalog: Catalog, result: Results, load_seconds: float, db_bytes: int) -> tuple[str, bool]:
    text, key = table(result)
    floor, resolve = key["floor"], key["resolve"]
    met = resolve["p99"] <= TARGET_P99_MS
    known = sum(len(values) for kind, values in result.resolve.items() if kind != "unknown")
    unknown = len(result.resolve.get("unknown", []))
    hits = sorted(result.search_hits)
    out = [
        f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}: `python -m bench.lookup --products {args.products} "
        f"--barcodes {args.barcodes} --lookups {args.lookups} --searches {args.searches} --seed {args.seed}`",
        "",
        f"- Machine: {machine()}; {_cpus()} CPUs.",
        f"- Data: {catalog.rows['product']:,} products, {catalog.rows['product_unit']:,} units, "
        f"{catalog.rows['product_word']:,} search words, {catalog.rows['barcode']:,} barcodes "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(catalog.counts.items()))}), {catalog.rows['batch']:,} batches, "
        f"{catalog.rows['stock_level']:,} stock levels; database file {db_bytes / 2**20:.0f} MiB.",
        f"- Bulk load (Core executemany, one transaction): {load_seconds:.1f} s.",
        "",
        text,
        "",
        f"- Target p99 <= {TARGET_P99_MS:g} ms for `lookup.resolve` on SQLite: "
        f"**{'met' if met else 'NOT met'}** (p99 {resolve['p99']:.3f} ms = {resolve['p99'] / floor['p99']:.1f}x the "
        f"bare SQL p99 of {floor['p99']:.3f} ms; p50 {resolve['p50']:.3f} ms = "
        f"{resolve['p50'] / floor['p50']:.1f}x the floor's p50).",
        f"- Correct answers: {result.correct['known']:,}/{known:,} known codes found their product and unit; "
        f"{result.correct['unknown']:,}/{unknown:,} unknown codes gave NotFound; {len(result.wrong)} wrong; "
        f"{result.batch_branch:,} answers listed batches.",
    ]
    if result.batch_times and result.other_times:
        batch, other = stats(result.batch_times), stats(result.other_times)
        out.append(
            f"- Split: the {batch['n']:,} calls for products that track batches have p99 {batch['p99']:.3f} ms "
            f"({batch['p99'] / floor['p99']:.1f}x the floor); the other {other['n']:,} calls p99 {other['p99']:.3f} ms "
            f"({other['p99'] / floor['p99']:.1f}x), which {'meets' if other['p99'] <= TARGET_P99_MS else 'misses'} "
            "the target on its own."
        )
    if hits:
        out.append(f"- Search results per query: median {percentile(hits, 0.5)}, "
                   f"{sum(1 for h in hits if h == 0)} queries with none, {sum(1 for h in hits if h >= 20)} at the "
                   "limit of 20.")
    if result.stopped_early:
        out.append(f"- Stopped early: {result.stopped_early}.")
    return "\n".join(out), met


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def plans_text(result: Results) -> str:
    lines = []
    for statement, plan in result.plans:
        flag = any(line.startswith("SCAN") and "COVERING INDEX" not in line or "AUTOMATIC" in line for line in plan)
        shown = statement if len(statement) <= 220 else statement[:217] + "..."
        lines.append(f"{'!! ' if flag else '   '}{shown}")
        lines += [f"      {line}" for line in plan]
    return "\n".join(lines)


def write_doc(section: str, plans: str) -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    if DOC_START not in text or DOC_END not in text:
        raise SystemExit(f"{DOC_PATH} has no {DOC_START} ... {DOC_END} section to update")
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    body = f"{section}\n\nSQLite's query plans for the statements these calls ran:\n\n```\n{plans}\n```\n"
    DOC_PATH.write_text(f"{head}{DOC_START}\n{body}{DOC_END}{tail}", encoding="utf-8")


# --- main --------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--barcodes", type=int, default=300_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=None, help="name searches (default: lookups / 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=900.0,
                        help="stop measuring after this long (from the start) and report what was measured")
    parser.add_argument("--write-doc", action="store_true", help=f"update the results section of {DOC_PATH.name}")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory with the database")
    args = parser.parse_args(argv)
    if args.products < 1 or args.barcodes < 1 or args.lookups < 1:
        parser.error("--products, --barcodes and --lookups must be at least 1")
    if args.searches is None:
        args.searches = max(args.lookups // 5, 10)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    deadline = started + args.max_seconds
    rng = random.Random(args.seed)
    print(f"Kasir Koperasi lookup benchmark: {machine()}; {_cpus()} CPUs", flush=True)
    tmpdir = tempfile.mkdtemp(prefix="kasir-bench-")
    app = None
    try:
        log(f"building the app and the schema in {tmpdir}", started)
        app = build_app(tmpdir)
        log("schema, demo cooperative, chart, locations and categories ready", started)
        t0 = time.perf_counter()
        catalog = load_catalog(app, args.products, args.barcodes, rng, started)
        load_seconds = time.perf_counter() - t0
        log(f"bulk load done in {load_seconds:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in catalog.rows.items()),
            started)
        from pos.db import db

        with app.app_context():
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.engine.dispose()
        db_bytes = (Path(tmpdir) / "bench.db").stat().st_size
        plan = plan_lookups(catalog, args.lookups, rng)
        searches = plan_searches(catalog, args.searches, rng)
        log(f"measuring {len(plan):,} lookups and {len(searches):,} searches", started)
        result = measure(app, plan, searches, deadline, started)
        count_and_explain(app, catalog, plan, searches, result)
        section, met = report(args, catalog, result, load_seconds, db_bytes)
        plans = plans_text(result)
        print()
        print(section)
        print()
        print("Query plans (!! marks a full scan or an automatic index):")
        print(plans)
        for line in result.wrong[:10]:
            print(f"WRONG: {line}")
        if args.write_doc:
            write_doc(section, plans)
            print(f"\nwrote the results into {DOC_PATH}")
        return 1 if result.wrong else 0
    finally:
        if app is not None:
            from pos.db import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if args.keep:
            print(f"kept {tmpdir}")
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
