"""Long lists are paged by keyset and their summaries are SQL that agrees with a straightforward recomputation
(issue 10): the catalog, the members and their wajib arrears, the audit log, a count sheet and its variances, a
stock document's lines. Small sizes here; the benchmark measures them at 100 000 products."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from inventory import catalog, services, stock
from inventory.models import Product, StockDocument, Supplier
from ledger import members as service
from ledger.models import Member, MemberStatus, SavingsKind, Slip, SlipKind
from pos import audit
from pos.db import db, write_transaction
from tests.conftest import csrf_token, sign_in

NEXT = re.compile(r'<a href="([^"]+)" rel="next"')
PREV = re.compile(r'<a href="([^"]+)" rel="prev"')


@contextmanager
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


def client_for(app, username):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def link(pattern, html: str) -> str | None:
    found = pattern.search(html)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client, first: str, row: re.Pattern) -> tuple[list[str], list[str]]:
    """Every row of a paged list, following its Next links; and the pages' first URLs."""
    seen, urls, url = [], [], first
    while url is not None:
        urls.append(url)
        html = client.get(url).text
        seen += row.findall(html)
        url = link(NEXT, html)
        assert len(urls) < 100
    return seen, urls


def product_input(n: int, name: str) -> catalog.ProductInput:
    return catalog.ProductInput(sku=f"TST-{n:04d}", name=name, category="RUMAH", unit="TOKO", base_unit="pcs",
                                public_price=1_000 + n, member_price=1_000 + n)


@pytest.fixture
def shop(stock_app):
    """The stock app with 130 more products, names in no order of their SKUs (and two of the same name)."""
    with ctx(stock_app):
        with write_transaction():
            for n in range(130):
                name = f"Produk {(n * 37) % 130:03d}" if n != 129 else "Produk 000"
                catalog.create_product(product_input(n, name), None)
    return stock_app


# --- the catalog -------------------------------------------------------------------------------------------------


def test_the_catalog_is_paged_in_name_order_and_keeps_its_filter(shop):
    client = client_for(shop, "gudang")
    with ctx(shop):
        expected = list(db.session.scalars(sa.select(Product.sku).where(Product.active.is_(True))
                                           .order_by(Product.name, Product.id)))
        with write_transaction():
            catalog.set_active(db.session.scalar(sa.select(Product).where(Product.sku == "TST-0007")), False)
    expected.remove("TST-0007")
    row = re.compile(r'<tr data-sku="([^"]+)"')
    seen, urls = walk(client, "/produk/", row)
    assert seen == expected and len(urls) == 3  # 133 active products, 50 a page
    first = client.get("/produk/").text
    assert link(PREV, first) is None and 'data-total="133"' in first
    last = client.get(urls[-1]).text
    assert link(NEXT, last) is None
    back = link(PREV, last)
    assert "sebelum=" in back and row.findall(client.get(back).text) == expected[50:100]
    # the status filter rides along; archived and all
    everything, _ = walk(client, "/produk/?status=semua", row)
    assert len(everything) == 134 and "TST-0007" in everything
    assert all("status=semua" in url for url in walk(client, "/produk/?status=semua", row)[1][1:])
    assert row.findall(client.get("/produk/?status=arsip").text) == ["TST-0007"]
    # a cursor that is not a row id shows the first page, never an error
    for junk in ("abc", "-1", "0", "99999999999999999999999", "1e9"):
        page = client.get(f"/produk/?setelah={junk}&sebelum={junk}")
        assert page.status_code == 200 and row.findall(page.text) == expected[:50], junk


def test_the_catalog_finds_a_product_by_barcode_sku_or_name(shop):
    client = client_for(shop, "gudang")
    row = re.compile(r'<tr data-sku="([^"]+)"')

    def found(q, **args):
        return row.findall(client.get("/produk/", query_string={"q": q, **args}).text)

    assert found("8999999002503") == ["OBT-PCT500"]  # the box's barcode as printed
    assert found("]E08999999002503") == ["OBT-PCT500"]  # as a scanner with a symbology identifier sends it
    expiry = (dt.date.today() + dt.timedelta(days=300)).strftime("%y%m%d")
    assert found(f"]d201089999990025031{7}{expiry}10LOT9")[0] == "OBT-PCT500"  # a GS1 element string
    assert found("obt-pct500") == ["OBT-PCT500"]  # an SKU in any case
    assert "OBT-PCT500" in found("OBT-")  # SKUs starting with it
    assert found("para 500") == ["OBT-PCT500"]  # words of the name
    assert found("8991234567891") == []
    with ctx(shop):
        with write_transaction():
            catalog.set_active(db.session.scalar(sa.select(Product).where(Product.sku == "OBT-PCT500")), False)
    assert found("8999999002503") == []  # archived: not among the active ones
    assert found("8999999002503", status="arsip") == ["OBT-PCT500"]
    assert found("8999999002503", status="semua") == ["OBT-PCT500"]
    assert found("Produk", status="arsip") == []


# --- members and their wajib arrears -----------------------------------------------------------------------------


def wajib() -> int:
    from flask import current_app

    return current_app.config["KASIR"]["simpanan_wajib_amount"]


def naive_arrears(as_of: dt.date) -> dict[str, tuple[str, ...]]:
    """Months unpaid per active member, month by month in Python (what the page showed before)."""
    paid = {}
    for member_id, period in db.session.execute(sa.select(Slip.member_id, Slip.period).where(
            Slip.savings_kind == SavingsKind.WAJIB, Slip.kind == SlipKind.DEPOSIT)):
        paid.setdefault(member_id, set()).add(period)
    result = {}
    for member in db.session.scalars(sa.select(Member).where(Member.status == MemberStatus.ACTIVE,
                                                             Member.join_date <= as_of)):
        months, (year, month) = [], (member.join_date.year, member.join_date.month)
        while (year, month) <= (as_of.year, as_of.month):
            if f"{year}-{month:02d}" not in paid.get(member.id, ()):
                months.append(f"{year}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if months:
            result[member.number] = tuple(months)
    return result


@pytest.fixture
def savers(books_app):
    """80 members who joined over the last three years, each with some months of simpanan wajib paid (some ahead,
    some not at all), one who left, one who joins today."""
    from pos.web.templating import local_today

    with ctx(books_app):
        today = local_today()
        with write_transaction():
            for i in range(80):
                joined = today - dt.timedelta(days=20 + i * 12)
                member = service.register_member(service.MemberInput(
                    name=f"Penabung {i:02d}", nik=f"637102010190{i:04d}", join_date=joined), None,
                    pay_pokok=False, author_name="test")
                year, month = joined.year, joined.month
                for k in range(i % 7 * 3):  # 0 to 18 months from joining, every other one skipped for some
                    if i % 3 == 0 and k % 2:
                        continue
                    period = f"{year}-{month:02d}"
                    if (year, month) > (today.year, today.month + 2 if today.month <= 10 else 12):
                        break
                    service.deposit(member, SavingsKind.WAJIB, wajib(), max(joined, today - dt.timedelta(days=1)),
                                    None, period=period, author_name="test")
                    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            service.register_member(service.MemberInput(name="Baru Hari Ini", nik="6371020101990001",
                                                        join_date=today), None, pay_pokok=False, author_name="t")
    return books_app


def test_wajib_arrears_in_sql_agree_with_a_month_by_month_count(savers):
    from pos.web.templating import local_today

    with ctx(savers):
        today = local_today()
        for as_of in (today, today - dt.timedelta(days=200), today + dt.timedelta(days=400)):
            expected = naive_arrears(as_of)
            assert {a.member.number: a.months for a in service.wajib_arrears(as_of)} == expected
            assert service.wajib_arrears_count(as_of) == len(expected)
            months = sum(len(m) for m in expected.values())
            assert service.wajib_arrears_totals(as_of) == (len(expected), months, months * wajib())
            some = db.session.scalar(sa.select(Member).where(Member.number == sorted(expected)[0]))
            assert [a.months for a in service.wajib_arrears(as_of, some.id)] == [expected[some.number]]
        assert len(naive_arrears(today)) > 50  # enough for two pages


def test_the_arrears_page_pages_the_members_and_totals_them_all(savers):
    from pos.web.templating import local_today

    client = client_for(savers, "manajer")
    with ctx(savers):
        expected = naive_arrears(local_today())
    months_total = sum(len(m) for m in expected.values())
    row = re.compile(r'<tr data-member="([^"]+)" data-months="(\d+)"')
    seen, urls = walk(client, "/anggota/tunggakan", row)
    assert [number for number, _ in seen] == sorted(expected) and len(urls) == 2
    assert {number: int(n) for number, n in seen} == {number: len(m) for number, m in expected.items()}
    with ctx(savers):
        amount = months_total * wajib()
    for url in urls:  # every page carries the totals of all members
        html = client.get(url).text
        assert f'data-months-total="{months_total}"' in html and f'data-total="{amount}"' in html
    download = client.get("/anggota/tunggakan?format=csv").data.decode("utf-8-sig").splitlines()
    assert len(download) == 1 + len(expected) + 1 and download[-1].endswith(f",{amount}")


# --- the audit log -----------------------------------------------------------------------------------------------


def test_the_audit_log_is_paged_newest_first(demo_app):
    with ctx(demo_app):
        with write_transaction():
            for i in range(120):
                audit.record("bench.paged", actor=None, actor_name="gudang" if i % 2 else "kasir",
                             target_type="test", target_id=str(i))
        expected = [str(i) for i in range(119, -1, -1)]
    client = client_for(demo_app, "pengurus")
    row = re.compile(r'<tr data-action="bench.paged">\s*<td[^>]*>[^<]*</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*'
                     r'<td data-col="action"><code>bench.paged</code></td>\s*<td>test (\d+)</td>')
    seen, urls = walk(client, "/admin/audit?aksi=bench.", row)
    assert seen == expected and len(urls) == 3
    assert all("aksi=bench." in url for url in urls[1:])
    newer = link(PREV, client.get(urls[1]).text)
    assert row.findall(client.get(newer).text) == expected[:50]
    only_gudang, _ = walk(client, "/admin/audit?aksi=bench.&oleh=gudang", row)
    assert only_gudang == [n for n in expected if int(n) % 2]


# --- a count sheet and a stock document with many lines ----------------------------------------------------------


def test_a_long_count_sheet_is_paged_and_its_variances_add_up_over_every_line(shop):
    from pos.web.templating import local_today

    with ctx(shop):
        today = local_today()
        with write_transaction():
            products = list(db.session.scalars(sa.select(Product).where(Product.sku.startswith("TST-"))
                                               .order_by(Product.id)))
            supplier = db.session.scalar(sa.select(Supplier).where(Supplier.code == "SPB"))
            services.receive_goods(services.ReceiptInput(
                supplier, "INV-MANY", today, services.location_by_code("GD-GUDANG"),
                tuple(services.ReceiptLine(p, p.units[0], Decimal(10 + i % 5), 700 + i, "", None)
                      for i, p in enumerate(products))), None)
    gudang, manager = client_for(shop, "gudang"), client_for(shop, "manajer")
    opened = gudang.post("/gudang/opname", data={"csrf_token": csrf_token(gudang), "location": "GD-GUDANG",
                                                 "date": today.isoformat()})
    doc_id = int(re.search(r"/gudang/opname/(\d+)$", opened.headers["Location"]).group(1))
    with ctx(shop):
        document = db.session.get(StockDocument, doc_id)
        shelf_order = [line.id for line in sorted(
            document.lines, key=lambda line: (line.product.name, line.batch.lot if line.batch else "", line.id))]
    assert len(shelf_order) == 130

    field = re.compile(r'name="count_(\d+)"')
    first = gudang.get(f"/gudang/opname/{doc_id}").text
    assert [int(i) for i in field.findall(first)] == shelf_order[:100] and 'data-lines="130"' in first
    second_url = link(NEXT, first)
    second = gudang.get(second_url).text
    assert [int(i) for i in field.findall(second)] == shelf_order[100:] and link(NEXT, second) is None

    # each page is counted on its own; one short, one over, the rest as the books say; saving returns to the page
    counts = {}
    with ctx(shop):
        for line in db.session.get(StockDocument, doc_id).lines:
            counts[line.id] = int(line.expected)
    counts[shelf_order[3]] -= 2
    counts[shelf_order[120]] += 1
    for ids, url in ((shelf_order[:100], f"/gudang/opname/{doc_id}"), (shelf_order[100:], second_url)):
        action = re.search(r'<form method="post" action="([^"]+/hitung[^"]*)"', gudang.get(url).text).group(1)
        saved = gudang.post(action.replace("&amp;", "&"), data={
            "csrf_token": csrf_token(gudang), **{f"count_{i}": str(counts[i]) for i in ids}})
        assert saved.status_code == 302 and saved.headers["Location"].endswith(url.split("/gudang")[-1])

    with ctx(shop):
        document = db.session.get(StockDocument, doc_id)
        assert document.status == "counted"
        surplus = shortage = 0  # the straightforward recomputation, line by line
        for line in document.lines:
            variance = line.counted - stock.on_hand(line.product_id, document.from_location_id, line.batch_id)
            value = stock.value_of(abs(variance), stock.cost_at(line.product, document.from_location, line.batch))
            surplus, shortage = surplus + (value if variance > 0 else 0), shortage + (value if variance < 0 else 0)
    assert surplus and shortage
    page = manager.get(second_url).text  # the second page shows its own variance rows, the totals of all
    assert f'data-surplus="{surplus}"' in page and f'data-shortage="{shortage}"' in page
    assert page.count("data-variance-line=") == 30
    approved = manager.post(f"/gudang/opname/{doc_id}/setujui", data={
        "csrf_token": csrf_token(manager), "surplus": str(surplus), "shortage": str(shortage), "confirm": "1"})
    assert approved.status_code == 302

    # the approved count's document: its lines paged in line order, the total of every line's value
    row = re.compile(r'<tr data-line="(TST-\d+)"')
    seen, urls = walk(manager, f"/gudang/dokumen/{doc_id}", row)
    assert len(seen) == 130 and len(urls) == 2
    html = manager.get(urls[1]).text
    assert f'data-lines-total="{surplus - shortage}"' in html and f'data-total="{surplus - shortage}"' in html
