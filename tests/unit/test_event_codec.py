"""The one event codec: any event round-trips digit for digit, and a damaged payload is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.store.memory import MemoryStore
from equitoken.domain.codec import from_dict, to_dict
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance import journal
from equitoken.issuance.engine_events import BlackoutStarted, StablecoinDeployed, StockListed
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.instant_book import (
    EXPOSURE_EVENTS,
    Commitment,
    CommitmentsNetted,
    Committed,
    ExposureBook,
    HedgeFilled,
    HedgeOpened,
    HedgeReleased,
    hedge_for,
)

AT = datetime(2012, 11, 23, 19, 0, tzinfo=UTC)

amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000000"), places=6)
commitments = st.builds(
    Commitment,
    fill_id=st.text(alphabet="abc0123:-", min_size=1, max_size=10),
    side=st.sampled_from(Side),
    shares=amounts.map(Shares),
    reference_value=amounts.map(Money),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(commitments, min_size=1, max_size=4))
def test_exposure_events_round_trip_exactly(items: list[Commitment]) -> None:
    hedge = hedge_for(f"hedge-{items[0].fill_id}", items)
    events: list[object] = [Committed(c) for c in items]
    if hedge is not None:
        events.append(HedgeOpened(hedge))
    for event in events:
        payload = to_dict(event)
        back = from_dict(type(event), payload)
        assert back == event
        assert to_dict(back) == payload  # digit for digit: "2770.000000" stays "2770.000000"


def test_engine_events_round_trip_through_the_journal() -> None:
    store = MemoryStore()
    wallet = WalletAddress("0x" + "ab" * 20)
    events = [
        StablecoinDeployed(AT, 31337, wallet),
        StockListed(AT, Symbol("MSFT"), ModelName.INSTANT, "instant-execution", 12),
        BlackoutStarted(AT, Symbol("MSFT"), AT, "split 2:1"),
    ]
    for n, event in enumerate(events):
        journal.append(store, "engine", f"engine:{n}", AT, event)
    kinds = (StablecoinDeployed, StockListed, BlackoutStarted)
    assert list(journal.read(store, "engine", kinds)) == events


def test_a_missing_field_is_refused_never_defaulted() -> None:
    payload = to_dict(HedgeFilled("hedge-a", "f1", Shares(3), Money("80.10")))
    del payload["notional"]
    with pytest.raises(DomainError) as refused:
        from_dict(HedgeFilled, payload)
    assert refused.value.code == "EVENT_MALFORMED"


@pytest.mark.parametrize(
    ("field", "value"),
    [("shares", "three"), ("shares", 3), ("notional", "80.10"), ("fill_id", None), ("extra", "x")],
)
def test_a_malformed_field_is_refused(field: str, value: object) -> None:
    payload = to_dict(HedgeFilled("hedge-a", "f1", Shares(3), Money("80.10"))) | {field: value}
    with pytest.raises(DomainError) as refused:
        from_dict(HedgeFilled, payload)
    assert refused.value.code == "EVENT_MALFORMED"


def test_an_event_of_another_version_is_refused() -> None:
    store = MemoryStore()
    event = HedgeFilled("hedge-a", "f1", Shares(3), Money("80.10"))
    store.append_event("x", "HedgeFilled", "k", AT, to_dict(event) | {"_v": 2})
    with pytest.raises(DomainError) as refused:
        list(journal.read(store, "x", EXPOSURE_EVENTS))
    assert refused.value.code == "EVENT_MALFORMED"


def test_the_fold_rebuilds_hedge_ids_and_attempts() -> None:
    first = Commitment("a:1", Side.BUY, Shares(10), Money(270))
    live = ExposureBook()
    live.commit(first)
    coid = live.next_hedge_id(live.unhedged)
    hedge = hedge_for(coid, live.take(live.unhedged))
    assert hedge is not None
    live.open(hedge)
    live.release(coid)
    folded = ExposureBook()
    for event in (Committed(first), HedgeOpened(hedge)):
        folded.apply(event)
    folded.apply(HedgeReleased(coid))
    assert folded.unhedged == live.unhedged
    assert folded.peek_hedge_id(folded.unhedged) == live.peek_hedge_id(live.unhedged) == "hedge-a:1-r1"


@st.composite
def exposure_histories(draw: st.DrawFn) -> list[object]:
    """Return a plausible history of the buffer: fills fronted, net hedges, broker fills, releases."""
    book, events, n = ExposureBook(), [], 0
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        step = draw(st.sampled_from(["commit", "commit", "hedge", "fill", "release"]))
        event: object | None = None
        if step == "commit":
            n += 1
            shares = Shares(draw(st.integers(min_value=1, max_value=50)))
            value = Money(draw(st.decimals(min_value=1, max_value=5000, places=6)))
            event = Committed(Commitment(f"o{n}:1", draw(st.sampled_from(Side)), shares, value))
        elif step == "hedge" and book.unhedged and not book.hedges:
            coid = book.peek_hedge_id(book.unhedged)
            hedge = hedge_for(coid, book.unhedged)
            ids = tuple(c.fill_id for c in book.unhedged)
            event = HedgeOpened(hedge) if hedge is not None else CommitmentsNetted(coid, ids)
        elif step == "fill" and book.hedges:
            hedge = book.hedges[0]
            left = hedge.shares.value - hedge.filled.value
            part = Shares(draw(st.decimals(min_value=min(Decimal("0.5"), left), max_value=left, places=1)))
            event = HedgeFilled(hedge.client_order_id, f"b{len(events)}", part, Money(part.value * 27))
        elif step == "release" and book.hedges:
            event = HedgeReleased(book.hedges[0].client_order_id)
        if event is not None:
            book.apply(event)  # type: ignore[arg-type]
            events.append(event)
    return events


@settings(max_examples=150, deadline=None)
@given(exposure_histories())
def test_the_exposure_book_folded_from_its_journal_is_the_live_book(events: list[object]) -> None:
    live, store = ExposureBook(), MemoryStore()
    for n, event in enumerate(events):
        live.apply(event)  # type: ignore[arg-type]
        journal.append(store, "exposure", f"e:{n}", AT, event)
    folded = ExposureBook()
    for event in journal.read(store, "exposure", EXPOSURE_EVENTS):
        folded.apply(event)
    assert folded.unhedged == live.unhedged and folded.hedges == live.hedges
    if live.unhedged:
        assert folded.peek_hedge_id(live.unhedged) == live.peek_hedge_id(live.unhedged)
