"""The books on screen: chart of accounts, journal, buku besar, neraca saldo, laporan hasil usaha,
laporan posisi keuangan, periods, SHU; every report also as CSV and XLSX."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from ledger import accounts as chart
from ledger import journal, reports, shu
from ledger.entries import EntryDraft, Line
from ledger.export import Table, to_csv, to_xlsx
from ledger.models import Account, ClosedPeriod, ClosedYear, JournalEntry, Posting
from ledger.stream_export import csv_chunks, xlsx_chunks
from pos.db import db, write_transaction
from pos.errors import N_, InvalidInput, PosError
from pos.formats import month_label
from pos.models import BusinessUnit
from pos.money import parse_rupiah
from pos.permissions import require
from pos.web import once
from pos.web.params import clean_text, date_arg, form_date, form_text, parse_date_text, parse_int
from pos.web.templating import local_today

bp = Blueprint("ledger", __name__, url_prefix="/buku")
PAGE_SIZE = 100  # journal entries per page
MAX_PAGE_LINES = 1000  # postings per journal page: fewer entries when they are long (an SHU distribution)
LEDGER_PAGE_SIZE = 200  # buku besar lines per page
SHU_PAGE_SIZE = 200  # members per page of the SHU table
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_MANUAL_LINES = 8


def _today() -> dt.date:
    return local_today()


def _unit_arg() -> BusinessUnit | None:
    code = request.args.get("unit", "").strip()
    if not code:
        return None
    unit = db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == code[:20]))
    if unit is None:
        raise InvalidInput(N_("No business unit '%(unit)s'."), unit=code[:20])
    return unit


def scope_from_request() -> reports.Scope:
    today = _today()
    return reports.Scope(date_arg("dari", dt.date(today.year, 1, 1)), date_arg("sampai", today), _unit_arg())


def _units() -> list[BusinessUnit]:
    return list(db.session.scalars(sa.select(BusinessUnit).order_by(BusinessUnit.code)))


def download_or_page(table: Table, filename: str, template: str, **context):
    """The same report as a page, or as ?format=csv / ?format=xlsx."""
    kind = request.args.get("format", "")
    if kind == "csv":
        return Response(to_csv(table), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    if kind == "xlsx":
        return Response(to_xlsx(table),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
    return render_template(template, units=_units(), **context)


def streamed_download(title: str, columns: list[str], rows, filename: str, kind: str) -> Response:
    """A long report (the journal, a buku besar) as CSV or XLSX written while its rows are read. Each chunk is
    made in an application context (and database session) of its own, closed before the chunk is handed to the
    server: between chunks, and in a download never read to its end, nothing is held open (the rows are read in
    keyset batches, each fetched whole)."""
    chunks = iter(csv_chunks(columns, rows) if kind == "csv" else xlsx_chunks(title, columns, rows))
    app = current_app._get_current_object()

    def sent():
        while True:
            with app.app_context():
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    return Response(sent(), mimetype="text/csv" if kind == "csv" else XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{kind}"'})


def _cursor_arg(name: str) -> reports.Cursor | None:
    """A page's keyset cursor in the query string: the date and id of the row it continues from, "2026-03-01.123"."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    day, _, number = text[:40].partition(".")
    try:
        cursor = (dt.date.fromisoformat(day), int(number))
    except ValueError:
        raise InvalidInput(N_("This page link is not valid any more; start from the first page.")).at(name) from None
    if not 0 < cursor[1] < 2**63:
        raise InvalidInput(N_("This page link is not valid any more; start from the first page.")).at(name)
    return cursor


def _cursor_text(cursor: reports.Cursor | None) -> str:
    return f"{cursor[0].isoformat()}.{cursor[1]}" if cursor else ""


def _page_number(has_cursor: bool) -> int:
    """The page's number as the pager shows it (carried in the links; the cursor decides what the page holds)."""
    if not has_cursor:
        return 1
    return min(max(1, request.args.get("halaman", 1, type=int) or 1), 1_000_000)


def _suffix(scope: reports.Scope) -> str:
    return f"{scope.start.isoformat()}_{scope.end.isoformat()}" + (f"_{scope.unit.code}" if scope.unit else "")


# --- overview -----------------------------------------------------------------------------------


@bp.get("/")
@require("ledger.view")
def index():
    today = _today()
    position = reports.financial_position(today)
    statement = reports.income_statement(reports.Scope(dt.date(today.year, 1, 1), today))
    last_year = today.year - 1
    return render_template("ledger/index.html", position=position, statement=statement, today=today,
                           last_year=last_year, last_year_closed=journal.year_is_closed(last_year), units=_units())


# --- chart of accounts --------------------------------------------------------------------------


@bp.get("/akun")
@require("ledger.view")
def accounts():
    return _accounts_page()


def _accounts_page(status: int = 200, error_field: str | None = None):
    rows = reports.accounts()
    balances = {row.account.id: row.closing for row in reports.trial_balance(
        reports.Scope(dt.date(1900, 1, 1), _today())).rows}
    return render_template("ledger/accounts.html", accounts=rows, balances=balances, units=_units(),
                           form=request.form if status != 200 else {}, error_field=error_field), status


def _account(code: str) -> Account:
    account = db.session.scalar(sa.select(Account).where(Account.code == code[:20]))
    if account is None:
        abort(404)
    return account


def _back_to_accounts(exc: PosError):
    """A refused change to the chart: the page again, with the error and the status, nothing changed."""
    db.session.rollback()
    flash(gettext(exc.message, **exc.params), "error")
    return _accounts_page(exc.status, exc.field)


@bp.post("/akun")
@require("ledger.manage")
def add_account():
    try:
        with write_transaction():
            account = chart.add_account(request.form.get("code", ""), request.form.get("name", ""),
                                        request.form.get("unit") or None, g.user)
    except PosError as exc:
        return _back_to_accounts(exc)
    flash(gettext("Account %(code)s was added.", code=account.code), "success")
    return redirect(url_for("ledger.accounts"))


@bp.post("/akun/<code>/nama")
@require("ledger.manage")
def rename_account(code: str):
    try:
        with write_transaction():
            chart.rename_account(_account(code), request.form.get("name", ""), g.user)
    except PosError as exc:
        return _back_to_accounts(exc)
    flash(gettext("Account %(code)s was renamed.", code=code), "success")
    return redirect(url_for("ledger.accounts"))


@bp.post("/akun/<code>/status")
@require("ledger.manage")
def account_status(code: str):
    active = request.form.get("active") == "1"
    try:
        with write_transaction():
            chart.set_account_active(_account(code), active, g.user)
    except PosError as exc:
        return _back_to_accounts(exc)
    return redirect(url_for("ledger.accounts"))


@bp.post("/akun/<code>/hapus")
@require("ledger.manage")
def delete_account(code: str):
    try:
        with write_transaction():
            chart.delete_account(_account(code), g.user)
    except PosError as exc:
        return _back_to_accounts(exc)
    flash(gettext("Account %(code)s was deleted.", code=code), "success")
    return redirect(url_for("ledger.accounts"))


# --- journal ------------------------------------------------------------------------------------


@bp.get("/jurnal")
@require("ledger.view")
def journal_list():
    scope = scope_from_request()
    kind = request.args.get("format", "")
    if kind in ("csv", "xlsx"):
        def rows():
            for number, date, description, code, name, d, c, member, unit in reports.journal_rows(scope):
                yield [number, date.isoformat(), description, f"{code} {name}", d, c, member, unit]

        return streamed_download("Jurnal", ["Nomor", "Tanggal", "Keterangan", "Akun", "Debit", "Kredit", "Anggota",
                                            "Unit"], rows(), f"jurnal_{_suffix(scope)}", kind)
    after, before = _cursor_arg("setelah"), _cursor_arg("sebelum")
    page = reports.journal(scope, after=after, before=before if after is None else None, limit=PAGE_SIZE,
                           max_postings=MAX_PAGE_LINES)
    return render_template("ledger/journal.html", units=_units(), scope=scope, entries=page.entries,
                           page=_page_number(after is not None or before is not None),
                           has_previous=page.has_previous, has_next=page.has_next,
                           first=_cursor_text(page.first), last=_cursor_text(page.last))


def _entry_with_lines(entry_id: int) -> JournalEntry | None:
    """An entry with its postings, their accounts, units and members read up front (an SHU distribution has one
    posting per member)."""
    from sqlalchemy.orm import selectinload

    return db.session.get(JournalEntry, entry_id, options=[selectinload(JournalEntry.postings).options(
        selectinload(Posting.account), selectinload(Posting.member), selectinload(Posting.unit))])


@bp.get("/jurnal/<int:entry_id>")
@require("ledger.view")
def entry(entry_id: int):
    found = _entry_with_lines(entry_id)
    if found is None or not found.posted:
        abort(404)
    reversal = db.session.scalar(sa.select(JournalEntry).where(JournalEntry.reverses_id == entry_id))
    return render_template("ledger/entry.html", entry=found, reversal=reversal, today=_today())


@bp.post("/jurnal/<int:entry_id>/balik")
@require("ledger.manage")
def reverse(entry_id: int):
    if db.session.get(JournalEntry, entry_id) is None:
        abort(404)
    try:
        date = form_date("date", _today())
        reason = form_text("reason", 200, required=True, message=N_("Give a reason for the reversal."))
        with write_transaction():
            once.claim("journal:reverse")
            reversal = journal.reverse(entry_id, date, reason, g.user)
            reversal_id, number = reversal.id, reversal.number
            once.result(url_for("ledger.entry", entry_id=reversal_id))
    except PosError as exc:
        db.session.rollback()
        flash(gettext(exc.message, **exc.params), "error")
        found = _entry_with_lines(entry_id)
        existing = db.session.scalar(sa.select(JournalEntry).where(JournalEntry.reverses_id == entry_id))
        return render_template("ledger/entry.html", entry=found, reversal=existing, today=_today(),
                               error_field=exc.field, form=request.form), exc.status
    flash(gettext("Reversed by %(number)s.", number=number), "success")
    return redirect(url_for("ledger.entry", entry_id=reversal_id), 303)


def _manual_draft(form) -> EntryDraft:
    date = parse_date_text(form.get("date", ""), "date")
    description = clean_text(form.get("description", ""), "description", 250, required=True,
                             message=N_("Describe the entry (up to 250 characters)."))
    unit = clean_text(form.get("unit", ""), "unit", 20) or None
    lines = []
    for n in range(MAX_MANUAL_LINES):
        code = clean_text(form.get(f"account_{n}", ""), f"account_{n}", 20)
        debit_text, credit_text = form.get(f"debit_{n}", "").strip(), form.get(f"credit_{n}", "").strip()
        if not code and not debit_text and not credit_text:
            continue
        if not code:
            raise InvalidInput(N_("Line %(n)d has an amount but no account."), n=n + 1).at(f"account_{n}")
        amounts = []
        for name, text in ((f"debit_{n}", debit_text), (f"credit_{n}", credit_text)):
            try:
                amount = parse_rupiah(text) if text else 0
            except PosError as exc:
                raise exc.at(name) from None
            if amount < 0:
                raise InvalidInput(N_("The amount must not be negative.")).at(name)
            amounts.append(amount)
        memo = clean_text(form.get(f"memo_{n}", ""), f"memo_{n}", 120)
        try:
            lines.append(Line(code, debit=amounts[0], credit=amounts[1], memo=memo))
        except PosError as exc:
            raise exc.at(f"debit_{n}") from None
    key = form.get("request_id", "").strip()[:60]
    if not key:
        raise InvalidInput(N_("The form has expired or is missing its security token. Reload the page and try again."))
    return EntryDraft(date, description, "manual", key, tuple(lines), unit=unit)


@bp.route("/jurnal/baru", methods=["GET", "POST"])
@require("ledger.manage")
def manual_entry():
    """A journal entry typed by the board (expenses paid, corrections); the form's id makes a resubmit harmless."""
    import uuid

    active = [a for a in reports.accounts() if a.active]
    if request.method == "GET":
        return render_template("ledger/manual.html", accounts=active, units=_units(), form={},
                               request_id=uuid.uuid4().hex, today=_today(), rows=range(MAX_MANUAL_LINES))
    try:
        with write_transaction():
            posted = journal.post(_manual_draft(request.form), g.user)
    except journal.DuplicatePosting as exc:
        return redirect(url_for("ledger.entry", entry_id=exc.entry.id))
    except PosError as exc:
        flash(gettext(exc.message, **exc.params), "error")
        return render_template("ledger/manual.html", accounts=active, units=_units(), form=request.form,
                               request_id=request.form.get("request_id", ""), today=_today(),
                               rows=range(MAX_MANUAL_LINES)), exc.status
    flash(gettext("Posted as %(number)s.", number=posted.number), "success")
    return redirect(url_for("ledger.entry", entry_id=posted.id))


# --- reports ------------------------------------------------------------------------------------


@bp.get("/buku-besar")
@require("ledger.view")
def general_ledger():
    scope = scope_from_request()
    code = request.args.get("akun", "").strip()
    all_accounts = reports.accounts()
    account = next((a for a in all_accounts if a.code == code), None)
    if code and account is None:
        raise InvalidInput(N_("No account '%(ref)s' in the chart of accounts."), ref=code[:20])
    kind = request.args.get("format", "")
    if kind in ("csv", "xlsx"):
        def rows():
            if account is not None:
                for date, number, description, d, c, balance in reports.general_ledger_rows(scope, account):
                    yield [date.isoformat(), number, description, d, c, balance]

        return streamed_download("Buku besar", ["Tanggal", "Nomor", "Keterangan", "Debit", "Kredit", "Saldo"], rows(),
                                 f"buku-besar_{code}_{_suffix(scope)}", kind)
    after, before = _cursor_arg("setelah"), _cursor_arg("sebelum")
    result = reports.general_ledger(scope, account, after=after, before=before if after is None else None,
                                    limit=LEDGER_PAGE_SIZE) if account else None
    return render_template("ledger/general_ledger.html", units=_units(), scope=scope, accounts=all_accounts,
                           account=account, result=result, page=_page_number(after is not None or before is not None),
                           first=_cursor_text(result.first) if result else "",
                           last=_cursor_text(result.last) if result else "")


@bp.get("/neraca-saldo")
@require("ledger.view")
def trial_balance():
    scope = scope_from_request()
    result = reports.trial_balance(scope)
    table = Table("Neraca saldo", ["Kode", "Akun", "Saldo awal", "Debit", "Kredit", "Saldo debit", "Saldo kredit"], [
        [r.account.code, r.account.name, r.opening, r.debit, r.credit, r.closing_debit, r.closing_credit]
        for r in result.rows] + [["", "Jumlah", "", result.total_debit, result.total_credit, result.closing_debit,
                                  result.closing_credit]])
    return download_or_page(table, f"neraca-saldo_{_suffix(scope)}", "ledger/trial_balance.html", scope=scope,
                            result=result)


@bp.get("/hasil-usaha")
@require("ledger.view")
def income_statement():
    scope = scope_from_request()
    result = r = reports.income_statement(scope)
    rows = []

    def group(title, lines, side):
        """Account lines and their total: side "m" member business only, "n" non-member only, "" both split."""
        def cells(member, non_member, amount):
            return [member if side != "n" else "", non_member if side != "m" else "", amount]

        rows.extend([title, line.label, *cells(line.member, line.non_member, line.amount)] for line in lines)
        rows.append([title, "Jumlah", *cells(sum(x.member for x in lines), sum(x.non_member for x in lines),
                                             sum(x.amount for x in lines))])

    # Laporan hasil usaha of a cooperative: member business (partisipasi) apart from non-member business.
    group("Partisipasi bruto anggota", r.member_revenue, "m")
    group("Beban pokok partisipasi", r.member_cost_of_sales, "m")
    rows.append(["Partisipasi neto anggota", "", r.net_participation, "", r.net_participation])
    group("Pendapatan dari non-anggota", r.non_member_revenue, "n")
    group("Harga pokok penjualan non-anggota", r.non_member_cost_of_sales, "n")
    rows.append(["Laba kotor dengan non-anggota", "", "", r.non_member_gross_profit, r.non_member_gross_profit])
    rows.append(["Sisa hasil usaha kotor", "", r.net_participation, r.non_member_gross_profit, r.gross_result])
    group("Beban usaha", r.expenses, "")
    group("Pendapatan lain-lain", r.other_income, "")
    rows.append(["Sisa hasil usaha", "", r.member_surplus, r.non_member_surplus, r.surplus])
    table = Table("Laporan hasil usaha", ["Kelompok", "Akun", "Anggota", "Non-anggota", "Jumlah"], rows)
    return download_or_page(table, f"hasil-usaha_{_suffix(scope)}", "ledger/income_statement.html", scope=scope,
                            result=result)


@bp.get("/posisi-keuangan")
@require("ledger.view")
def financial_position():
    as_of = date_arg("per", _today())
    unit = _unit_arg()
    result = reports.financial_position(as_of, unit)
    rows = ([["Aset", line.label, line.amount] for line in result.assets]
            + [["Aset", "Jumlah aset", result.total_assets]]
            + [["Kewajiban", line.label, line.amount] for line in result.liabilities]
            + [["Ekuitas", line.label, line.amount] for line in result.equity]
            + [["Ekuitas", "SHU periode berjalan", result.current_surplus]]
            + ([["Ekuitas", "Rekening antar unit", result.inter_unit]] if unit else [])
            + [["", "Jumlah kewajiban dan ekuitas", result.total_liabilities + result.total_equity]])
    table = Table("Posisi keuangan", ["Kelompok", "Akun", "Jumlah"], rows)
    suffix = as_of.isoformat() + (f"_{unit.code}" if unit else "")
    return download_or_page(table, f"posisi-keuangan_{suffix}", "ledger/financial_position.html", result=result,
                            as_of=as_of, unit=unit)


# --- periods ------------------------------------------------------------------------------------


def _next_closings() -> dict:
    """What the periods page offers to close: the next month in order and the next year, with what they lock."""
    on = _today()
    nxt = journal.first_open_month()
    month = None
    if nxt is not None and nxt[1] != 12 and journal.month_bounds(*nxt)[1] < on:
        start, end = journal.month_bounds(*nxt)
        month = {"value": f"{nxt[0]}-{nxt[1]:02d}", "label": month_label(*nxt), "entries": _entries_between(start, end)}
    year = None
    last_closed = db.session.scalar(sa.select(sa.func.max(ClosedYear.year)))
    first = journal.books_first_month()
    candidate = last_closed + 1 if last_closed else (first[0] if first else None)
    if candidate is not None and dt.date(candidate, 12, 31) < on:
        start, end = dt.date(candidate, 1, 1), dt.date(candidate, 12, 31)
        year = {"value": candidate, "months": [month_label(*m) for m in journal.open_months_to_close(candidate)],
                "surplus": reports.income_statement(reports.Scope(start, end)).surplus,
                "entries": _entries_between(start, end)}
    return {"month": month, "year": year}


def _entries_between(start: dt.date, end: dt.date) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(
        JournalEntry.date.between(start, end))) or 0


def _periods_page(status: int = 200, error: PosError | None = None):
    closed = db.session.scalars(sa.select(ClosedPeriod).order_by(ClosedPeriod.start_date.desc())).all()
    years = db.session.scalars(sa.select(ClosedYear).order_by(ClosedYear.year.desc())).all()
    message = gettext(error.message, **error.params) if error else None
    if message:
        flash(message, "error")
    return render_template("ledger/periods.html", closed=closed, years=years, today=_today(), next=_next_closings(),
                           error_field=error.field if error else None, error=message), status


@bp.get("/periode")
@require("ledger.view")
def periods():
    return _periods_page()


def _confirmed() -> None:
    if request.form.get("confirm") != "1":
        raise InvalidInput(N_("Tick the box to confirm: closing cannot be undone.")).at("confirm")


@bp.post("/periode/tutup-bulan")
@require("ledger.manage")
def close_month():
    from ledger.members import parse_period
    from pos import audit

    try:
        try:
            year, month = parse_period(request.form.get("month", ""))
        except PosError as exc:
            raise exc.at("month") from None
        _confirmed()
        with write_transaction():
            once.claim("period:close_month")
            journal.close_month(year, month, g.user.username, on=_today())
            audit.record("ledger.month_closed", actor=g.user, target_type="period", target_id=f"{year}-{month:02d}")
            once.result(url_for("ledger.periods"))
    except PosError as exc:
        db.session.rollback()
        return _periods_page(exc.status, exc)
    flash(gettext("%(month)s is closed.", month=month_label(year, month)), "success")
    return redirect(url_for("ledger.periods"), 303)


@bp.post("/periode/tutup-tahun")
@require("ledger.manage")
def close_year():
    from pos import audit

    try:
        year = parse_int(request.form.get("year"), "year", low=2000, high=2100)
        _confirmed()
        with write_transaction():
            once.claim("period:close_year")
            entry = journal.close_year(year, g.user, on=_today())
            audit.record("ledger.year_closed", actor=g.user, target_type="year", target_id=year,
                         after={"closing_entry": entry.number if entry else None})
            once.result(url_for("ledger.periods"))
    except PosError as exc:
        db.session.rollback()
        return _periods_page(exc.status, exc)
    flash(gettext("The year %(year)s is closed.", year=year), "success")
    return redirect(url_for("ledger.periods"), 303)


# --- SHU ----------------------------------------------------------------------------------------


@bp.get("/shu")
@require("ledger.view")
def shu_page():
    return _shu_page(parse_int(request.args.get("tahun"), "tahun", low=2000, high=2100)
                     if request.args.get("tahun") else _today().year - 1)


def _shu_page(year: int, status: int = 200, error: PosError | None = None):
    if error is not None:
        flash(gettext(error.message, **error.params), "error")
    allocation = shu.allocation()
    result, problem = None, None
    try:
        result = shu.compute(year)
    except PosError as exc:
        problem = gettext(exc.message, **exc.params)
    table = Table(f"SHU {year}", ["Nomor", "Nama", "Belanja", "Simpanan", "Jasa anggota", "Jasa modal", "Jumlah"], [
        [m.member.number, m.member.name, m.purchases, m.savings, m.jasa_anggota, m.jasa_modal, m.total]
        for m in (result.members if result else ())])
    # The members' table a page at a time (the shares are computed for all of them; the download has every row).
    pages = max(1, -(-len(result.members) // SHU_PAGE_SIZE)) if result else 1
    page = min(max(1, request.args.get("halaman", 1, type=int) or 1), pages)
    shown = result.members[(page - 1) * SHU_PAGE_SIZE:page * SHU_PAGE_SIZE] if result else ()
    paging = {"page": page, "pages": pages, "shown": shown}
    if status != 200:
        return render_template("ledger/shu.html", year=year, result=result, problem=problem, allocation=allocation,
                               keys=shu.ALLOCATION_KEYS, today=_today(), error_field=error.field if error else None,
                               form=request.form, **paging), status
    return download_or_page(table, f"shu_{year}", "ledger/shu.html", year=year, result=result, problem=problem,
                            allocation=allocation, keys=shu.ALLOCATION_KEYS, today=_today(), error_field=None,
                            form={}, **paging)


def _form_year() -> int:
    return parse_int(request.form.get("year"), "year", low=2000, high=2100)


@bp.post("/shu/alokasi")
@require("ledger.manage")
def shu_allocation():
    from pos.money import parse_decimal

    year = _today().year - 1
    try:
        year = _form_year()
        values = {}
        for key in shu.ALLOCATION_KEYS:
            try:
                percent = parse_decimal(request.form.get(key, "0") or "0")
            except PosError as exc:
                raise exc.at(key) from None
            if not 0 <= percent <= 100:
                raise InvalidInput(N_("A percentage is between 0 and 100.")).at(key)
            if percent != percent.quantize(type(percent)("0.01")):
                raise InvalidInput(N_("Percentages have at most two decimals.")).at(key)
            values[key] = int(percent * 100)
        with write_transaction():
            shu.set_allocation(values, g.user)
    except PosError as exc:
        db.session.rollback()
        return _shu_page(year, exc.status, exc)
    flash(gettext("The SHU percentages were saved."), "success")
    return redirect(url_for("ledger.shu_page", tahun=year), 303)


@bp.post("/shu/bagikan")
@require("ledger.manage")
def shu_distribute():
    year = _today().year - 1
    try:
        year = _form_year()
        date = form_date("date")
        if request.form.get("confirm") != "1":
            raise InvalidInput(N_("Tick the box to confirm the amount: the distribution cannot be undone.")).at(
                "confirm")
        with write_transaction():
            once.claim("shu:distribute")
            entry = shu.distribute(year, date, request.form.get("to") == "sukarela", g.user)
            number = entry.number
            once.result(url_for("ledger.shu_page", tahun=year))
    except PosError as exc:
        db.session.rollback()
        return _shu_page(year, exc.status, exc)
    flash(gettext("The SHU of %(year)s was posted as %(number)s.", year=year, number=number), "success")
    return redirect(url_for("ledger.shu_page", tahun=year), 303)
