"""The composition root: parts are chosen through ``bootstrap``, never patched in afterwards (issue 10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.settings import Settings


def test_a_part_passed_to_bootstrap_is_the_part_used() -> None:
    store = MemoryStore()
    platform = bootstrap(Settings(), ManualClock(datetime(2012, 11, 19, tzinfo=UTC)), store=store)
    assert platform.store is store


def test_the_platform_refuses_a_part_patched_in_after_it_is_built() -> None:
    platform = bootstrap(Settings(), ManualClock(datetime(2012, 11, 19, tzinfo=UTC)))
    with pytest.raises(AttributeError, match="sealed"):
        platform.store = MemoryStore()
    with pytest.raises(AttributeError, match="sealed"):
        platform.chain_kept = True


def test_parts_not_chosen_are_still_built_lazily_by_the_root() -> None:
    platform = bootstrap(Settings(), ManualClock(datetime(2012, 11, 19, tzinfo=UTC)))
    assert "calendar" not in platform.__dict__  # nothing is built until asked for
    assert platform.calendar.is_trading_day(date(2012, 11, 19))
