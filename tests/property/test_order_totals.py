"""An order's running fill totals and fill index answer exactly as a rescan of its fills would.

``Order.apply_fill`` keeps the filled shares, the filled notional and a fill-id index as fills arrive
(a maker on the ATS can take thousands of fills). The reference here is the same order rebuilt from
its tuple of fills — the derivation a replay uses — so for any sequence of fills, repeats, conflicts,
overfills, fills through the limit or after expiry, and any branching (a version extended twice), the
incremental order and the rebuilt one agree on every answer and every refusal.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.domain.errors import DomainError
from equitoken.domain.trading import OrderType
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import Fill, Order
from tests.unit.issuance.builders import T0, request

FILL_IDS = st.sampled_from([f"f{i}" for i in range(24)])  # past SCANNED_FILLS: the index is used
SHARES = st.sampled_from(["0.25", "0.5", "1", "2.25", "3", "7"]).map(Shares)
PRICES = st.sampled_from(["99.5", "100", "100.25", "101"]).map(Price)
MINUTES = st.integers(min_value=0, max_value=400)  # the order expires 300 minutes after T0
STEP = st.tuples(st.integers(min_value=0, max_value=50), FILL_IDS, SHARES, PRICES, MINUTES)


def _rebuilt(order: Order) -> Order:
    """Return ``order`` built afresh from its fields: totals and index derived by a rescan."""
    return Order(order.request, order.state, order.received_at, order.expires_at, order.fills)


def _rescanned_shares(order: Order) -> Shares:
    total = Shares(0)
    for fill in order.fills:
        total = total + fill.shares
    return total


def _rescanned_notional(order: Order) -> Money:
    total = Money.zero()
    for fill in order.fills:
        total = total + fill.notional
    return total


def _outcome(order: Order, fill: Fill) -> tuple[str, Order | None]:
    try:
        after, event = order.apply_fill(fill)
    except DomainError as refused:
        return f"refused {refused.code}", None
    return ("no-op" if event is None else f"{type(event).__name__} {event.filled_shares}"), after


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(STEP, max_size=45),
    notional=st.booleans(),
    limit=st.booleans(),
)
def test_running_totals_equal_a_rescan(
    steps: list[tuple[int, str, Shares, Price, int]], notional: bool, limit: bool
) -> None:
    size = {"quantity": None, "notional": Money("1500")} if notional else {"quantity": Shares(20)}
    priced = {"order_type": OrderType.LIMIT, "limit_price": Price("100.25")} if limit else {}
    order, _ = Order.receive(request(**size, **priced), T0)
    order, _ = order.accept(T0, T0 + timedelta(minutes=300), Money("2000"))
    versions = [order]
    for pick, fill_id, shares, price, minutes in steps:
        base = versions[pick % len(versions)]  # any earlier version: branches share one index
        fill = Fill(fill_id, shares, price, T0 + timedelta(minutes=minutes))
        incremental, after = _outcome(base, fill)
        assert incremental == _outcome(_rebuilt(base), fill)[0]
        if after is not None:
            versions.append(after)
        for version in versions:
            assert version.filled_shares == _rescanned_shares(version)
            assert version.filled_notional == _rescanned_notional(version)
            for candidate in {s[1] for s in steps}:
                assert version.has_fill(candidate) == any(f.fill_id == candidate for f in version.fills)


def test_a_rebuilt_order_equals_the_incremental_one() -> None:
    order, _ = Order.receive(request(quantity=Shares(10)), T0)
    order, _ = order.accept(T0, None, Money("1000"))
    for i in range(5):
        order, _ = order.apply_fill(Fill(f"f{i}", Shares(2), Price("100"), T0))
    rebuilt = _rebuilt(order)
    assert rebuilt == order  # the derived fields take no part in equality
    assert rebuilt.filled_shares == order.filled_shares == Shares(10)
    assert rebuilt.fill_positions == order.fill_positions


def test_an_order_with_many_fills_finds_them_through_its_index() -> None:
    order, _ = Order.receive(request(quantity=Shares(100)), T0)
    order, _ = order.accept(T0, None, Money("10000"))
    for i in range(20):
        order, _ = order.apply_fill(Fill(f"f{i}", Shares(1), Price("100"), T0))
    assert order.fill_positions is not None and len(order.fill_positions) == 20
    assert order.has_fill("f0") and order.has_fill("f19") and not order.has_fill("f20")
    again, event = order.apply_fill(Fill("f3", Shares(1), Price("100"), T0))
    assert event is None and again is order
