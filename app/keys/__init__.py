"""API keys, roles, the principal of a request, and the rules of who may act where."""
