"""Module-level tasks for the parallel runner's tests: spawned workers and Dask workers import them."""

from __future__ import annotations

import os
import time
from decimal import Decimal

from equitoken.domain.errors import DomainError


def square(task: tuple[int, str]) -> tuple[int, str]:
    """Return the task's number and the exact square of its decimal (no floats: results must be equal)."""
    number, text = task
    value = Decimal(text)
    return number, str(value * value)


def sleepy(task: tuple[int, float]) -> int:
    """Sleep the given seconds, then return the number: early tasks given long sleeps finish last."""
    number, seconds = task
    time.sleep(seconds)
    return number


def refuse_odd(number: int) -> int:
    """Refuse an odd number with a catalogued code (after a pause for the even ones to finish first)."""
    if number % 2:
        time.sleep(0.3 if number == 1 else 0)
        raise DomainError("INVALID_SETTING", f"{number} is odd")
    return number


def crash(number: int) -> int:
    """Fail on 2 with an error that is not a DomainError."""
    if number == 2:
        raise KeyError(f"no {number}")
    return number


def pid(_: int) -> int:
    """Return the process that ran the task."""
    time.sleep(0.05)
    return os.getpid()
