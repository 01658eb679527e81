"""The sales context: shifts, pricing, tax, checkout, payments, returns (models, pure rules, use cases)."""
