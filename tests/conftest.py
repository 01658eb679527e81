"""Fixtures shared by every layer: a migrated database (SQLite file or PostgreSQL), the app, clients, sign-in."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

TEST_DATABASE_URL = os.environ.get("KASIR_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
FAST_HASH = "pbkdf2:sha256:1000"  # tests sign in hundreds of times; production keeps scrypt
DEMO_PASSWORD = "demo123"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def base_config(instance: Path, database_url: str) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "TESTING": True,
        "database_url": database_url,
        "password_hash_method": FAST_HASH,
    }


def upgrade_database(instance: Path, database_url: str) -> None:
    from flask_migrate import upgrade

    from pos.app import create_app

    app = create_app(base_config(instance, database_url))
    with app.app_context():
        upgrade()
        from pos.db import db

        db.engine.dispose()


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """Build the schema once by running the migrations; each test gets a copy (SQLite) or truncation (PostgreSQL)."""
    instance = tmp_path_factory.mktemp("template-instance")
    if ON_POSTGRES:
        reset_postgres(TEST_DATABASE_URL)
        upgrade_database(instance, TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = instance / "template.db"
    upgrade_database(instance, f"sqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    if ON_POSTGRES:
        return TEST_DATABASE_URL
    target = tmp_path / "kasir.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


class FormClient(FlaskClient):
    """Posts forms as the browser does: a form that moves money or stock carries the one-time token its page
    rendered (pos.web.once). A test that means to resend the same form passes the token itself."""

    def open(self, *args, **kwargs):
        data = kwargs.get("data")
        method = (kwargs.get("method") or "GET").upper()
        if method == "POST" and isinstance(data, dict) and "form_token" not in data:
            kwargs["data"] = {**data, "form_token": secrets.token_urlsafe(24)}
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database; extra settings may be passed. Tables are emptied afterwards."""
    built = []

    def factory(**overrides):
        from pos.app import create_app

        instance = tmp_path / "instance"
        config = base_config(instance, database_url)
        config.update(overrides)
        app = create_app(config)
        app.test_client_class = FormClient
        built.append(app)
        return app

    yield factory
    from pos.db import db

    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if ON_POSTGRES and built:
        truncate_all(db.metadata)


def truncate_all(metadata) -> None:
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    engine = sa.create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        # The ledger's guards refuse TRUNCATE of posted books; tests reset them as the superuser.
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def demo_app(app):
    from pos.demo import load_demo

    with app.app_context():
        load_demo(books=False)
    return app


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def runner(demo_app):
    return demo_app.test_cli_runner()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def sign_in(client, username: str, password: str = DEMO_PASSWORD):
    page = client.get("/login", follow_redirects=True)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)})


def csrf_token(client) -> str:
    """A CSRF token valid for the client's current session (read from any page that renders forms)."""
    return csrf_from(client.get("/login", follow_redirects=True).text)


@pytest.fixture
def signed_in(client):
    """Sign the test client in as a demo user: signed_in('kasir')."""

    def do(username: str):
        response = sign_in(client, username)
        assert response.status_code == 302, response.text
        return client

    return do


@pytest.fixture
def books_app(demo_app):
    """The demo cooperative with its chart of accounts (no demo entries); no app context is left pushed,
    so test-client requests get their own (a shared one would carry `g`, e.g. a stale CSRF token, across)."""
    from ledger.accounts import seed_chart
    from pos.db import db, write_transaction

    with demo_app.app_context():
        with write_transaction():
            seed_chart()
        db.session.remove()
    return demo_app


@pytest.fixture
def books(books_app):
    """`books_app` with an app context pushed, for tests that call services directly."""
    with books_app.app_context():
        yield books_app


@pytest.fixture
def stock_app(books_app):
    """The demo cooperative with its chart, locations, categories, two suppliers and a few products:
    beras (kg, karung 25 kg), Indomie (pcs, dus 40), Paracetamol (tablet, strip 10, box 10 strip; batch-tracked)
    and Amoxicillin (keras). No stock yet."""
    from decimal import Decimal

    from inventory import catalog
    from inventory.models import Supplier
    from inventory.setup import ensure_categories, ensure_locations
    from pos.db import db, write_transaction

    with books_app.app_context():
        with write_transaction():
            ensure_locations()
            ensure_categories()
            db.session.add_all([
                Supplier(code="SPB", name="CV Sumber Pangan Banjar", phone="05113350000"),
                Supplier(code="PBF", name="PBF Kimia Farma Banjarmasin", phone="05113361111"),
            ])
            for data in TEST_PRODUCTS:
                catalog.create_product(data(Decimal), None)
        db.session.remove()
    return books_app


def _beras(D):
    from inventory.catalog import PackInput, ProductInput

    return ProductInput(sku="BRS-PREMIUM", name="Beras Premium Banjar", category="BERAS", unit="TOKO", base_unit="kg",
                        public_price=14_500, member_price=14_000, het=14_900, sell_by_weight=True,
                        reorder_point=D(50), barcodes=("8991234560014",),
                        packs=(PackInput("karung 25 kg", D(25), price=350_000, barcodes=("8991234560021",)),))


def _indomie(D):
    from inventory.catalog import PackInput, ProductInput

    return ProductInput(sku="MIE-GORENG", name="Indomie Goreng 85 g", category="MIE", unit="TOKO", base_unit="pcs",
                        public_price=3_500, member_price=3_300, tax_code="standard", wholesale_price=3_200,
                        wholesale_min_qty=D(10), reorder_point=D(40), barcodes=("089686010947",),
                        packs=(PackInput("dus 40", D(40), price=128_000, barcodes=("8994963002824",)),))


def _paracetamol(D):
    from inventory.catalog import PackInput, ProductInput

    return ProductInput(sku="OBT-PCT500", name="Paracetamol 500 mg", category="OBAT-BEBAS", unit="APOTEK",
                        base_unit="tablet", public_price=500, member_price=450, tax_code="standard",
                        drug_class="bebas", nie="DBL123456789012", reorder_point=D(200),
                        barcodes=("8992753102402",),
                        packs=(PackInput("strip", D(10), price=4_500), PackInput("box", D(100), price=40_000,
                                                                                 barcodes=("8999999002503",))))


def _amoxicillin(D):
    from inventory.catalog import PackInput, ProductInput

    return ProductInput(sku="OBT-AMX500", name="Amoxicillin 500 mg", category="OBAT-KERAS", unit="APOTEK",
                        base_unit="kapsul", public_price=1_200, member_price=1_100, tax_code="standard",
                        drug_class="keras", nie="DKL987654321098", barcodes=("8991234560038",),
                        packs=(PackInput("strip", D(10), price=11_000),))


TEST_PRODUCTS = (_beras, _indomie, _paracetamol, _amoxicillin)


@pytest.fixture(scope="session")
def decode(tmp_path_factory):
    """Decode a PNG with the real zbarimg (Debian zbar-tools) and return the text it read, raw. Skipped when
    zbarimg is missing, unless KASIR_REQUIRE_BROWSER=1 (CI), where that is a failure."""
    import os
    import subprocess

    found = shutil.which("zbarimg")
    if found is None:
        message = "zbarimg is not installed (apt-get install zbar-tools)"
        if os.environ.get("KASIR_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("decoded-codes")
    counter = iter(range(10**6))

    def run(png: bytes) -> str:
        path = folder / f"code-{next(counter)}.png"
        path.write_bytes(png)
        result = subprocess.run([found, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"zbarimg read nothing from {path} (exit {result.returncode}): {result.stderr}"
        return result.stdout.rstrip("\n")

    return run


@pytest.fixture
def shop_app(stock_app):
    """`stock_app` with stock on the shelves, a QRIS code at the shop, and two members with savings (kasbon
    possible): beras 100 kg and 4 karung in TK-TOKO, Indomie 200 pcs, Paracetamol lots SOON (20 days, 100 tablets)
    and LATE (400 days, 200 tablets) in AP-APOTEK, Amoxicillin 100 kapsul."""
    import datetime as dt
    from decimal import Decimal

    from inventory import services
    from inventory.models import Product, Supplier
    from ledger import members
    from ledger.models import SavingsKind
    from pos.db import db, write_transaction
    from pos.models import Outlet
    from pos.sales.qris import build_static

    today = dt.date.today()
    with stock_app.app_context():
        products = {p.sku: p for p in db.session.scalars(sa.select(Product))}

        def unit(product, name):
            return next(u for u in product.units if u.name == name)

        def receive(invoice, location, lines, supplier="SPB"):
            services.receive_goods(services.ReceiptInput(
                db.session.scalar(sa.select(Supplier).where(Supplier.code == supplier)), invoice, today,
                services.location_by_code(location), tuple(lines), payment="bank"), None)

        with write_transaction():
            beras, mie = products["BRS-PREMIUM"], products["MIE-GORENG"]
            pct, amx = products["OBT-PCT500"], products["OBT-AMX500"]
            receive("T-1", "TK-TOKO", [
                services.ReceiptLine(beras, unit(beras, "kg"), Decimal(100), 12_000),
                services.ReceiptLine(beras, unit(beras, "karung 25 kg"), Decimal(4), 300_000),
                services.ReceiptLine(mie, unit(mie, "dus 40"), Decimal(5), 120_000),
            ])
            receive("A-1", "AP-APOTEK", [
                services.ReceiptLine(pct, unit(pct, "box"), Decimal(1), 30_000, "SOON", today + dt.timedelta(days=20)),
                services.ReceiptLine(pct, unit(pct, "box"), Decimal(2), 32_000, "LATE",
                                     today + dt.timedelta(days=400)),
                services.ReceiptLine(amx, unit(amx, "strip"), Decimal(10), 9_000, "AMX1",
                                     today + dt.timedelta(days=300)),
            ], supplier="PBF")
            for code in ("TK", "AP"):
                outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == code))
                outlet.qris_payload = build_static("KOPERASI MERAH PUTIH", "BANJARMASIN", "936000140000012345",
                                                   "ID1026000012345", "70234")
            for name, nik in (("Siti Aminah", "6371024501900001"), ("Ahmad Yani", "6371020101900002")):
                member = members.register_member(members.MemberInput(name=name, nik=nik, join_date=today), None,
                                                 author_name="test")
                members.deposit(member, SavingsKind.SUKARELA, 400_000, today, None, author_name="test")
        db.session.remove()
    return stock_app


@pytest.fixture
def shop(shop_app):
    with shop_app.app_context():
        yield shop_app
