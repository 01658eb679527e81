"""The OpenAPI 3.1 document of /api/v1, written by hand next to the routes it describes; tests check it against the
route table and validate real answers against its schemas."""

from __future__ import annotations

from flask import Blueprint, jsonify

from pos.permissions import public

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

MONEY = {"type": "integer", "minimum": 0, "description": "whole rupiah"}
SIGNED_MONEY = {"type": "integer", "description": "whole rupiah, may be negative"}
QTY = {"type": "string", "pattern": r"^\d+(\.\d{1,3})?$", "description": "a decimal with a point, e.g. 1.25"}
QTY_IN = {"oneOf": [{"type": "integer", "minimum": 1}, QTY],
          "description": "a whole number, or a decimal string with a point and at most 3 places"}
METHOD = {"type": "string", "enum": ["cash", "qris", "transfer", "debit", "kasbon"]}
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None, extra: bool = False, **more) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(properties) if required is None
              else required, "additionalProperties": extra}
    schema.update(more)
    return schema


SCHEMAS = {
    "Error": obj({"error": {"type": "string", "description": "machine code, e.g. invalid_input, not_found"},
                  "message": {"type": "string", "description": "translated, for people"},
                  "details": obj({"field": {"type": "string", "description": "the input it is about: lines[0].qty"}})},
                 required=["error", "message"]),
    "Member": {"type": ["object", "null"], "properties": {"number": TEXT, "name": TEXT},
               "required": ["number", "name"], "additionalProperties": False},
    "Me": obj({"username": TEXT, "full_name": TEXT, "role": TEXT, "locale": TEXT, "via": TEXT, "till": NULLABLE_TEXT,
               "permissions": {"type": "array", "items": TEXT}}),
    "ApprovalRequest": obj({"action": {"type": "string", "enum": ["price_override", "void_line", "void_sale", "refund",
                                                                  "no_sale", "discount", "unlock"]},
                            "approver": TEXT, "pin": TEXT, "reason": TEXT,
                            "detail": {"type": "object", "description": "what is approved: {code, price}, {code, "
                                       "discount}, {receipt: 1, discount}, {sale: number}"}},
                           required=["action", "approver", "pin", "reason"]),
    "Approval": obj({"approved": {"type": "boolean"}, "action": TEXT, "requester": TEXT, "approver": TEXT,
                     "approval": {"type": "string", "description": "one-time token to send with the action"},
                     "expires_at": {"type": "string", "format": "date-time"}, "message": TEXT}),
    "ProductLookup": obj({"code": TEXT, "kind": TEXT, "product": {"type": "object"}, "unit": {"type": "object"},
                          "quantity": QTY, "prices": {"type": "object"}, "batches": {"type": "array"},
                          "gs1": {"type": ["object", "null"]}}),
    "ProductSearch": obj({"results": {"type": "array", "items": obj({
        "id": {"type": "integer"}, "sku": TEXT, "name": TEXT, "base_unit": TEXT, "public_price": MONEY,
        "member_price": MONEY, "tax_code": TEXT})}}),
    "Members": obj({"results": {"type": "array", "items": ref("Member")}}),
    "CartLineIn": obj({
        "code": {"type": "string", "maxLength": 60, "description": "barcode (EAN, scale label, GS1) or SKU"},
        "qty": QTY_IN, "unit": {"type": "string", "description": "sell in another unit of the product (karung)"},
        "discount": MONEY, "price_override": MONEY,
        "approval": {"type": "string", "description": "token of a manager's approval for price_override/discount"},
        "batch": {"type": "string", "description": "a lot instead of FEFO's first"}, "batch_reason": TEXT,
        "name": {"description": "ignored"}, "price": {"description": "ignored: the server prices every line"},
        "unit_price": {"description": "ignored"}, "total": {"description": "ignored"},
    }, required=["code"]),
    "CartIn": obj({"till": TEXT, "member": {"type": ["string", "null"], "description": "member number or card code"},
                   "lines": {"type": "array", "items": ref("CartLineIn"), "maxItems": 200},
                   "discount": MONEY, "approval": TEXT}, required=["till", "lines"]),
    "Cart": obj({
        "till": TEXT, "member": ref("Member"),
        "lines": {"type": "array", "items": obj({
            "line": {"type": "integer"}, "code": TEXT, "product": TEXT, "name": TEXT, "unit": TEXT,
            "units": {"type": "array", "items": TEXT}, "qty": QTY, "unit_price": MONEY,
            "tier": {"type": "string", "enum": ["public", "member", "wholesale", "override", "label"]},
            "gross": MONEY, "discount": MONEY, "total": MONEY, "net": MONEY, "ppn": MONEY, "tax_code": TEXT,
            "from_label": {"type": "boolean"}, "sell_by_weight": {"type": "boolean"},
            "capped_at_het": {"type": "boolean"}, "approved_by": NULLABLE_TEXT,
            "available": {**QTY, "description": "on the shelf, in the line's unit"}})},
        "subtotal": MONEY, "discount": MONEY, "total": MONEY, "tax": MONEY, "dpp": MONEY,
        "quick_amounts": {"type": "array", "items": MONEY}}),
    "PaymentIn": obj({"method": METHOD, "amount": {"type": "integer", "minimum": 1,
                                                   "description": "for cash, what the customer handed over"},
                      "reference": {"type": "string", "maxLength": 40,
                                    "description": "transfer reference; debit card: the EDC approval code"}},
                     required=["method", "amount"]),
    "SaleIn": {"allOf": [ref("CartIn"), {"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid", "description": "made by the till, once per sale"},
        "payments": {"type": "array", "items": ref("PaymentIn"), "minItems": 1, "maxItems": 6}},
        "required": ["id", "payments"]}]},
    "Sale": obj({
        "id": {"type": "string", "format": "uuid"}, "number": TEXT,
        "status": {"type": "string", "enum": ["pending", "completed", "cancelled", "voided"]},
        "till": TEXT, "shift": TEXT, "cashier": TEXT, "member": ref("Member"),
        "business_date": {"type": "string", "format": "date"}, "created_at": {"type": "string", "format": "date-time"},
        "subtotal": MONEY, "discount": MONEY, "rounding": SIGNED_MONEY, "total": MONEY, "tax": MONEY, "dpp": MONEY,
        "tendered": MONEY, "change": MONEY,
        "lines": {"type": "array", "items": obj({
            "line": {"type": "integer"}, "code": TEXT, "name": TEXT, "unit": TEXT, "qty": QTY, "unit_price": MONEY,
            "tier": TEXT, "gross": MONEY, "discount": MONEY, "total": MONEY, "net": MONEY, "tax_code": TEXT,
            "ppn": MONEY, "returned_qty": QTY})},
        "payments": {"type": "array", "items": obj({"method": METHOD, "amount": MONEY, "tendered": MONEY,
                                                    "reference": TEXT})},
        "qris": {"type": ["object", "null"], "properties": {"payload": TEXT, "amount": MONEY},
                 "required": ["payload", "amount"], "additionalProperties": False},
        "returns": {"type": "array", "items": obj({"id": TEXT, "number": TEXT, "total": MONEY})},
        "receipt_url": TEXT}),
    "Sales": obj({"results": {"type": "array", "items": ref("Sale")}}),
    "Receipt": obj({"number": TEXT, "html": TEXT}),
    "Reprint": obj({"number": TEXT, "copy": {"type": "integer"}, "message": TEXT}),
    "CancelIn": obj({"reason": TEXT}, required=[]),
    "VoidIn": obj({"approval": {"type": "string", "description": "token of a void_sale approval {sale: number}"},
                   "reason": TEXT}),
    "ReturnIn": obj({"id": {"type": "string", "format": "uuid"}, "till": TEXT,
                     "lines": {"type": "array", "minItems": 1,
                               "items": obj({"line": {"type": "integer", "minimum": 1}, "qty": QTY_IN})},
                     "refund": {"type": "string", "enum": ["original", "cash"]},
                     "approval": {"type": "string", "description": "token of a refund approval {sale: number}"},
                     "reason": TEXT}, required=["id", "till", "lines", "approval", "reason"]),
    "Return": obj({"id": TEXT, "number": TEXT, "sale": TEXT, "total": MONEY, "tax": MONEY, "approved_by": TEXT,
                   "reason": TEXT, "lines": {"type": "array", "items": obj({"line": {"type": "integer"}, "qty": QTY,
                                                                            "amount": MONEY})},
                   "refunds": {"type": "array", "items": obj({"method": METHOD, "amount": MONEY})}}),
    "ShiftIn": obj({"till": TEXT, "opening_float": MONEY}),
    "CloseIn": obj({"counted_cash": MONEY,
                    "denominations": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                                      "description": "pieces per note or coin: {\"100000\": 3, \"500\": 4}"},
                    "counted": {"type": "object", "additionalProperties": MONEY,
                                "description": "other methods' own totals (the EDC's settlement, the QRIS app)"}},
                   required=[]),
    "Shift": obj({
        "id": {"type": "integer"}, "number": TEXT, "till": TEXT, "status": {"type": "string",
                                                                             "enum": ["open", "closed"]},
        "opened_by": TEXT, "opened_at": {"type": "string", "format": "date-time"},
        "business_date": {"type": "string", "format": "date"}, "opening_float": MONEY,
        "closed_at": {"type": ["string", "null"]}, "closed_by": NULLABLE_TEXT, "sale_count": {"type": "integer"},
        "refund_count": {"type": "integer"}, "void_count": {"type": "integer"}, "pending_count": {"type": "integer"},
        "methods": {"type": "array", "items": obj({"method": METHOD, "label": TEXT, "sales": MONEY, "refunds": MONEY,
                                                   "expected": SIGNED_MONEY,
                                                   "counted": {"type": ["integer", "null"]}})},
        "expected_cash": SIGNED_MONEY, "counted_cash": {"type": ["integer", "null"]},
        "difference": {"type": ["integer", "null"]}, "denominations": {"type": "array", "items": MONEY},
        "report_url": TEXT}, required=["id", "number", "till", "status", "methods", "expected_cash"]),
    "Shifts": obj({"results": {"type": "array", "items": ref("Shift")}}),
    "HeldIn": obj({"till": TEXT, "cart": {"type": "object", "properties": {"member": NULLABLE_TEXT,
                                                                           "lines": {"type": "array"}}},
                   "label": TEXT}, required=["till", "cart"]),
    "Held": obj({"id": {"type": "integer"}, "label": TEXT, "lines": {"type": "integer"}, "total": MONEY,
                 "held_by": TEXT, "held_at": {"type": "string", "format": "date-time"}, "cart": {"type": "object"}}),
    "HeldList": obj({"results": {"type": "array", "items": ref("Held")}}),
    "TillIn": obj({"till": TEXT}),
}


def _json(schema: str) -> dict:
    return {"application/json": {"schema": ref(schema)}}


def answer(status: str, schema: str, description: str) -> dict:
    return {status: {"description": description, "content": _json(schema)}}


def errors(*codes: str) -> dict:
    text = {"400": "bad input (the field is named in details)", "401": "not signed in or a wrong token",
            "403": "not allowed (role, another till, a missing approval)", "404": "not found",
            "409": "conflicts with what is there (no open shift, the same id with other content, stock)",
            "429": "locked after too many wrong PINs", "503": "the database is busy: try again (Retry-After)"}
    return {code: {"description": text[code], "content": _json("Error")} for code in codes}


def op(summary: str, responses: dict, body: str | None = None, params: list | None = None) -> dict:
    operation = {"summary": summary, "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if params:
        operation["parameters"] = params
    return operation


def query(name: str, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}}


def path_param(name: str, description: str, kind: str = "string") -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": kind}}


SALE_ID = path_param("identifier", "the sale's UUID or its receipt number")
SHIFT_ID = path_param("shift_id", "the shift's id", "integer")
HELD_ID = path_param("held_id", "the held cart's id", "integer")
COMMON = ("400", "401", "403", "404", "409", "503")

PATHS = {
    "/api/v1/me": {"get": op("Who the caller is", {**answer("200", "Me", "the signed-in user"), **errors("401")})},
    "/api/v1/openapi.json": {"get": op("This document", {"200": {"description": "OpenAPI 3.1",
                                                                 "content": {"application/json": {}}}})},
    "/api/v1/approvals": {"post": op("A manager approves a restricted till action with their PIN",
                                     {**answer("201", "Approval", "approved; the token is used once"),
                                      **errors("400", "401", "403", "429")}, "ApprovalRequest")},
    "/api/v1/products/lookup": {"get": op("Any barcode or SKU to what the till needs",
                                          {**answer("200", "ProductLookup", "the product"), **errors("400", "404")},
                                          params=[query("code", "barcode, GS1 string or SKU", True),
                                                  query("lokasi", "a stock location code for its batches")])},
    "/api/v1/products/search": {"get": op("Search as you type: name words, SKU or barcode",
                                          answer("200", "ProductSearch", "up to `limit` products"),
                                          params=[query("q", "what was typed"), query("limit", "1 to 50")])},
    "/api/v1/members": {"get": op("Members by card scan, number or name",
                                  answer("200", "Members", "active members"), params=[query("q", "what was typed")])},
    "/api/v1/cart": {"post": op("Price a cart exactly as the checkout will; shows it on the customer displays",
                                {**answer("200", "Cart", "the priced cart"), **errors(*COMMON)}, "CartIn")},
    "/api/v1/shifts": {
        "get": op("The till's shifts", {**answer("200", "Shifts", "latest first"), **errors("404")},
                  params=[query("till", "till code", True), query("status", "open: only the open one")]),
        "post": op("Open a shift with the counted float",
                   {**answer("201", "Shift", "opened"), **answer("200", "Shift", "the same opening again"),
                    **errors(*COMMON)}, "ShiftIn")},
    "/api/v1/shifts/{shift_id}": {"get": op("A shift with its figures per payment method",
                                            {**answer("200", "Shift", "the shift"), **errors("404")},
                                            params=[SHIFT_ID])},
    "/api/v1/shifts/{shift_id}/x": {"post": op("Print the X report; the shift goes on",
                                               {**answer("200", "Shift", "the running figures"), **errors(*COMMON)},
                                               params=[SHIFT_ID])},
    "/api/v1/shifts/{shift_id}/close": {"post": op(
        "Close with the counted cash; over or short posted; the Z report printed and kept",
        {**answer("200", "Shift", "closed (or the same close again)"), **errors(*COMMON)}, "CloseIn",
        params=[SHIFT_ID])},
    "/api/v1/sales": {
        "get": op("The till's sales of a day, or by number, member or total",
                  {**answer("200", "Sales", "latest first"), **errors("400", "404")},
                  params=[query("till", "till code", True), query("date", "YYYY-MM-DD, default today"),
                          query("q", "part of a receipt number"), query("member", "member number or name"),
                          query("amount", "the total, e.g. 25.000")]),
        "post": op("Complete a sale, once per id: 201 first, 200 with the same body for a retry, 409 for the same "
                   "id with other content. A QRIS payment leaves it pending.",
                   {**answer("201", "Sale", "created"), **answer("200", "Sale", "the same request again"),
                    **errors(*COMMON)}, "SaleIn")},
    "/api/v1/sales/{identifier}": {"get": op("One sale", {**answer("200", "Sale", "the sale"), **errors("404")},
                                             params=[SALE_ID])},
    "/api/v1/sales/{identifier}/receipt": {"get": op("The receipt as printed (HTML)",
                                                     {**answer("200", "Receipt", "its HTML"), **errors("404")},
                                                     params=[SALE_ID])},
    "/api/v1/sales/{identifier}/confirm": {"post": op("The QRIS money arrived: complete the pending sale",
                                                      {**answer("200", "Sale", "completed"), **errors(*COMMON)},
                                                      params=[SALE_ID])},
    "/api/v1/sales/{identifier}/cancel": {"post": op("Give up a pending QRIS sale: stock back, number kept",
                                                     {**answer("200", "Sale", "cancelled"), **errors(*COMMON)},
                                                     "CancelIn", params=[SALE_ID])},
    "/api/v1/sales/{identifier}/void": {"post": op("Void a sale of the open shift (manager's approval)",
                                                   {**answer("200", "Sale", "voided"), **errors(*COMMON)}, "VoidIn",
                                                   params=[SALE_ID])},
    "/api/v1/sales/{identifier}/returns": {"post": op(
        "Take goods back (manager's approval), once per id", {**answer("201", "Return", "created"),
                                                              **answer("200", "Return", "the same request again"),
                                                              **errors(*COMMON)}, "ReturnIn", params=[SALE_ID])},
    "/api/v1/sales/{identifier}/reprint": {"post": op("Print a copy marked SALINAN",
                                                      {**answer("201", "Reprint", "queued"), **errors("404")},
                                                      params=[SALE_ID])},
    "/api/v1/held": {
        "get": op("Carts on hold at the till's outlet", answer("200", "HeldList", "oldest first"),
                  params=[query("till", "till code", True)]),
        "post": op("Put a cart aside", {**answer("201", "Held", "held"), **errors(*COMMON)}, "HeldIn")},
    "/api/v1/held/{held_id}/resume": {"post": op("Take a held cart back", {**answer("200", "Held", "taken"),
                                                                           **errors(*COMMON)}, "TillIn",
                                                 params=[HELD_ID])},
    "/api/v1/held/{held_id}/discard": {"post": op("Let a held cart go", {**answer("200", "Held", "discarded"),
                                                                         **errors(*COMMON)}, "TillIn",
                                                  params=[HELD_ID])},
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kasir Koperasi API", "version": "1",
                 "description": "The till's API. Sign in with the session cookie (send X-CSRFToken on POST) or "
                                "`Authorization: Bearer kk_...`. Money is whole rupiah (integers); quantities are "
                                "decimal strings with a point. Errors: {error, message, details.field}."},
        "servers": [{"url": "/"}],
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "kasir_session"}}},
        "security": [{"bearer": []}, {"session": []}],
        "paths": PATHS,
    }


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(document())
