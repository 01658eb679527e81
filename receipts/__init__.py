"""Receipts: plain receipt data rendered to ESC/POS bytes, text and HTML; shelf and product labels.

model (Receipt and the builders from dicts) -> layout (blocks for a printer profile) -> escpos / html renderers;
profiles (printer models as data), barcodes (Code128/EAN drawn bar by bar), labels, samples (demo receipts).
Nothing here knows sales or the database; nothing heavy is imported until a renderer runs.
"""
