"""The demo catalog and stock: about 200 sembako items and 150 medicines with EAN-13 codes under GS1 Indonesia's
prefix 899, packs, suppliers, batches (some expired, some near expiry), stock in the warehouse and on the shelves.

Every item in stock came in by a goods receipt and every item sold went out by a stock move, so the books' inventory
is what the receipts put in less the cost of what was sold, to the rupiah:
- before the tills, the ledger demo books monthly takings; `TakingsGoods` buys each month's goods on credit on the
  last day of the month before, onto the shop's or the pharmacy's shelf, and each takings entry takes its goods off
  the shelf at their cost (its HPP);
- a month before today the warehouse receives its stock and fills the shelves (`load_inventory_demo`), from which the
  tills sell the last 30 days (pos.sales.demo).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import sqlalchemy as sa

from inventory import barcodes, catalog, services, stock
from inventory.catalog import PackInput, ProductInput
from inventory.models import Batch, DrugClass, MoveKind, Product, StockDocument, Supplier
from inventory.setup import ensure_categories, ensure_locations
from pos.db import db

D = Decimal
SOURCE = "demo"
SUPPLIERS = (
    ("SPB", "CV Sumber Pangan Banjar", "Jl. Pasar Baru No. 5, Banjarmasin", "05113350000"),
    ("BLG", "Perum Bulog Kanwil Kalsel", "Jl. A. Yani Km 4,5, Banjarmasin", "05113252525"),
    ("IDG", "PT Indomarco Distribusi Banjarmasin", "Jl. Gubernur Soebarjo, Banjarmasin", "05113271000"),
    ("PBF", "PBF Kimia Farma Trading Banjarmasin", "Jl. Lambung Mangkurat No. 12, Banjarmasin", "05113361111"),
    ("APL", "PBF Anugerah Pharmindo Lestari", "Jl. Sutoyo S. No. 88, Banjarmasin", "05113362222"),
)
# name, category, base unit, price per base unit, tax, packs (name, factor), by weight, het
SEMBAKO = [
    ("Beras Siam Unus Banjar", "BERAS", "kg", 16_000, "exempt", (("karung 25 kg", 25), ("sak 5 kg", 5)), True, None),
    ("Beras Mayang Premium", "BERAS", "kg", 15_500, "exempt", (("karung 25 kg", 25),), True, None),
    ("Beras Medium SPHP Bulog", "BERAS", "kg", 12_500, "exempt", (("sak 5 kg", 5),), True, 12_500),
    ("Beras Pandan Wangi", "BERAS", "kg", 17_000, "exempt", (("sak 5 kg", 5),), True, None),
    ("Beras Ketan Putih", "BERAS", "kg", 18_000, "exempt", (), True, None),
    ("Gula Pasir Lokal", "GULA", "kg", 17_500, "exempt", (("karung 50 kg", 50),), True, 18_000),
    ("Gulaku Premium 1 kg", "GULA", "pcs", 18_500, "exempt", (("dus 20", 20),), False, None),
    ("Gula Merah Aren 500 g", "GULA", "pcs", 14_000, "exempt", (), False, None),
    ("Minyakita 1 L", "MINYAK", "pcs", 15_700, "standard", (("dus 12", 12),), False, 15_700),
    ("Bimoli Minyak Goreng 1 L", "MINYAK", "pcs", 21_000, "standard", (("dus 12", 12),), False, None),
    ("Bimoli Minyak Goreng 2 L", "MINYAK", "pcs", 41_000, "standard", (("dus 6", 6),), False, None),
    ("Sania Minyak Goreng 2 L", "MINYAK", "pcs", 39_000, "standard", (("dus 6", 6),), False, None),
    ("Fortune Minyak Goreng 2 L", "MINYAK", "pcs", 37_500, "standard", (("dus 6", 6),), False, None),
    ("Telur Ayam Ras", "TELUR", "kg", 29_000, "exempt", (("peti 15 kg", 15),), True, None),
    ("Telur Itik", "TELUR", "pcs", 3_000, "exempt", (("rak 30", 30),), False, None),
    ("Bawang Merah", "SEGAR", "kg", 38_000, "exempt", (), True, None),
    ("Bawang Putih", "SEGAR", "kg", 36_000, "exempt", (), True, None),
    ("Cabai Rawit", "SEGAR", "kg", 60_000, "exempt", (), True, None),
    ("Tomat", "SEGAR", "kg", 14_000, "exempt", (), True, None),
    ("Kentang", "SEGAR", "kg", 18_000, "exempt", (), True, None),
    ("Garam Dapur Beryodium 250 g", "BUMBU", "pcs", 3_000, "exempt", (("bal 50", 50),), False, None),
    ("Tepung Terigu Segitiga Biru 1 kg", "TEPUNG", "pcs", 13_500, "standard", (("dus 12", 12),), False, None),
    ("Tepung Terigu Cakra Kembar 1 kg", "TEPUNG", "pcs", 14_500, "standard", (("dus 12", 12),), False, None),
    ("Tepung Beras Rose Brand 500 g", "TEPUNG", "pcs", 8_500, "standard", (("dus 20", 20),), False, None),
    ("Tepung Tapioka Rose Brand 500 g", "TEPUNG", "pcs", 7_500, "standard", (("dus 20", 20),), False, None),
]
FLAVOURED = [  # brand, variants, category, unit price, pack
    (
        "Indomie",
        ("Goreng", "Soto Mie", "Kari Ayam", "Ayam Bawang", "Rendang", "Goreng Pedas", "Kaldu Ayam"),
        "MIE",
        3_500,
        ("dus 40", 40),
    ),
    ("Mie Sedaap", ("Goreng", "Soto", "Kari Spesial", "Ayam Bawang", "Baso Spesial"), "MIE", 3_300, ("dus 40", 40)),
    ("Supermi", ("Ayam Bawang", "Kaldu Ayam", "Goreng"), "MIE", 3_200, ("dus 40", 40)),
    ("Sarimi Isi 2", ("Goreng", "Soto Koya", "Ayam Bawang"), "MIE", 4_500, ("dus 24", 24)),
    ("Royco", ("Ayam 8 g", "Sapi 8 g"), "BUMBU", 500, ("renteng 12", 12)),
    ("Masako", ("Ayam 9 g", "Sapi 9 g"), "BUMBU", 500, ("renteng 12", 12)),
    ("Kecap Manis Bango", ("135 ml", "220 ml", "520 ml"), "BUMBU", 9_000, ("dus 24", 24)),
    ("Saus Sambal ABC", ("135 ml", "335 ml"), "BUMBU", 8_000, ("dus 24", 24)),
    ("Kapal Api Kopi Bubuk", ("65 g", "165 g", "380 g"), "MINUMAN", 9_000, ("dus 20", 20)),
    ("Good Day", ("Mocacinno", "Cappuccino", "Original"), "MINUMAN", 1_800, ("renteng 10", 10)),
    ("Teh Sariwangi", ("25 kantong", "50 kantong"), "MINUMAN", 7_500, ("dus 24", 24)),
    ("Teh Pucuk Harum", ("350 ml", "500 ml"), "MINUMAN", 4_000, ("dus 24", 24)),
    ("Aqua Air Mineral", ("330 ml", "600 ml", "1,5 L"), "MINUMAN", 3_500, ("dus 24", 24)),
    ("Le Minerale", ("330 ml", "600 ml", "1,5 L"), "MINUMAN", 3_300, ("dus 24", 24)),
    ("Frisian Flag Kental Manis", ("Putih 370 g", "Cokelat 370 g", "Sachet 40 g"), "SUSU", 12_500, ("dus 48", 48)),
    ("Indomilk Kental Manis", ("Putih 370 g", "Cokelat 370 g"), "SUSU", 12_000, ("dus 48", 48)),
    (
        "Ultra Milk",
        ("Full Cream 1 L", "Cokelat 250 ml", "Stroberi 250 ml", "Full Cream 250 ml"),
        "SUSU",
        6_500,
        ("dus 24", 24),
    ),
    ("Bear Brand", ("189 ml",), "SUSU", 10_500, ("dus 30", 30)),
    ("Dancow Fortigro", ("Instant 400 g", "Instant 800 g", "Cokelat 400 g"), "SUSU", 55_000, ("dus 12", 12)),
    ("Lifebuoy Sabun Batang", ("Merah 75 g", "Lemon 75 g", "Mild Care 75 g"), "RUMAH", 4_000, ("dus 72", 72)),
    ("Rinso Deterjen Bubuk", ("Anti Noda 770 g", "Molto 770 g", "Sachet 44 g"), "RUMAH", 24_000, ("dus 12", 12)),
    ("Sunlight Sabun Cuci Piring", ("Jeruk Nipis 210 ml", "Jeruk Nipis 755 ml"), "RUMAH", 12_000, ("dus 24", 24)),
    ("Pepsodent Pasta Gigi", ("75 g", "190 g"), "RUMAH", 9_000, ("dus 48", 48)),
    ("So Klin Pewangi", ("Sachet 25 ml", "Pouch 900 ml"), "RUMAH", 1_000, ("renteng 12", 12)),
    ("Sunsilk Sampo", ("Black Shine 170 ml", "Sachet 10 ml"), "RUMAH", 23_000, ("dus 24", 24)),
    ("Baygon Aerosol", ("Jeruk 600 ml", "Lavender 600 ml"), "RUMAH", 42_000, ("dus 12", 12)),
    ("Tisu Paseo", ("250 lembar", "Travel 50 lembar"), "RUMAH", 14_000, ("dus 24", 24)),
    ("Gula Merah Cap Kelapa", ("250 g", "500 g"), "GULA", 8_000, ("bal 20", 20)),
    ("Sasa Penyedap", ("250 g", "Sachet 9 g"), "BUMBU", 12_000, ("dus 24", 24)),
    ("Ladaku Merica Bubuk", ("Sachet 4 g",), "BUMBU", 1_000, ("renteng 12", 12)),
    ("Sarden ABC Saus Tomat", ("155 g", "425 g"), "BUMBU", 11_000, ("dus 50", 50)),
    ("Roti Tawar Sari Roti", ("Kupas 370 g", "Double Soft"), "TEPUNG", 18_000, ("krat 10", 10)),
    ("Biskuit Roma Kelapa", ("300 g",), "TEPUNG", 11_500, ("dus 24", 24)),
    ("Oreo", ("Vanila 133 g", "Cokelat 133 g"), "TEPUNG", 10_000, ("dus 24", 24)),
    ("Energen Sereal", ("Cokelat", "Vanila", "Kacang Hijau"), "MINUMAN", 2_000, ("renteng 10", 10)),
    ("Milo 3in1", ("Sachet 35 g",), "MINUMAN", 2_500, ("renteng 10", 10)),
    ("Nutrisari", ("Jeruk", "Mangga", "Jeruk Nipis"), "MINUMAN", 1_500, ("renteng 10", 10)),
    ("Sirup Marjan", ("Cocopandan 460 ml", "Melon 460 ml", "Leci 460 ml"), "MINUMAN", 24_000, ("dus 12", 12)),
    ("Chitato", ("Sapi Panggang 68 g", "Ayam Bumbu 68 g", "Keju 68 g"), "TEPUNG", 11_000, ("dus 24", 24)),
    ("Qtela Keripik Singkong", ("Original 60 g", "Balado 60 g", "Barbeque 60 g"), "TEPUNG", 7_500, ("dus 24", 24)),
    ("Beng-Beng", ("Reguler", "Share It"), "TEPUNG", 2_500, ("dus 20", 20)),
    ("Kacang Garuda", ("Kulit 110 g", "Atom 100 g", "Rosta 100 g"), "TEPUNG", 9_500, ("dus 24", 24)),
    ("Pronas Kornet Sapi", ("198 g", "340 g"), "BUMBU", 24_000, ("dus 24", 24)),
    (
        "Bumbu Racik Indofood",
        ("Nasi Goreng", "Ayam Goreng", "Tempe Goreng", "Sayur Sop", "Rendang"),
        "BUMBU",
        2_500,
        ("renteng 12", 12),
    ),
    ("Kecap Asin ABC", ("133 ml", "275 ml"), "BUMBU", 7_000, ("dus 24", 24)),
    ("Santan Kara", ("65 ml", "200 ml"), "BUMBU", 4_000, ("dus 36", 36)),
    ("Teh Botol Sosro", ("Kotak 250 ml", "Botol 450 ml"), "MINUMAN", 4_000, ("dus 24", 24)),
    ("Kopi ABC Susu", ("Sachet 31 g",), "MINUMAN", 1_800, ("renteng 10", 10)),
    ("Torabika", ("Cappuccino", "Jahe Susu", "Duo Susu"), "MINUMAN", 1_800, ("renteng 10", 10)),
    ("Lifebuoy Sabun Cair", ("Refill 450 ml", "Botol 250 ml"), "RUMAH", 25_000, ("dus 12", 12)),
    ("Daia Deterjen", ("Bunga 850 g", "Lemon 850 g", "Sachet 33 g"), "RUMAH", 18_000, ("dus 12", 12)),
    ("Mama Lemon", ("Refill 780 ml", "Botol 400 ml"), "RUMAH", 14_000, ("dus 24", 24)),
    ("Sikat Gigi Formula", ("Soft", "Medium"), "RUMAH", 6_000, ("dus 12", 12)),
    ("Pembalut Charm", ("Day 10 pcs", "Night 8 pcs"), "RUMAH", 12_000, ("dus 24", 24)),
    ("Popok Sweety", ("S 20", "M 18", "L 16"), "RUMAH", 42_000, ("bal 6", 6)),
    ("Obat Nyamuk Baygon Bakar", ("10 lingkar",), "RUMAH", 6_500, ("dus 60", 60)),
    ("Korek Api Tokai", ("Gas",), "RUMAH", 3_000, ("pak 50", 50)),
    ("Lilin Cap Burung", ("isi 6",), "RUMAH", 5_000, ("dus 24", 24)),
    ("Kecap Manis Sedaap", ("Refill 550 ml", "Botol 275 ml"), "BUMBU", 18_000, ("dus 12", 12)),
    ("Minyak Goreng Tropical", ("1 L", "2 L"), "MINYAK", 22_000, ("dus 12", 12)),
    ("Mie Telur Cap 3 Ayam", ("200 g",), "MIE", 6_000, ("dus 30", 30)),
    ("Bihun Jagung Padamu", ("175 g",), "MIE", 6_500, ("dus 30", 30)),
    ("Susu Kedelai Soya", ("250 ml",), "SUSU", 5_000, ("dus 24", 24)),
]
# generic name, strength/form, base unit, drug class, category, price per base unit, pack factors, flags
MEDICINES = [
    ("Paracetamol", ("500 mg",), "tablet", "bebas", "OBAT-BEBAS", 500, (10, 100), ()),
    ("Paracetamol Sirup", ("120 mg/5 ml 60 ml",), "botol", "bebas", "OBAT-BEBAS", 9_000, (), ()),
    ("Antasida DOEN", ("tablet kunyah",), "tablet", "bebas", "OBAT-BEBAS", 300, (10, 100), ()),
    ("Oralit", ("200 ml sachet",), "sachet", "bebas", "OBAT-BEBAS", 1_000, (), ()),
    ("Vitamin C", ("50 mg", "250 mg", "500 mg"), "tablet", "bebas", "VITAMIN", 400, (10, 100), ()),
    ("Vitamin B Kompleks", ("tablet",), "tablet", "bebas", "VITAMIN", 200, (10, 100), ()),
    ("Tablet Tambah Darah", ("60 mg",), "tablet", "bebas", "VITAMIN", 300, (10, 100), ()),
    ("Kalsium Laktat", ("500 mg",), "tablet", "bebas", "VITAMIN", 250, (10, 100), ()),
    ("Minyak Kayu Putih", ("30 ml", "60 ml"), "botol", "bebas", "OBAT-BEBAS", 18_000, (), ()),
    ("Povidone Iodine", ("10% 30 ml",), "botol", "bebas", "OBAT-BEBAS", 15_000, (), ()),
    ("Salep Kulit 88", ("6 g",), "tube", "bebas", "OBAT-BEBAS", 9_000, (), ()),
    ("Klorfeniramin Maleat (CTM)", ("4 mg",), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 150, (10, 100), ()),
    ("Ibuprofen", ("200 mg", "400 mg"), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 600, (10, 100), ()),
    ("Ambroksol", ("30 mg",), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 400, (10, 100), ()),
    ("Gliseril Guaiakolat", ("100 mg",), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 200, (10, 100), ()),
    ("Dekstrometorfan", ("15 mg",), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 250, (10, 100), ()),
    ("OBH Sirup", ("100 ml",), "botol", "bebas_terbatas", "OBAT-TERBATAS", 16_000, (), ()),
    ("Loperamid", ("2 mg",), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 500, (10, 100), ()),
    ("Pseudoefedrin HCl", ("30 mg",), "tablet", "bebas_terbatas", "OBAT-TERBATAS", 700, (10, 100), ("precursor",)),
    ("Amoksisilin", ("250 mg", "500 mg"), "kapsul", "keras", "OBAT-KERAS", 1_200, (10, 100), ()),
    ("Amoksisilin Sirup Kering", ("125 mg/5 ml 60 ml",), "botol", "keras", "OBAT-KERAS", 12_000, (), ()),
    ("Sefadroksil", ("500 mg",), "kapsul", "keras", "OBAT-KERAS", 2_500, (10, 100), ()),
    ("Siprofloksasin", ("500 mg",), "tablet", "keras", "OBAT-KERAS", 1_500, (10, 100), ()),
    ("Metronidazol", ("500 mg",), "tablet", "keras", "OBAT-KERAS", 600, (10, 100), ()),
    ("Asam Mefenamat", ("500 mg",), "tablet", "keras", "OBAT-KERAS", 600, (10, 100), ("owa",)),
    ("Natrium Diklofenak", ("50 mg",), "tablet", "keras", "OBAT-KERAS", 700, (10, 100), ("owa",)),
    ("Setirizin", ("10 mg",), "tablet", "keras", "OBAT-KERAS", 800, (10, 100), ("owa",)),
    ("Omeprazol", ("20 mg",), "kapsul", "keras", "OBAT-KERAS", 900, (10, 100), ("owa",)),
    ("Ranitidin", ("150 mg",), "tablet", "keras", "OBAT-KERAS", 500, (10, 100), ("owa",)),
    ("Metformin", ("500 mg", "850 mg"), "tablet", "keras", "OBAT-KERAS", 400, (10, 100), ()),
    ("Glibenklamid", ("5 mg",), "tablet", "keras", "OBAT-KERAS", 300, (10, 100), ()),
    ("Amlodipin", ("5 mg", "10 mg"), "tablet", "keras", "OBAT-KERAS", 500, (10, 100), ()),
    ("Kaptopril", ("12,5 mg", "25 mg"), "tablet", "keras", "OBAT-KERAS", 300, (10, 100), ()),
    ("Simvastatin", ("10 mg", "20 mg"), "tablet", "keras", "OBAT-KERAS", 600, (10, 100), ()),
    ("Deksametason", ("0,5 mg",), "tablet", "keras", "OBAT-KERAS", 200, (10, 100), ()),
    ("Prednison", ("5 mg",), "tablet", "keras", "OBAT-KERAS", 250, (10, 100), ()),
    ("Salbutamol", ("2 mg", "4 mg"), "tablet", "keras", "OBAT-KERAS", 300, (10, 100), ("owa",)),
    ("Allopurinol", ("100 mg", "300 mg"), "tablet", "keras", "OBAT-KERAS", 400, (10, 100), ()),
    ("Insulin Glargin", ("100 IU/ml pen",), "pcs", "keras", "OBAT-KERAS", 185_000, (), ("cold_chain",)),
    ("Diazepam", ("2 mg", "5 mg"), "tablet", "psikotropika", "OBAT-KERAS", 500, (10, 100), ()),
    ("Alprazolam", ("0,5 mg",), "tablet", "psikotropika", "OBAT-KERAS", 1_500, (10, 100), ()),
    ("Kodein Fosfat", ("10 mg",), "tablet", "narkotika", "OBAT-KERAS", 2_000, (10, 100), ()),
    ("Masker Medis 3 Ply", ("isi 50",), "pcs", None, "ALKES", 35_000, (), ()),
    ("Kasa Steril", ("16 x 16 cm",), "pack", None, "ALKES", 9_000, (), ()),
    ("Plester Luka", ("isi 10",), "pack", None, "ALKES", 6_000, (), ()),
    ("Termometer Digital", ("",), "pcs", None, "ALKES", 25_000, (), ()),
]
MAKERS = ("Kimia Farma", "Indofarma", "Phapros", "Sanbe", "Hexpharm", "Novapharin", "Dexa Medica", "Mersifarma")
CLASS_LETTER = {"bebas": "B", "bebas_terbatas": "T", "keras": "K", "psikotropika": "P", "narkotika": "N"}


def _ean(rng_counter: list[int]) -> str:
    rng_counter[0] += 1
    body = f"899{rng_counter[0]:09d}"
    return body + str(barcodes.gs1_check_digit(body))


def _products(rng: random.Random) -> list[ProductInput]:
    counter = [4_200_000]
    items: list[ProductInput] = []
    for n, (name, category, base, price, tax, packs, by_weight, het) in enumerate(SEMBAKO, start=1):
        items.append(
            ProductInput(
                sku=f"SBK-{n:04d}",
                name=name,
                category=category,
                unit="TOKO",
                base_unit=base,
                public_price=price,
                member_price=price - price // 40 // 100 * 100,
                tax_code=tax,
                sell_by_weight=by_weight,
                het=het,
                reorder_point=D(20),
                barcodes=() if by_weight else (_ean(counter),),
                packs=tuple(
                    PackInput(p, D(f), price=int(price * f * 0.97) // 100 * 100, barcodes=(_ean(counter),))
                    for p, f in packs
                ),
            )
        )
    n = len(items)
    for brand, variants, category, price, (pack, factor) in FLAVOURED:
        for variant in variants:
            n += 1
            unit_price = price + rng.randint(0, 4) * 500
            items.append(
                ProductInput(
                    sku=f"SBK-{n:04d}",
                    name=f"{brand} {variant}",
                    category=category,
                    unit="TOKO",
                    base_unit="pcs",
                    public_price=unit_price,
                    member_price=unit_price - max(100, unit_price // 30 // 100 * 100),
                    tax_code="standard",
                    reorder_point=D(factor),
                    barcodes=(_ean(counter),),
                    wholesale_price=unit_price - max(100, unit_price // 20 // 100 * 100),
                    wholesale_min_qty=D(factor // 2),
                    packs=(
                        PackInput(
                            pack,
                            D(factor),
                            price=int(unit_price * factor * 0.95) // 100 * 100,
                            barcodes=(_ean(counter),),
                        ),
                    ),
                )
            )
    m = 0
    for generic, strengths, base, drug_class, category, price, factors, flags in MEDICINES:
        for strength in strengths:
            for maker in rng.sample(MAKERS, 3 if base in ("tablet", "kapsul") else 1):
                m += 1
                name = f"{generic} {strength} ({maker})".replace("  ", " ").replace(" ()", "")
                nie = None
                if drug_class:
                    nie = f"D{CLASS_LETTER[drug_class]}L{rng.randint(10**11, 10**12 - 1)}"
                packs = []
                if factors:
                    packs = [
                        PackInput("strip", D(factors[0]), price=price * factors[0]),
                        PackInput(
                            "box",
                            D(factors[1]),
                            price=int(price * factors[1] * 0.9) // 100 * 100,
                            barcodes=(_ean(counter),),
                        ),
                    ]
                items.append(
                    ProductInput(
                        sku=f"OBT-{m:04d}",
                        name=name,
                        category=category,
                        unit="APOTEK",
                        base_unit=base,
                        public_price=price,
                        member_price=price - price // 20,
                        tax_code="standard",
                        tracks_batches=True,
                        drug_class=drug_class,
                        nie=nie,
                        owa="owa" in flags,
                        precursor="precursor" in flags,
                        cold_chain="cold_chain" in flags,
                        reorder_point=D(factors[1] if factors else 10),
                        barcodes=(_ean(counter),),
                        packs=tuple(packs),
                    )
                )
    return items


COST_SHARE = D("0.78")  # what the demo's suppliers charge, of the public price


def unit_cost(product: Product) -> int:
    """What the demo's suppliers charge for one base unit, in whole rupiah (even for goods sold by the half kilo):
    every stock value and every HPP of the demo is then exact, and the books agree with the stock to the rupiah."""
    cost = int(product.public_price * COST_SHARE)
    if product.sell_by_weight:
        cost -= cost % 2
    return max(cost, 2)


def receiving_day(today: dt.date) -> dt.date:
    """The day the warehouse receives the demo's stock: a month before the tills' 30 days, in this year (earlier
    years are closed); the shelves are filled the day after."""
    return min(max(dt.date(today.year, 1, 2), today - dt.timedelta(days=32)), today)


def load_catalog_demo() -> bool:
    """Add the demo suppliers and catalog once (inside the caller's write transaction, before the ledger demo)."""
    ensure_locations()
    ensure_categories()
    if db.session.scalar(sa.select(Product.id).limit(1)) is not None:
        return False
    rng = random.Random(899)  # noqa: S311 - the same demo every time, not a secret
    for code, name, address, phone in SUPPLIERS:
        db.session.add(Supplier(code=code, name=name, address=address, phone=phone))
    db.session.flush()
    for data in _products(rng):
        catalog.create_product(data, None)
    return True


# Where the monthly takings' goods are received and sold from, and who supplies them.
TAKINGS_SHELVES = {"TOKO": "TK-TOKO", "APOTEK": "AP-APOTEK"}
TAKINGS_SUPPLIERS = {"TOKO": ("SPB", "BLG", "IDG"), "APOTEK": ("PBF", "APL")}
NOT_IN_TAKINGS = (DrugClass.PSIKOTROPIKA, DrugClass.NARKOTIKA)  # dispensed one prescription at a time at the till


class TakingsGoods:
    """The goods behind the ledger demo's monthly takings (ledger.demo), before the tills ring up every sale.

    `month` buys what a month's takings sell from one supplier, on credit, on the day given (the last day of the
    month before), straight onto the unit's shelf; then takes each taking's goods off the shelf (a stock move of
    kind sale with the taking's reference) and returns what they cost. A month sells what it bought: the shelf
    holds only the next month's goods at each month end, never less than nothing.
    """

    ASSORTMENT = 20  # products a month's takings sell, per unit
    WALK_IN = 8  # products in a month's walk-in takings (members: one to three)

    def __init__(self, seed: int = 2512) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - the same demo every time, not a secret
        self._goods: dict[str, list[tuple[Product, int]]] = {}

    def _candidates(self, unit: str) -> list[tuple[Product, int]]:
        if unit not in self._goods:
            from pos.models import BusinessUnit

            query = (sa.select(Product).join(BusinessUnit, Product.unit_id == BusinessUnit.id)
                     .where(BusinessUnit.code == unit, Product.active.is_(True)).order_by(Product.id))
            self._goods[unit] = [(p, unit_cost(p)) for p in db.session.scalars(query)
                                 if p.drug_class not in NOT_IN_TAKINGS]
        return self._goods[unit]

    def _basket(self, assortment: list[tuple[Product, int]], aim: int) -> dict[int, int]:
        """Base units per product whose cost comes closest to `aim` from below."""
        picks = self.rng.sample(assortment, min(len(assortment), self.WALK_IN if aim >= 2_000_000 else
                                                self.rng.randint(1, 3)))
        basket: dict[int, int] = {}
        left = aim
        for n, (product, cost) in enumerate(picks):
            share = left // (len(picks) - n)
            if cost <= share:
                basket[product.id] = share // cost
                left -= share // cost * cost
        if not basket:
            product, cost = min(assortment, key=lambda pair: pair[1])
            basket[product.id] = max(1, aim // cost)
        return basket

    def month(self, unit: str, bought_on: dt.date,
              takings: list[tuple[str, dt.date, int]]) -> tuple[StockDocument, list[int]]:
        """Receive what `takings` (reference, date, the cost aimed at) sell, dated `bought_on`, and sell each one's
        goods; returns the goods receipt and the cost of each taking's goods (its HPP)."""
        candidates = self._candidates(unit)
        assortment = self.rng.sample(candidates, min(self.ASSORTMENT, len(candidates)))
        baskets = [self._basket(assortment, aim) for _ref, _date, aim in takings]
        products = {product.id: product for product, _cost in candidates}
        costs = {product.id: cost for product, cost in candidates}
        bought: dict[int, int] = {}
        for basket in baskets:
            for product_id, qty in basket.items():
                bought[product_id] = bought.get(product_id, 0) + qty
        lots = {}
        lines = []
        for product_id, qty in sorted(bought.items()):
            product = products[product_id]
            lot, expiry = "", None
            if product.tracks_batches:  # one lot a year per medicine, long before its expiry
                lot, expiry = f"{product.sku[-4:]}H{bought_on:%y}", dt.date(bought_on.year + 3, 6, 30)
                lots[product_id] = lot
            lines.append(services.ReceiptLine(product, product.units[0], D(qty), costs[product_id], lot, expiry))
        supplier = db.session.scalar(sa.select(Supplier).where(
            Supplier.code == self.rng.choice(TAKINGS_SUPPLIERS[unit])))
        shelf = services.location_by_code(TAKINGS_SHELVES[unit])
        document = services.receive_goods(services.ReceiptInput(
            supplier, f"DEMO-{unit}-{bought_on:%Y%m}", bought_on, shelf, tuple(lines), payment="credit"), None)
        batches = {product_id: db.session.scalar(sa.select(Batch).where(Batch.product_id == product_id,
                                                                        Batch.lot == lot))
                   for product_id, lot in lots.items()}
        sold = []
        for (ref, date, _aim), basket in zip(takings, baskets, strict=True):
            cost = 0
            for product_id, qty in basket.items():
                move = stock.move(product=products[product_id], qty=D(qty), kind=MoveKind.SALE, source_type="sale",
                                  source_id=ref, user_name=SOURCE, from_location=shelf,
                                  batch=batches.get(product_id), at=services.moment(date))
                cost += stock.value_of(D(qty), D(move.unit_cost))
            sold.append(cost)
        return document, sold


def load_inventory_demo(today: dt.date | None = None) -> bool:
    """Stock the warehouse and the shelves once (inside the caller's write transaction, after the ledger demo):
    goods receipts into the warehouse on `receiving_day`, then transfers to the shop and the pharmacy."""
    ensure_locations()
    suppliers = {s.code: s for s in db.session.scalars(sa.select(Supplier))}
    if not suppliers or db.session.scalar(sa.select(StockDocument.id).where(
            StockDocument.kind == "receipt", StockDocument.invoice_number == "DEMO-0001")) is not None:
        return False
    today = today or dt.date.today()
    rng = random.Random(8990)  # noqa: S311 - the same demo every time, not a secret
    products = list(db.session.scalars(sa.select(Product).order_by(Product.id)))
    # Receipts are dated in this year's open months; lots already past their expiry were received before.
    first_day = receiving_day(today)
    gudang, toko = services.location_by_code("GD-GUDANG"), services.location_by_code("TK-TOKO")
    apotek = services.location_by_code("AP-APOTEK")
    invoice = 0
    for chunk_start in range(0, len(products), 25):
        chunk = products[chunk_start : chunk_start + 25]
        medicine = chunk[0].tracks_batches
        invoice += 1
        supplier = suppliers[rng.choice(("PBF", "APL") if medicine else ("SPB", "BLG", "IDG"))]
        lines = []
        for product in chunk:
            pack = max(product.units, key=lambda u: u.factor)
            cost = int(unit_cost(product) * pack.factor)
            quantity = D(rng.randint(3, 12)) if pack.factor > 1 else D(rng.randint(40, 120))
            if not product.tracks_batches:
                lines.append(services.ReceiptLine(product, pack, quantity, cost))
                continue
            expiries = [
                today + dt.timedelta(days=rng.randint(200, 900)),
                today + dt.timedelta(days=rng.randint(20, 85)),
            ]
            if (today - first_day).days > 12 and rng.random() < 0.3:
                expiries.append(today - dt.timedelta(days=rng.randint(1, min(60, (today - first_day).days - 2))))
            for k, expiry in enumerate(expiries):
                lot = f"{product.sku[-4:]}{chr(65 + k)}{rng.randint(100, 999)}"
                lines.append(services.ReceiptLine(product, pack, max(D(1), quantity // (k + 1)), cost, lot, expiry))
        services.receive_goods(
            services.ReceiptInput(
                supplier,
                f"DEMO-{invoice:04d}",
                first_day,
                gudang,
                tuple(lines),
                payment="credit" if invoice % 3 else "bank",
            ),
            None,
        )
    # Shelves are filled from the warehouse, first-expired first-out.
    shelf_day = min(first_day + dt.timedelta(days=1), today)
    for shelf, unit_code in ((toko, "TOKO"), (apotek, "APOTEK")):
        requests = []
        for product in products:
            if product.unit.code != unit_code:
                continue
            held = (
                sum(lot.quantity for lot in services.stock.lots_at(product.id, gudang.id))
                if product.tracks_batches
                else services.stock.on_hand(product.id, gudang.id)
            )
            take = (held * D("0.4")).quantize(D(1))
            if take > 0:
                try:
                    services.pick_list(product, gudang, take, shelf_day)
                except services.fefo.InsufficientStock:
                    continue
                requests.append(services.TransferRequest(product, take))
        for part in range(0, len(requests), 40):
            document = services.send_transfer(gudang, shelf, requests[part : part + 40], shelf_day, None)
            services.receive_transfer(document, None, shelf_day)
    return True
