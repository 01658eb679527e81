"""The journal's hash chain: each posted entry's hash covers its content and the hash of the entry numbered
before it in the same year, so a rewritten, inserted or erased entry breaks the chain (`ledger check`).

Pure functions, shared by the posting code, `ledger check` and the migration that filled the chain in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

GENESIS = "0" * 64


def _field(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")


def entry_content(entry: dict, postings: Iterable[dict]) -> str:
    """The canonical text of an entry: its own fields, then each posting in id order."""
    head = "|".join(_field(entry[k]) for k in (
        "number", "date", "description", "unit_id", "source_type", "source_id", "reverses_id", "author_name"))
    lines = [
        "|".join(_field(p[k]) for k in ("account_id", "debit", "credit", "member_id", "unit_id", "memo"))
        for p in sorted(postings, key=lambda p: p["id"])
    ]
    return "\n".join([head, *lines])


def entry_hash(previous: str | None, entry: dict, postings: Iterable[dict]) -> str:
    data = (previous or GENESIS) + "\n" + entry_content(entry, postings)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def number_parts(number: str) -> tuple[int, int] | None:
    """("JU/2026/000042") -> (2026, 42); None for a number of another form."""
    parts = number.split("/")
    if len(parts) != 3 or parts[0] != "JU" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2])


def previous_number(number: str) -> str | None:
    parts = number_parts(number)
    if parts is None or parts[1] <= 1:
        return None
    return f"JU/{parts[0]}/{parts[1] - 1:06d}"
