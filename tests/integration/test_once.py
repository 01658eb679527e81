"""Every form that moves money or stock takes effect once (SQLite and PostgreSQL): the same savings deposit,
withdrawal or kasbon repayment sent twice at once, or again after it was saved, makes one slip, and the second
answer shows the first result."""

import threading

import sqlalchemy as sa

from ledger import members as service
from ledger.models import JournalEntry, SavingsKind, Slip
from pos.db import db, write_transaction
from tests.conftest import FormClient, csrf_from, sign_in

TOKEN = "same-form-token-000000000001"


def member_with_savings(app) -> str:
    with app.app_context():
        import datetime as dt

        from ledger.members import local_today

        with write_transaction():
            member = service.register_member(service.MemberInput(
                name="Siti Aminah", nik="6371025508850002", join_date=local_today() - dt.timedelta(days=40)),
                None, author_name="test")
            service.deposit(member, SavingsKind.SUKARELA, 500_000, local_today(), None, author_name="test")
            number = member.number
        db.session.remove()
    return number


def signed_in_client(app) -> tuple[FormClient, str]:
    client = app.test_client()
    assert sign_in(client, "manajer").status_code == 302
    return client, csrf_from(client.get("/anggota/").text)


def counts(app) -> tuple[int, int]:
    with app.app_context():
        result = (db.session.scalar(sa.select(sa.func.count()).select_from(Slip)),
                  db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)))
        db.session.remove()
    return result


def test_the_same_form_sent_twice_at_once_makes_one_slip(books_app):
    number = member_with_savings(books_app)
    forms = {"setor": {"kind": "sukarela", "amount": "25.000"}, "tarik": {"amount": "10.000"}}
    for action, fields in forms.items():
        before = counts(books_app)
        clients = [signed_in_client(books_app) for _ in range(3)]
        start = threading.Barrier(len(clients))
        answers = [None] * len(clients)

        def send(i, client, csrf, action=action, fields=fields, start=start, answers=answers):
            start.wait(timeout=30)
            answers[i] = client.post(f"/anggota/{number}/{action}",
                                     data={**fields, "csrf_token": csrf, "form_token": f"{TOKEN}-{action}"})

        threads = [threading.Thread(target=send, args=(i, c, t)) for i, (c, t) in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(a.status_code for a in answers) == [302, 303, 303]  # saved once, twice shown the first
        locations = {a.headers["Location"] for a in answers}
        assert len(locations) == 1 and "/anggota/slip/" in locations.pop()  # all three shown the one slip
        after = counts(books_app)
        assert after == (before[0] + 1, before[1] + 1), action


def test_a_resent_form_shows_the_first_slip_and_changes_nothing(books_app):
    number = member_with_savings(books_app)
    client, csrf = signed_in_client(books_app)
    form = {"kind": "sukarela", "amount": "25.000", "csrf_token": csrf, "form_token": TOKEN}
    first = client.post(f"/anggota/{number}/setor", data=form)
    assert first.status_code == 302
    before = counts(books_app)
    again = client.post(f"/anggota/{number}/setor", data=form)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert counts(books_app) == before
    assert "sudah terkirim" in client.get(again.headers["Location"]).text
    # the button's form carries a fresh token each time the page is shown
    page = client.get(f"/anggota/{number}").text
    assert page.count('name="form_token"') >= 3


def test_a_form_without_its_token_is_refused_and_changes_nothing(books_app):
    number = member_with_savings(books_app)
    client, csrf = signed_in_client(books_app)
    before = counts(books_app)
    response = client.post(f"/anggota/{number}/setor", data={"kind": "sukarela", "amount": "25.000",
                                                              "csrf_token": csrf, "form_token": "x"})
    assert response.status_code == 400
    assert counts(books_app) == before


def test_ids_beyond_64_bits_are_not_found_and_a_too_deep_body_is_a_bad_request(client, signed_in):
    signed_in("manajer")
    for path in ("/gudang/dokumen/99999999999999999999", f"/gudang/dokumen/{2**63}", f"/buku/jurnal/{2**64}",
                 f"/anggota/slip/{10**30}"):
        assert client.get(path).status_code == 404, path
    deep = "[" * 50_000 + "]" * 50_000
    response = client.post("/api/v1/sales", data=deep, content_type="application/json")
    assert response.status_code == 400


def test_the_same_form_back_with_other_values_is_refused_not_shown_as_done(books_app):
    number = member_with_savings(books_app)
    client, csrf = signed_in_client(books_app)
    form = {"kind": "sukarela", "amount": "25.000", "csrf_token": csrf, "form_token": TOKEN + "-changed"}
    first = client.post(f"/anggota/{number}/setor", data=form)
    assert first.status_code == 302
    before = counts(books_app)
    changed = client.post(f"/anggota/{number}/setor", data={**form, "amount": "30.000"})
    assert changed.status_code == 409 and first.headers["Location"] in changed.text
    assert counts(books_app) == before
