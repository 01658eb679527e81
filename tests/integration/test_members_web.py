"""The members area over HTTP: registration, the savings desk, slips, NIK masking, statements, arrears, access.

Assertions rest on status codes, numbers and data attributes, or on English text after switching the user's
language to English, so they keep passing once the Indonesian translations are added.
"""

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from flask import g, has_app_context

from ledger import journal
from ledger import members as service
from ledger.models import JournalEntry, Member, MemberStatus, SavingsKind, Slip, SlipKind
from ledger.posting_rules import Payments, SaleSummary, sale_entry
from pos.db import db, write_transaction
from pos.models import AuditEntry
from tests.conftest import FormClient, csrf_token

NIK = "6371021508850001"  # Banjarmasin, born 15 Aug 1985
NIK_WOMAN = "6371025508850002"  # day + 40: a woman born 15 Aug 1985
WAJIB = 20_000
POKOK = 100_000


def today() -> dt.date:
    from pos.web.members import _today

    return _today()


def month(date: dt.date, back: int = 0) -> dt.date:
    """The first day of the month `back` months before `date`'s."""
    index = date.year * 12 + date.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def counts() -> tuple[int, int, int]:
    db.session.rollback()  # see what the requests committed, not a stale snapshot
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Member)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Slip)),
        db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)),
    )


def add_member(name: str = "Siti Aminah", nik: str = NIK, join_date: dt.date | None = None, **extra) -> str:
    with write_transaction():
        member = service.register_member(
            service.MemberInput(name=name, nik=nik, join_date=join_date or today(), **extra), None, author_name="test"
        )
        return member.number


def give_kasbon(number: str, amount: int) -> None:
    """A shop sale paid on kasbon: the member owes `amount`."""
    with write_transaction():
        member = service.member_by_number(number)
        journal.post(
            sale_entry(
                SaleSummary(
                    sale_id=f"test-{number}-{amount}",
                    number=f"TK/{amount}",
                    date=today(),
                    unit="TOKO",
                    cash_account="kas:TK",
                    revenue=amount,
                    ppn=0,
                    cost=0,
                    payments=Payments(kasbon=amount),
                    member_id=member.id,
                )
            ),
            None,
            author_name="test",
        )


class FreshRequestClient(FormClient):
    """A test client whose every request starts with an empty `g`, as in production.

    The `books` fixture keeps an app context pushed and Flask reuses it for each test request, so `g` would
    outlive a request: Flask-WTF's cached CSRF token (stale once signing in renews the session) and
    Flask-Babel's cached locale (switching to English would never take effect) among others.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(books):
    """Overrides the shared `client` (and so the one `signed_in` uses) for this module."""
    books.test_client_class = FreshRequestClient
    return books.test_client()


def english(client) -> None:
    response = post(client, "/language", locale="en")
    assert response.status_code == 302


def post(client, path: str, **form):
    return client.post(path, data={**form, "csrf_token": csrf_token(client)})


def balance_attr(html: str, kind: str) -> int:
    match = re.search(rf'data-kind="{kind}" data-balance="(-?\d+)"', html)
    assert match, f"no balance for {kind}"
    return int(match.group(1))


def registration(**overrides) -> dict:
    form = {
        "name": "Siti Aminah",
        "nik": NIK,
        "address": "Jl. Kelayan A Gg. Mawar No. 3",
        "rt": "5",
        "rw": "2",
        "kelurahan": "Kelayan Timur",
        "phone": "0812-3456-7890",
        "join_date": today().isoformat(),
    }
    form.update(overrides)
    return form


# --- registration -------------------------------------------------------------------------------


def test_a_manager_registers_a_member_who_pays_the_simpanan_pokok(books, signed_in, client):
    signed_in("manajer")
    form_page = client.get("/anggota/baru")
    assert form_page.status_code == 200 and 'name="nik"' in form_page.text
    assert f'value="{today().isoformat()}"' in form_page.text  # join date defaults to today

    response = post(client, "/anggota/baru", **registration())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/anggota/AGT-00001")

    page = client.get("/anggota/AGT-00001")
    assert page.status_code == 200
    assert 'data-member="AGT-00001"' in page.text and "Siti Aminah" in page.text
    assert balance_attr(page.text, "pokok") == POKOK
    assert 'data-savings-total="100000"' in page.text

    member = service.member_by_number("AGT-00001")
    assert (member.rt, member.rw, member.phone, member.join_date) == ("005", "002", "081234567890", today())
    slip = db.session.scalar(sa.select(Slip).where(Slip.member_id == member.id))
    assert (slip.kind, slip.savings_kind, slip.amount, slip.created_by) == (
        SlipKind.DEPOSIT,
        SavingsKind.POKOK,
        POKOK,
        "manajer",
    )
    assert slip.entry.author_name == "manajer"
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.registered")).actor_name == (
        "manajer"
    )
    assert f'href="/anggota/slip/{slip.id}"' in page.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nik": "12345"}, "A NIK is 16 digits."),
        ({"nik": "6371029908850001"}, "This NIK holds no valid birth date (digits 7 to 12)."),
        ({"name": "   "}, "The name is required"),
        ({"phone": "12345"}, "A phone number looks like 0812 3456 7890."),
        ({"rt": "1234"}, "RT and RW are numbers of up to three digits."),
        ({"join_date": "31-02-2026"}, "is not a date: write it as dd/mm/yyyy"),
        ({"join_date": "2999-01-01"}, "is out of range"),
        ({"join_date": "01/01/2099"}, "is in the future."),
    ],
)
def test_bad_registrations_get_400_keep_the_form_and_create_nothing(books, signed_in, client, overrides, message):
    signed_in("manajer")
    english(client)
    before = counts()
    response = post(client, "/anggota/baru", **registration(**overrides))
    assert response.status_code == 400
    assert message in response.text
    assert 'value="Kelayan Timur"' in response.text  # what was typed is kept
    assert counts() == before


def test_a_nik_is_registered_once(books, signed_in, client):
    signed_in("manajer")
    english(client)
    assert post(client, "/anggota/baru", **registration()).status_code == 302
    before = counts()
    again = post(client, "/anggota/baru", **registration(name="Someone Else", nik="6371 0215 0885 0001"))
    assert again.status_code == 400
    assert "A member with this NIK is already registered." in again.text
    assert counts() == before == (1, 1, 1)


# --- the savings desk ---------------------------------------------------------------------------


def test_deposits_of_each_kind(books, signed_in, client):
    number = add_member(join_date=month(today(), 2))
    signed_in("kasir")
    english(client)
    before = counts()

    period = month(today(), 2).strftime("%Y-%m")
    assert post(client, f"/anggota/{number}/setor", kind="wajib", amount="20.000", period=period).status_code == 302
    assert post(client, f"/anggota/{number}/setor", kind="sukarela", amount="Rp 50.000").status_code == 302
    page = client.get(f"/anggota/{number}")
    assert [balance_attr(page.text, kind) for kind in ("pokok", "wajib", "sukarela")] == [POKOK, WAJIB, 50_000]
    assert 'data-savings-total="170000"' in page.text
    assert 'data-arrears-months="2"' in page.text  # the two later months are still due
    assert counts() == (before[0], before[1] + 2, before[2] + 2)

    refused = [
        ({"kind": "wajib", "amount": "20.000", "period": period}, f"Simpanan wajib for {period} is already paid."),
        ({"kind": "wajib", "amount": "25.000", "period": month(today(), 1).strftime("%Y-%m")}, "a month."),
        ({"kind": "wajib", "amount": "20.000", "period": "2026-13"}, "Write the month as YYYY-MM"),
        ({"kind": "pokok", "amount": "100.000"}, "Simpanan pokok is paid once"),
        ({"kind": "sukarela", "amount": "abc"}, "is not a number"),
        ({"kind": "sukarela", "amount": "0"}, "The amount must be more than zero."),
        ({"kind": "sukarela", "amount": "1.000,50"}, "whole rupiah"),
        ({"kind": "emas", "amount": "1.000"}, "Choose simpanan pokok, wajib or sukarela."),
        ({"kind": "sukarela", "amount": "1.000", "date": "2999-01-01"}, "is out of range"),
        ({"kind": "sukarela", "amount": "1.000", "date": "01/01/2099"}, "is in the future."),
        ({"kind": "sukarela", "amount": "1,000"}, "thousands with a dot"),
        ({"kind": "wajib", "amount": "20.000", "period": "9999-01"}, "YYYY-MM"),
    ]
    for form, message in refused:
        response = post(client, f"/anggota/{number}/setor", **form)
        assert response.status_code == 400, form
        assert message in response.text, form
        assert 'data-member="' + number + '"' in response.text  # the member page again
    assert counts() == (before[0], before[1] + 2, before[2] + 2)


def test_a_withdrawal_beyond_the_balance_is_refused_and_nothing_changes(books, signed_in, client):
    number = add_member()
    signed_in("kasir")
    english(client)
    assert post(client, f"/anggota/{number}/setor", kind="sukarela", amount="50.000").status_code == 302
    before = counts()

    refused = post(client, f"/anggota/{number}/tarik", amount="60.000")
    assert refused.status_code == 400
    assert "Not enough simpanan sukarela: the balance is Rp 50.000." in refused.text
    assert balance_attr(refused.text, "sukarela") == 50_000
    assert 'value="60.000"' in refused.text  # the form keeps what was typed
    assert counts() == before

    done = post(client, f"/anggota/{number}/tarik", amount="20.000")
    assert done.status_code == 302
    slip = db.session.scalar(sa.select(Slip).order_by(Slip.id.desc()))
    assert done.headers["Location"].endswith(f"/anggota/slip/{slip.id}")
    assert (slip.kind, slip.amount, slip.created_by) == (SlipKind.WITHDRAWAL, 20_000, "kasir")
    assert service.savings_balance(slip.member_id, SavingsKind.SUKARELA) == 30_000


def test_the_slip_page_shows_the_amount_in_rupiah_and_what_is_left(books, signed_in, client):
    number = add_member()
    signed_in("kasir")
    post(client, f"/anggota/{number}/setor", kind="sukarela", amount="50.000")
    post(client, f"/anggota/{number}/setor", kind="sukarela", amount="10.000")
    withdrawal = post(client, f"/anggota/{number}/tarik", amount="20.000")
    page = client.get(withdrawal.headers["Location"])
    assert page.status_code == 200
    slip = db.session.scalar(sa.select(Slip).order_by(Slip.id.desc()))
    assert "Rp 20.000" in page.text
    assert 'data-amount="20000"' in page.text and 'data-balance-after="40000"' in page.text
    assert slip.number in page.text and slip.entry.number in page.text
    assert number in page.text and "Siti Aminah" in page.text
    assert books.config["KASIR"]["cooperative_name"] in page.text
    assert "Siti Rahmah" in page.text  # who served: the cashier's full name
    assert "/static/css/print.css" in page.text

    # A reprint of an earlier slip shows the balance it left then, not today's.
    first = db.session.scalar(
        sa.select(Slip).where(Slip.savings_kind == SavingsKind.SUKARELA).order_by(Slip.id).limit(1)
    )
    assert 'data-balance-after="50000"' in client.get(f"/anggota/slip/{first.id}").text
    assert client.get("/anggota/slip/99999").status_code == 404


def test_kasbon_is_repaid_at_the_desk_never_beyond_what_is_owed(books, signed_in, client):
    number = add_member()
    give_kasbon(number, 30_000)
    signed_in("kasir")
    english(client)
    page = client.get(f"/anggota/{number}")
    assert 'data-kasbon-owed="30000"' in page.text
    assert 'data-kasbon-limit="50000"' in page.text and 'data-kasbon-available="20000"' in page.text
    before = counts()

    refused = post(client, f"/anggota/{number}/angsur-kasbon", amount="40.000")
    assert refused.status_code == 400
    assert "The member owes Rp 30.000 on kasbon; the repayment is larger." in refused.text
    assert counts() == before

    done = post(client, f"/anggota/{number}/angsur-kasbon", amount="10.000")
    assert done.status_code == 302
    slip_page = client.get(done.headers["Location"])
    assert 'data-balance-after="20000"' in slip_page.text and "Rp 10.000" in slip_page.text
    assert 'data-kasbon-owed="20000"' in client.get(f"/anggota/{number}").text


def test_a_member_leaves_only_without_kasbon_and_then_the_desk_refuses_them(books, signed_in, client):
    number = add_member()
    give_kasbon(number, 15_000)
    signed_in("pengurus")
    english(client)
    today_text = today().isoformat()

    unconfirmed = post(client, f"/anggota/{number}/keluar", date=today_text)
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    owing = post(client, f"/anggota/{number}/keluar", date=today_text, confirm="1")
    assert owing.status_code == 400 and "still owes kasbon" in owing.text
    assert service.member_by_number(number).status == MemberStatus.ACTIVE

    assert post(client, f"/anggota/{number}/angsur-kasbon", amount="15.000").status_code == 302
    left = post(client, f"/anggota/{number}/keluar", date=today_text, confirm="1")
    assert left.status_code == 302 and "/anggota/slip/" in left.headers["Location"]  # the payout slip
    db.session.rollback()
    member = service.member_by_number(number)
    assert (member.status, member.left_date) == (MemberStatus.LEFT, today())

    page = client.get(f"/anggota/{number}")
    assert 'data-status="left"' in page.text
    assert f"/anggota/{number}/setor" not in page.text and f"/anggota/{number}/keluar" not in page.text
    refused = post(client, f"/anggota/{number}/setor", kind="sukarela", amount="5.000")
    assert refused.status_code == 400 and "is no longer an active member" in refused.text


def test_unknown_members_are_404(books, signed_in, client):
    signed_in("kasir")
    assert client.get("/anggota/AGT-99999").status_code == 404
    assert post(client, "/anggota/AGT-99999/setor", kind="sukarela", amount="1.000").status_code == 404
    assert client.get("/anggota/AGT-99999/kartu").status_code == 404
    assert client.get("/anggota/AGT-99999/laporan").status_code == 404


# --- who may do what ----------------------------------------------------------------------------


def test_a_cashier_takes_deposits_but_does_not_register_members(books, signed_in, client):
    number = add_member()
    signed_in("kasir")
    assert client.get("/anggota/baru").status_code == 403
    assert post(client, "/anggota/baru", **registration(nik=NIK_WOMAN)).status_code == 403
    assert post(client, f"/anggota/{number}/keluar", confirm="1").status_code == 403
    page = client.get(f"/anggota/{number}")
    assert page.status_code == 200
    assert f"/anggota/{number}/setor" in page.text and f"/anggota/{number}/keluar" not in page.text
    assert "/anggota/baru" not in client.get("/anggota/").text
    assert post(client, f"/anggota/{number}/setor", kind="sukarela", amount="5.000").status_code == 302
    assert counts()[0] == 1


def test_the_supervisor_reads_everything_and_changes_nothing(books, signed_in, client):
    number = add_member()
    slip_id = db.session.scalar(sa.select(Slip.id))
    signed_in("pengawas")
    for path in (
        "/anggota/",
        f"/anggota/{number}",
        f"/anggota/slip/{slip_id}",
        f"/anggota/{number}/kartu",
        f"/anggota/{number}/laporan",
        f"/anggota/{number}/laporan?format=csv",
        "/anggota/tunggakan",
        "/anggota/tunggakan?format=xlsx",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/anggota/baru").status_code == 403
    page = client.get(f"/anggota/{number}").text
    assert "/setor" not in page and "/tarik" not in page and "/angsur-kasbon" not in page and "/keluar" not in page
    before = counts()
    for path, form in (
        ("/anggota/baru", registration(nik=NIK_WOMAN)),
        (f"/anggota/{number}/setor", {"kind": "sukarela", "amount": "5.000"}),
        (f"/anggota/{number}/tarik", {"amount": "1"}),
        (f"/anggota/{number}/angsur-kasbon", {"amount": "1"}),
        (f"/anggota/{number}/keluar", {"confirm": "1"}),
    ):
        assert post(client, path, **form).status_code == 403, path
    assert counts() == before


def test_the_nik_is_masked_except_for_the_board(books, signed_in, client):
    number = add_member()
    masked = service.mask_nik(NIK)
    assert masked == "637102******0001"
    signed_in("manajer")
    for path in ("/anggota/", f"/anggota/{number}"):
        text = client.get(path).text
        assert masked in text and NIK not in text, path
    assert 'data-member="' not in client.get(f"/anggota/?q={NIK}").text  # no probing by NIK either

    signed_in("pengurus")
    for path in ("/anggota/", f"/anggota/{number}"):
        assert f'data-nik="{NIK}"' in client.get(path).text, path
    assert f'data-member="{number}"' in client.get(f"/anggota/?q={NIK}").text


def test_members_are_found_by_number_name_or_phone_and_paged(books, signed_in, client):
    first = add_member("Siti Aminah", NIK, phone="081234567890")
    second = add_member("Budi Santoso", "6371020101900003", phone="+6285211112222")
    signed_in("apoteker")
    found = lambda q: re.findall(r'<tr data-member="([^"]+)"', client.get("/anggota/", query_string={"q": q}).text)  # noqa: E731
    assert found("") == [first, second]
    assert found("aminah") == [first]
    assert found("AGT-00002") == [second]
    assert found("agt-00002") == [second]
    assert found("0812-3456") == [first]
    assert found("0852 1111") == [second]
    assert found("%") == [] and found("_") == []
    assert found("nobody") == []
    assert 'data-status="active"' in client.get("/anggota/").text
    assert re.findall(r'<tr data-member="([^"]+)"', client.get("/anggota/?status=left").text) == []

    with write_transaction():
        for i in range(51):
            service.register_member(
                service.MemberInput(name=f"Anggota {i:02d}", nik=f"63710201019{i:02d}004", join_date=today()),
                None,
                pay_pokok=False,
                author_name="test",
            )
    first_page = client.get("/anggota/").text
    assert len(re.findall(r'<tr data-member="', first_page)) == 50
    assert 'rel="prev"' not in first_page and 'data-total="53"' in first_page
    next_link = re.search(r'<a href="([^"]+)" rel="next"', first_page).group(1).replace("&amp;", "&")
    assert "setelah=" in next_link
    second_page = client.get(next_link).text
    assert len(re.findall(r'<tr data-member="', second_page)) == 3 and 'rel="next"' not in second_page
    assert "51–53 of 53" in second_page or "51–53 dari 53" in second_page
    prev_link = re.search(r'<a href="([^"]+)" rel="prev"', second_page).group(1).replace("&amp;", "&")
    assert re.findall(r'<tr data-member="([^"]+)"', client.get(prev_link).text) \
        == re.findall(r'<tr data-member="([^"]+)"', first_page)
    # the filter stays in the links
    left_page = client.get("/anggota/?status=active").text
    assert "status=active" in re.search(r'<a href="([^"]+)" rel="next"', left_page).group(1)


# --- card, statement, arrears -------------------------------------------------------------------


def test_the_member_card_carries_the_barcode_inline(books, signed_in, client):
    number = add_member(kelurahan="Kelayan Timur", rt="5", rw="2")
    signed_in("kasir")
    page = client.get(f"/anggota/{number}/kartu")
    assert page.status_code == 200
    assert re.search(r'<img class="barcode" src="data:image/png;base64,[A-Za-z0-9+/=]+"', page.text)
    assert number in page.text and "Kelayan Timur" in page.text and "RT 005/RW 002" in page.text
    assert books.config["KASIR"]["cooperative_name"] in page.text
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]


def statement_rows(number: str, client, **args) -> list[list[str]]:
    response = client.get(f"/anggota/{number}/laporan", query_string={**args, "format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert number in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_member_statement_on_screen_and_as_csv_and_xlsx(books, signed_in, client):
    from openpyxl import load_workbook

    number = add_member(join_date=month(today(), 1))
    give_kasbon(number, 12_500)
    signed_in("kasir")
    post(client, f"/anggota/{number}/setor", kind="sukarela", amount="50.000", date=month(today(), 1).isoformat())
    post(client, f"/anggota/{number}/tarik", amount="5.000")

    page = client.get(f"/anggota/{number}/laporan")
    assert page.status_code == 200
    assert 'data-account="pokok"' in page.text and 'data-closing="45000"' in page.text
    assert 'data-purchases-total="12500"' in page.text
    assert f'value="{dt.date(today().year, 1, 1).isoformat()}"' in page.text  # default: 1 January to today

    rows = statement_rows(number, client)
    assert len(rows[0]) == 7
    closing = [row for row in rows if row[6] == "45000"]
    assert closing and closing[-1][1] == today().isoformat()
    assert any(row[4] == "12500" and "TK/12500" in row[3] for row in rows)  # the kasbon purchase

    # A period after the deposit opens with it: opening rows are dated the first day, with the balance then.
    later = statement_rows(number, client, dari=today().isoformat(), sampai=today().isoformat())
    dated_balances = [(row[1], row[6]) for row in later[1:]]
    assert (today().isoformat(), "50000") in dated_balances  # sukarela before today's withdrawal
    assert (today().isoformat(), str(POKOK)) in dated_balances

    response = client.get(f"/anggota/{number}/laporan", query_string={"format": "xlsx"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.search(rf'filename="laporan-anggota-{number}-[0-9-]+\.xlsx"', response.headers["Content-Disposition"])
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert POKOK in [row[6] for row in values[1:]]
    assert 45_000 in [row[6] for row in values[1:]]
    assert 12_500 in [row[4] for row in values[1:]]


@pytest.mark.parametrize(
    "args",
    [{"dari": "2026-13-01"}, {"sampai": "kemarin"}, {"dari": "2026-11-02", "sampai": "2026-11-01"}],
)
def test_a_statement_with_bad_dates_is_400(books, signed_in, client, args):
    number = add_member()
    signed_in("manajer")
    english(client)
    response = client.get(f"/anggota/{number}/laporan", query_string=args)
    assert response.status_code == 400
    assert "is not a date" in response.text or "The period ends before it starts." in response.text
    assert client.get(f"/anggota/{number}/laporan", query_string={**args, "format": "csv"}).status_code == 400


def test_the_arrears_list_and_its_downloads(books, signed_in, client):
    from openpyxl import load_workbook

    behind = add_member("Siti Aminah", NIK, join_date=month(today(), 2))
    paid_up = add_member("Budi Santoso", "6371020101900003", join_date=today())
    signed_in("kasir")
    post(client, f"/anggota/{behind}/setor", kind="wajib", amount="20.000", period=month(today(), 2).strftime("%Y-%m"))
    post(client, f"/anggota/{paid_up}/setor", kind="wajib", amount="20.000", period=today().strftime("%Y-%m"))

    page = client.get("/anggota/tunggakan")
    assert page.status_code == 200
    assert f'data-member="{behind}" data-months="2" data-amount="40000"' in page.text
    assert f'data-member="{paid_up}"' not in page.text
    assert 'data-total="40000"' in page.text
    assert month(today(), 1).strftime("%Y-%m") in page.text and today().strftime("%Y-%m") in page.text

    response = client.get("/anggota/tunggakan?format=csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1][0] == behind and rows[1][2] == "2" and rows[1][4] == "40000"
    assert rows[-1][4] == "40000"

    sheet = load_workbook(io.BytesIO(client.get("/anggota/tunggakan?format=xlsx").data)).active
    assert sheet.cell(row=2, column=1).value == behind and sheet.cell(row=2, column=5).value == 40_000
