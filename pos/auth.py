"""Authentication use cases: passwords, till PINs, throttling, server-side sessions, API tokens, approvals."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.security import check_password_hash, generate_password_hash

from pos import audit
from pos.db import UTCDateTime, best_effort_write, db, utcnow, write_transaction
from pos.errors import N_, AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from pos.models import ApiToken, Approval, AuditEntry, LoginThrottle, Role, Till, User, UserSession
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
    """A new username as typed: refused, never cut, when longer than 40 characters."""
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    if len(name) > 40 or not USERNAME_RE.match(name):
        raise InvalidInput(
            N_(
                "A username is 2 to 40 lowercase letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )
        )
    return name


def _full_name(full_name: str) -> str:
    name = (full_name or "").strip() if isinstance(full_name, str) else ""
    if len(name) > 120 or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
        raise InvalidInput(N_("A full name is up to 120 characters, on one line.")).at("full_name")
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
#
# Every attempt is counted before its secret is checked, in a short write transaction of its own, with one atomic
# statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING): the attempt takes the next slot, and the slot after the
# last allowed one locks the name. So however many guesses arrive at once, at most `login_max_failures` of them are
# checked. A wrong secret leaves its count (and locks the name at the limit); a right one is let in only if the name
# is still not locked after the check, and only then clears the count: a success while locked is a failure.


def _lock_minutes(locked_until: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((locked_until - now).total_seconds() // 60) + 1)


def _locked_until(name: str, now: dt.datetime) -> dt.datetime | None:
    until = db.session.scalar(sa.select(LoginThrottle.locked_until).where(LoginThrottle.username == name))
    return until if until is not None and until > now else None


def _count_attempt(name: str, ip: str, via: str) -> None:
    """Take a slot for this attempt before its secret is checked; refuse it (AccountLocked) when the name is locked
    or when this attempt is one more than allowed, which locks the name."""
    s = _settings()
    limit, window = s["login_max_failures"], dt.timedelta(minutes=s["login_lock_minutes"])
    table = LoginThrottle.__table__
    c = table.c
    locked_at = None
    with write_transaction():
        now = utcnow()
        lock_until = now + window
        # A lock that ended, or a last failure longer ago than the window, starts the count afresh.
        # (Each part is true or false, never NULL, so that NOT fresh is what it says.)
        fresh = sa.or_(
            sa.and_(c.locked_until.is_not(None), c.locked_until <= now),
            c.last_failure_at.is_(None),
            sa.and_(c.last_failure_at.is_not(None), c.last_failure_at < now - window),
        )
        dialect = db.session.get_bind().dialect.name
        insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
        statement = (
            insert.values(username=name, failures=1, last_failure_at=now, locked_until=None)
            .on_conflict_do_update(
                index_elements=[c.username],
                set_={
                    "failures": sa.case((fresh, 1), else_=c.failures + 1),
                    "last_failure_at": now,
                    "locked_until": sa.case(
                        (sa.and_(sa.not_(fresh), c.failures >= limit), sa.literal(lock_until, UTCDateTime())),
                        else_=sa.null(),
                    ),
                },
                where=sa.or_(c.locked_until.is_(None), c.locked_until <= now),
            )
            .returning(c.failures, c.locked_until)
        )
        row = db.session.execute(statement).first()
        if row is None:  # locked already: not counted, not checked
            locked_at = _locked_until(name, now) or lock_until
        elif row.locked_until is not None:  # one attempt more than allowed: it locks the name, unchecked
            locked_at = row.locked_until
            user = db.session.scalar(sa.select(User).where(User.username == name))
            audit.record(
                "login.locked", actor=user, actor_name=name, target_type="user", target_id=name,
                after={"locked_until": locked_at.isoformat(), "via": via, "attempts": row.failures}, ip=ip,
            )
    if locked_at is not None:
        raise AccountLocked(LOCKED, minutes=_lock_minutes(locked_at, now))


def _record_failure(name: str, ip: str, via: str, till: str | None = None, *, locked: bool = False) -> int | None:
    """A checked secret was wrong (or right while locked): its attempt is counted already; lock the name when the count
    has reached the limit. Returns the minutes of the lock the name is under now, if any."""
    s = _settings()
    c = LoginThrottle.__table__.c
    with write_transaction():
        now = utcnow()
        lock_until = now + dt.timedelta(minutes=s["login_lock_minutes"])
        user = db.session.scalar(sa.select(User).where(User.username == name))
        took_lock = db.session.execute(
            sa.update(LoginThrottle.__table__)
            .where(c.username == name, c.failures >= s["login_max_failures"],
                   sa.or_(c.locked_until.is_(None), c.locked_until <= now))
            .values(locked_until=lock_until)
        ).rowcount
        failures = db.session.scalar(sa.select(LoginThrottle.failures).where(LoginThrottle.username == name))
        detail = {"via": via, "failures": failures}
        if till:
            detail["till"] = till
        if locked:
            detail["locked"] = True
        audit.record("login.failed", actor=user, actor_name=name, after=detail, ip=ip)
        if took_lock:
            audit.record(
                "login.locked", actor=user, actor_name=name, target_type="user", target_id=name,
                after={"locked_until": lock_until.isoformat(), "via": via}, ip=ip,
            )
        until = _locked_until(name, now)
    return _lock_minutes(until, now) if until else None


def _settle_success(name: str) -> dt.datetime | None:
    """Inside the caller's write transaction, after a right secret: clear the name's count unless it is locked (a
    lock taken while the secret was being checked holds). Returns the lock's end when locked."""
    now = utcnow()
    c = LoginThrottle.__table__.c
    db.session.execute(
        sa.delete(LoginThrottle.__table__).where(
            c.username == name, sa.or_(c.locked_until.is_(None), c.locked_until <= now)
        )
    )
    return _locked_until(name, now)


def _refuse_locked_success(name: str, ip: str, via: str, till: str | None = None) -> None:
    minutes = _record_failure(name, ip, via, till, locked=True)
    raise AccountLocked(LOCKED, minutes=minutes or _settings()["login_lock_minutes"])


def unlock(username: str, *, actor: User | None, approver: User | None = None, ip: str = "") -> None:
    name = normalise_username(username)
    with write_transaction():
        _lift_lock(name, actor=actor, approver=approver, ip=ip)


def _lift_lock(name: str, *, actor: User | None, approver: User | None = None, ip: str = "") -> bool:
    throttle = db.session.get(LoginThrottle, name)
    if throttle is None or not throttle.locked_until:
        return False
    before = {"locked_until": throttle.locked_until.isoformat()}
    db.session.delete(throttle)
    audit.record(
        "login.unlocked", actor=actor, approver=approver, target_type="user", target_id=name, before=before, ip=ip
    )
    return True


def is_locked(username: str) -> bool:
    return _locked_until(normalise_username(username), utcnow()) is not None


# --- sign in --------------------------------------------------------------------------------------


def _verify(name: str, secret: str, which: str, *, ip: str, via: str) -> User | None:
    """Count the attempt, then check a password or PIN outside any transaction: hashing takes ~100 ms and must hold
    neither the database's write lock nor a connection. Unknown names are checked against a dummy hash so timing
    tells nothing."""
    secret = (secret if isinstance(secret, str) else "")[:MAX_SECRET_LENGTH]
    _count_attempt(name, ip, via)
    user = db.session.scalar(sa.select(User).where(User.username == name)) if name != "?" else None
    stored = getattr(user, which) if user is not None else None
    usable = bool(stored and user.active)
    db.session.rollback()  # end the read transaction (and give back its connection) before the slow check
    ok = check_password_hash(stored or _dummy_hash(), secret)
    return user if (ok and usable) else None


def _fail(name: str, ip: str, via: str, message: str, till: str | None = None) -> None:
    minutes = _record_failure(name, ip, via, till)
    if minutes is not None:
        raise AccountLocked(LOCKED, minutes=minutes)
    raise AuthenticationFailed(message)


def sign_in_with_password(username: str, password: str, *, ip: str = "", replaces: str | None = None) -> SessionStart:
    """Check a password (throttled per typed name) and open a new server-side session."""
    name = normalise_username(username) or "?"
    user = _verify(name, password, "password_hash", ip=ip, via="password")
    if user is None:
        _fail(name, ip, "password", WRONG_CREDENTIALS)
    with write_transaction():
        if _settle_success(name) is None:  # a lock taken while the hash was being checked still counts
            user = db.session.get(User, user.id)
            start = _open_session(user, "password", None, ip, replaces)
            audit.record("login.success", actor=user, after={"via": "password"}, ip=ip)
        else:
            start = None
    if start is None:
        _refuse_locked_success(name, ip, "password")
    return start


def sign_in_with_pin(username: str, pin: str, till: Till, *, ip: str = "", replaces: str | None = None) -> SessionStart:
    """Switch the cashier on a till: a short PIN instead of the password, for till work only."""
    name = normalise_username(username) or "?"
    till_id, till_code = till.id, till.code
    user = _verify(name, pin, "pin_hash", ip=ip, via="pin")
    if user is None or not has_permission(user.role, "till.operate"):
        _fail(name, ip, "pin", WRONG_PIN, till_code)
    with write_transaction():
        if _settle_success(name) is None:
            user = db.session.get(User, user.id)
            till = db.session.get(Till, till_id)
            start = _open_session(user, "pin", till, ip, replaces)
            audit.record(
                "till.cashier_switched", actor=user, target_type="till", target_id=till.code, after={"via": "pin"},
                ip=ip,
            )
        else:
            start = None
    if start is None:
        _refuse_locked_success(name, ip, "pin", till_code)
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
    session_id = found.id
    if now - found.last_seen_at > idle:
        def end_idle() -> None:
            row = db.session.get(UserSession, session_id)
            if row.ended_at is None:
                row.ended_at = now
                audit.record("logout.idle", actor=row.user, after={"idle_minutes": _settings()["idle_timeout_minutes"]})

        # best effort: while the lock is busy the session stays idle (refused again next time) and is ended later
        best_effort_write(end_idle)
        return None, True
    if (now - found.last_seen_at).total_seconds() > LAST_SEEN_WRITE_SECONDS:
        def touch() -> None:
            db.session.get(UserSession, session_id).last_seen_at = now

        # bookkeeping only: skipped (tried again on a later request) while someone else holds the write lock
        best_effort_write(touch)
        found = db.session.get(UserSession, session_id)
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
        token_id, user_id = row.id, row.user_id

        def touch() -> None:
            db.session.get(ApiToken, token_id).last_used_at = now

        best_effort_write(touch)  # never waits for the write lock: skipped and tried again later when busy
        return db.session.get(User, user_id)
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
    name = normalise_username(approver_username) or "?"
    approver = _verify(name, pin, "pin_hash", ip=ip, via="approval")
    if approver is None or not has_permission(approver.role, "approvals.grant"):
        _fail(name, ip, "approval", WRONG_PIN)
    with write_transaction():
        locked = _settle_success(name) is not None  # a lock taken while the PIN was being checked holds
    if locked:
        _refuse_locked_success(name, ip, "approval")
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


TILL_UNLOCK_ROLE = N_(
    "Only a cashier's PIN lock can be lifted at the till; the board unlocks this account under Users."
)
TILL_UNLOCK_OUTLET = N_("%(username)s works at another outlet: a manager there can lift the lock.")
TILL_UNLOCK_NOT_LOCKED = N_("%(username)s is not locked out.")
TILL_UNLOCK_PASSWORD = N_(
    "This lock came from wrong passwords: only the board can lift it, under Users, or it ends by itself in "
    "%(minutes)d minutes."
)
TILL_UNLOCK_OTHER_TILL = N_("%(username)s was locked out at another till: lift the lock at that till.")
_RESETS = ("login.success", "till.cashier_switched")


def _may_unlock_at_till(user: User) -> bool:
    """Till roles only: whoever may approve, manage users or work the back office is unlocked by the board."""
    return has_permission(user.role, "till.operate") and not any(
        has_permission(user.role, p) for p in ("approvals.grant", "users.manage")
    )


def _lock_is_from_pins_at(name: str, till_code: str, locked_until: dt.datetime) -> bool | None:
    """Whether every failure behind the name's lock was a wrong PIN at this till: True; a wrong password among them
    (or a PIN checked anywhere else than a till sign-in): None; PINs at another till only: False. The failures are
    read from the audit log, from the last time the count was cleared (a success or an unlock) or, at the earliest,
    as far back as a chain of failures within the window could have started."""
    s = _settings()
    window = dt.timedelta(minutes=s["login_lock_minutes"])
    since = locked_until - window * (s["login_max_failures"] + 1)
    e = AuditEntry
    reset = db.session.scalar(
        sa.select(sa.func.max(e.at)).where(
            e.at >= since,
            sa.or_(
                sa.and_(e.action.in_(_RESETS), e.actor_name == name),
                sa.and_(e.action == "login.unlocked", e.target_id == name),
            ),
        )
    )
    failures = db.session.scalars(
        sa.select(e.after).where(e.action == "login.failed", e.actor_name == name, e.at >= max(since, reset or since))
    ).all()
    vias = [(f or {}).get("via") for f in failures]
    if any(via != "pin" for via in vias):
        return None
    return all((f or {}).get("till") == till_code for f in failures)


def unlock_with_approval(username: str, approver_username: str, pin: str, till: Till, *, ip: str = "") -> User:
    """A cashier locked out by wrong PINs at this till is let back in by a manager's PIN. The manager's PIN is checked
    first, so this public form tells a stranger nothing about which usernames exist. Never a password lock (a
    manager's PIN would otherwise buy endless password guesses), never a manager's or the board's account, never a
    cashier of another outlet or one locked out at another till: those are the board's, on the Users page."""
    till_id, till_code = till.id, till.code
    approver = verify_approver(approver_username, pin, ip=ip)
    user = _get_user(username)
    if approver.id == user.id:
        raise PermissionDenied(N_("Someone else must approve your own request."))
    if not _may_unlock_at_till(user):
        raise PermissionDenied(TILL_UNLOCK_ROLE)
    with write_transaction():
        user = db.session.get(User, user.id)
        till = db.session.get(Till, till_id)
        if user.outlet_id is not None and user.outlet_id != till.outlet_id:
            raise PermissionDenied(TILL_UNLOCK_OUTLET, username=user.username)
        now = utcnow()
        locked_until = _locked_until(user.username, now)
        if locked_until is None:
            raise Conflict(TILL_UNLOCK_NOT_LOCKED, username=user.username)
        from_pins = _lock_is_from_pins_at(user.username, till_code, locked_until)
        if from_pins is None:
            raise PermissionDenied(TILL_UNLOCK_PASSWORD, minutes=_lock_minutes(locked_until, now))
        if not from_pins:
            raise PermissionDenied(TILL_UNLOCK_OTHER_TILL, username=user.username)
        approver = db.session.get(User, approver.id)
        audit.record("approval.unlock", actor=user, approver=approver, target_type="till", target_id=till_code,
                     after={"user": user.username}, ip=ip)
        _lift_lock(user.username, actor=user, approver=approver, ip=ip)
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
            full_name=_full_name(full_name),
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
