"""Accepted values that broke pages later (issue 9, findings 13 and 14): each is refused at the edge now, with a 4xx
and nothing changed, and what was stored before cannot break a page or a download (both databases)."""

import csv
import datetime as dt
import io
import zipfile

import pytest
import sqlalchemy as sa

from inventory import catalog_io, services
from inventory.models import Batch, Product, ProductUnit, StockDocument, StockDocumentLine
from pos.db import db, write_transaction
from pos.errors import InvalidInput
from tests.conftest import csrf_token, sign_in
from tests.integration.test_fuzz import blank_rows_xlsx


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def manager(shop_app):
    client = shop_app.test_client()
    assert sign_in(client, "manajer").status_code == 302
    return client


def _day(days: int = 0) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).strftime("%d/%m/%Y")


def _receive_lot(client, lot: str, invoice: str):
    return client.post("/gudang/penerimaan", data={
        "csrf_token": csrf_token(client), "supplier": "PBF", "invoice": invoice, "date": _day(),
        "location": "AP-APOTEK", "payment": "bank", "sku_0": "OBT-PCT500", "unit_0": "box", "qty_0": "1",
        "cost_0": "30.000", "lot_0": lot, "expiry_0": _day(400)})


# --- finding 14: a workbook of blank rows ---------------------------------------------------------------------------

def _workbook(sheet_data: str, dimension: str = "") -> bytes:
    """An .xlsx whose only sheet holds the catalog's header row and then `sheet_data` (raw <row> XML)."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(catalog_io.COLUMNS))
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if dimension:
                    text = text.replace(text[text.index("<dimension"):text.index("/>", text.index("<dimension")) + 2],
                                        f'<dimension ref="{dimension}"/>')
                data = text.replace("</sheetData>", sheet_data + "</sheetData>").encode()
            target.writestr(info, data)
    return out.getvalue()


def test_a_workbook_of_blank_rows_is_refused_before_its_rows_are_parsed():
    data = blank_rows_xlsx()
    assert len(data) < catalog_io.MAX_BYTES
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sum(info.file_size for info in archive.infolist()) > 60_000_000  # 65 MB unpacked
    with pytest.raises(InvalidInput) as refused:
        catalog_io.read_file("kosong.xlsx", data)
    limit = f"{catalog_io.MAX_LINES:,}".replace(",", ".")  # 125.000 lines, blank ones included
    assert refused.value.params == {"limit": limit} and "empty rows count too" in refused.value.message


@pytest.mark.parametrize("filename, data", [
    # one row numbered 1.048.576 under a <dimension> of the whole sheet: openpyxl would fill in a million rows
    ("gap.xlsx", lambda: _workbook('<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>',
                                   "A1:XFD1048576")),
    # few rows, each of thousands of empty cells: the parser's work is in the cells, even the ones skipped
    ("wide.xlsx", lambda: _workbook("".join(f'<row r="{r}">' + "<c/>" * 16_000 + "</row>" for r in range(2, 60)))),
    ("blank.csv", lambda: (",".join(catalog_io.COLUMNS) + "\n" * 2_000_000).encode()),
])
def test_empty_rows_and_cells_count_against_the_limits(filename, data):
    with pytest.raises(InvalidInput):
        catalog_io.read_file(filename, data())


def test_a_full_catalog_with_a_few_blank_rows_still_reads():
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>SKU-{r}</t></is></c></row>' for r in range(2, 500))
    blanks = "".join(f'<row r="{r}">' + "<c/>" * 30 + "</row>" for r in range(500, 700))
    read = catalog_io.read_file("katalog.xlsx", _workbook(rows + blanks, "A1:AD699"))
    assert len(read) == 498 and read[0][catalog_io.ROW_KEY] == 2


def test_the_catalog_check_refuses_the_blank_workbook_with_a_400(stock_app, signed_in, client):
    signed_in("gudang")
    response = client.post("/produk/berkas/periksa", data={"csrf_token": csrf_token(client),
                                                          "file": (io.BytesIO(blank_rows_xlsx()), "kosong.xlsx")})
    assert response.status_code == 400 and "25.000" in response.text


# --- finding 13: lot numbers, counts, packs ------------------------------------------------------------------------

@pytest.mark.parametrize("lot", ['L"1', "L'1", "L\n1", "L\t1", "L\x1b1", "L\u202e1"])
def test_a_lot_number_with_a_quote_or_a_control_character_is_refused(shop_app, manager, lot):
    with shop_app.app_context():
        before = count(Batch), count(StockDocument)
    response = _receive_lot(manager, lot, "F-LOT-1")
    assert response.status_code == 400
    with shop_app.app_context():
        assert (count(Batch), count(StockDocument)) == before
    assert _receive_lot(manager, "L-1/A.2", "F-LOT-2").status_code == 302  # what lots look like is fine


def test_a_lot_stored_with_a_quote_and_a_line_break_breaks_neither_the_card_nor_its_download(shop_app, manager):
    assert _receive_lot(manager, "LAMA1", "F-LAMA").status_code == 302
    legacy = 'LA"MA\n1'  # as it may have been saved before lots were checked
    with shop_app.app_context(), write_transaction():
        db.session.execute(sa.update(Batch).where(Batch.lot == "LAMA1").values(lot=legacy))
    assert manager.get("/stok/kartu/OBT-PCT500", query_string={"batch": legacy}).status_code == 200
    for kind in ("csv", "xlsx"):
        got = manager.get("/stok/kartu/OBT-PCT500", query_string={"batch": legacy, "format": kind})
        assert got.status_code == 200, kind
        disposition = got.headers["Content-Disposition"]
        name = disposition.split('filename="', 1)[1]
        assert name.count('"') == 1 and name.endswith(f'.{kind}"') and "\n" not in disposition
        assert name.startswith("kartu-stok_OBT-PCT500_LA-MA-1")
    rows = list(csv.reader(io.StringIO(manager.get("/stok/kartu/OBT-PCT500", query_string={
        "batch": legacy, "format": "csv"}).data.decode("utf-8-sig"))))
    assert [row[5] for row in rows if row[2] == "receipt"] == [legacy]


@pytest.fixture
def count_sheet(shop_app, signed_in, client):
    signed_in("gudang")
    assert client.post("/gudang/opname", data={"csrf_token": csrf_token(client), "location": "TK-TOKO"}
                       ).status_code == 302
    with shop_app.app_context():
        sheet = db.session.scalar(sa.select(StockDocument).where(StockDocument.kind == "count"))
        return sheet.id, [line.id for line in sheet.lines]


@pytest.mark.parametrize("typed", ["1" + "0" * 30, "1" + "0" * 10, "1,0005"])
def test_a_count_beyond_a_billion_or_finer_than_a_thousandth_is_refused(shop_app, client, count_sheet, typed):
    doc_id, lines = count_sheet
    response = client.post(f"/gudang/opname/{doc_id}/hitung", data={"csrf_token": csrf_token(client),
                                                                   f"count_{lines[0]}": typed})
    assert response.status_code == 400
    found = client.post(f"/gudang/opname/{doc_id}/hitung", data={
        "csrf_token": csrf_token(client), "found_sku": "OBT-AMX500", "found_lot": "AMX1", "found_qty": typed})
    assert found.status_code == 400
    with shop_app.app_context():
        assert db.session.scalars(sa.select(StockDocumentLine.counted).where(
            StockDocumentLine.document_id == doc_id)).all() == [None] * len(lines)
    assert client.get(f"/gudang/opname/{doc_id}").status_code == 200


def test_the_count_service_refuses_what_the_form_would(shop_app):
    from decimal import Decimal

    with shop_app.app_context(), write_transaction():
        location = services.location_by_code("TK-TOKO")
        sheet = services.open_count(location, dt.date.today(), None)
        line = sheet.lines[0]
        for bad in (Decimal(10) ** 30, Decimal("0.0001"), Decimal("NaN"), Decimal(-1)):
            with pytest.raises(InvalidInput):
                services.record_count(sheet, {line.id: bad}, None)
        services.record_count(sheet, {line.id: Decimal("12.5")}, None)
        assert line.counted == Decimal("12.5")


def _new_product(client, **fields):
    form = {"csrf_token": csrf_token(client), "sku": "UJI-PAK", "name": "Produk Uji", "category": "MIE",
            "unit": "TOKO", "base_unit": "pcs", "public_price": "1.000", "member_price": "900", "tax_code": "exempt"}
    return client.post("/produk/baru", data={**form, **fields})


@pytest.mark.parametrize("fields", [
    {"pack_name_0": "mini", "pack_factor_0": "0,0001"},  # stored as 0: a pack of nothing
    {"pack_name_0": "mini", "pack_factor_0": "2,0005"},  # stored as 2,001
    {"wholesale_price": "800", "wholesale_min_qty": "0,0001"},
    {"reorder_point": "1,2345"},
    {"pack_name_0": "\x1b[31mmerah", "pack_factor_0": "10"},  # a worksheet cannot hold ESC: the export failed
    {"pack_name_0": "dus\t10", "pack_factor_0": "10"},
])
def test_a_product_the_database_would_round_or_the_export_could_not_write_is_refused(shop_app, manager, fields):
    with shop_app.app_context():
        before = count(Product), count(ProductUnit)
    assert _new_product(manager, **fields).status_code == 400
    with shop_app.app_context():
        assert (count(Product), count(ProductUnit)) == before
    assert _new_product(manager, pack_name_0="dus", pack_factor_0="10").status_code == 302


def test_the_catalog_exports_pass_their_own_check(shop_app, manager):
    assert _new_product(manager, pack_name_0="sachet", pack_factor_0="0,5").status_code == 302
    for kind in ("csv", "xlsx"):
        exported = manager.get(f"/produk/berkas/ekspor.{kind}")
        assert exported.status_code == 200
        checked = manager.post("/produk/berkas/periksa", data={"csrf_token": csrf_token(manager),
                                                               "file": (io.BytesIO(exported.data), f"p.{kind}")})
        assert checked.status_code == 200, kind


def test_a_wholesale_price_without_its_quantity_is_refused_on_the_price_form(shop_app, manager):
    """The price form has no quantity field: a wholesale price set there on a product without one broke the
    product's page and the export's own import."""
    response = manager.post("/produk/BRS-PREMIUM/harga", data={
        "csrf_token": csrf_token(manager), "public_price": "14.500", "member_price": "14.000",
        "wholesale_price": "13.000", "het": "14.900"})
    assert response.status_code == 400 and "Harga grosir" in response.text  # the product's page, with the error
    with shop_app.app_context():
        beras = db.session.scalar(sa.select(Product).where(Product.sku == "BRS-PREMIUM"))
        assert beras.wholesale_price is None
    assert manager.get("/produk/BRS-PREMIUM").status_code == 200
    mie = manager.post("/produk/MIE-GORENG/harga", data={
        "csrf_token": csrf_token(manager), "public_price": "3.500", "member_price": "3.300",
        "wholesale_price": "3.100"})
    assert mie.status_code == 302  # it has its quantity (10 pcs)


def test_catalog_refusals_answer_4xx_with_the_page(shop_app, manager):
    token = csrf_token(manager)
    assert manager.post("/produk/MIE-GORENG/harga", data={"csrf_token": token, "public_price": "1,000",
                                                          "member_price": "900"}).status_code == 400
    assert manager.post("/produk/MIE-GORENG/barcode", data={"csrf_token": token, "unit_id": "0",
                                                            "code": "1"}).status_code == 400
    assert manager.post("/produk/MIE-GORENG/label", data={"csrf_token": token, "till": "ZZ"}).status_code == 400
