"""balances per account and day, kept with the postings

Revision ID: 0009_account_day
Revises: 0008_jobs
Create Date: 2026-12-01 16:00:00

- account_day: the posted postings summed per day, account, business unit (0: none), revenue segment of their
  entry ('', 'anggota', 'non_anggota', 'mixed') and closing flag; journal.post adds to it in the same transaction
  as the postings, the reports read it, `ledger check` compares it with the postings (ledger.balances). Filled here
  from the postings already posted, with the same GROUP BY as ledger.balances.rebuild() (kept here as it stands
  today, so this revision does not change when the application's code does).
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_account_day'
down_revision = '0008_jobs'
branch_labels = None
depends_on = None

# Per posted entry with member or non-member revenue: the lowest and highest segment of that revenue.
BACKFILL = """
INSERT INTO account_day (date, account_id, unit_id, segment, closing, debit, credit, postings)
SELECT e.date, p.account_id, COALESCE(p.unit_id, 0),
       CASE WHEN e.source_type = 'year_closing' OR s.low IS NULL THEN ''
            WHEN s.low = s.high THEN s.low ELSE 'mixed' END,
       e.source_type = 'year_closing',
       SUM(p.debit), SUM(p.credit), COUNT(*)
FROM posting p
JOIN journal_entry e ON e.id = p.entry_id
LEFT JOIN (
    SELECT rp.entry_id AS entry_id, MIN(ra.segment) AS low, MAX(ra.segment) AS high
    FROM posting rp JOIN account ra ON ra.id = rp.account_id
    WHERE ra.type = 'revenue' AND ra.segment IS NOT NULL
    GROUP BY rp.entry_id
) s ON s.entry_id = p.entry_id
WHERE e.posted
GROUP BY 1, 2, 3, 4, 5
"""


def upgrade():
    op.create_table(
        'account_day',
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('segment', sa.String(length=12), nullable=False),
        sa.Column('closing', sa.Boolean(), nullable=False),
        sa.Column('debit', sa.BigInteger(), nullable=False),
        sa.Column('credit', sa.BigInteger(), nullable=False),
        sa.Column('postings', sa.Integer(), nullable=False),
        sa.CheckConstraint("segment IN ('', 'anggota', 'non_anggota', 'mixed')",
                           name=op.f('ck_account_day_segment_class')),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_day_account_id_account')),
        sa.PrimaryKeyConstraint('date', 'account_id', 'unit_id', 'segment', 'closing', name=op.f('pk_account_day')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_account_day_account_date', 'account_day', ['account_id', 'date', 'debit', 'credit', 'postings'],
                    unique=False)
    bind = op.get_bind()
    bind.execute(sa.text(BACKFILL))


def downgrade():
    op.drop_index('ix_account_day_account_date', table_name='account_day')
    op.drop_table('account_day')
