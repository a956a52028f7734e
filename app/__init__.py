"""Relief Ledger: disaster-relief money and goods, from pledge to commune, with provable totals."""
