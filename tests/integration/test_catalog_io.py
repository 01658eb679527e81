"""The catalog as a file: export, check (every problem with its row and column), import, over HTTP and directly.

Over HTTP the import is a background job (pos.jobs): the tests run it in their own thread with run_jobs() and then
read its page. Assertions rest on status codes, numbers, the database and data attributes of the pages (data-row,
data-column, data-count, data-state), not on English words.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from inventory import barcodes, catalog, catalog_io, stock
from inventory.catalog import PackInput, ProductInput
from inventory.models import Barcode, Location, MoveKind, PriceChange, Product, ProductUnit, ProductWord
from pos import jobs
from pos.db import db, write_transaction
from pos.errors import InvalidInput
from pos.models import AuditEntry, Job, User
from tests.conftest import csrf_token

ERROR_RE = re.compile(r'<tr data-row="(\d+)" data-column="([a-z_]*)" data-message="([^"]*)"')
COUNT_RE = re.compile(r'data-count="(\w+)">([\d.]+)<')
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
JOB_URL_RE = re.compile(r"/jobs/(\d+)$")


# --- helpers ------------------------------------------------------------------------------------------------------


def snapshot() -> dict:
    """Every catalog table, row by row, the price history, and how many imports the audit log holds."""
    db.session.rollback()  # what the requests committed, not a stale snapshot

    def rows(model):
        table = model.__table__
        return [tuple(r) for r in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))]

    return {
        "product": rows(Product),
        "product_unit": rows(ProductUnit),
        "barcode": rows(Barcode),
        "product_word": rows(ProductWord),
        "price_change": rows(PriceChange),
        "imports": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "catalog.import")),
    }


def product_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Product))


def product(sku: str) -> Product:
    return db.session.scalar(sa.select(Product).where(Product.sku == sku))


def user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def exported_records() -> list[dict]:
    """The CSV export as dicts (text as in the file)."""
    text = catalog_io.export_csv().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def to_csv(records: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=catalog_io.COLUMNS)
    writer.writeheader()
    for record in records:
        writer.writerow({name: record.get(name, "") for name in catalog_io.COLUMNS})
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(records: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(catalog_io.COLUMNS))
    for record in records:
        sheet.append([record.get(name) or None for name in catalog_io.COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def new_record(**values) -> dict:
    record = {"sku": "GULA-1KG", "name": "Gula Pasir 1 kg", "category": "GULA", "unit": "TOKO", "base_unit": "pcs",
              "public_price": "17.500", "member_price": "17.000", "tax_code": "exempt", "het": "18.000",
              "reorder_point": "20", "active": "ya", "barcodes": "8991234560045",
              "packs": "bal 20 | 20 | 340.000 | 330.000 | 8991234560052"}
    record.update(values)
    return record


def add_odd_products(app) -> None:
    """Products that test the round trip hardest: archived, a wholesale price, decimals, a pack name with | and ;,
    an in-store barcode, a name that looks like a formula, a pack with only a member price."""
    with app.app_context():
        with write_transaction():
            odd = catalog.create_product(ProductInput(
                sku="TLR-AYAM", name="=Telur ayam ras", category="TELUR", unit="TOKO", base_unit="kg",
                public_price=28_000, member_price=27_500, wholesale_price=27_000, wholesale_min_qty=Decimal("2.5"),
                sell_by_weight=True, reorder_point=Decimal("12.75"), cold_chain=True, barcodes=("INT-TLR-01",),
                packs=(PackInput("peti | 15; kg", Decimal("15.5"), None, 400_000, ("8991234560069",)),),
            ), None)
            catalog.generate_instore_barcode(odd)
            archived = catalog.create_product(ProductInput(
                sku="OBT-CTM", name="CTM 4 mg", category="OBAT-TERBATAS", unit="APOTEK", base_unit="tablet",
                public_price=200, member_price=180, het=250, drug_class="bebas_terbatas", nie="DTL111122223333",
                owa=True, precursor=True,
            ), None)
            catalog.set_active(archived, False)
        db.session.remove()


def post_file(client, filename: str, data: bytes):
    return client.post("/produk/berkas/periksa", data={"csrf_token": csrf_token(client),
                                                       "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def errors_of(page: str) -> set[tuple[int, str, str]]:
    return {(int(row), column, message) for row, column, message in ERROR_RE.findall(page)}


def run_jobs(app) -> None:
    """Run the queued background jobs to their end, in this thread."""
    jobs.run_pending(app, pause=0)


def start_import(client, page) -> int:
    """Press Import on a check page: the job's id (the answer is a redirect to its page)."""
    response = client.post("/produk/berkas/impor", data={
        "csrf_token": csrf_token(client), "token": TOKEN_RE.search(page.text).group(1),
        "form_token": FORM_TOKEN_RE.search(page.text).group(1), "filename": "katalog"})
    assert response.status_code == 303, response.text
    return int(JOB_URL_RE.search(response.headers["Location"]).group(1))


def job_page(client, job_id: int):
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    return page


def job_state(page) -> str:
    return re.search(r'data-job="\d+" data-state="(\w+)"', page.text).group(1)


# --- export ---------------------------------------------------------------------------------------------------------


def test_the_csv_export_writes_codes_and_indonesian_numbers(stock_app):
    add_odd_products(stock_app)
    with stock_app.app_context():
        data = catalog_io.export_csv()
        assert data.startswith("\ufeff".encode())
        records = {r["sku"]: r for r in exported_records()}
        assert list(records) == ["BRS-PREMIUM", "MIE-GORENG", "OBT-AMX500", "OBT-CTM",
                                 "OBT-PCT500", "TLR-AYAM"]
        mie = records["MIE-GORENG"]
        assert (mie["public_price"], mie["wholesale_price"], mie["wholesale_min_qty"]) == ("3.500", "3.200", "10")
        assert mie["barcodes"] == "089686010947"  # the UPC's leading zero is kept
        assert mie["packs"] == "dus 40 | 40 | 128.000 | | 8994963002824"
        assert records["BRS-PREMIUM"]["packs"] == "karung 25 kg | 25 | 350.000 | | 8991234560021"
        assert records["OBT-PCT500"]["packs"] == "strip | 10 | 4.500; box | 100 | 40.000 | | 8999999002503"
        assert (records["OBT-PCT500"]["drug_class"], records["OBT-PCT500"]["tracks_batches"]) == ("bebas", "ya")
        assert records["OBT-CTM"]["active"] == "tidak"
        odd = records["TLR-AYAM"]
        assert odd["name"] == "'=Telur ayam ras"  # no formula for the spreadsheet
        assert odd["reorder_point"] == "12,75" and odd["wholesale_min_qty"] == "2,5"
        assert odd["packs"] == r"peti \| 15\; kg | 15,5 | | 400.000 | 8991234560069"
        assert odd["barcodes"].startswith("INT-TLR-01 20")


def test_the_xlsx_export_keeps_codes_as_text_and_numbers_as_numbers(stock_app):
    add_odd_products(stock_app)
    with stock_app.app_context():
        sheet = load_workbook(io.BytesIO(catalog_io.export_xlsx())).active
        header = [c.value for c in sheet[1]]
        assert header == list(catalog_io.COLUMNS)
        rows = {r[0].value: {name: cell for name, cell in zip(header, r, strict=True)}
                for r in sheet.iter_rows(min_row=2)}
        beras = rows["BRS-PREMIUM"]
        assert beras["barcodes"].value == "8991234560014" and beras["barcodes"].data_type == "s"
        assert beras["barcodes"].number_format == "@" and beras["sku"].number_format == "@"
        assert beras["public_price"].value == 14_500 and beras["het"].value == 14_900
        assert rows["TLR-AYAM"]["name"].value == "'=Telur ayam ras" and rows["TLR-AYAM"]["name"].data_type == "s"
        assert rows["TLR-AYAM"]["reorder_point"].value == Decimal("12.75")


def test_downloads_over_http(stock_app, signed_in, client):
    signed_in("kasir")  # catalog.view is everyone's
    response = client.get("/produk/berkas/ekspor.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="produk-' in response.headers["Content-Disposition"]
    assert b"MIE-GORENG" in response.data
    response = client.get("/produk/berkas/ekspor.xlsx")
    assert response.status_code == 200 and response.data.startswith(b"PK")


# --- round trip -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_reimporting_an_unchanged_export_changes_nothing(stock_app, kind):
    add_odd_products(stock_app)
    with stock_app.app_context():
        before = snapshot()
        data = catalog_io.export_csv() if kind == "csv" else catalog_io.export_xlsx()
        rows = catalog_io.read_file(f"produk.{kind}", data)
        report = catalog_io.dry_run(rows)
        assert report.ok, report.errors
        assert (report.to_create, report.to_update, report.unchanged) == (0, 0, 6)
        with write_transaction():
            catalog_io.apply(rows, user("gudang"))
        after = snapshot()
        assert after == before
        assert len(after["price_change"]) == len(before["price_change"])


def test_reimporting_over_http_changes_nothing_either(stock_app, signed_in, client):
    add_odd_products(stock_app)
    with stock_app.app_context():
        before = snapshot()
    signed_in("gudang")
    data = client.get("/produk/berkas/ekspor.xlsx").data
    page = post_file(client, "produk.xlsx", data)
    assert page.status_code == 200
    assert dict(COUNT_RE.findall(page.text)) == {"create": "0", "update": "0", "unchanged": "6"}
    job_id = start_import(client, page)
    run_jobs(stock_app)
    done = job_page(client, job_id)
    assert job_state(done) == "done"
    assert dict(COUNT_RE.findall(done.text)) == {"created": "0", "updated": "0", "unchanged": "6"}
    with stock_app.app_context():
        assert snapshot() == before


def demo_catalog_app(app):
    from inventory.demo import load_catalog_demo

    with app.app_context():
        with write_transaction():
            load_catalog_demo()
        db.session.remove()
    return app


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_demo_catalog_exported_and_imported_back_is_a_no_op(books_app, signed_in, client, kind):
    """issue 13: export, check and import of the whole demo catalog report nothing to change and change nothing."""
    demo_catalog_app(books_app)
    with books_app.app_context():
        before = snapshot()
        products = len(before["product"])
        assert products > 100
    signed_in("manajer")
    exported = client.get(f"/produk/berkas/ekspor.{kind}")
    assert exported.status_code == 200
    page = post_file(client, f"produk.{kind}", exported.data)
    assert page.status_code == 200, errors_of(page.text)
    assert dict(COUNT_RE.findall(page.text)) == {"create": "0", "update": "0", "unchanged": f"{products:,}".replace(
        ",", ".")}
    job_id = start_import(client, page)
    run_jobs(books_app)
    done = job_page(client, job_id)
    assert job_state(done) == "done"
    assert COUNT_RE.findall(done.text)[:2] == [("created", "0"), ("updated", "0")]
    with books_app.app_context():
        assert snapshot() == before


def scale_code(prefix: str, item: str) -> str:
    """A scale label's base code: prefix, 5 item digits, the 5 value digits zero, the check digit."""
    body = f"{prefix}{item}00000"
    return body + str(barcodes.gs1_check_digit(body))


def test_scale_label_base_codes_the_catalog_accepts_pass_the_import_too(stock_app, signed_in, client):
    """issue 13: a product's 21xxxxx00000 (weight) or 22xxxxx00000 (price) code goes out and back in unchanged, and
    a new row may carry one; a weight code still needs a product sold by weight."""
    weight, price = scale_code("21", "00123"), scale_code("22", "00456")
    with stock_app.app_context():
        with write_transaction():
            beras = product("BRS-PREMIUM")
            catalog.add_barcode(beras, beras.units[0], weight)
            mie = product("MIE-GORENG")
            catalog.add_barcode(mie, mie.units[0], price)
        db.session.remove()
        before = snapshot()
        records = {r["sku"]: r for r in exported_records()}
        assert weight in records["BRS-PREMIUM"]["barcodes"].split()
        report = catalog_io.dry_run([{**r, catalog_io.ROW_KEY: n} for n, r in enumerate(records.values(), start=2)])
        assert report.ok, report.errors
        assert (report.to_create, report.to_update, report.unchanged) == (0, 0, 4)
        rows = catalog_io.read_file("produk.csv", catalog_io.export_csv())
        with write_transaction():
            catalog_io.apply(rows, user("gudang"))
        assert snapshot() == before
    new_weight, new_price = scale_code("21", "00789"), scale_code("22", "00790")
    signed_in("gudang")
    page = post_file(client, "katalog.csv", to_csv([
        new_record(sku="TLR-KG", base_unit="kg", sell_by_weight="ya", barcodes=new_weight, packs=""),
        new_record(sku="KUE-1", barcodes=new_price, packs=""),
        new_record(sku="KUE-2", barcodes=scale_code("21", "00791"), packs=""),  # weight code, not sold by weight
    ]))
    assert page.status_code == 400
    assert {(row, column) for row, column, _ in errors_of(page.text)} == {(4, "barcodes")}
    page = post_file(client, "katalog.csv", to_csv([
        new_record(sku="TLR-KG", base_unit="kg", sell_by_weight="ya", barcodes=new_weight, packs=""),
        new_record(sku="KUE-1", barcodes=new_price, packs=""),
    ]))
    assert page.status_code == 200, errors_of(page.text)
    start_import(client, page)
    run_jobs(stock_app)
    with stock_app.app_context():
        stored = {b.code: (b.product.sku, b.instore) for b in db.session.scalars(
            sa.select(Barcode).where(Barcode.code.in_([new_weight, new_price])))}
        assert stored == {new_weight: ("TLR-KG", True), new_price: ("KUE-1", True)}  # as add_barcode marks them
        assert catalog_io.dry_run(catalog_io.read_file("p.csv", catalog_io.export_csv())).to_update == 0


# --- bad files --------------------------------------------------------------------------------------------------------


def bad_records() -> list[dict]:
    return [
        new_record(sku="BAD-CHECK", barcodes="8991234560015", packs=""),  # row 2: check digit should be 4
        new_record(sku="BAD-HET", public_price="19.000", barcodes="", packs=""),  # row 3: above the HET of 18.000
        new_record(sku="BAD-NIE", category="OBAT-KERAS", unit="APOTEK", base_unit="tablet", drug_class="keras",
                   nie="DBL123456789012", het="", barcodes="", packs=""),  # row 4: B is bebas, not keras
        new_record(sku="BAD-CAT", category="SEPATU", barcodes="", packs=""),  # row 5
        new_record(sku="DUP-SKU", barcodes="", packs=""),  # row 6
        new_record(sku="dup-sku", barcodes="", packs=""),  # row 7: the same SKU once upper-cased
        new_record(sku="BAD-PRICE", member_price="abc", barcodes="", packs=""),  # row 8
        new_record(sku="BAD-REORDER", reorder_point="-5", barcodes="", packs=""),  # row 9
        new_record(sku="GOOD-ONE", barcodes="", packs=""),  # row 10: no problem
        new_record(sku="MIE-GORENG", name="Indomie Goreng", category="MIE", barcodes="8991234560014",
                   packs="dus 40 | 24", het=""),  # row 11: beras's barcode; the dus holds 40
        new_record(sku="BAD-MANY", name="", unit="PASAR", base_unit="ton", tax_code="ppn", het="0",
                   wholesale_price="100", sell_by_weight="mungkin", drug_class="jamu",
                   barcodes="ABC!", packs="bal"),  # row 12: many problems at once
    ]


EXPECTED_ERRORS = {
    (2, "barcodes"), (3, "public_price"), (4, "nie"), (5, "category"), (7, "sku"), (8, "member_price"),
    (9, "reorder_point"), (11, "barcodes"), (11, "packs"),
    (12, "name"), (12, "unit"), (12, "base_unit"), (12, "tax_code"), (12, "het"), (12, "wholesale_min_qty"),
    (12, "sell_by_weight"), (12, "drug_class"), (12, "barcodes"), (12, "packs"),
}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_every_problem_is_listed_with_row_and_column_and_nothing_is_imported(stock_app, signed_in, client, kind):
    with stock_app.app_context():
        before = snapshot()
    records = bad_records()
    data = to_csv(records) if kind == "csv" else to_xlsx(records)
    signed_in("gudang")
    page = post_file(client, f"katalog.{kind}", data)
    assert page.status_code == 400
    found = errors_of(page.text)
    assert {(row, column) for row, column, _ in found} == EXPECTED_ERRORS
    messages = {(row, column): message for row, column, message in found}
    assert messages[(2, "barcodes")].startswith("The check digit of %(code)s is wrong")
    assert messages[(3, "public_price")].startswith("No price may exceed the HET")
    assert "does not match" in messages[(4, "nie")]
    assert messages[(5, "category")] == "No category %(code)s."
    assert "already in row" in messages[(7, "sku")]
    assert "is not a number" in messages[(8, "member_price")]
    assert messages[(9, "reorder_point")] == "The reorder point is zero or more."
    assert messages[(11, "barcodes")] == "Barcode %(code)s is already in use."
    assert "size of an existing pack" in messages[(11, "packs")]
    assert f'data-error-count="{len(EXPECTED_ERRORS)}"' in page.text
    assert TOKEN_RE.search(page.text) is None  # no import button
    assert re.search(r'<tr data-row="2" data-column="barcodes"[^>]*>.*?8991234560015.*?</tr>', page.text, re.S)
    with stock_app.app_context():
        assert snapshot() == before
        rows = catalog_io.read_file(f"katalog.{kind}", data)
        with pytest.raises(InvalidInput):
            with write_transaction():
                catalog_io.apply(rows, user("gudang"))
        assert snapshot() == before


def test_changes_a_file_may_not_make_to_an_existing_product(stock_app):
    with stock_app.app_context():
        with write_transaction():
            mie = product("MIE-GORENG")
            stock.move(product=mie, qty=Decimal(40), kind=MoveKind.RECEIPT, source_type="test", source_id="1",
                       user_name="test", to_location=db.session.scalar(sa.select(Location).where(
                           Location.code == "TK-TOKO")), unit_cost=Decimal(3000))
        records = {r["sku"]: r for r in exported_records()}
        records["MIE-GORENG"].update(unit="APOTEK", base_unit="kg", tracks_batches="ya",
                                     barcodes="089686010947 8994963002824",  # the dus's code on the base unit
                                     packs="dus 40 | 40 | 128.000")
        records["BRS-PREMIUM"].update(het="13.000", public_price="13.000", member_price="13.000")  # karung > 25 x
        records["OBT-PCT500"].update(nie="", packs="strip | 10 | 4.500; box | 100 | 40.000 | | 8999999002503; "
                                                   "blister | 5 | 2.500 | | 8992753102402")  # base's code on a pack
        records["OBT-AMX500"].update(drug_class="", nie="DKL987654321098")  # an NIE without a class
        report = catalog_io.dry_run([{**r, catalog_io.ROW_KEY: n} for n, r in enumerate(records.values(), start=2)])
        found = {(e.row, e.column, e.message) for e in report.errors}
        rows = {sku: n for n, sku in enumerate(records, start=2)}
        assert {(row, column) for row, column, _ in found} == {
            (rows["MIE-GORENG"], "unit"), (rows["MIE-GORENG"], "base_unit"), (rows["MIE-GORENG"], "tracks_batches"),
            (rows["MIE-GORENG"], "barcodes"), (rows["BRS-PREMIUM"], "packs"), (rows["OBT-PCT500"], "nie"),
            (rows["OBT-PCT500"], "packs"), (rows["OBT-AMX500"], "nie"),
        }
        assert report.to_create == report.to_update == 0 and not report.plans


# --- clean files ------------------------------------------------------------------------------------------------------


def test_a_clean_file_creates_and_updates_and_keeps_the_price_history(stock_app, signed_in, client, tmp_path):
    with stock_app.app_context():
        records = {r["sku"]: r for r in exported_records()}
        old_changes = len(snapshot()["price_change"])
    records["MIE-GORENG"].update(name="Indomie Goreng Original 85 g", public_price="3.600", member_price="3400",
                                 reorder_point="60", cold_chain="ya", barcodes="089686010947 INT-MIE-01",
                                 packs="dus 40 | 40 | 130.000 | 126.000 | 8994963002824; pak 5 | 5 | 17.500 | | "
                                       "8991234560076")
    records["OBT-AMX500"]["active"] = "tidak"
    records["GULA-1KG"] = new_record()
    signed_in("gudang")
    page = post_file(client, "katalog.csv", to_csv(list(records.values())))
    assert page.status_code == 200, errors_of(page.text)
    assert dict(COUNT_RE.findall(page.text)) == {"create": "1", "update": "2", "unchanged": "2"}
    with stock_app.app_context():
        assert product_count() == 4  # checking writes nothing
    token = TOKEN_RE.search(page.text).group(1)
    kept = list((Path(stock_app.instance_path) / "imports").glob("*.bin"))
    assert len(kept) == 1 and token in kept[0].name
    job_id = start_import(client, page)
    assert not kept[0].exists()  # the job has taken the file over
    waiting = job_page(client, job_id)
    assert job_state(waiting) == "queued" and "<progress" in waiting.text and "data-status-url" in waiting.text
    with stock_app.app_context():
        assert product_count() == 4  # nothing yet: the job runs in the background
    run_jobs(stock_app)
    assert not list((Path(stock_app.instance_path) / "imports").iterdir())  # and removed it when done
    done = job_page(client, job_id)
    assert job_state(done) == "done" and "data-status-url" not in done.text
    assert dict(COUNT_RE.findall(done.text)) == {"created": "1", "updated": "2", "unchanged": "2"}
    status = client.get(f"/jobs/{job_id}/status").get_json()
    assert (status["state"], status["done"], status["total"], status["percent"], status["finished"]) == (
        "done", 5, 5, 100, True)
    with stock_app.app_context():
        assert product_count() == 5
        gula = product("GULA-1KG")
        assert (gula.public_price, gula.member_price, gula.het, gula.reorder_point) == (17_500, 17_000, 18_000, 20)
        assert {(u.name, u.factor, u.price, u.member_price) for u in gula.units} == {
            ("pcs", 1, None, None), ("bal 20", 20, 340_000, 330_000)}
        assert {(b.code, b.product_unit.name) for b in gula.barcodes} == {
            ("8991234560045", "pcs"), ("8991234560052", "bal 20")}
        assert catalog.search("gula pasir") == [gula]
        mie = product("MIE-GORENG")
        assert mie.name == "Indomie Goreng Original 85 g" and mie.cold_chain and mie.reorder_point == 60
        assert (mie.public_price, mie.member_price) == (3_600, 3_400)
        assert catalog.search("original") == [mie]
        changes = {(c.field, c.old, c.new, c.changed_by) for c in db.session.scalars(
            sa.select(PriceChange).where(PriceChange.product_id == mie.id))}
        assert changes == {("public_price", 3_500, 3_600, "gudang"), ("member_price", 3_300, 3_400, "gudang")}
        assert len(snapshot()["price_change"]) == old_changes + 2
        units = {u.name: u for u in mie.units}
        assert (units["dus 40"].price, units["dus 40"].member_price) == (130_000, 126_000)
        assert units["pak 5"].factor == 5 and units["pak 5"].price == 17_500
        assert {b.code for b in mie.barcodes} == {"089686010947", "INT-MIE-01", "8994963002824", "8991234560076"}
        assert not product("OBT-AMX500").active
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "catalog.import"))
        assert entry.after == {"created": 1, "updated": 2, "rows": 5} and entry.actor_name == "gudang"


def test_imported_products_are_the_ones_the_catalog_makes(stock_app):
    """The import's multi-row INSERTs store exactly what catalog.create_product stores for the same rows."""
    add_odd_products(stock_app)
    with stock_app.app_context():
        records = exported_records()

        def tables():
            db.session.rollback()
            skip = {"id", "product_id", "product_unit_id", "created_at"}
            by_id = {p.id: p.sku for p in db.session.scalars(sa.select(Product))}
            units = {u.id: (by_id[u.product_id], u.name) for u in db.session.scalars(sa.select(ProductUnit))}
            return (
                sorted(tuple(v for k, v in r._mapping.items() if k not in skip)
                       for r in db.session.execute(sa.select(Product.__table__))),
                sorted((units[u.id], u.factor, u.price, u.member_price) for u in db.session.scalars(
                    sa.select(ProductUnit))),
                # (a code the shop generated, 20..., is marked in-store; a file does not say so)
                sorted((b.code, units[b.product_unit_id], b.instore and not b.code.startswith("20"))
                       for b in db.session.scalars(sa.select(Barcode))),
                sorted((by_id[w.product_id], w.word) for w in db.session.scalars(sa.select(ProductWord))),
            )

        made = tables()
        with write_transaction():  # the same catalog again, under other SKUs and barcodes, by the import
            for table in (ProductWord, Barcode, ProductUnit, PriceChange, Product):
                db.session.execute(sa.delete(table.__table__))
        rows = catalog_io.read_file("p.csv", to_csv(records))
        with write_transaction():
            catalog_io.apply(rows, user("gudang"))
        assert tables() == made


def test_the_import_is_exactly_the_checked_upload_and_only_once(stock_app, signed_in, client, demo_app):
    signed_in("gudang")
    page = post_file(client, "katalog.csv", to_csv([new_record()]))
    token = TOKEN_RE.search(page.text).group(1)
    # A manager cannot import the storekeeper's checked file, nor anyone a made-up or malformed token.
    signed_in("manajer")
    for forged in (token, "A" * 32, "../../etc/passwd", ""):
        response = client.post("/produk/berkas/impor", data={"csrf_token": csrf_token(client), "token": forged})
        assert response.status_code == 400
    with stock_app.app_context():
        assert product_count() == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    signed_in("gudang")
    form = {"csrf_token": csrf_token(client), "token": token, "form_token": FORM_TOKEN_RE.search(page.text).group(1)}
    first = client.post("/produk/berkas/impor", data=form)
    assert first.status_code == 303
    # The same form sent again (a double click, a resend): the first job's page, no second job.
    again = client.post("/produk/berkas/impor", data=form)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    with stock_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
    run_jobs(stock_app)
    with stock_app.app_context():
        assert product_count() == 5
    # A new form with the used upload token: that file is gone.
    other = client.post("/produk/berkas/impor", data={"csrf_token": csrf_token(client), "token": token})
    assert other.status_code == 400
    with stock_app.app_context():
        assert product_count() == 5
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_a_catalog_changed_since_the_check_is_caught_by_the_job(stock_app, signed_in, client):
    signed_in("gudang")
    page = post_file(client, "katalog.csv", to_csv([new_record()]))
    with stock_app.app_context():
        with write_transaction():  # someone else gives the GULA barcode to beras in the meantime
            beras = product("BRS-PREMIUM")
            catalog.add_barcode(beras, beras.units[0], "8991234560045")
        db.session.remove()
        before = snapshot()
    job_id = start_import(client, page)
    run_jobs(stock_app)
    failed = job_page(client, job_id)
    assert job_state(failed) == "failed" and "data-job-error" in failed.text
    assert (2, "barcodes", "Barcode %(code)s is already in use.") in errors_of(failed.text)
    assert "8991234560045" in failed.text
    with stock_app.app_context():
        assert product_count() == 4 and snapshot() == before
        assert not list((Path(stock_app.instance_path) / "imports").iterdir())


def many_records(count: int, start: int = 0) -> list[dict]:
    records = []
    for i in range(start, start + count):
        body = f"899{i:09d}"
        records.append(new_record(sku=f"BULK-{i:05d}", name=f"Barang Curah {i}", barcodes=body + str(
            barcodes.gs1_check_digit(body)), packs=""))
    return records


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 10 rows, whatever their speed (the size otherwise follows the time a chunk takes)."""
    for name in ("CHUNK_ROWS", "MIN_CHUNK", "MAX_CHUNK"):
        monkeypatch.setattr(catalog_io, name, 10)
    monkeypatch.setattr(catalog_io, "CHECK_BATCH", 7)


def test_a_big_file_is_written_in_chunks_each_its_own_commit_and_resumes_after_a_restart(
        stock_app, signed_in, client, database_url, small_chunks):
    signed_in("gudang")
    page = post_file(client, "katalog.csv", to_csv(many_records(45)))
    assert page.status_code == 200, errors_of(page.text)
    job_id = start_import(client, page)
    other = sa.create_engine(database_url)  # another connection, as another request would see the database

    def seen() -> tuple[int, str, int]:
        with other.connect() as conn:
            products = conn.execute(sa.text("SELECT count(*) FROM product WHERE sku LIKE 'BULK-%'")).scalar()
            state, done = conn.execute(sa.text("SELECT state, done FROM job WHERE id = :id"), {"id": job_id}).one()
        return products, state, done

    runner = jobs.Runner(stock_app, pause=0)
    assert runner.step()  # the whole file checked, nothing written
    assert seen() == (0, "running", 0)
    assert runner.step() and seen() == (10, "running", 10)
    assert runner.step() and seen() == (20, "running", 20)
    status = client.get(f"/jobs/{job_id}/status").get_json()
    assert (status["state"], status["done"], status["total"], status["phase"]) == ("running", 20, 45, "apply")
    assert 'value="20"' in job_page(client, job_id).text
    # The server stops here (its runner and open file are gone); the next one finds the job's heartbeat stale.
    catalog_io._SOURCES.clear()
    assert not jobs.Runner(stock_app, pause=0).step()  # the heartbeat is fresh: not another runner's to take
    restarted = jobs.Runner(stock_app, pause=0, stale=0)
    assert restarted.run_pending() == 3  # rows 21-30, 31-40, 41-45
    assert seen() == (45, "done", 45)
    assert not runner.step()  # the first runner's claim is gone: it lets the job go
    with stock_app.app_context():
        assert sorted(p.sku for p in db.session.scalars(sa.select(Product).where(Product.sku.like("BULK-%")))) == [
            f"BULK-{i:05d}" for i in range(45)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Barcode).join(Product).where(
            Product.sku.like("BULK-%"))) == 45
    other.dispose()


def test_a_row_refused_midway_stops_the_job_keeps_what_was_written_and_a_second_import_finishes(
        stock_app, signed_in, client, small_chunks):
    records = many_records(30)
    signed_in("gudang")
    page = post_file(client, "katalog.csv", to_csv(records))
    job_id = start_import(client, page)
    runner = jobs.Runner(stock_app, pause=0)
    assert runner.step() and runner.step()  # checked; rows 2-11 written
    taken = records[24]["barcodes"]  # row 26's barcode goes to beras meanwhile
    with stock_app.app_context():
        with write_transaction():
            beras = product("BRS-PREMIUM")
            catalog.add_barcode(beras, beras.units[0], taken)
        db.session.remove()
    runner.run_pending()
    failed = job_page(client, job_id)
    assert job_state(failed) == "failed"
    assert (26, "barcodes", "Barcode %(code)s is already in use.") in errors_of(failed.text)
    with stock_app.app_context():
        assert product_count() == 4 + 20  # two chunks written; the third (rows 22-31) not at all
        from pos.models import AuditEntry

        audited = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "catalog.import",
                                                                 AuditEntry.target_id == str(job_id)))
        assert audited is not None, "what the stopped import wrote is audited"
        assert audited.after["created"] == 20 and audited.after["stopped"] is True
    # The file corrected (that row without the barcode) and imported again: the written rows are left as they are.
    records[24]["barcodes"] = ""
    page = post_file(client, "katalog.csv", to_csv(records))
    assert dict(COUNT_RE.findall(page.text)) == {"create": "10", "update": "0", "unchanged": "20"}
    second = start_import(client, page)
    run_jobs(stock_app)
    assert job_state(job_page(client, second)) == "done"
    with stock_app.app_context():
        assert product_count() == 4 + 30


def test_the_job_pages_belong_to_those_who_may_import(stock_app, signed_in, client):
    signed_in("gudang")
    job_id = start_import(client, post_file(client, "katalog.csv", to_csv([new_record()])))
    listing = client.get("/jobs/")
    assert listing.status_code == 200 and f'data-job="{job_id}"' in listing.text
    assert 'data-jobs-link' in client.get("/produk/berkas/").text
    for role in ("kasir", "apoteker", "pengurus", "pengawas"):
        signed_in(role)
        for path in ("/jobs/", f"/jobs/{job_id}", f"/jobs/{job_id}/status"):
            assert client.get(path).status_code == 403, (role, path)
    signed_in("manajer")
    assert client.get(f"/jobs/{job_id}").status_code == 200
    assert client.get("/jobs/999999").status_code == 404


# --- refusals and access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename, data", [
    ("katalog.txt", b"sku,name\n"),
    ("katalog.xls", b"\xd0\xcf\x11\xe0 old excel"),
    ("katalog.xlsx", b"not a workbook"),
    ("katalog.csv", b""),
    ("katalog.csv", b"sku,nama,harga\nA,B,1\n"),  # wrong headers
    ("katalog.csv", b"sku,name,price\n" + b"x" * (5 * 1024 * 1024)),  # more than 5 MB
])
def test_wrong_files_are_refused_with_400(stock_app, signed_in, client, filename, data):
    with stock_app.app_context():
        before = snapshot()
    signed_in("gudang")
    response = post_file(client, filename, data)
    assert response.status_code == 400
    assert "data-upload" in response.text  # the form is there to try again
    with stock_app.app_context():
        assert snapshot() == before


def test_a_body_far_beyond_the_limit_is_400_too(stock_app, signed_in, client):
    with stock_app.app_context():
        before = snapshot()
    signed_in("gudang")
    response = post_file(client, "katalog.csv", b"x" * (7 * 1024 * 1024))
    assert response.status_code == 400
    with stock_app.app_context():
        assert snapshot() == before
    assert client.get("/produk/berkas/").status_code == 200  # the session is fine afterwards


def test_an_upload_without_a_file_is_400(stock_app, signed_in, client):
    signed_in("gudang")
    response = client.post("/produk/berkas/periksa", data={"csrf_token": csrf_token(client)},
                           content_type="multipart/form-data")
    assert response.status_code == 400


def test_who_may_upload(stock_app, signed_in, client):
    for role in ("kasir", "apoteker", "pengurus", "pengawas"):
        signed_in(role)
        assert client.get("/produk/berkas/").status_code == 403, role
        assert post_file(client, "katalog.csv", to_csv([new_record()])).status_code == 403, role
        assert client.post("/produk/berkas/impor", data={"csrf_token": csrf_token(client),
                                                         "token": "A" * 32}).status_code == 403, role
        assert client.get("/produk/berkas/ekspor.csv").status_code == 200, role
    with stock_app.app_context():
        assert product_count() == 4
    for role in ("gudang", "manajer"):
        signed_in(role)
        page = client.get("/produk/berkas/")
        assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
        assert 'data-download="csv"' in page.text and 'data-download="xlsx"' in page.text
        assert page.text.count("data-column=") == len(catalog_io.COLUMNS)


def test_the_command_line_import_runs_the_same_job_in_its_own_process(stock_app, tmp_path):
    """catalog_io.import_file (what a `flask ... import` command calls): the job's chunks run here, with a progress
    callback after each; the given file is copied for the job and left as it was."""
    path = tmp_path / "katalog.csv"
    path.write_bytes(to_csv(many_records(12)))
    seen = []
    with stock_app.app_context():
        job = catalog_io.import_file(path, user("gudang"), progress=lambda job: seen.append((job.state, job.done)))
        assert (job.state, job.done, job.total, job.result["created"]) == ("done", 12, 12, 12)
        assert product_count() == 4 + 12
    assert seen[-1] == ("done", 12) and len(seen) >= 2
    assert path.read_bytes() == to_csv(many_records(12))
    assert not list((Path(stock_app.instance_path) / "imports").iterdir())


def test_a_chunk_checked_before_the_lock_is_checked_again_if_the_catalog_changed_meanwhile(stock_app):
    """A job's chunk is checked reading only, then written holding the lock only if what it read still holds."""
    with stock_app.app_context():
        records = {r["sku"]: r for r in exported_records()}
        records["MIE-GORENG"]["public_price"] = "3.600"
        records["GULA-1KG"] = new_record()
        rows = catalog_io.read_file("k.csv", to_csv(list(records.values())))
        prepared = catalog_io.prepare_chunk(rows)
        assert prepared.context.still_current()
        with write_transaction():  # meanwhile: the Indomie gets a new member price, beras the GULA pack's barcode
            mie = product("MIE-GORENG")
            catalog.change_prices(mie, {"member_price": 3_350}, user("manajer"))
        assert not prepared.context.still_current()
        with write_transaction():
            report = catalog_io.apply_chunk(rows, "gudang", prepared)  # checked again: the file's 3.300 wins back
        assert (report.to_create, report.to_update) == (1, 1)
        mie = product("MIE-GORENG")
        db.session.refresh(mie)
        assert (mie.public_price, mie.member_price) == (3_600, 3_300)
        rows = catalog_io.read_file("k.csv", to_csv([new_record(sku="GULA-2", barcodes="8991234560083",
                                                                packs="")]))
        prepared = catalog_io.prepare_chunk(rows)
        assert prepared.report.ok
        with write_transaction():
            beras = product("BRS-PREMIUM")
            catalog.add_barcode(beras, beras.units[0], "8991234560083")
        with pytest.raises(catalog_io.RowsRefused) as refused:
            with write_transaction():
                catalog_io.apply_chunk(rows, "gudang", prepared)
        assert [(e.row, e.column) for e in refused.value.report.errors] == [(2, "barcodes")]
        assert product("GULA-2") is None


def test_the_command_line_import_runs_the_same_chunks(stock_app, tmp_path, small_chunks):
    path = tmp_path / "katalog.csv"
    path.write_bytes(to_csv(many_records(25)))
    result = stock_app.test_cli_runner().invoke(args=["stock", "import-catalog", str(path), "--user", "gudang"])
    assert result.exit_code == 0, result.output
    assert "25/25 rows" in result.output and "ok: 25 rows imported" in result.output
    with stock_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(
            Product.sku.like("BULK-%"))) == 25
        assert db.session.scalar(sa.select(jobs.Job.state).order_by(jobs.Job.id.desc()).limit(1)) == "done"
    assert path.read_bytes() == to_csv(many_records(25))  # the given file is left as it was
    again = stock_app.test_cli_runner().invoke(args=["stock", "import-catalog", str(path), "--user", "nobody"])
    assert again.exit_code != 0 and "no active user" in again.output
