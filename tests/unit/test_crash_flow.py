"""The crash harness's pure parts: the seeded flow, the end-state checks, and the journaled broker."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from equitoken.adapters.broker.durable import DurableSimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.app.settings import Settings
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Price, Shares
from equitoken.harness.crash import Progress, _market
from equitoken.ports.broker import BrokerOrder
from equitoken.simulation.crash import START as FLOW_START
from equitoken.simulation.crash import StepKind, consistency, differences, make_flow, ny


def test_the_same_seed_makes_the_same_flow_and_another_seed_another() -> None:
    assert make_flow("a", 30) == make_flow("a", 30)
    assert make_flow("a", 30).steps != make_flow("b", 30).steps
    flow = make_flow("a", 30)
    assert [s.index for s in flow.steps] == list(range(len(flow.steps)))
    assert all(a.at <= b.at for a, b in zip(flow.steps, flow.steps[1:], strict=False))
    assert all(
        s.kind in (StepKind.LIST, StepKind.ONBOARD, StepKind.DEPOSIT, StepKind.WHITELIST, StepKind.PRIMARY)
        for s in flow.steps[: flow.setup]
    )


def test_the_flow_covers_what_the_models_differ_on() -> None:
    steps = [s for seed in ("a", "b", "c") for s in make_flow(seed, 60).steps]
    orders = [s for s in steps if s.kind is StepKind.ORDER]
    assert {s.symbol for s in orders} == {"AAPL", "MSFT", "KO"}
    assert {s.tif for s in orders} == {"ioc", "day", "gtc"}
    assert {s.side for s in orders} == {"buy", "sell"}
    assert any(s.limit_bps is not None for s in orders) and any(s.notional for s in orders)
    kinds = Counter(s.kind for s in steps)
    assert kinds[StepKind.CANCEL] and kinds[StepKind.DEPOSIT] > 15 and kinds[StepKind.TICK]
    assert any(s.at.astimezone(ny(FLOW_START, 0).tzinfo).weekday() >= 5 for s in orders)  # UTC weekend
    # Orders fall outside the regular session too (evenings, nights).
    assert any(s.at.hour >= 21 or s.at.hour < 13 for s in orders)
    keys = [s.key for s in orders]
    assert len(keys) == len(set(keys))  # one idempotency key per order


def test_differences_name_the_place_and_both_values() -> None:
    expected = {"orders": {"o1": {"state": "settled", "fills": [["f1", "2", "10"]]}}, "cash": "5"}
    actual = {"orders": {"o1": {"state": "cancelled", "fills": []}, "o2": {"state": "settled"}}, "cash": "5"}
    found = differences(expected, actual)
    assert "orders.o1.state: expected 'settled', got 'cancelled'" in found
    assert any(f.startswith("orders.o1.fills") for f in found)
    assert any(f.startswith("orders.o2: unexpected") for f in found)
    assert differences(expected, expected) == []


def test_consistency_finds_a_wallet_the_ledger_does_not_match() -> None:
    figures = {
        "holders": {
            "anna": {"tokens": {"KO": {"ledger": "3", "chain": "4"}}, "cash": {"ledger": "1", "chain": "1"}}
        },
        "listings": {"KO": {"supply": "4", "ledger_tokens": "3", "breaks": ["short"], "halted": None}},
        "orders": {"o1": {"key": "k", "state": "received"}},
    }
    found = consistency(figures)
    assert len(found) == 4 and found[0].startswith("anna KO: ledger tokens 3 != chain 4")


def test_the_journaled_broker_comes_back_as_it_was(tmp_path: Path) -> None:
    calendar, prices = _market(Settings())
    clock = ManualClock(ny(FLOW_START, 9, 0))
    path = tmp_path / "broker.log"
    broker = DurableSimulatedBroker(path, clock, calendar, prices, Bps(5))
    broker.place(BrokerOrder("c1", Symbol("AAPL"), Side.BUY, Shares(10)))  # queued until the open
    broker.place(BrokerOrder("c2", Symbol("AAPL"), Side.BUY, Shares(3), OrderType.LIMIT, Price("1")))
    clock.set(ny(FLOW_START, 10, 0))
    fills = broker.poll()
    assert [f.client_order_id for f in fills] == ["c1"]
    broker.cancel("c2")
    before = broker.positions()
    broker.close()
    clock.advance(timedelta(days=7))
    again = DurableSimulatedBroker(path, clock, calendar, prices, Bps(5))
    assert again.order("c1") is not None and again.order("c1").fills == tuple(fills)  # type: ignore[union-attr]
    assert again.positions() != before  # a week later the buy has settled: the replay kept its fill time
    assert again.poll() == []  # reported before the reopen: not again
    again.close()
    # A torn last line is a call that never happened; a damaged middle line is refused.
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    DurableSimulatedBroker(path, clock, calendar, prices, Bps(5)).close()
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:-3] + b"xyz"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DomainError) as refused:
        DurableSimulatedBroker(path, clock, calendar, prices, Bps(5))
    assert refused.value.code == "STORE_CORRUPT"


def test_progress_counts_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "progress"
    progress = Progress(path)
    for index in range(3):
        progress.mark(index)
    path.write_text(path.read_text() + "3")  # killed inside the write of step 3's line
    assert Progress(path).done == 3
    assert path.read_text() == "0\n1\n2\n"  # the cut line is gone, so the next mark is whole
