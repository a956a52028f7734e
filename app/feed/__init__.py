"""The live bank feed: a bank (or a VietQR aggregator) posts each incoming transfer, signed."""
