"""The engine's lease: which one of several service processes may run the engine now.

A lease is held by at most one process at a time and is lost when that process dies — the database
or the operating system frees it, never a clock or a vote of ours. ``try_acquire`` never waits;
``held`` asks again whether the lease is still this process's (its connection may have dropped).
"""

from __future__ import annotations

from typing import Protocol


class Lease(Protocol):
    """A lock one process holds for as long as it lives (or until it releases it)."""

    @property
    def name(self) -> str:
        """Return what is locked, for logs and ``/health`` (no secret in it)."""
        ...

    def try_acquire(self) -> bool:
        """Take the lease if no other process holds it; return whether this process holds it now."""
        ...

    def held(self) -> bool:
        """Tell whether this process still holds the lease (``False`` once its hold was lost)."""
        ...

    def release(self) -> None:
        """Give the lease up (nothing if it is not held)."""
        ...
