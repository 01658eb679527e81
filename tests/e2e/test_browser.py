"""A cashier at the real server in Debian's Chromium (Playwright), keyboard only, fully offline.

Never downloads a browser: uses /usr/bin/chromium; skipped without it unless KASIR_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ACTION_TIMEOUT_MS = 10_000
MAX_TABS = 60


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("KASIR_REQUIRE_BROWSER") == "1"
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium); no browser is ever downloaded"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    if required:
        import playwright.sync_api as sync_api
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield browser
        finally:
            browser.close()


class Recorder:
    """Every request the page makes, and every console error / uncaught script error (CSP violations show there)."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def assert_offline(self) -> None:
        assert self.requests, "no request was recorded"
        elsewhere = [url for url in self.requests if urllib.parse.urlsplit(url).hostname != "127.0.0.1"]
        assert not elsewhere, f"the page reached beyond 127.0.0.1 (a CDN?): {elsewhere}"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="id-ID", timezone_id="Asia/Makassar")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def recorder(page) -> Recorder:
    return Recorder(page)  # attached before the test's first navigation


def focused(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return {tag: e.tagName, name: e.getAttribute('name') || '', text: (e.innerText || '').trim(),
                           href: e.getAttribute('href') || '', value: e.getAttribute('value') || ''}; }"""
    )


def expect_autofocus(page, name: str) -> None:
    """The field `name` takes the focus by itself (autofocus is applied at a rendering step after load)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "(n) => document.activeElement && document.activeElement.name === n", arg=name, timeout=5_000
        )
    except PlaywrightTimeout:
        pytest.fail(f"the {name!r} field should have the focus on arrival; focused: {focused(page)}")


def tab_to(page, matches, what: str) -> dict:
    """Press Tab until the focused element satisfies `matches` (a predicate on focused()); bounded."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
        seen.append(f"{element['tag']}:{element['text'] or element['name']}")
    pytest.fail(f"{what} cannot be reached with Tab; focus went through {seen}")


def menu_labels(page) -> list[str]:
    return [label.strip() for label in page.locator("nav.menu a[data-menu]").all_inner_texts()]


def sign_in_by_keyboard(page, username: str, password: str) -> None:
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "id"
    expect_autofocus(page, "username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_cashier_signs_in_opens_a_till_and_hands_over_by_pin(page, recorder, tmp_path):
    sign_in_by_keyboard(page, "kasir", "demo123")
    assert urllib.parse.urlsplit(page.url).path == "/"
    heading = page.locator("main h1")
    assert "Siti Rahmah" in heading.inner_text()
    assert heading.inner_text().startswith("Selamat datang")
    assert menu_labels(page) == ["Beranda", "Kasir", "Anggota", "Produk"]

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000  # a real rendering, not an empty canvas
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The stylesheet really applied (the CSS is local and allowed by the CSP).
    assert page.evaluate("() => getComputedStyle(document.querySelector('header.topbar')).display") != "inline"

    tills_card = page.locator('[data-card="tills"]')
    assert tills_card.get_by_role("link", name="TK01").is_visible()
    tab_to(page, lambda e: e["tag"] == "A" and e["text"] == "TK01", "the TK01 link of the tills card")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urllib.parse.urlsplit(page.url).path == "/kasir/TK01"
    assert page.locator('[data-till="TK01"]').is_visible()
    assert "Kasir bertugas: Siti Rahmah" in page.locator("main").inner_text()
    shift_dialog = page.locator('dialog[data-dialog="shift"]')
    if shift_dialog.get_attribute("open") is not None:  # no shift yet: the till offers to open one; not now
        page.keyboard.press("Escape")

    tab_to(page, lambda e: e["tag"] == "A" and e["text"] == "Ganti kasir", "the 'Ganti kasir' link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urllib.parse.urlsplit(page.url).path == "/kasir/TK01/masuk"
    expect_autofocus(page, "username")
    page.keyboard.type("manajer")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "pin"
    page.keyboard.type("4444")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert urllib.parse.urlsplit(page.url).path == "/kasir/TK01"
    main_text = page.locator("main").inner_text()
    assert "Kasir bertugas: Nurul Hidayah" in main_text
    assert "Siti Rahmah" not in main_text
    assert page.locator(".badge", has_text="PIN").is_visible()
    assert menu_labels(page) == ["Kasir"]  # a PIN session is limited to the till

    recorder.assert_offline()
    assert any(url.endswith("/static/css/kasir.css") for url in recorder.requests)
    assert not recorder.errors, recorder.errors


def test_language_switches_to_english_and_back(page, recorder):
    sign_in_by_keyboard(page, "kasir", "demo123")
    assert menu_labels(page) == ["Beranda", "Kasir", "Anggota", "Produk"]

    tab_to(page, lambda e: e["tag"] == "BUTTON" and e["text"] == "English", "the 'English' button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert menu_labels(page) == ["Dashboard", "Till", "Members", "Products"]
    assert re.match(r"Good day, Siti Rahmah", page.locator("main h1").inner_text())
    assert urllib.parse.urlsplit(page.url).path == "/", "the language switch should return to the same page"

    # The choice is the user's: it survives a reload. Then put it back for the other tests.
    page.reload()
    assert menu_labels(page) == ["Dashboard", "Till", "Members", "Products"]
    tab_to(page, lambda e: e["tag"] == "BUTTON" and e["text"] == "Bahasa Indonesia", "the 'Bahasa Indonesia' button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "id"
    assert menu_labels(page) == ["Beranda", "Kasir", "Anggota", "Produk"]

    recorder.assert_offline()
    assert not recorder.errors, recorder.errors
