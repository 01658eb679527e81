"""Dashboard per role, health check, outlets and tills, effective settings."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, render_template

from config.defaults import SETTINGS
from pos import health
from pos.db import db, utcnow
from pos.models import AuditEntry, BusinessUnit, LoginThrottle, Role, Till, User, UserSession
from pos.permissions import has_permission, public, require

bp = Blueprint("main", __name__)
HIDDEN_SETTINGS = {"secret_key", "database_url"}


def served_tills() -> list[Till]:
    query = sa.select(Till).where(Till.active.is_(True)).order_by(Till.code)
    codes = current_app.config["KASIR"]["outlets"]
    if codes:
        from pos.models import Outlet

        query = query.join(Outlet).where(Outlet.code.in_(codes))
    return list(db.session.scalars(query))


@bp.get("/")
@require("dashboard.view")
def dashboard():
    role = g.user.role
    context: dict = {"role": role, "now": utcnow()}
    if has_permission(role, "till.operate"):
        context["tills"] = served_tills()
    if has_permission(role, "outlets.view"):
        context["units"] = db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code)).all()
    if has_permission(role, "audit.view"):
        context["recent_audit"] = db.session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)
        ).all()
        context["locked_count"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(LoginThrottle).where(LoginThrottle.locked_until > utcnow())
        )
        since = utcnow() - dt.timedelta(days=1)
        context["failed_today"] = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "login.failed", AuditEntry.at >= since)
        )
    if has_permission(role, "users.view"):
        rows = db.session.execute(
            sa.select(User.role, sa.func.count()).where(User.active.is_(True)).group_by(User.role)
        ).all()
        context["users_by_role"] = {r.value: 0 for r in Role} | {r.value: n for r, n in rows}
        context["open_sessions"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))
        )
    if has_permission(role, "sales.view"):
        from pos.sales.models import Sale, Shift
        from pos.sales.services import overnight_shifts
        from pos.web.templating import local_today

        count, total = db.session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Sale.total), 0))
            .where(Sale.business_date == local_today(), Sale.status == "completed")).one()
        context["sales_today"] = {"count": count, "total": int(total),
                                  "open_shifts": db.session.scalar(sa.select(sa.func.count()).select_from(Shift)
                                                                   .where(Shift.status == "open")),
                                  "overnight": overnight_shifts()}
    if has_permission(role, "ledger.view"):
        from ledger import reports

        today = utcnow().date()
        context["books"] = {
            "position": reports.financial_position(today),
            "year": reports.income_statement(reports.Scope(dt.date(today.year, 1, 1), today)),
        }
    if has_permission(role, "stock.view"):
        from inventory.reports import attention
        from pos.web.templating import local_today

        context["stock"] = attention(local_today())  # three counts in SQL, not the whole stock overview
    if has_permission(role, "members.view"):
        from ledger.members import wajib_arrears_count
        from ledger.models import Member, MemberStatus
        from pos.web.templating import local_today

        context["member_count"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(Member).where(Member.status == MemberStatus.ACTIVE)
        )
        context["arrears_count"] = wajib_arrears_count(local_today())  # one SQL count
    return render_template("dashboard.html", **context)


@bp.get("/css/<any(receipt, labels):name>.css")
@public
def package_css(name: str):
    """The receipts package's own stylesheets (the HTML it renders carries classes, never inline styles)."""
    from flask import Response

    from receipts.html import RECEIPT_CSS
    from receipts.labels import LABEL_SHEET_CSS

    css = RECEIPT_CSS if name == "receipt" else LABEL_SHEET_CSS
    return Response(css, mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/healthz")
@public
def healthz():
    ok, report = health.check(current_app)
    response = jsonify(report)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/outlets")
@require("outlets.view")
def outlets():
    units = db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code)).all()
    return render_template("outlets.html", units=units)


@bp.get("/settings")
@require("settings.view")
def settings():
    effective = current_app.config["KASIR"]
    rows = [
        (name, "••••••" if name in HIDDEN_SETTINGS else effective[name], default)
        for name, (default, _doc) in SETTINGS.items()
    ]
    db_kind = db.engine.dialect.name
    return render_template("settings.html", rows=rows, db_kind=db_kind)
