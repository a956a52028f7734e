"""Donors: people, organisations, businesses and overseas Vietnamese (kiều bào)."""
