"""Page benchmark: every GET page of every role at a minimarket's scale, through a real waitress server.

    .venv/bin/python -m bench.pages [--products 100000] [--database-url URL] [--json FILE] [--rounds 30]
                                    [--rebuild] [--write-doc] [--page-cap 20] [--explain 6]

Builds or reuses the big database of bench/bigdata.py (100 000 products, a million stock moves, five years of books,
2 000 members), serves it with waitress in a subprocess as `make run` does (wsgi:app, a free port on 127.0.0.1), signs
in one user per role, and requests every GET route of the app's url_map (so a new page is covered without touching
this file) with real values from the database (a busy product's SKU, a member with a long history, real ids), as a
role allowed to see it, `--rounds` times each, stopping a page after `--page-cap` seconds (marked capped), plus the
main API calls (lookup, search, with a session and with a token). Streams that never end are skipped.

Printed: a table of path, role, p50, p95, bytes, status and target (dashboard and till page 150 ms, other pages 300 ms,
HTML at most 1 MB) next to a baseline (/healthz) measured in the same run; the server's resident memory (VmRSS) before
and after; the query plans (EXPLAIN QUERY PLAN / EXPLAIN) of the statements the slowest pages run, captured in-process
through Flask's test client, full scans of big tables marked; a till's lookup latency while the heaviest page renders;
and, once the catalog import is a background job, a 20 000-row CSV import through the web (on a copy of the database).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import io
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench import bigdata

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "performance.md"
DOC_START = "<!-- bench:pages:start -->"
DOC_END = "<!-- bench:pages:end -->"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "demo123"  # noqa: S105 - the demo users' documented password (pos.demo)
ROLES = ("manajer", "pengurus", "gudang", "apoteker", "kasir", "pengawas")  # the demo's user of each role
FAST_MS = 150.0  # the manager's home and the till page
PAGE_MS = 300.0
MAX_HTML = 1_000_000
# Streams never end; signing out would end the session the bench uses.
SKIP_ENDPOINTS = {"static", "auth.logout", "till.screen_events", "devices.scan_events"}
FAST_ENDPOINTS = {"main.dashboard", "till.show"}
# Who opens a page: the user whose work it is; otherwise the first of ROLES that may.
ROLE_OF_ENDPOINT = {"main.dashboard": "manajer", "till.index": "kasir", "till.show": "kasir", "till.screen": "kasir",
                    "till.sales": "kasir", "till.sale": "kasir", "till.qris_image": "kasir",
                    "till.shift_report": "kasir", "devices.weigh": "kasir", "api.product_lookup": "kasir",
                    "api.product_search": "kasir", "sales_api.held": "kasir", "sales_api.members": "kasir",
                    "sales_api.list_sales": "kasir", "sales_api.get_sale": "kasir", "sales_api.sale_receipt": "kasir",
                    "sales_api.shifts": "kasir", "sales_api.shift": "kasir", "api.me": "kasir",
                    "stock_reports.expiry": "apoteker", "stock_ops.index": "gudang"}
# Query strings a route needs to answer (the till it is asked for, a name typed).
QUERY_OF_ENDPOINT = {"sales_api.held": "till=TK01", "sales_api.shifts": "till=TK01",
                     "sales_api.list_sales": "till=TK01", "sales_api.members": "q=nur",
                     "stock_reports.card_lookup": "sku={sku}"}
# What users also ask of the list and report pages: a search, a deep page, the busiest account's ledger, downloads.
VARIANTS = (("/produk/?q=mie+goreng", "manajer", False), ("/anggota/?q=nur", "manajer", False),
            ("/buku/jurnal?halaman=2000", "manajer", False), ("/admin/audit?halaman=500", "manajer", False),
            ("/buku/buku-besar?akun=1-1101", "manajer", False), ("/stok/persediaan?format=csv", "manajer", True),
            ("/stok/kartu/{sku}?format=csv", "manajer", True), ("/buku/jurnal?format=csv", "manajer", True))
BIG_TABLES = {"product", "product_unit", "product_word", "barcode", "batch", "stock_level", "stock_move",
              "stock_document", "stock_document_line", "journal_entry", "posting", "slip", "member", "audit_entry",
              "sale", "sale_line", "sale_allocation", "sale_payment", "product_cost", "price_change"}
LOOKUP_TILL_MS = 10.0  # issue 13: a till's lookup p95 while the heaviest report renders


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- HTTP ----------------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    ms: float  # the whole answer read
    first_ms: float = 0.0  # its status line and headers (a streamed download's first chunk)


class Client:
    """One browser: a kept-alive connection and its cookies."""

    def __init__(self, port: int, timeout: float = 900.0) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = {"Host": f"127.0.0.1:{self.port}", "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
                "Accept-Language": "id", "Connection": "keep-alive", **self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                first = (time.perf_counter() - t0) * 1000
                data = response.read()
                ms = (time.perf_counter() - t0) * 1000
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                if "max-age=0" in cookie.lower() or not value:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Answer(response.status, response.headers, data, ms, first)
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str = "/akun/") -> str:
        found = CSRF_RE.search(self.get(path).body.decode("utf-8", "replace"))
        return found.group(1) if found else ""


def sign_in(port: int, username: str) -> Client:
    client = Client(port)
    page = client.get("/login")
    token = CSRF_RE.search(page.body.decode("utf-8", "replace"))
    if token is None:
        raise SystemExit(f"the login page carries no CSRF token (HTTP {page.status})")
    answer = client.post_form("/login", {"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    if answer.status != 302:
        raise SystemExit(f"signing in as {username} failed: HTTP {answer.status}")
    return client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def makefile_threads(default: int = 16) -> int:
    """The waitress threads of `make run` (production is served the same way)."""
    try:
        found = re.search(r"waitress-serve[^\n]*--threads=(\d+)", (ROOT / "Makefile").read_text())
    except OSError:
        return default
    return int(found.group(1)) if found else default


SLOW_WRITE_RE = re.compile(r"a write transaction held the lock for (\d+) ms")


def over_budget_writes(workdir: Path) -> list[float]:
    """How long (ms) each write transaction the servers logged as over pos.db.WRITE_BUDGET_MS held the lock."""
    found = []
    for log_path in sorted(workdir.glob("*.log")):
        found += [float(ms) for ms in SLOW_WRITE_RE.findall(log_path.read_text(errors="replace"))]
    return found


class Server:
    """waitress-serve wsgi:app in a subprocess, on the big database."""

    def __init__(self, big: bigdata.BigDatabase, threads: int, log_path: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KASIR_ENV", "KASIR_DATABASE_URL")}
        env.update(big.server_env())
        env.setdefault("MALLOC_ARENA_MAX", "2")  # as `make run` serves it
        waitress = Path(sys.executable).with_name("waitress-serve")
        command = [str(waitress) if waitress.exists() else "waitress-serve", "--host=127.0.0.1",
                   f"--port={self.port}", f"--threads={threads}", "wsgi:app"]
        self.log_file = log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        self.threads = threads
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped at start (exit {self.process.returncode}); see {log_path}")
            try:
                answer = Client(self.port, timeout=5).get("/healthz")
                if answer.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"the server did not answer /healthz within 120 s; see {log_path}")

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_file.close()


# --- what to request -----------------------------------------------------------------------------------------------


@dataclass
class Page:
    path: str
    endpoint: str
    role: str | None  # None: signed out (public pages)
    target_ms: float
    download: bool = False
    expected: tuple[int, ...] = (200,)
    headers: dict[str, str] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)  # rotated through (lookups of different codes)
    label: str = ""


@dataclass
class Result:
    page: Page
    ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    rss_mb: float = float("nan")  # the server's resident memory after this page
    statuses: list[int] = field(default_factory=list)
    bytes: int = 0
    content_type: str = ""
    capped: bool = False
    error: str = ""

    @property
    def p50(self) -> float:
        return percentile(self.ms, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.ms, 0.95)

    @property
    def first_p95(self) -> float:
        return percentile(self.first_ms, 0.95)

    @property
    def status(self) -> int:
        return max(set(self.statuses), key=self.statuses.count) if self.statuses else 0

    @property
    def ok(self) -> bool:
        return bool(self.statuses) and all(s in self.page.expected for s in self.statuses) and not self.error

    @property
    def met(self) -> bool:
        """Pages: p95 within the target and at most 1 MB; downloads (streamed, any size): their first byte."""
        if self.page.download:
            return self.ok and self.first_p95 <= self.page.target_ms
        return self.ok and self.bytes <= MAX_HTML and self.p95 <= self.page.target_ms


@dataclass
class Facts:
    """Real values from the database for the routes' variables and the API calls."""

    values: dict[str, str]
    by_endpoint: dict[str, dict[str, str]]
    codes: list[str]
    searches: list[str]
    busy_sku: str
    token: str


def gather_facts(app, busy_sku: str | None) -> Facts:
    from inventory.models import Barcode, Product, StockDocument, StockDocumentLine, StockMove
    from ledger.models import JournalEntry, Member, Posting, Slip
    from pos import auth
    from pos.db import db
    from pos.models import Job, Till, User
    from pos.sales.models import Sale, Shift

    with app.app_context():
        s = db.session
        if busy_sku is None:
            busy = s.execute(sa.select(StockMove.product_id, sa.func.count()).group_by(StockMove.product_id)
                             .order_by(sa.func.count().desc()).limit(1)).first()
            busy_sku = s.scalar(sa.select(Product.sku).where(Product.id == busy[0])) if busy else "X"
        member = s.execute(sa.select(Member.number).join(Slip, Slip.member_id == Member.id).group_by(Member.number)
                           .order_by(sa.func.count().desc()).limit(1)).scalar() or "AGT-00001"
        slip = s.scalar(sa.select(sa.func.max(Slip.id))) or 1
        sale = s.execute(sa.select(Sale.number, Sale.uuid).where(Sale.status == "completed")
                         .order_by(Sale.id.desc()).limit(1)).first()
        pending = s.scalar(sa.select(Sale.number).where(Sale.status == "pending").order_by(Sale.id.desc()).limit(1))
        till_of_sale = "TK01"
        tk01 = s.scalar(sa.select(Till.id).where(Till.code == till_of_sale))
        sale = s.execute(sa.select(Sale.number, Sale.uuid).where(Sale.status == "completed", Sale.till_id == tk01)
                         .order_by(Sale.id.desc()).limit(1)).first() or sale
        shift = s.scalar(sa.select(Shift.id).where(Shift.status == "closed", Shift.till_id == tk01)
                         .order_by(Shift.id.desc()).limit(1)) or 1
        entry = s.execute(sa.select(Posting.entry_id).group_by(Posting.entry_id)
                          .order_by(sa.func.count().desc()).limit(1)).scalar() or \
            s.scalar(sa.select(sa.func.max(JournalEntry.id))) or 1
        receipt = s.execute(sa.select(StockDocumentLine.document_id).join(StockDocument)
                            .where(StockDocument.kind == "receipt").group_by(StockDocumentLine.document_id)
                            .order_by(sa.func.count().desc()).limit(1)).scalar() or 1
        count = s.scalar(sa.select(StockDocument.id).where(StockDocument.kind == "count",
                                                           StockDocument.status.in_(("open", "counted")))
                         .order_by(StockDocument.id.desc()).limit(1)) or \
            s.scalar(sa.select(sa.func.max(StockDocument.id))) or 1
        codes = list(s.scalars(sa.select(Barcode.code).join(Product, Barcode.product_id == Product.id)
                               .where(Barcode.id % 97 == 1, Barcode.code.like("899%"), Product.active.is_(True))
                               .order_by(Barcode.id).limit(60)))
        names = list(s.scalars(sa.select(Product.name).where(Product.id % 1009 == 3).limit(40)))
        job = s.scalar(sa.select(sa.func.max(Job.id)))
        kasir = s.scalar(sa.select(User).where(User.username == "kasir"))
        s.expunge(kasir)
        db.session.remove()
        token = auth.issue_token(kasir, "bench.pages")
        db.session.remove()
    searches = []
    for name in names:
        words = [w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 3]
        if words:
            searches.append(" ".join(words[:2])[:-1])
    values = {"number": member, "sku": busy_sku, "slip_id": str(slip), "entry_id": str(entry), "doc_id": str(receipt),
              "shift_id": str(shift), "code": till_of_sale, "identifier": sale[0] if sale else "X",
              "name": "receipt", "held_id": "1"}
    if job is not None:
        values["job_id"] = str(job)
    by_endpoint = {
        "sales.sale": {"number": sale[0] if sale else "X"},
        "till.sale": {"number": sale[0] if sale else "X"},
        "till.qris_image": {"number": pending or (sale[0] if sale else "X")},
        "stock_ops.count_sheet": {"doc_id": str(count)},
    }
    return Facts(values, by_endpoint, codes or ["8990000000000"], searches or ["mie"], busy_sku, token)


def plan_pages(app, facts: Facts) -> tuple[list[Page], list[str]]:
    """A page per GET rule of the route table, with real values; the API calls; notes on what was skipped."""
    from werkzeug.routing.converters import AnyConverter

    from pos.models import Role
    from pos.permissions import PUBLIC, SIGNED_IN, has_permission, permission_of

    pages, notes = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
            continue
        permission = permission_of(app.view_functions.get(rule.endpoint))
        if permission is None:
            notes.append(f"{rule.rule}: no permission marker, skipped")
            continue
        if permission == PUBLIC:
            role = None
        else:
            role = ROLE_OF_ENDPOINT.get(rule.endpoint)
            if role is None or not (permission == SIGNED_IN or has_permission(Role(role), permission)):
                role = next((r for r in ROLES if permission == SIGNED_IN or has_permission(Role(r), permission)),
                            None)
            if role is None:
                notes.append(f"{rule.rule}: no role may open it, skipped")
                continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
            elif name in facts.by_endpoint.get(rule.endpoint, {}):
                values[name] = facts.by_endpoint[rule.endpoint][name]
            elif name in facts.values:
                values[name] = facts.values[name]
        missing = [name for name in rule._converters if name not in values]
        if missing:
            notes.append(f"{rule.rule}: no value for {', '.join(missing)}, skipped")
            continue
        path = rule.rule
        for part in re.findall(r"<[^>]+>", rule.rule):
            name = part.strip("<>").split(":")[-1]
            path = path.replace(part, urllib.parse.quote(values[name], safe=""), 1)
        if rule.endpoint in QUERY_OF_ENDPOINT:
            path += "?" + QUERY_OF_ENDPOINT[rule.endpoint].format(sku=urllib.parse.quote(facts.busy_sku, safe=""))
        target = FAST_MS if rule.endpoint in FAST_ENDPOINTS else PAGE_MS
        page = Page(path, rule.endpoint, role, target, download=rule.endpoint.endswith(("export_csv", "export_xlsx")))
        if rule.endpoint == "api.product_lookup":
            page.paths = [f"{path}?code={code}" for code in facts.codes]
            page.path = f"{path}?code=…"
        elif rule.endpoint == "api.product_search":
            page.paths = [f"{path}?q={urllib.parse.quote(q)}" for q in facts.searches]
            page.path = f"{path}?q=…"
        elif rule.endpoint == "till.sign_in":
            page.expected = (200, 302)
        elif rule.endpoint in ("auth.login", "stock_reports.card_lookup"):
            page.expected = (200, 302)
        elif rule.endpoint == "devices.weigh":
            page.expected = (200, 404, 409, 503)  # no scale on the bench's till: a clear refusal is the answer
        pages.append(page)
    lookup = next((p for p in pages if p.endpoint == "api.product_lookup"), None)
    if lookup is not None:  # the same calls as a till's device makes them: with its API token
        pages.append(Page("/api/v1/products/lookup?code=… (token)", "api.product_lookup", "token", PAGE_MS,
                          headers={"Authorization": f"Bearer {facts.token}"}, paths=list(lookup.paths)))
        pages.append(Page("/api/v1/me (token)", "api.me", "token", PAGE_MS,
                          headers={"Authorization": f"Bearer {facts.token}"}, paths=["/api/v1/me"]))
    for template, role, download in VARIANTS:
        path = template.format(sku=urllib.parse.quote(facts.busy_sku, safe=""))
        pages.append(Page(path, "variant", role, PAGE_MS, download=download))
    return pages, notes


# --- measuring -----------------------------------------------------------------------------------------------------


def measure(page: Page, client: Client, rounds: int, cap_s: float) -> Result:
    result = Result(page)
    started = time.perf_counter()
    paths = page.paths or [page.path]
    for n in range(rounds):
        try:
            answer = client.request("GET", paths[n % len(paths)], headers=page.headers)
        except OSError as exc:
            result.error = f"{type(exc).__name__}: {exc}"
            break
        result.ms.append(answer.ms)
        result.first_ms.append(answer.first_ms)
        result.statuses.append(answer.status)
        result.bytes = max(result.bytes, len(answer.body))
        result.content_type = answer.headers.get("Content-Type", "")
        if time.perf_counter() - started > cap_s and n + 1 < rounds:
            result.capped = True
            break
    return result


def baseline(client: Client, n: int) -> list[float]:
    return [client.get("/healthz").ms for _ in range(n)]


def lookups_during(port: int, facts: Facts, heavy: Page | None, clients: dict[str, Client], seconds: float,
                   burst: int) -> dict:
    """A till's lookups (its token) alone, then while the heaviest page is requested `burst` times in a row by two
    clients at once (at most `seconds`)."""
    till = Client(port)
    headers = {"Authorization": f"Bearer {facts.token}"}

    def loop(stop: threading.Event, out: list[float]) -> None:
        n = 0
        while not stop.is_set():
            out.append(till.get(f"/api/v1/products/lookup?code={facts.codes[n % len(facts.codes)]}", headers).ms)
            n += 1

    alone: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop, alone))
    thread.start()
    time.sleep(min(5.0, seconds))
    stop.set()
    thread.join()
    result = {"alone_p50_ms": percentile(alone, 0.5), "alone_p95_ms": percentile(alone, 0.95), "alone_n": len(alone)}
    if heavy is None:
        return result
    during: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop, during))
    thread.start()
    renders: list[float] = []
    began = time.perf_counter()

    def render(client: Client) -> None:
        for _ in range(burst):
            if time.perf_counter() - began > seconds:
                break
            renders.append(client.get(heavy.path, heavy.headers).ms)

    second = sign_in(port, heavy.role) if heavy.role not in (None, "token") else Client(port)
    workers = [threading.Thread(target=render, args=(c,)) for c in (clients.get(heavy.role) or Client(port), second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    thread.join()
    second.close()
    till.close()
    result.update({"page": heavy.path, "renders": len(renders), "render_p50_ms": percentile(renders, 0.5),
                   "during_p50_ms": percentile(during, 0.5), "during_p95_ms": percentile(during, 0.95),
                   "during_max_ms": max(during) if during else float("nan"), "during_n": len(during)})
    return result


# --- query plans ---------------------------------------------------------------------------------------------------


def explain_pages(big: bigdata.BigDatabase, results: list[Result], count: int, started: float) -> list[dict]:
    """Each of the `count` slowest pages requested once in-process (Flask's test client), every statement it runs
    captured; the distinct ones explained, a full scan of a big table marked."""
    from pos.db import db

    slow = sorted((r for r in results if r.ms and r.page.role != "token" and not r.page.paths),
                  key=lambda r: -r.p50)[:count]
    if not slow:
        return []
    app = bigdata._app(big.url, big.instance)
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect.name
    captured: dict[str, dict] = {}
    lock = threading.Lock()

    def before(_conn, _cursor, statement, parameters, context, _many):
        context._bench_t0 = time.perf_counter()

    def after(_conn, _cursor, statement, parameters, context, _many):
        verb = statement.lstrip()[:6].upper()
        if not verb.startswith(("SELECT", "WITH")):
            return
        took = time.perf_counter() - getattr(context, "_bench_t0", time.perf_counter())
        with lock:
            row = captured.setdefault(statement, {"n": 0, "ms": 0.0, "parameters": parameters})
            row["n"] += 1
            row["ms"] += took * 1000

    out = []
    clients: dict[str, object] = {}
    for result in slow:
        page = result.page
        client = clients.get(page.role)
        if client is None:
            client = app.test_client()
            if page.role is not None:
                answer = client.get("/login")
                token = CSRF_RE.search(answer.get_data(as_text=True))
                client.post("/login", data={"username": page.role, "password": PASSWORD,
                                            "csrf_token": token.group(1) if token else ""})
            clients[page.role] = client
        captured.clear()
        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        t0 = time.perf_counter()
        try:
            response = client.get(page.path, headers=page.headers)
            status = response.status_code
            response.get_data()  # a streamed download runs its queries while it is read
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        took = (time.perf_counter() - t0) * 1000
        statements = sorted(captured.items(), key=lambda item: -item[1]["ms"])
        plans = []
        with engine.connect() as conn:
            for statement, row in statements[:12]:
                try:
                    if dialect == "sqlite":
                        lines = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                     row["parameters"]).all()]
                    else:
                        lines = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, row["parameters"]).all()]
                except sa.exc.SQLAlchemyError as exc:
                    conn.rollback()
                    lines = [f"(not explained: {type(exc.orig).__name__})"]
                plans.append({"statement": " ".join(statement.split()), "calls": row["n"],
                              "ms": round(row["ms"], 1), "plan": lines, "full_scan": full_scans(lines, dialect)})
            conn.rollback()
        out.append({"path": page.path, "role": page.role, "status": status, "in_process_ms": round(took, 1),
                    "statements": sum(r["n"] for r in captured.values()), "distinct": len(captured),
                    "plans": plans})
        log(f"explained {page.path}: {out[-1]['statements']:,} statements ({len(captured)} distinct), "
            f"{took:,.0f} ms in-process", started)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return out


def full_scans(lines: list[str], dialect: str) -> list[str]:
    """The big tables a plan reads whole."""
    found = []
    for line in lines:
        if dialect == "sqlite":
            hit = re.match(r"\s*SCAN (\w+)", line)
            if hit and "COVERING INDEX" not in line and "USING INDEX" not in line:
                found.append(hit.group(1))
        else:
            hit = re.search(r"Seq Scan on (\w+)", line)
            if hit:
                found.append(hit.group(1))
    aliases = {name.rstrip("_0123456789") for name in found}
    return sorted(name for name in aliases if name in BIG_TABLES)


# --- the catalog import through the web (once it is a background job) ----------------------------------------------


def import_is_a_job() -> bool:
    return (ROOT / "pos" / "jobs.py").exists() and (ROOT / "pos" / "web" / "jobs.py").exists()


def time_import(big: bigdata.BigDatabase, threads: int, rows: int, facts: Facts, started: float,
                workdir: Path) -> dict:
    """A `rows`-row CSV (the catalog's own export, public prices raised Rp 100 where no HET caps them) checked and
    imported through the web as the manager does it, on a copy of the database, its job page polled until it is
    finished; a till's lookups (its token) meanwhile."""
    if not big.path:
        return {"skipped": "PostgreSQL: the import is timed on SQLite's copy only"}
    copy_path = workdir / "import-copy.sqlite"
    source = sa.create_engine(big.url)
    with source.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    source.dispose()
    shutil.copyfile(big.path, copy_path)
    copy = bigdata.BigDatabase(f"sqlite:///{copy_path}", big.instance, big.meta, copy_path)
    server = Server(copy, threads, workdir / "import-server.log")
    try:
        manager = sign_in(server.port, "manajer")
        export = manager.get("/produk/berkas/ekspor.csv")
        if export.status != 200:
            return {"rows": 0, "error": f"the catalog export answered {export.status}"}
        reader = list(csv.reader(io.StringIO(export.body.decode("utf-8-sig"))))
        header, body = reader[0], reader[1:rows + 1]
        price, het = (header.index(name) if name in header else None for name in ("public_price", "het"))
        if price is not None:
            for row in body:
                digits = row[price].replace(".", "").strip()
                if digits.isdigit() and (het is None or not row[het].strip()):
                    row[price] = str(int(digits) + 100)
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *body])
        data = buffer.getvalue().encode("utf-8")
        token = manager.csrf("/produk/berkas/")
        boundary = "----kasirbench"
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"impor.csv\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        t0 = time.perf_counter()
        checked = manager.request("POST", "/produk/berkas/periksa", form,
                                  {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        check_ms = (time.perf_counter() - t0) * 1000
        page = checked.body.decode("utf-8", "replace")
        found = re.search(r'<form[^>]*action="[^"]*/impor"[^>]*>(.*?)</form>', page, re.S)
        if checked.status != 200 or found is None:
            return {"rows": len(body), "check_ms": round(check_ms), "error": f"the check answered {checked.status}"}
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(1)))
        till = Client(server.port)
        lookups: list[float] = []
        stop = threading.Event()

        def loop() -> None:
            n = 0
            while not stop.is_set():
                code = facts.codes[n % len(facts.codes)]
                lookups.append(till.get(f"/api/v1/products/lookup?code={code}",
                                        {"Authorization": f"Bearer {facts.token}"}).ms)
                n += 1

        thread = threading.Thread(target=loop)
        thread.start()
        t1 = time.perf_counter()
        try:
            answer = manager.post_form("/produk/berkas/impor", {k: _unescape(v) for k, v in fields.items()})
            location = urllib.parse.urlsplit(answer.headers.get("Location", "")).path
            status: dict = {}
            polls: list[float] = []
            while location.startswith("/jobs/") and time.perf_counter() - t1 < 900:
                polled = manager.get(location.rstrip("/") + "/status")
                polls.append(polled.ms)
                status = json.loads(polled.body or b"{}") if polled.status == 200 else {"http": polled.status}
                if status.get("finished") or "http" in status:
                    break
                time.sleep(0.25)
            import_ms = (time.perf_counter() - t1) * 1000
        finally:
            stop.set()
            thread.join()
            till.close()
        result = {"rows": len(body), "check_ms": round(check_ms), "import_ms": round(import_ms),
                  "first_answer": answer.status, "job_page": location, "state": status.get("state", ""),
                  "done": status.get("done"), "total": status.get("total"),
                  "lookup_p50_ms": percentile(lookups, 0.5), "lookup_p95_ms": percentile(lookups, 0.95),
                  "lookup_max_ms": max(lookups) if lookups else float("nan"), "lookups": len(lookups),
                  "status_polls": len(polls), "status_p95_ms": percentile(polls, 0.95)}
        log(f"import of {len(body):,} rows: check {check_ms / 1000:.1f} s, job {import_ms / 1000:.1f} s "
            f"({result['state'] or answer.status}); lookups meanwhile p95 {_ms(result['lookup_p95_ms'])} ms", started)
        return result
    finally:
        server.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy_path}{suffix}").unlink(missing_ok=True)


def _unescape(value: str) -> str:
    import html

    return html.unescape(value)


# --- reporting -----------------------------------------------------------------------------------------------------


def machine() -> str:
    import sqlite3

    return (f"{platform.platform()}; {platform.machine()}; Python {platform.python_version()}; "
            f"SQLite {sqlite3.sqlite_version}; SQLAlchemy {sa.__version__}; {os.cpu_count()} CPUs")


def _ms(value: float) -> str:
    if value != value:  # NaN
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB" if n >= 1e3 else f"{n} B"


def table(results: list[Result], base: float) -> str:
    lines = ["| page | role | n | p50 ms | p95 ms | p95 / baseline | first byte p95 | bytes | status | RSS after | "
             "target | |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results:
        target = f"first byte ≤ {r.page.target_ms:g} ms" if r.page.download else f"≤ {r.page.target_ms:g} ms, ≤ 1 MB"
        verdict = "met" if r.met else "**missed**"
        if r.capped:
            verdict += f" (capped after {len(r.ms)})"
        if r.error:
            verdict += f" ({r.error})"
        status = str(r.status) + ("" if r.ok else " !")
        lines.append(f"| `{r.page.path}` | {r.page.role or '–'} | {len(r.ms)} | {_ms(r.p50)} | {_ms(r.p95)} | "
                     f"{r.p95 / base:,.0f}x | {_ms(r.first_p95)} | {_size(r.bytes)} | {status} | "
                     f"{r.rss_mb:,.0f} MB | {target} | {verdict} |")
    return "\n".join(lines)


def plans_text(explained: list[dict], brief: bool = False) -> str:
    """The statements of each explained page, slowest first; `brief` (for the doc): only those that took 1 ms or
    more or scan a big table, at most 6 a page."""
    out = []
    for page in explained:
        out.append(f"{page['path']} as {page['role']}: HTTP {page['status']}, {page['statements']:,} statements "
                   f"({page['distinct']} distinct), {page['in_process_ms']:,.0f} ms in-process")
        shown = page["plans"]
        if brief:
            shown = [plan for plan in shown if plan["ms"] >= 1 or plan["full_scan"]][:6]
        for plan in shown:
            mark = "!! " if plan["full_scan"] else "   "
            statement = plan["statement"]
            shown = statement if len(statement) <= 200 else statement[:197] + "..."
            out.append(f"{mark}{plan['calls']:>6}x {plan['ms']:>9,.1f} ms  {shown}")
            lines = plan["plan"][:8] + (["..."] if len(plan["plan"]) > 8 else []) if brief else plan["plan"]
            out += [f"              {line}" for line in lines]
            if plan["full_scan"]:
                out.append(f"              full scan of: {', '.join(plan['full_scan'])}")
    return "\n".join(out)


def _growth(results: list[Result], before: float) -> str:
    """The pages after which the server's resident memory grew most."""
    steps, previous = [], before
    for r in results:
        if r.rss_mb == r.rss_mb:
            steps.append((r.rss_mb - previous, r.page.path))
            previous = r.rss_mb
    top = [f"`{path}` +{grew:,.0f} MB" for grew, path in sorted(steps, reverse=True)[:5] if grew >= 5]
    if not top:
        return "- Resident memory grew by less than 5 MB after any page."
    return f"- Resident memory grew most after: {', '.join(top)}."


def report_text(args, big: bigdata.BigDatabase, results: list[Result], base: float, rss: tuple[float, float],
                contention: dict, imported: dict | None, notes: list[str], seconds: float) -> str:
    meta = big.meta
    missed = [r for r in results if not r.met]
    lines = [
        f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}: `python -m bench.pages --products {args.products} "
        f"--rounds {args.rounds}` on {'SQLite' if big.path else 'PostgreSQL'}, {seconds / 60:.1f} min",
        "",
        f"- Machine: {machine()}.",
        f"- Data: {meta.get('sizes', {}).get('products', args.products):,} products, "
        f"{meta.get('moves', 0):,} stock moves, {meta.get('entries', 0):,} journal entries with "
        f"{meta.get('postings', 0):,} postings ({meta.get('history_start')} to today, closed years "
        f"{', '.join(map(str, meta.get('closed_years', [])))}), {meta.get('members', 0):,} members with "
        f"{meta.get('slips', 0):,} slips, {meta.get('recent_sales', 0):,} sales at the tills in the last 30 days; "
        f"built in {meta.get('build_seconds', 0):.0f} s (migration {meta.get('alembic_head')}).",
        f"- Server: waitress, {args.threads} threads; baseline `/healthz` p50 {_ms(base)} ms; resident memory "
        f"{rss[0]:,.0f} MB before the pages, {rss[1]:,.0f} MB after.",
        f"- Targets met by {len(results) - len(missed)} of {len(results)} pages and calls"
        + (f"; missed by: {', '.join(f'`{r.page.path}`' for r in missed)}." if missed else "."),
        _growth(results, rss[0]),
        "",
        table(results, base),
    ]
    if contention:
        line = (f"- A till's lookups (token) alone: p50 {_ms(contention['alone_p50_ms'])} ms, p95 "
                f"{_ms(contention['alone_p95_ms'])} ms")
        if "during_p95_ms" in contention:
            line += (f"; while `{contention['page']}` rendered {contention['renders']} times (two at once, p50 "
                     f"{_ms(contention['render_p50_ms'])} ms): p50 {_ms(contention['during_p50_ms'])} ms, p95 "
                     f"{_ms(contention['during_p95_ms'])} ms, max {_ms(contention['during_max_ms'])} ms over "
                     f"{contention['during_n']} lookups (target p95 ≤ {LOOKUP_TILL_MS:g} ms)")
        lines += ["", line + "."]
    if imported:
        if imported.get("import_ms"):
            lines.append(f"- Catalog import of {imported['rows']:,} rows (the export, prices changed) through the web, "
                         f"on a copy of the database: check {imported['check_ms'] / 1000:,.1f} s, then the job "
                         f"{imported['import_ms'] / 1000:,.1f} s to {imported.get('state') or 'the end'} "
                         f"({imported.get('done')} of {imported.get('total')} rows); a till's lookups meanwhile p50 "
                         f"{_ms(imported['lookup_p50_ms'])} ms, p95 {_ms(imported['lookup_p95_ms'])} ms, max "
                         f"{_ms(imported['lookup_max_ms'])} ms; the job's status polled {imported['status_polls']} "
                         f"times, p95 {_ms(imported['status_p95_ms'])} ms (target: import ≤ 20 s).")
        else:
            lines.append(f"- Catalog import: {json.dumps(imported)}")
    for note in notes:
        lines.append(f"- {note}")
    return "\n".join(lines)


BEFORE_TABLE = """\
Measured before this work (issue 10, current main at the time, 100 000 products, 300 000 barcodes, a real waitress
server, median of 3 rounds, 2 cores):

| page | demo (320 products) | 100 000 products |
|---|---|---|
| dashboard `/` (manager's home) | 170 ms | **66 s** |
| `/stok/` overview | 150 ms | **65 s** |
| `/stok/persediaan` on hand | 177 ms | **76 s, 103 MB of HTML** |
| stock value | 110 ms | **49 s** |
| expiry report | 58 ms | 6,5 s (5,7 MB) |
| reorder list | 17 ms | 3,3 s |
| kartu stok of a busy product | 8 ms | 1,2 s |
| catalog CSV export | – | 23 s |
| catalog import, 20 000 rows (web) | – | 115–125 s |

The server's resident memory grew from 85 MB to 1,1 GB after these pages and stayed there."""

DOC_SECTION = f"""\
# Pages at a minimarket's scale

`bench/pages.py` measures every page the way a cooperative with a minimarket's catalog would meet it: 100 000
products with 300 000 barcodes, stock in the shop, the pharmacy, the warehouse and karantina with batches, a million
stock moves over five years, five years of books (about 500 000 postings, past years closed) and 2 000 members with
their savings, and the last 30 days rung up at the tills. The database is built once by `bench/bigdata.py` (through
the app's migrations and posting rules; `stock check` and `ledger check` are clean) and cached in
`/tmp/kasir-bench/`.

## What is measured

- The app is served by waitress in a subprocess, as `make run` does (`wsgi:app`, the Makefile's thread count).
- One user per role signs in. Every GET route of the route table is requested (a new page is covered without
  touching the bench) with real values from the database: the busiest product's SKU for the kartu stok, the member
  with the longest history, real sales, shifts, documents and entries; each by a role allowed to see it, 30 times,
  a page stopped after 20 s (marked capped). Streams are skipped. The main API calls too: product lookup and search
  (session and API token) and `/api/v1/me` with a token.
- Each row: p50 and p95 (nearest rank) of the whole answer read by the client, the p95 of its first byte (status
  line and headers), its size and status, the server's resident memory after it, and the target: the dashboard and
  the till page p95 ≤ 150 ms, every other page ≤ 300 ms and at most 1 MB of HTML; downloads (CSV, XLSX: streamed,
  of any size) their first byte within 300 ms. The baseline is `/healthz` in the same run.
- The server's resident memory (VmRSS) before the pages and after all of them (target ≤ 250 MB), and the pages after
  which it grew most.
- The statements the slowest pages run, captured in-process (Flask's test client, a SQLAlchemy cursor listener),
  each distinct one with its calls, time and `EXPLAIN QUERY PLAN` (PostgreSQL: `EXPLAIN`); `!!` marks a full scan of
  a big table.
- A till's product lookups (its API token) alone and while the heaviest page is rendered by two clients at once
  (issue 13: p95 ≤ 10 ms).
- Once the catalog import runs as a background job: a 20 000-row CSV import through the web, on a copy of the
  database (target ≤ 20 s).

## How to run it

    .venv/bin/python -m bench.pages                         # 100 000 products; builds the database the first time
    .venv/bin/python -m bench.pages --database-url postgresql+psycopg://postgres@127.0.0.1/bench_pages
    .venv/bin/python -m bench.pages --products 300 --rounds 3 --json /tmp/pages.json   # a quick look
    .venv/bin/python -m bench.bigdata --check               # only build (or upgrade) the database, then check it

Options: `--rounds` (30), `--page-cap` seconds per page (20), `--explain` how many of the slowest pages to explain
(6), `--rebuild`, `--json FILE`, `--write-doc` (rewrite the results below). The build takes a few minutes at full
size; a cached database built at an older migration is upgraded, and the summary rebuilds run, on its next use.
`tests/integration/test_bench_pages_smoke.py` runs the bench at 300 products and checks the answers, never the
timings.

## Results

{BEFORE_TABLE}

"""


def write_doc(section: str, database: str = "sqlite") -> None:
    """Replace this database's part (SQLite or PostgreSQL) of the bench:pages section; the other part stays."""
    text = DOC_PATH.read_text(encoding="utf-8")
    if DOC_START not in text:
        text = text.rstrip("\n") + "\n\n" + DOC_SECTION + f"{DOC_START}\n{DOC_END}\n"
    head, rest = text.split(DOC_START, 1)
    body, tail = rest.split(DOC_END, 1)
    parts = {}
    for name in ("sqlite", "postgresql"):
        found = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->\n", body, re.S)
        parts[name] = found.group(1) if found else ""
    parts[database] = section.rstrip("\n") + "\n"
    titles = {"sqlite": "### SQLite", "postgresql": "### PostgreSQL"}
    inner = "".join(f"{titles[name]}\n\n<!-- {name} -->\n{parts[name]}<!-- /{name} -->\n\n"
                    for name in titles if parts[name].strip() and not parts[name].startswith("(No run"))
    DOC_PATH.write_text(f"{head}{DOC_START}\n{inner}{DOC_END}{tail}", encoding="utf-8")


# --- main ----------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=bigdata.FULL_PRODUCTS)
    parser.add_argument("--database-url", default=None, help="default: a cached SQLite file in /tmp/kasir-bench")
    parser.add_argument("--json", default=None, help="write the figures here")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--page-cap", type=float, default=20.0, help="seconds of requests per page at most")
    parser.add_argument("--explain", type=int, default=6, help="explain the statements of this many slowest pages")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--write-doc", action="store_true", help=f"update the pages section of {DOC_PATH.name}")
    parser.add_argument("--threads", type=int, default=None, help="waitress threads (default: the Makefile's)")
    parser.add_argument("--moves", type=int, default=None, help="stock moves of the database (default 10 a product)")
    parser.add_argument("--members", type=int, default=None)
    parser.add_argument("--import-rows", type=int, default=20_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--contention-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.threads = args.threads or makefile_threads()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print(f"Kasir Koperasi page benchmark: {machine()}", flush=True)
    big = bigdata.ensure(args.products, args.database_url, rebuild=args.rebuild, moves=args.moves,
                         members=args.members, started=started)
    workdir = Path(tempfile.mkdtemp(prefix="kasir-pages-"))
    app = bigdata._app(big.url, big.instance)
    facts = gather_facts(app, big.meta.get("busy_sku"))
    pages, notes = plan_pages(app, facts)
    with app.app_context():
        from pos.db import db

        db.session.remove()
        db.engine.dispose()
    log(f"{len(pages)} pages and calls to measure; serving {big.url} with waitress ({args.threads} threads)", started)
    server = Server(big, args.threads, workdir / "server.log")
    results: list[Result] = []
    contention: dict = {}
    imported = None
    try:
        clients = {role: sign_in(server.port, role) for role in ROLES}
        clients[None] = Client(server.port)
        clients["token"] = Client(server.port)
        health = Client(server.port)
        base_ms = baseline(health, args.rounds)
        rss_before = server.rss_mb()
        log(f"signed in {len(ROLES)} roles; baseline /healthz p50 {percentile(base_ms, 0.5):.1f} ms; "
            f"server RSS {rss_before:.0f} MB", started)
        for page in pages:
            result = measure(page, clients[page.role], args.rounds, args.page_cap)
            result.rss_mb = server.rss_mb()
            results.append(result)
            base_ms += baseline(health, 1)
            flag = "" if result.ok else f" status {sorted(set(result.statuses))}"
            log(f"{page.path} ({page.role or '-'}): p50 {_ms(result.p50)} ms, p95 {_ms(result.p95)} ms, "
                f"{_size(result.bytes)}{' capped' if result.capped else ''}{flag}", started)
        rss_after = server.rss_mb()
        html = [r for r in results if r.ms and not r.page.download and not r.page.paths and r.page.role != "token"
                and r.ok]
        heavy = max(html, key=lambda r: r.p50).page if html else None
        contention = lookups_during(server.port, facts, heavy, clients, args.contention_seconds, burst=3)
        log(f"lookups alone p95 {_ms(contention['alone_p95_ms'])} ms; during {heavy.path if heavy else '-'}: "
            f"p95 {_ms(contention.get('during_p95_ms', float('nan')))} ms", started)
        for client in clients.values():
            client.close()
        health.close()
    finally:
        server.stop()
    explained = explain_pages(big, results, args.explain, started) if args.explain else []
    if not args.skip_import:
        if import_is_a_job():
            imported = time_import(big, args.threads, args.import_rows, facts, started, workdir)
        else:
            notes.append("catalog import not timed: it is not a background job yet (no pos/jobs.py)")
    from pos.db import WRITE_BUDGET_MS

    slow_writes = over_budget_writes(workdir)
    notes.append(f"write transactions over the {WRITE_BUDGET_MS} ms budget in the servers' logs (pages and import "
                 f"runs): {len(slow_writes)}" + (f", the longest {max(slow_writes):,.0f} ms" if slow_writes else ""))
    base = percentile(base_ms, 0.5)
    seconds = time.perf_counter() - started
    section = report_text(args, big, results, base, (rss_before, rss_after), contention, imported, notes, seconds)
    plans = plans_text(explained)
    print()
    print(section)
    if plans:
        print("\nStatements of the slowest pages (calls, total time, plan; !! a full scan of a big table):\n")
        print(plans)
    if args.json:
        data = {
            "products": args.products, "database": "sqlite" if big.path else "postgresql",
            "baseline_ms": base, "rss_mb_before": rss_before, "rss_mb_after": rss_after,
            "pages": {r.page.path: {"role": r.page.role, "endpoint": r.page.endpoint, "p50_ms": r.p50,
                                    "p95_ms": r.p95, "first_byte_p95_ms": r.first_p95, "rss_mb_after": r.rss_mb,
                                    "bytes": r.bytes, "n": len(r.ms), "status": r.status,
                                    "statuses": sorted(set(r.statuses)), "ok": r.ok, "capped": r.capped,
                                    "target_ms": r.page.target_ms, "met": r.met, "download": r.page.download,
                                    "content_type": r.content_type, "error": r.error} for r in results},
            "lookup_contention": contention, "import": imported, "explain": explained, "notes": notes,
            "writes_over_budget_ms": slow_writes,
            "meta": {k: v for k, v in big.meta.items() if k != "upgrades"}, "seconds": round(seconds, 1),
        }
        Path(args.json).write_text(json.dumps(data, indent=2, default=str, allow_nan=True))
    if args.write_doc:
        brief = plans_text(explained, brief=True)
        body = section + ("\n\nStatements of the slowest pages that took 1 ms or more or scan a big table (calls, "
                          "total time, plan; `!!` a full scan):\n\n```\n" + brief + "\n```" if brief else "")
        write_doc(body, "sqlite" if big.path else "postgresql")
        print(f"\nwrote the results into {DOC_PATH}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
