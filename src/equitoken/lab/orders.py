"""What the flow generator produces: the investors of a scenario and the orders they send.

Every model of a lab run receives exactly these orders — the same ids, investors, times, sides, sizes
and limits — so that a difference in the figures is the model's, not the flow's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import TimeInForce


class PeriodKind(StrEnum):
    """When an order arrives, as the flow generator and the measures classify an instant.

    ``SESSION`` is the exchange's regular session; ``EVENING`` a trading day after the close until
    20:00 New York time; ``NIGHT`` from 20:00 until the next open (or a trading day before its open);
    ``WEEKEND`` Saturday and Sunday; ``HOLIDAY`` a weekday the exchange is closed all day.
    """

    SESSION = "session"
    EVENING = "evening"
    NIGHT = "night"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"

    @property
    def off_hours(self) -> bool:
        """Tell whether the exchange is closed in this kind of period."""
        return self is not PeriodKind.SESSION


@dataclass(frozen=True, slots=True)
class LabInvestor:
    """One investor of the scenario's population: who it is and what cash it starts with."""

    key: str
    """Stable within a flow, e.g. ``inv-0007``; the engine's investor id."""
    residence: str
    category: InvestorCategory
    us_person: bool
    cash: Money


@dataclass(frozen=True, slots=True)
class LabOrder:
    """One order of the flow, identical for every model.

    ``shares`` is always set (whole shares, at least one): the size was drawn in notional and
    converted at the reference price when the order was generated. ``limit`` is None for a market
    order. A sell is never larger than the position the investor would hold had every one of its
    earlier buys filled (a model that refused some of them may refuse the sell: that is measured).
    """

    order_id: str
    at: datetime
    investor: str
    side: Side
    shares: Shares
    limit: Price | None
    time_in_force: TimeInForce
    period: PeriodKind
    reference: Price
    """The reference price the size was drawn against (what the investor saw)."""

    @property
    def notional(self) -> Money:
        """Return the order's size at the reference price the investor saw."""
        return Money.rounded(self.shares.value * self.reference.amount)


@dataclass(frozen=True, slots=True)
class Flow:
    """A scenario's whole flow: its population and its orders in time order."""

    seed: str
    investors: tuple[LabInvestor, ...]
    orders: tuple[LabOrder, ...]
