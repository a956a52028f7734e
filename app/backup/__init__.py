"""`relief backup` and `relief restore`: a consistent copy of the database while the
service runs, and a restore into an empty database that then verifies every chain."""
