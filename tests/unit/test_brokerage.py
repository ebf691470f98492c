"""The brokerage service: fills reach the books once, settle on time, and survive a restart."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.adapters.market.history import HistoryPriceSource
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.brokerage import FILL_BOOKED, FILL_SETTLED, ORDER_CLOSED, STREAM, Brokerage
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Price, Shares
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft, PostResult
from equitoken.ports.broker import BrokerOrder, BrokerOrderStatus
from equitoken.ports.store import StoredEvent
from equitoken.trading.settlement import settle_key, trade_key
from tests.fakes.market import FakeCalendar, FakePriceSource, ny

AAPL = Symbol("AAPL")
SH = Asset.share(AAPL)
USD = Asset.cash()
ISSUER = Account.of(AccountKind.ISSUER_CASH)
BUFFER = Account.of(AccountKind.BUFFER_POOL, "instant")
CUSTODY = Account.of(AccountKind.CUSTODY, AAPL)
IN_FLIGHT = Account.of(AccountKind.IN_FLIGHT, AAPL)
CIF = Account.of(AccountKind.CASH_IN_FLIGHT)


class World:
    """One broker, one store, one clock: the pieces a restart keeps."""

    def __init__(self, start: datetime, store: Any = None) -> None:
        self.clock = ManualClock(start)
        self.calendar = FakeCalendar()
        self.broker = SimulatedBroker(self.clock, self.calendar, FakePriceSource({"AAPL": "100"}), Bps(0))
        self.store = store if store is not None else MemoryStore()

    def brokerage(self, funding: Account = ISSUER) -> Brokerage:
        return Brokerage(self.broker, self.store, self.calendar, self.clock, funding)

    def position(self, at: datetime | None = None) -> Decimal:
        return Decimal(self.store.balance(CUSTODY, SH, at) + self.store.balance(IN_FLIGHT, SH, at))


def buy(coid: str, qty: str = "10", limit: str | None = None) -> BrokerOrder:
    kind = OrderType.MARKET if limit is None else OrderType.LIMIT
    return BrokerOrder(coid, AAPL, Side.BUY, Shares(qty), kind, None if limit is None else Price(limit))


def sell(coid: str, qty: str = "10") -> BrokerOrder:
    return BrokerOrder(coid, AAPL, Side.SELL, Shares(qty))


def test_a_fill_at_placement_is_booked_on_its_trade_date_at_once() -> None:
    world = World(ny(2024, 6, 3, 11))
    service = world.brokerage()
    assert service.place(buy("b1")).status is BrokerOrderStatus.FILLED
    fill_id = world.broker.order("b1").fills[0].fill_id  # type: ignore[union-attr]
    entry = world.store.entry(trade_key(fill_id))
    assert entry is not None and entry.effective_at == ny(2024, 6, 3, 11)
    assert world.store.balance(IN_FLIGHT, SH) == 10
    assert world.store.balance(ISSUER, USD) == -1000
    assert service.sync().booked == ()  # already booked; the poll's copy is recognised


def test_sync_books_a_queued_fill_at_its_fill_instant_and_settles_it_at_the_settlement_open() -> None:
    world = World(ny(2024, 6, 7, 18))
    service = world.brokerage()
    service.place(buy("b1"))
    assert service.sync().booked == ()
    world.clock.set(ny(2024, 6, 10, 12))
    report = service.sync()
    (fill,) = report.booked
    assert report.settled == ()
    assert world.store.entry(trade_key(fill.fill_id)).effective_at == ny(2024, 6, 10, 9, 30)  # type: ignore[union-attr]
    assert [p.fill for p in service.pending()] == [fill]
    world.clock.set(ny(2024, 6, 11, 9, 29))
    assert service.sync().settled == ()
    world.clock.set(ny(2024, 6, 11, 9, 30))
    assert service.sync().settled == (fill,)
    assert world.store.entry(settle_key(fill.fill_id)).effective_at == ny(2024, 6, 11, 9, 30)  # type: ignore[union-attr]
    assert world.store.balance(CUSTODY, SH) == 10 and world.store.balance(IN_FLIGHT, SH) == 0
    assert world.store.balance(CIF, USD) == 0
    assert service.pending() == []


def test_a_second_sync_posts_nothing_new() -> None:
    world = World(ny(2024, 6, 3, 11))
    service = world.brokerage()
    service.place(buy("b1"))
    world.clock.set(ny(2024, 6, 5, 12))
    first = service.sync()
    entries, events = len(world.store.entries()), len(world.store.events())
    assert len(first.settled) == 1
    assert service.sync() == type(first)((), ())
    assert (len(world.store.entries()), len(world.store.events())) == (entries, events)


def test_a_restarted_service_settles_fills_booked_before_the_restart() -> None:
    world = World(ny(2024, 6, 3, 11))
    first = world.brokerage(BUFFER)
    first.place(buy("b1", "4"))
    world.clock.set(ny(2024, 6, 4, 12))
    second = world.brokerage(ISSUER)  # a new process, configured with another funding account
    assert [p.fill.client_order_id for p in second.pending()] == ["b1"]
    assert second.pending()[0].funding == BUFFER  # the fill settles against what funded it
    (settled,) = second.sync().settled
    assert settled.client_order_id == "b1"
    assert world.store.balance(BUFFER, USD) == -400 and world.store.balance(ISSUER, USD) == 0
    assert world.position() == 4 and world.store.balance(CUSTODY, SH) == 4


def test_a_fill_lost_between_poll_and_booking_is_recovered_from_the_order_state() -> None:
    world = World(ny(2024, 6, 7, 18))
    service = world.brokerage()
    service.place(buy("b1"))
    world.clock.set(ny(2024, 6, 10, 12))
    lost = world.broker.poll()  # the fill went to a process that crashed before booking it
    assert len(lost) == 1
    (booked,) = world.brokerage().sync().booked
    assert booked == lost[0]
    assert world.position() == 10


class CrashingStore:
    """A ``MemoryStore`` whose next ``post`` of a chosen key fails once, as a crash would."""

    def __init__(self, inner: MemoryStore, fail_key_prefix: str) -> None:
        self.inner = inner
        self.fail_key_prefix: str | None = fail_key_prefix

    def post(self, draft: EntryDraft) -> PostResult:
        if self.fail_key_prefix and draft.key.startswith(self.fail_key_prefix):
            self.fail_key_prefix = None
            raise RuntimeError("simulated crash")
        return self.inner.post(draft)

    def append_event(
        self, stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> StoredEvent:
        return self.inner.append_event(stream, type, key, occurred_at, payload)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_crash_after_recording_the_fill_but_before_its_entry_is_repaired_on_restart() -> None:
    inner = MemoryStore()
    world = World(ny(2024, 6, 3, 11), CrashingStore(inner, "broker-fill:"))
    with pytest.raises(RuntimeError):
        world.brokerage().place(buy("b1"))
    fill_id = world.broker.order("b1").fills[0].fill_id  # type: ignore[union-attr]
    assert inner.entry(trade_key(fill_id)) is None
    assert [e.type for e in inner.events(STREAM)] == ["BrokerOrderPlaced", FILL_BOOKED]
    world.brokerage().sync()
    assert inner.entry(trade_key(fill_id)) is not None
    assert world.position() == 10


def test_a_crash_after_the_settlement_entry_but_before_its_event_settles_once() -> None:
    inner = MemoryStore()
    world = World(ny(2024, 6, 3, 11), inner)
    world.brokerage().place(buy("b1"))
    world.clock.set(ny(2024, 6, 4, 12))

    class LosesSettledEvent(CrashingStore):
        def append_event(
            self, stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
        ) -> StoredEvent:
            if type == FILL_SETTLED:
                raise RuntimeError("simulated crash")
            return self.inner.append_event(stream, type, key, occurred_at, payload)

    world.store = LosesSettledEvent(inner, "never")
    with pytest.raises(RuntimeError):
        world.brokerage().sync()
    world.store = inner
    (settled,) = world.brokerage().sync().settled
    assert len([e for e in inner.entries() if e.key.startswith("broker-settle:")]) == 1
    assert settled.client_order_id == "b1"
    assert world.store.balance(CUSTODY, SH) == 10


def test_cancel_and_rejection_are_recorded_and_the_order_is_no_longer_followed() -> None:
    world = World(ny(2024, 6, 7, 18))
    service = world.brokerage()
    service.place(buy("b1"))
    assert service.cancel("b1").status is BrokerOrderStatus.CANCELLED
    assert service.place(buy("z", "0")).status is BrokerOrderStatus.REJECTED
    closed = {
        e.payload["client_order_id"]: e.payload["status"]
        for e in world.store.events(STREAM)
        if e.type == "BrokerOrderClosed"
    }
    assert closed == {"b1": "cancelled", "z": "rejected"}
    world.clock.set(ny(2024, 6, 10, 12))
    assert world.brokerage().sync().booked == ()


def test_a_resent_order_is_harmless_and_a_conflicting_one_is_refused_without_a_trace() -> None:
    world = World(ny(2024, 6, 3, 11))
    service = world.brokerage()
    service.place(buy("b1"))
    service.place(buy("b1"))
    assert len(world.store.entries()) == 1
    events = len(world.store.events())
    with pytest.raises(DomainError) as caught:
        service.place(buy("b1", "11"))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"
    assert len(world.store.events()) == events


def test_fills_settle_in_t_plus_three_over_a_holiday_in_2014() -> None:
    world = World(ny(2014, 11, 26, 11))
    world.calendar.holidays = frozenset({date(2014, 11, 27)})
    service = world.brokerage()
    service.place(buy("b1"))
    world.clock.set(ny(2014, 12, 1, 23))
    assert service.sync().settled == ()
    world.clock.set(ny(2014, 12, 2, 9, 30))
    assert len(service.sync().settled) == 1


def test_a_sync_that_failed_half_way_recovers_the_polled_fills_on_the_next_sync() -> None:
    store = CrashingStore(MemoryStore(), "never")
    world = World(ny(2024, 6, 7, 18), store)
    service = world.brokerage()
    service.place(buy("b1"))
    service.place(buy("b2"))
    service.sync()  # the first sync of a service reconciles; the next ones follow new fills only
    world.clock.set(ny(2024, 6, 10, 12))
    store.fail_key_prefix = "broker-fill:"
    with pytest.raises(RuntimeError):
        service.sync()  # both fills were polled; the first failed to book, the second was never tried
    assert world.broker.poll() == []
    booked = service.sync().booked
    assert sorted(f.client_order_id for f in booked) == ["b1", "b2"]
    assert world.position() == 20


def test_a_funding_account_that_cannot_fund_fills_is_refused_up_front() -> None:
    world = World(ny(2024, 6, 3, 11))
    with pytest.raises(DomainError) as caught:
        world.brokerage(CUSTODY)
    assert caught.value.code == "INVALID_FUNDING_ACCOUNT"


@pytest.mark.parametrize("restart", [False, True])
def test_resending_a_cancelled_order_later_returns_it_cancelled(restart: bool) -> None:
    world = World(ny(2024, 6, 7, 18))
    service = world.brokerage()
    service.place(buy("b1"))
    service.cancel("b1")
    world.clock.set(ny(2024, 6, 8, 12))
    if restart:
        service = world.brokerage()
    assert service.place(buy("b1")).status is BrokerOrderStatus.CANCELLED
    assert [e.type for e in world.store.events(STREAM)] == ["BrokerOrderPlaced", "BrokerOrderClosed"]


def test_an_order_rejected_at_the_open_is_recorded_as_closed() -> None:
    """A queued order whose price turns stale by the open ends REJECTED, and the journal says so."""
    clock = ManualClock(datetime(2014, 12, 31, 22, 0, tzinfo=UTC))  # after the last bundled close
    calendar = ExchangeCalendar()
    broker = SimulatedBroker(clock, calendar, HistoryPriceSource(calendar), Bps(5))
    store = MemoryStore()
    brokerage = Brokerage(broker, store, calendar, clock, Account.of(AccountKind.ISSUER_CASH))
    assert brokerage.place(BrokerOrder("late", AAPL, Side.BUY, Shares(1))).status.value == "queued"
    clock.set(datetime(2015, 1, 2, 15, 0, tzinfo=UTC))  # the 2015 open has no bar: stale
    assert brokerage.sync().booked == ()
    closed = [e for e in store.events("broker") if e.type == ORDER_CLOSED]
    assert [(e.payload["client_order_id"], e.payload["reason_code"]) for e in closed] == [
        ("late", "STALE_PRICE")
    ]
    assert brokerage.sync().booked == () and len(store.events("broker")) == 2  # nothing recorded twice
