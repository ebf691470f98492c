"""Instants: the core works in UTC and refuses a time without a zone."""

from __future__ import annotations

from datetime import UTC, datetime

from equitoken.domain.errors import DomainError


def utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC, refusing a naive datetime (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError("NAIVE_DATETIME", f"{moment.isoformat()} has no time zone; give one (e.g. Z)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-12:00 is past the last instant Python can hold
        raise DomainError(
            "INVALID_TIMESTAMP", f"{moment.isoformat()} is outside the range of instants that can be kept"
        ) from None
