"""Contributions: money (or goods) actually received; corrected only by reversal."""
