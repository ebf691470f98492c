"""Quotes: an indicative, short-lived price for one investor's trade, with its fee.

A quote carries everything on-chain quote settlement needs (wallet, symbol, side, quantity, price,
expiry, quote id); the chain adapter adds the chain id and signs it as EIP-712. The quote id is a
keccak-256 of the quote's content, so the same request at the same instant always gets the same id
(a restart re-derives it instead of minting a second, different quote) and it fits a ``bytes32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Money, Price, Shares, canonical_decimal
from equitoken.issuance.orders.fees import Charge, FeeSchedule
from equitoken.issuance.orders.risk import reference_refusal
from equitoken.issuance.reasons import OrderReason

DEFAULT_QUOTE_TTL = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class QuotePolicy:
    """How quotes are priced and how long they live."""

    fees: FeeSchedule = FeeSchedule()
    ttl: timedelta = DEFAULT_QUOTE_TTL

    def __post_init__(self) -> None:
        if self.ttl <= timedelta(0):
            raise DomainError(OrderReason.INVALID_ORDER, "a quote's time to live must be positive")


@dataclass(frozen=True, slots=True)
class Quote:
    """An indicative price for ``quantity`` of ``symbol``, valid from ``issued_at`` until ``expires_at``."""

    quote_id: str
    """``0x`` + 64 hex digits: keccak-256 of the content, usable as the EIP-712 ``bytes32`` id."""
    investor: InvestorId
    wallet: WalletAddress
    symbol: Symbol
    side: Side
    quantity: Shares
    price: Price
    reference: Price
    spread: Bps
    in_session: bool
    charge: Charge
    issued_at: datetime
    expires_at: datetime

    @property
    def fee(self) -> Money:
        """Return the platform's fee on the quoted trade (spread part plus fixed fee)."""
        return self.charge.fee

    @property
    def investor_cash(self) -> Money:
        """Return what the investor pays (buy) or receives (sell) if the quote is taken."""
        return self.charge.investor_cash

    def is_expired_at(self, at: datetime) -> bool:
        """Tell whether the quote has expired at ``at`` (the expiry instant itself is too late)."""
        return utc(at) >= self.expires_at

    def check_live(self, at: datetime) -> None:
        """Raise ``QUOTE_EXPIRED`` when the quote can no longer be taken at ``at``."""
        if self.is_expired_at(at):
            raise DomainError(
                OrderReason.QUOTE_EXPIRED, f"quote {self.quote_id} expired at {self.expires_at.isoformat()}"
            )


def quote_id(
    wallet: WalletAddress, symbol: Symbol, side: Side, quantity: Shares, price: Price, issued_at: datetime
) -> str:
    """Return the deterministic id of a quote with this content."""
    text = "\x1f".join(
        (
            "quote",
            wallet.value,
            symbol.value,
            side.value,
            canonical_decimal(quantity.value),
            f"{canonical_decimal(price.amount)} {price.currency}",
            utc(issued_at).isoformat(),
        )
    )
    return "0x" + keccak256(text.encode("utf-8")).hex()


def make_quote(
    policy: QuotePolicy,
    investor: InvestorId,
    wallet: WalletAddress,
    symbol: Symbol,
    side: Side,
    quantity: Shares,
    reference: ReferencePrice,
    status: MarketStatus,
    at: datetime,
) -> Quote:
    """Price a quote from ``reference``, with the spread the session in ``status`` calls for.

    A stale reference price is refused (``STALE_PRICE``): the platform fails closed rather than quote
    a price it cannot trust.
    """
    at = utc(at)
    refusal = reference_refusal(symbol, reference)
    if refusal is not None:
        raise DomainError(refusal.code, refusal.message)
    if quantity.is_zero():
        raise DomainError(OrderReason.INVALID_ORDER, "a quote must be for more than zero shares")
    charge = policy.fees.fee_for(side, reference.price, quantity, status.open)
    return Quote(
        quote_id=quote_id(wallet, symbol, side, quantity, charge.price, at),
        investor=investor,
        wallet=wallet,
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=charge.price,
        reference=reference.price,
        spread=charge.spread,
        in_session=status.open,
        charge=charge,
        issued_at=at,
        expires_at=at + policy.ttl,
    )
