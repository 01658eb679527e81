"""closed years of older books, more REPLACE guards, form digests

Revision ID: 0007_replace_guards
Revises: 0006_books_integrity
Create Date: 2026-12-01 14:00:00

- Books closed before 0006 closed a year by closing its twelve months: such a year gets its `closed_year` row
  (with its closing entry, if any, and the head of its hash chain), so the years after it can be closed.
- SQLite: INSERT OR REPLACE could still replace a posted reversal (by `reverses_id`) or a wajib/pokok slip (by its
  partial unique index), and UPDATE OR REPLACE of a draft entry, an account or a member onto another row's unique
  value deleted that row; triggers refuse both.
- form_use.digest: a form resent with its token but other values is refused (409) instead of shown as done.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0007_replace_guards'
down_revision = '0006_books_integrity'
branch_labels = None
depends_on = None

REPLACED = ["journal_entry_no_replace", "slip_no_replace"]
SQLITE_GUARDS = [
    """CREATE TRIGGER journal_entry_no_replace BEFORE INSERT ON journal_entry
    WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.id OR number = NEW.number
                 OR (source_type = NEW.source_type AND source_id = NEW.source_id) OR reverses_id = NEW.reverses_id)
    BEGIN SELECT RAISE(ABORT, 'a journal entry with this id, number, source or reversal exists already'); END""",
    """CREATE TRIGGER slip_no_replace BEFORE INSERT ON slip
    WHEN EXISTS (SELECT 1 FROM slip WHERE id = NEW.id OR number = NEW.number OR entry_id = NEW.entry_id
                 OR (member_id = NEW.member_id AND kind = 'setoran' AND NEW.kind = 'setoran'
                     AND savings_kind = 'pokok' AND NEW.savings_kind = 'pokok')
                 OR (member_id = NEW.member_id AND kind = 'setoran' AND NEW.kind = 'setoran'
                     AND savings_kind = 'wajib' AND NEW.savings_kind = 'wajib' AND period = NEW.period))
    BEGIN SELECT RAISE(ABORT, 'a slip with this id, number or month exists already'); END""",
    """CREATE TRIGGER journal_entry_no_update_replace BEFORE UPDATE OF id, number, source_type, source_id, reverses_id
    ON journal_entry
    WHEN NEW.id IS NOT OLD.id OR EXISTS (SELECT 1 FROM journal_entry WHERE id <> OLD.id AND (number = NEW.number
          OR (source_type = NEW.source_type AND source_id = NEW.source_id) OR reverses_id = NEW.reverses_id))
    BEGIN SELECT RAISE(ABORT, 'a journal entry cannot take another entry''s id, number, source or reversal'); END""",
    """CREATE TRIGGER posting_no_update_replace BEFORE UPDATE OF id ON posting WHEN NEW.id IS NOT OLD.id
    BEGIN SELECT RAISE(ABORT, 'a posting keeps its id'); END""",
    """CREATE TRIGGER account_no_update_replace BEFORE UPDATE OF id, code, key ON account
    WHEN NEW.id IS NOT OLD.id OR EXISTS (SELECT 1 FROM account WHERE id <> OLD.id AND (code = NEW.code
          OR key = NEW.key))
    BEGIN SELECT RAISE(ABORT, 'an account cannot take another account''s id, code or key'); END""",
    """CREATE TRIGGER member_no_update_replace BEFORE UPDATE OF id, number, nik ON member
    WHEN NEW.id IS NOT OLD.id OR EXISTS (SELECT 1 FROM member WHERE id <> OLD.id AND (number = NEW.number
          OR nik = NEW.nik))
    BEGIN SELECT RAISE(ABORT, 'a member cannot take another member''s id, number or NIK'); END""",
]
ADDED = ["journal_entry_no_update_replace", "posting_no_update_replace", "account_no_update_replace",
         "member_no_update_replace"]
OLD_SQLITE = {
    "journal_entry_no_replace": """CREATE TRIGGER journal_entry_no_replace BEFORE INSERT ON journal_entry
    WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.id OR number = NEW.number
                 OR (source_type = NEW.source_type AND source_id = NEW.source_id))
    BEGIN SELECT RAISE(ABORT, 'a journal entry with this id, number or source exists already'); END""",
    "slip_no_replace": """CREATE TRIGGER slip_no_replace BEFORE INSERT ON slip
    WHEN EXISTS (SELECT 1 FROM slip WHERE id = NEW.id OR number = NEW.number OR entry_id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'a slip with this id or number exists already'); END""",
}


def _close_old_years(bind) -> None:
    """A year whose twelve months were closed by the old code is a closed year."""
    rows = bind.execute(sa.text("SELECT start_date FROM closed_period")).scalars().all()
    months: dict[int, set[int]] = {}
    for start in rows:
        start = dt.date.fromisoformat(start) if isinstance(start, str) else start
        months.setdefault(start.year, set()).add(start.month)
    recorded = set(bind.execute(sa.text("SELECT year FROM closed_year")).scalars().all())
    for year, closed in sorted(months.items()):
        if len(closed) < 12 or year in recorded:
            continue
        entry_id = bind.execute(sa.text(
            "SELECT id FROM journal_entry WHERE source_type = 'year_closing' AND source_id = :y"), {"y": str(year)}
        ).scalar()
        count = bind.execute(sa.text("SELECT count(*) FROM journal_entry WHERE number LIKE :p"),
                             {"p": f"JU/{year}/%"}).scalar() or 0
        head = bind.execute(sa.text("SELECT chain_hash FROM journal_entry WHERE number = :n"),
                            {"n": f"JU/{year}/{count:06d}"}).scalar() if count else None
        bind.execute(sa.text(
            "INSERT INTO closed_year (year, entry_id, chain_head, entry_count, closed_by, closed_at) "
            "VALUES (:y, :e, :h, :c, 'migration', :t)"),
            {"y": year, "e": entry_id, "h": head or "0" * 64, "c": count, "t": dt.datetime.now(dt.UTC)})


def upgrade():
    with op.batch_alter_table('form_use', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.String(length=64), nullable=False, server_default=''))
    bind = op.get_bind()
    _close_old_years(bind)
    if bind.dialect.name != "postgresql":
        for name in REPLACED:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_GUARDS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for name in REPLACED + ADDED:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in OLD_SQLITE.values():
            op.execute(statement)
    with op.batch_alter_table('form_use', schema=None) as batch_op:
        batch_op.drop_column('digest')
