"""PPN on goods received, on the real database: a cooperative that is not PKP puts all of it into the goods' cost,
a PKP credits it as PPN masukan except on goods whose sale is exempt, whose PPN goes into their cost; the cost a
sale and a return take (HPP) then carries it, and the books balance to the rupiah (docs/ledger.md, "PPN on goods
received")."""

import datetime as dt
import uuid
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from inventory import services, stock
from inventory.models import Batch, Product, StockDocument, Supplier
from ledger import reports
from ledger.models import JournalEntry
from pos.db import db, write_transaction
from pos.errors import InvalidInput
from pos.models import User
from pos.sales import services as sales
from pos.sales.checks import check_sales
from pos.sales.requests import return_from_json, sale_from_json
from pos.web.templating import local_today
from tests.conftest import csrf_token, sign_in

BERAS, MIE, PCT = "8991234560014", "089686010947", "8992753102402"


def get(model, **where):
    return db.session.scalar(sa.select(model).filter_by(**where))


def unit(sku, name):
    product = get(Product, sku=sku)
    return product, next(u for u in product.units if u.name == name)


def line(sku, unit_name, qty, cost, lot="", expiry=None, ppn=None):
    product, pack = unit(sku, unit_name)
    return services.ReceiptLine(product, pack, D(qty), cost, lot, expiry, **({} if ppn is None else {"ppn": ppn}))


def receive(invoice, location, lines, ppn=0, supplier="SPB", payment="credit"):
    with write_transaction():
        document = services.receive_goods(services.ReceiptInput(
            get(Supplier, code=supplier), invoice, local_today(), services.location_by_code(location), tuple(lines),
            payment=payment, ppn_masukan=ppn), None)
        return document.number, document.total


def user(name):
    return get(User, username=name)


def sell(till, lines, amount):
    return sales.complete_sale(sale_from_json({
        "id": str(uuid.uuid4()), "till": till, "lines": lines, "payments": [{"method": "cash", "amount": amount}]}),
        user("kasir"))[0]


def take_back(sale, till, lines):
    from pos import auth

    token = auth.grant(user("kasir"), "manajer", "4444", "refund", reason="uji", detail={"sale": sale.number}).token
    return sales.refund_sale(sale.uuid, return_from_json({
        "id": str(uuid.uuid4()), "till": till, "lines": lines, "refund": "cash", "reason": "rusak",
        "approval": token}), user("kasir"))[0]


def postings(entry_id):
    return sorted((p.account.key, p.debit, p.credit) for p in db.session.get(JournalEntry, entry_id).postings)


def balances():
    tb = reports.trial_balance(reports.Scope(dt.date(2000, 1, 1), local_today() + dt.timedelta(days=1)))
    assert tb.balanced
    return {row.account.key: row.closing for row in tb.rows}


def average(sku, location):
    product = get(Product, sku=sku)
    return stock.average_cost(product.id, services.location_by_code(location).outlet.unit_id)


def test_a_non_pkp_cooperative_carries_the_ppn_it_paid_into_the_hpp_of_sales_and_returns(stock_app):
    with stock_app.app_context():
        # Indomie: 1 dus of 40 at Rp 120.000 + PPN 11 % = Rp 133.200, so Rp 3.330 a piece
        number, total = receive("NP-1", "TK-TOKO", [line("MIE-GORENG", "dus 40", 1, 120_000)], ppn=13_200)
        # Paracetamol: 1 box of 100 tablets at Rp 40.000 + Rp 4.400 PPN, so Rp 444 a tablet
        receive("NP-2", "AP-APOTEK", [line("OBT-PCT500", "box", 1, 40_000, "NP1", local_today() + dt.timedelta(
            days=300))], ppn=4_400, supplier="PBF")
        assert total == 133_200
        entry = db.session.get(JournalEntry, get(StockDocument, number=number).entry_id)
        assert sorted((p.account.key, p.debit, p.credit) for p in entry.postings) == [
            ("persediaan:TOKO", 133_200, 0), ("utang_usaha", 0, 133_200)]
        assert average("MIE-GORENG", "TK-TOKO") == D(3_330)
        assert get(Batch, lot="NP1").unit_cost == D(444)

        sales.open_shift("TK01", 200_000, user("kasir"))
        sale = sell("TK01", [{"code": MIE, "qty": "10"}], 50_000)  # wholesale 3.200 from 10
        assert sale.cost == 10 * 3_330
        assert ("hpp:TOKO", 33_300, 0) in postings(sale.entry_id)
        back = take_back(sale, "TK01", [{"line": 1, "qty": "4"}])
        assert back.cost == 4 * 3_330 and ("persediaan:TOKO", 13_320, 0) in postings(back.entry_id)

        sales.open_shift("AP01", 200_000, user("kasir"))
        pills = sell("AP01", [{"code": PCT, "qty": "30"}], 15_000)
        assert pills.cost == 30 * 444 and ("hpp:APOTEK", 13_320, 0) in postings(pills.entry_id)

        books = balances()
        assert books.get("ppn_masukan", 0) == 0
        assert books["persediaan:TOKO"] == 133_200 - 33_300 + 13_320
        assert books["persediaan:APOTEK"] == 44_400 - 13_320
        assert books["hpp:TOKO"] == 33_300 - 13_320
        assert books["utang_usaha"] == -(133_200 + 44_400)
        assert check_sales() == [] and stock.check_drift() == []


def test_a_pkp_credits_ppn_on_taxed_goods_and_puts_ppn_on_exempt_goods_into_their_cost(stock_app, make_app):
    pkp = make_app(tax_status="pkp")
    with pkp.app_context():
        # beras is exempt when sold (PP 49/2022); this supplier charged PPN on it all the same: Rp 132.000 on
        # 100 kg at Rp 12.000, which the cooperative cannot credit, so the beras costs Rp 13.320 a kg.
        # Indomie is taxed: its Rp 13.200 is PPN masukan and the Indomie costs Rp 3.000 a piece.
        number, total = receive("PKP-1", "TK-TOKO", [line("BRS-PREMIUM", "kg", 100, 12_000, ppn=132_000),
                                                     line("MIE-GORENG", "dus 40", 1, 120_000, ppn=13_200)],
                                payment="bank")
        assert total == 1_200_000 + 132_000 + 120_000 + 13_200
        entry_id = get(StockDocument, number=number).entry_id
        assert postings(entry_id) == [("bank", 0, 1_465_200), ("persediaan:TOKO", 1_452_000, 0),
                                      ("ppn_masukan", 13_200, 0)]
        assert average("BRS-PREMIUM", "TK-TOKO") == D(13_320) and average("MIE-GORENG", "TK-TOKO") == D(3_000)

        # one invoice of beras (exempt) and Indomie with its PPN given for the whole invoice: the PPN is the
        # Indomie's, so all of it is PPN masukan and none is added to the beras
        receive("PKP-2", "TK-TOKO", [line("BRS-PREMIUM", "kg", 100, 13_320), line("MIE-GORENG", "dus 40", 1,
                                                                                  120_000)], ppn=13_200)
        assert average("BRS-PREMIUM", "TK-TOKO") == D(13_320) and average("MIE-GORENG", "TK-TOKO") == D(3_000)

        sales.open_shift("TK01", 200_000, user("kasir"))
        sale = sell("TK01", [{"code": BERAS}, {"code": MIE, "qty": "10"}], 50_000)
        assert sale.cost == 13_320 + 10 * 3_000
        assert ("hpp:TOKO", 43_320, 0) in postings(sale.entry_id)

        # 20 Indomie go back to the supplier on a nota retur that takes back their PPN masukan (Pasal 5A)
        toko, supplier = services.location_by_code("TK-TOKO"), get(Supplier, code="SPB")
        mie = get(Product, sku="MIE-GORENG")
        with write_transaction():
            returned = services.return_to_supplier(toko, supplier, [services.OutLine(mie, D(20))], "penyok",
                                                   local_today(), None, ppn=6_600)
        assert returned.total == 66_600
        assert postings(returned.entry_id) == [("persediaan:TOKO", 0, 60_000), ("ppn_masukan", 0, 6_600),
                                               ("utang_usaha", 66_600, 0)]
        beras = get(Product, sku="BRS-PREMIUM")
        with pytest.raises(InvalidInput, match="exempt"):  # PPN on exempt goods was never credited
            with write_transaction():
                services.return_to_supplier(toko, supplier, [services.OutLine(beras, D(1))], "basah", local_today(),
                                            None, ppn=1_465)
        books = balances()
        assert books["ppn_masukan"] == 13_200 + 13_200 - 6_600
        assert books["persediaan:TOKO"] == 1_452_000 + 1_332_000 + 120_000 - 43_320 - 60_000
        assert check_sales() == [] and stock.check_drift() == []


def test_a_non_pkp_cooperative_gives_back_goods_at_their_cost_with_ppn_and_credits_none(stock_app):
    with stock_app.app_context():
        receive("NP-R", "TK-TOKO", [line("MIE-GORENG", "dus 40", 1, 120_000)], ppn=13_200)
        toko, supplier = services.location_by_code("TK-TOKO"), get(Supplier, code="SPB")
        mie = get(Product, sku="MIE-GORENG")
        with write_transaction():
            returned = services.return_to_supplier(toko, supplier, [services.OutLine(mie, D(10))], "penyok",
                                                   local_today(), None)
        assert postings(returned.entry_id) == [("persediaan:TOKO", 0, 33_300), ("utang_usaha", 33_300, 0)]
        assert balances()["utang_usaha"] == -(133_200 - 33_300)
        with pytest.raises(InvalidInput, match="not PKP"):
            with write_transaction():
                services.return_to_supplier(toko, supplier, [services.OutLine(mie, D(10))], "penyok", local_today(),
                                            None, ppn=3_300)


def client_for(app, username):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def receipt_form(client, invoice, lines, **fields):
    data = {"csrf_token": csrf_token(client), "supplier": "SPB", "invoice": invoice, "location": "TK-TOKO",
            "payment": "credit", "date": "", **fields}
    for n, values in enumerate(lines):
        data.update({f"{key}_{n}": value for key, value in values.items()})
    return client.post("/gudang/penerimaan", data=data)


def test_the_receipt_form_has_no_ppn_masukan_for_a_non_pkp_cooperative(stock_app):
    gudang = client_for(stock_app, "gudang")
    page = gudang.get("/gudang/penerimaan").text
    assert 'data-ppn-rule="non_pkp"' in page and 'data-ppn-rule="pkp"' not in page
    assert "PPN masukan" not in page and 'name="ppn"' in page  # the PPN paid is asked for as cost
    response = receipt_form(gudang, "NP-WEB", [{"sku": "MIE-GORENG", "unit": "dus 40", "qty": "1",
                                                 "cost": "120.000", "ppn": "13.200"}])
    assert response.status_code == 302, response.text
    with stock_app.app_context():
        assert average("MIE-GORENG", "TK-TOKO") == D(3_330)
        assert balances().get("ppn_masukan", 0) == 0


def test_the_receipt_form_of_a_pkp_explains_and_books_ppn_on_exempt_goods_as_cost(stock_app, make_app):
    pkp = make_app(tax_status="pkp")
    gudang = client_for(pkp, "gudang")
    page = gudang.get("/gudang/penerimaan").text
    assert 'data-ppn-rule="pkp"' in page and "Pasal 16B" in page and 'name="ppn_0"' in page
    both = receipt_form(gudang, "PKP-WEB", [{"sku": "MIE-GORENG", "unit": "dus 40", "qty": "1", "cost": "120.000",
                                             "ppn": "13.200"}], ppn="13.200")
    assert both.status_code == 400 and 'name="ppn_0" value="13.200"' in both.text  # the form is kept
    response = receipt_form(gudang, "PKP-WEB", [
        {"sku": "BRS-PREMIUM", "unit": "kg", "qty": "10", "cost": "12.000", "ppn": "13.200"},
        {"sku": "MIE-GORENG", "unit": "dus 40", "qty": "1", "cost": "120.000", "ppn": "13.200"}])
    assert response.status_code == 302, response.text
    with pkp.app_context():
        assert average("BRS-PREMIUM", "TK-TOKO") == D(13_320) and average("MIE-GORENG", "TK-TOKO") == D(3_000)
        books = balances()
        assert books["ppn_masukan"] == 13_200 and books["persediaan:TOKO"] == 133_200 + 120_000
        assert books["utang_usaha"] == -(133_200 + 133_200)


def test_a_pkp_gives_ppn_masukan_back_on_the_return_form_and_a_non_pkp_is_not_asked(stock_app, make_app):
    assert 'name="ppn"' not in client_for(stock_app, "gudang").get("/gudang/retur-pemasok").text
    pkp = make_app(tax_status="pkp")
    with pkp.app_context():
        receive("PKP-R", "TK-TOKO", [line("MIE-GORENG", "dus 40", 1, 120_000, ppn=13_200)])
    gudang = client_for(pkp, "gudang")
    assert 'name="ppn"' in gudang.get("/gudang/retur-pemasok").text
    form = {"csrf_token": csrf_token(gudang), "supplier": "SPB", "location": "TK-TOKO", "reason": "penyok",
            "date": "", "sku_0": "MIE-GORENG", "qty_0": "20"}
    refused = gudang.post("/gudang/retur-pemasok", data={**form, "ppn": "1,000"})
    assert refused.status_code == 400
    response = gudang.post("/gudang/retur-pemasok", data={**form, "ppn": "6.600"})
    assert response.status_code == 302, response.text
    with pkp.app_context():
        assert balances()["ppn_masukan"] == 13_200 - 6_600
