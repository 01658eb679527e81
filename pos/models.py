"""Tables of the foundation: business units, outlets, tills, users, sessions, API tokens, throttles, audit log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pos.db import Base, UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    KASIR = "kasir"
    APOTEKER = "apoteker"
    GUDANG = "gudang"
    MANAJER = "manajer"
    PENGURUS = "pengurus"
    PENGAWAS = "pengawas"


class UnitKind(enum.StrEnum):
    TOKO = "toko"
    APOTEK = "apotek"
    GUDANG = "gudang"
    SIMPAN_PINJAM = "simpan_pinjam"


class BusinessUnit(Base):
    __tablename__ = "business_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))

    outlets: Mapped[list[Outlet]] = relationship(back_populates="unit", order_by="Outlet.code")


class Outlet(Base):
    __tablename__ = "outlet"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    address: Mapped[str] = mapped_column(sa.String(250), default="")
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("business_unit.id"), index=True)
    # None means the cooperative's default timezone from the settings.
    timezone: Mapped[str | None] = mapped_column(sa.String(40))
    # The outlet's static QRIS string as its bank issued it (checked when saved); empty: no QRIS here.
    qris_payload: Mapped[str] = mapped_column(sa.String(512), default="")

    unit: Mapped[BusinessUnit] = relationship(back_populates="outlets")
    tills: Mapped[list[Till]] = relationship(back_populates="outlet", order_by="Till.code")


class Till(Base):
    __tablename__ = "till"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlet.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Devices: connection strings as drivers.connectors parses them; empty printer means the instance's
    # "save to folder" printer (instance/printer-out/), so a shop without a printer still sees receipts.
    printer: Mapped[str] = mapped_column(sa.String(200), default="")
    printer_profile: Mapped[str] = mapped_column(sa.String(30), default="TM-T20II")
    drawer_pin: Mapped[int] = mapped_column(default=2)
    scanner_port: Mapped[str] = mapped_column(sa.String(200), default="")
    scale_port: Mapped[str] = mapped_column(sa.String(200), default="")
    scale_protocol: Mapped[str] = mapped_column(sa.String(20), default="")
    display_port: Mapped[str] = mapped_column(sa.String(200), default="")
    display_commands: Mapped[str] = mapped_column(sa.String(20), default="")

    outlet: Mapped[Outlet] = relationship(back_populates="tills")

    __table_args__ = (sa.CheckConstraint("drawer_pin IN (2, 5)", name="drawer_pin"),)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    pin_hash: Mapped[str | None] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(5), default="id")
    active: Mapped[bool] = mapped_column(default=True)
    outlet_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outlet.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    outlet: Mapped[Outlet | None] = relationship()

    __table_args__ = (sa.CheckConstraint("locale IN ('id', 'en')", name="locale"),)


class LoginThrottle(Base):
    """Failed sign-ins per typed username, known or not, so a lock never tells whether an account exists."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A server-side session: the cookie holds only its random id, so logout and renewal really end it."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    # 'password' for the back office; 'pin' for a cashier switched in on a till (till pages only).
    method: Mapped[str] = mapped_column(sa.String(10))
    till_id: Mapped[int | None] = mapped_column(sa.ForeignKey("till.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")

    user: Mapped[User] = relationship()
    till: Mapped[Till | None] = relationship()

    __table_args__ = (sa.CheckConstraint("method IN ('password', 'pin')", name="method"),)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """Who did what, when, with the state before and after; an approver when a manager allowed it."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(40), default="")
    approver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    approver_name: Mapped[str] = mapped_column(sa.String(40), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40), default="")
    target_id: Mapped[str] = mapped_column(sa.String(60), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.String(250), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")


class Approval(Base):
    """A manager's yes to one restricted till action, used once: the till gets a token, the sale or return that
    carries it is allowed in the same transaction that marks it used (a copy of the request cannot use it again)."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    action: Mapped[str] = mapped_column(sa.String(30))
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    approver_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.String(250), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_for: Mapped[str] = mapped_column(sa.String(80), default="")

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    approver: Mapped[User] = relationship(foreign_keys=[approver_id])


class SystemFlag(Base):
    """Facts about the database itself, e.g. that the demo cooperative was loaded into it."""

    __tablename__ = "system_flag"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(250), default="")
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrintJob(Base):
    """A print waiting for, or done by, a printer. Stored before printing, so a printer that is off never
    costs a receipt; printed exactly once per job; reprints are new jobs marked as copies (SALINAN)."""

    __tablename__ = "print_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    till_id: Mapped[int | None] = mapped_column(sa.ForeignKey("till.id"), index=True)
    printer: Mapped[str] = mapped_column(sa.String(200), index=True)
    profile: Mapped[str] = mapped_column(sa.String(30))
    kind: Mapped[str] = mapped_column(sa.String(20))
    source_type: Mapped[str] = mapped_column(sa.String(40))
    source_id: Mapped[str] = mapped_column(sa.String(80))
    copy: Mapped[int] = mapped_column(default=0)
    document: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    html: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.String(250), default="")
    created_by: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    till: Mapped[Till | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("source_type", "source_id", "copy", name="uq_print_job_source"),
        sa.CheckConstraint("status IN ('queued', 'printing', 'done', 'held')", name="status"),
    )


class FormUse(Base):
    """A form that moved money or stock, by its one-time token: inserted in the same transaction as what the form
    did, so a double click, a resent POST or a retry takes effect once and is shown the first result."""

    __tablename__ = "form_use"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    result_url: Mapped[str] = mapped_column(sa.String(300), default="")
    # sha256 of the form's fields: the same token back with other values is refused (409), not shown as done
    digest: Mapped[str] = mapped_column(sa.String(64), default="")
    used_by: Mapped[str] = mapped_column(sa.String(40), default="")
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """A long piece of back-office work (a catalog import, a rebuild) run in the background in short chunks, each
    chunk its own write transaction, so the till never waits for more than one chunk. Its progress and outcome
    live here, so the job page can show them and a job cut off by a restart resumes where it stopped."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    # queued, running, done, failed, cancelled
    state: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # where the job has got to (a row number, an id): the next chunk starts after it
    cursor: Mapped[str] = mapped_column(sa.String(200), default="")
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    done: Mapped[int] = mapped_column(sa.Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
