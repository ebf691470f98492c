"""The ATS order book: price-time priority, the maker's price, skipped makers, no wash trades."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, WalletAddress, deterministic_id
from equitoken.domain.trading import Side
from equitoken.domain.values import Price, Shares
from equitoken.issuance.models.order_book import BookOrder, Match, OrderBook
from equitoken.issuance.reasons import Refusal

NAMES = ["alice", "bob", "carol", "dave"]
WALLETS = {name: WalletAddress("0x" + f"{i + 1:040x}") for i, name in enumerate(NAMES)}
_ids = iter(range(10**9))


def order(who: str, side: Side, shares: str, limit: str | None, *, name: str | None = None) -> BookOrder:
    key = name or f"o{next(_ids)}"
    return BookOrder(
        OrderId(deterministic_id("test", key)),
        InvestorId(f"inv-{who}"),
        WALLETS[who],
        side,
        Shares(shares),
        None if limit is None else Price(limit),
    )


def anyone(resting: BookOrder, incoming: BookOrder) -> Refusal | None:
    return None


def settle(book: OrderBook, matches: list[Match]) -> None:
    for m in matches:
        book.fill(m)


def test_an_incoming_buy_takes_the_best_ask_first_at_the_makers_price() -> None:
    book = OrderBook()
    high = book.add(order("alice", Side.SELL, "10", "50.10"))
    low = book.add(order("bob", Side.SELL, "10", "50.00"))
    matches = book.match(order("carol", Side.BUY, "15", "50.20"), anyone)
    assert [(m.maker.order_id, m.shares, m.price) for m in matches] == [
        (low.order_id, Shares(10), Price("50.00")),
        (high.order_id, Shares(5), Price("50.10")),
    ]


def test_at_one_price_the_earlier_order_goes_first() -> None:
    book = OrderBook()
    first = book.add(order("alice", Side.SELL, "10", "50"))
    book.add(order("bob", Side.SELL, "10", "50"))
    (only,) = book.match(order("carol", Side.BUY, "4", "50"), anyone)
    assert only.maker.order_id == first.order_id


def test_a_limit_buy_stops_where_the_asks_no_longer_cross() -> None:
    book = OrderBook()
    book.add(order("alice", Side.SELL, "10", "50"))
    book.add(order("bob", Side.SELL, "10", "51"))
    matches = book.match(order("carol", Side.BUY, "15", "50.50"), anyone)
    assert [m.shares for m in matches] == [Shares(10)]


def test_a_market_order_takes_whatever_rests() -> None:
    book = OrderBook()
    book.add(order("alice", Side.BUY, "3", "49"))
    book.add(order("bob", Side.BUY, "3", "10"))
    matches = book.match(order("carol", Side.SELL, "10", None), anyone)
    assert [(m.shares, m.price) for m in matches] == [(Shares(3), Price(49)), (Shares(3), Price(10))]


def test_a_refused_maker_is_skipped_and_keeps_resting() -> None:
    book = OrderBook()
    locked = book.add(order("alice", Side.SELL, "10", "50"))
    free = book.add(order("bob", Side.SELL, "10", "50.5"))

    def not_alice(resting: BookOrder, incoming: BookOrder) -> Refusal | None:
        return Refusal("LOCKUP_ACTIVE", "locked") if resting.investor.value == "inv-alice" else None

    matches = book.match(order("carol", Side.BUY, "10", "51"), not_alice)
    settle(book, matches)
    assert [m.maker.order_id for m in matches] == [free.order_id]
    assert book.get(locked.order_id) == locked
    assert book.get(free.order_id) is None


def test_an_investor_never_matches_itself() -> None:
    book = OrderBook()
    own = book.add(order("alice", Side.SELL, "10", "50"))
    assert book.match(order("alice", Side.BUY, "10", "51"), anyone) == []
    assert book.get(own.order_id) == own


def test_match_changes_nothing_and_fill_applies_one_match() -> None:
    book = OrderBook()
    maker = book.add(order("alice", Side.SELL, "10", "50"))
    (m,) = book.match(order("bob", Side.BUY, "4", "50"), anyone)
    assert book.get(maker.order_id) == maker
    book.fill(m)
    resting = book.get(maker.order_id)
    assert resting is not None and resting.remaining == Shares(6) and resting.seq == maker.seq
    with pytest.raises(DomainError) as stale:
        book.fill(Match("x", m.taker, m.maker, Shares(7), m.price))
    assert stale.value.code == "STALE_MATCH"


def test_match_ids_are_deterministic_and_distinct_per_pair() -> None:
    book = OrderBook()
    book.add(order("alice", Side.SELL, "1", "50", name="s1"))
    book.add(order("bob", Side.SELL, "1", "50", name="s2"))
    incoming = order("carol", Side.BUY, "2", "50", name="b1")
    ids = [m.match_id for m in book.match(incoming, anyone)]
    assert ids == [m.match_id for m in book.match(incoming, anyone)]
    assert len(set(ids)) == 2


def test_market_orders_and_duplicates_do_not_rest() -> None:
    book = OrderBook()
    with pytest.raises(DomainError) as market:
        book.add(order("alice", Side.SELL, "1", None))
    assert market.value.code == "MARKET_ORDER_CANNOT_REST"
    resting = book.add(order("alice", Side.SELL, "1", "50"))
    with pytest.raises(DomainError) as twice:
        book.add(resting)
    assert twice.value.code == "DUPLICATE_ORDER"


def test_keep_only_drops_what_no_longer_works() -> None:
    book = OrderBook()
    a = book.add(order("alice", Side.SELL, "1", "50"))
    b = book.add(order("bob", Side.BUY, "1", "40"))
    assert book.keep_only([b.order_id]) == [a]
    assert book.orders() == [b]
    assert book.cancel(b.order_id) == b and book.cancel(b.order_id) is None


# -- properties ----------------------------------------------------------------------------------

ORDERS = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.sampled_from(["0.5", "1", "2", "3", "10"]),
        st.one_of(st.none(), st.sampled_from(["49", "49.5", "50", "50.5", "51"])),
    ),
    max_size=25,
)
REFUSED = st.sets(st.sampled_from(NAMES), max_size=2)


def _better_or_equal(side: Side, a: Price, b: Price) -> bool:
    """Tell whether resting price ``a`` is at least as good as ``b`` for an incoming order of ``side``."""
    return a <= b if side is Side.BUY else a >= b


def run(
    steps: list[tuple[str, Side, str, str | None]], eligible: Callable[[BookOrder, BookOrder], Refusal | None]
) -> tuple[OrderBook, list[tuple[BookOrder, list[BookOrder], list[Match]]], Decimal, Decimal]:
    """Feed ``steps`` into a book as incoming orders; rest limit remainders. Return what happened."""
    book = OrderBook()
    history: list[tuple[BookOrder, list[BookOrder], list[Match]]] = []
    entered = Decimal(0)
    traded = Decimal(0)
    for who, side, shares, limit in steps:
        incoming = order(who, side, shares, limit)
        entered += incoming.remaining.value
        before = book.orders()
        matches = book.match(incoming, eligible)
        settle(book, matches)
        history.append((incoming, before, matches))
        done = sum((m.shares.value for m in matches), Decimal(0))
        traded += 2 * done  # both sides of each match
        left = incoming.remaining.value - done
        if left > 0 and limit is not None:
            book.add(
                BookOrder(
                    incoming.order_id, incoming.investor, incoming.wallet, side, Shares(left), incoming.limit
                )
            )
        elif left > 0:
            entered -= left  # a market remainder does not rest: it leaves the book's accounting
    return book, history, entered, traded


@settings(max_examples=200, deadline=None)
@given(steps=ORDERS, refused=REFUSED)
def test_no_match_jumps_the_queue_and_quantities_are_conserved(
    steps: list[tuple[str, Side, str, str | None]], refused: set[str]
) -> None:
    def eligible(resting: BookOrder, incoming: BookOrder) -> Refusal | None:
        return Refusal("NO", "refused") if resting.investor.value[4:] in refused else None

    book, history, entered, traded = run(steps, eligible)
    for incoming, before, matches in history:
        taken = {m.maker.order_id for m in matches}
        for m in matches:
            assert m.price == m.maker.limit  # the maker's price
            assert incoming.crosses(m.maker)
            assert m.maker.investor != incoming.investor
            assert m.shares <= m.maker.remaining
            # Every maker ahead in priority that crossed was either taken or legitimately skipped.
            for ahead in before:
                if ahead.side is incoming.side or ahead.order_id in taken or not incoming.crosses(ahead):
                    continue
                assert ahead.limit is not None and m.maker.limit is not None
                ahead_first = _better_or_equal(incoming.side, ahead.limit, m.maker.limit) and (
                    ahead.limit != m.maker.limit or ahead.seq < m.maker.seq
                )
                if ahead_first:
                    assert ahead.investor == incoming.investor or ahead.investor.value[4:] in refused
        assert sum((m.shares.value for m in matches), Decimal(0)) <= incoming.remaining.value
    resting = sum((o.remaining.value for o in book.orders()), Decimal(0))
    assert entered == traded + resting


@settings(max_examples=200, deadline=None)
@given(steps=ORDERS)
def test_with_every_pair_eligible_no_crossed_book_remains_except_within_one_investor(
    steps: list[tuple[str, Side, str, str | None]],
) -> None:
    book, _, _, _ = run(steps, anyone)
    bids, asks = book.side(Side.BUY), book.side(Side.SELL)
    for bid in bids:
        for ask in asks:
            if ask.crosses(bid):
                assert ask.investor == bid.investor
