"""Bank statement import: CSV rows become contributions, matched to pledges by reference."""
