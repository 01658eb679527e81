"""A minimarket's database for the page benchmark: 100 000 products, 300 000 barcodes, stock in the shop, the pharmacy,
the warehouse and karantina with batches, a million stock moves over five years, five years of books (about 500 000
postings) and 2 000 members with their savings; the last 30 days rung up at the tills through the checkout service.

    .venv/bin/python -m bench.bigdata [--products 100000] [--database-url URL] [--rebuild] [--check]

Built through the app (create_app, the Alembic migrations, the demo cooperative with its users of every role, the
chart of accounts, the locations and categories), the catalog loaded by bench.lookup's synthetic loader, then five
years of history simulated day by day and bulk-inserted with SQLAlchemy Core executemany in batches:

- goods received into the warehouse on the supplier's invoice when it runs short, sent to the shop's or the pharmacy's
  shelf when the shelf runs short (transfer documents, both moves), sold from the shelf (first-expired first-out for
  batch-tracked products), counted once a month (opname adjustments), expired batches moved to karantina and written
  off every quarter; the stock levels are the sums of the moves (`stock check` is clean);
- a journal entry for everything that reaches the books, built by the app's own posting rules (ledger.posting_rules),
  numbered JU/<year>/<n> without gaps in posting order, posted through the database's guards (inserted as drafts,
  then posted), with the hash chain of ledger.chain; members' slips (simpanan pokok, wajib, sukarela, kasbon); the
  past years closed the app's way (journal.close_year), so `ledger check` is clean;
- then the checkout service (pos.sales.services) rings up the last 30 days at the three tills, shift by shift.

The database is cached (`/tmp/kasir-bench/pages-<N>.sqlite`, or the PostgreSQL database named in the URL) with a JSON
file beside it holding the Alembic head it was built at: when the code's head moves on (a migration adds a summary
table), the next use upgrades it and runs the rebuild hooks (ledger.balances.rebuild, ...) instead of building again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.lookup import build_app, load_catalog

CACHE_DIR = Path(os.environ.get("KASIR_BENCH_DIR", "/tmp/kasir-bench"))  # noqa: S108 - a shared cache, by design
ROOT = Path(__file__).resolve().parent.parent
BUILD_VERSION = 1  # bump when the generator changes: cached databases are then built again
FULL_PRODUCTS = 100_000
FLUSH_ROWS = 40_000
BIG_DATABASE_NAME = "bench_pages"
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}  # CI uses `test`; never touch it
# Rebuild hooks: modules that keep summaries of the moves and postings (added by later migrations). Each is called
# after the bulk load and after an upgrade of a cached database, if the module exists.
REBUILD_HOOKS = (("ledger.balances", "rebuild"), ("inventory.summaries", "rebuild"),
                 ("inventory.stock", "rebuild_summaries"))
SUPPLIERS = (
    ("SPB", "CV Sumber Pangan Banjar", False), ("BLG", "Perum Bulog Kanwil Kalsel", False),
    ("IDG", "PT Indomarco Distribusi Banjarmasin", False), ("WGM", "PT Wings Group Banjarmasin", False),
    ("UNV", "PT Unilever Distributor Kalsel", False), ("SMB", "CV Sinar Mas Barito", False),
    ("ALF", "PT Alam Lestari Food", False), ("KPD", "UD Kalimantan Pangan Distribusi", False),
    ("PBF", "PBF Kimia Farma Trading Banjarmasin", True), ("APL", "PBF Anugerah Pharmindo Lestari", True),
    ("PPG", "PBF Parit Padang Global", True), ("EMS", "PBF Enseval Megatrading", True),
)
FIRST = ("Ahmad", "Muhammad", "Siti", "Nurul", "Rahmat", "Fitri", "Abdul", "Noor", "Hasan", "Aisyah", "Rizky", "Dewi",
         "Fauzan", "Halimah", "Syarifah", "Bahrudin", "Zainab", "Arsyad", "Mariani", "Jumiati", "Ilham", "Rusdiana",
         "Saidah", "Gusti", "Yusuf", "Rina", "Akhmad", "Hj. Masitah", "Supiani", "Normila")
LAST = ("Rahman", "Hidayat", "Jannah", "Saputra", "Aulia", "Maulana", "Rosyid", "Hasanah", "Fadillah", "Nor",
        "Kurniawan", "Ramadhani", "Syahrani", "Anwar", "Wahyuni", "Effendi", "Mahmud", "Yani", "Arifin", "Sari")
KELURAHAN = ("Kelayan Timur", "Kelayan Tengah", "Kelayan Barat", "Kelayan Selatan", "Kelayan Dalam")
STREETS = ("Jl. Kelayan A", "Jl. Kelayan B", "Jl. Prona I", "Jl. Simpang Kelayan", "Jl. Tembus Mantuil")


def _log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)


# --- sizes, paths, the cache -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """What is built for `products` products; the counts scale with the catalog (a tiny one for the smoke test)."""

    products: int
    barcodes: int
    moves: int
    members: int
    sale_lines: int  # lines per sale of the history, on average
    recent_per_till: int  # sales per till and day in the last 30 days (through the checkout service)
    counted: int  # products counted per location and month
    years: int = 5

    @classmethod
    def of(cls, products: int, moves: int | None = None, members: int | None = None) -> Sizes:
        scale = products / FULL_PRODUCTS
        return cls(products=products, barcodes=3 * products, moves=moves if moves is not None else 10 * products,
                   members=members if members is not None else max(20, round(2000 * scale)), sale_lines=9,
                   recent_per_till=max(2, min(40, round(40 * scale))), counted=max(2, round(products / 500)))

    def key(self) -> dict:
        return {"products": self.products, "barcodes": self.barcodes, "moves": self.moves, "members": self.members,
                "sale_lines": self.sale_lines, "recent_per_till": self.recent_per_till, "years": self.years,
                "version": BUILD_VERSION}


@dataclass
class BigDatabase:
    """A ready database: its URL, the instance folder the app runs with, and what the builder recorded."""

    url: str
    instance: Path
    meta: dict
    path: Path | None = None  # the SQLite file

    def server_env(self) -> dict[str, str]:
        """What a server process needs in its environment to serve this database (merge into os.environ)."""
        return {"KASIR_DATABASE_URL": self.url, "KASIR_INSTANCE_PATH": str(self.instance)}

    def recipe(self, port: int = 5080, threads: int = 16) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.server_env().items())
        return (f"cd {ROOT} && env -u DATABASE_URL -u KASIR_ENV {env} .venv/bin/waitress-serve --host=127.0.0.1 "
                f"--port={port} --threads={threads} wsgi:app   # sign in as manajer/kasir/... with demo123")


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def default_url(products: int) -> str:
    return f"sqlite:///{CACHE_DIR / f'pages-{products}.sqlite'}"


def _meta_path(url: str, products: int) -> Path:
    if _is_sqlite(url):
        return Path(sa.engine.make_url(url).database).with_suffix(".json")
    name = sa.engine.make_url(url).database
    return CACHE_DIR / f"pg-{name}.json"


def _instance_dir() -> Path:
    return CACHE_DIR / "instance"


def code_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def database_head(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def _check_postgres_name(url: str) -> str:
    name = sa.engine.make_url(url).database or ""
    if not name or name.lower() in FORBIDDEN_DATABASES:
        raise SystemExit(f"refused: the benchmark never builds into the database {name!r} (CI uses `test`); "
                         f"use e.g. postgresql+psycopg://postgres@127.0.0.1/{BIG_DATABASE_NAME}")
    return name


def _postgres_reset(url: str, drop: bool) -> None:
    """Create the benchmark's PostgreSQL database if missing (dropped first when `drop`)."""
    name = _check_postgres_name(url)
    admin = sa.create_engine(sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if exists and drop:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
                conn.exec_driver_sql(f'DROP DATABASE "{name}"')
                exists = False
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


def _product_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM product").scalar() or 0
    except sa.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def ensure(products: int = FULL_PRODUCTS, database_url: str | None = None, *, rebuild: bool = False,
           moves: int | None = None, members: int | None = None, seed: int = 1, started: float | None = None,
           quiet: bool = False) -> BigDatabase:
    """The big database for `products`, built now or reused from the cache (upgraded when the migrations moved on)."""
    started = time.perf_counter() if started is None else started

    def say(message: str) -> None:
        if not quiet:
            _log(message, started)

    sizes = Sizes.of(products, moves, members)
    url = database_url or default_url(products)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    instance = _instance_dir()
    instance.mkdir(parents=True, exist_ok=True)
    meta_file = _meta_path(url, products)
    path = Path(sa.engine.make_url(url).database) if _is_sqlite(url) else None
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else None
    usable = (not rebuild and meta is not None and meta.get("sizes") == sizes.key() and meta.get("complete")
              and _product_count(url) >= products)
    if usable:
        head, built_at = code_head(), database_head(url)
        if built_at != head:
            say(f"the database was built at migration {built_at}; upgrading to {head}")
            try:
                _upgrade_and_rebuild(url, instance, say)
            except Exception as exc:  # noqa: BLE001 - an upgrade that fails means building again
                say(f"upgrade failed ({exc!r}); building again")
                usable = False
            else:
                meta["alembic_head"] = head
                meta.setdefault("upgrades", []).append({"from": built_at, "to": head, "at": _now()})
                meta_file.write_text(json.dumps(meta, indent=2))
        if usable:
            say(f"reusing {url} (built {meta.get('built_at')}, {meta.get('build_seconds', 0):.0f} s)")
            analyze_postgres(url)
            return BigDatabase(url, instance, meta, path)
    if _is_sqlite(url):
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        _postgres_reset(url, drop=True)
    meta_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    meta = build(sizes, url, instance, seed=seed, started=started, quiet=quiet)
    analyze_postgres(url)
    meta.update({"sizes": sizes.key(), "url": url, "alembic_head": database_head(url), "built_at": _now(),
                 "build_seconds": round(time.perf_counter() - t0, 1), "complete": True})
    meta_file.write_text(json.dumps(meta, indent=2))
    say(f"built {url} in {meta['build_seconds']:.0f} s")
    return BigDatabase(url, instance, meta, path)


def analyze_postgres(url: str) -> None:
    """PostgreSQL: table statistics as autovacuum keeps them on a live server (it may be off here, and a bulk load
    leaves none): without them the planner guesses. SQLite has none unless the app runs ANALYZE, so none there."""
    if _is_sqlite(url):
        return
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _app(url: str, instance: Path):
    from pos.app import create_app

    return create_app({"INSTANCE_PATH": str(instance), "database_url": url,
                       "password_hash_method": "pbkdf2:sha256:1000"})


def _upgrade_and_rebuild(url: str, instance: Path, say) -> None:
    from flask_migrate import upgrade

    from pos.db import db

    app = _app(url, instance)
    with app.app_context():
        upgrade()
        run_rebuild_hooks(say)
        db.session.remove()
        db.engine.dispose()


def run_rebuild_hooks(say=lambda message: None) -> list[str]:
    """Call every summary rebuild the code has (inside an app context), each in its own write transaction."""
    from pos.db import db, write_transaction

    done = []
    for module_name, function in REBUILD_HOOKS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        rebuild = getattr(module, function, None)
        if rebuild is None:
            continue
        t0 = time.perf_counter()
        with write_transaction():
            rebuild()
        db.session.remove()
        done.append(f"{module_name}.{function}")
        say(f"{module_name}.{function}() in {time.perf_counter() - t0:.1f} s")
    return done


# --- bulk writing ------------------------------------------------------------------------------------------------


class Writer:
    """Rows buffered per table and inserted with Core executemany, parents before children, in short transactions;
    journal entries go in as drafts with their postings and are posted (with their chain hash) in the same flush."""

    ORDER = ("member", "batch", "journal_entry", "posting", "stock_document", "stock_document_line", "stock_move",
             "slip", "audit_entry")

    def __init__(self, engine: sa.Engine, tables: dict[str, sa.Table]) -> None:
        self.engine = engine
        self.tables = tables
        self.rows: dict[str, list[dict]] = {name: [] for name in self.ORDER}
        self.posted: list[dict] = []
        self.pending = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.next_ids: dict[str, int] = {}
        with engine.connect() as conn:
            for name in self.ORDER:
                self.next_ids[name] = (conn.execute(sa.select(sa.func.max(tables[name].c.id))).scalar() or 0) + 1
        entry = tables["journal_entry"]
        self.post_statement = (sa.update(entry).where(entry.c.id == sa.bindparam("_id"))
                               .values(posted=True, chain_hash=sa.bindparam("_hash")))

    def next_id(self, name: str) -> int:
        value = self.next_ids[name]
        self.next_ids[name] = value + 1
        return value

    def add(self, name: str, row: dict) -> None:
        self.rows[name].append(row)
        self.pending += 1

    def maybe_flush(self) -> None:
        if self.pending >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending and not self.posted:
            return
        with self.engine.begin() as conn:
            for name in self.ORDER:
                rows = self.rows[name]
                for start in range(0, len(rows), 10_000):
                    conn.execute(sa.insert(self.tables[name]), rows[start:start + 10_000])
                self.counts[name] += len(rows)
                rows.clear()
            for start in range(0, len(self.posted), 10_000):
                conn.execute(self.post_statement, self.posted[start:start + 10_000])
            self.posted.clear()
        self.pending = 0


class Books:
    """Journal entries from the app's posting rules (EntryDraft), numbered and chained as journal.post does."""

    def __init__(self, writer: Writer, accounts: dict[str, tuple[int, int | None]], units: dict[str, int]) -> None:
        self.writer = writer
        self.accounts = accounts
        self.units = units
        self.sequence: dict[int, int] = defaultdict(int)
        self.heads: dict[int, str | None] = {}
        self.balance: dict[str, int] = defaultdict(int)  # net debit per account key, for cash management

    def post(self, draft, at: dt.datetime, author: str = "bench") -> int:
        from ledger import chain

        year = draft.date.year
        self.sequence[year] += 1
        entry_id = self.writer.next_id("journal_entry")
        entry = {"id": entry_id, "number": f"JU/{year}/{self.sequence[year]:06d}", "date": draft.date,
                 "description": draft.description[:250], "unit_id": self.units[draft.unit] if draft.unit else None,
                 "source_type": draft.source_type, "source_id": draft.source_id[:80], "author_id": None,
                 "author_name": author[:40], "created_at": at, "reverses_id": None, "posted": False,
                 "chain_hash": None}
        postings = []
        for line in draft.lines:
            account_id, account_unit = self.accounts[line.account]
            unit = line.unit or draft.unit
            postings.append({"id": self.writer.next_id("posting"), "entry_id": entry_id, "account_id": account_id,
                             "debit": line.debit, "credit": line.credit, "member_id": line.member_id,
                             "unit_id": self.units[unit] if unit else account_unit, "memo": line.memo[:120]})
            self.balance[line.account] += line.debit - line.credit
        digest = chain.entry_hash(self.heads.get(year), entry, postings)
        self.heads[year] = digest
        self.writer.add("journal_entry", entry)
        for row in postings:
            self.writer.add("posting", row)
        self.writer.posted.append({"_id": entry_id, "_hash": digest})
        return entry_id


# --- the shop's history ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class BatchState:
    id: int
    lot: str
    expiry: dt.date
    start: dt.date
    qty: dict[int, int] = field(default_factory=dict)  # location id -> thousandths of a base unit


@dataclass(slots=True)
class ProductState:
    id: int
    sku: str
    shelf: int  # location id of its shelf (shop or pharmacy)
    unit: str  # business unit code of the shelf
    price: int
    member_price: int
    cost: int  # rupiah per base unit (the batch's cost, the units' moving average)
    factor: int  # base units in its pack
    pack: str
    by_weight: bool
    supplier: int  # index into the suppliers
    batches: list[BatchState] | None
    qty: dict[int, int] = field(default_factory=dict)  # location id -> thousandths (products without batches)


def _qty(milli: int) -> Decimal:
    return Decimal(milli).scaleb(-3)


def _value(milli: int, cost: int) -> int:
    """stock.value_of for a whole-rupiah cost: half up."""
    total = milli * cost
    return (total + 500) // 1000 if total >= 0 else -((-total + 500) // 1000)


class History:
    """Five years of a cooperative's days, simulated and written as rows."""

    def __init__(self, app, sizes: Sizes, rng: random.Random, started: float, quiet: bool) -> None:
        from inventory.models import Location
        from ledger.models import Account
        from pos.db import db
        from pos.models import BusinessUnit, Outlet

        self.app, self.sizes, self.rng, self.started, self.quiet = app, sizes, rng, started, quiet
        self.zone = ZoneInfo(app.config["KASIR"]["timezone"])
        self.settings = app.config["KASIR"]
        self.today = dt.datetime.now(self.zone).date()
        self.history_end = self.today - dt.timedelta(days=31)  # then the tills ring up the last 30 days themselves
        first = self.today.replace(day=1)
        for _ in range(sizes.years * 12):
            first = (first - dt.timedelta(days=1)).replace(day=1)
        self.start = first
        engine = db.engine
        self.engine = engine
        metadata = db.metadata
        self.tables = {name: metadata.tables[name] for name in Writer.ORDER}
        self.writer = Writer(engine, self.tables)
        session = db.session
        self.units = dict(session.execute(sa.select(BusinessUnit.code, BusinessUnit.id)).all())
        accounts: dict[str, tuple[int, int | None]] = {}
        for account in session.scalars(sa.select(Account)):
            accounts[account.code] = (account.id, account.unit_id)
            if account.key:
                accounts[account.key] = (account.id, account.unit_id)
        self.books = Books(self.writer, accounts, self.units)
        self.locations = {code: (lid, kind, unit) for code, lid, kind, unit in session.execute(
            sa.select(Location.code, Location.id, Location.kind, BusinessUnit.code)
            .join(Outlet, Location.outlet_id == Outlet.id).join(BusinessUnit, Outlet.unit_id == BusinessUnit.id))}
        self.loc = {code: lid for code, (lid, _kind, _unit) in self.locations.items()}
        self.unit_of_location = {lid: unit for _code, (lid, _kind, unit) in self.locations.items()}
        self.karantina_of = {self.loc["AP-APOTEK"]: self.loc["AP-KARANTINA"],
                             self.loc["TK-TOKO"]: self.loc["TK-KARANTINA"],
                             self.loc["GD-GUDANG"]: self.loc["GD-KARANTINA"]}
        self.sp_outlet = session.scalar(sa.select(Outlet.id).where(Outlet.code == self.settings["savings_outlet"]))
        self.seq: dict[str, int] = defaultdict(int)  # document and slip series per year
        self.products: list[ProductState] = []
        self.suppliers: list[tuple[int, str, str, bool]] = []
        self.utang: dict[int, int] = defaultdict(int)  # owed per supplier index
        self.members: list[dict] = []
        self.member_events: dict[dt.date, list[tuple]] = defaultdict(list)
        self.joined: list[dict] = []
        self.sukarela: dict[int, int] = defaultdict(int)
        self.kasbon: dict[int, int] = defaultdict(int)
        self.expiring: dict[dt.date, list[tuple[ProductState, BatchState]]] = defaultdict(list)
        self.quarantined: list[tuple[dt.date, ProductState, BatchState, int]] = []
        self.pending_settlement: dict[str, int] = defaultdict(int)
        self.moves_emitted = 0
        self.sale_moves = 0
        self.sales_posted = 0

    # -- helpers --

    def log(self, message: str) -> None:
        if not self.quiet:
            _log(message, self.started)

    def moment(self, day: dt.date, seconds: int) -> dt.datetime:
        return (dt.datetime.combine(day, dt.time(0, 0), self.zone) + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)

    def number(self, series: str, day: dt.date) -> str:
        key = f"{series}/{day.year}"
        self.seq[key] += 1
        return f"{key}/{self.seq[key]:06d}"

    def move(self, product: ProductState, batch: BatchState | None, milli: int, kind, at: dt.datetime,
             source_type: str, source_id: str, *, src: int | None = None, dst: int | None = None,
             reason: str = "", user: str = "gudang", track: bool = True) -> None:
        """One stock move; `track` False when the day's plan has already counted it in the holder's quantities."""
        self.writer.add("stock_move", {
            "id": self.writer.next_id("stock_move"), "product_id": product.id,
            "batch_id": batch.id if batch else None, "from_location_id": src, "to_location_id": dst,
            "quantity": _qty(milli), "kind": kind, "unit_cost": Decimal(product.cost), "source_type": source_type,
            "source_id": source_id, "reason": reason, "user_name": user, "at": at})
        self.moves_emitted += 1
        if not track:
            return
        holder = batch.qty if batch is not None else product.qty
        if src is not None:
            holder[src] = holder.get(src, 0) - milli
        if dst is not None:
            holder[dst] = holder.get(dst, 0) + milli

    # -- setup --

    def load_reference(self, catalog) -> None:
        """Suppliers, the products' prices and packs from the catalog just loaded, their batches (the loader's
        current ones and one a year before them), the members."""
        from inventory.models import Batch, Product, ProductUnit, Supplier
        from pos.db import db

        with self.engine.begin() as conn:
            for code, name, _medicine in SUPPLIERS:
                conn.execute(sa.insert(Supplier.__table__), {"code": code, "name": name,
                                                             "address": "Banjarmasin", "phone": "0511335" + "0" * 4,
                                                             "npwp": "", "active": True})
            self.suppliers = [(sid, code, name, medicine) for (sid, code, name), (_c, _n, medicine) in zip(
                conn.execute(sa.select(Supplier.id, Supplier.code, Supplier.name).order_by(Supplier.id)).all(),
                SUPPLIERS, strict=True)]
        plain = [i for i, s in enumerate(self.suppliers) if not s[3]]
        medicine = [i for i, s in enumerate(self.suppliers) if s[3]]
        session = db.session
        packs = {pid: (int(factor), name) for pid, factor, name in session.execute(
            sa.select(ProductUnit.product_id, ProductUnit.factor, ProductUnit.name).where(ProductUnit.factor > 1))}
        units = {uid: code for code, uid in self.units.items()}
        batches: dict[int, list[BatchState]] = defaultdict(list)
        for bid, pid, lot, expiry in session.execute(
                sa.select(Batch.id, Batch.product_id, Batch.lot, Batch.expiry_date).order_by(Batch.id)):
            batches[pid].append(BatchState(bid, lot, expiry, expiry))
        toko, apotek = self.loc["TK-TOKO"], self.loc["AP-APOTEK"]
        rows = session.execute(sa.select(Product.id, Product.sku, Product.unit_id, Product.public_price,
                                         Product.member_price, Product.sell_by_weight, Product.tracks_batches,
                                         Product.active).order_by(Product.id)).all()
        session.rollback()
        historical = []
        span = (self.history_end - self.start).days
        for pid, sku, unit_id, price, member_price, by_weight, tracks, active in rows:
            if not active:
                continue
            unit = units[unit_id]
            shelf = apotek if unit == "APOTEK" else toko
            factor, pack = packs.get(pid, (1, ""))
            state = ProductState(pid, sku, shelf, unit, int(price), int(member_price), max(1, int(price) * 8 // 10),
                                 max(1, factor), pack, bool(by_weight),
                                 self.rng.choice(medicine if tracks else plain), None)
            if tracks:
                current = sorted(batches.get(pid, []), key=lambda b: b.expiry)
                # The loader's batches were received in the last year and a half, in the order they expire; one
                # batch a year before them, each expiring 20 months after it came.
                for k, batch in enumerate(current):
                    begin = self.history_end - dt.timedelta(days=480 - 120 * k)
                    batch.start = max(self.start, min(begin, batch.expiry - dt.timedelta(days=45)))
                first_start = min((b.start for b in current), default=self.history_end)
                own = []
                day = self.start + dt.timedelta(days=self.rng.randint(0, 60))
                while day < first_start - dt.timedelta(days=100) and span > 0:
                    lot = f"H{day:%y%m}{len(own)}"
                    own.append(BatchState(self.writer.next_id("batch"), lot, day + dt.timedelta(days=600), day))
                    historical.append({"id": own[-1].id, "product_id": pid, "lot": lot,
                                       "expiry_date": own[-1].expiry, "received_date": day,
                                       "unit_cost": Decimal(state.cost),
                                       "supplier_id": self.suppliers[state.supplier][0]})
                    day += dt.timedelta(days=365)
                state.batches = own + current
                for batch in state.batches:
                    self.expiring[batch.expiry + dt.timedelta(days=1)].append((state, batch))
            self.products.append(state)
        for row in historical:
            self.writer.add("batch", row)
        self.current_batches = [(b.id, b.start) for p in self.products if p.batches for b in p.batches
                                if not b.lot.startswith("H")]
        self._plan_members()
        self.log(f"{len(self.products):,} active products, {len(historical):,} older batches, "
                 f"{len(self.members):,} members planned")

    def _plan_members(self) -> None:
        rng, sizes = self.rng, self.sizes
        days = (self.today - self.start).days
        joins = sorted(self.start + dt.timedelta(days=0 if rng.random() < 0.4 else rng.randint(0, max(days - 30, 0)))
                       for _ in range(sizes.members))
        first_id = self.writer.next_id("member")
        self.writer.next_ids["member"] = first_id + len(joins)
        pokok, wajib = self.settings["simpanan_pokok_amount"], self.settings["simpanan_wajib_amount"]
        for n, join in enumerate(joins):
            female = rng.random() < 0.5
            birth_day = rng.randint(1, 28) + (40 if female else 0)
            member = {"id": first_id + n, "number": f"AGT-{n + 1:05d}",
                      "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                      "nik": f"637102{birth_day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{n + 1:04d}",
                      "address": f"{rng.choice(STREETS)} No. {rng.randint(1, 150)}", "rt": f"{rng.randint(1, 30):03d}",
                      "rw": f"{rng.randint(1, 6):03d}", "kelurahan": rng.choice(KELURAHAN),
                      "phone": f"08{rng.choice(['11', '12', '13', '21', '52', '53'])}{rng.randint(10**7, 10**8 - 1)}",
                      "join_date": join, "status": "active", "left_date": None}
            self.members.append(member)
            self.writer.add("member", member)
            self.member_events[join].append(("join", member, pokok, None))
            arrears = rng.randint(1, 4) if rng.random() < 0.12 else 0
            year, month = join.year, join.month
            last = (self.today.year, self.today.month)
            months = []
            while (year, month) <= last:
                months.append((year, month))
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            for year, month in months[:len(months) - arrears] if arrears else months:
                day = dt.date(year, month, rng.randint(1, 10))
                day = min(max(day, join), self.today)
                self.member_events[day].append(("wajib", member, wajib, f"{year}-{month:02d}"))
            for _ in range(rng.randint(0, max(1, len(months) // 6))):
                day = join + dt.timedelta(days=rng.randint(0, max((self.today - join).days, 0)))
                self.member_events[day].append(("sukarela", member, rng.choice((50_000, 100_000, 250_000, 500_000)),
                                                None))
            for _ in range(rng.randint(0, len(months) // 24)):
                day = join + dt.timedelta(days=rng.randint(30, max((self.today - join).days, 30)))
                if day <= self.today:
                    self.member_events[day].append(("withdraw", member, 0, None))

    # -- the days --

    def run(self) -> None:
        from ledger.entries import EntryDraft, credit, debit

        rng = self.rng
        books = self.books
        day = self.start
        books.post(EntryDraft(date=day, description="Saldo awal koperasi", source_type="opening_balance",
                              source_id="1", unit=None, lines=(
                                  debit("kas:TK", 25_000_000, unit="TOKO"), debit("kas:AP", 15_000_000, unit="APOTEK"),
                                  debit("kas:SP", 30_000_000, unit="SP"), debit("bank", 2_000_000_000, unit="SP"),
                                  debit("bank", 3_000_000_000, unit="GUDANG"),
                                  credit("hibah", 25_000_000, unit="TOKO"), credit("hibah", 15_000_000, unit="APOTEK"),
                                  credit("hibah", 2_030_000_000, unit="SP"),
                                  credit("hibah", 3_000_000_000, unit="GUDANG"))),
                   self.moment(day, 8 * 3600), author="bench")
        # Sales per day: weekends busier, the cooperative growing; scaled so the moves come to the target.
        history_days = max((self.history_end - self.start).days + 1, 1)
        shape = []
        for d in range(history_days):
            current = self.start + dt.timedelta(days=d)
            shape.append((1.3 if current.weekday() >= 5 else 1.0) * (0.6 + 0.8 * d / history_days))
        remaining_shape = sum(shape)
        weights = [1 / (rank + 5) ** 0.8 for rank in range(len(self.products))]
        order = list(range(len(self.products)))
        rng.shuffle(order)
        self.busy_order = order  # order[0] is the busiest product
        cum, total = [], 0.0
        by_rank = [0.0] * len(order)
        for rank, index in enumerate(order):
            by_rank[index] = weights[rank]
        for w in by_rank:
            total += w
            cum.append(total)
        self.busiest = self.products[order[0]] if order else None
        last_report = time.perf_counter()
        d = 0
        while day <= self.today:
            in_history = day <= self.history_end
            self._members_day(day)
            if in_history and self.products:
                ratio = self.sale_moves / self.moves_emitted if self.moves_emitted else 0.8
                wanted = max(0.0, self.sizes.moves - self.moves_emitted) * shape[d] / max(remaining_shape, 1e-9)
                remaining_shape -= shape[d]
                count = int(wanted * ratio / 1.05 + rng.random())
                picks = rng.choices(range(len(self.products)), cum_weights=cum, k=count) if count else []
                self._stock_day(day, picks)
            self._money_day(day, in_history)
            if self.writer.pending >= FLUSH_ROWS:
                self.writer.flush()
            if time.perf_counter() - last_report > 15:
                last_report = time.perf_counter()
                self.log(f"history at {day.isoformat()}: {self.moves_emitted:,} moves, "
                         f"{self.writer.next_ids['posting'] - 1:,} postings")
            day += dt.timedelta(days=1)
            d += 1
        self.writer.flush()

    def _members_day(self, day: dt.date) -> None:
        from ledger.models import SavingsKind, SlipKind
        from ledger.posting_rules import (
            SavingsSummary,
            kasbon_repayment_entry,
            savings_deposit_entry,
            savings_withdrawal_entry,
        )

        events = self.member_events.pop(day, [])
        events.sort(key=lambda e: (e[0] != "join", e[1]["id"]))
        for n, (what, member, amount, period) in enumerate(events):
            at = self.moment(day, 8 * 3600 + 60 * n % 36_000)
            if what == "join":
                self.joined.append(member)
                self.writer.add("audit_entry", {"at": at, "actor_id": None, "actor_name": "pengurus",
                                                "approver_id": None, "approver_name": "", "action": "member.registered",
                                                "target_type": "member", "target_id": member["number"], "before": None,
                                                "after": {"name": member["name"], "join_date": day.isoformat()},
                                                "reason": "", "ip": "127.0.0.1"})
                kind, savings, rule = SlipKind.DEPOSIT, SavingsKind.POKOK, savings_deposit_entry
            elif what == "wajib":
                kind, savings, rule = SlipKind.DEPOSIT, SavingsKind.WAJIB, savings_deposit_entry
            elif what == "sukarela":
                kind, savings, rule = SlipKind.DEPOSIT, SavingsKind.SUKARELA, savings_deposit_entry
                self.sukarela[member["id"]] += amount
            elif what == "withdraw":
                amount = self.sukarela[member["id"]] // 2 // 1000 * 1000
                if amount < 50_000:
                    continue
                self.sukarela[member["id"]] -= amount
                kind, savings, rule = SlipKind.WITHDRAWAL, SavingsKind.SUKARELA, savings_withdrawal_entry
            else:  # kasbon repayment
                amount = min(amount, self.kasbon[member["id"]])
                if amount <= 0:
                    continue
                self.kasbon[member["id"]] -= amount
                kind, savings, rule = SlipKind.KASBON_REPAYMENT, None, kasbon_repayment_entry
            number = self.number("SLP", day)
            summary = SavingsSummary(slip_id=number, number=number, date=day, member_id=member["id"],
                                     kind=(savings or SavingsKind.SUKARELA).value, amount=amount,
                                     cash_account="kas:SP", unit="SP")
            entry_id = self.books.post(rule(summary), at, author="kasir")
            self.writer.add("slip", {"id": self.writer.next_id("slip"), "number": number, "member_id": member["id"],
                                     "kind": kind, "savings_kind": savings, "period": period, "amount": amount,
                                     "date": day, "outlet_id": self.sp_outlet, "entry_id": entry_id,
                                     "created_by": "kasir", "created_at": at})

    def _stock_day(self, day: dt.date, picks: list[int]) -> None:
        rng = self.rng
        gudang = self.loc["GD-GUDANG"]
        self._expire(day)
        receipts: dict[int, list[tuple[ProductState, BatchState | None, int]]] = defaultdict(list)
        transfers: dict[int, list[tuple[ProductState, BatchState | None, int]]] = defaultdict(list)
        sales: dict[int, list[tuple[ProductState, BatchState | None, int]]] = defaultdict(list)
        for index in picks:
            p = self.products[index]
            if p.by_weight:
                q = rng.randint(5, 60) * 50
            else:
                q = rng.choice((1, 1, 1, 2, 2, 3, 4, 6)) * 1000
            pack = p.factor * 1000
            if p.batches is None:
                shelf = p.qty.get(p.shelf, 0)
                if shelf < q:
                    t = max(q - shelf, pack * rng.randint(1, 2))
                    held = p.qty.get(gudang, 0)
                    if held < t:
                        r = -(-(t - held) // pack) * pack * rng.choice((1, 1, 2, 3))
                        receipts[p.supplier].append((p, None, r))
                        p.qty[gudang] = held + r
                    transfers[p.shelf].append((p, None, t))
                    p.qty[gudang] -= t
                    p.qty[p.shelf] = shelf + t
                p.qty[p.shelf] -= q
                sales[p.shelf].append((p, None, q))
                continue
            sellable = sorted((b for b in p.batches if b.start <= day <= b.expiry), key=lambda b: (b.expiry, b.id))
            if not sellable:
                continue
            on_shelf = sum(b.qty.get(p.shelf, 0) for b in sellable)
            if on_shelf < q:
                t = max(q - on_shelf, pack * rng.randint(1, 2))
                held = sum(b.qty.get(gudang, 0) for b in sellable)
                if held < t:
                    newest = max(sellable, key=lambda b: (b.start, b.id))
                    r = -(-(t - held) // pack) * pack * rng.choice((1, 1, 2, 3))
                    receipts[p.supplier].append((p, newest, r))
                    newest.qty[gudang] = newest.qty.get(gudang, 0) + r
                left = t
                for b in sellable:
                    take = min(b.qty.get(gudang, 0), left)
                    if take > 0:
                        transfers[p.shelf].append((p, b, take))
                        b.qty[gudang] -= take
                        b.qty[p.shelf] = b.qty.get(p.shelf, 0) + take
                        left -= take
                    if not left:
                        break
            left = q
            for b in sellable:
                take = min(b.qty.get(p.shelf, 0), left)
                if take > 0:
                    sales[p.shelf].append((p, b, take))
                    b.qty[p.shelf] -= take
                    left -= take
                if not left:
                    break
        # The day written in its order: receipts in the morning, the shelves filled, then the tills.
        for supplier, lines in sorted(receipts.items()):
            self._receipt(day, supplier, lines)
        for shelf, lines in sorted(transfers.items()):
            self._transfer(day, shelf, lines)
        for shelf, lines in sorted(sales.items()):
            self._sales(day, shelf, lines)
        if (day + dt.timedelta(days=1)).day == 1:
            for code in ("TK-TOKO", "AP-APOTEK", "GD-GUDANG"):
                self._count(day, self.loc[code])
        if day.day == 1 and day.month in (1, 4, 7, 10):
            self._write_off_karantina(day)

    def _receipt(self, day: dt.date, supplier: int, lines) -> None:
        from inventory.models import MoveKind
        from ledger.posting_rules import GoodsReceiptSummary, goods_receipt_entry

        sid, code, name, _medicine = self.suppliers[supplier]
        number = self.number("PB", day)
        doc_id = self.writer.next_id("stock_document")
        at = self.moment(day, 8 * 3600 + supplier * 600)
        gudang = self.loc["GD-GUDANG"]
        total = 0
        for p, batch, milli in lines:
            self.move(p, batch, milli, MoveKind.RECEIPT, at, "receipt", number, dst=gudang, track=False)
            total += _value(milli, p.cost)
            packs = milli // (p.factor * 1000) if p.factor > 1 and milli % (p.factor * 1000) == 0 else None
            self.writer.add("stock_document_line", {
                "id": self.writer.next_id("stock_document_line"), "document_id": doc_id, "product_id": p.id,
                "batch_id": batch.id if batch else None, "quantity": _qty(milli), "expected": None, "counted": None,
                "unit_cost": Decimal(p.cost), "entered_unit": p.pack if packs else "",
                "entered_quantity": Decimal(packs) if packs else _qty(milli), "reason": ""})
        credit = self.rng.random() < 0.8
        entry_id = None
        if total:
            summary = GoodsReceiptSummary(receipt_id=number, number=number, date=day, unit="GUDANG", supplier=name,
                                          inventory_cost=total, on_credit=total if credit else 0,
                                          paid_bank=0 if credit else total)
            entry_id = self.books.post(goods_receipt_entry(summary), at, author="gudang")
            if credit:
                self.utang[supplier] += total
        self.writer.add("stock_document", {
            "id": doc_id, "number": number, "kind": "receipt", "status": "done", "date": day, "from_location_id": None,
            "to_location_id": gudang, "supplier_id": sid, "invoice_number": f"INV-{code}-{number.replace('/', '')}",
            "payment": "credit" if credit else "bank", "total": total, "reason": "", "entry_id": entry_id,
            "created_by": "gudang", "approved_by": "", "created_at": at})

    def _transfer(self, day: dt.date, shelf: int, lines) -> None:
        from inventory.models import MoveKind
        from ledger.posting_rules import TransferSummary, transfer_entry

        number = self.number("MT", day)
        doc_id = self.writer.next_id("stock_document")
        sent, came = self.moment(day, 9 * 3600), self.moment(day, 9 * 3600 + 1800)
        gudang = self.loc["GD-GUDANG"]
        total = 0
        for p, batch, milli in lines:
            self.move(p, batch, milli, MoveKind.TRANSFER, sent, "transfer", number, src=gudang, track=False)
            self.move(p, batch, milli, MoveKind.TRANSFER, came, "transfer", number, dst=shelf, track=False)
            total += _value(milli, p.cost)
            self.writer.add("stock_document_line", {
                "id": self.writer.next_id("stock_document_line"), "document_id": doc_id, "product_id": p.id,
                "batch_id": batch.id if batch else None, "quantity": _qty(milli), "expected": None, "counted": None,
                "unit_cost": Decimal(p.cost), "entered_unit": "", "entered_quantity": None, "reason": ""})
        unit = self.unit_of_location[shelf]
        entry_id = None
        if total:
            summary = TransferSummary(number, number, day, "GUDANG", unit, total)
            entry_id = self.books.post(transfer_entry(summary), came, author="gudang")
        self.writer.add("stock_document", {
            "id": doc_id, "number": number, "kind": "transfer", "status": "received", "date": day,
            "from_location_id": gudang, "to_location_id": shelf, "supplier_id": None, "invoice_number": None,
            "payment": None, "total": total, "reason": "", "entry_id": entry_id, "created_by": "gudang",
            "approved_by": "manajer" if unit == "TOKO" else "apoteker", "created_at": sent})

    def _sales(self, day: dt.date, shelf: int, lines) -> None:
        from inventory.models import MoveKind
        from ledger.posting_rules import Payments, SaleSummary, sale_entry

        rng = self.rng
        unit = self.unit_of_location[shelf]
        outlet = "TK" if unit == "TOKO" else "AP"
        groups = []
        i = 0
        while i < len(lines):
            size = rng.randint(1, 2 * self.sizes.sale_lines - 1)
            groups.append(lines[i:i + size])
            i += size
        seconds = sorted(rng.randint(10 * 3600, 21 * 3600) for _ in groups)
        for k, (group, second) in enumerate(zip(groups, seconds, strict=True)):
            member = rng.choice(self.joined) if self.joined and rng.random() < 0.45 else None
            sale_id = f"{outlet}-{day:%Y%m%d}-H{k + 1:04d}"
            at = self.moment(day, second)
            cashier = "kasir" if outlet == "TK" else "apoteker"
            revenue = cost = 0
            for p, batch, milli in group:
                self.move(p, batch, milli, MoveKind.SALE, at, "sale", sale_id, src=shelf, user=cashier, track=False)
                self.sale_moves += 1
                revenue += _value(milli, p.member_price if member else p.price)
                cost += _value(milli, p.cost)
            roll = rng.random()
            pay = {"cash": 0, "qris": 0, "transfer": 0, "kasbon": 0, "debit": 0}
            if member and roll > 0.96 and revenue <= 300_000 and self.kasbon[member["id"]] < 500_000:
                pay["kasbon"] = revenue
                self.kasbon[member["id"]] += revenue
                repay = day + dt.timedelta(days=rng.randint(5, 25))
                self.member_events[repay].append(("kasbon", member, revenue, None))
            elif roll < 0.62:
                pay["cash"] = revenue
            elif roll < 0.85:
                pay["qris"] = revenue
            elif roll < 0.92:
                pay["debit"] = revenue
            else:
                pay["transfer"] = revenue
            if not revenue:
                continue
            summary = SaleSummary(sale_id=sale_id, number=sale_id, date=day, unit=unit, cash_account=f"kas:{outlet}",
                                  revenue=revenue, ppn=0, cost=cost, payments=Payments(**pay),
                                  member_id=member["id"] if member else None)
            self.books.post(sale_entry(summary), at, author=cashier)
            self.sales_posted += 1
            for method in ("qris", "debit", "transfer"):
                self.pending_settlement[method] += pay[method]

    def _count(self, day: dt.date, location: int) -> None:
        from inventory.models import MoveKind
        from ledger.posting_rules import StockAdjustmentSummary, stock_adjustment_entry

        rng = self.rng
        candidates = [p for p in rng.sample(self.products, min(len(self.products), self.sizes.counted * 3))
                      if p.shelf == location or location == self.loc["GD-GUDANG"]]
        if not candidates:
            return
        number = self.number("SO", day)
        doc_id = self.writer.next_id("stock_document")
        at = self.moment(day, 21 * 3600)
        gain = loss = 0
        lines = 0
        for p in candidates[:self.sizes.counted]:
            batch = None
            if p.batches is not None:
                held = [b for b in p.batches if b.qty.get(location, 0) > 0]
                if not held:
                    continue
                batch = rng.choice(held)
                expected = batch.qty[location]
            else:
                expected = p.qty.get(location, 0)
            step = 50 if p.by_weight else 1000
            variance = rng.choice((-3, -2, -1, -1, 1, 1, 2)) * step
            if expected + variance < 0:
                variance = step
            if variance > 0:
                self.move(p, batch, variance, MoveKind.ADJUSTMENT, at, "count", number, dst=location,
                          reason="stock opname", user="manajer")
                gain += _value(variance, p.cost)
            else:
                self.move(p, batch, -variance, MoveKind.ADJUSTMENT, at, "count", number, src=location,
                          reason="stock opname", user="manajer")
                loss += _value(-variance, p.cost)
            lines += 1
            self.writer.add("stock_document_line", {
                "id": self.writer.next_id("stock_document_line"), "document_id": doc_id, "product_id": p.id,
                "batch_id": batch.id if batch else None, "quantity": _qty(variance), "expected": _qty(expected),
                "counted": _qty(expected + variance), "unit_cost": Decimal(p.cost), "entered_unit": "",
                "entered_quantity": None, "reason": ""})
        unit = self.unit_of_location[location]
        first_entry = None
        for amount, suffix in ((gain, "lebih"), (-loss, "kurang")):
            if amount:
                entry_id = self.books.post(stock_adjustment_entry(StockAdjustmentSummary(
                    f"{number}:{suffix}", day, unit, amount, f"opname {number}")), at, author="manajer")
                first_entry = first_entry or entry_id
        self.writer.add("stock_document", {
            "id": doc_id, "number": number, "kind": "count", "status": "approved", "date": day,
            "from_location_id": location, "to_location_id": None, "supplier_id": None, "invoice_number": None,
            "payment": None, "total": gain - loss, "reason": "", "entry_id": first_entry, "created_by": "gudang",
            "approved_by": "manajer", "created_at": self.moment(day, 19 * 3600)})

    def _expire(self, day: dt.date) -> None:
        """Batches past their expiry date leave the shelves and the warehouse for karantina (the daily job)."""
        from inventory.models import MoveKind

        at = self.moment(day, 7 * 3600)
        for p, batch in self.expiring.pop(day, []):
            for location in sorted(batch.qty):
                milli = batch.qty[location]
                target = self.karantina_of.get(location)
                if milli <= 0 or target is None:
                    continue
                self.move(p, batch, milli, MoveKind.QUARANTINE, at, "quarantine", day.isoformat(), src=location,
                          dst=target, reason="kedaluwarsa", user="system")
                self.quarantined.append((day, p, batch, target))

    def _write_off_karantina(self, day: dt.date) -> None:
        from inventory.models import MoveKind
        from ledger.posting_rules import WriteOffSummary, write_off_entry

        due = [q for q in self.quarantined if (day - q[0]).days >= 60]
        self.quarantined = [q for q in self.quarantined if (day - q[0]).days < 60]
        by_location: dict[int, list[tuple[ProductState, BatchState]]] = defaultdict(list)
        for _when, p, batch, location in due:
            if batch.qty.get(location, 0) > 0 and (p, batch) not in by_location[location]:
                by_location[location].append((p, batch))
        for location, lines in sorted(by_location.items()):
            number = self.number("PM", day)
            doc_id = self.writer.next_id("stock_document")
            at = self.moment(day, 16 * 3600)
            total = 0
            for p, batch in lines:
                milli = batch.qty[location]
                self.move(p, batch, milli, MoveKind.WRITE_OFF, at, "write_off", number, src=location,
                          reason="kedaluwarsa", user="apoteker")
                total += _value(milli, p.cost)
                self.writer.add("stock_document_line", {
                    "id": self.writer.next_id("stock_document_line"), "document_id": doc_id, "product_id": p.id,
                    "batch_id": batch.id, "quantity": _qty(milli), "expected": None, "counted": None,
                    "unit_cost": Decimal(p.cost), "entered_unit": "", "entered_quantity": None,
                    "reason": "kedaluwarsa"})
            unit = self.unit_of_location[location]
            entry_id = self.books.post(write_off_entry(WriteOffSummary(number, day, unit, total, "kedaluwarsa")), at,
                                       author="apoteker") if total else None
            self.writer.add("stock_document", {
                "id": doc_id, "number": number, "kind": "write_off", "status": "done", "date": day,
                "from_location_id": location, "to_location_id": None, "supplier_id": None, "invoice_number": None,
                "payment": None, "total": total, "reason": "kedaluwarsa", "entry_id": entry_id,
                "created_by": "apoteker", "approved_by": "", "created_at": at})

    def _money_day(self, day: dt.date, in_history: bool) -> None:
        """Takings banked, QRIS, card and transfer settlements, suppliers paid and running costs at month end."""
        from ledger.entries import EntryDraft, credit, debit
        from ledger.posting_rules import SupplierPaymentSummary, supplier_payment_entry

        books, rng = self.books, self.rng
        at = self.moment(day, 17 * 3600)
        settled = [(method, amount) for method, amount in self.pending_settlement.items() if amount]
        if settled:
            total = sum(amount for _m, amount in settled)
            key = {"qris": "qris", "debit": "edc", "transfer": "transfer"}
            books.post(EntryDraft(date=day, description="Pelunasan QRIS, EDC dan transfer dari bank",
                                  source_type="settlement", source_id=f"settle-{day.isoformat()}", unit="SP",
                                  lines=(debit("bank", total), *(credit(key[m], a) for m, a in settled))), at)
            self.pending_settlement.clear()
        for outlet, unit in (("TK", "TOKO"), ("AP", "APOTEK")):
            cash = books.balance[f"kas:{outlet}"]
            if cash > 10_000_000:
                moved = (cash - 3_000_000) // 1_000_000 * 1_000_000
                books.post(EntryDraft(date=day, description=f"Setor kas {outlet} ke bank", source_type="banking",
                                      source_id=f"{outlet}-{day.isoformat()}", unit=unit,
                                      lines=(debit("bank", moved), credit(f"kas:{outlet}", moved))), at)
        if day.day != 25:
            return
        cash = books.balance["kas:SP"]
        if cash > 40_000_000:
            moved = (cash - 30_000_000) // 1_000_000 * 1_000_000
            books.post(EntryDraft(date=day, description="Setor kas SP ke bank", source_type="banking",
                                  source_id=f"SP-{day.isoformat()}", unit="SP",
                                  lines=(debit("bank", moved), credit("kas:SP", moved))), at)
        for supplier, owed in sorted(self.utang.items()):
            if owed > 0:
                sid, code, name, _medicine = self.suppliers[supplier]
                books.post(supplier_payment_entry(SupplierPaymentSummary(
                    f"BYR/{code}/{day:%Y%m}", day, "GUDANG", name, owed, "bank")), at, author="manajer")
                self.utang[supplier] = 0
        scale = max(self.sizes.products / FULL_PRODUCTS, 0.01)
        for key, amount, unit, paid_from in (
                ("beban_gaji", 18_000_000, "TOKO", "bank"), ("beban_gaji", 9_000_000, "APOTEK", "bank"),
                ("beban_gaji", 7_000_000, "GUDANG", "bank"), ("beban_gaji", 4_000_000, "SP", "bank"),
                ("beban_listrik", rng.randint(2_000, 3_500) * 1000, "TOKO", "bank"),
                ("beban_listrik", rng.randint(700, 1_200) * 1000, "APOTEK", "bank"),
                ("beban_sewa", 5_000_000, "GUDANG", "bank"),
                ("beban_atk", rng.randint(200, 600) * 1000, "SP", "kas:SP")):
            amount = max(1000, int(amount * scale) // 1000 * 1000)
            books.post(EntryDraft(date=day, description=f"Pembayaran {key.replace('_', ' ')} {day:%Y-%m}",
                                  source_type="expense", source_id=f"{key}-{unit}-{day:%Y-%m}", unit=unit,
                                  lines=(debit(key, amount), credit(paid_from, amount))), at, author="manajer")
        if in_history:
            for _ in range(10):
                user = rng.choice(("kasir", "manajer", "gudang", "apoteker", "pengurus"))
                self.writer.add("audit_entry", {"at": self.moment(day, rng.randint(7 * 3600, 20 * 3600)),
                                                "actor_id": None, "actor_name": user, "approver_id": None,
                                                "approver_name": "", "action": "login.success", "target_type": "",
                                                "target_id": "", "before": None, "after": {"via": "password"},
                                                "reason": "", "ip": "127.0.0.1"})

    # -- after the history --

    def finish_stock(self) -> dict:
        """Stock levels as the sums of the moves, the units' average costs, the batches' receiving dates, and the
        number sequences where the history left them."""
        from inventory.models import ProductCost, StockLevel
        from ledger.models import Sequence

        levels, costs, received = [], {}, []
        gudang = self.loc["GD-GUDANG"]
        for p in self.products:
            holders = [(None, p.qty)] if p.batches is None else [(b, b.qty) for b in p.batches]
            for batch, qty in holders:
                for location, milli in qty.items():
                    levels.append({"product_id": p.id, "batch_id": batch.id if batch else None,
                                   "location_id": location, "quantity": _qty(milli)})
            for location in (p.shelf, gudang):
                costs[(p.id, self.units[self.unit_of_location[location]])] = Decimal(p.cost)
        for batch_id, start in self.current_batches:
            received.append({"_id": batch_id, "_date": start})
        sequences = [{"name": name, "value": value} for name, value in self.seq.items()]
        sequences += [{"name": f"JU/{year}", "value": value} for year, value in self.books.sequence.items()]
        sequences.append({"name": "AGT/0", "value": len(self.members)})
        batch = self.tables["batch"]
        with self.engine.begin() as conn:
            conn.execute(sa.delete(StockLevel.__table__))
            for start in range(0, len(levels), 10_000):
                conn.execute(sa.insert(StockLevel.__table__), levels[start:start + 10_000])
            rows = [{"product_id": pid, "unit_id": uid, "average_cost": cost} for (pid, uid), cost in costs.items()]
            for start in range(0, len(rows), 10_000):
                conn.execute(sa.insert(ProductCost.__table__), rows[start:start + 10_000])
            if received:
                conn.execute(sa.update(batch).where(batch.c.id == sa.bindparam("_id"))
                             .values(received_date=sa.bindparam("_date")), received)
            names = set(conn.execute(sa.select(Sequence.name)).scalars())
            for row in sequences:
                if row["name"] in names:
                    conn.execute(sa.update(Sequence.__table__).where(Sequence.name == row["name"])
                                 .values(value=row["value"]))
                else:
                    conn.execute(sa.insert(Sequence.__table__), row)
        return {"stock_levels": len(levels), "product_costs": len(rows)}


# --- after the bulk load: the app's own use cases ----------------------------------------------------------------


def reset_id_sequences(engine: sa.Engine) -> None:
    """PostgreSQL: the rows came with their ids, so each table's id sequence is moved past the highest one (the
    app's own inserts would collide otherwise). SQLite needs nothing."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for (name,) in conn.execute(sa.text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND column_name = 'id' AND (column_default LIKE :serial OR is_identity = 'YES')"),
                {"serial": "nextval%"}).all():
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608
                                 f"coalesce((SELECT max(id) FROM \"{name}\"), 0) + 1, false)")  # the schema's names


def close_past_years(history: History) -> list[int]:
    """Close each ended year the app's way (its months, the closing entry, the chain head), oldest first, leaving
    open the year the tills' last 30 days fall in."""
    from ledger import journal
    from pos.db import db, write_transaction

    closed = []
    for year in range(history.start.year, history.today.year):
        if dt.date(year, 12, 31) >= history.today - dt.timedelta(days=32):
            break
        with write_transaction():
            journal.close_year(year, None, closed_by="pengurus", on=history.today)
        closed.append(year)
    db.session.remove()
    return closed


def ring_up_recent(history: History, started: float) -> dict:
    """The last 30 days at the tills through the checkout service: a shift per till and day, sales to walk-in
    customers and members, paid in cash, QRIS, card, transfer; each shift closed with its drawer counted; today's
    shift open on TK01 with a few sales and one QRIS sale waiting for its payment."""
    import uuid

    from inventory.models import DrugClass, Product
    from ledger.models import Member
    from pos.db import db
    from pos.errors import PosError
    from pos.models import User
    from pos.sales import services
    from pos.sales.requests import cart_from_json, sale_from_json

    rng = random.Random(3101)
    toko, apotek = history.loc["TK-TOKO"], history.loc["AP-APOTEK"]
    sellable_classes = (None, DrugClass.BEBAS, DrugClass.BEBAS_TERBATAS)
    classes = dict(db.session.execute(sa.select(Product.id, Product.drug_class)).all())
    goods: dict[int, list[tuple[ProductState, BatchState | None]]] = {toko: [], apotek: []}
    horizon = history.today
    for p in history.products:
        if classes.get(p.id) not in sellable_classes or p.by_weight:
            continue
        if p.batches is None:
            if p.qty.get(p.shelf, 0) >= 40_000:
                goods[p.shelf].append((p, None))
        elif any(b.qty.get(p.shelf, 0) >= 40_000 and b.expiry > horizon for b in p.batches):
            goods[p.shelf].append((p, None))
    for shelf in goods:
        rng.shuffle(goods[shelf])
        goods[shelf] = goods[shelf][:400]
    members = [number for (number,) in db.session.execute(
        sa.select(Member.number).where(Member.join_date <= history.today - dt.timedelta(days=31)))]
    tills = (("TK01", "kasir", 300_000, toko), ("TK02", "manajer", 200_000, toko),
             ("AP01", "apoteker", 200_000, apotek))
    count = 0
    failures = 0
    day = history.today - dt.timedelta(days=30)

    def sell(code, cashier, shelf, moment, qris_pending=False):
        nonlocal count, failures
        picks = rng.sample(goods[shelf], min(len(goods[shelf]), rng.randint(1, 5)))
        lines = [{"code": p.sku, "qty": str(rng.randint(1, 3))} for p, _b in picks]
        if not lines:
            return None
        member = rng.choice(members) if members and rng.random() < 0.45 else None
        cart = {"till": code, "lines": lines, "member": member}
        try:
            total = services.ring_up(cart_from_json(cart), cashier).total
            roll = rng.random()
            if qris_pending or roll < 0.25:
                payments = [{"method": "qris", "amount": total}]
            elif roll < 0.32:
                payments = [{"method": "debit", "amount": total, "reference": f"{rng.randint(100000, 999999)}"}]
            else:
                payments = [{"method": "cash", "amount": -(-total // 50_000) * 50_000}]
            body = {"id": str(uuid.uuid4()), **cart, "payments": payments}
            sale, _ = services.complete_sale(sale_from_json(body), cashier, at=moment)
            if sale.status == "pending" and not qris_pending:
                sale = services.confirm_payment(sale.uuid, cashier, at=moment + dt.timedelta(minutes=1))
            count += 1
            return sale
        except PosError:
            db.session.rollback()
            failures += 1
            return None

    while day <= history.today:
        for code, name, opening, shelf in tills:
            cashier = db.session.scalar(sa.select(User).where(User.username == name))
            if day == history.today:
                if code != "TK01":
                    continue
                now = dt.datetime.now(dt.UTC)
                opened = min(now - dt.timedelta(minutes=30), history.moment(day, 7 * 3600 + 1800))
                services.open_shift(code, opening, cashier, at=opened)
                for k in range(3):
                    sell(code, cashier, shelf, opened + dt.timedelta(minutes=5 + k))
                sell(code, cashier, shelf, opened + dt.timedelta(minutes=9), qris_pending=True)
                continue
            shift, _ = services.open_shift(code, opening, cashier, at=history.moment(day, 7 * 3600 + 1800))
            shift_id = shift.id
            minutes = sorted(rng.sample(range(30, 12 * 60), history.sizes.recent_per_till))
            for offset in minutes:
                sell(code, cashier, shelf, history.moment(day, 8 * 3600 + offset * 60))
            shift = services.shift_by_id(shift_id)
            expected = services.shift_totals(shift).expected_cash
            counted = expected - (rng.choice((500, 1_000)) if rng.random() < 0.15 else 0)
            services.close_shift(shift_id, services.CashCount(counted), cashier,
                                 at=history.moment(day, 20 * 3600 + 1800))
        db.session.remove()
        day += dt.timedelta(days=1)
    _log(f"the tills rang up {count:,} sales in the last 30 days ({failures} refused)", started)
    return {"recent_sales": count, "recent_refused": failures}


def open_count_sheet(history: History) -> None:
    """An open stock count of the warehouse's karantina, so the count sheet page has one."""
    from inventory import services
    from pos.db import db, write_transaction
    from pos.models import User

    with write_transaction():
        user = db.session.scalar(sa.select(User).where(User.username == "gudang"))
        services.open_count(services.location_by_code("GD-KARANTINA"), history.today, user)
    db.session.remove()


def build(sizes: Sizes, url: str, instance: Path, *, seed: int = 1, started: float | None = None,
          quiet: bool = False) -> dict:
    """Build the database at `url` (empty) and return what was built."""
    from pos.db import db

    started = time.perf_counter() if started is None else started

    def say(message: str) -> None:
        if not quiet:
            _log(message, started)

    rng = random.Random(seed)
    say(f"building {url}: schema (migrations), demo cooperative and users, chart, locations")
    app = build_app(str(instance), url)
    t0 = time.perf_counter()
    catalog = load_catalog(app, sizes.products, sizes.barcodes, rng, started) if not quiet else _quiet(
        load_catalog, app, sizes.products, sizes.barcodes, rng, started)
    say(f"catalog loaded in {time.perf_counter() - t0:.1f} s: " + ", ".join(
        f"{k} {v:,}" for k, v in catalog.rows.items()))
    meta: dict = {}
    with app.app_context():
        history = History(app, sizes, rng, started, quiet)
        history.load_reference(catalog)
        del catalog
        t0 = time.perf_counter()
        history.run()
        say(f"history {history.start} to {history.history_end} (members to {history.today}) in "
            f"{time.perf_counter() - t0:.1f} s: {history.moves_emitted:,} moves, "
            f"{history.writer.counts['journal_entry']:,} entries, {history.writer.counts['posting']:,} postings, "
            f"{history.writer.counts['slip']:,} slips, {history.writer.counts['stock_document']:,} documents")
        meta.update(history.finish_stock())
        reset_id_sequences(db.engine)
        db.session.remove()
        # Summaries of the moves and postings (tables of later migrations) before the app's own use cases run:
        # those keep them up to date themselves.
        meta["rebuilt"] = run_rebuild_hooks(say)
        t0 = time.perf_counter()
        meta["closed_years"] = close_past_years(history)
        say(f"years closed the app's way: {meta['closed_years']} ({time.perf_counter() - t0:.1f} s)")
        t0 = time.perf_counter()
        meta.update(ring_up_recent(history, started))
        open_count_sheet(history)
        say(f"recent sales and an open count in {time.perf_counter() - t0:.1f} s")
        meta.update({
            "moves": history.moves_emitted, "entries": history.writer.counts["journal_entry"],
            "postings": history.writer.counts["posting"], "slips": history.writer.counts["slip"],
            "members": len(history.members), "documents": history.writer.counts["stock_document"],
            "history_start": history.start.isoformat(), "history_end": history.history_end.isoformat(),
            "busy_sku": history.busiest.sku if history.busiest else None,
        })
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.remove()
        db.engine.dispose()
    return meta


def _quiet(function, *args):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args)


def check(db_: BigDatabase) -> dict[str, list[str]]:
    """`stock check`, `ledger check` and the sales check on the built database (problems, empty when clean)."""
    from inventory import stock
    from ledger.checks import check_books
    from pos.db import db
    from pos.sales.checks import check_sales

    app = _app(db_.url, db_.instance)
    with app.app_context():
        drift = [f"product {p.product_id} batch {p.batch_id} location {p.location_id}: recorded {p.recorded}, "
                 f"moves say {p.from_moves}" for p in stock.check_drift()]
        db.session.remove()
        books, _tb = check_books()
        db.session.remove()
        sales = check_sales()
        db.session.remove()
        db.engine.dispose()
    return {"stock": drift, "ledger": books, "sales": sales}


# --- command line ------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bigdata", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=FULL_PRODUCTS)
    parser.add_argument("--moves", type=int, default=None, help="stock moves (default 10 per product)")
    parser.add_argument("--members", type=int, default=None, help="members (default 2000 at 100 000 products)")
    parser.add_argument("--database-url", default=None,
                        help=f"default sqlite in {CACHE_DIR}; e.g. postgresql+psycopg://postgres@127.0.0.1/"
                             f"{BIG_DATABASE_NAME} (never `test`)")
    parser.add_argument("--rebuild", action="store_true", help="build again even if a cached database fits")
    parser.add_argument("--check", action="store_true", help="run stock check, ledger check and the sales check")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write-path", default=None, help="write the database's URL and a serving recipe here")
    args = parser.parse_args(argv)
    if args.products < 50:
        parser.error("--products must be at least 50")
    if args.database_url and not _is_sqlite(args.database_url):
        _check_postgres_name(args.database_url)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    big = ensure(args.products, args.database_url, rebuild=args.rebuild, moves=args.moves, members=args.members,
                 seed=args.seed, started=started)
    print(json.dumps({k: v for k, v in big.meta.items() if k != "upgrades"}, indent=2, default=str))
    print(big.recipe())
    if args.write_path:
        Path(args.write_path).write_text(f"{big.path or big.url}\n{big.url}\n{big.recipe()}\n")
    if args.check:
        problems = check(big)
        for kind, found in problems.items():
            print(f"{kind} check: {'ok' if not found else f'{len(found)} problem(s)'}")
            for line in found[:20]:
                print(f"  {line}")
        return 1 if any(problems.values()) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
