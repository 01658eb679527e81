"""Checkout benchmark: what a sale costs, and how many sales the real server takes at once.

    .venv/bin/python -m bench.checkout [--sales 200] [--lines 10] [--seconds 20] [--tills 1,4]
                                       [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
                                       [--page-products 100000] [--skip-page] [--json FILE] [--write-doc]

1. Service against its floor: a sale of `--lines` lines through `pos.sales.services.complete_sale` (pricing, tax,
   FEFO, stock, journal, receipt job), interleaved with the floor: the same rows written by bare SQL (SQLAlchemy
   Core) in one transaction that takes the write lock the same way. Reported as the ratio of the medians.
2. Throughput over HTTP: the production server (waitress, as `make run` starts it) with 1 and 4 tills, each a
   client thread sending 3-line cash sales back to back for `--seconds`; sales per second, latency, errors, and
   afterwards the "nothing lost" check (every sale booked once, stock exact, no number twice).
3. The till page at `--page-products` products (SQLite): Chromium opens it, and we time from the navigation to a
   scan field with the focus and the page's script running (time to usable), then scans to priced lines.

With `--database-url` (a PostgreSQL server) parts 1 and 2 run in a database `kasir_bench_<pid>` created there and
dropped afterwards; otherwise everything is SQLite in a temporary directory. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.lookup import log, machine, percentile

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "performance.md"
DOC_START = "<!-- bench:checkout:start -->"
DOC_END = "<!-- bench:checkout:end -->"
BIN = Path(sys.executable).parent
TARGET_RATIO = 3.0
TARGET_SALES_PER_SECOND = 50.0
TARGET_USABLE_MS = 1000.0
PRODUCTS = 40


def median(values: list[float]) -> float:
    return percentile(sorted(values), 0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the shop -------------------------------------------------------------------------------------------------------


def make_app(instance: str, database_url: str):
    from pos.app import create_app

    return create_app({"INSTANCE_PATH": instance, "database_url": database_url, "devices_autostart": False,
                       "password_hash_method": "pbkdf2:sha256:1000"})


class PrinterSink:
    """A network receipt printer on 127.0.0.1: takes every job's bytes and throws them away (as a real one prints
    them), so the tills print over TCP as in a shop, not into files."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.jobs = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.5)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                return
            self.jobs += 1

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


def build_shop(app, tills: int, printer: str = "") -> list[str]:
    """Migrations, the demo cooperative, a chart, PRODUCTS products with plenty of stock on TK's shelf (received
    from a supplier, so stock moves and books agree), and `tills` extra tills. Returns the products' barcodes."""
    from flask_migrate import upgrade

    from inventory import catalog, services
    from inventory.barcodes import gs1_check_digit
    from inventory.catalog import ProductInput
    from inventory.models import Supplier
    from inventory.setup import ensure_categories, ensure_locations
    from ledger.accounts import seed_chart
    from pos.db import db, write_transaction
    from pos.demo import load_demo
    from pos.models import Outlet, Till

    with app.app_context():
        upgrade()
        load_demo(books=False)
        codes = []
        with write_transaction():
            ensure_locations()
            ensure_categories()
            seed_chart()
            outlet = db.session.scalar(sa.select(Outlet).where(Outlet.code == "TK"))
            for n in range(1, tills + 1):
                db.session.add(Till(code=f"TB{n:02d}", name=f"Kasir uji {n}", outlet_id=outlet.id, printer=printer))
            supplier = Supplier(code="BEN", name="Pemasok uji")
            db.session.add(supplier)
            db.session.flush()
            lines = []
            for n in range(PRODUCTS):
                body = f"8990009{n:05d}"
                code = body + str(gs1_check_digit(body))
                product = catalog.create_product(ProductInput(
                    sku=f"BEN-{n:03d}", name=f"Barang uji {n}", category="RUMAH", unit="TOKO", base_unit="pcs",
                    public_price=2_000 + 100 * n, member_price=1_900 + 100 * n,
                    tax_code="standard" if n % 2 else "exempt", barcodes=(code,)), None)
                unit = product.units[0]
                lines.append(services.ReceiptLine(product, unit, Decimal(1_000_000), 1_500 + 90 * n))
                codes.append(code)
            services.receive_goods(services.ReceiptInput(supplier, "BENCH-1", dt.date.today(),
                                                         services.location_by_code("TK-TOKO"), tuple(lines),
                                                         payment="bank"), None)
        db.session.remove()
    return codes


def open_shifts(app, codes: list[str]) -> None:
    from pos.db import db
    from pos.models import User
    from pos.sales import services

    with app.app_context():
        kasir = db.session.scalar(sa.select(User).where(User.username == "kasir"))
        for code in codes:
            if services.open_shift_of(services.till_by_code(code)) is None:
                services.open_shift(code, 0, kasir)
        db.session.remove()


# --- 1. the service against its floor ------------------------------------------------------------------------------


def floor_context() -> dict:
    """The ids the floor writes against: TK01 and its shift, the shelf, the products with their levels, accounts."""
    from inventory.models import Location, Product, StockLevel
    from ledger.models import Account
    from pos.db import db
    from pos.sales import services

    till = services.till_by_code("TK01")
    shelf = db.session.scalar(sa.select(Location).where(Location.code == "TK-TOKO"))
    products = db.session.scalars(sa.select(Product).where(Product.sku.like("BEN-%")).order_by(Product.id)).all()
    levels = {level.product_id: level.id for level in db.session.scalars(
        sa.select(StockLevel).where(StockLevel.location_id == shelf.id))}
    accounts = {a.key: a.id for a in db.session.scalars(sa.select(Account))}
    return {"till": till.id, "shift": services.open_shift_of(till).id, "unit": till.outlet.unit_id,
            "location": shelf.id, "products": [(p.id, p.units[0].id, levels[p.id]) for p in products],
            "accounts": [accounts[k] for k in ("kas:TK", "revenue:TOKO:non_anggota", "hpp:TOKO", "persediaan:TOKO")]}


def floor_sale(ctx: dict, receipt_bytes: bytes, receipt_html: str, lines: int, n: int) -> None:
    """The rows of a `lines`-line cash sale written by bare SQL in one write transaction: sale, lines, allocations,
    payment, stock moves and levels, two counters, the journal entry with 4 postings, the print job."""
    from pos.db import db, utcnow, write_transaction

    meta = db.metadata.tables
    now = utcnow()
    picked = [ctx["products"][(n * 7 + k) % len(ctx["products"])] for k in range(lines)]
    kas, revenue, hpp, persediaan = ctx["accounts"]
    with write_transaction() as session:
        conn = session.connection()
        for name in (f"FLOOR/{now:%Y%m%d}", f"JU/{now.year}"):
            if conn.execute(sa.update(meta["number_sequence"]).where(meta["number_sequence"].c.name == name)
                            .values(value=meta["number_sequence"].c.value + 1)).rowcount == 0:
                conn.execute(sa.insert(meta["number_sequence"]), {"name": name, "value": 1})
        number = f"FL-{uuid.uuid4().hex[:16]}"
        sale_id = conn.execute(sa.insert(meta["sale"]).returning(meta["sale"].c.id), {
            "uuid": str(uuid.uuid4()), "number": number, "fingerprint": "0" * 64, "till_id": ctx["till"],
            "shift_id": ctx["shift"], "unit_id": ctx["unit"], "location_id": ctx["location"], "cashier_id": 1,
            "cashier_name": "kasir", "member_id": None, "status": "completed", "business_date": now.date(),
            "created_at": now, "completed_at": now, "ended_by": "", "end_reason": "", "approved_by": "",
            "subtotal": 1000 * lines, "discount": 0, "rounding": 0, "total": 1000 * lines, "dpp": 0, "ppn": 0,
            "revenue": 1000 * lines, "cost": 500 * lines, "tendered": 1000 * lines, "change": 0}).scalar_one()
        line_ids = [conn.execute(sa.insert(meta["sale_line"]).returning(meta["sale_line"].c.id), {
            "sale_id": sale_id, "position": k + 1, "product_id": product, "product_unit_id": unit, "code": "x",
            "name": "x", "unit_name": "pcs", "factor": 1, "quantity": 1, "base_quantity": 1, "tier": "public",
            "unit_price": 1000, "gross": 1000, "discount": 0, "total": 1000, "discount_share": 0, "net": 1000,
            "tax_code": "exempt", "ppn": 0, "dpp": 0, "cost": 500, "approved_by": "", "batch_reason": ""}
        ).scalar_one() for k, (product, unit, _level) in enumerate(picked)]
        conn.execute(sa.insert(meta["sale_allocation"]), [
            {"sale_line_id": i, "batch_id": None, "location_id": ctx["location"], "quantity": 1, "unit_cost": 500}
            for i in line_ids])
        conn.execute(sa.insert(meta["sale_payment"]), {"sale_id": sale_id, "position": 1, "method": "cash",
                                                       "amount": 1000 * lines, "tendered": 1000 * lines,
                                                       "reference": ""})
        conn.execute(sa.insert(meta["stock_move"]), [
            {"product_id": product, "batch_id": None, "from_location_id": ctx["location"], "to_location_id": None,
             "quantity": 1, "kind": "sale", "unit_cost": 500, "source_type": "sale", "source_id": number,
             "reason": "", "user_name": "kasir", "at": now} for product, _unit, _level in picked])
        level = meta["stock_level"]
        for _product, _unit, level_id in picked:
            conn.execute(sa.update(level).where(level.c.id == level_id).values(quantity=level.c.quantity - 1))
        entry = meta["journal_entry"]
        entry_id = conn.execute(sa.insert(entry).returning(entry.c.id), {
            "number": f"JF/{number}", "date": now.date(), "description": "floor", "unit_id": ctx["unit"],
            "source_type": "sale", "source_id": number, "author_id": None, "author_name": "bench",
            "created_at": now, "reverses_id": None, "posted": False}).scalar_one()
        conn.execute(sa.insert(meta["posting"]), [
            {"entry_id": entry_id, "account_id": account, "debit": debit, "credit": credit, "member_id": None,
             "unit_id": ctx["unit"], "memo": ""}
            for account, debit, credit in ((kas, 1000 * lines, 0), (revenue, 0, 1000 * lines),
                                           (hpp, 500 * lines, 0), (persediaan, 0, 500 * lines))])
        conn.execute(sa.update(entry).where(entry.c.id == entry_id).values(posted=True))
        conn.execute(sa.update(meta["sale"]).where(meta["sale"].c.id == sale_id).values(entry_id=entry_id))
        conn.execute(sa.insert(meta["print_job"]), {
            "till_id": ctx["till"], "printer": "folder:bench", "profile": "TM-T20II", "kind": "receipt",
            "source_type": "floor", "source_id": number, "copy": 0, "document": {"kind": "sale"},
            "data": receipt_bytes, "html": receipt_html, "status": "done", "attempts": 0, "next_attempt_at": now,
            "last_error": "", "created_by": "kasir", "created_at": now, "printed_at": now})


def measure_service(app, codes: list[str], sales: int, lines: int, started: float) -> dict:
    from pos.db import db
    from pos.models import PrintJob, User
    from pos.sales import services
    from pos.sales.requests import sale_from_json

    service_ms, floor_ms = [], []
    with app.app_context():
        kasir = db.session.scalar(sa.select(User).where(User.username == "kasir"))
        kasir_id = kasir.id
        first, _ = services.complete_sale(sale_from_json({
            "id": str(uuid.uuid4()), "till": "TK01", "lines": [{"code": c} for c in codes[:lines]],
            "payments": [{"method": "cash", "amount": 10**8}]}), kasir)
        job = db.session.scalar(sa.select(PrintJob).where(PrintJob.source_id == first.number))
        receipt_bytes, receipt_html = job.data, job.html
        ctx = floor_context()
        db.session.remove()
    for n in range(sales):
        picked = [codes[(n * 7 + k) % len(codes)] for k in range(lines)]
        with app.app_context():
            kasir = db.session.get(User, kasir_id)
            body = {"id": str(uuid.uuid4()), "till": "TK01", "lines": [{"code": c} for c in picked],
                    "payments": [{"method": "cash", "amount": 10**8}]}
            t0 = time.perf_counter()
            services.complete_sale(sale_from_json(body), kasir)
            service_ms.append((time.perf_counter() - t0) * 1000)
            db.session.remove()
        with app.app_context():
            t0 = time.perf_counter()
            floor_sale(ctx, receipt_bytes, receipt_html, lines, n)
            floor_ms.append((time.perf_counter() - t0) * 1000)
            db.session.remove()
    log(f"service against floor: {sales} sales of {lines} lines each", started)
    return {"sales": sales, "lines": lines, "service_ms": median(service_ms), "floor_ms": median(floor_ms),
            "service_p95_ms": percentile(sorted(service_ms), 0.95), "ratio": median(service_ms) / median(floor_ms)}


# --- 2. throughput over HTTP -------------------------------------------------------------------------------------


def start_server(instance: str, database_url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KASIR_", "FLASK_")) and k != "DATABASE_URL"}
    env.update(KASIR_INSTANCE_PATH=instance, KASIR_DATABASE_URL=database_url,
               KASIR_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", PYTHONUNBUFFERED="1")
    with log_path.open("wb") as out:
        process = subprocess.Popen([str(BIN / "waitress-serve"), "--host=127.0.0.1", f"--port={port}",
                                    "--threads=16", "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out,
                                   stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start: {log_path.read_text(errors='replace')[-2000:]}")


def throughput(app, instance: str, database_url: str, codes: list[str], tills: list[str], seconds: float,
               started: float) -> dict:
    from pos import auth
    from pos.db import db
    from pos.models import User

    with app.app_context():
        token = auth.issue_token(db.session.scalar(sa.select(User).where(User.username == "kasir")), "bench")
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    process = start_server(instance, database_url, port, Path(instance) / f"server-{len(tills)}.log")
    results: dict[str, list] = {till: [] for till in tills}
    stop_at = time.monotonic() + seconds

    def client(till: str, offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = offset
        while time.monotonic() < stop_at:
            n += 1
            body = json.dumps({"id": str(uuid.uuid4()), "till": till,
                               "lines": [{"code": codes[(n + k) % len(codes)]} for k in range(3)],
                               "payments": [{"method": "cash", "amount": 100_000}]})
            t0 = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/sales", body=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                response = connection.getresponse()
                answer = json.loads(response.read() or b"{}")
                results[till].append((response.status, (time.perf_counter() - t0) * 1000, answer.get("number")))
            except (OSError, http.client.HTTPException) as exc:
                results[till].append((0, (time.perf_counter() - t0) * 1000, repr(exc)))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    threads = [threading.Thread(target=client, args=(till, i * 1000)) for i, till in enumerate(tills)]
    t_start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - t_start
    process.terminate()
    process.wait(timeout=20)
    answers = [row for rows in results.values() for row in rows]
    ok = [row for row in answers if row[0] == 201]
    numbers = [row[2] for row in ok]
    latencies = sorted(row[1] for row in ok)
    log(f"{len(tills)} till(s): {len(ok)} sales in {elapsed:.1f} s", started)
    return {"tills": len(tills), "seconds": round(elapsed, 1), "sales": len(ok),
            "sales_per_second": len(ok) / elapsed if elapsed else 0.0,
            "errors": len(answers) - len(ok), "duplicates": len(numbers) - len(set(numbers)),
            "p50_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
            "statuses": sorted({row[0] for row in answers})}


def nothing_lost(app) -> list[str]:
    from inventory import stock
    from pos.db import db
    from pos.sales.checks import check_sales

    with app.app_context():
        problems = check_sales() + [f"drift {d}" for d in stock.check_drift()]
        db.session.remove()
    return problems


# --- 3. the till page at scale -----------------------------------------------------------------------------------


def page_timing(products: int, started: float) -> dict | None:
    """Time to usable of the till page with `products` products (SQLite), in Debian's Chromium."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        return None
    import random

    from bench import lookup

    tmpdir = tempfile.mkdtemp(prefix="kasir-bench-page-")
    try:
        app = lookup.build_app(tmpdir)
        catalog = lookup.load_catalog(app, products, products * 3, random.Random(7), started)
        open_shifts(app, ["TK01"])
        from pos.db import db

        with app.app_context():
            db.engine.dispose()
        codes = [code for code, _product, _unit in catalog.ean13[:20]]
        port = free_port()
        process = start_server(tmpdir, f"sqlite:///{tmpdir}/bench.db", port, Path(tmpdir) / "server.log")
        try:
            return _measure_page(port, codes, products)
        finally:
            process.terminate()
            process.wait(timeout=20)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _measure_page(port: int, codes: list[str], products: int) -> dict:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    usable, scans = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.goto("/login")
        page.fill("[name=username]", "kasir")
        page.fill("[name=password]", "demo123")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        for _ in range(5):
            t0 = time.perf_counter()
            page.goto("/kasir/TK01")
            page.wait_for_function("() => document.activeElement && document.activeElement.id === 'scan'")
            usable.append((time.perf_counter() - t0) * 1000)
        for code in codes[:10]:
            rows = page.locator("[data-lines] tr").count()
            t0 = time.perf_counter()
            page.keyboard.type(code, delay=2)
            page.keyboard.press("Enter")
            page.wait_for_function(
                "(n) => document.querySelectorAll('[data-lines] tr').length > n && "
                "!Array.from(document.querySelectorAll('[data-lines] td.num')).some((td) => td.textContent === '…')",
                arg=rows)
            scans.append((time.perf_counter() - t0) * 1000)
        browser.close()
    return {"products": products, "usable_ms": median(usable), "usable_max_ms": max(usable),
            "scan_to_priced_ms": median(scans)}


# --- report ------------------------------------------------------------------------------------------------------


def report(args, result: dict) -> str:
    service = result["service"]
    lines = [
        f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}: `python -m bench.checkout --sales {args.sales} "
        f"--lines {args.lines} --seconds {args.seconds:g}{' --database-url …' if args.database_url else ''}`",
        "",
        f"- Machine: {machine()}; {os.cpu_count()} CPUs; database {result['database']}.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| {service['lines']}-line sale through `complete_sale`, median | {service['service_ms']:.1f} ms | |",
        f"| the same rows by bare SQL in one transaction (floor), median | {service['floor_ms']:.1f} ms | |",
        f"| **service / floor** | **{service['ratio']:.1f}x** | ≤ {TARGET_RATIO:g}x: "
        f"{'met' if service['ratio'] <= TARGET_RATIO else 'NOT met'} |",
    ]
    for run in result["http"]:
        target = ""
        if run["tills"] >= 4 and result["database"] == "SQLite":
            met = run["sales_per_second"] >= TARGET_SALES_PER_SECOND and not run["errors"] and not run["duplicates"]
            target = f"≥ {TARGET_SALES_PER_SECOND:g}/s, no errors: {'met' if met else 'NOT met'}"
        lines.append(f"| HTTP, {run['tills']} till(s), 3-line cash sales | {run['sales_per_second']:.1f} sales/s "
                     f"(p50 {run['p50_ms']:.0f} ms, p95 {run['p95_ms']:.0f} ms; {run['sales']} sales, "
                     f"{run['errors']} errors, {run['duplicates']} duplicates) | {target} |")
    page = result.get("page")
    if page:
        lines.append(f"| till page at {page['products']:,} products: time to usable, median of 5 | "
                     f"{page['usable_ms']:.0f} ms (max {page['usable_max_ms']:.0f}) | < {TARGET_USABLE_MS:g} ms: "
                     f"{'met' if page['usable_ms'] < TARGET_USABLE_MS else 'NOT met'} |")
        lines.append(f"| scan to priced line (keys, Enter, server quote, rendering), median | "
                     f"{page['scan_to_priced_ms']:.0f} ms | |")
    lines.append("")
    problems = result["problems"]
    lines.append(f"- After the HTTP runs, the \"nothing lost\" check: {'ok' if not problems else problems[:5]}.")
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    if DOC_START not in text:
        text = text.rstrip() + f"\n\n{DOC_START}\n{DOC_END}\n"
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    DOC_PATH.write_text(f"{head}{DOC_START}\n{section}\n{DOC_END}{tail}", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.checkout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sales", type=int, default=200, help="sales (and floors) for the service ratio")
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each HTTP run")
    parser.add_argument("--tills", default="1,4", help="HTTP runs, as numbers of tills selling at once")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server: the bench makes its own database")
    parser.add_argument("--page-products", type=int, default=100_000)
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--json", default="", help="write the figures to this file")
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args(argv)
    args.till_counts = [int(n) for n in args.tills.split(",") if n.strip()]
    if args.sales < 1 or args.lines < 1 or not args.till_counts or max(args.till_counts) > 8:
        parser.error("--sales and --lines at least 1; --tills from 1 to 8")
    if args.lines > PRODUCTS:
        parser.error(f"--lines at most {PRODUCTS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print(f"Kasir Koperasi checkout benchmark: {machine()}", flush=True)
    tmpdir = tempfile.mkdtemp(prefix="kasir-bench-checkout-")
    admin = None
    database = "SQLite"
    if args.database_url:
        admin = sa.make_url(args.database_url)
        name = f"kasir_bench_{os.getpid()}"
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        database_url = admin.set(database=name).render_as_string(hide_password=False)
        database = "PostgreSQL"
    else:
        database_url = f"sqlite:///{tmpdir}/bench.db"
    try:
        app = make_app(tmpdir, database_url)
        tills = [f"TB{n:02d}" for n in range(1, max(args.till_counts) + 1)]
        sink = PrinterSink()
        codes = build_shop(app, len(tills), f"network:127.0.0.1:{sink.port}")
        open_shifts(app, ["TK01", *tills])
        log("shop ready", started)
        result = {"database": database, "service": measure_service(app, codes, args.sales, args.lines, started),
                  "http": []}
        from pos.db import db

        with app.app_context():
            db.engine.dispose()
        for count in args.till_counts:
            result["http"].append(throughput(app, tmpdir, database_url, codes, tills[:count], args.seconds,
                                             started))
        result["problems"] = nothing_lost(app)
        result["printed"] = sink.jobs
        sink.stop()
        with app.app_context():
            db.engine.dispose()
        if not args.skip_page and not args.database_url:
            result["page"] = page_timing(args.page_products, started)
        section = report(args, result)
        print()
        print(section)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        if args.write_doc:
            write_doc(section)
        return 1 if result["problems"] or any(run["duplicates"] for run in result["http"]) else 0
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        if admin is not None:
            engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "kasir_bench_{os.getpid()}"')
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
