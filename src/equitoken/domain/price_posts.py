"""An operator-posted reference price: what is signed, exactly, and the checks that need no clock.

The signed message is canonical text, one field per line, so a signer in any language produces the
same bytes: ``equitoken reference price v1``, then ``symbol:``, ``price:`` (the canonical decimal: no
exponent, no trailing zeros) and ``as_of:`` (ISO 8601 in UTC to the microsecond with ``Z``). It is
signed with EIP-191 ``personal_sign`` by the configured price signer's key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import canonical_decimal

HEADER = "equitoken reference price v1"


def canonical_instant(at: datetime) -> str:
    """Return ``at`` as the message writes it: UTC, microseconds, ``Z`` (``NAIVE_DATETIME`` if naive)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError("NAIVE_DATETIME", f"{at.isoformat()} has no time zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checked_price(price: Decimal) -> Decimal:
    """Return ``price`` if it is a finite positive amount (``NON_POSITIVE_PRICE`` otherwise)."""
    if not price.is_finite() or price <= 0:
        raise DomainError("NON_POSITIVE_PRICE", f"a reference price must be above zero, not {price}")
    return price


def price_message(symbol: Symbol, price: Decimal, as_of: datetime) -> str:
    """Return the canonical text a price signer signs for ``symbol`` at ``price`` as of ``as_of``."""
    return "\n".join(
        (
            HEADER,
            f"symbol:{symbol}",
            f"price:{canonical_decimal(checked_price(price))}",
            f"as_of:{canonical_instant(as_of)}",
        )
    )
