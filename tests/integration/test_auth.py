"""Sign-in, throttling, sessions, CSRF, API tokens, till PINs and manager approvals, each leaving an audit trail."""

import datetime as dt

import sqlalchemy as sa

from pos.auth import digest
from pos.db import db, utcnow, write_transaction
from pos.models import ApiToken, AuditEntry, LoginThrottle, User, UserSession
from tests.conftest import csrf_token, sign_in


def audit_actions(app, **where):
    with app.app_context():
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return [e.action for e in db.session.scalars(query)]


def users(app):
    with app.app_context():
        return {u.username: u for u in db.session.scalars(sa.select(User))}


def test_sign_in_renews_the_session_and_sets_safe_cookie_flags(client, demo_app):
    client.get("/login")
    with client.session_transaction() as s:
        s["sid"] = "planted-by-an-attacker"
    response = sign_in(client, "kasir")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as s:
        first = s["sid"]
    assert first != "planted-by-an-attacker"
    sign_in(client, "kasir")
    with client.session_transaction() as s:
        second = s["sid"]
    assert second != first
    with demo_app.app_context():
        old = db.session.scalar(sa.select(UserSession).where(UserSession.key_hash == digest(first)))
        assert old.ended_at is not None  # the replaced session is over, not merely forgotten
    assert "login.success" in audit_actions(demo_app, actor_name="kasir")


def test_wrong_passwords_lock_the_account_and_the_audit_log_shows_it(client, demo_app):
    for _ in range(4):
        response = sign_in(client, "kasir", "salah")
        assert response.status_code == 401
        assert "Nama pengguna atau kata sandi salah." in response.text
    response = sign_in(client, "kasir", "salah")
    assert response.status_code == 429
    # Even the right password is refused while locked.
    response = sign_in(client, "kasir")
    assert response.status_code == 429
    assert "Terlalu banyak percobaan gagal" in response.text
    actions = audit_actions(demo_app, actor_name="kasir")
    assert actions.count("login.failed") == 5
    assert "login.locked" in actions
    assert "login.success" not in actions

    # When the lock has run out, the right password works again and clears the count.
    with demo_app.app_context():
        with write_transaction():
            db.session.get(LoginThrottle, "kasir").locked_until = utcnow() - dt.timedelta(seconds=1)
    assert sign_in(client, "kasir").status_code == 302
    with demo_app.app_context():
        assert db.session.get(LoginThrottle, "kasir") is None


def test_unknown_usernames_get_the_same_answers_as_real_ones(client, demo_app):
    """No enumeration: same message, same status, same lock for a name that does not exist."""
    real = [sign_in(client, "kasir", "salah") for _ in range(5)]
    ghost = [sign_in(client, "tidakada", "salah") for _ in range(5)]
    assert [r.status_code for r in real] == [r.status_code for r in ghost] == [401] * 4 + [429]
    assert "Nama pengguna atau kata sandi salah." in ghost[0].text
    with demo_app.app_context():
        assert db.session.get(LoginThrottle, "tidakada").locked_until > utcnow()


def test_disabled_users_cannot_sign_in(client, demo_app):
    from pos import auth

    with demo_app.app_context():
        auth.set_active("gudang", False, actor_name="test")
    assert sign_in(client, "gudang").status_code == 401


def test_sign_out_ends_the_session_for_good(signed_in, client, demo_app):
    signed_in("manajer")
    with client.session_transaction() as s:
        sid = s["sid"]
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    # Replaying the old cookie value does not bring the session back.
    with client.session_transaction() as s:
        s["sid"] = sid
    assert client.get("/").status_code == 302
    assert "logout" in audit_actions(demo_app, actor_name="manajer")


def test_idle_sessions_are_signed_out(signed_in, client, demo_app):
    signed_in("pengurus")
    with demo_app.app_context():
        with write_transaction():
            for row in db.session.scalars(sa.select(UserSession)):
                row.last_seen_at = utcnow() - dt.timedelta(minutes=31)
    response = client.get("/admin/pengguna")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "dikeluarkan karena tidak ada aktivitas" in page.text
    assert "logout.idle" in audit_actions(demo_app, actor_name="pengurus")


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(signed_in, client, demo_app):
    signed_in("pengurus")
    form = {"username": "baru", "role": "kasir", "password": "rahasia1", "confirm_password": "rahasia1"}
    response = client.post("/admin/pengguna", data=form)
    assert response.status_code == 400
    assert "token keamanan" in response.text
    assert "baru" not in users(demo_app)
    response = client.post("/admin/pengguna", data={**form, "csrf_token": "forged"})
    assert response.status_code == 400
    assert "baru" not in users(demo_app)
    response = client.post("/admin/pengguna", data={**form, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert users(demo_app)["baru"].role.value == "kasir"


def test_sign_in_itself_needs_the_csrf_token(client, demo_app):
    response = client.post("/login", data={"username": "kasir", "password": "demo123"})
    assert response.status_code == 400
    assert "login.success" not in audit_actions(demo_app)


def test_json_requests_need_the_csrf_header(client, demo_app):
    client.get("/kasir/TK01/masuk")
    page = client.post("/kasir/TK01/masuk", data={"username": "kasir", "pin": "1111", "csrf_token": csrf_token(client)})
    assert page.status_code == 302
    body = {"action": "void_line", "approver": "manajer", "pin": "4444", "reason": "salah scan"}
    assert client.post("/api/v1/approvals", json=body).status_code == 400
    response = client.post("/api/v1/approvals", json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 201, response.text


def test_api_tokens_act_as_their_user_and_only_their_hash_is_stored(runner, demo_app):
    result = runner.invoke(args=["user", "token", "kasir", "--name", "timbangan"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("kk_") and len(token) > 40
    api = demo_app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "kasir" and me.get_json()["role"] == "kasir"
    with demo_app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == digest(token) and token not in (row.token_hash, row.prefix)
    # Token callers need no CSRF token: they prove themselves on each request.
    response = api.post(
        "/api/v1/approvals",
        headers={"Authorization": f"Bearer {token}"},
        json={"action": "no_sale", "approver": "manajer", "pin": "4444", "reason": "tukar uang"},
    )
    assert response.status_code == 201
    # A Bearer token for a role without the permission is still refused.
    assert api.get("/admin/pengguna", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_wrong_revoked_or_disabled_tokens_get_401(runner, demo_app):
    api = demo_app.test_client()
    for header in ("Bearer kk_wrong", "Bearer ", "Basic a2FzaXI6ZGVtbzEyMw==", "Bearer " + "x" * 5000):
        response = api.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    token = runner.invoke(args=["user", "token", "gudang"]).output.strip()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["user", "revoke-tokens", "gudang"]).exit_code == 0
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    token = runner.invoke(args=["user", "token", "apoteker"]).output.strip()
    runner.invoke(args=["user", "disable", "apoteker"])
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/v1/me").status_code == 401


def till_sign_in(client, username, pin, till="TK01"):
    client.get(f"/kasir/{till}/masuk")
    return client.post(
        f"/kasir/{till}/masuk", data={"username": username, "pin": pin, "csrf_token": csrf_token(client)}
    )


def test_cashier_switch_by_pin_is_limited_to_the_till(client, demo_app):
    response = till_sign_in(client, "kasir", "1111")
    assert response.status_code == 302 and response.headers["Location"].endswith("/kasir/TK01")
    page = client.get("/kasir/TK01")
    assert page.status_code == 200 and "Siti Rahmah" in page.text
    me = client.get("/api/v1/me").get_json()
    assert me["via"] == "pin" and me["till"] == "TK01"
    # A manager switched in by PIN still cannot reach back-office pages: that needs the password.
    assert till_sign_in(client, "manajer", "4444").status_code == 302
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/outlets").status_code == 403
    assert client.get("/kasir/TK01").status_code == 200
    # Roles without till work are refused with the same message as a wrong PIN.
    refused = till_sign_in(client, "gudang", "3333")
    assert refused.status_code == 401 and "Kasir atau PIN salah." in refused.text
    assert till_sign_in(client, "kasir", "9999").status_code == 401
    assert "till.cashier_switched" in audit_actions(demo_app, actor_name="manajer")


def test_manager_approval_is_recorded_with_both_names(client, demo_app):
    till_sign_in(client, "kasir", "1111")
    headers = {"X-CSRFToken": csrf_token(client)}
    body = {"action": "void_line", "approver": "manajer", "pin": "4444", "reason": "salah scan", "detail": {"line": 3}}
    response = client.post("/api/v1/approvals", json=body, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["approver"] == "manajer"
    with demo_app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "approval.void_line"))
        assert (entry.actor_name, entry.approver_name, entry.reason) == ("kasir", "manajer", "salah scan")
        assert entry.after == {"line": 3}
    wrong_pin = client.post("/api/v1/approvals", json={**body, "pin": "0000"}, headers=headers)
    assert wrong_pin.status_code == 401
    assert audit_actions(demo_app, action="login.failed", actor_name="manajer") == ["login.failed"]
    with demo_app.app_context():
        assert db.session.get(LoginThrottle, "manajer").failures == 1
    # The right PIN of someone who may not approve gets the same answer as a wrong PIN.
    not_a_manager = client.post(
        "/api/v1/approvals", json={**body, "approver": "apoteker", "pin": "2222"}, headers=headers
    )
    assert not_a_manager.status_code == 401
    for bad in (
        {**body, "action": "free_money"},
        {**body, "reason": ""},
        {**body, "detail": "x" * 10},
        {**body, "detail": {"x": "y" * 5000}},
        ["not", "an", "object"],
    ):
        assert client.post("/api/v1/approvals", json=bad, headers=headers).status_code == 400
    assert audit_actions(demo_app, action="approval.void_line") == ["approval.void_line"]


def test_a_manager_cannot_approve_their_own_request(client, demo_app):
    till_sign_in(client, "manajer", "4444")
    body = {"action": "refund", "approver": "manajer", "pin": "4444", "reason": "retur"}
    response = client.post("/api/v1/approvals", json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 403
    assert audit_actions(demo_app, action="approval.refund") == []


def test_a_locked_out_cashier_is_let_back_in_with_a_manager_pin(client, demo_app):
    for _ in range(5):
        till_sign_in(client, "kasir", "0000")
    assert till_sign_in(client, "kasir", "1111").status_code == 429
    form = {"username": "kasir", "manager": "manajer", "manager_pin": "0000", "csrf_token": csrf_token(client)}
    assert client.post("/kasir/TK01/buka-kunci", data=form).status_code == 401
    form["manager_pin"] = "4444"
    assert client.post("/kasir/TK01/buka-kunci", data=form).status_code == 302
    assert till_sign_in(client, "kasir", "1111").status_code == 302
    with demo_app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "login.unlocked"))
        assert (entry.actor_name, entry.approver_name) == ("kasir", "manajer")


def test_role_changes_and_unlocks_by_the_board_are_audited(signed_in, client, demo_app):
    signed_in("pengurus")
    token = csrf_token(client)
    assert client.post("/admin/pengguna/gudang/peran", data={"role": "manajer", "csrf_token": token}).status_code == 302
    with demo_app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.role_changed"))
        assert (entry.actor_name, entry.target_id, entry.before, entry.after) == (
            "pengurus",
            "gudang",
            {"role": "gudang"},
            {"role": "manajer"},
        )
    refused = client.post("/admin/pengguna/pengurus/peran", data={"role": "kasir", "csrf_token": token})
    assert refused.status_code == 403
    assert users(demo_app)["pengurus"].role.value == "pengurus"
    bad = client.post("/admin/pengguna/gudang/peran", data={"role": "raja", "csrf_token": token})
    assert bad.status_code == 400 and "tidak dikenal" in bad.text
    page = client.get("/admin/audit?aksi=user.role")
    assert page.status_code == 200 and "user.role_changed" in page.text


def test_a_pin_sessions_home_link_is_its_till(client):
    till_sign_in(client, "kasir", "1111", till="TK02")
    page = client.get("/kasir/TK02")
    assert 'class="brand" href="/kasir/TK02"' in page.text
    denied = client.get("/admin/audit")
    assert denied.status_code == 403 and 'href="/kasir/TK02"' in denied.text
