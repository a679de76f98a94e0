"""The state store: the only truth about what was published (SQLAlchemy; SQLite by default)."""
