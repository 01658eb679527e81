"""Kasir Koperasi point of sale: app factory, auth, web shell (imports nothing on purpose)."""
