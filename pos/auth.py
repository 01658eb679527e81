"""Authentication use cases: passwords, till PINs, throttling, server-side sessions, API tokens, approvals."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from pos import audit
from pos.db import db, utcnow, write_transaction
from pos.errors import N_, AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from pos.models import ApiToken, LoginThrottle, Role, Till, User, UserSession
from pos.permissions import has_permission

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$", re.ASCII)
PIN_RE = re.compile(r"^\d{4,6}$", re.ASCII)
MIN_PASSWORD_LENGTH = 6
MAX_SECRET_LENGTH = 200
TOKEN_PREFIX = "kk_"  # noqa: S105 - marks our tokens, not a secret
LAST_SEEN_WRITE_SECONDS = 60

WRONG_CREDENTIALS = N_("Wrong username or password.")
WRONG_PIN = N_("Wrong cashier or PIN.")
LOCKED = N_("Too many failed attempts. Try again in %(minutes)d minutes or ask a manager to unlock.")


class AccountLocked(AuthenticationFailed):
    status = 429


@dataclass(frozen=True)
class SessionStart:
    key: str
    user: User


def _settings() -> dict:
    return current_app.config["KASIR"]


def hash_secret(secret: str) -> str:
    return generate_password_hash(secret, method=_settings()["password_hash_method"])


def _dummy_hash() -> str:
    cache = current_app.extensions.setdefault("kasir_dummy_hash", {})
    method = _settings()["password_hash_method"]
    if method not in cache:
        cache[method] = generate_password_hash(secrets.token_hex(8), method=method)
    return cache[method]


def digest(secret: str) -> str:
    """Session keys and API tokens are long random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:40]


def validate_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise InvalidInput(
            N_(
                "A username is 2 to 40 lowercase letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )
        )
    return name


def validate_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(N_("A password needs at least %(n)d characters."), n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_SECRET_LENGTH or "\x00" in password:
        raise InvalidInput(N_("That password cannot be used."))
    return password


def validate_pin(pin: str) -> str:
    if not isinstance(pin, str) or not PIN_RE.match(pin):
        raise InvalidInput(N_("A PIN is 4 to 6 digits."))
    return pin


def parse_role(value: str) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(N_("Unknown role '%(role)s'."), role=str(value)[:20]) from None


# --- throttling -----------------------------------------------------------------------------------


def _check_not_locked(name: str, now: dt.datetime) -> None:
    throttle = db.session.get(LoginThrottle, name)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        raise AccountLocked(LOCKED, minutes=minutes)


def _record_failure(name: str, now: dt.datetime, ip: str, via: str) -> bool:
    """Count a failure for the typed name; returns True when this failure locked it."""
    s = _settings()
    throttle = db.session.get(LoginThrottle, name)
    if throttle is None:
        throttle = LoginThrottle(username=name, failures=0)
        db.session.add(throttle)
    window = dt.timedelta(minutes=s["login_lock_minutes"])
    if throttle.last_failure_at and now - throttle.last_failure_at > window:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    user = db.session.scalar(sa.select(User).where(User.username == name))
    audit.record("login.failed", actor=user, actor_name=name, after={"via": via, "failures": throttle.failures}, ip=ip)
    if throttle.failures >= s["login_max_failures"]:
        throttle.locked_until = now + window
        throttle.failures = 0
        audit.record(
            "login.locked",
            actor=user,
            actor_name=name,
            target_type="user",
            target_id=name,
            after={"locked_until": throttle.locked_until.isoformat(), "via": via},
            ip=ip,
        )
        return True
    return False


def _clear_failures(name: str) -> None:
    throttle = db.session.get(LoginThrottle, name)
    if throttle is not None:
        db.session.delete(throttle)


def unlock(username: str, *, actor: User | None, approver: User | None = None, ip: str = "") -> None:
    name = normalise_username(username)
    with write_transaction():
        throttle = db.session.get(LoginThrottle, name)
        if throttle is None or not throttle.locked_until:
            return
        before = {"locked_until": throttle.locked_until.isoformat()}
        db.session.delete(throttle)
        audit.record(
            "login.unlocked", actor=actor, approver=approver, target_type="user", target_id=name, before=before, ip=ip
        )


def is_locked(username: str) -> bool:
    throttle = db.session.get(LoginThrottle, normalise_username(username))
    return bool(throttle and throttle.locked_until and throttle.locked_until > utcnow())


# --- sign in --------------------------------------------------------------------------------------


def sign_in_with_password(username: str, password: str, *, ip: str = "", replaces: str | None = None) -> SessionStart:
    """Check a password (throttled per typed name) and open a new server-side session."""
    name = normalise_username(username)
    password = password if isinstance(password, str) else ""
    failed = False
    with write_transaction():
        now = utcnow()
        _check_not_locked(name, now)
        user = db.session.scalar(sa.select(User).where(User.username == name)) if name else None
        ok = check_password_hash(user.password_hash if user else _dummy_hash(), password[:MAX_SECRET_LENGTH])
        if not (user and user.active and ok):
            locked_now = _record_failure(name or "?", now, ip, "password")
            failed = True
        else:
            _clear_failures(name)
            start = _open_session(user, "password", None, ip, replaces)
            audit.record("login.success", actor=user, after={"via": "password"}, ip=ip)
    if failed:
        if locked_now:
            raise AccountLocked(LOCKED, minutes=_settings()["login_lock_minutes"])
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    return start


def sign_in_with_pin(username: str, pin: str, till: Till, *, ip: str = "", replaces: str | None = None) -> SessionStart:
    """Switch the cashier on a till: a short PIN instead of the password, for till work only."""
    name = normalise_username(username)
    pin = pin if isinstance(pin, str) else ""
    failed = False
    with write_transaction():
        now = utcnow()
        _check_not_locked(name, now)
        user = db.session.scalar(sa.select(User).where(User.username == name)) if name else None
        ok = bool(user and user.pin_hash) and check_password_hash(user.pin_hash, pin[:MAX_SECRET_LENGTH])
        if not user or not user.pin_hash:
            check_password_hash(_dummy_hash(), pin[:MAX_SECRET_LENGTH])
        allowed = bool(user and user.active and has_permission(user.role, "till.operate"))
        if not (ok and allowed):
            locked_now = _record_failure(name or "?", now, ip, "pin")
            failed = True
        else:
            _clear_failures(name)
            start = _open_session(user, "pin", till, ip, replaces)
            audit.record(
                "till.cashier_switched",
                actor=user,
                target_type="till",
                target_id=till.code,
                after={"via": "pin"},
                ip=ip,
            )
    if failed:
        if locked_now:
            raise AccountLocked(LOCKED, minutes=_settings()["login_lock_minutes"])
        raise AuthenticationFailed(WRONG_PIN)
    return start


def _open_session(user: User, method: str, till: Till | None, ip: str, replaces: str | None) -> SessionStart:
    now = utcnow()
    if replaces:
        old = db.session.scalar(sa.select(UserSession).where(UserSession.key_hash == digest(replaces)))
        if old is not None and old.ended_at is None:
            old.ended_at = now
    key = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            key_hash=digest(key),
            user_id=user.id,
            method=method,
            till_id=till.id if till else None,
            created_at=now,
            last_seen_at=now,
            ip=ip[:64],
        )
    )
    return SessionStart(key=key, user=user)


def resume_session(key: str | None) -> tuple[UserSession | None, bool]:
    """Find the live session for a cookie's key. Returns (session, expired_now)."""
    if not key or not isinstance(key, str):
        return None, False
    found = db.session.scalar(sa.select(UserSession).where(UserSession.key_hash == digest(key)))
    if found is None or found.ended_at is not None or not found.user.active:
        return None, False
    now = utcnow()
    idle = dt.timedelta(minutes=_settings()["idle_timeout_minutes"])
    if now - found.last_seen_at > idle:
        with write_transaction():
            found = db.session.get(UserSession, found.id)
            found.ended_at = now
            audit.record("logout.idle", actor=found.user, after={"idle_minutes": _settings()["idle_timeout_minutes"]})
        return None, True
    if (now - found.last_seen_at).total_seconds() > LAST_SEEN_WRITE_SECONDS:
        with write_transaction():
            found = db.session.get(UserSession, found.id)
            found.last_seen_at = now
    return found, False


def sign_out(key: str | None, *, ip: str = "") -> None:
    if not key:
        return
    with write_transaction():
        found = db.session.scalar(sa.select(UserSession).where(UserSession.key_hash == digest(key)))
        if found is not None and found.ended_at is None:
            found.ended_at = utcnow()
            audit.record("logout", actor=found.user, ip=ip)


# --- API tokens -----------------------------------------------------------------------------------


def issue_token(user: User, name: str = "", *, actor: User | None = None) -> str:
    """Create an API token; only its hash is stored, so the caller must show it now or never."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        user = db.session.merge(user)
        row = ApiToken(user_id=user.id, name=name[:80], token_hash=digest(token), prefix=token[:10])
        db.session.add(row)
        db.session.flush()
        audit.record(
            "token.issued",
            actor=actor,
            actor_name="cli",
            target_type="user",
            target_id=user.username,
            after={"token_id": row.id, "prefix": row.prefix, "name": row.name},
        )
    return token


def user_for_token(token: str) -> User | None:
    if not token or len(token) > MAX_SECRET_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_SEEN_WRITE_SECONDS:
        with write_transaction():
            db.session.get(ApiToken, row.id).last_used_at = now
    return db.session.get(User, row.user_id)


def revoke_tokens(username: str, *, actor: User | None = None) -> int:
    with write_transaction():
        user = _get_user(username)
        rows = db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ).all()
        for row in rows:
            row.revoked_at = utcnow()
        if rows:
            audit.record(
                "token.revoked",
                actor=actor,
                actor_name="cli",
                target_type="user",
                target_id=user.username,
                after={"count": len(rows)},
            )
    return len(rows)


# --- manager approval -----------------------------------------------------------------------------


def approve(
    requester: User,
    approver_username: str,
    pin: str,
    action: str,
    *,
    reason: str = "",
    detail: dict | None = None,
    ip: str = "",
) -> User:
    """A manager (or board member) allows a restricted action for someone else with their own PIN.

    Commits its own transaction: the approval (recorded with both names) or, for a wrong PIN, the
    failure that counts against the approver's account like a wrong password. Run it before the
    action it allows.
    """
    name = normalise_username(approver_username)
    with write_transaction():
        now = utcnow()
        _check_not_locked(name, now)
        approver = db.session.scalar(sa.select(User).where(User.username == name)) if name else None
        ok = bool(approver and approver.pin_hash) and check_password_hash(
            approver.pin_hash, (pin if isinstance(pin, str) else "")[:MAX_SECRET_LENGTH]
        )
        if not (ok and approver.active):
            locked_now = _record_failure(name or "?", now, ip, "approval")
        else:
            locked_now = None
    if locked_now is not None:
        if locked_now:
            raise AccountLocked(LOCKED, minutes=_settings()["login_lock_minutes"])
        raise AuthenticationFailed(WRONG_PIN)
    if not has_permission(approver.role, "approvals.grant"):
        raise PermissionDenied(N_("%(user)s may not approve this."), user=approver.username)
    if approver.id == requester.id:
        raise PermissionDenied(N_("Someone else must approve your own request."))
    with write_transaction():
        _clear_failures(name)
        audit.record(
            "approval." + action,
            actor=db.session.get(User, requester.id),
            approver=db.session.get(User, approver.id),
            after=detail or {},
            reason=reason,
            ip=ip,
        )
    return approver


def unlock_with_approval(username: str, approver_username: str, pin: str, *, ip: str = "") -> User:
    """A locked-out cashier is let back in on the till by a manager's PIN."""
    user = _get_user(username)
    approver = approve(user, approver_username, pin, "unlock", detail={"user": user.username}, ip=ip)
    unlock(user.username, actor=user, approver=approver, ip=ip)
    return user


# --- users ----------------------------------------------------------------------------------------


def _get_user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(N_("No user named '%(username)s'."), username=normalise_username(username))
    return user


def create_user(
    username: str,
    role: Role | str,
    password: str,
    *,
    full_name: str = "",
    pin: str | None = None,
    locale: str | None = None,
    actor: User | None = None,
    actor_name: str = "",
) -> User:
    name = validate_username(username)
    role = parse_role(role) if not isinstance(role, Role) else role
    validate_password(password)
    if pin is not None:
        validate_pin(pin)
    locale = locale or _settings()["default_locale"]
    if locale not in ("id", "en"):
        raise InvalidInput(N_("Language must be id or en."))
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(User.username == name)) is not None:
            raise Conflict(N_("The username '%(username)s' is taken."), username=name)
        user = User(
            username=name,
            role=role,
            full_name=full_name.strip()[:120],
            password_hash=hash_secret(password),
            pin_hash=hash_secret(pin) if pin else None,
            locale=locale,
        )
        db.session.add(user)
        db.session.flush()
        audit.record(
            "user.created",
            actor=actor,
            actor_name=actor_name,
            target_type="user",
            target_id=name,
            after={"role": role.value, "full_name": user.full_name},
        )
    return user


def set_role(username: str, role: Role | str, *, actor: User | None = None, actor_name: str = "") -> User:
    role = parse_role(role) if not isinstance(role, Role) else role
    with write_transaction():
        user = _get_user(username)
        if actor is not None and actor.id == user.id:
            raise PermissionDenied(N_("You cannot change your own role."))
        before = user.role.value
        if before != role.value:
            user.role = role
            audit.record(
                "user.role_changed",
                actor=actor,
                actor_name=actor_name,
                target_type="user",
                target_id=user.username,
                before={"role": before},
                after={"role": role.value},
            )
    return user


def set_active(username: str, active: bool, *, actor: User | None = None, actor_name: str = "") -> User:
    with write_transaction():
        user = _get_user(username)
        if actor is not None and actor.id == user.id and not active:
            raise PermissionDenied(N_("You cannot disable your own account."))
        if user.active != active:
            user.active = active
            if not active:
                for live in db.session.scalars(
                    sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                ):
                    live.ended_at = utcnow()
            audit.record(
                "user.enabled" if active else "user.disabled",
                actor=actor,
                actor_name=actor_name,
                target_type="user",
                target_id=user.username,
                before={"active": not active},
                after={"active": active},
            )
    return user


def set_password(username: str, password: str, *, actor: User | None = None, actor_name: str = "") -> None:
    validate_password(password)
    with write_transaction():
        user = _get_user(username)
        user.password_hash = hash_secret(password)
        audit.record(
            "user.password_changed", actor=actor, actor_name=actor_name, target_type="user", target_id=user.username
        )


def set_pin(username: str, pin: str, *, actor: User | None = None, actor_name: str = "") -> None:
    validate_pin(pin)
    with write_transaction():
        user = _get_user(username)
        user.pin_hash = hash_secret(pin)
        audit.record(
            "user.pin_changed", actor=actor, actor_name=actor_name, target_type="user", target_id=user.username
        )


def set_locale(user: User, locale: str) -> None:
    if locale not in ("id", "en"):
        raise InvalidInput(N_("Language must be id or en."))
    with write_transaction():
        db.session.get(User, user.id).locale = locale
