"""The buffer's exposure book: fills it fronted, the hedges covering them, and each hedge's gap P&L.

Every investor fill of the instant model is a *commitment* of the buffer: it minted (or burned)
tokens and now owes the broker a buy (or a sell) of the same shares. Commitments wait unhedged
until a hedge takes them: one hedge per fill in session, one net hedge for everything fronted
off-hours. A hedge that ends unfilled gives its commitments back; one that ends part-filled gives
back the rest as a single residual commitment carrying its share of the reference value.

Gap P&L of a hedge (signed so that a profit is positive): the reference value the buffer took in
for buys minus what it paid out for sells, then minus the hedge's cost for a buy hedge or plus its
proceeds for a sell hedge. Pure: the model books what this returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Context, Decimal, localcontext

from equitoken.domain.errors import DomainError
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares, exact


@dataclass(frozen=True, slots=True)
class Commitment:
    """One investor fill the buffer fronted: shares owed to the broker and the reference value moved."""

    fill_id: str
    side: Side
    shares: Shares
    reference_value: Money
    """Reference notional the buffer took in (buy) or paid out (sell), the spread left out.

    Negative only for a residual of netted fills whose sells were worth more than their buys."""

    @property
    def signed_shares(self) -> Decimal:
        """Return the shares the buffer must buy (positive) or sell (negative)."""
        return self.shares.value if self.side is Side.BUY else -self.shares.value

    @property
    def signed_value(self) -> Decimal:
        """Return the reference value the buffer took in (positive) or paid out (negative)."""
        return self.reference_value.amount if self.side is Side.BUY else -self.reference_value.amount


def net_shares(commitments: Iterable[Commitment]) -> Decimal:
    """Return the net shares the buffer owes the broker for ``commitments`` (positive: buy)."""
    with exact():
        return sum((c.signed_shares for c in commitments), Decimal(0))


def net_value(commitments: Iterable[Commitment]) -> Decimal:
    """Return the net reference value the buffer took in for ``commitments``."""
    with exact():
        return sum((c.signed_value for c in commitments), Decimal(0))


@dataclass(frozen=True, slots=True)
class Hedge:
    """A broker order covering some commitments, and what of it has filled."""

    client_order_id: str
    side: Side
    shares: Shares
    commitments: tuple[Commitment, ...]
    fills: tuple[str, ...] = ()
    filled: Shares = field(default_factory=lambda: Shares(0))
    cost: Money = field(default_factory=Money.zero)
    """Notional of the broker fills so far (paid for a buy hedge, received for a sell)."""

    @property
    def complete(self) -> bool:
        """Tell whether the broker filled the whole hedge."""
        return self.filled == self.shares

    def pnl(self) -> Money:
        """Return the gap P&L of the filled hedge (see the module doc)."""
        hedge = -self.cost.amount if self.side is Side.BUY else self.cost.amount
        with exact():
            return Money(net_value(self.commitments) + hedge, self.cost.currency)


def hedge_for(client_order_id: str, commitments: Sequence[Commitment]) -> Hedge | None:
    """Return the one hedge that covers ``commitments`` net, or ``None`` when they net to zero."""
    net = net_shares(commitments)
    if net == 0:
        return None
    side = Side.BUY if net > 0 else Side.SELL
    return Hedge(client_order_id, side, Shares(abs(net)), tuple(commitments))


@dataclass(frozen=True, slots=True)
class Committed:
    """The buffer fronted a fill: ``commitment`` waits for a hedge."""

    commitment: Commitment


@dataclass(frozen=True, slots=True)
class HedgeOpened:
    """A hedge took its commitments off the unhedged list and went to the broker."""

    hedge: Hedge


@dataclass(frozen=True, slots=True)
class CommitmentsNetted:
    """Commitments netted to zero shares under ``client_order_id``: nothing traded, the gap realised."""

    client_order_id: str
    fill_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HedgeFilled:
    """The broker filled part (or the rest) of a hedge."""

    client_order_id: str
    fill_id: str
    shares: Shares
    notional: Money


@dataclass(frozen=True, slots=True)
class HedgeReleased:
    """The broker will not fill the hedge further: its unfilled part went back to the unhedged list."""

    client_order_id: str


ExposureEvent = Committed | HedgeOpened | CommitmentsNetted | HedgeFilled | HedgeReleased
EXPOSURE_EVENTS: tuple[type, ...] = (Committed, HedgeOpened, CommitmentsNetted, HedgeFilled, HedgeReleased)


class ExposureBook:
    """What the buffer has fronted and not yet hedged, and the hedges open at the broker.

    A fold of ``ExposureEvent``s (``apply``): the model journals each event as it happens, and a
    restarted model folds them back to the same book, hedge ids and attempts included.
    """

    def __init__(self) -> None:
        self._unhedged: list[Commitment] = []
        self._hedges: dict[str, Hedge] = {}
        self._attempts: dict[str, int] = {}

    @property
    def unhedged(self) -> tuple[Commitment, ...]:
        """Return the commitments no hedge covers yet, oldest first."""
        return tuple(self._unhedged)

    @property
    def hedges(self) -> tuple[Hedge, ...]:
        """Return the hedges placed and not yet complete."""
        return tuple(self._hedges.values())

    def hedge(self, client_order_id: str) -> Hedge | None:
        """Return the open hedge ``client_order_id``, if it is one."""
        return self._hedges.get(client_order_id)

    def apply(self, event: ExposureEvent) -> Hedge | None:
        """Evolve the book by one event; return what ``fill`` or ``release`` returns for those events."""
        match event:
            case Committed():
                self.commit(event.commitment)
            case HedgeOpened():
                self._issued(event.hedge.commitments[0].fill_id, event.hedge.client_order_id)
                self.take(event.hedge.commitments)
                self.open(event.hedge)
            case CommitmentsNetted():
                self._issued(event.fill_ids[0], event.client_order_id)
                taken = set(event.fill_ids)
                self._unhedged = [c for c in self._unhedged if c.fill_id not in taken]
            case HedgeFilled():
                return self.fill(event.client_order_id, event.fill_id, event.shares, event.notional)
            case HedgeReleased():
                return self.release(event.client_order_id)
        return None

    def peek_hedge_id(self, commitments: Sequence[Commitment]) -> str:
        """Return the client order id ``next_hedge_id`` would issue, issuing nothing."""
        base = f"hedge-{commitments[0].fill_id}"
        attempt = self._attempts.get(base, 0)
        return base if attempt == 0 else f"{base}-r{attempt}"

    def _issued(self, first_fill: str, client_order_id: str) -> None:
        """Count the attempt ``client_order_id`` (``hedge-X`` or ``hedge-X-rN``) used for ``hedge-X``."""
        base = f"hedge-{first_fill}"
        retry = client_order_id.removeprefix(f"{base}-r")
        attempt = int(retry) if client_order_id != base and retry.isdigit() else 0
        self._attempts[base] = max(self._attempts.get(base, 0), attempt + 1)

    def commit(self, commitment: Commitment) -> None:
        """Record a fill the buffer fronted."""
        self._unhedged.append(commitment)

    def next_hedge_id(self, commitments: Sequence[Commitment]) -> str:
        """Return a fresh client order id for a hedge of ``commitments``: named after the first one.

        A hedge that failed and is placed again gets a new id (``-r1``, ``-r2``…): the broker answers a
        reused id with the first order's state.
        """
        base = f"hedge-{commitments[0].fill_id}"
        attempt = self._attempts.get(base, 0)
        self._attempts[base] = attempt + 1
        return base if attempt == 0 else f"{base}-r{attempt}"

    def take(self, commitments: Sequence[Commitment]) -> tuple[Commitment, ...]:
        """Remove ``commitments`` from the unhedged list (a hedge or a netting now covers them)."""
        taken = {c.fill_id for c in commitments}
        self._unhedged = [c for c in self._unhedged if c.fill_id not in taken]
        return tuple(commitments)

    def open(self, hedge: Hedge) -> None:
        """Record ``hedge`` as placed (its commitments must already be taken)."""
        self._hedges[hedge.client_order_id] = hedge

    def fill(self, client_order_id: str, fill_id: str, shares: Shares, notional: Money) -> Hedge | None:
        """Apply one broker fill to its hedge; return the hedge as it stands, ``None`` if not new.

        A complete hedge leaves the book (the caller posts its P&L from the returned value).
        """
        hedge = self._hedges.get(client_order_id)
        if hedge is None or fill_id in hedge.fills:
            return None
        filled = hedge.filled + shares
        if filled > hedge.shares:
            raise DomainError(
                "HEDGE_OVERFILL", f"hedge {client_order_id} filled {filled} of its {hedge.shares}"
            )
        hedge = replace(hedge, fills=(*hedge.fills, fill_id), filled=filled, cost=hedge.cost + notional)
        if hedge.complete:
            del self._hedges[client_order_id]
        else:
            self._hedges[client_order_id] = hedge
        return hedge

    def release(self, client_order_id: str) -> Hedge | None:
        """End a hedge the broker will not fill further; give its unfilled part back.

        Return the hedge's filled part (whose P&L the caller books), or ``None`` when nothing filled:
        then its commitments return whole. Otherwise the rest returns as one residual commitment
        carrying the unfilled share of the reference value.
        """
        hedge = self._hedges.pop(client_order_id, None)
        if hedge is None:
            return None
        if hedge.filled.is_zero():
            self._unhedged[:0] = hedge.commitments
            return None
        rest = hedge.shares - hedge.filled
        total = net_value(hedge.commitments)
        # A pro-rata share is a division (2/3 is not exact): round it half-even to the micro-dollar, and
        # give the filled part exactly what is left, so the two parts still sum to the whole.
        with localcontext(Context(prec=60)):
            share_of_rest = total * rest.value / hedge.shares.value if rest.value else Decimal(0)
        rest_value = Money.rounded(share_of_rest) if share_of_rest else Money.zero()
        with exact():
            filled_value = total - rest_value.amount
        side = hedge.side
        done = Commitment(f"{client_order_id}:filled", side, hedge.filled, _valued(side, filled_value))
        residual = Commitment(f"{client_order_id}:rest", side, rest, _valued(side, rest_value.amount))
        self._unhedged.insert(0, residual)
        return replace(hedge, shares=hedge.filled, commitments=(done,))


def _valued(side: Side, signed_value: Decimal) -> Money:
    """Return the ``reference_value`` whose ``signed_value`` on ``side`` is ``signed_value``."""
    return Money(signed_value if side is Side.BUY else -signed_value)
