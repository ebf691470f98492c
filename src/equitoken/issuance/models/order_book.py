"""The ATS order book of one symbol: resting limit orders, matched by price, then time.

Rules:

- bids rest best (highest) price first, asks best (lowest) first; at one price the earlier order
  (lower ``seq``, given by the book when the order rests) goes first;
- an incoming market order takes whatever rests on the other side; an incoming limit order takes
  resting orders while their price is at or better than its limit;
- every match executes at the resting (maker's) price;
- a resting order the ``eligible`` predicate refuses for this incoming order is skipped — and stays
  resting — and so is one of the incoming order's own investor (no wash trades);
- only limit orders rest; what an incoming order does not take is the caller's to rest or expire.

``match`` only computes; ``fill`` applies one match to the book, so a caller that settles each
match somewhere else can apply exactly the matches that settled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, WalletAddress, deterministic_id
from equitoken.domain.trading import Side
from equitoken.domain.values import Price, Shares
from equitoken.issuance.reasons import Refusal


@dataclass(frozen=True, slots=True)
class BookOrder:
    """What the book knows of an order: who, which way, how many shares remain, its limit."""

    order_id: OrderId
    investor: InvestorId
    wallet: WalletAddress
    side: Side
    remaining: Shares
    limit: Price | None
    """``None`` for a market order (which never rests)."""
    seq: int = 0
    """Arrival order in the book (time priority); set by ``OrderBook.add``."""

    def __post_init__(self) -> None:
        if self.remaining.is_zero():
            raise DomainError("ZERO_AMOUNT", f"order {self.order_id} has no shares left to trade")

    def crosses(self, resting: BookOrder) -> bool:
        """Tell whether this (incoming) order may trade at ``resting``'s price."""
        if resting.side is self.side or resting.limit is None:
            return False
        if self.limit is None:
            return True
        return resting.limit <= self.limit if self.side is Side.BUY else resting.limit >= self.limit


Eligibility = Callable[[BookOrder, BookOrder], Refusal | None]
"""``(resting, incoming) → refusal or None``: whether the two may trade (compliance, funds...)."""


@dataclass(frozen=True, slots=True)
class Match:
    """One execution: ``shares`` of the incoming ``taker`` against the resting ``maker`` at its price."""

    match_id: str
    taker: BookOrder
    maker: BookOrder
    shares: Shares
    price: Price

    @property
    def buyer(self) -> BookOrder:
        """Return the buying side of the match."""
        return self.taker if self.taker.side is Side.BUY else self.maker

    @property
    def seller(self) -> BookOrder:
        """Return the selling side of the match."""
        return self.taker if self.taker.side is Side.SELL else self.maker


def match_id(taker: OrderId, maker: OrderId) -> str:
    """Return the id of the match between ``taker`` and ``maker`` (an incoming order meets a maker once)."""
    return deterministic_id("ats-match", taker.value, maker.value)


def _priority(order: BookOrder) -> tuple[object, int]:
    assert order.limit is not None  # only limit orders rest
    price = -order.limit.amount if order.side is Side.BUY else order.limit.amount
    return price, order.seq


@dataclass
class OrderBook:
    """Resting limit orders of one symbol, both sides."""

    _orders: dict[OrderId, BookOrder] = field(default_factory=dict)
    _seq: int = 0

    # -- reads ---------------------------------------------------------------------------------

    def get(self, order_id: OrderId) -> BookOrder | None:
        """Return the resting order ``order_id``, or ``None``."""
        return self._orders.get(order_id)

    def side(self, side: Side) -> list[BookOrder]:
        """Return one side's resting orders in priority order (best price, then earliest)."""
        return sorted((o for o in self._orders.values() if o.side is side), key=_priority)

    def orders(self) -> list[BookOrder]:
        """Return every resting order, bids then asks, each in priority order."""
        return [*self.side(Side.BUY), *self.side(Side.SELL)]

    def best(self, side: Side) -> BookOrder | None:
        """Return the first order of ``side`` in priority, or ``None`` when the side is empty."""
        ordered = self.side(side)
        return ordered[0] if ordered else None

    def crossed(self) -> bool:
        """Tell whether the best bid is at or above the best ask."""
        bid, ask = self.best(Side.BUY), self.best(Side.SELL)
        return bid is not None and ask is not None and ask.crosses(bid)

    def resting_shares(self, wallet: WalletAddress, side: Side) -> Shares:
        """Return the shares ``wallet`` has resting on ``side``."""
        total = Shares(0)
        for order in self._orders.values():
            if order.wallet == wallet and order.side is side:
                total = total + order.remaining
        return total

    # -- changes -------------------------------------------------------------------------------

    def add(self, order: BookOrder) -> BookOrder:
        """Rest ``order`` behind everything already resting at its price; return it with its ``seq``."""
        if order.limit is None:
            raise DomainError("MARKET_ORDER_CANNOT_REST", f"market order {order.order_id} cannot rest")
        if order.order_id in self._orders:
            raise DomainError("DUPLICATE_ORDER", f"order {order.order_id} already rests in the book")
        self._seq += 1
        resting = replace(order, seq=self._seq)
        self._orders[order.order_id] = resting
        return resting

    def cancel(self, order_id: OrderId) -> BookOrder | None:
        """Remove ``order_id`` from the book; return what rested (``None`` if nothing did)."""
        return self._orders.pop(order_id, None)

    def keep_only(self, order_ids: Iterable[OrderId]) -> list[BookOrder]:
        """Remove every resting order not in ``order_ids``; return the removed ones."""
        keep = set(order_ids)
        gone = [o for o in self._orders.values() if o.order_id not in keep]
        for order in gone:
            del self._orders[order.order_id]
        return gone

    def match(self, incoming: BookOrder, eligible: Eligibility, limit: int | None = None) -> list[Match]:
        """Return the matches ``incoming`` would make now, in priority order (the book is unchanged).

        ``limit`` stops after that many matches (a caller settling one at a time asks for the first).
        """
        other = Side.SELL if incoming.side is Side.BUY else Side.BUY
        found: list[Match] = []
        taker = incoming
        for resting in self.side(other):
            if not taker.crosses(resting):
                break  # priority order: nothing further along crosses either
            if resting.investor == incoming.investor or eligible(resting, taker) is not None:
                continue
            assert resting.limit is not None
            shares = min(resting.remaining, taker.remaining)
            found.append(
                Match(match_id(incoming.order_id, resting.order_id), taker, resting, shares, resting.limit)
            )
            if shares == taker.remaining or len(found) == limit:
                break
            taker = replace(taker, remaining=taker.remaining - shares)
        return found

    def reduce(self, order_id: OrderId, shares: Shares) -> None:
        """Take ``shares`` off what ``order_id`` has resting (a fill settled); remove it at nothing left."""
        resting = self._orders.get(order_id)
        if resting is None:
            return
        if resting.remaining <= shares:
            del self._orders[order_id]
        else:
            self._orders[order_id] = replace(resting, remaining=resting.remaining - shares)

    def fill(self, match: Match) -> None:
        """Apply ``match`` to its maker: reduce what rests, remove it when nothing is left."""
        resting = self._orders.get(match.maker.order_id)
        if resting is None or resting.remaining < match.shares:
            raise DomainError(
                "STALE_MATCH",
                f"match {match.match_id} no longer fits order {match.maker.order_id} in the book",
            )
        if resting.remaining == match.shares:
            del self._orders[resting.order_id]
        else:
            self._orders[resting.order_id] = replace(resting, remaining=resting.remaining - match.shares)
