"""Campaigns: appeals (cuộc vận động) with a currency, a target and a status draft → open → closed."""
