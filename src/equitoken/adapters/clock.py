"""Clock adapters: the system clock for production, a settable one for simulations and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.ports.clock import Clock


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


class SandboxClock:
    """The wall clock moved onto a period of history: ``origin + (wall - wall_origin) × speed``.

    A sandbox runs the live engine against real prices of another period: each wall-clock second is
    ``speed`` seconds there. The mapping is fixed when the sandbox is first opened and kept (the
    service journals it), so a restarted sandbox goes on from where the period has reached, never back.
    """

    def __init__(
        self, origin: datetime, wall_origin: datetime, speed: int, wall: Clock | None = None
    ) -> None:
        if speed < 1:
            raise DomainError("INVALID_SETTING", f"a sandbox's speed must be a whole number ≥ 1, not {speed}")
        self._origin = utc(origin)
        self._wall_origin = utc(wall_origin)
        self._speed = speed
        self._wall = wall or SystemClock()

    @property
    def origin(self) -> datetime:
        """Return the instant of history the sandbox began at."""
        return self._origin

    @property
    def speed(self) -> int:
        """Return how many sandbox seconds pass per wall-clock second."""
        return self._speed

    def now(self) -> datetime:
        """Return the sandbox's current instant (never before its origin)."""
        elapsed = max(self._wall.now() - self._wall_origin, timedelta(0))
        return self._origin + elapsed * self._speed
