"""Leases: a PostgreSQL advisory lock, or a file lock beside a SQLite database."""
