"""books integrity: closed years, the journal's hash chain, no INSERT OR REPLACE around the guards, form tokens

Revision ID: 0006_books_integrity
Revises: 0005_sales
Create Date: 2026-12-01 12:10:00

A year is closed by its closing entry (table closed_year, written in the same transaction); every posted entry
carries the hash chain (ledger.chain) that `ledger check` recomputes; SQLite triggers refuse an INSERT that would
replace a final row (INSERT OR REPLACE deletes the old row without firing delete triggers); accounts, member join
dates and slips that feed the books cannot change under them.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0006_books_integrity'
down_revision = '0005_sales'
branch_labels = None
depends_on = None


SQLITE_GUARDS = [
    # INSERT OR REPLACE / REPLACE INTO would silently delete the conflicting row first.
    """CREATE TRIGGER journal_entry_no_replace BEFORE INSERT ON journal_entry
    WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.id OR number = NEW.number
                 OR (source_type = NEW.source_type AND source_id = NEW.source_id))
    BEGIN SELECT RAISE(ABORT, 'a journal entry with this id, number or source exists already'); END""",
    """CREATE TRIGGER posting_no_replace BEFORE INSERT ON posting
    WHEN EXISTS (SELECT 1 FROM posting WHERE id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'a posting with this id exists already'); END""",
    """CREATE TRIGGER closed_period_no_replace BEFORE INSERT ON closed_period
    WHEN EXISTS (SELECT 1 FROM closed_period WHERE id = NEW.id OR start_date = NEW.start_date)
    BEGIN SELECT RAISE(ABORT, 'closed periods cannot be reopened'); END""",
    """CREATE TRIGGER stock_move_no_replace BEFORE INSERT ON stock_move
    WHEN EXISTS (SELECT 1 FROM stock_move WHERE id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'stock moves cannot be changed: record a new move'); END""",
    """CREATE TRIGGER closed_year_no_replace BEFORE INSERT ON closed_year
    WHEN EXISTS (SELECT 1 FROM closed_year WHERE year = NEW.year)
    BEGIN SELECT RAISE(ABORT, 'closed years cannot be reopened'); END""",
    """CREATE TRIGGER closed_year_is_final_update BEFORE UPDATE ON closed_year
    BEGIN SELECT RAISE(ABORT, 'closed years cannot be reopened'); END""",
    """CREATE TRIGGER closed_year_is_final_delete BEFORE DELETE ON closed_year
    BEGIN SELECT RAISE(ABORT, 'closed years cannot be reopened'); END""",
    # Slips are the savings desk's record of a posted entry: final like it.
    """CREATE TRIGGER slip_no_replace BEFORE INSERT ON slip
    WHEN EXISTS (SELECT 1 FROM slip WHERE id = NEW.id OR number = NEW.number OR entry_id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'a slip with this id or number exists already'); END""",
    """CREATE TRIGGER slip_is_final_update BEFORE UPDATE ON slip
    BEGIN SELECT RAISE(ABORT, 'slips cannot be changed: post a correction'); END""",
    """CREATE TRIGGER slip_is_final_delete BEFORE DELETE ON slip
    BEGIN SELECT RAISE(ABORT, 'slips cannot be deleted: post a correction'); END""",
    # What a posted entry's meaning rests on.
    """CREATE TRIGGER account_used_is_fixed BEFORE UPDATE OF code, type, unit_id, segment, key ON account
    WHEN (OLD.code IS NOT NEW.code OR OLD.type IS NOT NEW.type OR OLD.unit_id IS NOT NEW.unit_id
          OR OLD.segment IS NOT NEW.segment OR OLD.key IS NOT NEW.key)
      AND EXISTS (SELECT 1 FROM posting WHERE account_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'an account with postings keeps its code, type, unit and segment'); END""",
    """CREATE TRIGGER account_used_not_deleted BEFORE DELETE ON account
    WHEN EXISTS (SELECT 1 FROM posting WHERE account_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'an account with postings cannot be deleted'); END""",
    """CREATE TRIGGER account_no_replace BEFORE INSERT ON account
    WHEN EXISTS (SELECT 1 FROM account WHERE id = NEW.id OR code = NEW.code OR key = NEW.key)
    BEGIN SELECT RAISE(ABORT, 'an account with this id, code or key exists already'); END""",
    """CREATE TRIGGER member_join_date_of_closed_period BEFORE UPDATE OF join_date, left_date ON member
    WHEN (OLD.join_date IS NOT NEW.join_date AND EXISTS (SELECT 1 FROM closed_period
            WHERE OLD.join_date BETWEEN start_date AND end_date OR NEW.join_date BETWEEN start_date AND end_date))
      OR (OLD.left_date IS NOT NEW.left_date AND EXISTS (SELECT 1 FROM closed_period
            WHERE OLD.left_date BETWEEN start_date AND end_date OR NEW.left_date BETWEEN start_date AND end_date))
    BEGIN SELECT RAISE(ABORT, 'a join or leaving date inside a closed period cannot change'); END""",
    """CREATE TRIGGER member_no_replace BEFORE INSERT ON member
    WHEN EXISTS (SELECT 1 FROM member WHERE id = NEW.id OR number = NEW.number OR nik = NEW.nik)
    BEGIN SELECT RAISE(ABORT, 'a member with this id, number or NIK exists already'); END""",
]
SQLITE_GUARD_NAMES = [statement.split()[2] for statement in SQLITE_GUARDS]

POSTGRES_GUARDS = [
    """CREATE FUNCTION books_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% on % is refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = '23514';
    END $$""",
    """CREATE TRIGGER closed_year_is_final BEFORE UPDATE OR DELETE ON closed_year
    FOR EACH ROW EXECUTE FUNCTION books_refuse('closed years cannot be reopened')""",
    """CREATE TRIGGER closed_year_no_truncate BEFORE TRUNCATE ON closed_year
    FOR EACH STATEMENT EXECUTE FUNCTION books_refuse('closed years cannot be reopened')""",
    """CREATE TRIGGER slip_is_final BEFORE UPDATE OR DELETE ON slip
    FOR EACH ROW EXECUTE FUNCTION books_refuse('slips are final: post a correction')""",
    """CREATE TRIGGER slip_no_truncate BEFORE TRUNCATE ON slip
    FOR EACH STATEMENT EXECUTE FUNCTION books_refuse('slips are final: post a correction')""",
    """CREATE FUNCTION books_guard_account() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM posting WHERE account_id = OLD.id) THEN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'an account with postings cannot be deleted' USING ERRCODE = '23514';
        END IF;
        IF OLD.code IS DISTINCT FROM NEW.code OR OLD.type IS DISTINCT FROM NEW.type
           OR OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.segment IS DISTINCT FROM NEW.segment
           OR OLD.key IS DISTINCT FROM NEW.key THEN
          RAISE EXCEPTION 'an account with postings keeps its code, type, unit and segment' USING ERRCODE = '23514';
        END IF;
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER account_used_is_fixed BEFORE UPDATE OR DELETE ON account
    FOR EACH ROW EXECUTE FUNCTION books_guard_account()""",
    """CREATE FUNCTION books_guard_member() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (OLD.join_date IS DISTINCT FROM NEW.join_date AND EXISTS (SELECT 1 FROM closed_period
            WHERE OLD.join_date BETWEEN start_date AND end_date OR NEW.join_date BETWEEN start_date AND end_date))
         OR (OLD.left_date IS DISTINCT FROM NEW.left_date AND EXISTS (SELECT 1 FROM closed_period
            WHERE OLD.left_date BETWEEN start_date AND end_date OR NEW.left_date BETWEEN start_date AND end_date))
      THEN
        RAISE EXCEPTION 'a join or leaving date inside a closed period cannot change' USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER member_dates_of_closed_period BEFORE UPDATE ON member
    FOR EACH ROW EXECUTE FUNCTION books_guard_member()""",
]


def _fill_chain(bind) -> None:
    """Give the entries posted before this revision their place in the hash chain."""
    from ledger.chain import entry_hash, number_parts

    entries = bind.execute(sa.text(
        "SELECT id, number, date, description, unit_id, source_type, source_id, reverses_id, author_name "
        "FROM journal_entry WHERE posted ORDER BY id")).mappings().all()
    if not entries:
        return
    postings: dict[int, list[dict]] = {}
    for row in bind.execute(sa.text(
            "SELECT id, entry_id, account_id, debit, credit, member_id, unit_id, memo FROM posting")).mappings():
        postings.setdefault(row["entry_id"], []).append(dict(row))
    ordered = sorted(entries, key=lambda e: number_parts(e["number"]) or (0, 0))
    previous: dict[int, str] = {}
    for entry in ordered:
        entry = dict(entry)
        if isinstance(entry["date"], str):
            entry["date"] = dt.date.fromisoformat(entry["date"])
        year = (number_parts(entry["number"]) or (0, 0))[0]
        value = entry_hash(previous.get(year), entry, postings.get(entry["id"], []))
        previous[year] = value
        bind.execute(sa.text("UPDATE journal_entry SET chain_hash = :h WHERE id = :id"), {"h": value, "id": entry["id"]})


def upgrade():
    op.create_table('closed_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('chain_head', sa.String(length=64), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('closed_by', sa.String(length=40), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_closed_year_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_closed_year')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_closed_year_entry_id'))
    )
    op.create_table('form_use',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('result_url', sa.String(length=300), nullable=False),
    sa.Column('used_by', sa.String(length=40), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_form_use'))
    )
    op.add_column('journal_entry', sa.Column('chain_hash', sa.String(length=64), nullable=True))

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE journal_entry DISABLE TRIGGER journal_entry_guard")
        _fill_chain(bind)
        op.execute("ALTER TABLE journal_entry ENABLE TRIGGER journal_entry_guard")
        for statement in POSTGRES_GUARDS:
            op.execute(statement)
    else:
        op.execute("DROP TRIGGER IF EXISTS journal_entry_posted_is_final")
        _fill_chain(bind)
        op.execute("""CREATE TRIGGER journal_entry_posted_is_final BEFORE UPDATE ON journal_entry WHEN OLD.posted
    BEGIN SELECT RAISE(ABORT, 'posted journal entries cannot be changed: post a reversal'); END""")
        for statement in SQLITE_GUARDS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in [("closed_year", "closed_year_is_final"), ("closed_year", "closed_year_no_truncate"),
                               ("slip", "slip_is_final"), ("slip", "slip_no_truncate"),
                               ("account", "account_used_is_fixed"), ("member", "member_dates_of_closed_period")]:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in ("books_refuse", "books_guard_account", "books_guard_member"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in SQLITE_GUARD_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_column('journal_entry', 'chain_hash')
    op.drop_table('closed_year')
    op.drop_table('form_use')
