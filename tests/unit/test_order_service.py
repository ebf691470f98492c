"""The order service: every decision journaled first, retries answered once, and a restart forgets nothing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.orders import STREAM, OrderService, event_key
from equitoken.compliance.decision import Decision, Violation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.market import ReferencePrice
from equitoken.domain.reasons import Reason
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import (
    Fill,
    OrderDesk,
    OrderRequest,
    OrderState,
    RiskLimits,
    TimeInForce,
)
from equitoken.ports.store import StoredEvent
from tests.fakes.market import FakeCalendar, FakePriceSource, ny

AAPL = Symbol("AAPL")
ALICE = InvestorId("alice")
BOB = InvestorId("bob")
WALLET = WalletAddress("0x" + "ab" * 20)
START = ny(2024, 3, 5, 10, 0)  # a Tuesday, in the regular session
CLOSE = ny(2024, 3, 5, 16, 0)


class FakeCompliance:
    """Allow everyone but the investors told otherwise; count the questions."""

    def __init__(self, refuse: Mapping[InvestorId, Reason] | None = None) -> None:
        self.refuse = dict(refuse or {})
        self.calls: list[OrderRequest] = []

    def decide(self, request: OrderRequest, reference: ReferencePrice, at: datetime) -> Decision:
        self.calls.append(request)
        code = self.refuse.get(request.investor)
        if code is None:
            return Decision(True)
        return Decision.of([Violation(code, "fake-rule", f"{request.investor} is refused: {code.name}")])


class FailingStore(MemoryStore):
    """A store whose n-th event append (1-based) raises, as a crash between two appends would."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.appends = 0

    def append_event(
        self, stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> StoredEvent:
        self.appends += 1
        if self.appends == self.fail_on:
            raise DomainError("STORE_UNAVAILABLE", "the database went away")
        return super().append_event(stream, type, key, occurred_at, payload)


class World:
    """What survives a restart: the store, the clock, the market."""

    def __init__(self, store: MemoryStore | None = None, limits: RiskLimits | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self.clock = ManualClock(START)
        self.calendar = FakeCalendar()
        self.prices = FakePriceSource({"AAPL": "100"})
        self.compliance = FakeCompliance()
        self.limits = limits

    def service(self, compliance: FakeCompliance | None = None) -> OrderService:
        if compliance is not None:
            self.compliance = compliance
        return OrderService(
            OrderDesk(limits=self.limits),
            self.store,
            self.clock,
            self.calendar,
            self.prices,
            self.compliance,
        )

    def journal(self) -> list[StoredEvent]:
        return list(self.store.events(STREAM))

    def types(self) -> list[str]:
        return [e.type for e in self.journal()]


def buy(
    key: str = "k1",
    qty: str = "10",
    tif: TimeInForce = TimeInForce.DAY,
    investor: InvestorId = ALICE,
    limit: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        client="app",
        idempotency_key=key,
        investor=investor,
        wallet=WALLET,
        symbol=AAPL,
        side=Side.BUY,
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        time_in_force=tif,
        quantity=Shares(qty),
        limit_price=None if limit is None else Price(limit),
    )


# ------------------------------------------------------------------------------ submit and journal


def test_accepted_order_is_journaled_with_what_it_was_decided_on() -> None:
    world = World()
    service = world.service()
    submission = service.submit(buy())
    order = submission.order
    assert order.state is OrderState.ACCEPTED and not submission.replayed
    assert order.expires_at == CLOSE
    received, accepted = world.journal()
    assert (received.type, accepted.type) == ("OrderReceived", "OrderAccepted")
    assert received.key == f"order:{order.order_id}:received"
    assert accepted.key == f"order:{order.order_id}:decided"
    assert received.payload["request"]["idempotency_key"] == "k1"
    assert received.payload["reference"]["price"] == "100 USD"
    assert received.payload["market"]["session"] == "regular"
    assert received.payload["compliance"]["allowed"] is True
    assert accepted.payload["expires_at"] == CLOSE.isoformat()
    assert [event_key(e) for e in submission.events] == [received.key, accepted.key]


def test_compliance_rejection_is_journaled_with_its_reason() -> None:
    world = World()
    service = world.service(FakeCompliance({ALICE: Reason.RECIPIENT_NOT_VERIFIED}))
    order = service.submit(buy()).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == "RECIPIENT_NOT_VERIFIED"
    assert world.types() == ["OrderReceived", "OrderRejected"]
    rejected = world.journal()[1]
    assert rejected.payload["code"] == "RECIPIENT_NOT_VERIFIED"
    assert "alice is refused" in rejected.payload["message"]
    assert world.journal()[0].payload["compliance"]["violations"][0]["code"] == "RECIPIENT_NOT_VERIFIED"


def test_stale_price_is_rejected_stale_price() -> None:
    world = World()
    world.prices.set_stale_from("AAPL", START)
    order = world.service().submit(buy()).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == "STALE_PRICE"
    assert world.journal()[1].payload["code"] == "STALE_PRICE"
    assert world.journal()[0].payload["reference"]["stale"] is True


def test_unpriceable_symbol_is_refused_and_nothing_journaled() -> None:
    world = World()
    request = OrderRequest(
        "app", "k1", ALICE, WALLET, Symbol("MSFT"), Side.BUY, OrderType.MARKET, TimeInForce.DAY, Shares(1)
    )
    with pytest.raises(DomainError) as caught:
        world.service().submit(request)
    assert caught.value.code == "UNKNOWN_SYMBOL"
    assert world.journal() == []


def test_same_request_twice_returns_the_same_order_and_one_acceptance() -> None:
    world = World()
    service = world.service()
    first = service.submit(buy())
    world.clock.advance(timedelta(seconds=5))
    second = service.submit(buy())
    assert second.replayed and second.events == ()
    assert second.order == first.order
    assert world.types() == ["OrderReceived", "OrderAccepted"]
    assert len(world.compliance.calls) == 1  # a retry asks nobody again


def test_same_key_with_another_body_is_a_conflict() -> None:
    world = World()
    service = world.service()
    service.submit(buy(qty="10"))
    with pytest.raises(DomainError) as caught:
        service.submit(buy(qty="11"))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"
    assert world.types() == ["OrderReceived", "OrderAccepted"]


# ------------------------------------------------------------------------------ restart


def test_restart_over_the_same_store_returns_the_original_order_on_retry() -> None:
    world = World()
    original = world.service().submit(buy()).order
    world.clock.advance(timedelta(minutes=1))
    restarted = world.service(FakeCompliance({ALICE: Reason.RECIPIENT_NOT_VERIFIED}))
    assert restarted.replayed == 2 and restarted.repaired == 0
    assert restarted.find("app", "k1") == original
    retry = restarted.submit(buy())
    assert retry.replayed and retry.order == original
    assert world.types() == ["OrderReceived", "OrderAccepted"]
    assert world.compliance.calls == []  # decided from the journal, not asked again


def test_restart_keeps_the_risk_book() -> None:
    world = World(limits=RiskLimits(per_investor=Money(1500)))
    world.service().submit(buy("k1", qty="10"))
    restarted = world.service()
    second = restarted.submit(buy("k2", qty="10")).order
    assert second.rejection is not None and second.rejection.code == "NOTIONAL_LIMIT_EXCEEDED"


def test_restart_replays_fills_cancels_and_settlement() -> None:
    world = World()
    service = world.service()
    filled = service.submit(buy("k1", qty="10")).order.order_id
    cancelled = service.submit(buy("k2", qty="10")).order.order_id
    service.apply_fill(filled, Fill("f1", Shares(4), Price("100.1"), START))
    service.apply_fill(filled, Fill("f2", Shares(6), Price("100.1"), START))
    service.settle(filled)
    service.apply_fill(cancelled, Fill("f3", Shares(1), Price("100.1"), START))
    service.cancel(cancelled)
    before = world.types()
    restarted = world.service()
    assert restarted.order(filled).state is OrderState.SETTLED
    assert restarted.order(cancelled).state is OrderState.CANCELLED
    assert restarted.order(cancelled).filled_shares == Shares(1)
    assert restarted.repaired == 0 and world.types() == before
    assert restarted.apply_fill(filled, Fill("f1", Shares(4), Price("100.1"), START)) == ()


def test_crash_between_received_and_decided_is_repaired_on_restart() -> None:
    store = FailingStore(fail_on=2)
    world = World(store=store)
    with pytest.raises(DomainError):
        world.service().submit(buy())
    assert world.types() == ["OrderReceived"]
    restarted = world.service()
    assert restarted.repaired == 1
    assert world.types() == ["OrderReceived", "OrderAccepted"]
    retry = restarted.submit(buy())
    assert retry.replayed and retry.order.state is OrderState.ACCEPTED


def test_failed_append_drops_the_desk_so_memory_never_runs_ahead() -> None:
    store = FailingStore(fail_on=3)  # the second order's OrderReceived
    world = World(store=store)
    service = world.service()
    service.submit(buy("k1"))
    with pytest.raises(DomainError):
        service.submit(buy("k2"))
    assert service.find("app", "k2") is None  # rebuilt from the journal, which never heard of it
    assert service.submit(buy("k2")).order.state is OrderState.ACCEPTED
    assert world.types() == ["OrderReceived", "OrderAccepted"] * 2


def test_a_tampered_journal_is_refused() -> None:
    world = World()
    world.service().submit(buy())
    received = world.journal()[0]
    other = MemoryStore()
    payload = dict(received.payload)
    payload["compliance"] = {
        "allowed": False,
        "violations": [{"code": "SENDER_SANCTIONED", "rule": "r", "message": "m"}],
        "overrides": [],
    }
    other.append_event(STREAM, received.type, received.key, received.occurred_at, payload)
    accepted = world.journal()[1]
    other.append_event(STREAM, accepted.type, accepted.key, accepted.occurred_at, accepted.payload)
    with pytest.raises(DomainError) as caught:
        World(store=other).service()
    assert caught.value.code == "ORDER_JOURNAL_DIVERGED"


# ------------------------------------------------------------------------------ expiry and quotes


def test_day_order_expires_at_the_calendar_close() -> None:
    world = World()
    service = world.service()
    day = service.submit(buy("day")).order.order_id
    gtc = service.submit(buy("gtc", tif=TimeInForce.GTC)).order.order_id
    world.clock.set(CLOSE - timedelta(seconds=1))
    assert service.expire_due() == ()
    world.clock.set(CLOSE)
    events = service.expire_due()
    assert [e.order_id for e in events] == [day]
    assert service.order(day).state is OrderState.EXPIRED
    assert service.order(gtc).state is OrderState.ACCEPTED
    assert world.types()[-1] == "OrderExpired"
    assert world.journal()[-1].key == f"order:{day}:ended"
    restarted = world.service()
    assert restarted.order(day).state is OrderState.EXPIRED and restarted.repaired == 0
    assert restarted.expire_due() == ()


def test_day_order_on_an_early_close_expires_at_one() -> None:
    world = World()
    world.calendar = FakeCalendar(early_closes=[START.date()])
    order = world.service().submit(buy()).order
    assert order.expires_at == ny(2024, 3, 5, 13, 0)


def test_ioc_leftover_expires_and_replays() -> None:
    world = World()
    service = world.service()
    ioc = service.submit(buy("ioc", tif=TimeInForce.IOC)).order.order_id
    service.apply_fill(ioc, Fill("f1", Shares(3), Price("100"), START))
    assert [type(e).__name__ for e in service.end_attempt(ioc)] == ["OrderExpired"]
    assert world.service().order(ioc).state is OrderState.EXPIRED


def test_quote_is_priced_now_and_refused_when_stale() -> None:
    world = World()
    service = world.service()
    quote = service.request_quote(ALICE, WALLET, AAPL, Side.BUY, Shares(10))
    assert quote.issued_at == START and quote.price > Price("100")
    assert world.journal() == []
    world.prices.set_stale_from("AAPL", START)
    with pytest.raises(DomainError) as caught:
        service.request_quote(ALICE, WALLET, AAPL, Side.BUY, Shares(10))
    assert caught.value.code == "STALE_PRICE"


def test_accept_and_reject_are_logged_with_fields(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    service = world.service(FakeCompliance({BOB: Reason.SENDER_SANCTIONED}))
    with caplog.at_level(logging.INFO, logger="equitoken.app.orders"):
        accepted = service.submit(buy("k1")).order
        service.submit(buy("k2", investor=BOB))
    by_message = {r.getMessage(): r for r in caplog.records}
    ok = vars(by_message["order accepted"])
    assert ok["order_id"] == str(accepted.order_id) and ok["symbol"] == "AAPL"
    assert ok["session"] == "regular" and ok["expires_at"] == CLOSE.isoformat()
    refused = by_message["order rejected"]
    assert refused.levelno == logging.INFO  # a refusal is the desk at work, not a fault
    assert vars(refused)["code"] == "SENDER_SANCTIONED" and vars(refused)["investor"] == "bob"


def test_service_wants_an_empty_desk() -> None:
    world = World()
    desk = OrderDesk()
    desk.submit(
        buy(),
        START,
        world.prices.reference_price(AAPL, START),
        world.calendar.status(START),
        Decision(True),
    )
    with pytest.raises(DomainError):
        OrderService(desk, world.store, world.clock, world.calendar, world.prices, world.compliance)
