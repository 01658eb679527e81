"""Inventory: catalog, units, barcodes, batches, stock moves (tables arrive with the inventory issue)."""
