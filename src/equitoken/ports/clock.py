"""The clock port: the core never reads the wall clock itself, so simulations can run time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tell the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        ...
