"""Receipts: plain receipt data rendered to ESC/POS bytes and HTML (the receipts issue fills it)."""
