"""Clock adapters: the system clock for production, a settable one for simulations and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc


class SystemClock:
    """Read the machine's clock, in UTC."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: simulations and tests run time with it."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        """Return the clock's current instant."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (never backwards: time in the books only runs forward)."""
        moment = utc(moment)
        if moment < self._now:
            raise DomainError(
                "CLOCK_BACKWARDS",
                f"clock cannot go back from {self._now.isoformat()} to {moment.isoformat()}",
            )
        self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new instant."""
        self.set(self._now + delta)
        return self._now
