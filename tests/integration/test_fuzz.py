"""Fuzz every route of the app with bad input (P10): no answer is a 500, and a refused request (4xx) changes nothing.

The routes come from the route table (`app.url_map.iter_rules()`), so a new route is fuzzed without touching this
file (streams and sign-out are skipped). Each rule is called by the first role that may use it, with
- hostile URL variables (0, -1, 2⁶³, 2⁶⁴, 10³⁰, 'abc', NUL, long strings);
- hostile query values for every name the view's code reads and every field of the page's own GET forms;
- for POST: form bodies built from the forms the app itself renders for that route (crawled from its pages), plus the
  names the view's code reads and a fixed list of common names: every field hostile at once, then each field in turn
  while the others keep a plausible value. The forms that move money or stock start from a seed, a valid submission
  (checked to be accepted), and get every hostile value in each field of their first line;
- for /api/ routes: JSON bodies built from the request schema of the app's OpenAPI document, each leaf in turn
  hostile (raw NaN and 1e309 too), wrong shapes, extra fields, and 50 000-deep bodies;
- files of blank rows to the catalog check (finding 14), and other broken files.
Before and after each request the row counts of the money and stock tables are read: a 4xx must leave them equal.
Then every page and download is fetched again (report filters with each option), so a value accepted that breaks a
page later shows, and the catalog the app exports must pass its own check.

Every failure is collected with its route, input and the traceback's last lines, grouped, and reported at once.
Values are taken in turn from lists shuffled with a fixed seed, so a run is repeatable.
"""

from __future__ import annotations

import ast
import datetime as dt
import html.parser
import inspect
import io
import json
import logging
import random
import re
import secrets
import textwrap
import traceback
import uuid
import zipfile
from urllib.parse import quote, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from pos.db import db
from pos.models import Role
from pos.permissions import PUBLIC, has_permission, permission_of
from tests.conftest import csrf_token, sign_in

SEED = 20_260_109
MIE = "089686010947"
# Streams never end; signing out would end the fuzzing session (tested in test_auth).
SKIP_ENDPOINTS = {"static", "auth.logout", "till.screen_events", "devices.scan_events"}
# The first role that may use a route calls it; these users are signed in, so no URL of the fuzz names them.
ROLE_ORDER = (Role.MANAJER, Role.PENGURUS, Role.GUDANG, Role.APOTEKER, Role.KASIR, Role.PENGAWAS)
FUZZ_ROLES = ("manajer", "pengurus", "gudang", "apoteker", "kasir", "pengawas")

HOSTILE_IDS = ["0", "-1", str(2**63), str(2**64), str(10**30), "abc", "%00", "9" * 300, "x" * 2000,
               "%E2%80%AEabc", "..%2F..%2Fetc", "1%0A2"]
HOSTILE = [
    "1234567890123456789",  # 19 digits
    "9" * 25,
    "1" + "0" * 31,  # 32 digits
    "1.000.000.000.000.000.000",
    "-1",
    "-0",
    "0",
    "1,000",
    "0,0001",
    "1e309",
    "NaN",
    "Infinity",
    "0001-01-01",
    "9999-12-31",
    "31/02/2025",
    "00/00/0000",
    "dd/mm/yyyy",
    "13/2025",
    "\t",
    "a\tb",
    "\x1b[31mmerah",
    "baris\nbaru",
    "nul\x00byte",
    "x" * 5000,
    '"',
    "'\"<script>alert(1)</script>",
    "' OR 1=1 --",
    "beras premium lima",
    "🍚 Beras \u202ekiri\u200b",
    "١٢٣",
    " ",
    "",
]
JSON_HOSTILE = [10**30, 2**63, -1, 0, 1.5, True, None, [], {}, "NaN", "1e309", "x" * 5000, "1,000", "\x1b", "\x00",
                "\u202e", "beras premium lima", "9999-12-31", {"$gt": ""}, [1, 2, 3]]
RAW_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e309", "1" + "0" * 40]  # JSON text a careless client sends
COMMON_FIELDS = [
    "amount", "qty", "quantity", "date", "expiry", "price", "cost", "count_0", "count_1", "count_2", "reason",
    "memo", "description", "name", "username", "year", "month", "percent", "cadangan", "jasa_modal",
    "jasa_usaha", "q", "code", "sku", "lot", "unit_id", "product", "location", "supplier", "invoice", "member",
    "kind", "till", "halaman", "page", "dari", "sampai", "start", "end", "status", "role", "password", "pin",
    "line_0_qty", "line_0_cost", "line_0_product", "found_qty", "found_lot", "found_sku",
]
# What a refused request must leave as it was.
STATE_TABLES = (
    "journal_entry", "posting", "slip", "stock_move", "stock_document", "stock_document_line", "stock_level",
    "batch", "sale", "sale_line", "sale_payment", "sale_return", "shift", "held_cart", "member", "product",
    "product_unit", "barcode", "price_change", "supplier", "account", "closed_period", "closed_year",
    "shu_allocation", "user_account", "till", "outlet",
)
FLASH_ERROR = re.compile(r'<p class="flash flash-error"[^>]*>([^<]*)</p>|<tr data-row="(\d+)" data-column="([^"]*)" '
                         r'data-message="([^"]*)"')
PER_FIELD = 3  # hostile values per field and route, besides BIG
ALL_AT_ONCE = 8  # requests per POST route with every field hostile
PER_QUERY = 2  # hostile values per query name and route, besides BIG


# --- what the app renders: links and forms ------------------------------------------------------------------------

class _Page(html.parser.HTMLParser):
    """Links and forms of a page: each form's fields with what a browser sends, and every option of its selects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"method": (a.get("method") or "get").upper(), "action": a.get("action") or "",
                          "fields": {}, "options": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            if kind in ("checkbox", "radio") and a["name"] in self._form["fields"]:
                return
            self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["options"][a["name"]] = []
        elif tag == "option" and self._select is not None:  # what a browser sends: the selected, else the first
            options = self._form["options"][self._select]
            if not options or "selected" in a:
                self._form["fields"][self._select] = a.get("value", "")
            options.append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._form["fields"][a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _local(url: str) -> tuple[str, str] | None:
    """(path, query) of a link into the app, or None."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return parts.path, parts.query


class Routes:
    """The route table, matched against what the pages link to."""

    def __init__(self, app):
        self.app = app
        self.adapter = app.url_map.bind("localhost")
        self.rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP_ENDPOINTS]

    def endpoint(self, path: str, method: str) -> str | None:
        try:
            endpoint, _ = self.adapter.match(path, method=method)
        except (HTTPException, RequestRedirect):
            return None
        return endpoint


PATHS_PER_ENDPOINT = 12  # distinct paths (ids) fetched per endpoint and role
QUERIES_PER_PATH = 60  # and queries per path: a report's filter sent once per option of each select, its downloads


class Crawl:
    """Pages reachable by each role, links and GET forms (report filters, downloads) followed: the URLs with real
    ids per endpoint, the forms per (method, endpoint), and every answer that was a 5xx."""

    def __init__(self, routes: Routes, clients: dict, capture: Capture | None = None):
        self.errors: list[tuple[str, int, str, str]] = []
        self.urls: dict[str, list[str]] = {}
        self.forms: dict[tuple[str, str], dict] = {}
        self.query_fields: dict[str, set[str]] = {}
        for client in clients.values():
            seen: set[str] = set()
            paths: dict[str, set[str]] = {}
            queries: dict[str, int] = {}
            queue = [("/", "")] + [(r.rule, "") for r in routes.rules if not r.arguments and "GET" in r.methods]
            while queue:
                path, query = queue.pop(0)
                url = f"{path}?{query}" if query else path
                endpoint = routes.endpoint(path, "GET")
                if url in seen or endpoint is None or endpoint in SKIP_ENDPOINTS:
                    continue
                seen.add(url)
                self._remember(endpoint, path)
                known = paths.setdefault(endpoint, set())
                if path not in known and len(known) >= PATHS_PER_ENDPOINT or queries.get(path, 0) >= QUERIES_PER_PATH:
                    continue
                known.add(path)
                queries[path] = queries.get(path, 0) + 1
                if capture is not None:
                    capture.last = ""
                response = client.get(path, query_string=query)
                if response.status_code >= 500:
                    self.errors.append((endpoint, response.status_code, url, capture.last if capture else ""))
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                page = _Page()
                page.feed(response.text)
                queue.extend(link for href in page.links if (link := _local(href)) is not None)
                for form in page.forms:
                    self._form(routes, form, path, queue)

    def _form(self, routes: Routes, form: dict, page_path: str, queue: list) -> None:
        action = _local(form["action"])[0] if form["action"] and _local(form["action"]) else page_path
        found = routes.endpoint(action, form["method"])
        if found is None:
            return
        self._remember(found, action, form["method"])
        if form["method"] != "GET":
            known = self.forms.setdefault((form["method"], found), {})
            for name, value in form["fields"].items():
                known.setdefault(name, value)
            return
        self.query_fields.setdefault(found, set()).update(form["fields"])
        queue.append((action, urlencode(form["fields"])))
        for name, options in form["options"].items():
            queue.extend((action, urlencode({**form["fields"], name: option})) for option in options)

    def _remember(self, endpoint: str, path: str, method: str = "GET") -> None:
        urls = self.urls.setdefault(endpoint if method == "GET" else f"{method} {endpoint}", [])
        if path not in urls:
            urls.append(path)


# --- what the code reads -----------------------------------------------------------------------------------------

_READERS = {"get", "getlist", "form_date", "form_rupiah", "form_quantity", "form_text", "date_arg", "id_arg",
            "_optional_rupiah", "_optional_decimal"}


def _names_read(view) -> tuple[set[str], set[str]]:
    """(form names, query names) the view and the functions of its module it calls read, found in their source:
    request.form.get("x"), form.get(f"pack_name_{n}"), form_rupiah("x"), request.args.get("x"), date_arg("x")..."""
    module = inspect.getmodule(view)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(module)))
    except (OSError, TypeError):
        return set(), set()
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    todo, done = [view.__name__], set()
    form, query = set(), set()
    while todo:
        name = todo.pop()
        if name in done or name not in functions:
            continue
        done.add(name)
        for node in ast.walk(functions[name]):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if isinstance(func, ast.Name):
                todo.append(func.id)
            if called not in _READERS or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                key = first.value
            elif isinstance(first, ast.JoinedStr):
                key = "".join(v.value if isinstance(v, ast.Constant) else "0" for v in first.values)
            else:
                continue
            source = ast.unparse(func)
            (query if "args" in source or called in ("date_arg", "id_arg") else form).add(key)
    return form, query


# --- JSON bodies from the OpenAPI document -------------------------------------------------------------------------

def _resolve(schema: dict, doc: dict) -> dict:
    if "$ref" in schema:
        return _resolve(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], doc)
    if "allOf" in schema:
        merged: dict = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            part = _resolve(part, doc)
            merged["properties"].update(part.get("properties", {}))
        return merged
    return schema


PLAUSIBLE_JSON = {"till": "TK01", "code": MIE, "qty": "1", "method": "cash", "amount": 10_000, "reason": "uji",
                  "approver": "manajer", "pin": "0000", "action": "no_sale", "opening_float": 100_000,
                  "counted_cash": 100_000, "line": 1, "refund": "original", "label": "uji", "member": None}


def _example(schema: dict, doc: dict, name: str = ""):
    schema = _resolve(schema, doc)
    if name in PLAUSIBLE_JSON:
        return PLAUSIBLE_JSON[name]
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema:
        return _example(schema["oneOf"][0], doc, name)
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {key: _example(sub, doc, key) for key, sub in schema.get("properties", {}).items()
                if sub.get("description") not in ("ignored",) and "ignored" not in sub.get("description", "")}
    if kind == "array":
        return [_example(schema.get("items", {}), doc, name)]
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    return "uji"


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _leaves(sub, (*path, key))
    elif isinstance(value, list) and value:
        yield from _leaves(value[0], (*path, 0))
    yield path


def _with(body, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def _openapi_path(rule) -> str:
    path = rule.rule
    for name, converter in rule._converters.items():
        path = path.replace(f"<{'int:' if isinstance(converter, IntegerConverter) else ''}{name}>", f"{{{name}}}")
    return path


# --- plausible form values: what a careful user would type --------------------------------------------------------

def _plausible(name: str, today: dt.date) -> str:
    n = name.lower()
    if "expir" in n or "kedaluwarsa" in n:
        return (today + dt.timedelta(days=365)).strftime("%d/%m/%Y")
    if "date" in n or "tanggal" in n or n in ("dari", "sampai", "start", "end"):
        return today.strftime("%d/%m/%Y")
    if n in ("month", "bulan"):
        return f"{today.month:02d}/{today.year}"
    if n in ("year", "tahun"):
        return str(today.year - 1)
    if any(w in n for w in ("amount", "price", "cost", "harga", "float", "cash", "nominal")):
        return "1.000"
    if any(w in n for w in ("qty", "quantity", "count", "factor", "jumlah")):
        return "1"
    if any(w in n for w in ("percent", "cadangan", "jasa", "dana")):
        return "10"
    if n in ("username", "user"):
        return "fuzzuser"
    return "uji"


# Valid submissions of the forms that move money or stock, so a hostile field is read where a real one would be
# (the generic plausible values reach the other forms). Dates are filled in at run time; missing names keep the
# page's value; #N# (#N4#, #N3#: that many digits) is a number new for each request, so an accepted hostile value is
# stored rather than refused as a second invoice, member or SKU.
def seeds(today: dt.date) -> dict[str, list[dict]]:
    day, later = today.strftime("%d/%m/%Y"), (today + dt.timedelta(days=365)).strftime("%d/%m/%Y")
    line = {"sku_0": "MIE-GORENG", "unit_0": "pcs", "qty_0": "1"}
    return {
        "stock_ops.receipt": [
            {"supplier": "SPB", "invoice": "F-UJI-#N#", "date": day, "location": "TK-TOKO", "payment": "credit",
             "sku_0": "MIE-GORENG", "unit_0": "dus 40", "qty_0": "1", "cost_0": "100.000"},
            {"supplier": "PBF", "invoice": "F-UJI2-#N#", "date": day, "location": "AP-APOTEK", "payment": "bank",
             "sku_0": "OBT-PCT500", "unit_0": "box", "qty_0": "1", "cost_0": "30.000",
             "ppn_0": "1.000", "lot_0": "L-UJI", "expiry_0": later},
        ],
        "stock_ops.transfer": [{"from": "TK-TOKO", "to": "GD-GUDANG", "date": day, **line, "reason_0": "rusak"}],
        "stock_ops.write_off": [{"location": "TK-TOKO", "date": day, "reason": "rusak", **line}],
        "stock_ops.supplier_return": [{"supplier": "SPB", "location": "TK-TOKO", "date": day, "reason": "retur",
                                       **line}],
        "stock_ops.open_count": [{"location": "AP-APOTEK", "date": day}],  # TK-TOKO has its count open
        "stock_ops.record_count": [{"found_sku": "MIE-GORENG", "found_qty": "1"}],
        "ledger.manual_entry": [{"date": day, "description": "uji", "account_0": "1-1101", "debit_0": "1.000",
                                 "account_1": "1-1102", "credit_1": "1.000", "memo_0": "uji"}],
        "ledger.reverse": [{"date": day, "reason": "salah catat"}],
        "members.create": [{"name": "Budi Santoso", "nik": "637102010190#N4#", "join_date": day,
                            "address": "Jl. Uji 1", "phone": "081234567890"}],
        "members.deposit": [{"kind": "sukarela", "amount": "10.000", "date": day}],
        "members.withdraw": [{"amount": "1.000", "date": day}],
        "catalog.new": [{"sku": "UJI-#N#", "name": "Produk Uji", "category": "MIE", "unit": "TOKO", "base_unit": "pcs",
                         "public_price": "1.000", "member_price": "900", "tax_code": "exempt",
                         "sell_by_weight": "", "tracks_batches": "", "drug_class": "", "owa": "", "precursor": "",
                         "cold_chain": "", "instore": "", "pack_name_0": "dus", "pack_factor_0": "10",
                         "pack_price_0": "9.000"}],
        "admin.create_user": [{"username": "fuzz#N#", "full_name": "Pengguna Uji", "role": "kasir",
                               "password": "rahasia-uji-123", "confirm_password": "rahasia-uji-123", "pin": "5678"}],
        "ledger.add_account": [{"code": "6-7#N3#", "name": "Beban uji"}],
    }


_NUMBERED = re.compile(r"#N(\d?)#")


def _numbered(value: str, n: int) -> str:
    return _NUMBERED.sub(lambda m: f"{n % 10 ** int(m.group(1)):0{m.group(1)}d}" if m.group(1) else str(n), value)


_ROW = re.compile(r"_(\d+)$")


def _row(name: str) -> int:
    match = _ROW.search(name)
    return int(match.group(1)) if match else 0


# --- the state a refused request must not change ------------------------------------------------------------------

def _state_query(tables) -> sa.Select:
    """One SELECT of every table's row count, the stock on hand and the sum of prices."""
    meta = db.metadata.tables
    counts = [sa.select(sa.func.count()).select_from(meta[t]).scalar_subquery().label(t) for t in tables]
    sums = [sa.select(sa.func.coalesce(sa.func.sum(meta[table].c[column]), 0)).scalar_subquery().label(label)
            for table, column, label in (("stock_level", "quantity", "on_hand"), ("product", "public_price", "prices"))]
    return sa.select(*counts, *sums)


def _tail(exc_info) -> str:
    """The traceback's last lines: the project's own last frames and the error, not the library's insides."""
    frames = traceback.extract_tb(exc_info[2])
    own = [f for f in frames if "site-packages" not in f.filename and "/lib/python" not in f.filename] or frames
    lines = [f"{f.filename}:{f.lineno} in {f.name}: {(f.line or '').strip()}" for f in own[-3:]]
    lines.append("".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()[:300])
    return "\n".join(lines)


class Capture(logging.Handler):
    """The traceback the app logged for the request (the 500 handler logs it)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record):
        self.last = _tail(record.exc_info) if record.exc_info else record.getMessage()[:300]


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}…({len(text)} chars)"


class Fuzzer:
    def __init__(self, app, clients, anonymous):
        self.app = app
        self.clients = clients
        self.anonymous = anonymous
        self.tokens = {id(c): csrf_token(c) for c in [*clients.values(), anonymous]}
        self.capture = Capture()
        app.logger.addHandler(self.capture)
        self.query = _state_query([t for t in STATE_TABLES if t in db.metadata.tables])
        self.state = self._state()
        self.sent = 0
        self.by_status: dict[int, int] = {}
        self.failures: list[str] = []
        self.changed: list[str] = []
        self.endpoints_hit: set[str] = set()
        self.said = ""

    def _state(self):
        with self.app.app_context():
            row = db.session.execute(self.query).mappings().one()
            db.session.remove()
        return dict(row)

    def client_for(self, endpoint: str, method: str):
        view = self.app.view_functions[endpoint]
        permission = permission_of(view)
        if permission == PUBLIC:
            return self.anonymous
        for role in ROLE_ORDER:
            if role.value not in self.clients or not has_permission(role, permission):
                continue
            if role == Role.PENGAWAS and method != "GET" and not view._kasir_read_only_safe:
                continue
            return self.clients[role.value]
        return self.anonymous

    def send(self, endpoint, method, path, what, *, query=None, form=None, raw_json=None, files=None,
             content_type=None):
        client = self.client_for(endpoint, method)
        token = self.tokens[id(client)]
        kwargs: dict = {"query_string": query}
        if method != "GET":
            kwargs["headers"] = {"X-CSRFToken": token}
            if raw_json is not None:
                kwargs["data"] = raw_json
                kwargs["content_type"] = "application/json"
            else:
                data = MultiDict(form or {})
                data["csrf_token"] = token
                data.setdefault("form_token", secrets.token_urlsafe(24))  # a new form each time, as a browser
                if files:
                    for name, file in files.items():
                        data[name] = file
                kwargs["data"] = data
                if content_type:
                    kwargs["content_type"] = content_type
        self.capture.last = ""
        try:
            response = client.open(path, method=method, **kwargs)
            status = response.status_code
            text = response.get_data().decode("utf-8", "replace")
            said = [" ".join(part for part in found if part) for found in FLASH_ERROR.findall(text)]
            self.said = (" / ".join(said) if response.mimetype == "text/html" else text)[:400]
        except Exception as exc:  # an exception that got out of the app is a 500 too
            status = 500
            self.capture.last = _tail((type(exc), exc, exc.__traceback__))
        self.sent += 1
        self.endpoints_hit.add(endpoint)
        self.by_status[status] = self.by_status.get(status, 0) + 1
        where = f"{method} {path[:120]} ({endpoint}) {what}"
        if status >= 500:
            self.failures.append((endpoint, status, where, self.capture.last))
        after = self._state()
        if 400 <= status < 500 and after != self.state:
            diff = {k: (self.state[k], after[k]) for k in after if after[k] != self.state[k]}
            self.changed.append(f"{status} {where}: {diff}")
        self.state = after
        return status

    def report(self) -> str:
        """Each 5xx once per route and error (with how often and the first inputs), then each state change."""
        out = []
        if self.failures:
            groups: dict[tuple, list] = {}
            for endpoint, status, where, tail in self.failures:
                groups.setdefault((endpoint, status, tail.rsplit("\n", 1)[-1]), []).append((where, tail))
            out.append(f"{len(self.failures)} answer(s) were 5xx, {len(groups)} distinct (route, error):")
            for (endpoint, status, _), cases in groups.items():
                out.append(f"- {status} {endpoint}: {len(cases)} request(s), e.g.")
                out.extend(f"    {where}" for where, _tail in cases[:3])
                out.append("    " + cases[0][1].replace("\n", "\n    "))
        if self.changed:
            out.append(f"{len(self.changed)} refused request(s) changed state:")
            out.extend(f"- {line}" for line in self.changed[:40])
        return "\n".join(out)


# --- the fuzz ---------------------------------------------------------------------------------------------------

@pytest.fixture
def fuzz(shop_app):
    """The shop (stock, members with savings) with a shift, a sale, a held cart and an open count, every role
    signed in on its own client."""
    clients = {}
    for role in FUZZ_ROLES:
        client = shop_app.test_client()
        assert sign_in(client, role).status_code == 302, role
        clients[role] = client
    manager = clients["manajer"]
    headers = {"X-CSRFToken": csrf_token(manager)}
    assert manager.post("/api/v1/shifts", json={"till": "TK01", "opening_float": 100_000},
                        headers=headers).status_code == 201
    sale = manager.post("/api/v1/sales", headers=headers, json={
        "id": str(uuid.uuid4()), "till": "TK01", "lines": [{"code": MIE, "qty": "2"}],
        "payments": [{"method": "cash", "amount": 10_000}]})
    assert sale.status_code == 201, sale.text
    held = manager.post("/api/v1/held", headers=headers, json={
        "till": "TK01", "cart": {"member": None, "lines": [{"code": MIE, "qty": "1"}]}, "label": "uji"})
    assert held.status_code in (200, 201), held.text
    count = clients["gudang"].post("/gudang/opname", data={"location": "TK-TOKO", "csrf_token":
                                                         csrf_token(clients["gudang"])})
    assert count.status_code == 302, count.text
    with shop_app.app_context():
        from pos.sales.models import HeldCart, Sale, Shift

        number = db.session.scalar(sa.select(Sale.number))
        hints = {
            "identifier": number, "number": number, "code": "TK01", "sku": "MIE-GORENG", "username": "apoteker",
            "shift_id": db.session.scalar(sa.select(Shift.id)),
            "held_id": db.session.scalar(sa.select(HeldCart.id)),
        }
        db.session.remove()
    return shop_app, clients, shop_app.test_client(), hints


def _path(rule, values: dict[str, str]) -> str:
    """The rule's URL with each variable replaced by its (already URL-encoded) text."""
    out = rule.rule
    for name in rule._converters:
        spec = next(part for part in _rule_parts(rule.rule) if part.endswith(f":{name}>") or part == f"<{name}>")
        out = out.replace(spec, values[name], 1)
    return out


def _rule_parts(rule_text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(rule_text):
        if ch == "<":
            depth, start = depth + 1, i
        elif ch == ">" and depth:
            depth -= 1
            parts.append(rule_text[start:i + 1])
    return parts


def _valid_values(rule, routes: Routes, crawl: Crawl, hints: dict, method: str) -> dict[str, str] | None:
    """Real values for the rule's variables: from a URL the pages link to (or a form posts to), else from hints."""
    keys = [rule.endpoint] if method == "GET" else [f"{method} {rule.endpoint}", rule.endpoint]
    for key in keys:
        for url in crawl.urls.get(key, []):
            if any(f"/{role}/" in url + "/" for role in FUZZ_ROLES):
                continue  # never aim at a signed-in user's own account
            try:
                endpoint, values = routes.adapter.match(url, method=method)
            except (HTTPException, RequestRedirect):
                continue
            if endpoint == rule.endpoint:
                return {k: quote(str(v), safe="") for k, v in values.items()}
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name in hints and hints[name] is not None:
            values[name] = quote(str(hints[name]), safe="")
        else:
            return None
    return values


def _deep_json(depth: int = 50_000) -> str:
    return "[" * depth + "]" * depth


def _raw_json(body) -> str:
    text = json.dumps(body)
    for i, raw in enumerate(RAW_NUMBERS):
        text = text.replace(f'"__RAW{i}__"', raw)
    return text


def blank_rows_xlsx(unpacked: int = 65_000_000, width: int = 26) -> bytes:
    """A workbook whose first row names the catalog's columns, then nothing but blank rows of empty cells: a file
    of a few hundred KB that unpacks into 65 MB (finding 14)."""
    from openpyxl.utils import get_column_letter

    from inventory.catalog_io import COLUMNS

    ns = "http://schemas.openxmlformats.org"
    header = "".join(f'<c r="{get_column_letter(i + 1)}1" t="inlineStr"><is><t>{name}</t></is></c>'
                     for i, name in enumerate(COLUMNS))
    row = "<row>" + "<c/>" * width + "</row>"
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>'
             f'<row r="1">{header}</row>' + row * (unpacked // len(row)) + "</sheetData></worksheet>")
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    relationship = f"{ns}/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{sheet_type}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sheet_type}.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{relationship}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
        f'xmlns:r="{relationship}"><sheets><sheet name="Produk" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{relationship}/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


class Values:
    """Hostile values taken in turn from a list (a fixed seed shuffles it once), so every value is sent, spread
    over the fields, and a run is repeatable."""

    def __init__(self, values, rng: random.Random):
        self.values = list(values)
        rng.shuffle(self.values)
        self.at = 0

    def take(self, n: int) -> list:
        out = [self.values[(self.at + i) % len(self.values)] for i in range(n)]
        self.at += n
        return out


BIG = "1" + "0" * 31  # sent to every field besides its turn: the 19-32 digit numbers were finding 12's 500s


class RouteFuzz:
    """One rule and method: its URL variables, query values, and form or JSON body, each in turn hostile."""

    def __init__(self, run: dict, rule, method: str):
        self.run, self.rule, self.method = run, rule, method
        self.fuzzer: Fuzzer = run["fuzzer"]
        today = run["today"]
        code_form, self.code_query = _names_read(run["app"].view_functions[rule.endpoint])
        self.valid = _valid_values(rule, run["routes"], run["crawl"], run["hints"], method)
        self.is_api = rule.rule.startswith("/api/")
        doc = run["doc"]
        schema = doc["paths"].get(_openapi_path(rule), {}).get(method.lower(), {})
        body_schema = schema.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        self.base_json = _example(body_schema, doc) if body_schema else {}
        page_form = dict(run["crawl"].forms.get((method, rule.endpoint), {}))
        for name in ("csrf_token", "form_token"):
            page_form.pop(name, None)
        # What a careful user would send: the page's values, a plausible value in each empty field of the first
        # line (later lines stay empty), or the route's seeds where it has them.
        generic = {name: value or (_plausible(name, today) if _row(name) == 0 else "")
                   for name, value in page_form.items()}
        for name in code_form:
            generic.setdefault(name, _plausible(name, today) if _row(name) == 0 else "")
        self.seeded = rule.endpoint in run["seeds"]
        self.bases = [{**page_form, **seed} for seed in run["seeds"].get(rule.endpoint, [])] or [generic]

    def call(self, path: str, what: str, **kw) -> int:
        if self.method != "GET" and not kw.keys() & {"form", "raw_json", "files"}:
            if self.is_api:
                kw["raw_json"] = json.dumps(self.base_json)
            else:
                kw["form"] = self.bases[0]
        if isinstance(kw.get("form"), dict) and not isinstance(kw["form"], MultiDict):
            kw["form"] = {name: _numbered(value, self.fuzzer.sent) for name, value in kw["form"].items()}
        return self.fuzzer.send(self.rule.endpoint, self.method, path, what, **kw)

    def fuzz(self) -> None:
        rule = self.rule
        # 1. Hostile URL variables, one at a time (the others real where the pages give them).
        variables = [n for n, c in rule._converters.items() if not isinstance(c, AnyConverter)]
        for name in variables:
            for bad in HOSTILE_IDS:
                values = dict(self.valid) if self.valid else {
                    n: (sorted(c.items)[0] if isinstance(c, AnyConverter) else bad)
                    for n, c in rule._converters.items()}
                values[name] = bad
                self.call(_path(rule, values), f"url {name}={bad[:40]!r}")
        if variables and self.valid is None:
            return  # no real URL for this rule: what its body says is never read
        path = _path(rule, self.valid or {})
        # 2. Hostile query values.
        query_names = set(self.code_query) | self.run["crawl"].query_fields.get(rule.endpoint, set())
        if self.method == "GET":
            query_names |= {"q", "halaman", "date", "dari", "sampai", "till", "lokasi", "tahun", "bulan", "format"}
        for name in sorted(query_names):
            for bad in self.run["text"].take(PER_QUERY) + [BIG]:
                self.call(path, f"?{name}={_show(bad)}", query={name: bad})
        if self.method == "GET":
            return
        if self.is_api:
            self.json_bodies(path)
        else:
            self.form_bodies(path)

    def form_bodies(self, path: str) -> None:
        """Every field hostile at once, then each field of the first two lines in turn."""
        names = sorted(set(self.bases[0]) | set(COMMON_FIELDS))
        for bad in self.run["text"].take(ALL_AT_ONCE):
            self.call(path, f"every field={_show(bad)}", form={n: bad for n in names})
        for base in self.bases:
            if self.seeded and (status := self.call(path, "the seed as is", form=base)) >= 400:
                self.fuzzer.failures.append((
                    self.rule.endpoint, status, f"POST {path} the seed {base}",
                    f"answered {status} ({self.fuzzer.said}): the seed must be accepted, or the fuzz never reaches "
                    "past its first field; update it"))
            for name in sorted(n for n in base if _row(n) <= 1):
                # A seeded form (money, stock) gets every hostile value in each field of its first line.
                every = self.seeded and _row(name) == 0
                for bad in HOSTILE if every else [BIG, *self.run["text"].take(PER_FIELD)]:
                    self.call(path, f"{name}={_show(bad)}", form={**base, name: bad})
        self.call(path, "repeated fields", form=MultiDict([(n, v) for n in self.bases[0] for v in ("1", "2")]))

    def json_bodies(self, path: str) -> None:
        """Each leaf hostile (raw NaN and 1e309 too), wrong shapes, extra fields, broken and 50 000-deep JSON."""
        body = self.base_json
        for leaf in _leaves(body):
            if not leaf:
                continue
            where = ".".join(map(str, leaf))
            for bad in self.run["json"].take(PER_FIELD) + [f"__RAW{self.run['raw'].take(1)[0]}__"]:
                self.call(path, f"json {where}={_show(bad)}", raw_json=_raw_json(_with(body, leaf, bad)))
        for shape in ([], "x", 1, None, {**(body or {}), "total": 1, "price": 1}):
            self.call(path, f"json body {_show(shape)}", raw_json=json.dumps(shape))
        self.call(path, "json not json", raw_json="{'till': 'TK01',")
        self.call(path, "json 50 000 deep", raw_json=_deep_json())
        self.call(path, "json 50 000 deep object", raw_json='{"a":' * 50_000 + "1" + "}" * 50_000)


def test_no_bad_input_gives_a_500_or_changes_anything(fuzz):
    app, clients, anonymous, hints = fuzz
    routes = Routes(app)
    crawl = Crawl(routes, clients)
    assert not crawl.errors, crawl.errors  # the shop as the fixture made it
    fuzzer = Fuzzer(app, clients, anonymous)
    rng = random.Random(SEED)
    with app.test_request_context():
        from pos.web.openapi import document
        from pos.web.templating import local_today

        doc = json.loads(json.dumps(document()))
        today = local_today()  # the shop's date, as the forms check it
    run = {"app": app, "routes": routes, "crawl": crawl, "hints": hints, "fuzzer": fuzzer, "today": today,
           "doc": doc, "seeds": seeds(today), "text": Values(HOSTILE, rng), "json": Values(JSON_HOSTILE, rng),
           "raw": Values(range(len(RAW_NUMBERS)), rng)}
    for rule in sorted(routes.rules, key=lambda r: (r.rule, sorted(r.methods))):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            RouteFuzz(run, rule, method).fuzz()

    # The catalog check with a workbook of blank rows (finding 14) and other broken files.
    check = next(r for r in routes.rules if r.endpoint == "catalog_io.check")
    for name, data in (("kosong.xlsx", blank_rows_xlsx()), ("rusak.xlsx", b"PK\x03\x04rusak"),
                       ("teks.csv", b"\xff\xfe\x00\x00"), ("baris-kosong.csv", b"sku;name\n" + b"\n" * 1_000_000),
                       ("nama\n\".csv", b"sku;name\n")):
        status = fuzzer.send(check.endpoint, "POST", check.rule, f"file {name!r}",
                             files={"file": (io.BytesIO(data), name)})
        if name in ("kosong.xlsx", "baris-kosong.csv") and status != 400:
            fuzzer.failures.append((check.endpoint, status, f"POST {name}, a file of blank rows",
                                    f"answered {status}: it must be refused (400) before its rows are parsed"))

    # What was accepted must not break a page later (a count of 10^30, a lot with a line break): every page and
    # download again, and the catalog the app exports must pass its own check.
    # The manager and the board between them see every page (the other roles see fewer).
    after = Crawl(routes, {role: clients[role] for role in ("manajer", "pengurus")}, capture=fuzzer.capture)
    fuzzer.failures.extend((endpoint, status, f"GET {path} after the fuzz", tail)
                           for endpoint, status, path, tail in after.errors)
    manager = clients["manajer"]
    for kind in ("csv", "xlsx"):
        exported = manager.get(f"/produk/berkas/ekspor.{kind}")
        status = fuzzer.send(check.endpoint, "POST", check.rule, f"the app's own {kind} export",
                             files={"file": (io.BytesIO(exported.data), f"produk.{kind}")})
        if status != 200:
            fuzzer.failures.append((check.endpoint, status, f"POST the app's own {kind} export",
                                    f"answered {status} ({fuzzer.said}): the app's export must pass its own check"))

    assert not (report := fuzzer.report()), report
    routed = {r.endpoint for r in routes.rules}
    assert routed <= fuzzer.endpoints_hit, f"never called: {sorted(routed - fuzzer.endpoints_hit)}"
    assert fuzzer.sent >= 300 and fuzzer.by_status.get(400, 0) >= 300, fuzzer.by_status
