"""The append-only, hash-chained, double-entry ledger under every campaign."""
