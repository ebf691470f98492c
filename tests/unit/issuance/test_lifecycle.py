"""The order state machine: every allowed transition works and emits its event, every other is refused."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import (
    TRANSITIONS,
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderReceived,
    OrderRejected,
    OrderSettled,
    OrderState,
)
from equitoken.issuance.orders.lifecycle import check_transition
from equitoken.issuance.reasons import OrderReason
from tests.unit.issuance.builders import T0, request

S = OrderState
ALLOWED = {
    (S.RECEIVED, S.ACCEPTED),
    (S.RECEIVED, S.REJECTED),
    (S.ACCEPTED, S.PARTIALLY_FILLED),
    (S.ACCEPTED, S.FILLED),
    (S.ACCEPTED, S.CANCELLED),
    (S.ACCEPTED, S.EXPIRED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELLED),
    (S.PARTIALLY_FILLED, S.EXPIRED),
    (S.FILLED, S.SETTLED),
}


def test_the_table_is_exactly_the_documented_machine() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert {s for s in S if s.terminal} == {S.REJECTED, S.SETTLED, S.CANCELLED, S.EXPIRED}


@pytest.mark.parametrize(("current", "target"), sorted(set(product(S, S)) - ALLOWED))
def test_every_other_transition_is_refused(current: OrderState, target: OrderState) -> None:
    with pytest.raises(DomainError) as error:
        check_transition(current, target)
    assert error.value.code == OrderReason.ILLEGAL_TRANSITION


def fill(fill_id: str, shares: str, price: str = "100", minutes: int = 1) -> Fill:
    return Fill(fill_id, Shares(shares), Price(price), T0 + timedelta(minutes=minutes))


def received() -> Order:
    order, event = Order.receive(request(), T0)
    assert isinstance(event, OrderReceived) and event.order_id == order.order_id
    assert event.body_hash == request().body_hash()
    return order


def accepted() -> Order:
    order, event = received().accept(T0, None, Money(1000))
    assert isinstance(event, OrderAccepted) and order.state is S.ACCEPTED
    return order


def test_a_received_order_is_accepted_or_rejected_with_a_reason() -> None:
    order, event = received().reject(T0, "STALE_PRICE", "stale")
    assert order.state is S.REJECTED and order.rejection == event
    assert isinstance(event, OrderRejected) and (event.code, event.message) == ("STALE_PRICE", "stale")


def test_fills_move_an_order_through_partially_filled_to_filled_then_settled() -> None:
    order, first = accepted().apply_fill(fill("f1", "4"))
    assert isinstance(first, OrderPartiallyFilled) and order.state is S.PARTIALLY_FILLED
    assert first.filled_shares == Shares(4) and first.notional == Money(400)
    order, second = order.apply_fill(fill("f2", "3"))
    assert isinstance(second, OrderPartiallyFilled) and order.state is S.PARTIALLY_FILLED
    order, last = order.apply_fill(fill("f3", "3"))
    assert isinstance(last, OrderFilled) and order.state is S.FILLED
    assert order.filled_shares == Shares(10) and order.filled_notional == Money(1000)
    order, settled = order.settle(T0)
    assert isinstance(settled, OrderSettled) and order.state is S.SETTLED


def test_one_fill_can_complete_an_accepted_order() -> None:
    order, event = accepted().apply_fill(fill("f1", "10"))
    assert isinstance(event, OrderFilled) and order.state is S.FILLED


@pytest.mark.parametrize("partial", [False, True])
def test_a_working_order_can_be_cancelled_or_expire_keeping_its_fills(partial: bool) -> None:
    order = accepted()
    if partial:
        order, _ = order.apply_fill(fill("f1", "2"))
    cancelled, event = order.cancel(T0, "client asked")
    assert (
        isinstance(event, OrderCancelled)
        and cancelled.state is S.CANCELLED
        and event.reason == "client asked"
    )
    expired, gone = order.expire(T0, "day over")
    assert isinstance(gone, OrderExpired) and expired.state is S.EXPIRED
    assert expired.filled_shares == cancelled.filled_shares == Shares(2 if partial else 0)


def test_a_repeated_fill_id_is_a_no_op() -> None:
    order, _ = accepted().apply_fill(fill("f1", "4"))
    again, event = order.apply_fill(fill("f1", "4"))
    assert event is None and again is order


def test_a_fill_id_reused_with_other_terms_is_refused() -> None:
    order, _ = accepted().apply_fill(fill("f1", "4"))
    for other in (fill("f1", "5"), fill("f1", "4", "101"), fill("f1", "4", minutes=2)):
        with pytest.raises(DomainError) as error:
            order.apply_fill(other)
        assert error.value.code == OrderReason.DUPLICATE_FILL


def test_a_notional_order_completes_when_the_rest_cannot_buy_one_share_increment() -> None:
    order, _ = Order.receive(request(quantity=None, notional=Money(1000)), T0)
    order, _ = order.accept(T0, None, Money(1000))
    price = "612345.67"  # a BRK.A-like price: one 1e-9 share costs 0.00061 USD
    shares = Shares("0.001633064")  # 1000 / price rounded down to the share precision
    done, event = order.apply_fill(fill("f1", shares.value.to_eng_string(), price))
    assert isinstance(event, OrderFilled) and done.state is S.FILLED
    assert Money(0) < done.remaining_notional() < Money("0.000613")  # type: ignore[operator]


def test_a_fill_beyond_the_remaining_quantity_is_refused_and_changes_nothing() -> None:
    order, _ = accepted().apply_fill(fill("f1", "8"))
    with pytest.raises(DomainError) as error:
        order.apply_fill(fill("f2", "2.000000001"))
    assert error.value.code == OrderReason.OVERFILL
    assert order.filled_shares == Shares(8) and order.state is S.PARTIALLY_FILLED


def test_a_notional_order_fills_up_to_its_notional_and_no_further() -> None:
    order, _ = Order.receive(request(quantity=None, notional=Money(1000)), T0)
    order, _ = order.accept(T0, None, Money(1000))
    order, event = order.apply_fill(fill("f1", "4"))
    assert isinstance(event, OrderPartiallyFilled) and order.remaining_notional() == Money(600)
    assert order.remaining_shares() is None
    with pytest.raises(DomainError) as error:
        order.apply_fill(fill("f2", "6.01"))
    assert error.value.code == OrderReason.OVERFILL
    order, event = order.apply_fill(fill("f3", "6"))
    assert isinstance(event, OrderFilled)


@pytest.mark.parametrize("state_of", ["received", "rejected", "filled", "settled", "cancelled", "expired"])
def test_fills_are_refused_outside_working_states(state_of: str) -> None:
    order = received()
    if state_of == "rejected":
        order, _ = order.reject(T0, "X", "no")
    elif state_of != "received":
        order = accepted()
        if state_of in ("filled", "settled"):
            order, _ = order.apply_fill(fill("f0", "10"))
            if state_of == "settled":
                order, _ = order.settle(T0)
        elif state_of == "cancelled":
            order, _ = order.cancel(T0)
        else:
            order, _ = order.expire(T0, "over")
    with pytest.raises(DomainError) as error:
        order.apply_fill(fill("f9", "1"))
    assert error.value.code == OrderReason.ILLEGAL_TRANSITION


def test_terminal_orders_refuse_every_transition() -> None:
    cancelled, _ = accepted().cancel(T0)
    for attempt in (
        lambda: cancelled.cancel(T0),
        lambda: cancelled.expire(T0, "x"),
        lambda: cancelled.settle(T0),
        lambda: cancelled.accept(T0, None, Money(0)),
        lambda: cancelled.reject(T0, "X", "x"),
    ):
        with pytest.raises(DomainError) as error:
            attempt()
        assert error.value.code == OrderReason.ILLEGAL_TRANSITION


def test_a_limit_order_never_fills_through_its_limit() -> None:
    from equitoken.domain.trading import OrderType, Side

    for side, bad in ((Side.BUY, "100.01"), (Side.SELL, "99.99")):
        req = request(order_type=OrderType.LIMIT, limit_price=Price("100"), side=side)
        order, _ = Order.receive(req, T0)
        order, _ = order.accept(T0, None, Money(1000))
        with pytest.raises(DomainError) as error:
            order.apply_fill(fill("f1", "1", bad))
        assert error.value.code == OrderReason.FILL_THROUGH_LIMIT
        order.apply_fill(fill("f2", "1", "100"))


def test_a_fill_at_or_after_expiry_is_refused() -> None:
    order, _ = received().accept(T0, T0 + timedelta(minutes=1), Money(1000))
    order.apply_fill(fill("f1", "1", minutes=0))
    with pytest.raises(DomainError) as error:
        order.apply_fill(fill("f2", "1", minutes=1))
    assert error.value.code == OrderReason.ORDER_EXPIRED
