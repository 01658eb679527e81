"""Ledger: chart of accounts, journal, members and savings, SHU (tables arrive with the ledger issue)."""
