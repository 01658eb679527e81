"""Stock on a real database: receiving, FEFO transfers, expiry, counts, write-offs, quarantine, drift; the
catalog's rules (check digits, HET, NIE, price history); the till's lookup and search API."""

import datetime as dt
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from inventory import barcodes, catalog, services, stock
from inventory.fefo import InsufficientStock
from inventory.models import Batch, PriceChange, Product, StockMove, Supplier
from ledger import reports
from pos.db import db, write_transaction
from pos.errors import Conflict, InvalidInput
from pos.models import User
from tests.conftest import csrf_token

TODAY = dt.date.today()


def get(model, **where):
    return db.session.scalar(sa.select(model).filter_by(**where))


def unit(product, name):
    return next(u for u in product.units if u.name == name)


def receive(invoice, lines, date=TODAY, location="GD-GUDANG", supplier="PBF", payment="credit"):
    with write_transaction():
        return services.receive_goods(services.ReceiptInput(
            get(Supplier, code=supplier), invoice, date, services.location_by_code(location), tuple(lines),
            payment=payment), None).number


def paracetamol_lots():
    pct = get(Product, sku="OBT-PCT500")
    receive("INV-1", [
        services.ReceiptLine(pct, unit(pct, "box"), D(2), 30_000, "LATE", TODAY + dt.timedelta(days=400)),
        services.ReceiptLine(pct, unit(pct, "box"), D(1), 31_000, "SOON", TODAY + dt.timedelta(days=40)),
    ])
    return pct


def test_receiving_batches_and_average_cost_post_to_the_ledger(stock_app):
    with stock_app.app_context():
        pct = paracetamol_lots()
        beras = get(Product, sku="BRS-PREMIUM")
        receive("INV-2", [services.ReceiptLine(beras, unit(beras, "karung 25 kg"), D(2), 300_000)], supplier="SPB")
        receive("INV-3", [services.ReceiptLine(beras, unit(beras, "kg"), D(50), 13_000)], supplier="SPB",
                payment="cash")
        assert stock.on_hand(pct.id) == D(300)
        assert {b.lot: b.unit_cost for b in db.session.scalars(sa.select(Batch))} == {"LATE": D(300), "SOON": D(310)}
        gudang_unit = services.location_by_code("GD-GUDANG").outlet.unit_id
        assert stock.average_cost(beras.id, gudang_unit) == D("12500.0000")  # (50x12.000 + 50x13.000) / 100
        scope = reports.Scope(dt.date(2000, 1, 1), TODAY)
        tb = reports.trial_balance(scope)
        assert tb.balanced
        balances = {row.account.key: row.closing for row in tb.rows}
        assert balances["persediaan:GUDANG"] == 91_000 + 600_000 + 650_000
        assert balances["utang_usaha"] == -(91_000 + 600_000)
        assert stock.check_drift() == []


def test_receiving_refuses_bad_documents_and_changes_nothing(stock_app):
    with stock_app.app_context():
        pct = paracetamol_lots()
        moves = db.session.scalar(sa.select(sa.func.count()).select_from(StockMove))
        for invoice, line in (
            ("INV-1", services.ReceiptLine(pct, unit(pct, "box"), D(1), 1, "X", TODAY + dt.timedelta(days=9))),
            ("INV-9", services.ReceiptLine(pct, unit(pct, "box"), D(1), 1, "", TODAY + dt.timedelta(days=9))),
            ("INV-9", services.ReceiptLine(pct, unit(pct, "box"), D(1), 1, "OLD", TODAY - dt.timedelta(days=1))),
            ("INV-9", services.ReceiptLine(pct, unit(pct, "box"), D(-1), 1, "N", TODAY + dt.timedelta(days=9))),
            ("INV-9", services.ReceiptLine(pct, unit(pct, "box"), D(1), 1, "LATE", TODAY + dt.timedelta(days=9))),
        ):
            with pytest.raises((InvalidInput, Conflict)):
                receive(invoice, [line])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMove)) == moves


def test_transfers_pick_fefo_and_expired_batches_never_move(stock_app):
    with stock_app.app_context():
        pct = paracetamol_lots()
        gd, ap = services.location_by_code("GD-GUDANG"), services.location_by_code("AP-APOTEK")
        late = get(Batch, lot="LATE")
        with pytest.raises(InvalidInput):  # not FEFO's first choice and no reason
            with write_transaction():
                services.send_transfer(gd, ap, [services.TransferRequest(pct, D(10), late)], TODAY, None)
        with write_transaction():
            doc = services.send_transfer(gd, ap, [services.TransferRequest(pct, D(150))], TODAY, None)
            assert [(line.batch.lot, line.quantity) for line in doc.lines] == [("SOON", D(100)), ("LATE", D(50))]
            services.receive_transfer(doc, None)
        assert stock.on_hand(pct.id, ap.id) == D(150)
        tomorrow_year = TODAY + dt.timedelta(days=401)
        with pytest.raises(InsufficientStock):  # on that day every batch has expired
            with write_transaction():
                services.send_transfer(gd, ap, [services.TransferRequest(pct, D(10))], tomorrow_year, None)
        assert stock.check_drift() == []
        tb = reports.trial_balance(reports.Scope(dt.date(2000, 1, 1), TODAY))
        keys = {(row.account.key): row.closing for row in tb.rows}
        assert keys["persediaan:APOTEK"] == 100 * 310 + 50 * 300 and keys.get("antar_unit", 0) == 0
        for code in ("GUDANG", "APOTEK"):
            unit_row = db.session.scalar(sa.select(reports.BusinessUnit).where(reports.BusinessUnit.code == code))
            assert reports.trial_balance(reports.Scope(dt.date(2000, 1, 1), TODAY, unit_row)).balanced


def test_each_unit_keeps_its_own_average_cost(stock_app):
    """A receipt in the shop must not re-price the warehouse's stock: the books are kept per unit."""
    with stock_app.app_context():
        beras = get(Product, sku="BRS-PREMIUM")
        kg = unit(beras, "kg")
        receive("B1", [services.ReceiptLine(beras, kg, D(100), 12_000)], supplier="SPB")
        gd, tk = services.location_by_code("GD-GUDANG"), services.location_by_code("TK-TOKO")
        with write_transaction():
            doc = services.send_transfer(gd, tk, [services.TransferRequest(beras, D(30))], TODAY, None)
            services.receive_transfer(doc, None)
        receive("B2", [services.ReceiptLine(beras, kg, D(30), 13_000)], location="TK-TOKO", supplier="SPB")
        assert stock.average_cost(beras.id, gd.outlet.unit_id) == D(12_000)
        assert stock.average_cost(beras.id, tk.outlet.unit_id) == D(12_500)
        balances = {row.account.key: row.closing for row in reports.trial_balance(
            reports.Scope(dt.date(2000, 1, 1), TODAY)).rows}
        assert balances["persediaan:GUDANG"] == 70 * 12_000
        assert balances["persediaan:TOKO"] == 60 * 12_500


def test_a_lot_received_again_at_another_price_is_re_averaged(stock_app):
    with stock_app.app_context():
        pct = paracetamol_lots()  # LATE: 200 tablets at 300
        receive("INV-AGAIN", [services.ReceiptLine(pct, unit(pct, "box"), D(2), 36_000, "LATE",
                                                   TODAY + dt.timedelta(days=400))])
        assert get(Batch, lot="LATE").unit_cost == D(330)  # (200 x 300 + 200 x 360) / 400


def test_quarantine_moves_expired_batches_out_of_sale(stock_app):
    with stock_app.app_context():
        pct = paracetamol_lots()
        with write_transaction():
            moved = services.quarantine_expired(TODAY + dt.timedelta(days=41))
        assert moved == 1
        quarantine = services.location_by_code("GD-KARANTINA")
        assert stock.on_hand(pct.id, quarantine.id) == D(100)
        assert stock.on_hand(pct.id, services.location_by_code("GD-GUDANG").id) == D(200)


def test_count_variances_are_approved_by_a_manager_and_posted(stock_app):
    with stock_app.app_context():
        mie = get(Product, sku="MIE-GORENG")
        receive("INV-M", [services.ReceiptLine(mie, unit(mie, "dus 40"), D(2), 120_000)], supplier="SPB")
        gudang, manajer = get(User, username="gudang"), get(User, username="manajer")
        with write_transaction():
            doc = services.open_count(services.location_by_code("GD-GUDANG"), TODAY, gudang)
            services.record_count(doc, {doc.lines[0].id: D(78)}, gudang)
            with pytest.raises(InvalidInput):
                services.approve_count(doc, gudang)
            services.approve_count(doc, manajer)
        assert stock.on_hand(mie.id) == D(78)
        tb = {row.account.key: row.closing for row in reports.trial_balance(
            reports.Scope(dt.date(2000, 1, 1), TODAY)).rows}
        assert tb["selisih_persediaan"] == 2 * 3_000 and tb["persediaan:GUDANG"] == 240_000 - 6_000
        assert stock.check_drift() == []


def test_write_off_needs_a_reason_and_posts_at_cost(stock_app):
    with stock_app.app_context():
        pct = paracetamol_lots()
        gd = services.location_by_code("GD-GUDANG")
        soon = get(Batch, lot="SOON")
        with pytest.raises(InvalidInput):
            with write_transaction():
                services.write_off(gd, [services.OutLine(pct, D(10), soon)], "  ", TODAY, None)
        with write_transaction():
            services.write_off(gd, [services.OutLine(pct, D(10), soon)], "kemasan rusak", TODAY, None)
        tb = {row.account.key: row.closing for row in reports.trial_balance(
            reports.Scope(dt.date(2000, 1, 1), TODAY)).rows}
        assert tb["persediaan_rusak"] == 3_100
        with pytest.raises(InsufficientStock):
            with write_transaction():
                services.write_off(gd, [services.OutLine(pct, D(91), soon)], "rusak", TODAY, None)


def test_stock_moves_are_immutable_even_by_raw_sql(stock_app):
    with stock_app.app_context():
        paracetamol_lots()
        for statement in ("UPDATE stock_move SET quantity = 1", "DELETE FROM stock_move"):
            with pytest.raises(sa.exc.DBAPIError):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(statement)
        with pytest.raises(sa.exc.IntegrityError):  # batch stock never below zero, even by SQL
            with db.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE stock_level SET quantity = -1 WHERE batch_id IS NOT NULL")


def test_catalog_rules(stock_app):
    with stock_app.app_context():
        base = catalog.ProductInput(sku="GULA-1KG", name="Gula Pasir 1 kg", category="GULA", unit="TOKO",
                                    base_unit="pcs", public_price=17_500, member_price=17_000, het=18_000)
        for bad in (
            {"barcodes": ("8991234560015",)},  # wrong check digit
            {"public_price": 18_500},  # above the HET
            {"drug_class": "keras", "nie": "DBL123456789012"},  # NIE says bebas
            {"drug_class": "keras", "nie": "DKL12345"},
            {"sku": "gula kg!"},
            {"base_unit": "ember"},
            {"barcodes": ("8994963002824",)},  # already Indomie's dus
        ):
            with pytest.raises((InvalidInput, Conflict)):
                with write_transaction():
                    catalog.create_product(catalog.ProductInput(**{**base.__dict__, **bad}), None)
        assert get(Product, sku="GULA-1KG") is None
        with write_transaction():
            gula = catalog.create_product(base, None)
            code = catalog.generate_instore_barcode(gula).code
        assert code.startswith("20") and barcodes.validate_gtin(code) == code
        board = get(User, username="manajer")
        with pytest.raises(InvalidInput):
            with write_transaction():
                catalog.change_prices(get(Product, sku="GULA-1KG"), {"public_price": 18_001}, board)
        with write_transaction():
            catalog.change_prices(get(Product, sku="GULA-1KG"), {"public_price": 17_900}, board)
        change = db.session.scalar(sa.select(PriceChange))
        assert (change.field, change.old, change.new, change.changed_by) == ("public_price", 17_500, 17_900, "manajer")


def test_lookup_api_resolves_every_kind_of_code(stock_app, signed_in, client):
    with stock_app.app_context():
        paracetamol_lots()
    signed_in("kasir")
    box = client.get("/api/v1/products/lookup?code=8999999002503").get_json()
    assert box["product"]["sku"] == "OBT-PCT500" and box["unit"]["name"] == "box"
    assert [b["lot"] for b in box["batches"]] == ["SOON", "LATE"] and box["batches"][0]["near_expiry"]
    upc = client.get("/api/v1/products/lookup?code=089686010947").get_json()
    assert upc["product"]["sku"] == "MIE-GORENG" and upc["prices"]["public"] == 3_500
    # a scale label for 1,250 kg of beras: item 00014 in the weight rule "21.....{NNDDD}"
    weight_rule = barcodes.DEFAULT_RULES[0]
    base_code = barcodes.encode_variable_measure("00014", D("0.001"), weight_rule)
    base_code = barcodes.match_variable_measure(base_code, barcodes.DEFAULT_RULES).item_code
    with stock_app.app_context():
        with write_transaction():
            beras = get(Product, sku="BRS-PREMIUM")
            catalog.add_barcode(beras, unit(beras, "kg"), base_code)
    label = barcodes.encode_variable_measure(base_code, D("1.250"), weight_rule)
    weighed = client.get(f"/api/v1/products/lookup?code={label}").get_json()
    assert weighed["product"]["sku"] == "BRS-PREMIUM" and weighed["quantity"] == "1.250"
    assert weighed["kind"] == "variable_measure" and weighed["prices"]["public"] == 14_500
    gs1 = client.get("/api/v1/products/lookup", query_string={
        "code": "]d2010899999900250317" + (TODAY + dt.timedelta(days=200)).strftime("%y%m%d") + "10LOT9"}).get_json()
    assert gs1["gs1"]["lot"] == "LOT9" and gs1["product"]["sku"] == "OBT-PCT500"
    assert client.get("/api/v1/products/lookup?code=OBT-AMX500").get_json()["product"]["drug_class"] == "keras"
    wrong = client.get("/api/v1/products/lookup?code=8999999002504")
    assert wrong.status_code == 400 and "8999999002503"[-1] in wrong.get_json()["message"]
    assert client.get("/api/v1/products/lookup?code=8991234567891").status_code in (400, 404)
    assert client.get("/api/v1/products/lookup?code=" + "9" * 5000).status_code == 400
    found = client.get("/api/v1/products/search?q=para 500").get_json()["results"]
    assert [p["sku"] for p in found] == ["OBT-PCT500"]
    assert client.get("/api/v1/products/search?q=").get_json()["results"] == []


def test_catalog_pages(stock_app, signed_in, client):
    signed_in("gudang")
    assert client.get("/produk/").status_code == 200
    page = client.get("/produk/OBT-PCT500")
    assert page.status_code == 200 and 'data-barcode="8999999002503"' in page.text
    form = {"csrf_token": csrf_token(client), "sku": "TLR-1KG", "name": "Telur Ayam Ras", "category": "TELUR",
            "unit": "TOKO", "base_unit": "kg", "public_price": "29.000", "member_price": "28.000", "het": "30.000",
            "instore": "1", "pack_name_0": "peti 15 kg", "pack_factor_0": "15", "pack_price_0": "420.000"}
    assert client.post("/produk/baru", data={**form, "public_price": "31.000"}).status_code == 400
    assert client.post("/produk/baru", data=form).status_code == 302
    with stock_app.app_context():
        egg = get(Product, sku="TLR-1KG")
        assert egg.het == 30_000 and egg.barcodes[0].code.startswith("20") and len(egg.units) == 2
    token = csrf_token(client)
    assert client.post("/produk/TLR-1KG/harga", data={"csrf_token": token, "public_price": "29.500",
                                                      "member_price": "28.000", "het": "30.000"}).status_code == 302
    signed_in("kasir")
    assert client.get("/produk/TLR-1KG").status_code == 200
    assert client.post("/produk/TLR-1KG/harga", data={"csrf_token": csrf_token(client), "public_price": "1"}
                       ).status_code == 403
