"""Group commit (``Settings.group_commit``, ``IssuanceEngine.submit_many``): the same orders, fewer fsyncs.

A batch submitted together ends exactly as the same orders submitted one by one — the same fills, the
same ledger, the same journal — while every order's closing unit of work but the last skips its own
fsync, and a unit that records a plan (whose legs are sent after it) never does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.sql import SqlStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.issuance import open_engine
from equitoken.app.settings import Settings
from equitoken.issuance.models import ModelName
from equitoken.issuance.orders import OrderState
from tests.issuance.test_restart import BUILDERS, MONDAY
from tests.issuance.world import World


class Spy:
    """The store, counting its units of work and the ones let off their fsync."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.lazy = 0

    def commit_lazily(self) -> None:
        self.lazy += 1
        self.store.commit_lazily()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _world(tmp_path: Path, group: bool) -> tuple[World, Spy]:
    clock = ManualClock(MONDAY)
    store = Spy(SqlStore.open(f"sqlite:///{tmp_path / 'group.db'}", group_commit=group))
    platform = bootstrap(
        Settings(chain_seed="group", group_commit=group),
        clock,
        store=store,  # type: ignore[arg-type]
        chain=build_chain("", "group", genesis=MONDAY),
    )
    world = World(platform, clock, store, open_engine(platform))  # type: ignore[arg-type]
    world.list("MSFT", ModelName.INSTANT, "instant-execution", BUILDERS[ModelName.INSTANT])
    return world, store


@pytest.mark.parametrize("group", [False, True])
def test_a_batch_ends_as_the_same_orders_one_by_one(tmp_path: Path, group: bool) -> None:
    ends = []
    for together, where in ((False, tmp_path / "one"), (True, tmp_path / "batch")):
        where.mkdir()
        world, store = _world(where, group)
        anna = world.investor("anna", residence="DE")
        requests = [world.buy(anna, "MSFT", "1", key=f"b{i}") for i in range(5)]
        engine = world.engine
        done = engine.submit_many(requests) if together else [engine.submit(r) for r in requests]
        assert [s.order.state for s in done] == [OrderState.SETTLED] * 5
        assert store.lazy == (
            4 if together else 0
        )  # the hint is given; a store without group commit ignores it
        ends.append(
            (
                [(s.order.order_id, s.order.state, s.events) for s in done],
                [(e.key, e.postings) for e in store.entries()],
                [(e.stream, e.type, e.key, e.payload) for e in store.events()],
            )
        )
        assert world.backed()
        store.close()
    assert ends[0] == ends[1]
