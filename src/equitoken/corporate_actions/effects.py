"""What applying a corporate action must do, as plain frozen values (the service carries them out).

The lifecycle (``lifecycle.apply``) turns an action into effects; the dividend rules
(``dividends.distribute``) and the reinvestment rule (``reinvest.plan``) turn a record-date snapshot
into the money effects. Nothing here touches a port: an effect is an instruction with its figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Bps, Money, Shares


class Treatment(StrEnum):
    """How a listing passes a cash dividend on to its token holders."""

    PAY = "pay"  # stablecoin to the holders of record (direct ownership)
    REINVEST = "reinvest"  # the net buys shares and the multiplier rises (inventory, instant)


@dataclass(frozen=True, slots=True)
class CancelOpenOrders:
    """Cancel every working order of ``symbol``, telling the client ``reason``."""

    symbol: Symbol
    reason: str


@dataclass(frozen=True, slots=True)
class ScheduleMultiplier:
    """Put ``multiplier`` in force on chain from the regular open of ``effective`` (nonce: the version)."""

    symbol: Symbol
    multiplier: Decimal
    effective: date
    nonce: int


@dataclass(frozen=True, slots=True)
class AdjustCustody:
    """The broker's record changes: every share of ``symbol`` held or in flight becomes ``ratio`` shares."""

    symbol: Symbol
    ratio: Decimal


@dataclass(frozen=True, slots=True)
class SnapshotHolders:
    """Record who holds the token at the record instant (the ex-date's open) for ``action_id``."""

    symbol: Symbol
    action_id: str
    record: date


@dataclass(frozen=True, slots=True)
class Distribute:
    """On ``pay_date``, pass ``per_share`` on, net of ``withholding``, by ``treatment``."""

    symbol: Symbol
    action_id: str
    per_share: Decimal
    withholding: Bps
    treatment: Treatment
    pay_date: date


@dataclass(frozen=True, slots=True)
class Payment:
    """One holder's dividend: the shares of record, the exact entitlement, and the money figures."""

    wallet: WalletAddress
    shares: Decimal
    """UI shares at the record instant: raw balance × multiplier (exact)."""
    entitlement: Decimal
    """shares × per-share, exact (not money yet)."""
    net: Money
    """Paid (or held unclaimed): (entitlement − withholding) rounded down to the micro-dollar."""
    withheld: Money
    """entitlement × rate rounded down to the micro-dollar."""


@dataclass(frozen=True, slots=True)
class Withhold:
    """Send ``amount`` withheld at ``rate`` to the tax authority."""

    symbol: Symbol
    amount: Money
    rate: Bps


@dataclass(frozen=True, slots=True)
class PayHolders:
    """Pay ``payments`` in stablecoin; hold ``unclaimed`` in the unclaimed account; ``dust`` stays put."""

    symbol: Symbol
    payments: tuple[Payment, ...]
    unclaimed: tuple[Payment, ...]
    dust: Money


@dataclass(frozen=True, slots=True)
class Reinvest:
    """Buy ``shares`` at the broker with the net dividend and raise the multiplier to ``multiplier``."""

    symbol: Symbol
    shares: Shares
    multiplier: Decimal
    budget: Money
    """Net dividend plus what earlier reinvestments could not place (the carry)."""


Effect = (
    CancelOpenOrders
    | ScheduleMultiplier
    | AdjustCustody
    | SnapshotHolders
    | Distribute
    | Withhold
    | PayHolders
    | Reinvest
)
