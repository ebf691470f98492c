"""Alembic migrations of the store's schema (a package only so the scripts ship with the wheel)."""
