"""The inventory model's settings: the capital put in, the opening inventory and its watermarks."""

from __future__ import annotations

from dataclasses import dataclass

from equitoken.domain.errors import DomainError
from equitoken.domain.values import Money, Shares

INVALID_SETTING = "INVALID_SETTING"


@dataclass(frozen=True, slots=True)
class InventorySettings:
    """What the issuer commits to one inventory listing, validated at construction.

    ``capital`` enters the books at open (``issuer_cash:inventory`` ← bank) and pays the broker for the
    opening inventory; ``stablecoin_float`` is the part of it the treasury wallet holds as stablecoin
    to pay sellers. The inventory is refilled to ``target`` when it falls below ``low_watermark`` and
    trimmed to ``target`` when it rises above ``high_watermark``.
    """

    capital: Money
    initial_shares: Shares
    low_watermark: Shares
    high_watermark: Shares
    target: Shares
    stablecoin_float: Money

    def __post_init__(self) -> None:
        if self.capital.currency != "USD" or self.capital.amount <= 0:
            raise DomainError(
                INVALID_SETTING, f"the capital must be a positive USD amount, not {self.capital}"
            )
        if self.stablecoin_float.currency != "USD" or self.stablecoin_float.amount < 0:
            raise DomainError(
                INVALID_SETTING,
                f"the stablecoin float must be a non-negative USD amount, not {self.stablecoin_float}",
            )
        if self.stablecoin_float > self.capital:
            raise DomainError(
                INVALID_SETTING,
                f"the stablecoin float {self.stablecoin_float} is part of the capital {self.capital}:"
                " it cannot exceed it",
            )
        if not self.low_watermark < self.target < self.high_watermark:
            raise DomainError(
                INVALID_SETTING,
                f"the watermarks must satisfy low < target < high; got low {self.low_watermark}, "
                f"target {self.target}, high {self.high_watermark}",
            )
