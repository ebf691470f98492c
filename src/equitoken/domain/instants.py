"""Instants: the core works in UTC and refuses a time without a zone."""

from __future__ import annotations

from datetime import UTC, datetime

from equitoken.domain.errors import DomainError


def utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC, refusing a naive datetime (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError("NAIVE_DATETIME", f"{moment.isoformat()} has no time zone; give one (e.g. Z)")
    return moment.astimezone(UTC)
