"""indexes the stock reports read through

Revision ID: 0010_stock_indexes
Revises: 0009_account_day
Create Date: 2026-12-01 16:30:00

- ix_stock_level_product_held (product_id, location_id, batch_id, quantity): a product's levels with their
  quantities read from the index alone: the reorder list's and count's sum of what a product holds outside
  karantina, the stock on hand's "has a matching level" per product, and the drift checksum's scan.
- ix_stock_move_product_at (product_id, at, id): a product's kartu stok a page at a time in the order the moves
  happened (keyset on time and id), and its sums before a page, without sorting every move of a busy product.

Declared beside the code that needs them, in inventory/stock.py.
"""
from alembic import op

revision = '0010_stock_indexes'
down_revision = '0009_account_day'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_stock_level_product_held', 'stock_level',
                    ['product_id', 'location_id', 'batch_id', 'quantity'], unique=False)
    op.create_index('ix_stock_move_product_at', 'stock_move', ['product_id', 'at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_stock_move_product_at', table_name='stock_move')
    op.drop_index('ix_stock_level_product_held', table_name='stock_level')
