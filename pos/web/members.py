"""Members at the savings desk: register, find, deposit, withdraw, repay kasbon; slips, cards, statements, arrears."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ledger import members as service
from ledger.export import Table, to_csv, to_xlsx
from ledger.models import Account, JournalEntry, Member, MemberStatus, Posting, SavingsKind, Slip, SlipKind
from ledger.posting_rules import PIUTANG_ANGGOTA, simpanan
from ledger.reports import MemberAccountStatement, Scope, member_statement
from pos.db import db, write_transaction
from pos.errors import N_, InvalidInput, PosError
from pos.models import PrintJob, User
from pos.money import parse_rupiah
from pos.permissions import has_permission, require
from pos.web import once
from pos.web.params import parse_date_text
from pos.web.templating import local_today
from receipts.barcodes import code128_png

bp = Blueprint("members", __name__, url_prefix="/anggota")

PAGE_SIZE = 50
RECENT_SLIPS = 20
MAX_QUERY = 60
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SAVINGS_LABELS = {
    SavingsKind.POKOK: _l("Simpanan pokok"),
    SavingsKind.WAJIB: _l("Simpanan wajib"),
    SavingsKind.SUKARELA: _l("Simpanan sukarela"),
}
SLIP_LABELS = {
    SlipKind.DEPOSIT: _l("Deposit"),
    SlipKind.WITHDRAWAL: _l("Withdrawal"),
    SlipKind.KASBON_REPAYMENT: _l("Kasbon repayment"),
    SlipKind.EXIT: _l("Savings paid back on leaving"),
}
STATUS_LABELS = {MemberStatus.ACTIVE: _l("Active"), MemberStatus.LEFT: _l("Left")}


# --- helpers ------------------------------------------------------------------------------------


def _today() -> dt.date:
    return local_today()


def _parse_date(text: str | None, default: dt.date, *, allow_future: bool = False, field: str = "date") -> dt.date:
    text = (text or "").strip()
    if not text:
        return default
    value = parse_date_text(text, field)
    if not allow_future and value > _today():
        raise InvalidInput(N_("The date %(date)s is in the future."), date=value.strftime("%d/%m/%Y")).at(field)
    return value


def _can_see_nik() -> bool:
    return has_permission(g.user.role, "members.nik")


def _shown_nik(member: Member) -> str:
    return member.nik if _can_see_nik() else service.mask_nik(member.nik)


def _flash_error(exc: PosError) -> None:
    flash(gettext(exc.message, **exc.params), "error")


def _labels() -> dict:
    return {
        "savings_labels": SAVINGS_LABELS,
        "slip_labels": SLIP_LABELS,
        "status_labels": STATUS_LABELS,
        "shown_nik": _shown_nik,
        "savings_kinds": list(SavingsKind),
    }


def _download(table: Table, fmt: str, filename: str) -> Response:
    # Sheet names are translated; Excel refuses some characters in them (and openpyxl raises).
    table.title = re.sub(r"[\[\]:*?/\\]", " ", table.title).strip()
    if fmt == "xlsx":
        body, mimetype, ext = to_xlsx(table), XLSX_TYPE, "xlsx"
    else:
        body, mimetype, ext = to_csv(table), "text/csv; charset=utf-8", "csv"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{ext}"'
    return response


def _export_format() -> str | None:
    fmt = request.args.get("format", "").strip().lower()
    return fmt if fmt in ("csv", "xlsx") else None


def _balance_after(slip: Slip) -> int:
    """The balance the slip left behind: every posting of its member and account up to and including its own entry.

    Ordered by entry, not by date, so a reprint shows what the first print showed even when later slips are
    dated the same day or earlier.
    """
    if slip.kind == SlipKind.KASBON_REPAYMENT:
        key, sign = PIUTANG_ANGGOTA, -1
    else:
        key, sign = simpanan((slip.savings_kind or SavingsKind.SUKARELA).value), 1
    total = db.session.scalar(
        service.member_postings(sa.func.coalesce(sa.func.sum(Posting.credit - Posting.debit), 0))
        .where(Posting.member_id == slip.member_id, Account.key == key, JournalEntry.id <= slip.entry_id)
    )
    return sign * int(total)


# --- list and search ----------------------------------------------------------------------------


@bp.get("/")
@require("members.view")
def index():
    """Members by number, a page at a time (keyset: ?setelah=/?sebelum= a member id), found by number, name, phone
    or (for who may see it) NIK."""
    from pos.web import paging

    q = request.args.get("q", "").strip()[:MAX_QUERY]
    status = request.args.get("status", "").strip()
    query = sa.select(Member)
    if q:
        needle = q.lower()
        conditions = [
            sa.func.lower(Member.number).contains(needle, autoescape=True),
            sa.func.lower(Member.name).contains(needle, autoescape=True),
        ]
        digits = re.sub(r"[\s\-().+]", "", q)
        if digits.isdigit() and len(digits) >= 3:
            conditions.append(Member.phone.contains(digits, autoescape=True))
            if digits.startswith("0"):  # typed 0812..., stored +62812... or 62812...
                conditions.append(Member.phone.contains(digits[1:], autoescape=True))
            if len(digits) == 16 and _can_see_nik():
                conditions.append(Member.nik == digits)
        query = query.where(sa.or_(*conditions))
    if status in (MemberStatus.ACTIVE.value, MemberStatus.LEFT.value):
        query = query.where(Member.status == MemberStatus(status))
    else:
        status = ""
    page = paging.keyset(
        query, (Member.number,), size=PAGE_SIZE, args={"q": q, "status": status}, position=not q,
        key_of=lambda member_id: db.session.execute(sa.select(Member.number).where(Member.id == member_id)).first(),
    )
    return render_template("members/index.html", members=page.rows, page=page, q=q, status=status, **_labels())


# --- registration -------------------------------------------------------------------------------

REGISTRATION_FIELDS = ("name", "nik", "address", "rt", "rw", "kelurahan", "phone", "join_date")


def _registration_page(form: dict, status: int = 200):
    return (
        render_template(
            "members/new.html",
            form=form,
            today=_today(),
            pokok_amount=current_app.config["KASIR"]["simpanan_pokok_amount"],
        ),
        status,
    )


@bp.get("/baru")
@require("members.manage")
def new():
    return _registration_page({"join_date": _today().isoformat()})


@bp.post("/baru")
@require("members.manage")
def create():
    form = {name: request.form.get(name, "") for name in REGISTRATION_FIELDS}
    try:
        data = service.MemberInput(
            name=form["name"],
            nik=form["nik"],
            address=form["address"],
            rt=form["rt"],
            rw=form["rw"],
            kelurahan=form["kelurahan"],
            phone=form["phone"],
            join_date=_parse_date(form["join_date"], _today(), field="join_date"),
        )
        with write_transaction():
            member = service.register_member(data, g.user)
            number, name = member.number, member.name
    except PosError as exc:
        _flash_error(exc)
        return _registration_page(form, 400)
    flash(gettext("%(number)s %(name)s is now a member.", number=number, name=name), "success")
    return redirect(url_for("members.show", number=number))


# --- the member's page and the desk's forms -----------------------------------------------------


def _member_page(number: str, status: int = 200, *, form: dict | None = None, open_form: str = ""):
    member = service.member_by_number(number)
    today = _today()
    summary = service.member_summary(member.id)
    balances = summary["balances"]
    arrears = next(iter(service.wajib_arrears(today, member.id)), None)
    slips = db.session.scalars(
        sa.select(Slip)
        .where(Slip.member_id == member.id)
        .order_by(Slip.date.desc(), Slip.id.desc())
        .limit(RECENT_SLIPS)
    ).all()
    settings = current_app.config["KASIR"]
    return (
        render_template(
            "members/show.html",
            member=member,
            balances=balances,
            savings_total=sum(balances.values()),
            kasbon_owed=summary["kasbon_owed"],
            kasbon_limit=summary["kasbon_limit"],
            kasbon_available=summary["kasbon_available"],
            arrears=arrears,
            slips=slips,
            today=today,
            form=form or {},
            open_form=open_form,
            pokok_amount=settings["simpanan_pokok_amount"],
            wajib_amount=settings["simpanan_wajib_amount"],
            **_labels(),
        ),
        status,
    )


@bp.get("/<number>")
@require("members.view")
def show(number: str):
    return _member_page(number)


def _slip_action(number: str, form_name: str, prepare: Callable[[], Callable[[Member], Slip]]):
    """Parse the form, then run one desk movement in its own write transaction; on a domain error show the
    member's page again (400), with nothing changed."""
    service.member_by_number(number)  # an unknown member is a 404, not a form error
    try:
        act = prepare()
        with write_transaction():
            once.claim(f"slip:{form_name}")
            slip = act(service.member_by_number(number))
            slip_id, slip_number = slip.id, slip.number
            once.result(url_for("members.slip", slip_id=slip_id))
    except PosError as exc:
        _flash_error(exc)
        return _member_page(number, 400, form=dict(request.form), open_form=form_name)
    flash(gettext("Slip %(number)s was recorded.", number=slip_number), "success")
    return redirect(url_for("members.slip", slip_id=slip_id))


def _amount_and_date() -> tuple[int, dt.date]:
    try:
        amount = parse_rupiah(request.form.get("amount", ""))
    except PosError as exc:
        raise exc.at("amount") from None
    return amount, _parse_date(request.form.get("date"), _today())


@bp.post("/<number>/setor")
@require("savings.transact")
def deposit(number: str):
    def prepare():
        try:
            kind = SavingsKind(request.form.get("kind", ""))
        except ValueError:
            raise InvalidInput(N_("Choose simpanan pokok, wajib or sukarela.")) from None
        amount, date = _amount_and_date()
        period = (request.form.get("period", "").strip() or None) if kind == SavingsKind.WAJIB else None
        return lambda member: service.deposit(member, kind, amount, date, g.user, period=period)

    return _slip_action(number, "setor", prepare)


@bp.post("/<number>/tarik")
@require("savings.transact")
def withdraw(number: str):
    def prepare():
        amount, date = _amount_and_date()
        return lambda member: service.withdraw(member, amount, date, g.user)

    return _slip_action(number, "tarik", prepare)


@bp.post("/<number>/angsur-kasbon")
@require("savings.transact")
def repay_kasbon(number: str):
    def prepare():
        amount, date = _amount_and_date()
        return lambda member: service.repay_kasbon(member, amount, date, g.user)

    return _slip_action(number, "angsur", prepare)


@bp.post("/<number>/keluar")
@require("members.manage")
def leave(number: str):
    service.member_by_number(number)
    try:
        if request.form.get("confirm") != "1":
            raise InvalidInput(N_("Tick the box to confirm that the member leaves."))
        date = _parse_date(request.form.get("date"), _today())
        with write_transaction():
            once.claim("member:leave")
            member = service.member_by_number(number)
            was_active = member.status == MemberStatus.ACTIVE
            payout = service.set_member_left(member, date, g.user)
            member_number = member.number
            payout_id = payout.id if payout is not None else None
            once.result(url_for("members.slip", slip_id=payout_id) if payout_id is not None
                        else url_for("members.show", number=member_number))
    except PosError as exc:
        _flash_error(exc)
        return _member_page(number, 400, form=dict(request.form), open_form="keluar")
    if was_active:
        flash(gettext("%(number)s is no longer a member.", number=member_number), "success")
        if payout_id is not None:
            return redirect(url_for("members.slip", slip_id=payout_id))
    else:
        flash(gettext("%(number)s had already left.", number=member_number), "warning")
    return redirect(url_for("members.show", number=member_number))


# --- slip, card ---------------------------------------------------------------------------------


@bp.get("/slip/<int:slip_id>")
@require("members.view")
def slip(slip_id: int):
    found = db.session.get(Slip, slip_id)
    if found is None:
        abort(404)
    served_by = db.session.scalar(sa.select(User).where(User.username == found.created_by))
    return render_template(
        "members/slip.html",
        slip=found,
        balance_after=_balance_after(found),
        served_by=(served_by.full_name or served_by.username) if served_by else found.created_by,
        **_labels(),
    )


@bp.get("/<number>/kartu")
@require("members.view")
def card(number: str):
    member = service.member_by_number(number)
    barcode = base64.b64encode(code128_png(member.number)).decode("ascii")
    return render_template("members/card.html", member=member, barcode=barcode)


# --- statement ----------------------------------------------------------------------------------


def _statement_table(statement) -> Table:
    rows: list[list] = []

    def account(label: str, part: MemberAccountStatement) -> None:
        rows.append([label, statement.scope.start, "", gettext("Opening balance"), "", "", part.opening])
        for m in part.movements:
            rows.append([label, m.date, m.number, m.description, m.amount_in, m.amount_out, m.balance])
        rows.append([label, statement.scope.end, "", gettext("Closing balance"), "", "", part.closing])

    for kind in SavingsKind:
        account(str(SAVINGS_LABELS[kind]), statement.savings[kind.value])
    account(gettext("Kasbon"), statement.kasbon)
    purchases = gettext("Purchases")
    for date, number, description, amount in statement.purchases:
        rows.append([purchases, date, number, description, amount, "", ""])
    rows.append([purchases, statement.scope.end, "", gettext("Total purchases"), statement.total_purchases, "", ""])
    columns = [
        gettext("Section"),
        gettext("Date"),
        gettext("Number"),
        gettext("Description"),
        gettext("In"),
        gettext("Out"),
        gettext("Balance"),
    ]
    return Table(gettext("Member statement"), columns, rows)


@bp.get("/<number>/laporan")
@require("members.view")
def statement(number: str):
    member = service.member_by_number(number)
    today = _today()
    start_text, end_text = request.args.get("dari", "")[:20], request.args.get("sampai", "")[:20]
    try:
        start = _parse_date(start_text, dt.date(today.year, 1, 1), allow_future=True)
        end = _parse_date(end_text, today, allow_future=True)
        scope = Scope(start, end)
    except PosError as exc:
        _flash_error(exc)
        page = render_template(
            "members/statement.html", member=member, statement=None, start=start_text, end=end_text, **_labels()
        )
        return page, 400
    report = member_statement(member, scope)
    fmt = _export_format()
    if fmt:
        filename = f"laporan-anggota-{member.number}-{start.isoformat()}-{end.isoformat()}"
        return _download(_statement_table(report), fmt, filename)
    return render_template(
        "members/statement.html",
        member=member,
        statement=report,
        start=start.isoformat(),
        end=end.isoformat(),
        **_labels(),
    )


# --- arrears ------------------------------------------------------------------------------------


@bp.get("/tunggakan")
@require("members.view")
def arrears():
    """Members in arrears of simpanan wajib, a page at a time by number; the totals over all of them in SQL. The
    download holds every member in arrears, read in chunks."""
    from pos.web import paging

    today = _today()
    fmt = _export_format()
    if fmt:
        return _arrears_download(today, fmt)
    query = service.arrears_query(today)
    page = paging.keyset(
        query, (Member.number,), size=PAGE_SIZE, scalars=False, id_of=lambda row: row[0].id, count=False,
        key_of=lambda member_id: db.session.execute(sa.select(Member.number).where(Member.id == member_id)).first(),
    )
    members, months_total, total = service.wajib_arrears_totals(today)
    page.total = members
    return render_template(
        "members/arrears.html",
        rows=service.arrears_of(page.rows, today),
        page=page,
        members_total=members,
        total=total,
        months_total=months_total,
        today=today,
        wajib_amount=current_app.config["KASIR"]["simpanan_wajib_amount"],
    )


def _arrears_download(today: dt.date, fmt: str) -> Response:
    rows, months_total, total = [], 0, 0
    for a in service.iter_wajib_arrears(today):
        rows.append([a.member.number, a.member.name, len(a.months), " ".join(a.months), a.amount])
        months_total, total = months_total + len(a.months), total + a.amount
    table = Table(
        gettext("Simpanan wajib arrears"),
        [gettext("Member number"), gettext("Name"), gettext("Months unpaid"), gettext("Months"), gettext("Amount")],
        rows + [[gettext("Total"), "", months_total, "", total]],
    )
    return _download(table, fmt, f"tunggakan-simpanan-wajib-{today.isoformat()}")


SLIP_KINDS = {
    SlipKind.DEPOSIT: "deposit",
    SlipKind.WITHDRAWAL: "withdrawal",
    SlipKind.KASBON_REPAYMENT: "kasbon_repayment",
    SlipKind.EXIT: "withdrawal",
}


@bp.post("/slip/<int:slip_id>/cetak")
@require("savings.transact")
def print_slip(slip_id: int):
    """Print the slip on the receipt printer of a till at the slip's outlet (or the save-to-folder printer)."""

    from pos import printing
    from pos.models import Till
    from pos.receipt_documents import header, to_json

    with write_transaction():
        found = db.session.get(Slip, slip_id)
        if found is None:
            abort(404)
        till = db.session.scalar(
            sa.select(Till).where(Till.outlet_id == found.outlet_id, Till.active.is_(True)).order_by(Till.code).limit(1)
        )
        account = f"Simpanan {found.savings_kind.value}" if found.savings_kind else "Kasbon"
        document = {
            "kind": "slip",
            "data": to_json(
                {
                    "header": header(),
                    "number": found.number.replace("/", "-")[:24],
                    "printed_at": found.created_at,
                    "timezone": current_app.config["KASIR"]["timezone"],
                    "till_code": till.code if till else "",
                    "cashier_name": found.created_by,
                    "kind": SLIP_KINDS[found.kind],
                    "member_number": found.member.number,
                    "member_name": found.member.name,
                    "account": account,
                    "amount": found.amount,
                    "balance_after": max(_balance_after(found), 0),
                    "method": "Tunai",
                }
            ),
        }
        copies = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PrintJob)
            .where(PrintJob.source_type == "slip", PrintJob.source_id == found.number)
        )
        if copies:
            from pos.receipt_documents import render

            profile = till.printer_profile if till else "TM-T20II"
            data, html = render(document, profile, True)
            job = printing.enqueue(
                printer=printing.printer_of(till),
                profile=profile,
                kind="slip",
                source_type="slip",
                source_id=found.number,
                data=data,
                html=html,
                document=document,
                till=till,
                copy=copies,
                user=g.user,
            )
        else:
            job = printing.print_document(
                document, kind="slip", source_type="slip", source_id=found.number, till=till, user=g.user
            )
        printer = job.printer
    printing.notify(printer)
    flash(gettext("The slip was sent to the printer."), "success")
    return redirect(url_for("members.slip", slip_id=slip_id))
