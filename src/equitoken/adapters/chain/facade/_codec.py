"""Hand-encoded calldata and unit conversions: the integers, words and selectors the facade puts on chain.

- amounts: ``TokenAmount`` <-> raw units with the token's decimals; stablecoin ``Money`` (USD) <-> 1e6
  units; multipliers ``Decimal`` <-> 1e18 fixed point; instants (tz-aware) <-> uint64 seconds;
  ``InvestorId`` <-> ``keccak256("investor:" + id)``;
- the selectors of the hot paths (``transfer``, ``mint``, ``balanceOf``…), so they are encoded as
  selector + 32-byte words without eth-abi, and the gas declared per kind of call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Money, TokenAmount, exact

MAX_UINT256: Final = 2**256 - 1
MAX_BATCH: Final = 256
"""Recipients per ``batchMint``/``batchBurn`` call (the contracts' bound)."""
ONE: Final = 10**18
STABLE_DECIMALS: Final = 6
DEV_FUNDING: Final = 10**24
"""Native balance (wei) given to every wallet this facade uses on a development chain."""
ROLE_BITS: Final = {"admin": 1, "issuer": 2, "agent": 4, "pauser": 8, "corporate_actions": 16}
ROLE_NAMES: Final = tuple(ROLE_BITS)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
SECOND: Final = timedelta(seconds=1)
PAD12: Final = bytes(12)
ZERO20: Final = bytes(20)
TRANSFER_TOPIC: Final = keccak256(b"Transfer(address,address,uint256)")

# Gas limits declared per call: generous (unused gas costs nothing on a dev chain and is refunded on a
# real one) but far below a block, so hundreds of calls fit one block on a node.
GAS_TRANSFER: Final = 300_000
GAS_ADMIN: Final = 500_000
GAS_DEPLOY: Final = 8_000_000
GAS_PER_BATCH_ITEM: Final = 90_000
GAS_BATCH_BASE: Final = 100_000
GAS_CAP: Final = 29_000_000


def selector(signature: str) -> bytes:
    """Return the 4-byte selector of a function ``signature`` such as ``"transfer(address,uint256)"``."""
    return keccak256(signature.encode())[:4]


SEL_TRANSFER: Final = selector("transfer(address,uint256)")
SEL_TRANSFER_FROM: Final = selector("transferFrom(address,address,uint256)")
SEL_APPROVE: Final = selector("approve(address,uint256)")
SEL_BALANCE_OF: Final = selector("balanceOf(address)")
SEL_TOTAL_SUPPLY: Final = selector("totalSupply()")
SEL_DECIMALS: Final = selector("decimals()")
SEL_MINT: Final = selector("mint(address,uint256)")
SEL_BURN: Final = selector("burn(address,uint256)")
SEL_BURN_OWN: Final = selector("burn(uint256)")
"""The stablecoin's burn: a holder destroys its own coins."""
SEL_RESTRICTION: Final = selector("transferRestriction(address,address,uint256)")


def investor_key(investor: InvestorId) -> bytes:
    """Return the on-chain ``bytes32`` of an investor id: ``keccak256("investor:" + id)``."""
    return keccak256(b"investor:" + investor.value.encode())


def to_seconds(moment: datetime) -> int:
    """Return a tz-aware instant as whole unix seconds (sub-second parts are refused, not rounded)."""
    delta = utc(moment) - EPOCH
    if delta.microseconds:
        raise DomainError(
            "SUBSECOND_TIME", f"{moment.isoformat()} has a fraction of a second; the chain counts seconds"
        )
    return delta // SECOND


def from_seconds(seconds: int) -> datetime:
    """Return unix ``seconds`` as a UTC instant."""
    return EPOCH + timedelta(seconds=seconds)


def money_units(amount: Money) -> int:
    """Return a non-negative USD amount in stablecoin units (6 decimals)."""
    if amount.currency != "USD":
        raise DomainError("CURRENCY_MISMATCH", f"the stablecoin is USD, not {amount.currency}")
    if amount.amount < 0:
        raise DomainError("NEGATIVE_QUANTITY", f"a stablecoin amount must not be negative, got {amount}")
    with exact():
        return int(amount.amount.scaleb(STABLE_DECIMALS))


def money_from_units(units: int) -> Money:
    """Return stablecoin units as USD ``Money``."""
    with exact():
        return Money(Decimal(units).scaleb(-STABLE_DECIMALS))


def multiplier_units(multiplier: Decimal) -> int:
    """Return a multiplier as 18-decimal fixed point (more than 18 decimals is refused)."""
    with exact():
        scaled = multiplier.scaleb(18)
        if scaled != scaled.to_integral_value() or scaled <= 0:
            raise DomainError(
                "INVALID_MULTIPLIER", f"a multiplier is positive with at most 18 decimals, got {multiplier}"
            )
        return int(scaled)


def multiplier_from_units(units: int) -> Decimal:
    """Return an 18-decimal fixed-point multiplier as a ``Decimal``."""
    with exact():
        return Decimal(units).scaleb(-18).normalize()


def unlimited(decimals: int = 18) -> TokenAmount:
    """Return the ERC-20 "unlimited" allowance (max uint256 units) as an amount."""
    return TokenAmount.from_units(MAX_UINT256, decimals)
