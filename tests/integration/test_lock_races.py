"""The sign-in lock holds under parallel guesses (SQLite and PostgreSQL): a flood of PINs or passwords sent at once gets
at most `login_max_failures` of them checked, the right one sent along is refused once the lock is taken, a success
never clears a lock, and the till's unlock form lifts only PIN locks of cashiers at that till.

The threads are real requests through the app and the database; only the hash check is wrapped, to hold every checked
guess until all the others have been counted or refused, which makes the race as wide as it can get, every time."""

import threading

import pytest
import sqlalchemy as sa

from pos import auth
from pos.db import db
from pos.models import Approval, AuditEntry, LoginThrottle
from tests.conftest import csrf_token, sign_in

PARALLEL = 16
RIGHT_AT = 6  # the 7th guess is the right one, as in the report
TIMEOUT = 60
REAL_CHECK = auth.check_password_hash


class HashGate:
    """Wraps the hash check: counts the secrets checked and holds each until every request of the flood has either
    reached the check or got its answer, so no check can finish before all the guesses were counted."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.checked: list[str] = []
        self.answered = 0
        self.cond = threading.Condition()

    def check(self, stored: str, secret: str) -> bool:
        with self.cond:
            self.checked.append(secret)
            self.cond.notify_all()
            self.cond.wait_for(lambda: len(self.checked) + self.answered >= self.expected, timeout=TIMEOUT)
        return REAL_CHECK(stored, secret)

    def answer(self) -> None:
        with self.cond:
            self.answered += 1
            self.cond.notify_all()


class HoldOne:
    """Holds the check of one secret until released; every other secret is checked at once."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.reached = threading.Event()
        self.release = threading.Event()
        self.checked: list[str] = []

    def check(self, stored: str, secret: str) -> bool:
        self.checked.append(secret)
        if secret == self.secret:
            self.reached.set()
            self.release.wait(timeout=TIMEOUT)
        return REAL_CHECK(stored, secret)


def run_all(requests):
    """Send each request from its own thread at once; returns the responses in order."""
    results = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def runner(i, send):
        start.wait(timeout=TIMEOUT)
        results[i] = send()

    threads = [threading.Thread(target=runner, args=(i, send)) for i, send in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
        assert not thread.is_alive(), "a request hung"
    return results


def english(client):
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})


def bearer(runner, username):
    return {"Authorization": "Bearer " + runner.invoke(args=["user", "token", username]).output.strip()}


def till_form(client, till, username, pin):
    data = {"username": username, "pin": pin, "csrf_token": csrf_token(client)}
    return client.post(f"/kasir/{till}/masuk", data=data)


def unlock_form(client, till, username, manager, pin):
    data = {"username": username, "manager": manager, "manager_pin": pin, "csrf_token": csrf_token(client)}
    return client.post(f"/kasir/{till}/buka-kunci", data=data)


def login_form(client, username, password, token):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def throttle(app, name):
    with app.app_context():
        row = db.session.get(LoginThrottle, name)
        return (row.failures, row.locked_until is not None) if row else None


def locked(app, name):
    with app.app_context():
        return auth.is_locked(name)


def count(app, *where):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(*where))


def make_senders(kind, app, runner):
    """(name the guesses count against, right secret, a sender per guess) for each way a secret is checked."""
    wrong = [f"{9000 + i}" for i in range(PARALLEL)]
    if kind == "approval":
        headers = bearer(runner, "kasir")
        body = {"action": "no_sale", "approver": "manajer", "reason": "tukar uang"}
        secrets_ = wrong[:RIGHT_AT] + ["4444"] + wrong[RIGHT_AT + 1:]

        def sender(pin):
            client = app.test_client()
            return lambda: client.post("/api/v1/approvals", json={**body, "pin": pin}, headers=headers)

        return "manajer", "4444", [sender(pin) for pin in secrets_]
    if kind == "pin":
        secrets_ = wrong[:RIGHT_AT] + ["1111"] + wrong[RIGHT_AT + 1:]

        def sender(pin):
            client = app.test_client()
            token = csrf_token(client)
            data = {"username": "kasir", "pin": pin, "csrf_token": token}
            return lambda: client.post("/kasir/TK01/masuk", data=data)

        return "kasir", "1111", [sender(pin) for pin in secrets_]
    if kind == "password":
        secrets_ = [f"salah-{i}" for i in range(PARALLEL)]
        secrets_[RIGHT_AT] = "demo123"

        def sender(password):
            client = app.test_client()
            token = csrf_token(client)
            return lambda: login_form(client, "pengurus", password, token)

        return "pengurus", "demo123", [sender(pw) for pw in secrets_]
    # the till's unlock form: the manager's PIN is checked by verify_approver
    locker = app.test_client()
    for _ in range(5):
        till_form(locker, "TK01", "kasir", "0000")
    assert locked(app, "kasir")
    secrets_ = wrong[:RIGHT_AT] + ["4444"] + wrong[RIGHT_AT + 1:]

    def sender(pin):
        client = app.test_client()
        token = csrf_token(client)
        data = {"username": "kasir", "manager": "manajer", "manager_pin": pin, "csrf_token": token}
        return lambda: client.post("/kasir/TK01/buka-kunci", data=data)

    return "manajer", "4444", [sender(pin) for pin in secrets_]


SUCCESS = {"approval": 201, "pin": 302, "password": 302, "unlock": 302}


@pytest.mark.parametrize("kind", ["approval", "pin", "password", "unlock"])
def test_a_flood_of_guesses_gets_five_checked_and_the_right_one_refused(kind, demo_app, runner, monkeypatch):
    name, right, senders = make_senders(kind, demo_app, runner)
    gate = HashGate(len(senders))
    monkeypatch.setattr(auth, "check_password_hash", gate.check)

    def answered(send):
        def run():
            try:
                return send()
            finally:
                gate.answer()

        return run

    responses = run_all([answered(send) for send in senders])
    codes = [r.status_code for r in responses]
    limit = demo_app.config["KASIR"]["login_max_failures"]
    assert len(gate.checked) <= limit, (len(gate.checked), codes)
    assert SUCCESS[kind] not in codes, codes  # the right secret came with the flood: refused, never let in
    assert all(code in (401, 429) for code in codes), codes
    assert locked(demo_app, name)
    # The counter counted every attempt that got a slot, exactly once: the checked ones and the one that locked.
    assert throttle(demo_app, name) == (limit + 1, True)
    assert count(demo_app, AuditEntry.action == "login.failed", AuditEntry.actor_name == name) == len(gate.checked)
    assert count(demo_app, AuditEntry.action.like("approval.%")) == 0
    assert count(demo_app, AuditEntry.action.in_(("login.success", "till.cashier_switched", "login.unlocked"))) == 0
    if kind == "unlock":
        assert locked(demo_app, "kasir")
    # Afterwards the right secret alone is refused too: the lock holds until it ends or the board lifts it.
    monkeypatch.setattr(auth, "check_password_hash", REAL_CHECK)
    again = make_senders(kind, demo_app, runner)[2][RIGHT_AT]() if kind != "unlock" else unlock_form(
        demo_app.test_client(), "TK01", "kasir", "manajer", right)
    assert again.status_code == 429


def test_concurrent_wrong_guesses_of_many_names_are_each_counted_once(demo_app):
    """Below the limit nothing is refused, and no attempt is lost or counted twice (no read-modify-write)."""
    clients = []
    for name in ("kasir", "apoteker", "gudang"):
        for _ in range(4):
            client = demo_app.test_client()
            clients.append((client, csrf_token(client), name))
    run_all([lambda c=c, t=t, n=n: login_form(c, n, "salah", t) for c, t, n in clients])
    for name in ("kasir", "apoteker", "gudang"):
        assert throttle(demo_app, name) == (4, False)
    # One more wrong locks; the right one then is refused.
    client = demo_app.test_client()
    assert sign_in(client, "gudang", "salah").status_code == 429
    assert sign_in(client, "gudang").status_code == 429


@pytest.mark.parametrize("kind", ["approval", "pin", "password"])
def test_a_success_while_locked_is_refused_and_does_not_clear_the_lock(kind, demo_app, runner, monkeypatch):
    """The right secret is in its hash check when wrong guesses lock the name: it is refused, the lock stays."""
    name, right, senders = make_senders(kind, demo_app, runner)
    hold = HoldOne(right)
    monkeypatch.setattr(auth, "check_password_hash", hold.check)
    result = {}
    slow = threading.Thread(target=lambda: result.setdefault("response", senders[RIGHT_AT]()))
    slow.start()
    assert hold.reached.wait(timeout=TIMEOUT)
    codes = []
    for send in senders[:5]:
        codes.append(send().status_code)
        if codes[-1] == 429:
            break
    assert codes[-1] == 429 and locked(demo_app, name), codes
    hold.release.set()
    slow.join(timeout=TIMEOUT)
    assert result["response"].status_code == 429
    assert locked(demo_app, name)
    assert throttle(demo_app, name)[1]
    with demo_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Approval)) == 0
    assert count(demo_app, AuditEntry.action.in_(("login.success", "till.cashier_switched"))) == 0
    assert count(demo_app, AuditEntry.action == "login.failed", AuditEntry.actor_name == name) == len(hold.checked)


# --- the till's unlock form ---------------------------------------------------------------------------------------


def lock_by_pin(app, till, username):
    client = app.test_client()
    for _ in range(5):
        till_form(client, till, username, "0000")
    assert locked(app, username)


def lock_by_password(app, username, wrong=5):
    client = app.test_client()
    for _ in range(wrong):
        sign_in(client, username, "salah")


def refused(app, response, username, text):
    assert 400 <= response.status_code < 500, response.status_code
    assert text in response.text
    assert locked(app, username)
    assert count(app, AuditEntry.action == "login.unlocked") == 0


def test_the_unlock_form_lifts_a_pin_lock_of_a_cashier_at_that_till_only(demo_app):
    lock_by_pin(demo_app, "TK02", "kasir")
    manager = demo_app.test_client()
    english(manager)
    refused(demo_app, unlock_form(manager, "TK01", "kasir", "manajer", "4444"), "kasir", "at another till")
    response = unlock_form(manager, "TK02", "kasir", "manajer", "4444")
    assert response.status_code == 302
    assert not locked(demo_app, "kasir") and throttle(demo_app, "kasir") is None
    assert till_form(demo_app.test_client(), "TK02", "kasir", "1111").status_code == 302


def test_the_unlock_form_refuses_a_cashier_of_another_outlet(demo_app):
    lock_by_pin(demo_app, "AP01", "apoteker")
    manager = demo_app.test_client()
    english(manager)
    refused(demo_app, unlock_form(manager, "TK01", "apoteker", "manajer", "4444"), "apoteker", "another outlet")


def test_the_unlock_form_refuses_manager_and_board_accounts(demo_app):
    client = demo_app.test_client()
    english(client)
    text = "PIN lock can be lifted at the till; the board unlocks this account"
    lock_by_pin(demo_app, "TK01", "manajer")
    refused(demo_app, unlock_form(client, "TK01", "manajer", "pengurus", "5555"), "manajer", text)
    with demo_app.app_context():
        auth.unlock("manajer", actor=None)  # the board, on the Users page
    lock_by_password(demo_app, "pengurus")
    assert locked(demo_app, "pengurus")
    response = unlock_form(client, "TK01", "pengurus", "manajer", "4444")
    assert 400 <= response.status_code < 500 and text in response.text
    assert locked(demo_app, "pengurus")


def test_the_unlock_form_never_lifts_a_password_lock(demo_app):
    """Otherwise a manager's PIN would buy five more password guesses, again and again."""
    lock_by_password(demo_app, "kasir")
    assert locked(demo_app, "kasir")
    client = demo_app.test_client()
    english(client)
    text = "wrong passwords"
    refused(demo_app, unlock_form(client, "TK01", "kasir", "manajer", "4444"), "kasir", text)
    # Four wrong passwords and then one wrong PIN at this till: still a password lock.
    lock_by_password(demo_app, "apoteker", wrong=4)
    till_form(demo_app.test_client(), "AP01", "apoteker", "0000")
    assert locked(demo_app, "apoteker")
    refused(demo_app, unlock_form(client, "AP01", "apoteker", "manajer", "4444"), "apoteker", text)


def test_the_unlock_form_does_not_reset_a_counter_that_is_not_a_lock(demo_app):
    lock_by_password(demo_app, "kasir", wrong=4)
    client = demo_app.test_client()
    english(client)
    response = unlock_form(client, "TK01", "kasir", "manajer", "4444")
    assert response.status_code == 409 and "is not locked out" in response.text
    assert throttle(demo_app, "kasir") == (4, False)
    assert sign_in(demo_app.test_client(), "kasir", "salah").status_code == 429


def test_a_wrong_password_before_a_success_does_not_taint_a_later_pin_lock(demo_app):
    """The count is cleared by a success: only the failures since then make the lock."""
    client = demo_app.test_client()
    assert sign_in(client, "kasir", "salah").status_code == 401
    assert sign_in(client, "kasir").status_code == 302
    lock_by_pin(demo_app, "TK01", "kasir")
    manager = demo_app.test_client()
    english(manager)
    assert unlock_form(manager, "TK01", "kasir", "manajer", "4444").status_code == 302
    assert not locked(demo_app, "kasir")
    with demo_app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "approval.unlock"))
        assert (entry.actor_name, entry.approver_name, entry.target_id) == ("kasir", "manajer", "TK01")
