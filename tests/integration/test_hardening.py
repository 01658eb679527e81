"""Bad input and hostile requests: refused clearly, nothing changed, never a 500 (both databases)."""

import threading

import pytest
import sqlalchemy as sa

from config import SettingsError, load_settings
from pos import auth
from pos.db import db
from pos.errors import AuthenticationFailed
from pos.models import AuditEntry, LoginThrottle, User, UserSession
from tests.conftest import csrf_token, sign_in


def test_nul_bytes_are_refused_everywhere_with_400(client, demo_app):
    token = csrf_token(client)
    assert (
        client.post("/login", data={"username": "kasir\x00", "password": "x", "csrf_token": token}).status_code == 400
    )
    assert (
        client.post("/kasir/TK01/masuk", data={"username": "a\x00", "pin": "1", "csrf_token": token}).status_code == 400
    )
    assert client.get("/admin/audit?aksi=%00").status_code == 400
    till = demo_app.test_client()
    till.get("/kasir/TK01/masuk")
    till.post("/kasir/TK01/masuk", data={"username": "kasir", "pin": "1111", "csrf_token": csrf_token(till)})
    body = {"action": "no_sale", "approver": "manajer", "pin": "4444", "reason": "tukar\x00uang"}
    response = till.post("/api/v1/approvals", json=body, headers={"X-CSRFToken": csrf_token(till)})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_input"
    with demo_app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action.like("approval.%"))
            )
            == 0
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"action": ["refund"]},
        {"action": {"x": 1}},
        {"detail": {"x": float("nan")}},
        {"detail": {"x": float("inf")}},
        {"approver": ["manajer"]},
        {"pin": 4444},
    ],
)
def test_malformed_approval_json_is_a_400(client, demo_app, bad):
    client.get("/kasir/TK01/masuk")
    client.post("/kasir/TK01/masuk", data={"username": "kasir", "pin": "1111", "csrf_token": csrf_token(client)})
    body = {"action": "no_sale", "approver": "manajer", "pin": "4444", "reason": "tukar uang", **bad}
    import json

    raw = json.dumps(body)  # NaN/Infinity are written as JS literals, as a careless client would
    response = client.post(
        "/api/v1/approvals", data=raw, content_type="application/json", headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code == 400


def test_the_public_unlock_form_reveals_no_usernames(client, demo_app):
    token = csrf_token(client)
    ghost = client.post(
        "/kasir/TK01/buka-kunci",
        data={"username": "tidakada", "manager": "manajer", "manager_pin": "0000", "csrf_token": token},
    )
    real = client.post(
        "/kasir/TK01/buka-kunci",
        data={"username": "kasir", "manager": "manajer", "manager_pin": "0000", "csrf_token": token},
    )
    assert ghost.status_code == real.status_code == 401


def test_other_authorization_schemes_are_ignored_and_healthz_needs_nothing(client, demo_app):
    assert client.get("/login", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}).status_code == 200
    sign_in(client, "kasir")
    assert client.get("/healthz", headers={"Authorization": "Bearer kk_wrong"}).status_code == 200


def test_odd_query_values_do_not_break_pages(signed_in, client):
    signed_in("pengurus")
    assert client.get("/admin/audit?halaman=99999999999999999999999").status_code == 200
    assert client.get("/buku/jurnal?halaman=99999999999999999999999").status_code == 200
    token = csrf_token(client)
    client.post("/logout", data={"csrf_token": token})
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "pengurus",
            "password": "demo123",
            "csrf_token": csrf_token(client),
            "next": "/\r\nSet-Cookie: x=1",
        },
    )
    assert page.status_code == 200 and response.status_code == 302 and response.headers["Location"] == "/"


def test_a_password_change_ends_the_other_sessions(demo_app):
    phone, desk = demo_app.test_client(), demo_app.test_client()
    sign_in(phone, "manajer")
    sign_in(desk, "manajer")
    response = desk.post(
        "/akun/kata-sandi",
        data={
            "csrf_token": csrf_token(desk),
            "current_password": "demo123",
            "new_password": "rahasia-baru",
            "confirm_password": "rahasia-baru",
        },
    )
    assert response.status_code == 302
    assert desk.get("/").status_code == 200  # the session that changed it stays
    assert phone.get("/").status_code == 302  # the other one is over
    with demo_app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None)))
            == 1
        )


def test_parallel_wrong_passwords_still_lock_the_account(demo_app):
    """Ten wrong passwords at once: every one is counted (no lost update, no duplicate-row error)."""
    errors = []

    def attempt():
        with demo_app.app_context():
            try:
                auth.sign_in_with_password("apoteker", "salah")
            except AuthenticationFailed:
                pass
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with demo_app.app_context():
        assert auth.is_locked("apoteker")
        failed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "login.failed", AuditEntry.actor_name == "apoteker")
        )
        assert failed >= 5
        assert db.session.get(LoginThrottle, "apoteker").locked_until is not None


def test_the_demo_never_goes_into_a_database_with_real_users(app):
    from pos.auth import create_user

    with app.app_context():
        create_user("bendahara", "pengurus", "rahasia-kuat")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "refused" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_production_refuses_weak_or_unknown_hash_methods_and_the_app_url_wins(tmp_path):
    for method in ("scrypt:1024:1:1", "pbkdf2:sha256:1000", "md5"):
        with pytest.raises(SettingsError):
            load_settings(tmp_path, environ={"KASIR_ENV": "production", "KASIR_PASSWORD_HASH_METHOD": method})
    with pytest.raises(SettingsError):  # an unknown method fails at start-up even in development
        load_settings(tmp_path, environ={"KASIR_PASSWORD_HASH_METHOD": "md5"})
    settings = load_settings(tmp_path, environ={"DATABASE_URL": "postgresql://a/b", "KASIR_DATABASE_URL": "sqlite://"})
    assert settings["database_url"] == "sqlite://"
