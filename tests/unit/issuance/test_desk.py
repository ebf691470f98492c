"""The order desk: idempotent submission, the order of checks, rejections with reasons, expiry rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import OrderId
from equitoken.domain.reasons import Reason
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import (
    Fill,
    OrderAccepted,
    OrderDesk,
    OrderExpired,
    OrderReceived,
    OrderRejected,
    OrderState,
    RiskLimits,
    Submission,
    TimeInForce,
)
from equitoken.issuance.reasons import OrderReason
from tests.unit.issuance.builders import ALLOWED, CLOSE, MSFT, T0, reference, refused, request, status


def submit(desk: OrderDesk, **changes: object) -> Submission:
    return desk.submit(request(**changes), T0, reference(), status(), ALLOWED)


def test_an_accepted_order_emits_received_then_accepted() -> None:
    desk = OrderDesk()
    result = submit(desk)
    assert not result.replayed and result.order.state is OrderState.ACCEPTED
    received, accepted = result.events
    assert isinstance(received, OrderReceived) and isinstance(accepted, OrderAccepted)
    assert result.order.order_id == OrderId.for_request("alice-app", "k1")
    assert accepted.reserved_notional == Money("1001")  # 10 shares at the quoted 100.10


def test_the_same_request_twice_returns_the_same_order_without_a_second_acceptance() -> None:
    desk = OrderDesk(limits=RiskLimits(per_investor=Money(1500)))
    first = submit(desk)
    again = submit(desk)
    assert again.replayed and again.events == () and again.order == first.order
    assert len(list(desk.orders())) == 1
    assert desk.risk.used(T0) == Money("1001")  # reserved once, so a retry never eats the limit


def test_a_retry_of_a_rejected_order_returns_the_rejection() -> None:
    desk = OrderDesk()
    first = desk.submit(request(), T0, reference(stale=True), status(), ALLOWED)
    again = desk.submit(request(), T0, reference(), status(), ALLOWED)
    assert again.replayed and again.order.state is OrderState.REJECTED and again.order == first.order


def test_the_same_key_with_another_body_is_an_idempotency_conflict() -> None:
    desk = OrderDesk()
    submit(desk)
    with pytest.raises(DomainError) as error:
        submit(desk, quantity=Shares(11))
    assert error.value.code == OrderReason.IDEMPOTENCY_CONFLICT
    assert submit(desk, client="bob-app").order.order_id != submit(desk).order.order_id


def rejection(result: Submission) -> tuple[str, str]:
    assert result.order.state is OrderState.REJECTED
    event = result.events[-1]
    assert isinstance(event, OrderRejected)
    return event.code, event.message


def test_a_compliance_refusal_carries_the_engine_reason_and_comes_first() -> None:
    desk = OrderDesk()
    result = desk.submit(request(), T0, reference(stale=True), status(), refused())
    assert rejection(result) == (Reason.RECIPIENT_SANCTIONED.name, "on the sanctions list")


def test_a_stale_reference_price_is_refused() -> None:
    result = OrderDesk().submit(request(), T0, reference(stale=True), status(), ALLOWED)
    code, message = rejection(result)
    assert code == "STALE_PRICE" and "no bar for the 2024-06-04 session" in message


def test_a_reference_price_of_another_symbol_is_refused() -> None:
    result = OrderDesk().submit(request(), T0, reference(symbol=MSFT), status(), ALLOWED)
    assert rejection(result)[0] == OrderReason.SYMBOL_MISMATCH


@pytest.mark.parametrize(
    ("side", "limit", "ok"),
    [
        (Side.BUY, "105", True),
        (Side.BUY, "105.00000001", False),
        (Side.SELL, "95", True),
        (Side.SELL, "94.99999999", False),
    ],
)
def test_limit_prices_outside_the_band_are_refused(side: Side, limit: str, ok: bool) -> None:
    desk = OrderDesk()  # default band: 500 bps around the reference of 100
    result = submit(desk, side=side, order_type=OrderType.LIMIT, limit_price=Price(limit))
    if ok:
        assert result.order.state is OrderState.ACCEPTED
    else:
        assert rejection(result)[0] == "PRICE_OUTSIDE_BAND"


def test_market_orders_have_no_band_and_a_band_can_be_switched_off() -> None:
    desk = OrderDesk(limits=RiskLimits(price_band=None))
    result = submit(desk, order_type=OrderType.LIMIT, limit_price=Price("1000"))
    assert result.order.state is OrderState.ACCEPTED


def test_notional_limits_reject_with_the_shared_reason_code() -> None:
    desk = OrderDesk(limits=RiskLimits(per_investor=Money(1500)))
    submit(desk)
    result = submit(desk, idempotency_key="k2")
    code, message = rejection(result)
    assert code == Reason.NOTIONAL_LIMIT_EXCEEDED.name and "investor alice" in message
    assert desk.risk.used(T0) == Money("1001")  # a rejected order reserves nothing


def test_a_notional_order_reserves_its_notional() -> None:
    desk = OrderDesk()
    result = submit(desk, quantity=None, notional=Money(250))
    assert isinstance(result.events[1], OrderAccepted) and result.events[1].reserved_notional == Money(250)


def test_a_day_order_works_until_the_close_the_calendar_gives() -> None:
    desk = OrderDesk()
    order = submit(desk, time_in_force=TimeInForce.DAY).order
    assert order.expires_at == CLOSE
    assert desk.expire_due(CLOSE - timedelta(microseconds=1)) == ()
    (event,) = desk.expire_due(CLOSE)
    assert isinstance(event, OrderExpired) and desk.get(order.order_id).state is OrderState.EXPIRED
    assert desk.expire_due(CLOSE + timedelta(days=1)) == ()


def test_a_day_order_placed_off_hours_works_until_the_next_close() -> None:
    early = CLOSE + timedelta(days=3, hours=-3)  # e.g. an early close the calendar reports
    desk = OrderDesk()
    req = request(time_in_force=TimeInForce.DAY)
    order = desk.submit(req, T0, reference(), status(open_=False, next_close=early), ALLOWED).order
    assert order.expires_at == early


def test_a_gtc_order_never_expires_on_its_own() -> None:
    desk = OrderDesk()
    order = submit(desk).order
    assert order.expires_at is None and desk.expire_due(T0 + timedelta(days=3650)) == ()
    assert desk.end_attempt(order.order_id, T0) == ()


def test_an_ioc_order_expires_right_after_its_first_matching_attempt_keeping_its_fill() -> None:
    desk = OrderDesk()
    order = submit(desk, time_in_force=TimeInForce.IOC).order
    assert order.expires_at is None
    desk.apply_fill(order.order_id, Fill("f1", Shares(4), Price(100), T0))
    (event,) = desk.end_attempt(order.order_id, T0)
    assert isinstance(event, OrderExpired)
    after = desk.get(order.order_id)
    assert after.state is OrderState.EXPIRED and after.filled_shares == Shares(4)
    assert desk.end_attempt(order.order_id, T0) == ()


def test_a_fill_id_belongs_to_one_order_only() -> None:
    desk = OrderDesk()
    first = submit(desk).order
    second = submit(desk, idempotency_key="k2").order
    desk.apply_fill(first.order_id, Fill("f1", Shares(1), Price(100), T0))
    assert desk.apply_fill(first.order_id, Fill("f1", Shares(1), Price(100), T0)) == ()
    with pytest.raises(DomainError) as error:
        desk.apply_fill(second.order_id, Fill("f1", Shares(1), Price(100), T0))
    assert error.value.code == OrderReason.DUPLICATE_FILL


def test_cancel_settle_and_unknown_orders() -> None:
    desk = OrderDesk()
    order = submit(desk).order
    desk.apply_fill(order.order_id, Fill("f1", Shares(10), Price(100), T0))
    with pytest.raises(DomainError) as error:
        desk.cancel(order.order_id, T0)
    assert error.value.code == OrderReason.ILLEGAL_TRANSITION
    desk.settle(order.order_id, T0)
    assert desk.get(order.order_id).state is OrderState.SETTLED and list(desk.working()) == []
    with pytest.raises(DomainError) as error:
        desk.get(OrderId.for_request("nobody", "x"))
    assert error.value.code == OrderReason.UNKNOWN_ORDER


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": None},
        {"notional": Money(5)},
        {"quantity": Shares(0)},
        {"quantity": None, "notional": Money(0)},
        {"quantity": None, "notional": Money(5, "EUR")},
        {"order_type": OrderType.LIMIT},
        {"limit_price": Price(1)},
        {"client": " "},
    ],
)
def test_malformed_requests_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(DomainError) as error:
        request(**changes)
    assert error.value.code == OrderReason.INVALID_ORDER


def test_an_empty_idempotency_key_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        submit(OrderDesk(), idempotency_key=" ")
    assert error.value.code == "MISSING_IDEMPOTENCY_KEY"
