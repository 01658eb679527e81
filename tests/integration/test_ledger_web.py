"""The books on screen: reports open per unit and consolidated, downloads, manual entries, reversals,
periods and SHU, each with the right role; bad input gets a clear error and changes nothing."""

import datetime as dt
import io
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from ledger import journal
from ledger.entries import EntryDraft, credit, debit
from ledger.models import Account, ClosedPeriod, JournalEntry
from pos.db import db, write_transaction
from tests.conftest import csrf_token

LAST_YEAR = dt.date.today().year - 1


@pytest.fixture
def books(books_app):
    """Test-client requests run in their own app contexts; database checks in `app_context()` blocks."""
    return books_app


def post(draft):
    with current_app_context():
        with write_transaction():
            return journal.post(draft, None, author_name="test").id


_APP = {}


@pytest.fixture(autouse=True)
def _remember_app(books_app):
    _APP["app"] = books_app


@contextmanager
def current_app_context():
    with _APP["app"].app_context():
        yield
        db.session.remove()


def scalar(query):
    with current_app_context():
        return db.session.scalar(query)


def some_books():
    post(EntryDraft(dt.date(LAST_YEAR, 3, 1), "Jual", "sale", "w1",
                    (debit("kas:TK", 250_000), credit("revenue:TOKO:non_anggota", 250_000)), unit="TOKO"))
    post(EntryDraft(dt.date(LAST_YEAR, 3, 2), "Obat", "sale", "w2",
                    (debit("kas:AP", 40_000), credit("revenue:APOTEK:non_anggota", 40_000)), unit="APOTEK"))


def test_every_report_opens_per_unit_and_consolidated(books, signed_in, client):
    some_books()
    signed_in("pengawas")
    span = f"dari={LAST_YEAR}-01-01&sampai={LAST_YEAR}-12-31"
    for unit in ("", "TOKO", "APOTEK", "GUDANG", "SP"):
        for path in ("/buku/jurnal", "/buku/neraca-saldo", "/buku/hasil-usaha", "/buku/buku-besar?akun=1-1101&x=1"):
            sep = "&" if "?" in path else "?"
            response = client.get(f"{path}{sep}{span}&unit={unit}")
            assert response.status_code == 200, (path, unit)
        assert client.get(f"/buku/posisi-keuangan?unit={unit}").status_code == 200
    page = client.get(f"/buku/hasil-usaha?{span}&unit=TOKO").text
    assert 'data-non-member-revenue="250000"' in page and 'data-surplus="250000"' in page
    assert 'data-balanced="yes"' in client.get(f"/buku/neraca-saldo?{span}").text
    for path in ("/buku/", "/buku/akun", "/buku/periode", "/buku/shu", f"/buku/jurnal/{1}"):
        assert client.get(path).status_code == 200, path


def test_reports_download_as_csv_and_xlsx(books, signed_in, client):
    some_books()
    signed_in("manajer")
    span = f"dari={LAST_YEAR}-01-01&sampai={LAST_YEAR}-12-31"
    csv = client.get(f"/buku/neraca-saldo?{span}&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert "Kas Toko Sembako Kelayan Timur" in csv.data.decode("utf-8-sig")
    xlsx = client.get(f"/buku/jurnal?{span}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Nomor" and 250_000 in [v for row in values for v in row]


def test_bad_report_input_gets_a_translated_400(books, signed_in, client):
    signed_in("pengurus")
    assert client.get("/buku/neraca-saldo?dari=kemarin").status_code == 400
    assert client.get("/buku/neraca-saldo?dari=2026-05-01&sampai=2026-01-01").status_code == 400
    assert client.get("/buku/neraca-saldo?unit=MARS").status_code == 400
    assert client.get("/buku/buku-besar?akun=9-9999").status_code == 400
    assert client.get("/buku/jurnal/999999").status_code == 404


def test_manual_entry_posts_once_and_refuses_unbalanced_input(books, signed_in, client):
    signed_in("pengurus")
    form_page = client.get("/buku/jurnal/baru").text
    request_id = re.search(r'name="request_id" value="([0-9a-f]+)"', form_page).group(1)
    form = {"csrf_token": csrf_token(client), "request_id": request_id, "date": dt.date.today().isoformat(),
            "unit": "SP", "description": "Biaya administrasi bank",
            "account_0": "6-9100", "debit_0": "15.000", "account_1": "1-1200", "credit_1": "15.000"}
    bad = client.post("/buku/jurnal/baru", data={**form, "credit_1": "14.000"})
    assert bad.status_code == 400
    assert scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 0
    for typed in ("abc", "1,5", "-5"):
        assert client.post("/buku/jurnal/baru", data={**form, "debit_0": typed}).status_code == 400
    first = client.post("/buku/jurnal/baru", data=form)
    again = client.post("/buku/jurnal/baru", data=form)  # a double click or a resubmit
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with current_app_context():
        entries = db.session.scalars(sa.select(JournalEntry)).all()
        assert len(entries) == 1 and entries[0].author_name == "pengurus"
        assert sorted((p.debit, p.credit) for p in entries[0].postings) == [(0, 15_000), (15_000, 0)]


def test_only_the_board_changes_the_books(books, signed_in, client):
    some_books()
    for role in ("manajer", "pengawas", "kasir"):
        signed_in(role)
        token = csrf_token(client)
        for path, form in (("/buku/jurnal/baru", {"request_id": "x"}), ("/buku/jurnal/1/balik", {"reason": "x"}),
                           ("/buku/akun", {"code": "6-2222", "name": "x"}), ("/buku/periode/tutup-bulan",
                                                                             {"month": "2020-01"})):
            assert client.post(path, data={**form, "csrf_token": token}).status_code == 403, (role, path)
    signed_in("kasir")
    assert client.get("/buku/").status_code == 403


def test_reversal_from_the_entry_page(books, signed_in, client):
    entry_id = post(EntryDraft(dt.date.today(), "Salah catat", "manual", "m1",
                               (debit("beban_atk", 50_000), credit("kas:SP", 50_000)), unit="SP"))
    signed_in("pengurus")
    refused = client.post(f"/buku/jurnal/{entry_id}/balik", data={"csrf_token": csrf_token(client), "reason": ""})
    assert refused.status_code == 400 and 'name="reason" required maxlength="200" value="" aria-invalid="true"' in \
        refused.text
    assert scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 1
    form = {"csrf_token": csrf_token(client), "reason": "dobel", "date": dt.date.today().isoformat(),
            "form_token": "reverse-once-000000001"}
    done = client.post(f"/buku/jurnal/{entry_id}/balik", data=form)
    assert done.status_code == 303
    again = client.post(f"/buku/jurnal/{entry_id}/balik", data=form)  # a double click: shown the first result
    assert again.status_code == 303 and again.headers["Location"] == done.headers["Location"]
    with current_app_context():
        reversal = db.session.scalar(sa.select(JournalEntry).where(JournalEntry.reverses_id == entry_id))
        assert reversal is not None and "dobel" in reversal.description


def test_accounts_are_added_renamed_deactivated_but_never_deleted_with_postings(books, signed_in, client):
    signed_in("pengurus")
    token = csrf_token(client)
    assert client.post("/buku/akun", data={"csrf_token": token, "code": "6-2100", "name": "Beban transport"}
                       ).status_code == 302
    assert client.post("/buku/akun", data={"csrf_token": token, "code": "62100", "name": "x"}).status_code == 400
    assert scalar(sa.select(Account).where(Account.code == "62100")) is None
    post(EntryDraft(dt.date.today(), "Ongkos", "manual", "t1", (debit("6-2100", 10_000), credit("kas:TK", 10_000)),
                    unit="TOKO"))
    client.post("/buku/akun/6-2100/nama", data={"csrf_token": token, "name": "Beban transportasi"})
    client.post("/buku/akun/6-2100/hapus", data={"csrf_token": token})
    account = scalar(sa.select(Account).where(Account.code == "6-2100"))
    assert account is not None and account.name == "Beban transportasi"
    client.post("/buku/akun/6-2100/status", data={"csrf_token": token, "active": "0"})
    assert not scalar(sa.select(Account).where(Account.code == "6-2100")).active
    # Accounts the posting rules rely on cannot be switched off.
    client.post("/buku/akun/1-1200/status", data={"csrf_token": token, "active": "0"})
    assert scalar(sa.select(Account).where(Account.key == "bank")).active


def test_closing_periods_and_the_shu_from_the_pages(books, signed_in, client):
    some_books()
    signed_in("pengurus")
    token = csrf_token(client)
    for month in ("2999-01", f"{dt.date.today():%Y-%m}", "bulan"):  # out of range, not ended, not a month
        refused = client.post("/buku/periode/tutup-bulan", data={"csrf_token": token, "month": month, "confirm": "1"})
        assert refused.status_code == 400, month
    assert scalar(sa.select(sa.func.count()).select_from(ClosedPeriod)) == 0
    unconfirmed = client.post("/buku/periode/tutup-tahun", data={"csrf_token": token, "year": str(LAST_YEAR)})
    assert unconfirmed.status_code == 400
    with current_app_context():
        assert not journal.year_is_closed(LAST_YEAR)
    page = client.get("/buku/periode").text
    assert f"Tutup tahun {LAST_YEAR}" in page and "Rp " in page  # what it locks and the result it posts
    closed = client.post("/buku/periode/tutup-tahun", data={"csrf_token": token, "year": str(LAST_YEAR),
                                                            "confirm": "1"})
    assert closed.status_code == 303
    with current_app_context():
        assert journal.year_is_closed(LAST_YEAR)
    bad = {k: "10" for k in ("cadangan", "jasa_anggota", "jasa_modal", "pengurus", "karyawan", "pendidikan",
                             "sosial", "pembangunan")}
    client.post("/buku/shu/alokasi", data={**bad, "csrf_token": token, "year": LAST_YEAR})
    from ledger import shu

    with current_app_context():
        assert shu.allocation() == shu.DEFAULT_ALLOCATION  # 80% was refused
    good = {**{k: "6" for k in bad}, "cadangan": "30", "jasa_anggota": "27,5", "jasa_modal": "12,5"}
    client.post("/buku/shu/alokasi", data={**good, "csrf_token": token, "year": LAST_YEAR})
    with current_app_context():
        assert shu.allocation()["jasa_anggota"] == 2750
    page = client.get(f"/buku/shu?tahun={LAST_YEAR}").text
    assert 'data-surplus="290000"' in page
    form = {"csrf_token": token, "year": LAST_YEAR, "date": dt.date.today().isoformat(), "to": "dana",
            "form_token": "shu-distribution-once-0001"}
    assert client.post("/buku/shu/bagikan", data=form).status_code == 400  # the amount was not confirmed
    assert "Rp 290.000" in client.get(f"/buku/shu?tahun={LAST_YEAR}").text
    response = client.post("/buku/shu/bagikan", data={**form, "confirm": "1"})
    assert response.status_code == 303
    again = client.post("/buku/shu/bagikan", data={**form, "confirm": "1"})  # the same form sent twice
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/buku/shu?tahun={LAST_YEAR}")
    with current_app_context():
        assert shu.compute(LAST_YEAR).distributed is not None
