"""Who may do what: permissions per role, and the markers every view carries (no marker means denied)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pos.models import Role

F = TypeVar("F", bound=Callable)

PUBLIC = "public"
SIGNED_IN = "signed_in"

# Permission names are "<area>.<verb>"; *.view never changes anything, which is what pengawas gets.
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.KASIR: frozenset({"dashboard.view", "till.operate", "members.view", "savings.transact", "catalog.view",
                           "lookup.view"}),
    Role.APOTEKER: frozenset(
        {"dashboard.view", "till.operate", "members.view", "catalog.view", "lookup.view", "stock.view",
         "stock.manage"}
    ),
    Role.GUDANG: frozenset(
        {"dashboard.view", "outlets.view", "catalog.view", "lookup.view", "catalog.manage", "stock.view",
         "stock.manage"}
    ),
    Role.MANAJER: frozenset(
        {"dashboard.view", "till.operate", "outlets.view", "audit.view", "settings.view", "approvals.grant",
         "ledger.view", "members.view", "members.manage", "savings.transact", "catalog.view", "lookup.view",
         "catalog.manage", "stock.view", "stock.manage", "stock.approve", "devices.manage", "sales.view"}
    ),
    Role.PENGURUS: frozenset(
        {
            "dashboard.view",
            "outlets.view",
            "audit.view",
            "settings.view",
            "users.view",
            "users.manage",
            "approvals.grant",
            "ledger.view",
            "ledger.manage",
            "members.view",
            "members.manage",
            "members.nik",
            "savings.transact",
            "catalog.view",
            "lookup.view",
            "stock.view",
            "sales.view",
        }
    ),
    Role.PENGAWAS: frozenset(
        {"dashboard.view", "outlets.view", "audit.view", "settings.view", "users.view", "ledger.view", "members.view",
         "catalog.view", "lookup.view", "stock.view", "sales.view"}
    ),
}

# A cashier switched in by PIN on a till is limited to the till (with the product lookup it needs) and to
# signing out.
PIN_SESSION_PERMISSIONS = frozenset({"till.operate", "lookup.view", SIGNED_IN})


def has_permission(role: Role, permission: str) -> bool:
    if permission in (PUBLIC, SIGNED_IN):
        return True
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def require(permission: str, *, read_only_safe: bool = False) -> Callable[[F], F]:
    """Mark a view with the permission it needs. `read_only_safe` lets pengawas POST to it (own account only)."""

    def mark(view: F) -> F:
        view._kasir_permission = permission  # type: ignore[attr-defined]
        view._kasir_read_only_safe = read_only_safe  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    return require(PUBLIC, read_only_safe=True)(view)


def permission_of(view: Callable | None) -> str | None:
    return getattr(view, "_kasir_permission", None)
