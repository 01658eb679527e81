"""Plain HTTP against the live production server: health, Indonesian login, every demo role's menu, cookies, no CDN.

Only the standard library (urllib + http.cookiejar): `requests` is not a dependency of the project.
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar

import pytest

from tests.e2e.conftest import E2E_DATABASE

DEMO_PASSWORD = "demo123"
TIMEOUT = 10
CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
MENU_LINK_RE = re.compile(r'<a href="([^"]+)"[^>]*data-menu="([^"]+)"')
# src=, href= or action= (and CSS url()/@import) pointing at another host: http://, https:// or protocol-relative //.
EXTERNAL_IN_HTML_RE = re.compile(r"""\b(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
EXTERNAL_IN_CSS_RE = re.compile(r"""(?:url\(\s*["']?|@import\s+["']?)\s*(?:https?:)?//""", re.IGNORECASE)

BOARD_MENU = [
    "main.dashboard", "sales.index", "members.index", "catalog.index", "stock_reports.index", "ledger.index",
    "main.outlets",
    "admin.users", "admin.audit", "main.settings",
]
EXPECTED_MENUS = {
    "kasir": ["main.dashboard", "till.index", "members.index", "catalog.index"],
    "apoteker": ["main.dashboard", "till.index", "members.index", "catalog.index", "stock_ops.index",
                 "stock_reports.index"],
    "gudang": ["main.dashboard", "catalog.index", "stock_ops.index", "stock_reports.index", "main.outlets"],
    "manajer": [
        "main.dashboard", "till.index", "sales.index", "members.index", "catalog.index", "stock_ops.index",
        "stock_reports.index",
        "ledger.index", "main.outlets", "devices.index", "admin.audit", "main.settings",
    ],
    "pengurus": BOARD_MENU,
    "pengawas": BOARD_MENU,
}
FULL_NAMES = {
    "kasir": "Siti Rahmah",
    "apoteker": "apt. Muhammad Rizki, S.Farm.",
    "gudang": "Ahmad Fauzi",
    "manajer": "Nurul Hidayah",
    "pengurus": "H. Abdul Rahman",
    "pengawas": "Hj. Fatimah Zahra",
}


@dataclass
class Reply:
    status: int
    headers: object  # http.client.HTTPMessage
    text: str

    def json(self):
        return json.loads(self.text)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # let the test see the 302 itself
        return None


class Client:
    """A cookie-keeping HTTP client that never follows redirects and never raises on 4xx/5xx."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        assert path.startswith("/"), path
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1 only
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=TIMEOUT) as response:
                return Reply(response.status, response.headers, response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, exc.headers, exc.read().decode("utf-8", errors="replace"))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Reply:
        return self.request("POST", path, form)

    def csrf_token(self) -> str:
        page = self.get("/login")
        assert page.status == 200, page.status
        return csrf_from(page.text)

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> Reply:
        token = self.csrf_token()
        return self.post("/login", {"username": username, "password": password, "csrf_token": token})


def csrf_from(text: str) -> str:
    match = CSRF_RE.search(text)
    assert match, "the page carries no hidden csrf_token input"
    return html.unescape(match.group(1))


def menu_of(text: str) -> list[tuple[str, str]]:
    """(href, endpoint) of every menu link, in page order."""
    return [(html.unescape(href), endpoint) for href, endpoint in MENU_LINK_RE.findall(text)]


def assert_no_external_urls(text: str, where: str) -> None:
    found = [text[m.start() : m.start() + 80] for m in EXTERNAL_IN_HTML_RE.finditer(text)]
    assert not found, f"{where} references another host (a CDN?): {found}"


@pytest.fixture
def client(live_server) -> Client:
    return Client(live_server.url)


def test_healthz_reports_ok_database_and_current_migrations(client):
    reply = client.get("/healthz")
    assert reply.status == 200
    assert reply.headers.get_content_type() == "application/json"
    assert reply.json() == {"status": "ok", "db": "ok", "migrations": "current"}
    assert reply.headers.get("Cache-Control") == "no-store"


def test_login_page_is_in_bahasa_indonesia(client):
    reply = client.get("/login")
    assert reply.status == 200
    assert re.search(r'<html[^>]*\slang="id"', reply.text), reply.text[:200]
    assert "Masuk" in reply.text
    assert "Nama pengguna" in reply.text
    assert "Kata sandi" in reply.text
    assert "Sign in" not in reply.text and "Username" not in reply.text  # nothing left untranslated here
    assert 'name="csrf_token"' in reply.text


def test_anonymous_visitor_is_sent_to_login(client):
    reply = client.get("/")
    assert reply.status == 302
    assert urllib.parse.urlsplit(reply.location).path == "/login"


@pytest.mark.parametrize("username", list(EXPECTED_MENUS))
def test_every_demo_user_signs_in_and_sees_exactly_their_menu(client, username):
    reply = client.sign_in(username)
    assert reply.status == 302, reply.text[:500]
    assert urllib.parse.urlsplit(reply.location).path == "/"

    dashboard = client.get("/")
    assert dashboard.status == 200
    assert FULL_NAMES[username] in html.unescape(dashboard.text)
    menu = menu_of(dashboard.text)
    assert [endpoint for _href, endpoint in menu] == EXPECTED_MENUS[username]
    assert_no_external_urls(dashboard.text, f"the dashboard of {username}")

    # Every menu entry opens for this role (the menu offers nothing the permissions then refuse).
    for href, endpoint in menu:
        page = client.get(href)
        assert page.status == 200, f"{username}: menu item {endpoint} ({href}) answered {page.status}"
        assert menu_of(page.text) == menu, f"{username}: the menu differs on {href}"
        assert_no_external_urls(page.text, f"{href} as {username}")

    # An admin page the role does not have in its menu is refused.
    if "admin.users" not in EXPECTED_MENUS[username]:
        assert client.get("/admin/pengguna").status == 403


def test_wrong_password_is_refused_and_stays_signed_out(client):
    reply = client.sign_in("gudang", "not-the-password")
    assert reply.status in (400, 401, 403), reply.status
    assert "Location" not in reply.headers
    assert client.get("/").status == 302


def test_login_post_without_csrf_token_is_rejected(client):
    client.get("/login")  # a real session cookie, just no token in the form
    reply = client.post("/login", {"username": "kasir", "password": DEMO_PASSWORD})
    assert reply.status == 400
    assert client.get("/").status == 302, "the POST without a CSRF token signed the user in anyway"

    fresh = Client(client.base_url)  # and without any cookie at all
    assert fresh.post("/login", {"username": "kasir", "password": DEMO_PASSWORD}).status == 400


def test_login_post_with_a_forged_csrf_token_is_rejected(client):
    client.get("/login")
    reply = client.post("/login", {"username": "kasir", "password": DEMO_PASSWORD, "csrf_token": "forged"})
    assert reply.status == 400


def session_cookie_headers(reply: Reply) -> list[str]:
    return [h for h in reply.headers.get_all("Set-Cookie") or [] if h.startswith("kasir_session=")]


def test_session_cookie_is_httponly_and_samesite_lax(client):
    for reply in (client.get("/login"), client.sign_in("kasir")):
        headers = session_cookie_headers(reply)
        assert headers, "no kasir_session cookie was set"
        for header in headers:
            attributes = [part.strip().lower() for part in header.split(";")[1:]]
            assert "httponly" in attributes, header
            assert "samesite=lax" in attributes, header


def test_security_headers_on_pages(client):
    reply = client.get("/login")
    csp = reply.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert reply.headers.get("X-Frame-Options") == "DENY"
    assert reply.headers.get("X-Content-Type-Options") == "nosniff"


def test_stylesheet_is_served_locally(client):
    login = client.get("/login")
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', login.text)
    assert stylesheets == ["/static/css/kasir.css"]
    css = client.get("/static/css/kasir.css")
    assert css.status == 200
    assert css.headers.get_content_type() == "text/css"
    assert len(css.text) > 200
    found = [css.text[m.start() : m.start() + 80] for m in EXTERNAL_IN_CSS_RE.finditer(css.text)]
    assert not found, f"kasir.css loads from another host: {found}"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', login.text):
        assert client.get(asset).status == 200, asset


def test_no_page_references_an_external_url(client):
    pages = ["/login"]
    assert_no_external_urls(client.get("/login").text, "/login")
    assert client.sign_in("manajer").status == 302
    pages += ["/", "/kasir/", "/kasir/TK01", "/kasir/TK01/masuk", "/outlets", "/admin/audit", "/settings", "/akun/"]
    for path in pages[1:]:
        reply = client.get(path)
        assert reply.status == 200, f"{path} answered {reply.status}"
        assert_no_external_urls(reply.text, path)


def test_server_runs_isolated_on_its_own_instance_and_database(client, live_server):
    assert client.sign_in("manajer").status == 302
    settings = html.unescape(client.get("/settings").text)
    expected_kind = "postgresql" if live_server.database_url else "sqlite"
    assert f"(database: {expected_kind})" in settings or f"(basis data: {expected_kind})" in settings, settings[:2000]
    assert "pbkdf2:sha256:1000" in settings  # the environment given to the subprocess reached the server
    if not live_server.database_url:
        assert (live_server.instance / "kasir.db").is_file(), "the server did not use the temporary instance"
    else:
        assert live_server.database_url.endswith(f"/{E2E_DATABASE}")
