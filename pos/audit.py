"""Append entries to the audit log inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from pos.db import db
from pos.models import AuditEntry, User


def record(
    action: str,
    *,
    actor: User | None = None,
    actor_name: str | None = None,
    target_type: str = "",
    target_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    approver: User | None = None,
    reason: str = "",
    ip: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor.id if actor else None,
        actor_name=(actor.username if actor else (actor_name or ""))[:40],
        approver_id=approver.id if approver else None,
        approver_name=approver.username if approver else "",
        target_type=target_type,
        target_id=str(target_id)[:60],
        before=before,
        after=after,
        reason=reason[:250],
        ip=ip[:64],
    )
    db.session.add(entry)
    return entry
