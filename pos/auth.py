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
from pos.models import ApiToken, Approval, LoginThrottle, Role, Till, User, UserSession
from pos.permissions import has_permission

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$", re.ASCII)
PIN_RE = re.compile(r"^\d{4,6}$", re.ASCII)
MIN_PASSWORD_LENGTH = 6
MAX_SECRET_LENGTH = 200
TOKEN_PREFIX = "kk_"  # noqa: S105 - marks our tokens, not a secret
LAST_SEEN_WRITE_SECONDS = 60
APPROVAL_MINUTES = 10  # an approval token is for the sale at hand, not for later

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


def _verify(name: str, secret: str, which: str) -> User | None:
    """Check a password or PIN outside any write transaction: hashing takes ~100 ms and must not hold the
    database's write lock. Unknown names are checked against a dummy hash so timing tells nothing."""
    secret = (secret if isinstance(secret, str) else "")[:MAX_SECRET_LENGTH]
    _check_not_locked(name, utcnow())
    user = db.session.scalar(sa.select(User).where(User.username == name)) if name else None
    stored = getattr(user, which) if user is not None else None
    ok = check_password_hash(stored or _dummy_hash(), secret)
    db.session.rollback()  # end the read transaction before the short write that records the outcome
    return user if (ok and stored and user.active) else None


def _fail(name: str, ip: str, via: str, message: str) -> None:
    with write_transaction():
        locked_now = _record_failure(name or "?", utcnow(), ip, via)
    if locked_now:
        raise AccountLocked(LOCKED, minutes=_settings()["login_lock_minutes"])
    raise AuthenticationFailed(message)


def sign_in_with_password(username: str, password: str, *, ip: str = "", replaces: str | None = None) -> SessionStart:
    """Check a password (throttled per typed name) and open a new server-side session."""
    name = normalise_username(username)
    user = _verify(name, password, "password_hash")
    if user is None:
        _fail(name, ip, "password", WRONG_CREDENTIALS)
    with write_transaction():
        _check_not_locked(name, utcnow())  # a lock taken while the hash was being checked still counts
        user = db.session.get(User, user.id)
        _clear_failures(name)
        start = _open_session(user, "password", None, ip, replaces)
        audit.record("login.success", actor=user, after={"via": "password"}, ip=ip)
    return start


def sign_in_with_pin(username: str, pin: str, till: Till, *, ip: str = "", replaces: str | None = None) -> SessionStart:
    """Switch the cashier on a till: a short PIN instead of the password, for till work only."""
    name = normalise_username(username)
    till_id = till.id
    user = _verify(name, pin, "pin_hash")
    if user is None or not has_permission(user.role, "till.operate"):
        _fail(name, ip, "pin", WRONG_PIN)
    with write_transaction():
        _check_not_locked(name, utcnow())
        user = db.session.get(User, user.id)
        till = db.session.get(Till, till_id)
        _clear_failures(name)
        start = _open_session(user, "pin", till, ip, replaces)
        audit.record(
            "till.cashier_switched", actor=user, target_type="till", target_id=till.code, after={"via": "pin"}, ip=ip
        )
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


def verify_approver(approver_username: str, pin: str, *, ip: str = "") -> User:
    """A manager or board member proves presence with their own PIN. A wrong PIN, or the PIN of someone who
    may not approve, gets the same answer and counts against that name like a wrong password."""
    name = normalise_username(approver_username)
    approver = _verify(name, pin, "pin_hash")
    if approver is None or not has_permission(approver.role, "approvals.grant"):
        _fail(name, ip, "approval", WRONG_PIN)
    with write_transaction():
        _clear_failures(name)
    return db.session.get(User, approver.id)


@dataclass(frozen=True)
class Grant:
    approver: User
    token: str  # shown once to the till; only its hash is stored
    expires_at: dt.datetime


def grant(
    requester: User, approver_username: str, pin: str, action: str, *, reason: str = "", detail: dict | None = None,
    ip: str = "",
) -> Grant:
    """A manager approves a restricted action for someone else with their PIN; recorded with both names. The
    action itself then carries the token, which `use_approval` accepts once, in the action's own transaction."""
    approver = verify_approver(approver_username, pin, ip=ip)
    if approver.id == requester.id:
        raise PermissionDenied(N_("Someone else must approve your own request."))
    token = secrets.token_urlsafe(24)
    expires = utcnow() + dt.timedelta(minutes=APPROVAL_MINUTES)
    with write_transaction():
        audit.record(
            "approval." + action, actor=db.session.get(User, requester.id), approver=db.session.get(User, approver.id),
            after=detail or {}, reason=reason, ip=ip,
        )
        db.session.add(Approval(token_hash=digest(token), action=action, requester_id=requester.id,
                                approver_id=approver.id, detail=detail or {}, reason=reason[:250], expires_at=expires))
    return Grant(approver=db.session.get(User, approver.id), token=token, expires_at=expires)


def approve(
    requester: User, approver_username: str, pin: str, action: str, *, reason: str = "", detail: dict | None = None,
    ip: str = "",
) -> User:
    """Approve a restricted action for someone else; recorded with both names. Run before the action."""
    return grant(requester, approver_username, pin, action, reason=reason, detail=detail, ip=ip).approver


def check_approval(token: object, action: str, requester: User, **expected: object) -> Approval:
    """The approval behind `token`, if it is for this action, this cashier and these details, unused and in time.
    Does not use it up (see use_approval)."""
    wrong = PermissionDenied(N_("This needs a manager's approval, or the approval is no longer valid."))
    if not isinstance(token, str) or not token or len(token) > MAX_SECRET_LENGTH:
        raise wrong
    row = db.session.scalar(sa.select(Approval).where(Approval.token_hash == digest(token)))
    if row is None or row.action != action or row.requester_id != requester.id or row.used_at is not None \
            or row.expires_at < utcnow():
        raise wrong
    for key, value in expected.items():
        if str(row.detail.get(key)) != str(value):
            raise wrong
    return row


def use_approval(token: object, action: str, requester: User, used_for: str, **expected: object) -> User:
    """Inside the caller's write transaction: check the approval and mark it used; returns the approver."""
    row = check_approval(token, action, requester, **expected)
    row.used_at, row.used_for = utcnow(), used_for[:80]
    db.session.flush()
    return row.approver


def unlock_with_approval(username: str, approver_username: str, pin: str, *, ip: str = "") -> User:
    """A locked-out cashier is let back in on the till by a manager's PIN. The manager's PIN is checked
    first, so this public form tells a stranger nothing about which usernames exist."""
    approver = verify_approver(approver_username, pin, ip=ip)
    user = _get_user(username)
    if approver.id == user.id:
        raise PermissionDenied(N_("Someone else must approve your own request."))
    with write_transaction():
        audit.record("approval.unlock", actor=db.session.get(User, user.id), approver=db.session.get(User, approver.id),
                     after={"user": user.username}, ip=ip)
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
    password_hash, pin_hash = hash_secret(password), hash_secret(pin) if pin else None  # before the write lock
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(User.username == name)) is not None:
            raise Conflict(N_("The username '%(username)s' is taken."), username=name)
        user = User(
            username=name,
            role=role,
            full_name=full_name.strip()[:120],
            password_hash=password_hash,
            pin_hash=pin_hash,
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


def set_password(
    username: str, password: str, *, actor: User | None = None, actor_name: str = "", keep_session: str | None = None
) -> None:
    """Set a password and end the user's other sessions (a changed password locks out whoever knew the old)."""
    validate_password(password)
    hashed = hash_secret(password)  # outside the write lock: hashing is slow
    with write_transaction():
        user = _get_user(username)
        user.password_hash = hashed
        keep = digest(keep_session) if keep_session else None
        for live in db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        ):
            if live.key_hash != keep:
                live.ended_at = utcnow()
        audit.record(
            "user.password_changed", actor=actor, actor_name=actor_name, target_type="user", target_id=user.username
        )


def set_pin(username: str, pin: str, *, actor: User | None = None, actor_name: str = "") -> None:
    validate_pin(pin)
    hashed = hash_secret(pin)
    with write_transaction():
        user = _get_user(username)
        user.pin_hash = hashed
        audit.record(
            "user.pin_changed", actor=actor, actor_name=actor_name, target_type="user", target_id=user.username
        )


def set_locale(user: User, locale: str) -> None:
    if locale not in ("id", "en"):
        raise InvalidInput(N_("Language must be id or en."))
    with write_transaction():
        db.session.get(User, user.id).locale = locale
