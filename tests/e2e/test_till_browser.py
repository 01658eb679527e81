"""The till in Debian's Chromium, keyboard only, against the real server with the demo: a cashier opens a shift,
scans three barcodes typed fast with Enter, adds a member, pays cash and sees the change and the receipt, while
the customer screen follows; a QRIS sale confirmed and a return; the page fits a laptop and both tablet ways."""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
import sqlalchemy as sa

from tests.e2e.test_browser import ACTION_TIMEOUT_MS, CHROMIUM_ARGS, Recorder, browser, sign_in_by_keyboard  # noqa: F401 - fixture

pytestmark = pytest.mark.browser
TILL = "TK02"


@pytest.fixture(scope="module")
def codes(live_server) -> list[str]:
    """Three base-unit barcodes with stock on the shop's shelf, and the goods not sold by weight."""
    url = live_server.database_url or f"sqlite:///{live_server.instance / 'kasir.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT b.code FROM barcode b JOIN product_unit u ON u.id = b.product_unit_id "
                "JOIN product p ON p.id = b.product_id JOIN stock_level s ON s.product_id = p.id "
                "JOIN stock_location l ON l.id = s.location_id WHERE l.code = 'TK-TOKO' AND u.factor = 1 "
                "AND s.quantity >= 20 AND p.sell_by_weight = :no AND p.active = :yes ORDER BY b.id LIMIT 6"),
                {"no": False, "yes": True}).scalars().all()
    finally:
        engine.dispose()
    assert len(rows) >= 4
    return rows


@pytest.fixture
def context(browser, live_server):  # noqa: F811 - the browser fixture of test_browser
    context = browser.new_context(base_url=live_server.url, locale="id-ID", timezone_id="Asia/Makassar",
                                  viewport={"width": 1366, "height": 768})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def api(page, path: str) -> dict:
    return json.loads(page.evaluate("(p) => fetch(p).then((r) => r.text())", path))


def wait_lines(page, n: int) -> None:
    page.wait_for_function("(n) => document.querySelectorAll('[data-lines] tr').length === n && "
                           "!document.querySelector('[data-total]').textContent.endsWith(' 0')", arg=n)


def open_till(page) -> None:
    sign_in_by_keyboard(page, "kasir", "demo123")
    page.goto(f"/kasir/{TILL}")
    shift = page.locator('dialog[data-dialog="shift"]')
    if shift.get_attribute("open") is not None:
        assert page.evaluate("() => document.activeElement.name") == "opening_float"
        page.keyboard.type("250000")
        page.keyboard.press("Enter")
        page.wait_for_function("() => !document.querySelector('dialog[data-dialog=shift]').open")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'scan'")


def test_a_cashier_sells_by_keyboard_and_scanner_alone_with_the_customer_screen_following(context, codes):
    page = context.new_page()
    recorder = Recorder(page)
    open_till(page)
    screen = context.new_page()
    screen.goto(f"/kasir/{TILL}/layar")
    screen.wait_for_selector('[data-view="idle"]:not([hidden])')

    for code in codes[:3]:  # a keyboard-wedge scanner: fast keys, Enter, the next scan right away
        page.keyboard.type(code, delay=4)
        page.keyboard.press("Enter")
    wait_lines(page, 3)
    page.keyboard.type(codes[0], delay=4)  # the same item again: one line, two pieces
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-lines] tr input.qty').value === '2'")
    screen.wait_for_selector('[data-view="cart"]:not([hidden])')
    assert len(screen.locator("[data-lines] tr").all()) == 3

    page.keyboard.press("F3")
    page.keyboard.type("AGT-00002")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-member]').textContent.trim() !== 'pelanggan umum'")
    total_text = page.locator("[data-total]").inner_text()
    total = int(re.sub(r"\D", "", total_text))

    page.keyboard.press("F9")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'amount'")
    tendered = (total // 50_000 + 1) * 50_000
    page.keyboard.type(str(tendered))
    page.keyboard.press("Enter")
    done = page.locator('dialog[data-dialog="done"]')
    done.wait_for(state="visible")
    change = done.locator("[data-done-change]").inner_text()
    assert change == "Rp " + f"{tendered - total:,}".replace(",", ".")
    page.wait_for_selector('[data-receipt] .receipt')
    number = done.locator("[data-done-number]").inner_text()
    assert number in done.locator("[data-receipt]").inner_text()
    screen.wait_for_selector('[data-view="paid"]:not([hidden])')
    assert screen.locator("[data-paid-change]").inner_text() == change

    sale = api(page, f"/api/v1/sales/{number}")
    assert (sale["status"], sale["member"]["number"], len(sale["lines"])) == ("completed", "AGT-00002", 3)
    assert sale["total"] == total
    listed = api(page, f"/api/v1/sales?till={TILL}")["results"]
    assert [s["number"] for s in listed].count(number) == 1

    page.keyboard.press("Enter")  # next customer: an empty cart, the scan field ready
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'scan' && "
                           "document.querySelectorAll('[data-lines] tr').length === 0")
    recorder.assert_offline()
    assert not recorder.errors, recorder.errors


def test_qris_is_confirmed_then_part_of_the_sale_comes_back(context, codes):
    page = context.new_page()
    recorder = Recorder(page)
    page.on("dialog", lambda dialog: dialog.accept())
    open_till(page)
    page.keyboard.type(f"2*{codes[3]}", delay=4)
    page.keyboard.press("Enter")
    wait_lines(page, 1)
    page.keyboard.press("F9")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'amount'")
    page.keyboard.press("q")
    page.keyboard.press("Enter")
    qris = page.locator('dialog[data-dialog="qris"]')
    qris.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('[data-qris-image]').naturalWidth > 100")
    number = qris.locator("[data-qris-number]").inner_text()
    assert api(page, f"/api/v1/sales/{number}")["status"] == "pending"
    page.reload()  # the page is reloaded while the customer pays: the waiting sale is offered again
    banner = page.locator("[data-banner]")
    banner.wait_for(state="visible")
    assert number in banner.inner_text()
    banner.click()
    qris.wait_for(state="visible")
    assert page.evaluate("() => document.activeElement.dataset.action") == "qris-confirm"
    page.keyboard.press("Enter")  # the money showed in the bank's app
    page.locator('dialog[data-dialog="done"]').wait_for(state="visible")
    assert api(page, f"/api/v1/sales/{number}")["status"] == "completed"
    page.keyboard.press("Enter")

    page.keyboard.press("F10")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'number'")
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.returnLine === '1'")
    page.keyboard.type("1")
    for name, value in (("approver", "manajer"), ("pin", "4444"), ("reason", "kemasan rusak")):
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.name") == name:
                break
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    result = page.locator("[data-return-result]")
    result.wait_for(state="visible")
    assert "dikembalikan" in result.inner_text()
    sale = api(page, f"/api/v1/sales/{number}")
    assert sale["lines"][0]["returned_qty"] == "1" and len(sale["returns"]) == 1
    recorder.assert_offline()
    assert not recorder.errors, recorder.errors


@pytest.mark.parametrize("size", [(1366, 768), (1280, 800), (800, 1280)])
def test_the_till_fits_laptops_and_tablets_with_touch_sized_targets(browser, live_server, size):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, locale="id-ID", viewport={"width": size[0],
                                                                                        "height": size[1]})
    try:
        page = context.new_page()
        open_till(page)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), size
        small = page.evaluate("""() => Array.from(document.querySelectorAll(
              '.checkout button, .checkout .button, .checkout select, '
              + '.checkout input:not([type=radio]):not([type=checkbox])'))
            .filter((e) => e.offsetParent !== null)
            .map((e) => [e.textContent.trim() || e.name || e.className, e.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""")
        assert not small, small
        assert page.locator("[data-scan]").is_visible() and page.locator("[data-total]").is_visible()
        assert page.locator(".pay-button").is_visible()
    finally:
        context.close()


def test_the_sales_history_shows_the_receipt_and_reprints_a_copy(context):
    page = context.new_page()
    open_till(page)
    page.goto(f"/kasir/{TILL}/penjualan")
    link = page.locator("[data-sales] tbody a").first
    number = link.inner_text()
    link.click()
    assert urllib.parse.urlsplit(page.url).path.endswith(number)
    assert number in page.locator(".receipt-preview").inner_text()
    page.locator("button[data-once]").click()
    page.wait_for_selector(".flash-success")


@pytest.fixture(scope="module")
def debt_free_member(live_server) -> str:
    """A demo member who owes no kasbon (so a small kasbon sale is within the limit)."""
    url = live_server.database_url or f"sqlite:///{live_server.instance / 'kasir.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT m.number FROM member m WHERE m.status = 'active' AND NOT EXISTS ("
                " SELECT 1 FROM posting p JOIN account a ON a.id = p.account_id"
                " WHERE p.member_id = m.id AND a.key = 'piutang_anggota') ORDER BY m.id LIMIT 1")).scalar_one()
    finally:
        engine.dispose()


def pay_with(page, key: str, reference: str | None = None) -> str:
    page.keyboard.press("F9")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'amount'")
    page.keyboard.press(key)
    if reference:
        page.wait_for_function("() => document.activeElement && document.activeElement.name === 'reference'")
        page.keyboard.type(reference)
    page.keyboard.press("Enter")
    done = page.locator('dialog[data-dialog="done"]')
    done.wait_for(state="visible")
    number = done.locator("[data-done-number]").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('dialog[data-dialog=done]').open")
    return number


def test_debit_card_and_kasbon_then_the_shift_is_closed_by_keyboard(context, codes, debt_free_member):
    page = context.new_page()
    recorder = Recorder(page)
    page.on("dialog", lambda dialog: dialog.accept())  # "close the shift with Rp …?": yes
    open_till(page)
    page.keyboard.type(codes[4], delay=4)
    page.keyboard.press("Enter")
    wait_lines(page, 1)
    debit = pay_with(page, "d", "A1B2C3")
    sale = api(page, f"/api/v1/sales/{debit}")
    assert [(p["method"], p["reference"]) for p in sale["payments"]] == [("debit", "A1B2C3")]

    page.keyboard.type(debt_free_member)  # the member card scanned into the scan field
    page.keyboard.press("Enter")
    page.keyboard.type(codes[5], delay=4)
    page.keyboard.press("Enter")
    wait_lines(page, 1)
    page.wait_for_function("() => document.querySelector('[data-member]').textContent.trim() !== 'pelanggan umum'")
    kasbon = pay_with(page, "k")
    sale = api(page, f"/api/v1/sales/{kasbon}")
    assert sale["member"]["number"] == debt_free_member and sale["payments"][0]["method"] == "kasbon"

    for _ in range(30):  # from the scan field back to the till's buttons
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.dataset.action") == "close-shift":
            break
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.denomination")
    page.keyboard.type("3")  # three Rp 100.000 notes; the difference is posted as over or short
    page.keyboard.press("Enter")
    report = page.locator('dialog[data-dialog="report"]')
    report.wait_for(state="visible")
    assert "Laporan Z" in report.locator("[data-report-title]").inner_text()
    page.wait_for_selector("[data-report] .receipt")
    shifts = api(page, f"/api/v1/shifts?till={TILL}")["results"]
    assert shifts[0]["status"] == "closed" and shifts[0]["counted_cash"] == 300_000
    recorder.assert_offline()
    assert not recorder.errors, recorder.errors


def test_a_busy_server_makes_the_sale_wait_and_it_goes_through_once(context, codes):
    """The server answers the first two tries 503 (another writer holds the database): the till says it is waiting,
    sends the same sale again after Retry-After, and the sale is recorded once."""
    page = context.new_page()
    open_till(page)
    tries: list[str] = []

    def busy_twice(route):
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        tries.append(json.loads(request.post_data)["id"])
        if len(tries) <= 2:
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body=json.dumps({"error": "busy", "message": "Sibuk"}))
        else:
            route.continue_()

    page.route("**/api/v1/sales", busy_twice)
    page.keyboard.type(codes[1], delay=4)
    page.keyboard.press("Enter")
    wait_lines(page, 1)
    total = int(re.sub(r"\D", "", page.locator("[data-total]").inner_text()))
    page.keyboard.press("F9")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'amount'")
    page.keyboard.type(str((total // 10_000 + 1) * 10_000))
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-outbox]') && "
                           "document.querySelector('[data-outbox]').textContent.includes('sibuk')")
    done = page.locator('dialog[data-dialog="done"]')
    done.wait_for(state="visible", timeout=15_000)
    number = done.locator("[data-done-number]").inner_text()
    assert len(tries) == 3 and len(set(tries)) == 1  # the same sale id each time
    listed = api(page, f"/api/v1/sales?till={TILL}")["results"]
    assert [s["number"] for s in listed].count(number) == 1
    page.unroute("**/api/v1/sales")
