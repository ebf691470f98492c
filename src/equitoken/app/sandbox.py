"""The sandbox: the live service on a clock moved onto a real period of the bundled history.

``equitoken serve --sandbox --from 2012-11-19 [--speed 60]`` runs the same engine, store, chain and
broker as a live service, but its clock reads history: the session open of the first trading day on or
after ``--from``, moving ``speed`` times as fast as the wall clock. Prices, weekends, holidays, early
closes, splits and dividends are the real ones of that period, so anyone can use the API around the
clock, as brokers' paper-trading accounts and issuers' sandboxes allow.

The mapping is journaled when a data directory first opens as a sandbox (``SandboxOpened``, stream
``service``); reopening it asks for the same period and speed (``SANDBOX_MISMATCH`` otherwise) and
goes on from where the period has reached — time in the books never runs back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.issuance.models import ModelName
from equitoken.ports.market import MarketCalendar
from equitoken.ports.store import Store

STREAM = "service"


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """A sandbox asked for: the first day of history and how fast it runs."""

    start: date
    speed: int = 1

    def __post_init__(self) -> None:
        if self.speed < 1 or self.speed > 100_000:
            raise DomainError("INVALID_SETTING", f"--speed must be from 1 to 100000, not {self.speed}")


@dataclass(frozen=True, slots=True)
class SandboxOpened:
    """A data directory became a sandbox: history instant ``origin`` is wall instant ``wall_origin``."""

    start: date
    speed: int
    origin: datetime
    wall_origin: datetime


EVENTS = (SandboxOpened,)


def origin_of(spec: SandboxSpec, calendar: MarketCalendar) -> datetime:
    """Return where the sandbox's history starts: the open of the first trading day on or after ``start``."""
    day = spec.start
    for _ in range(10):
        if calendar.is_trading_day(day):
            return calendar.session_bounds(day)[0]
        day = date.fromordinal(day.toordinal() + 1)
    raise DomainError("NO_HISTORY", f"no trading day within ten days of {spec.start}")


def anchor(store: Store, spec: SandboxSpec, calendar: MarketCalendar, wall_now: datetime) -> SandboxOpened:
    """Return the sandbox's mapping from the journal, or journal a new one starting now."""
    for event in journal.read(store, STREAM, EVENTS):
        if (event.start, event.speed) != (spec.start, spec.speed):
            raise DomainError(
                "SANDBOX_MISMATCH",
                f"this data directory is a sandbox from {event.start} at speed {event.speed}, not "
                f"{spec.start} at {spec.speed}: use those, or remove the sandbox's directory to start anew",
            )
        opened: SandboxOpened = event
        return opened
    opened = SandboxOpened(spec.start, spec.speed, origin_of(spec, calendar), utc(wall_now))
    journal.append(store, STREAM, "sandbox", opened.wall_origin, opened)
    return opened


SANDBOX_LISTINGS: tuple[tuple[str, ModelName, str], ...] = (
    ("AAPL", ModelName.INVENTORY, "tracker-certificate"),
    ("MSFT", ModelName.INSTANT, "instant-execution"),
    ("KO", ModelName.DIRECT, "direct-ownership"),
    ("IBM", ModelName.INSTANT, "instant-execution"),
    ("GME", ModelName.INSTANT, "instant-execution"),
)
"""What a new sandbox lists, among the stocks with history on its first day: one stock per model for
2012–2014 (as the scripted week), IBM beside them, and GME for the 2021 squeeze."""


def journaled_spec(store: Store) -> SandboxSpec | None:
    """Return the period and speed the store's sandbox was opened on (``None``: not a sandbox)."""
    for event in journal.read(store, STREAM, EVENTS):
        return SandboxSpec(event.start, event.speed)
    return None
