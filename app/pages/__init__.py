"""Pages for donors: server-rendered HTML over the public views (issue 13)."""
