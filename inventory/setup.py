"""Stock locations per outlet and the default product categories with their near-expiry thresholds."""

from __future__ import annotations

import sqlalchemy as sa

from inventory.models import Category, Location, LocationKind
from pos.db import db
from pos.models import Outlet, UnitKind

# code, name, days before expiry that count as "near" (medicine 90, fresh goods 7)
CATEGORIES = (
    ("BERAS", "Beras", 60), ("GULA", "Gula", 60), ("MINYAK", "Minyak goreng", 60), ("TELUR", "Telur", 7),
    ("SEGAR", "Sayur dan buah", 3), ("SUSU", "Susu", 30), ("MIE", "Mi instan", 30), ("BUMBU", "Bumbu dapur", 30),
    ("MINUMAN", "Minuman", 30), ("RUMAH", "Kebutuhan rumah tangga", 60), ("TEPUNG", "Tepung", 30),
    ("OBAT-BEBAS", "Obat bebas", 90), ("OBAT-TERBATAS", "Obat bebas terbatas", 90), ("OBAT-KERAS", "Obat keras", 90),
    ("VITAMIN", "Vitamin dan suplemen", 90), ("ALKES", "Alat kesehatan", 90),
)
LOCATIONS_BY_UNIT = {
    UnitKind.GUDANG: (LocationKind.GUDANG, LocationKind.KARANTINA),
    UnitKind.TOKO: (LocationKind.TOKO, LocationKind.KARANTINA),
    UnitKind.APOTEK: (LocationKind.APOTEK, LocationKind.KARANTINA),
}
LOCATION_NAMES = {LocationKind.GUDANG: "Gudang", LocationKind.TOKO: "Rak toko", LocationKind.APOTEK: "Rak apotek",
                  LocationKind.KARANTINA: "Karantina"}


def ensure_locations() -> list[Location]:
    """Give every outlet the locations its unit keeps stock in; returns what was created."""
    created = []
    for outlet in db.session.scalars(sa.select(Outlet).order_by(Outlet.id)):
        for kind in LOCATIONS_BY_UNIT.get(outlet.unit.kind, ()):
            code = f"{outlet.code}-{kind.value.upper()}"
            if db.session.scalar(sa.select(Location.id).where(Location.code == code)) is None:
                location = Location(code=code, name=f"{LOCATION_NAMES[kind]} {outlet.name}", outlet_id=outlet.id,
                                    kind=kind)
                db.session.add(location)
                created.append(location)
    db.session.flush()
    return created


def ensure_categories() -> None:
    for code, name, days in CATEGORIES:
        if db.session.scalar(sa.select(Category.id).where(Category.code == code)) is None:
            db.session.add(Category(code=code, name=name, near_expiry_days=days))
    db.session.flush()
