"""Pledges: promises of money (or goods) to a campaign, fulfilled by contributions."""
