"""Keyset pagination for the long lists (products, members, arrears, the audit log, count sheets, document lines).

A page is found from the sort key of the row next to it, never with OFFSET: `?setelah=<id>` shows the rows after the
row with that id, `?sebelum=<id>` the rows before it, so page 2 000 costs what page 1 does (an index range scan of
one page). The row id is the cursor in the URL; its sort key is read again from the database, so the URL carries no
names. An unknown or malformed cursor shows the first page. Filters ride along in the links (pos/templates/_pager.html).
The total and the position of the first row are counted in SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import request

from pos.db import db

AFTER, BEFORE = "setelah", "sebelum"
MAX_ID = 2**63 - 1


def cursor_arg(name: str) -> int | None:
    """A cursor from the query string: a row id (1 to 2⁶³−1), else None (the first page; never an error)."""
    raw = request.args.get(name, "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


@dataclass
class Page:
    rows: list
    has_prev: bool = False
    has_next: bool = False
    total: int | None = None  # rows in the whole list (all pages)
    first: int = 0  # 1-based position of the first row shown, 0 if unknown or empty
    prev_cursor: int | None = None
    next_cursor: int | None = None
    args: dict = field(default_factory=dict)  # the filters the page links keep

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.first else 0

    @property
    def prev_args(self) -> dict:
        return {**self.args, BEFORE: self.prev_cursor}

    @property
    def next_args(self) -> dict:
        return {**self.args, AFTER: self.next_cursor}


def _compare(columns: Sequence[Any], key: Sequence[Any], greater: bool):
    """(c1, c2, ...) > (k1, k2, ...) as a row value (SQLite 3.15+, PostgreSQL): an index range scan."""
    left, right = sa.tuple_(*columns), sa.tuple_(*[sa.literal(v) for v in key])
    return left > right if greater else left < right


def keyset(
    statement: sa.Select,
    order: Sequence[Any],
    *,
    key_of: Callable[[int], Sequence[Any] | None],
    size: int,
    id_of: Callable[[Any], int] = lambda row: row.id,
    descending: bool = False,
    count: bool = True,
    position: bool = False,
    args: dict | None = None,
    scalars: bool = True,
    options: Sequence[Any] = (),
) -> Page:
    """One page of `statement` in the order of `order` (its last column unique, e.g. the id), `descending` for
    newest first. `key_of(id)` reads the sort key of the row with that id (None if there is none); `id_of(row)` gives
    a row's cursor; `options` (eager loads) apply to the rows only, not to the counts. `count` counts the whole
    list; `position` also counts the rows before the page (an index range count: cheap when the filter is in the
    index, a row lookup per earlier row when it is not)."""
    after, before = cursor_arg(AFTER), cursor_arg(BEFORE)
    forward = [c.desc() for c in order] if descending else [c.asc() for c in order]
    backward = [c.asc() for c in order] if descending else [c.desc() for c in order]
    key = None
    going_back = False
    if before is not None:
        key = key_of(before)
        going_back = key is not None
    if key is None and after is not None:
        key = key_of(after)
    fetch = db.session.scalars if scalars else db.session.execute
    rows_of = statement.options(*options) if options else statement
    if key is None:
        rows = list(fetch(rows_of.order_by(*forward).limit(size + 1)))
        has_prev, has_next = False, len(rows) > size
        rows = rows[:size]
    elif going_back:
        rows = list(fetch(rows_of.where(_compare(order, key, greater=descending))
                          .order_by(*backward).limit(size + 1)))
        has_prev, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
    else:
        rows = list(fetch(rows_of.where(_compare(order, key, greater=not descending))
                          .order_by(*forward).limit(size + 1)))
        has_prev, has_next = True, len(rows) > size
        rows = rows[:size]
    page = Page(rows=rows, has_prev=has_prev, has_next=has_next,
                args={k: v for k, v in (args or {}).items() if v not in (None, "")})
    if rows:
        page.prev_cursor, page.next_cursor = id_of(rows[0]), id_of(rows[-1])
    elif key is not None:  # past the end (or before the start): only the way back
        page.prev_cursor = page.next_cursor = before if going_back else after
        page.has_prev, page.has_next = not going_back, going_back
    if count:
        base = statement.order_by(None)
        page.total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
        if rows and position:
            page.first = 1
            if key is not None:
                first_key = key_of(id_of(rows[0]))
                if first_key is not None:
                    earlier = base.where(_compare(order, first_key, greater=descending))
                    page.first += db.session.scalar(sa.select(sa.func.count()).select_from(earlier.subquery()))
            page.has_prev = page.first > 1
            page.has_next = page.last < page.total
        elif not rows:
            page.has_next = page.has_next and page.total > 0
    return page
