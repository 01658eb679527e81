"""JSON API for programs and the till page: who am I, manager approvals."""

from __future__ import annotations

import json

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext

from pos import auth
from pos.errors import N_, InvalidInput
from pos.permissions import ROLE_PERMISSIONS, SIGNED_IN, require
from pos.web.security import client_ip

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_DETAIL_BYTES = 2000
APPROVAL_ACTIONS = frozenset({"price_override", "void_line", "void_sale", "refund", "no_sale", "discount", "unlock"})


@bp.get("/me")
@require(SIGNED_IN)
def me():
    user = g.user
    return jsonify(
        username=user.username,
        full_name=user.full_name,
        role=user.role.value,
        locale=user.locale,
        via=g.via,
        till=g.user_session.till.code if g.user_session is not None and g.user_session.till else None,
        permissions=sorted(ROLE_PERMISSIONS[user.role]),
    )


@bp.post("/approvals")
@require("till.operate")
def approvals():
    """A manager approves a restricted till action for the signed-in cashier with the manager's PIN."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(N_("Send a JSON object."))
    action = data.get("action")
    if not isinstance(action, str) or action not in APPROVAL_ACTIONS:
        raise InvalidInput(N_("Unknown action to approve."))
    reason = data.get("reason", "")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(N_("Give a reason for the approval."))
    detail = data.get("detail") or {}
    try:
        # allow_nan=False: NaN and 1e400 are not JSON, and PostgreSQL's json type refuses them.
        encoded = json.dumps(detail, allow_nan=False) if isinstance(detail, dict) else None
    except ValueError:
        encoded = None
    if encoded is None or len(encoded) > MAX_DETAIL_BYTES:
        raise InvalidInput(N_("The approval details must be a small JSON object."))
    for name in ("approver", "pin"):
        if not isinstance(data.get(name, ""), str):
            raise InvalidInput(N_("Send a JSON object."))
    granted = auth.grant(
        g.user,
        str(data.get("approver", "")),
        str(data.get("pin", "")),
        action,
        reason=reason.strip()[:250],
        detail=detail,
        ip=client_ip(),
    )
    return jsonify(
        approved=True,
        action=action,
        requester=g.user.username,
        approver=granted.approver.username,
        approval=granted.token,
        expires_at=granted.expires_at.isoformat(),
        message=gettext("Approved by %(name)s.", name=granted.approver.full_name or granted.approver.username),
    ), 201


def _today():
    from pos.web.templating import local_today

    return local_today()


@bp.get("/products/lookup")
@require("lookup.view")
def product_lookup():
    """Any barcode (GTIN, variable-measure, GS1 element string) or SKU to what the till needs."""
    from inventory import lookup
    from inventory.services import location_by_code

    code = request.args.get("code", "")
    if not code.strip():
        raise InvalidInput(N_("Give a code to look up."))
    location = location_by_code(request.args["lokasi"]) if request.args.get("lokasi") else None
    return jsonify(lookup.resolve(code, _today(), location))


@bp.get("/products/search")
@require("lookup.view")
def product_search():
    """Names as you type: every typed word must start a word of the name."""
    from inventory import catalog
    from inventory.lookup import unit_prices

    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), 50)
    found = catalog.search(request.args.get("q", ""), limit=limit)
    results = []
    for product in found:
        base = next(u for u in product.units if u.factor == 1)
        public, member = unit_prices(product, base)
        results.append({"id": product.id, "sku": product.sku, "name": product.name, "base_unit": product.base_unit,
                        "public_price": public, "member_price": member, "tax_code": product.tax_code.value})
    return jsonify(results=results)
