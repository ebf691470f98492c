"""Fees: a spread in basis points (wider off-hours) built into the price, plus an optional fixed fee.

Rounding rule (always in the platform's favour, so the books never owe a micro-dollar they did not
earn): the quoted price is rounded *up* for a buy and *down* for a sell to the price precision; the
investor's gross amount (quoted price × shares) is rounded up for a buy and down for a sell to the
money precision; the reference notional is rounded half-even. The spread fee is the exact difference
of those two booked amounts, so cash, fee and reference value always balance to the micro-unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.trading import Side
from equitoken.domain.values import (
    MONEY_DECIMALS,
    PRICE_DECIMALS,
    SHARE_DECIMALS,
    Bps,
    Money,
    Price,
    Shares,
    exact,
    quantize,
)
from equitoken.issuance.reasons import OrderReason

DEFAULT_SPREAD = Bps(10)
"""What the instant-execution market leader charges in session."""
DEFAULT_OFF_HOURS_SPREAD = Bps(30)
"""Wider off-hours: the price can gap before the hedge can be placed at the next open."""


@dataclass(frozen=True, slots=True)
class Charge:
    """What one trade costs: the quoted price, the investor's cash, and the platform's fee in parts."""

    side: Side
    shares: Shares
    reference: Price
    spread: Bps
    price: Price
    """The quoted price per share: the reference moved by the spread against the investor."""
    gross: Money
    """Quoted price × shares, rounded against the investor."""
    reference_notional: Money
    spread_fee: Money
    fixed_fee: Money

    @property
    def fee(self) -> Money:
        """Return the platform's whole revenue on the trade."""
        return self.spread_fee + self.fixed_fee

    @property
    def investor_cash(self) -> Money:
        """Return what the investor pays (buy) or receives (sell), the fixed fee included."""
        return self.gross + self.fixed_fee if self.side is Side.BUY else self.gross - self.fixed_fee


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The spread in session and off-hours, and a fixed fee per trade (zero unless configured)."""

    spread: Bps = DEFAULT_SPREAD
    off_hours_spread: Bps = DEFAULT_OFF_HOURS_SPREAD
    fixed: Money = Money(0)

    def __post_init__(self) -> None:
        if self.spread.value < 0 or self.off_hours_spread.value < 0:
            raise DomainError(OrderReason.INVALID_ORDER, "a spread cannot be negative")
        if self.fixed.amount < 0 or self.fixed.currency != "USD":
            raise DomainError(OrderReason.INVALID_ORDER, "the fixed fee must be a non-negative USD amount")

    def spread_for(self, in_session: bool) -> Bps:
        """Return the spread that applies in or out of the regular session."""
        return self.spread if in_session else self.off_hours_spread

    def quoted_price(self, side: Side, reference: Price, in_session: bool) -> Price:
        """Return ``reference`` moved by the spread against the investor, rounded against them."""
        fraction = self.spread_for(in_session).fraction
        with exact():
            moved = reference.amount * (1 + fraction if side is Side.BUY else 1 - fraction)
        rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
        return Price(quantize(moved, PRICE_DECIMALS, rounding), reference.currency)

    def fee_for(self, side: Side, reference: Price, shares: Shares, in_session: bool) -> Charge:
        """Return the charge for trading ``shares`` against ``reference`` (see the module's rounding rule)."""
        price = self.quoted_price(side, reference, in_session)
        with exact():
            raw = price.amount * shares.value
        rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
        gross = Money(quantize(raw, MONEY_DECIMALS, rounding), price.currency)
        reference_notional = reference.notional(shares)
        spread_fee = gross - reference_notional if side is Side.BUY else reference_notional - gross
        charge = Charge(
            side,
            shares,
            reference,
            self.spread_for(in_session),
            price,
            gross,
            reference_notional,
            spread_fee,
            self.fixed,
        )
        if side is Side.SELL and charge.investor_cash.amount < 0:
            raise DomainError(
                OrderReason.FEE_EXCEEDS_PROCEEDS,
                f"the fixed fee {self.fixed} exceeds the proceeds {gross} of selling {shares}",
            )
        return charge

    def shares_for_notional(self, side: Side, notional: Money, reference: Price, in_session: bool) -> Shares:
        """Return the shares a USD ``notional`` buys or sells at the quoted price, rounded down.

        For a buy the fixed fee comes out of the notional first, so the investor never pays more than
        the amount they named; rounding down never delivers more shares than were paid for.
        """
        price = self.quoted_price(side, reference, in_session)
        budget = notional - self.fixed if side is Side.BUY else notional
        if budget.amount <= 0:
            raise DomainError(
                OrderReason.FEE_EXCEEDS_PROCEEDS,
                f"the fixed fee {self.fixed} consumes the notional {notional}",
            )
        with exact():
            scaled = budget.amount.scaleb(SHARE_DECIMALS)
        units = (scaled // price.amount).to_integral_value(ROUND_DOWN)
        return Shares(Decimal(units).scaleb(-SHARE_DECIMALS))
