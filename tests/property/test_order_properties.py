"""Random submits, retries, conflicts, fills, repeats, cancels, expiries and settlements on the order desk.

Invariants after every step:
- no order is filled beyond its quantity (or notional);
- no fill is applied twice, to the same order or to another;
- an order's filled quantity is the sum of its distinct fills;
- a terminal order never changes again;
- a retry returns the order as it stands and produces no event; a reused key with another body is refused.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import OrderId
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import Fill, Order, OrderDesk, OrderRequest, OrderState, TimeInForce
from equitoken.issuance.reasons import OrderReason
from tests.unit.issuance.builders import ALLOWED, T0, reference, request, status

KEYS = st.sampled_from(["k1", "k2", "k3"])
FILL_IDS = st.sampled_from([f"f{i}" for i in range(5)])
QUANTITIES = st.sampled_from(["1", "5", "10", "20"]).map(Shares)
SHARES = st.sampled_from(["0.5", "1", "2.25", "3", "7"]).map(Shares)
CLOSE = T0 + timedelta(hours=5)
PRICES = st.sampled_from(["99.5", "100", "100.25"]).map(Price)


class OrderDeskMachine(RuleBasedStateMachine):
    """Drive an ``OrderDesk`` with random commands and check it against a simple model."""

    def __init__(self) -> None:
        super().__init__()
        self.desk = OrderDesk()
        self.now = T0
        self.requests: dict[OrderId, OrderRequest] = {}
        self.fills: dict[str, tuple[OrderId, Fill]] = {}
        self.terminal: dict[OrderId, Order] = {}

    @rule(
        key=KEYS,
        quantity=QUANTITIES,
        notional=st.booleans(),
        tif=st.sampled_from(TimeInForce),
        stale=st.booleans(),
    )
    def submit(self, key: str, quantity: Shares, notional: bool, tif: TimeInForce, stale: bool) -> None:
        size = (
            {"quantity": None, "notional": Money(quantity.value * 100)}
            if notional
            else {"quantity": quantity}
        )
        req = request(idempotency_key=key, time_in_force=tif, **size)
        known = self.requests.get(req.order_id)
        if known is not None and known.body_hash() != req.body_hash():
            try:
                self.desk.submit(req, self.now, reference(stale=stale), status(next_close=CLOSE), ALLOWED)
            except DomainError as error:
                assert error.code == OrderReason.IDEMPOTENCY_CONFLICT
                return
            raise AssertionError("a reused key with another body was accepted")
        before = self.desk.get(req.order_id) if known is not None else None
        result = self.desk.submit(req, self.now, reference(stale=stale), status(next_close=CLOSE), ALLOWED)
        if known is not None:
            assert result.replayed and result.events == () and result.order == before
        else:
            assert not result.replayed and len(result.events) == 2
            self.requests[req.order_id] = req

    def _pick(self, data: st.DataObject) -> OrderId | None:
        if not self.requests:
            return None
        return data.draw(st.sampled_from(sorted(self.requests)))

    @rule(data=st.data(), fill_id=FILL_IDS, shares=SHARES, price=PRICES)
    def fill(self, data: st.DataObject, fill_id: str, shares: Shares, price: Price) -> None:
        order_id = self._pick(data)
        if order_id is None:
            return
        self._apply(order_id, Fill(fill_id, shares, price, self.now))

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """Deliver a fill already applied again, exactly as it was (a broker retry)."""
        if self.fills:
            order_id, fill = self.fills[data.draw(st.sampled_from(sorted(self.fills)))]
            self._apply(order_id, fill)

    def _apply(self, order_id: OrderId, fill: Fill) -> None:
        before = self.desk.get(order_id)
        known = self.fills.get(fill.fill_id)
        try:
            events = self.desk.apply_fill(order_id, fill)
        except DomainError as error:
            assert self.desk.get(order_id) == before
            if known is not None and known != (order_id, fill):
                assert error.code == OrderReason.DUPLICATE_FILL
            else:
                assert known is None
                assert error.code in {
                    OrderReason.OVERFILL,
                    OrderReason.ILLEGAL_TRANSITION,
                    OrderReason.ORDER_EXPIRED,
                }
            return
        if known is not None:
            assert known == (order_id, fill) and events == () and self.desk.get(order_id) == before
        else:
            assert len(events) == 1
            self.fills[fill.fill_id] = (order_id, fill)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = self._pick(data)
        if order_id is None:
            return
        try:
            self.desk.cancel(order_id, self.now)
        except DomainError as error:
            assert error.code == OrderReason.ILLEGAL_TRANSITION

    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        order_id = self._pick(data)
        if order_id is None:
            return
        try:
            self.desk.settle(order_id, self.now)
        except DomainError as error:
            assert error.code == OrderReason.ILLEGAL_TRANSITION

    @rule(data=st.data())
    def end_attempt(self, data: st.DataObject) -> None:
        order_id = self._pick(data)
        if order_id is not None:
            self.desk.end_attempt(order_id, self.now)

    @rule(minutes=st.integers(min_value=0, max_value=400))
    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.desk.expire_due(self.now)

    @invariant()
    def fills_are_bounded_distinct_and_summed(self) -> None:
        for order in self.desk.orders():
            ids = [f.fill_id for f in order.fills]
            assert len(ids) == len(set(ids))
            expected = Shares(0)
            for fill_id in ids:
                assert self.fills[fill_id][0] == order.order_id
                expected = expected + self.fills[fill_id][1].shares
            assert order.filled_shares == expected
            if order.request.quantity is not None:
                assert order.filled_shares <= order.request.quantity
            else:
                assert order.request.notional is not None
                assert order.filled_notional <= order.request.notional
            if order.state in (OrderState.REJECTED, OrderState.RECEIVED):
                assert order.fills == ()
            if order.state in (OrderState.FILLED, OrderState.SETTLED):
                remaining = order.remaining_shares() or order.remaining_notional()
                assert remaining is not None and remaining.is_zero()

    @invariant()
    def terminal_orders_never_change(self) -> None:
        for order_id, frozen in self.terminal.items():
            assert self.desk.get(order_id) == frozen
        for order in self.desk.orders():
            if order.state.terminal:
                self.terminal.setdefault(order.order_id, order)
            if order.request.time_in_force is not TimeInForce.DAY:
                assert order.expires_at is None


    @invariant()
    def the_working_index_is_the_working_orders_in_order(self) -> None:
        # The desk keeps working orders apart so a tick does not walk the whole history (issue 10).
        assert [o.order_id for o in self.desk.working()] == [
            o.order_id for o in self.desk.orders() if o.state.working
        ]


TestOrderDesk = OrderDeskMachine.TestCase
TestOrderDesk.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
