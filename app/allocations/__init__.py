"""Allocations: money (or goods) assigned from a campaign to a place, then delivered."""
