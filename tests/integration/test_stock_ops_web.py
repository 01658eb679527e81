"""Warehouse pages: goods receipt (GS1 scans fill lot and expiry), transfers with a FEFO pick list, blind stock counts
approved by a manager, write-offs and supplier returns; each posts balanced books, bad input changes nothing, and
only stock.manage may post."""

import datetime as dt
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from inventory import services, stock
from inventory.models import Batch, Product, ProductUnit, StockDocument, StockMove, Supplier
from ledger import reports
from ledger.models import JournalEntry
from pos.db import db, write_transaction
from pos.models import AuditEntry
from tests.conftest import csrf_token, sign_in

GS = "\x1d"
CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def wh(stock_app):
    """The stock app; database checks run in `ctx(wh)` blocks, requests outside them."""
    return stock_app


@contextmanager
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def today(wh):
    from pos.web.templating import local_today

    with ctx(wh):
        return local_today()


def client_for(app, username):
    client = app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 302, response.text
    return client


def post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def receipt_form(invoice, lines, *, supplier="PBF", location="GD-GUDANG", payment="credit", ppn="", date=None):
    data = {"supplier": supplier, "invoice": invoice, "location": location, "payment": payment, "ppn": ppn,
            "date": date.isoformat() if date else ""}
    for n, line in enumerate(lines):
        data.update({f"{key}_{n}": value for key, value in line.items()})
    return data


def lines_form(lines, **fields):
    data = dict(fields)
    for n, line in enumerate(lines):
        data.update({f"{key}_{n}": value for key, value in line.items()})
    return data


def receive(app, invoice, lines, *, supplier="PBF", location="GD-GUDANG", date=None):
    """Stock for a test through the service: lines of (sku, unit name, quantity, cost per unit, lot, expiry)."""
    with ctx(app):
        with write_transaction():
            receipt_lines = []
            for sku, unit_name, qty, cost, lot, expiry in lines:
                product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
                unit = next(u for u in product.units if u.name == unit_name)
                receipt_lines.append(services.ReceiptLine(product, unit, Decimal(qty), cost, lot, expiry))
            supplier_row = db.session.scalar(sa.select(Supplier).where(Supplier.code == supplier))
            services.receive_goods(services.ReceiptInput(
                supplier_row, invoice, date or dt.date.today(), services.location_by_code(location),
                tuple(receipt_lines)), None)


def on_hand(app, sku, location=None, lot=None):
    with ctx(app):
        product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
        location_id = services.location_by_code(location).id if location else None
        batch_id = None
        if lot:
            batch_id = db.session.scalar(sa.select(Batch.id).where(Batch.product_id == product.id, Batch.lot == lot))
        return stock.on_hand(product.id, location_id, batch_id)


def average_cost(sku, location):
    """The moving average of the location's business unit (call inside an app context)."""
    product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
    return stock.cost_at(product, services.location_by_code(location))


def books(app):
    """Net debit per account key over all time, and whether the trial balance balances."""
    with ctx(app):
        result = reports.trial_balance(reports.Scope(dt.date(1900, 1, 1), dt.date(2999, 12, 31)))
        totals = {}
        for row in result.rows:
            totals[row.account.key] = totals.get(row.account.key, 0) + row.closing
        return totals, result.balanced


def counts(app):
    with ctx(app):
        return (db.session.scalar(sa.select(sa.func.count()).select_from(StockDocument)),
                db.session.scalar(sa.select(sa.func.count()).select_from(StockMove)),
                db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)))


def doc_id_from(response):
    assert response.status_code == 302, response.text
    match = re.search(r"/gudang/(?:dokumen|opname)/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def without_tokens(html):
    return CSRF_VALUE.sub("", html)


# --- goods receipt ------------------------------------------------------------------------------


def test_receipt_creates_stock_batches_average_cost_and_a_balanced_entry(wh, today):
    gudang = client_for(wh, "gudang")
    assert gudang.get("/gudang/penerimaan").status_code == 200
    expiry = today + dt.timedelta(days=400)
    response = post(gudang, "/gudang/penerimaan", receipt_form("INV-PBF-001", [
        # a pack's barcode: the unit left empty is the pack the barcode names (karung 25 kg)
        {"sku": "8991234560021", "qty": "2", "cost": "350.000"},
        {"sku": "obt-pct500", "unit": "box", "qty": "3", "cost": "40.000", "lot": "pct-a1",
         "expiry": expiry.isoformat()},
    ], ppn="11.000", date=today))
    doc_id = doc_id_from(response)
    assert on_hand(wh, "BRS-PREMIUM", "GD-GUDANG") == Decimal(50)
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "PCT-A1") == Decimal(300)
    with ctx(wh):
        batch = db.session.scalar(sa.select(Batch).where(Batch.lot == "PCT-A1"))
        # not PKP: the PPN (all of it on the taxable paracetamol, none on the exempt beras) is part of the cost,
        # (120.000 + 11.000) / 300 tablets
        assert batch.expiry_date == expiry and batch.unit_cost == Decimal("436.6667")
        assert average_cost("BRS-PREMIUM", "GD-GUDANG") == 14_000
        document = db.session.get(StockDocument, doc_id)
        assert (document.kind, document.status, document.total) == ("receipt", "done", 831_000)
        entry_id = document.entry_id
        entry = db.session.get(JournalEntry, entry_id)
        assert entry.posted and sum(p.debit for p in entry.postings) == sum(p.credit for p in entry.postings)
    totals, balanced = books(wh)
    assert balanced
    assert totals["persediaan:GUDANG"] == 831_000 and totals.get("ppn_masukan", 0) == 0
    assert totals["utang_usaha"] == -831_000

    page = gudang.get(f"/gudang/dokumen/{doc_id}").text
    assert 'data-total="831000"' in page and 'data-lines-total="831000"' in page
    assert 'data-kind="receipt"' in page and "data-entry=" not in page  # gudang has no ledger.view
    manager_page = client_for(wh, "manajer").get(f"/gudang/dokumen/{doc_id}").text
    assert f'href="/buku/jurnal/{entry_id}"' in manager_page
    assert client_for(wh, "pengawas").get(f"/gudang/dokumen/{doc_id}").status_code == 200
    assert 'data-document="PB/' in gudang.get("/gudang/").text

    # a second delivery at a higher cost moves the moving average: (50 x 14.000 + 25 x 15.000) / 75
    response = post(gudang, "/gudang/penerimaan", receipt_form("INV-SPB-9", [
        {"sku": "BRS-PREMIUM", "unit": "karung 25 kg", "qty": "1", "cost": "375.000"}], supplier="SPB",
        payment="cash", date=today))
    doc_id_from(response)
    with ctx(wh):
        assert average_cost("BRS-PREMIUM", "GD-GUDANG") == Decimal("14333.3333")
    totals, balanced = books(wh)
    assert balanced and totals["persediaan:GUDANG"] == 1_206_000 and totals["kas:GD"] == -375_000


def test_an_invoice_received_twice_is_refused(wh, today):
    gudang = client_for(wh, "gudang")
    form = receipt_form("INV-77", [{"sku": "MIE-GORENG", "unit": "dus 40", "qty": "5", "cost": "120.000"}],
                        supplier="SPB", date=today)
    doc_id_from(post(gudang, "/gudang/penerimaan", form))
    before = counts(wh), books(wh)
    again = post(gudang, "/gudang/penerimaan", form)
    assert again.status_code in (400, 409)
    assert 'value="INV-77"' in again.text and 'name="qty_0" value="5"' in again.text  # the form is kept
    assert (counts(wh), books(wh)) == before
    assert on_hand(wh, "MIE-GORENG", "GD-GUDANG") == Decimal(200)


def test_an_expired_lot_and_a_missing_lot_are_refused(wh, today):
    gudang = client_for(wh, "gudang")
    before = counts(wh)
    expired = post(gudang, "/gudang/penerimaan", receipt_form("INV-X1", [
        {"sku": "OBT-PCT500", "unit": "strip", "qty": "10", "cost": "4.000", "lot": "OLD1",
         "expiry": (today - dt.timedelta(days=1)).isoformat()}], date=today))
    assert expired.status_code == 400 and 'value="OLD1"' in expired.text
    missing = post(gudang, "/gudang/penerimaan", receipt_form("INV-X2", [
        {"sku": "OBT-AMX500", "unit": "strip", "qty": "10", "cost": "9.000",
         "expiry": (today + dt.timedelta(days=300)).isoformat()}], date=today))
    assert missing.status_code == 400 and 'value="INV-X2"' in missing.text
    no_expiry = post(gudang, "/gudang/penerimaan", receipt_form("INV-X3", [
        {"sku": "OBT-AMX500", "unit": "strip", "qty": "10", "cost": "9.000", "lot": "AMX1"}], date=today))
    assert no_expiry.status_code == 400
    future = post(gudang, "/gudang/penerimaan", receipt_form("INV-X4", [
        {"sku": "MIE-GORENG", "qty": "10", "cost": "3.000"}], date=today + dt.timedelta(days=3)))
    assert future.status_code == 400
    unknown = post(gudang, "/gudang/penerimaan", receipt_form("INV-X5", [
        {"sku": "TIDAK-ADA", "qty": "10", "cost": "3.000"}], date=today))
    assert unknown.status_code == 400 and 'value="TIDAK-ADA"' in unknown.text
    assert counts(wh) == before
    with ctx(wh):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch)) == 0


def test_a_gs1_string_in_the_sku_field_fills_lot_and_expiry(wh, today):
    gudang = client_for(wh, "gudang")
    expiry = today.replace(day=1) + dt.timedelta(days=500)
    yymmdd = expiry.strftime("%y%m%d")
    scanned = f"]d2010899275310240217{yymmdd}10GS1-LOT"
    # without a quantity the form comes back, with the lot and expiry read from the code filled in
    kept = post(gudang, "/gudang/penerimaan", receipt_form("INV-GS1", [{"sku": scanned, "cost": "400"}], date=today))
    assert kept.status_code == 400
    assert 'name="lot_0" value="GS1-LOT"' in kept.text and f'name="expiry_0" value="{expiry.isoformat()}"' in kept.text
    assert 'name="sku_0" value="OBT-PCT500"' in kept.text and 'data-product="OBT-PCT500"' in kept.text
    response = post(gudang, "/gudang/penerimaan", receipt_form("INV-GS1", [
        {"sku": scanned, "qty": "100", "cost": "400"}], date=today))
    doc_id_from(response)
    with ctx(wh):
        batch = db.session.scalar(sa.select(Batch).where(Batch.lot == "GS1-LOT"))
        assert batch.expiry_date == expiry
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "GS1-LOT") == Decimal(100)  # the barcode names the tablet

    # the printed form, with the separator a scanner sends between a lot and what follows
    later = expiry + dt.timedelta(days=31)
    printed = f"(01)08992753102402(17){later.strftime('%y%m%d')}(10)HRI-LOT"
    raw = f"0108992753102402{'10'}RAW-LOT{GS}17{later.strftime('%y%m%d')}"
    response = post(gudang, "/gudang/penerimaan", receipt_form("INV-GS2", [
        {"sku": printed, "unit": "box", "qty": "1", "cost": "40.000"},
        {"sku": raw, "unit": "strip", "qty": "2", "cost": "4.000", "lot": "TYPED"}], date=today))
    doc_id_from(response)
    with ctx(wh):
        lots = {b.lot: b.expiry_date for b in db.session.scalars(sa.select(Batch))}
    assert lots["HRI-LOT"] == later and "RAW-LOT" not in lots and lots["TYPED"] == later  # a typed lot wins
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "HRI-LOT") == Decimal(100)


def test_receipt_page_carries_the_scan_field_and_its_script(wh):
    gudang = client_for(wh, "gudang")
    page = gudang.get("/gudang/penerimaan").text
    assert 'data-lookup-url="/api/v1/products/lookup"' in page and "js/receiving.js" in page
    assert "<script>" not in page  # no inline script under the CSP
    script = gudang.get("/static/js/receiving.js")
    assert script.status_code == 200 and b"preventDefault" in script.data


# --- transfers ----------------------------------------------------------------------------------


def paracetamol_in_gudang(app, today):
    """Two lots received so the later-expiring one has the lower id: FEFO must not follow the ids."""
    receive(app, "INV-LATE", [("OBT-PCT500", "box", 2, 40_000, "LATE", today + dt.timedelta(days=720))])
    receive(app, "INV-SOON", [("OBT-PCT500", "box", 1, 42_000, "SOON", today + dt.timedelta(days=180))])


def transfer_form(lines, *, source="GD-GUDANG", destination="AP-APOTEK", preview="0", date=None):
    return lines_form(lines, **{"from": source, "to": destination, "preview": preview,
                                "date": date.isoformat() if date else ""})


def test_the_pick_list_preview_follows_fefo_and_moves_nothing(wh, today):
    paracetamol_in_gudang(wh, today)
    gudang = client_for(wh, "gudang")
    assert gudang.get("/gudang/mutasi").status_code == 200
    before = counts(wh)
    response = post(gudang, "/gudang/mutasi", transfer_form([{"sku": "OBT-PCT500", "unit": "strip", "qty": "15"},
                                                             {"sku": "BRS-PREMIUM", "qty": "5"}], preview="1"))
    assert response.status_code == 200
    picks = re.findall(r'data-pick data-lot="([^"]+)" data-expiry="[^"]*" data-quantity="([^"]+)"', response.text)
    assert picks == [("SOON", "100"), ("LATE", "50")]
    assert response.text.count('data-problem="short"') == 1  # no beras in the gudang: said before sending
    assert 'name="qty_0" value="15"' in response.text and '<option value="SOON"' in response.text
    assert counts(wh) == before
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG") == Decimal(300)
    assert on_hand(wh, "OBT-PCT500", "AP-APOTEK") == Decimal(0)
    # too much for the unexpired stock: refused in the preview too, still nothing moved
    short = post(gudang, "/gudang/mutasi", transfer_form([{"sku": "OBT-PCT500", "qty": "301"}], preview="1"))
    assert short.status_code == 400 and counts(wh) == before


def test_sending_and_receiving_moves_stock_between_units_and_posts_the_inter_unit_entry(wh, today):
    paracetamol_in_gudang(wh, today)
    gudang_before, _ = books(wh)
    gudang = client_for(wh, "gudang")
    doc_id = doc_id_from(post(gudang, "/gudang/mutasi", transfer_form(
        [{"sku": "OBT-PCT500", "unit": "strip", "qty": "15"}], date=today)))
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG") == Decimal(150)
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "SOON") == Decimal(0)
    assert on_hand(wh, "OBT-PCT500", "AP-APOTEK") == Decimal(0)  # on the way
    page = gudang.get("/gudang/").text
    assert 'data-waiting="MT/' in page
    assert 'data-status="sent"' in gudang.get(f"/gudang/dokumen/{doc_id}").text

    apoteker = client_for(wh, "apoteker")
    response = post(apoteker, f"/gudang/dokumen/{doc_id}/terima", {})
    assert response.status_code == 302
    assert on_hand(wh, "OBT-PCT500", "AP-APOTEK", "SOON") == Decimal(100)
    assert on_hand(wh, "OBT-PCT500", "AP-APOTEK", "LATE") == Decimal(50)
    with ctx(wh):
        document = db.session.get(StockDocument, doc_id)
        assert (document.status, document.total, document.approved_by) == ("received", 62_000, "apoteker")
        entry = db.session.get(JournalEntry, document.entry_id)
        assert {p.account.key for p in entry.postings} == {"persediaan:GUDANG", "persediaan:APOTEK", "antar_unit"}
        assert stock.check_drift() == []
    totals, balanced = books(wh)
    assert balanced
    assert totals["persediaan:GUDANG"] == gudang_before["persediaan:GUDANG"] - 62_000
    assert totals["persediaan:APOTEK"] == 62_000
    assert 'data-waiting="' not in gudang.get("/gudang/").text
    # received once only
    again = post(apoteker, f"/gudang/dokumen/{doc_id}/terima", {})
    assert again.status_code == 409 and on_hand(wh, "OBT-PCT500", "AP-APOTEK") == Decimal(150)


def test_a_batch_other_than_fefo_needs_a_reason(wh, today):
    paracetamol_in_gudang(wh, today)
    gudang = client_for(wh, "gudang")
    before = counts(wh)
    lines = [{"sku": "OBT-PCT500", "unit": "strip", "qty": "5", "batch": "LATE"}]
    preview = post(gudang, "/gudang/mutasi", transfer_form(lines, preview="1"))
    assert preview.status_code == 200 and 'data-problem="reason"' in preview.text
    refused = post(gudang, "/gudang/mutasi", transfer_form(lines))
    assert refused.status_code == 400 and counts(wh) == before
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "LATE") == Decimal(200)
    lines[0]["reason"] = "Apotek minta kedaluwarsa panjang"
    doc_id_from(post(gudang, "/gudang/mutasi", transfer_form(lines)))
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "LATE") == Decimal(150)
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "SOON") == Decimal(100)
    with ctx(wh):
        override = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "stock.fefo_override"))
        assert override.actor_name == "gudang" and override.after["chosen"] == "LATE"


def test_an_expired_batch_cannot_be_transferred(wh, today):
    paracetamol_in_gudang(wh, today)
    long_ago = today - dt.timedelta(days=300)
    receive(wh, "INV-OLD", [("OBT-PCT500", "strip", 3, 4_000, "OLD", today - dt.timedelta(days=2))], date=long_ago)
    gudang = client_for(wh, "gudang")
    before = counts(wh)
    lines = [{"sku": "OBT-PCT500", "unit": "strip", "qty": "1", "batch": "OLD", "reason": "dipakai dulu"}]
    preview = post(gudang, "/gudang/mutasi", transfer_form(lines, preview="1"))
    assert preview.status_code == 200 and 'data-problem="expired"' in preview.text
    assert re.search(r'<option value="OLD"[^>]*disabled', preview.text)  # not offered
    response = post(gudang, "/gudang/mutasi", transfer_form(lines))
    assert response.status_code == 400 and counts(wh) == before
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "OLD") == Decimal(30)
    # FEFO itself passes the expired lot by
    doc_id_from(post(gudang, "/gudang/mutasi", transfer_form([{"sku": "OBT-PCT500", "qty": "10"}])))
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "OLD") == Decimal(30)
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "SOON") == Decimal(90)


# --- stock count --------------------------------------------------------------------------------


def count_with_variance(app, today):
    """739 kg of beras at 14.000 in the gudang, a paracetamol lot at 400 a tablet in the apotek; gudang opens a
    count of the gudang."""
    receive(app, "INV-BRS", [("BRS-PREMIUM", "kg", 739, 14_000, "", None)], supplier="SPB")
    receive(app, "INV-FOUND", [("OBT-PCT500", "box", 1, 40_000, "FOUND1", today + dt.timedelta(days=300))],
            location="AP-APOTEK")
    gudang = client_for(app, "gudang")
    doc_id = doc_id_from(post(gudang, "/gudang/opname", {"location": "GD-GUDANG", "date": today.isoformat()}))
    with ctx(app):
        line_id = db.session.get(StockDocument, doc_id).lines[0].id
    return gudang, doc_id, line_id


def test_the_count_sheet_is_blind_for_the_counter_and_shows_variances_to_the_manager(wh, today):
    gudang, doc_id, line_id = count_with_variance(wh, today)
    sheet = gudang.get(f"/gudang/opname/{doc_id}")
    assert sheet.status_code == 200 and f'name="count_{line_id}"' in sheet.text
    assert "739" not in without_tokens(sheet.text) and "data-books" not in sheet.text
    assert "739" not in without_tokens(gudang.get(f"/gudang/dokumen/{doc_id}").text)
    response = post(gudang, f"/gudang/opname/{doc_id}/hitung", {
        f"count_{line_id}": "735", "found_sku": "OBT-PCT500", "found_lot": "found1", "found_qty": "90"})
    assert response.status_code == 302
    counted = gudang.get(f"/gudang/opname/{doc_id}").text
    assert 'data-status="counted"' in counted and "739" not in without_tokens(counted)
    assert "data-variances" not in counted

    manager_sheet = client_for(wh, "manajer").get(f"/gudang/opname/{doc_id}").text
    assert (f'data-variance-line="{line_id}" data-sku="BRS-PREMIUM" data-books="739" data-counted="735" '
            'data-variance="-4" data-value="-56000"') in manager_sheet
    assert 'data-sku="OBT-PCT500" data-books="0" data-counted="90" data-variance="90" data-value="36000"' \
        in manager_sheet
    assert 'data-surplus="36000"' in manager_sheet and 'data-shortage="56000"' in manager_sheet


def test_the_counter_cannot_approve(wh, today):
    gudang, doc_id, line_id = count_with_variance(wh, today)
    post(gudang, f"/gudang/opname/{doc_id}/hitung", {f"count_{line_id}": "735"})
    assert post(gudang, f"/gudang/opname/{doc_id}/setujui", {}).status_code == 403  # no stock.approve

    # a manager who opened a count may not approve it (the service's rule), even when someone else counted...
    manager = client_for(wh, "manajer")
    own = doc_id_from(post(manager, "/gudang/opname", {"location": "AP-APOTEK", "date": today.isoformat()}))
    with ctx(wh):
        own_line = db.session.get(StockDocument, own).lines[0].id
    assert post(gudang, f"/gudang/opname/{own}/hitung", {f"count_{own_line}": "30"}).status_code == 302
    assert post(manager, f"/gudang/opname/{own}/setujui", {}).status_code == 400
    # ...nor one whose counts they typed in
    assert post(manager, f"/gudang/opname/{doc_id}/hitung", {f"count_{line_id}": "736"}).status_code == 302
    before = counts(wh)
    assert post(manager, f"/gudang/opname/{doc_id}/setujui", {}).status_code == 400
    assert counts(wh) == before
    with ctx(wh):
        assert {d.status for d in db.session.scalars(sa.select(StockDocument).where(StockDocument.kind == "count"))} \
            == {"counted"}
    assert on_hand(wh, "BRS-PREMIUM", "GD-GUDANG") == Decimal(739)


def test_the_managers_approval_posts_the_adjustment_and_leaves_no_drift(wh, today):
    gudang, doc_id, line_id = count_with_variance(wh, today)
    # not every line counted yet: nothing to approve
    manager = client_for(wh, "manajer")
    assert post(manager, f"/gudang/opname/{doc_id}/setujui", {}).status_code == 409
    bad = post(gudang, f"/gudang/opname/{doc_id}/hitung", {f"count_{line_id}": "-1"})
    assert bad.status_code == 400 and 'value="-1"' in bad.text
    post(gudang, f"/gudang/opname/{doc_id}/hitung", {f"count_{line_id}": "735", "found_sku": "OBT-PCT500",
                                                     "found_lot": "FOUND1", "found_qty": "90"})
    before, _ = books(wh)
    page = manager.get(f"/gudang/opname/{doc_id}").text  # the approver sees the amounts and confirms them
    assert "Rp 56.000" in page and "Rp 36.000" in page
    unconfirmed = post(manager, f"/gudang/opname/{doc_id}/setujui", {"surplus": "36000", "shortage": "56000"})
    assert unconfirmed.status_code == 400
    stale = post(manager, f"/gudang/opname/{doc_id}/setujui", {"surplus": "36000", "shortage": "1", "confirm": "1"})
    assert stale.status_code == 409  # not the amounts the books hold now
    assert books(wh)[0] == before
    response = post(manager, f"/gudang/opname/{doc_id}/setujui", {"surplus": "36000", "shortage": "56000",
                                                                  "confirm": "1"})
    assert doc_id_from(response) == doc_id
    assert on_hand(wh, "BRS-PREMIUM", "GD-GUDANG") == Decimal(735)
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "FOUND1") == Decimal(90)
    with ctx(wh):
        document = db.session.get(StockDocument, doc_id)
        assert (document.status, document.approved_by, document.total) == ("approved", "manajer", -20_000)
        assert stock.check_drift() == []
    totals, balanced = books(wh)
    assert balanced
    assert totals["persediaan:GUDANG"] == before["persediaan:GUDANG"] - 20_000
    assert totals["selisih_persediaan"] == 56_000 and totals["pendapatan_selisih_persediaan"] == -36_000
    page = manager.get(f"/gudang/dokumen/{doc_id}").text
    assert page.count("data-entry=") == 2 and 'data-total="-20000"' in page
    assert 'data-line="BRS-PREMIUM" data-lot="" data-quantity="-4" data-value="-56000"' in page
    assert 'data-line="OBT-PCT500" data-lot="FOUND1" data-quantity="90" data-value="36000"' in page
    assert post(manager, f"/gudang/opname/{doc_id}/setujui", {}).status_code == 409  # approved once


# --- write-off and return to supplier -----------------------------------------------------------


def test_a_write_off_requires_a_reason_and_posts(wh, today):
    receive(wh, "INV-WO", [("OBT-PCT500", "box", 1, 40_000, "RUSAK1", today + dt.timedelta(days=200))])
    gudang = client_for(wh, "gudang")
    assert gudang.get("/gudang/pemusnahan").status_code == 200
    before = counts(wh)
    lines = [{"sku": "OBT-PCT500", "unit": "strip", "qty": "2", "batch": "RUSAK1"}]
    no_reason = post(gudang, "/gudang/pemusnahan", lines_form(lines, location="GD-GUDANG", reason=" "))
    assert no_reason.status_code == 400 and 'name="qty_0" value="2"' in no_reason.text
    no_batch = post(gudang, "/gudang/pemusnahan", lines_form(
        [{"sku": "OBT-PCT500", "unit": "strip", "qty": "2"}], location="GD-GUDANG", reason="basah"))
    assert no_batch.status_code == 400 and '<option value="RUSAK1"' in no_batch.text
    assert counts(wh) == before
    checked = post(gudang, "/gudang/pemusnahan", lines_form(lines, location="GD-GUDANG", reason="basah", preview="1"))
    assert checked.status_code == 200 and "data-checked" in checked.text and counts(wh) == before
    doc_id = doc_id_from(post(gudang, "/gudang/pemusnahan", lines_form(lines, location="GD-GUDANG",
                                                                       reason="Kemasan basah kena bocor")))
    assert on_hand(wh, "OBT-PCT500", "GD-GUDANG", "RUSAK1") == Decimal(80)
    with ctx(wh):
        document = db.session.get(StockDocument, doc_id)
        assert (document.kind, document.total, document.reason) == ("write_off", 8_000, "Kemasan basah kena bocor")
    totals, balanced = books(wh)
    assert balanced and totals["persediaan_rusak"] == 8_000 and totals["persediaan:GUDANG"] == 32_000


def test_a_return_to_the_supplier_reduces_stock_and_the_payable(wh, today):
    receive(wh, "INV-RT", [("BRS-PREMIUM", "karung 25 kg", 2, 350_000, "", None)], supplier="SPB")
    gudang = client_for(wh, "gudang")
    assert gudang.get("/gudang/retur-pemasok").status_code == 200
    lines = [{"sku": "BRS-PREMIUM", "qty": "10"}]
    before = counts(wh)
    no_supplier = post(gudang, "/gudang/retur-pemasok", lines_form(lines, location="GD-GUDANG", reason="kutu"))
    assert no_supplier.status_code == 400 and counts(wh) == before
    too_much = post(gudang, "/gudang/retur-pemasok", lines_form([{"sku": "BRS-PREMIUM", "qty": "51"}],
                                                                 supplier="SPB", location="GD-GUDANG"))
    assert too_much.status_code == 409 and counts(wh) == before
    doc_id = doc_id_from(post(gudang, "/gudang/retur-pemasok", lines_form(
        lines, supplier="SPB", location="GD-GUDANG", reason="Berkutu", date=today.isoformat())))
    assert on_hand(wh, "BRS-PREMIUM", "GD-GUDANG") == Decimal(40)
    with ctx(wh):
        document = db.session.get(StockDocument, doc_id)
        assert (document.kind, document.total, document.supplier.code) == ("supplier_return", 140_000, "SPB")
    totals, balanced = books(wh)
    assert balanced and totals["utang_usaha"] == -560_000 and totals["persediaan:GUDANG"] == 560_000


# --- who may ------------------------------------------------------------------------------------

POSTS = ("/gudang/penerimaan", "/gudang/mutasi", "/gudang/dokumen/1/terima", "/gudang/opname",
         "/gudang/opname/1/hitung", "/gudang/opname/1/setujui", "/gudang/pemusnahan", "/gudang/retur-pemasok")


@pytest.mark.parametrize("role", ["kasir", "pengawas"])
def test_kasir_and_pengawas_get_403_on_every_post(wh, today, role):
    receive(wh, "INV-P", [("MIE-GORENG", "pcs", 10, 3_000, "", None)], supplier="SPB")
    with ctx(wh):
        doc_id = db.session.scalar(sa.select(StockDocument.id))
    client = client_for(wh, role)
    before = counts(wh)
    for path in POSTS:
        response = post(client, path, {"location": "GD-GUDANG", "supplier": "SPB", "invoice": "Z",
                                       "sku_0": "MIE-GORENG", "qty_0": "1", "cost_0": "1", "reason": "x",
                                       "from": "GD-GUDANG", "to": "TK-TOKO"})
        assert response.status_code == 403, path
    assert counts(wh) == before
    for path in ("/gudang/", "/gudang/penerimaan", "/gudang/mutasi", "/gudang/pemusnahan", "/gudang/retur-pemasok"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/gudang/dokumen/{doc_id}").status_code == (403 if role == "kasir" else 200)


def test_unknown_documents_are_404(wh):
    gudang = client_for(wh, "gudang")
    assert gudang.get("/gudang/dokumen/999").status_code == 404
    assert gudang.get("/gudang/opname/999").status_code == 404
    assert post(gudang, "/gudang/dokumen/999/terima", {}).status_code == 404


def test_units_resolve_to_the_products_own(wh, today):
    with ctx(wh):
        names = set(db.session.scalars(sa.select(ProductUnit.name)))
    assert {"karung 25 kg", "dus 40", "strip", "box"} <= names
    gudang = client_for(wh, "gudang")
    wrong = post(gudang, "/gudang/penerimaan", receipt_form("INV-U", [
        {"sku": "MIE-GORENG", "unit": "karung 25 kg", "qty": "1", "cost": "1.000"}], supplier="SPB", date=today))
    assert wrong.status_code == 400
    assert '<select name="unit_0"' in wrong.text and '<option value="dus 40"' in wrong.text
