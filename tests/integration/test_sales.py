"""The checkout as a service, on the real database (SQLite and PostgreSQL): prices, tax, stock, payments, books,
exactly once, QRIS, kasbon, returns, voids, shifts, held carts. Each test reads like a till's worksheet."""

import datetime as dt
import uuid
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from inventory import barcodes, catalog, stock
from inventory.fefo import InsufficientStock
from inventory.models import Batch, Location, Product, StockLevel, StockMove
from ledger import journal, members
from ledger.models import JournalEntry, Member
from pos import auth, printing
from pos.db import db, write_transaction
from pos.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from pos.models import PrintJob, User
from pos.sales import qris, services
from pos.sales.checks import check_sales
from pos.sales.models import Sale, SaleStatus, Shift
from pos.sales.requests import return_from_json, sale_from_json

BERAS, BERAS_KARUNG, MIE, MIE_DUS = "8991234560014", "8991234560021", "089686010947", "8994963002824"
PCT, PCT_BOX, AMX = "8992753102402", "8999999002503", "8991234560038"


def user(name):
    return db.session.scalar(sa.select(User).where(User.username == name))


def member(number="AGT-00001"):
    return db.session.scalar(sa.select(Member).where(Member.number == number))


def open_till(till="TK01", float_=200_000, who="kasir"):
    shift, _ = services.open_shift(till, float_, user(who))
    return shift


def sell(lines, payments, till="TK01", who="kasir", sale_id=None, **extra):
    body = {"id": sale_id or str(uuid.uuid4()), "till": till, "lines": lines, "payments": payments, **extra}
    return services.complete_sale(sale_from_json(body), user(who))


def postings(entry_id):
    entry = db.session.get(JournalEntry, entry_id)
    return sorted((p.account.key, p.debit, p.credit) for p in entry.postings)


def on_shelf(code_or_sku, location="TK-TOKO", lot=None):
    product = db.session.scalar(sa.select(Product).where(Product.sku == code_or_sku))
    loc = db.session.scalar(sa.select(Location).where(Location.code == location))
    batch = db.session.scalar(sa.select(Batch).where(Batch.lot == lot)) if lot else None
    return stock.on_hand(product.id, loc.id, batch.id if batch else None)


def approval(action, who="kasir", approver="manajer", pin="4444", **detail):
    return auth.grant(user(who), approver, pin, action, reason="uji", detail=detail).token


def test_a_cash_sale_moves_stock_books_the_entry_and_queues_the_receipt(shop):
    shift = open_till()
    sale, created = sell([{"code": BERAS, "qty": "2.5"}, {"code": MIE, "qty": "3"}],
                         [{"method": "cash", "amount": 50_000}])
    assert created and sale.status == SaleStatus.COMPLETED
    assert sale.number == f"TK01-{services.business_date(sale.till):%Y%m%d}-0001"
    assert sale.shift_id == shift.id
    # 2,5 kg x 14.500 = 36.250; 3 x 3.500 = 10.500
    assert (sale.subtotal, sale.total, sale.ppn, sale.change) == (46_750, 46_750, 0, 3_250)
    assert on_shelf("BRS-PREMIUM") == D("97.5") + 100  # 100 kg + 4 karung of 25 kg, less 2,5 kg
    assert on_shelf("MIE-GORENG") == 197
    cost = 2_500 * 12 + 3 * 3_000  # beras at 12.000/kg; mie at 120.000 / 40
    assert sale.cost == 30_000 + 9_000 == cost
    assert postings(sale.entry_id) == sorted([
        ("kas:TK", 46_750, 0), ("revenue:TOKO:non_anggota", 0, 46_750),
        ("hpp:TOKO", 39_000, 0), ("persediaan:TOKO", 0, 39_000)])
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.source_type == "sale",
                                                      PrintJob.source_id == sale.number))
    assert job is not None and job.status == "queued" and job.document["kind"] == "sale"
    data, html = printing.rendered(job)  # stored as a document in the sale's transaction, rendered by the worker
    assert b"TK01" in data and "46.750" in html
    assert printing.process_due(job.printer) == 1
    assert db.session.get(PrintJob, job.id).status == "done" and b"TK01" in db.session.get(PrintJob, job.id).data
    assert check_sales() == [] and stock.check_drift() == []


def test_the_same_sale_sent_again_is_one_sale_and_other_content_under_its_id_is_refused(shop):
    open_till()
    sale_id = str(uuid.uuid4())
    first, created = sell([{"code": MIE}], [{"method": "cash", "amount": 5_000}], sale_id=sale_id)
    again, created_again = sell([{"code": MIE}], [{"method": "cash", "amount": 5_000}], sale_id=sale_id)
    assert created and not created_again and again.id == first.id and again.number == first.number
    with pytest.raises(services.SaleConflict):
        sell([{"code": MIE, "qty": "2"}], [{"method": "cash", "amount": 10_000}], sale_id=sale_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 1
    assert on_shelf("MIE-GORENG") == 199


def test_prices_sent_by_the_client_are_never_used(shop):
    open_till()
    sale, _ = sell([{"code": MIE, "qty": "2", "price": 1, "total": 2, "unit_price": 1}],
                   [{"method": "cash", "amount": 7_000}], total=2)
    assert sale.total == 7_000


def test_members_pay_member_prices_and_their_revenue_is_tagged(shop):
    open_till()
    sale, _ = sell([{"code": MIE, "qty": "2"}], [{"method": "cash", "amount": 10_000}], member="AGT-00001")
    assert sale.total == 6_600 and sale.member_id == member().id
    assert ("revenue:TOKO:anggota", 0, 6_600) in postings(sale.entry_id)
    entry = db.session.get(JournalEntry, sale.entry_id)
    assert {p.member_id for p in entry.postings if p.account.key.startswith("revenue")} == {member().id}


def test_wholesale_from_the_minimum_quantity_and_packs_sell_as_their_base_units(shop):
    open_till()
    sale, _ = sell([{"code": MIE, "qty": "10"}, {"code": MIE_DUS}, {"code": BERAS_KARUNG}],
                   [{"method": "cash", "amount": 600_000}])
    lines = {line.unit_name: line for line in sale.lines}
    assert (lines["pcs"].tier, lines["pcs"].unit_price) == ("wholesale", 3_200)
    assert lines["dus 40"].base_quantity == 40 and lines["dus 40"].unit_price == 128_000
    assert lines["karung 25 kg"].base_quantity == 25 and lines["karung 25 kg"].total == 350_000
    assert on_shelf("MIE-GORENG") == 150


def test_a_line_can_switch_pack_and_fractions_are_for_goods_sold_by_weight(shop):
    open_till()
    sale, _ = sell([{"code": MIE, "qty": "1", "unit": "dus 40"}], [{"method": "cash", "amount": 128_000}])
    assert sale.lines[0].base_quantity == 40
    with pytest.raises(InvalidInput) as refused:
        sell([{"code": MIE, "qty": "1.5"}], [{"method": "cash", "amount": 10_000}])
    assert refused.value.field == "lines[0].qty"
    with pytest.raises(InvalidInput):
        sell([{"code": MIE, "unit": "karung"}], [{"method": "cash", "amount": 10_000}])


def test_a_scale_label_sells_its_weight(shop):
    beras = db.session.scalar(sa.select(Product).where(Product.sku == "BRS-PREMIUM"))
    base = "2112345000000"
    base = base[:12] + str(barcodes.gs1_check_digit(base[:12]))
    with write_transaction():
        catalog.add_barcode(beras, next(u for u in beras.units if u.factor == 1), base)
    label = "211234501250"
    label += str(barcodes.gs1_check_digit(label))
    open_till()
    sale, _ = sell([{"code": label}], [{"method": "cash", "amount": 20_000}])
    assert sale.lines[0].quantity == D("1.250") and sale.total == 18_125  # 1,25 x 14.500
    with pytest.raises(InvalidInput) as refused:
        sell([{"code": label, "qty": "2"}], [{"method": "cash", "amount": 50_000}])
    assert refused.value.field == "lines[0].qty"


def test_ppn_for_a_pkp_cooperative_is_inside_the_price_and_revenue_is_without_it(make_app, shop):
    pkp = make_app(tax_status="pkp")
    with pkp.app_context():
        open_till()
        # beras 1 kg (exempt) 14.500 + Indomie 10 pcs wholesale (standard) 32.000
        sale, _ = sell([{"code": BERAS}, {"code": MIE, "qty": "10"}], [{"method": "cash", "amount": 50_000}])
        assert sale.total == 46_500
        standard = next(line for line in sale.lines if line.tax_code == "standard")
        assert standard.ppn == 3_171  # 32.000 x 11/111 = 3.171,17
        assert standard.dpp == 26_427  # 11/12 x (32.000 - 3.171) = 26.426,58
        assert sale.ppn == 3_171 and sale.revenue == 46_500 - 3_171
        assert sorted(postings(sale.entry_id))[-2:] == [("ppn_keluaran", 0, 3_171),
                                                        ("revenue:TOKO:non_anggota", 0, 43_329)]


def test_a_manager_approves_a_price_or_a_discount_once_and_never_above_the_het(shop):
    open_till()
    with pytest.raises(PermissionDenied):
        sell([{"code": BERAS, "price_override": 13_000}], [{"method": "cash", "amount": 20_000}])
    token = approval("price_override", code=BERAS, price=13_000)
    sale, _ = sell([{"code": BERAS, "price_override": 13_000, "approval": token}],
                   [{"method": "cash", "amount": 20_000}])
    assert (sale.lines[0].unit_price, sale.lines[0].tier, sale.lines[0].approved_by) == (13_000, "override", "manajer")
    with pytest.raises(PermissionDenied):  # used up
        sell([{"code": BERAS, "price_override": 13_000, "approval": token}], [{"method": "cash", "amount": 20_000}])
    high = approval("price_override", code=BERAS, price=15_000)
    with pytest.raises(InvalidInput) as above:  # HET of beras premium is 14.900
        sell([{"code": BERAS, "price_override": 15_000, "approval": high}], [{"method": "cash", "amount": 20_000}])
    assert above.value.field == "lines[0].price_override"
    with pytest.raises(PermissionDenied):  # an approval for another amount does not fit
        sell([{"code": BERAS, "discount": 900, "approval": approval("discount", code=BERAS, discount=500)}],
             [{"method": "cash", "amount": 20_000}])
    with pytest.raises(AuthenticationFailed):  # a cashier cannot approve: the same answer as a wrong PIN
        auth.grant(user("manajer"), "kasir", "1111", "discount", detail={})


def test_a_receipt_discount_is_shared_over_the_lines(shop):
    open_till()
    token = approval("discount", receipt=1, discount=1_000)
    sale, _ = sell([{"code": BERAS}, {"code": MIE}], [{"method": "cash", "amount": 20_000}], discount=1_000,
                   approval=token)
    assert sale.total == 14_500 + 3_500 - 1_000 and sale.discount == 1_000
    assert [line.discount_share for line in sale.lines] == [806, 194]  # 1.000 x 14.500/18.000 = 805,6
    assert sum(line.net for line in sale.lines) == sale.total


def test_no_sale_without_an_open_shift_and_one_open_shift_per_till(shop):
    with pytest.raises(services.NoOpenShift):
        sell([{"code": MIE}], [{"method": "cash", "amount": 5_000}])
    shift = open_till()
    again = open_till()
    assert again.id == shift.id  # the same opening twice is one shift
    with pytest.raises(Conflict):
        open_till(float_=300_000)
    with pytest.raises(Conflict):
        open_till(who="manajer")
    assert open_till("TK02").id != shift.id


def test_short_payments_card_overpayments_and_unknown_codes_are_refused_and_change_nothing(shop):
    open_till()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(StockMove))
    cases = [
        ([{"code": MIE}], [{"method": "cash", "amount": 3_000}], "payments"),
        ([{"code": MIE}], [{"method": "debit", "amount": 9_000, "reference": "123456"}], "payments"),
        ([{"code": "8990000000000"}], [{"method": "cash", "amount": 9_000}], "lines[0].code"),
        ([{"code": MIE, "qty": "0"}], [{"method": "cash", "amount": 9_000}], "lines[0].qty"),
        ([{"code": MIE, "qty": "201"}], [{"method": "cash", "amount": 10**7}], "lines[0].qty"),
        ([{"code": MIE}], [{"method": "kasbon", "amount": 3_500}], "payments"),
        ([{"code": MIE}], [{"method": "debit", "amount": 3_500}], "payments[0].reference"),
    ]
    for lines, payments, field in cases:
        with pytest.raises((InvalidInput, NotFound)) as refused:
            sell(lines, payments)
        assert refused.value.field == field, (lines, payments)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMove)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0


def test_medicine_is_sold_first_expired_first_out_and_a_chosen_batch_needs_a_reason(shop):
    open_till("AP01")
    with pytest.raises(InvalidInput) as refused:
        sell([{"code": AMX, "batch": "AMX1"}, {"code": PCT, "batch": "LATE"}], [{"method": "cash", "amount": 9_000}],
             till="AP01")
    assert refused.value.field == "lines[1].batch_reason"
    chosen, _ = sell([{"code": PCT, "batch": "late", "batch_reason": "pelanggan minta ED panjang"}],
                     [{"method": "cash", "amount": 500}], till="AP01")
    assert db.session.get(Batch, chosen.lines[0].allocations[0].batch_id).lot == "LATE"
    sale, _ = sell([{"code": PCT, "qty": "120"}], [{"method": "cash", "amount": 100_000}], till="AP01")
    lots = sorted((db.session.get(Batch, a.batch_id).lot, a.quantity) for a in sale.lines[0].allocations)
    assert lots == [("LATE", 20), ("SOON", 100)]
    assert on_shelf("OBT-PCT500", "AP-APOTEK", "SOON") == 0
    with pytest.raises(InsufficientStock):
        sell([{"code": PCT, "qty": "180"}], [{"method": "cash", "amount": 100_000}], till="AP01")


def test_expired_batches_are_never_sold(shop):
    amx = db.session.scalar(sa.select(Batch).where(Batch.lot == "AMX1"))
    with write_transaction():
        db.session.get(Batch, amx.id).expiry_date = dt.date.today() - dt.timedelta(days=1)
    open_till("AP01")
    with pytest.raises(InsufficientStock):
        sell([{"code": AMX}], [{"method": "cash", "amount": 9_000}], till="AP01")
    with pytest.raises(InvalidInput):
        sell([{"code": AMX, "batch": "AMX1", "batch_reason": "pelanggan minta"}],
             [{"method": "cash", "amount": 9_000}], till="AP01")


def test_qris_waits_for_the_cashier_then_books_or_cancels(shop):
    open_till()
    sale, _ = sell([{"code": BERAS, "qty": "2"}], [{"method": "qris", "amount": 29_000}])
    assert sale.status == SaleStatus.PENDING and sale.entry_id is None
    parsed = qris.parse_static(sale.qris_payload)  # a valid QRIS string with its own CRC
    assert dict(parsed.fields)["54"] == "29000" and dict(parsed.fields)["01"] == "12"
    assert on_shelf("BRS-PREMIUM") == 198  # held for the customer
    with pytest.raises(Conflict):
        services.close_shift(sale.shift_id, services.CashCount(200_000), user("kasir"))
    confirmed = services.confirm_payment(sale.uuid, user("kasir"))
    assert confirmed.status == SaleStatus.COMPLETED and ("qris", 29_000, 0) in postings(confirmed.entry_id)
    assert services.confirm_payment(sale.number, user("kasir")).entry_id == confirmed.entry_id  # idempotent

    other, _ = sell([{"code": MIE}], [{"method": "qris", "amount": 3_500}])
    cancelled = services.cancel_sale(other.uuid, user("kasir"), "tidak jadi")
    assert cancelled.status == SaleStatus.CANCELLED and cancelled.number == other.number
    assert on_shelf("MIE-GORENG") == 200
    with pytest.raises(Conflict):
        services.confirm_payment(other.uuid, user("kasir"))
    assert check_sales() == [] and stock.check_drift() == []


def test_kasbon_for_members_within_their_limit_and_a_return_reduces_it(shop):
    open_till()
    siti = member()
    limit = members.kasbon_limit(siti.id)
    assert limit == 250_000  # half of pokok 100.000 + sukarela 400.000
    with pytest.raises(InvalidInput) as over:
        sell([{"code": BERAS_KARUNG}], [{"method": "kasbon", "amount": 350_000}], member=siti.number)
    assert over.value.field == "payments"
    sale, _ = sell([{"code": MIE, "qty": "10"}], [{"method": "kasbon", "amount": 32_000}], member=siti.number)
    assert members.kasbon_balance(siti.id) == 32_000  # wholesale 3.200 beats the member price 3.300
    token = approval("refund", sale=sale.number)
    back, _ = services.refund_sale(sale.uuid, return_from_json({
        "id": str(uuid.uuid4()), "till": "TK01", "lines": [{"line": 1, "qty": "4"}], "approval": token,
        "reason": "rusak"}), user("kasir"))
    assert [(r.method, r.amount) for r in back.refunds] == [("kasbon", 12_800)]
    assert members.kasbon_balance(siti.id) == 32_000 - 12_800


def test_debit_cards_go_to_their_own_settlement_account_and_splits_add_up(shop):
    open_till()
    sale, _ = sell([{"code": BERAS, "qty": "3"}],
                   [{"method": "debit", "amount": 40_000, "reference": "A1B2C3"}, {"method": "cash", "amount": 5_000}])
    assert (sale.total, sale.change) == (43_500, 1_500)
    assert [(p.method, p.amount, p.tendered, p.reference) for p in sale.payments] == [
        ("debit", 40_000, 40_000, "A1B2C3"), ("cash", 3_500, 5_000, "")]
    assert ("edc", 40_000, 0) in postings(sale.entry_id) and ("kas:TK", 3_500, 0) in postings(sale.entry_id)
    transfer, _ = sell([{"code": MIE}], [{"method": "transfer", "amount": 3_500, "reference": "TRF 889"}])
    assert ("transfer", 3_500, 0) in postings(transfer.entry_id)


def test_returns_never_exceed_what_was_sold_and_medicine_goes_to_karantina(shop):
    open_till("AP01")
    sale, _ = sell([{"code": PCT, "qty": "30"}, {"code": AMX, "qty": "10"}],
                   [{"method": "cash", "amount": 50_000}], till="AP01")
    assert sale.total == 30 * 500 + 10 * 1_200

    def take_back(lines, refund="original", token=None):
        return services.refund_sale(sale.uuid, return_from_json({
            "id": str(uuid.uuid4()), "till": "AP01", "lines": lines, "refund": refund, "reason": "salah beli",
            "approval": token or approval("refund", sale=sale.number)}), user("kasir"))[0]

    with pytest.raises(PermissionDenied):
        take_back([{"line": 1, "qty": "1"}], token="bukan-token")
    first = take_back([{"line": 1, "qty": "10"}])
    assert (first.total, [(r.method, r.amount) for r in first.refunds]) == (5_000, [("cash", 5_000)])
    assert on_shelf("OBT-PCT500", "AP-KARANTINA", "SOON") == 10  # medicine waits for the pharmacist
    with pytest.raises(InvalidInput) as too_many:
        take_back([{"line": 1, "qty": "21"}])
    assert too_many.value.field == "lines[0].qty"
    rest = take_back([{"line": 1, "qty": "20"}, {"line": 2, "qty": "10"}], refund="cash")
    assert rest.total == 10_000 + 12_000
    assert postings(rest.entry_id) == sorted([
        ("kas:AP", 0, 22_000), ("revenue:APOTEK:non_anggota", 22_000, 0),
        ("persediaan:APOTEK", rest.cost, 0), ("hpp:APOTEK", 0, rest.cost)])
    with pytest.raises(InvalidInput):
        take_back([{"line": 2, "qty": "1"}])
    assert check_sales() == [] and stock.check_drift() == []


def test_a_return_with_the_same_id_is_taken_once(shop):
    open_till()
    sale, _ = sell([{"code": MIE, "qty": "5"}], [{"method": "cash", "amount": 20_000}])
    body = {"id": str(uuid.uuid4()), "till": "TK01", "lines": [{"line": 1, "qty": "2"}], "reason": "rusak",
            "approval": approval("refund", sale=sale.number)}
    first, created = services.refund_sale(sale.uuid, return_from_json(body), user("kasir"))
    again, created_again = services.refund_sale(sale.uuid, return_from_json(body), user("kasir"))
    assert created and not created_again and first.id == again.id
    assert on_shelf("MIE-GORENG") == 197


def test_a_void_in_the_open_shift_undoes_the_sale_with_a_reversal(shop):
    shift = open_till()
    sale, _ = sell([{"code": BERAS, "qty": "2"}], [{"method": "cash", "amount": 30_000}])
    with pytest.raises(PermissionDenied):
        services.void_sale(sale.uuid, user("kasir"), "x", "salah input")
    voided = services.void_sale(sale.uuid, user("kasir"), approval("void_sale", sale=sale.number), "salah input")
    assert voided.status == SaleStatus.VOIDED and voided.void_entry_id
    assert on_shelf("BRS-PREMIUM") == 200
    reversal = db.session.get(JournalEntry, voided.void_entry_id)
    assert reversal.reverses_id == sale.entry_id
    totals = services.shift_totals(db.session.get(Shift, shift.id))
    assert totals.sale_count == 0 and totals.void_count == 1 and totals.expected_cash == 200_000
    later, _ = sell([{"code": MIE}], [{"method": "cash", "amount": 3_500}])
    services.close_shift(shift.id, services.CashCount(203_500), user("kasir"))
    open_till()
    with pytest.raises(Conflict):
        services.void_sale(later.uuid, user("kasir"), approval("void_sale", sale=later.number), "terlambat")


def test_closing_a_shift_counts_the_drawer_posts_over_or_short_and_keeps_the_z_report(shop):
    shift = open_till(float_=100_000)
    sell([{"code": BERAS, "qty": "2"}], [{"method": "cash", "amount": 50_000}])  # 29.000 in the drawer
    sell([{"code": MIE}], [{"method": "debit", "amount": 3_500, "reference": "998877"}])
    services.x_report(shift.id, user("kasir"))
    counted = {100_000: 1, 20_000: 1, 5_000: 1, 2_000: 1, 1_000: 1, 500: 1}  # 128.500: 500 short
    closed, created = services.close_shift(shift.id, services.CashCount(128_500, counted), user("kasir"))
    assert created and closed.status == "closed"
    assert (closed.expected_cash, closed.counted_cash, closed.difference) == (129_000, 128_500, -500)
    assert postings(closed.entry_id) == sorted([("selisih_kas", 500, 0), ("kas:TK", 0, 500)])
    assert closed.report["kind"] == "shift_z" and closed.counted["methods"]["debit"] == {"expected": 3_500,
                                                                                          "counted": 3_500}
    assert db.session.scalar(sa.select(PrintJob).where(PrintJob.source_type == "shift_z")) is not None
    assert db.session.scalar(sa.select(PrintJob).where(PrintJob.source_type == "shift_x")) is not None
    again, created_again = services.close_shift(shift.id, services.CashCount(128_500, counted), user("kasir"))
    assert not created_again and again.entry_id == closed.entry_id
    with pytest.raises(InvalidInput):
        services.close_shift(shift.id, services.CashCount(1_000, {500: 1}), user("kasir"))
    with pytest.raises(services.NoOpenShift):
        sell([{"code": MIE}], [{"method": "cash", "amount": 5_000}])


def test_cash_rounding_down_never_charges_more_and_is_posted(make_app, shop):
    rounding = make_app(cash_rounding="down")
    with rounding.app_context():
        open_till()
        sale, _ = sell([{"code": BERAS, "qty": "1.25"}], [{"method": "cash", "amount": 20_000}])  # 18.125
        assert (sale.total, sale.rounding, sale.change) == (18_100, -25, 1_900)
        assert ("pembulatan", 25, 0) in postings(sale.entry_id)
        split, _ = sell([{"code": BERAS, "qty": "1.25"}],
                        [{"method": "debit", "amount": 10_000, "reference": "111111"},
                         {"method": "cash", "amount": 8_125}])
        assert split.rounding == 0 and split.total == 18_125


def test_numbers_are_per_till_and_day_without_gaps(shop):
    open_till()
    open_till("TK02", who="manajer")
    numbers = [sell([{"code": MIE}], [{"method": "cash", "amount": 3_500}], till=till)[0].number
               for till in ("TK01", "TK02", "TK01", "TK01")]
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["0001", "0001", "0002", "0003"]
    with pytest.raises(InvalidInput):  # a refused sale takes no number
        sell([{"code": MIE}], [{"method": "cash", "amount": 1}])
    assert sell([{"code": MIE}], [{"method": "cash", "amount": 3_500}])[0].number.endswith("-0004")


def test_held_carts_wait_on_the_server_and_come_back_once(shop):
    open_till()
    held = services.hold_cart("TK01", {"member": "AGT-00001", "lines": [{"code": MIE, "qty": "2"}]}, "Bu Siti",
                              user("kasir"))
    assert (held.total, held.line_count) == (6_600, 1)
    assert [h.id for h in services.held_carts(services.till_by_code("TK02"))] == [held.id]  # same outlet
    back = services.resume_cart(held.id, "TK01", user("kasir"))
    assert back.cart == {"member": "AGT-00001", "lines": [{"code": MIE, "qty": "2"}]}
    with pytest.raises(Conflict):
        services.resume_cart(held.id, "TK01", user("kasir"))
    with pytest.raises(NotFound):
        services.resume_cart(held.id, "AP01", user("kasir"))


def test_a_pin_session_cannot_sell_at_another_till(shop):
    till = services.till_by_code("TK02")
    with pytest.raises(PermissionDenied):
        services.check_till_access(till, user("kasir"), services.till_by_code("TK01").id)
    services.check_till_access(till, user("kasir"), None)


def test_the_day_of_a_sale_is_the_outlets_local_date(shop):
    till = services.till_by_code("TK01")
    late_utc = dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)  # 01.30 WITA on 1 December
    assert services.business_date(till, late_utc) == dt.date(2026, 12, 1)


def test_a_closed_period_refuses_the_sale_whole(shop):
    open_till()
    today = services.business_date(services.till_by_code("TK01"))
    with write_transaction():
        # As if the month had ended and been closed while the till stayed open (a December would close by its year).
        journal._close(*journal.month_bounds(today.year, today.month), "uji")
    with pytest.raises(journal.PeriodClosed):
        sell([{"code": MIE}], [{"method": "cash", "amount": 3_500}])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0
    assert on_shelf("MIE-GORENG") == 200
    assert db.session.scalar(sa.select(StockLevel.quantity).join(Product).where(Product.sku == "MIE-GORENG")) == 200
