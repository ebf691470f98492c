"""The API's shapes for cash leaving the platform and for shares the issuer issues directly.

As everywhere in the API (``api.schemas``), amounts, prices and share counts are decimal strings and a
request body refuses fields it does not know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from equitoken.api.schemas import DecimalText, InvestorText, Strict

AddressText = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x00000000000000000000000000000000000a11ce"])
]
"""An EVM address: all lower case, all upper case, or EIP-55 checksummed (a wrong checksum is refused)."""


class RedemptionIn(Strict):
    """Redeem an amount of USD: the stablecoin is burned and the money goes to the investor's bank."""

    amount: DecimalText


class WithdrawalIn(Strict):
    """Withdraw an amount of USD stablecoin to an address outside the platform."""

    amount: DecimalText
    to: AddressText


class CashMovedOut(BaseModel):
    """What a redemption or a withdrawal did, and the investor's cash after it."""

    investor_id: str
    kind: Literal["redemption", "withdrawal"]
    amount: str
    to: str | None
    """The receiving address of a withdrawal (``None``: a redemption, paid to the investor's bank)."""
    applied: bool
    """False when the same idempotency key had already moved this money (nothing moved twice)."""
    cash: str
    """The investor's cash on the ledger after it."""
    stablecoin: str
    """The stablecoin in the investor's platform wallet after it (equal to ``cash``)."""


class IssuanceIn(Strict):
    """Issue new shares of a direct listing to an investor at a price (primary issuance)."""

    investor_id: InvestorText
    shares: DecimalText
    price: DecimalText
    regulation: Literal["reg_s", "reg_d", "none"] | None = None
    """The exemption; omitted, Regulation D for a US person and Regulation S for anyone else."""
    acquired_at: datetime | None = None
    """When the holding counts as acquired (its lockup runs from it); omitted, now. Not in the future."""


class IssuanceOut(BaseModel):
    """A primary issue: what was issued, under which exemption, and the holder's position after it."""

    symbol: str
    investor_id: str
    shares: str
    price: str
    cost: str
    regulation: str
    acquired_at: datetime
    tokens: str
    """The investor's raw token balance on chain after the issue."""
    cash: str
    lockup_until: datetime | None
    """When the investor's lockup ends (Regulation D), ``None`` when it has none now."""
